//! `Pool::backup_to`: an online backup (see `engine::backup`).

use std::path::Path;
use std::time::Duration;

use super::pool::Pool;
use crate::error::Result;
use crate::types::Persistent;

/// What a backup did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackupReport {
    /// Bytes written: the pool up to the end of its heap.
    pub bytes: u64,
    /// How long writers were held off: the copy into the page cache runs under the
    /// state lock, read-locked; syncing it to the disk does not.
    pub writers_blocked: Duration,
}

impl<R: Persistent> Pool<R> {
    /// Writes a consistent, self-contained copy of the pool's last committed state to
    /// `dest`, a new file: a single-file pool (no log needed) that opens with every
    /// commit acknowledged before the call and none after. Other threads keep reading
    /// meanwhile; writers wait while the copy is written into the page cache (that
    /// time is in the report), not while it is synced. `dest` appears complete or not
    /// at all, and is durable when this returns.
    ///
    /// The copy keeps the pool's UUID, hence its pointer tag: it cannot be open in this
    /// process while the pool is (unless both are read-only), see
    /// [`Error::SameTag`](crate::Error::SameTag).
    ///
    /// # Errors
    /// [`crate::Error::AlreadyExists`] when `dest` exists; [`crate::Error::WouldDeadlock`]
    /// inside a transaction of this pool on this thread; I/O errors.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::Pool;
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-backup-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let mut pool = Pool::<u64>::create(dir.join("p.pool"))?;
    /// pool.tx(|tx| { *tx.root_mut() = 7; Ok::<_, pmem_core::Error>(()) })?;
    /// let report = pool.backup_to(dir.join("copy.pool"))?;
    /// assert!(report.bytes > 0);
    /// // The copy has the pool's identity: beside the open (writable) pool it is refused.
    /// assert!(matches!(
    ///     Pool::<u64>::open(dir.join("copy.pool")),
    ///     Err(pmem_core::Error::SameTag { .. })
    /// ));
    /// drop(pool);
    /// let copy = Pool::<u64>::open(dir.join("copy.pool"))?;
    /// assert_eq!(copy.read(|n| *n)?, 7);
    /// # drop(copy); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn backup_to(&self, dest: impl AsRef<Path>) -> Result<BackupReport> {
        self.not_reentrant()?;
        let sh = self.shared();
        sh.check_usable()?;
        let g = sh
            .state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Releases the lock once the copy is in the page cache, before syncing it.
        let (bytes, writers_blocked) = crate::engine::write_backup(sh, g, dest.as_ref())?;
        Ok(BackupReport {
            bytes,
            writers_blocked,
        })
    }
}
