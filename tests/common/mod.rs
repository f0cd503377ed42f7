//! Scaffolding shared by the facade's integration tests (each test binary declares
//! `mod common;` and uses what it needs, so not every binary uses every item).
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory under the system's temp dir, removed when dropped. `prefix` names
/// the test file, `name` the test, and a per-process counter the call, so parallel
/// tests (and a test that makes several) never share one.
pub(crate) struct Dir(pub(crate) PathBuf);

impl Dir {
    /// Creates (emptied if left over) `pmem-{prefix}-{name}-{pid}-{n}`.
    pub(crate) fn new(prefix: &str, name: &str) -> Dir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let d =
            std::env::temp_dir().join(format!("pmem-{prefix}-{name}-{}-{n}", std::process::id()));
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
