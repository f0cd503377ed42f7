//! Compaction: a pool's live graph rewritten into a fresh file that replaces the old one
//! in **one atomic step on disk** (`docs/ARCHITECTURE.md` §15.5).
//!
//! A pool's file only grows: freed space is reused, never returned. [`compact`] copies
//! the root and everything it owns into a new pool — each collection rebuilt tight (a
//! vector's capacity is its length, a hash table the smallest that holds its entries,
//! a B-tree refilled in key order) — through [`Persistent`]'s relocating deep copy, then
//! publishes it exactly as a typed migration does (`crate::migrate`): built beside the
//! pool as `NAME.compacting` in one transaction, closed and synced, renamed over `NAME`
//! and the directory synced, all while the old pool stays locked. A crash before the
//! rename is durable leaves the old pool as it was; after it, the compacted pool is
//! complete.

use std::path::Path;

use pmem_core::{Error, Persistent, Pool, PoolOptions, Result};

use crate::migrate::replace_with;

mod relocate;
mod stored_values;
mod untyped;

pub use untyped::compact_untyped;

/// Stack of the thread that copies the graph: 1 GiB of address space, enough for chains
/// of millions of boxes.
const COPY_STACK: usize = 1 << 30;

/// What a compaction did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompactReport {
    /// The pool file's size before.
    pub bytes_before: u64,
    /// The pool file's size after.
    pub bytes_after: u64,
}

/// Compacts the pool at `path`, whose root is an `R`, creating the new file with
/// `options` (give the pool's layout name, durability and limits, as for opening it).
/// The pool must not be open anywhere.
///
/// # Errors
/// [`Error::Locked`] while a handle (here or in another process) has the pool open;
/// [`Error::TypeMismatch`] when the root is not an `R`; [`Error::NotRelocatable`] when
/// the graph holds a non-owning [`pmem_core::PPtr`]; I/O errors. On every error the
/// pool is left as it was.
///
/// # Examples
///
/// ```
/// use pmem::{compact::compact, PHashMap, Pool, PoolOptions};
///
/// let dir = std::env::temp_dir().join(format!("pmem-doc-compact-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("m.pool");
/// let mut pool = Pool::<PHashMap<u64, u64>>::create(&path)?;
/// pool.tx(|tx| (0..100_000).try_for_each(|i| tx.root_mut().insert(i, i).map(drop)))?;
/// pool.tx(|tx| tx.root_mut().retain(|k, _| *k < 100))?;
/// drop(pool);
///
/// let report = compact::<PHashMap<u64, u64>>(&path, &PoolOptions::new())?;
/// assert!(report.bytes_after < report.bytes_before / 4);
/// let pool = Pool::<PHashMap<u64, u64>>::open(&path)?;
/// assert_eq!(pool.read(|m| m.len())?, 100);
/// pool.check()?;
/// # drop(pool); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), pmem::Error>(())
/// ```
pub fn compact<R>(path: impl AsRef<Path>, options: &PoolOptions) -> Result<CompactReport>
where
    R: Persistent + Default,
{
    let path = path.as_ref();
    let size = |path: &Path| {
        std::fs::metadata(path)
            .map(|m| m.len())
            .map_err(|source| Error::Io {
                op: "reading the size of",
                path: path.to_path_buf(),
                source,
            })
    };
    let bytes_before = size(path)?;
    let run = || {
        replace_with::<R, R>(path, options, ".compacting", |old, tx| {
            let dst = std::ptr::from_mut(tx.root_mut()).cast::<R>();
            // SAFETY: `dst` is the new pool's root, in the transaction open on this
            // thread, snapshotted before it is written; it holds `R::default()`, built
            // outside the pool, which owns no pool memory. `old` is the old pool's
            // root, readable for the whole read this runs in.
            unsafe {
                pmem_core::raw::snapshot_value(dst);
                old.clone_into_pool(dst)
            }
        })
    };
    // The copy recurses once per `PBox` on a chain (a list of boxes nests as deep as it
    // is long), so it runs on a thread with room: the stack is reserved address space,
    // touched only as deep as the graph goes.
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("pmem-compact".into())
            .stack_size(COPY_STACK)
            .spawn_scoped(s, run)
            .map_err(|source| Error::Io {
                op: "starting the compaction thread for",
                path: path.to_path_buf(),
                source,
            })?
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })?;
    Ok(CompactReport {
        bytes_before,
        bytes_after: size(path)?,
    })
}

/// [`compact`] for an open pool: closes `pool`, compacts its file and opens the result.
/// Every other handle to the pool must be dropped first.
///
/// # Errors
/// [`Error::Locked`] while another handle to the pool is alive (the pool is then left
/// as it was, still open through that handle); otherwise as [`compact`].
///
/// # Examples
///
/// ```
/// use pmem::{compact::compact_pool, PVec, Pool, PoolOptions};
/// let dir = std::env::temp_dir().join(format!("pmem-doc-compact-pool-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let mut pool = Pool::<PVec<u64>>::create(dir.join("v.pool"))?;
/// pool.tx(|tx| tx.root_mut().extend(0..1000))?;
/// pool.tx(|tx| tx.root_mut().truncate(3))?;
/// let pool = compact_pool(pool, &PoolOptions::new())?;
/// assert_eq!(pool.read(|v| (v.len(), v.capacity()))?, (3, 3));
/// # drop(pool); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), pmem::Error>(())
/// ```
pub fn compact_pool<R>(pool: Pool<R>, options: &PoolOptions) -> Result<Pool<R>>
where
    R: Persistent + Default,
{
    let path = pool.path().to_path_buf();
    pool.close()?;
    compact::<R>(&path, options)?;
    options.open::<R>(&path)
}
