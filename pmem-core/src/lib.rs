//! `pmem-core`: the engine of pmem — pool files, the redo log, the allocator,
//! transactions, persistent pointers and the traits that make a type storable.
//!
//! Most users depend on the `pmem` facade crate instead; this crate is what
//! `pmem-collections` and `#[derive(Persistent)]` build on. The on-media format and
//! the protocols are documented in `docs/ARCHITECTURE.md`.
//!
//! # Examples
//!
//! ```
//! use pmem_core::{Pool, PBox};
//!
//! let dir = std::env::temp_dir().join(format!("pmem-core-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("counter.pool");
//! {
//!     let mut pool = Pool::<u64>::open_or_create(&path)?;
//!     pool.tx(|tx| { *tx.root_mut() += 1; Ok::<_, pmem_core::Error>(()) })?;
//! }
//! let pool = Pool::<u64>::open(&path)?; // the commit survived the close
//! assert_eq!(pool.read(|n| *n)?, 1);
//! # drop(pool); std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), pmem_core::Error>(())
//! ```

mod check;
mod checksum;
#[doc(hidden)]
pub mod crash;
mod engine;
mod error;
#[doc(hidden)]
pub mod fault;
pub mod fingerprint;
mod group_commit;
mod heap;
pub mod inspect;
mod journal;
mod layout;
mod log;
mod logfile;
mod map;
mod medium;
mod option_layout;
mod pool;
mod psafe;
mod ptr;
pub mod raw;
pub mod schema;
mod schema_diff;
pub mod sim;
mod tx;
mod view;

pub use check::{visit_erased, CheckReport, VisitFn, Visitor};
pub use engine::Durability;
pub use error::{Error, Result, TypeIdentity};
pub use pool::{Pool, PoolInfo, PoolOptions, Stats, Tx};
pub use psafe::{plain_view, Invalid, PInit, PSafe, Persistent, Plain};
pub use ptr::{OptionPBoxMut, PBox, PBoxMut, PPtr};
pub use schema_diff::TypeDifference;
pub use view::ViewTail;

impl<R: Persistent + Default> Pool<R> {
    /// Creates a new pool at `path` with default options and `R::default()` as root.
    pub fn create(path: impl AsRef<std::path::Path>) -> Result<Self> {
        PoolOptions::new().create(path)
    }

    /// Opens the pool at `path`, creating it with default options if it is missing.
    pub fn open_or_create(path: impl AsRef<std::path::Path>) -> Result<Self> {
        PoolOptions::new().open_or_create(path)
    }

    /// A pool in anonymous memory (see [`PoolOptions::volatile`]).
    pub fn volatile() -> Result<Self> {
        PoolOptions::new().volatile()
    }
}
