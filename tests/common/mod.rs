//! Scaffolding shared by the facade's integration tests.

use std::path::PathBuf;

/// A fresh directory under the system's temp dir, removed when dropped. `prefix` names
/// the test file, `name` the test, so parallel tests never share one.
pub(crate) struct Dir(pub(crate) PathBuf);

impl Dir {
    /// Creates (emptied if left over) `pmem-{prefix}-{name}-{pid}`.
    pub(crate) fn new(prefix: &str, name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("pmem-{prefix}-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }

    /// The path of `file` inside the directory.
    pub(crate) fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
