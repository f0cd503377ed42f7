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

mod engine;
mod error;
mod format;
mod heap;
mod inject;
pub mod inspect;
mod media;
mod pool;
#[cfg(feature = "testing")]
mod testing;
mod tx;
mod types;

pub use engine::Durability;
pub use error::{Error, Result, TypeIdentity};
pub use format::auto::AutoMigrate;
pub use format::{schema, TypeDifference};
#[cfg(feature = "testing")]
#[doc(hidden)]
pub use media::sim;
pub use pool::{BackupReport, Pool, PoolInfo, PoolOptions, Stats, Tx, Untyped};
#[cfg(feature = "testing")]
#[doc(hidden)]
pub use testing::{crash, fault};
pub use types::{
    fingerprint, CheckReport, Invalid, OptionPBoxMut, PBox, PBoxMut, PInit, PPtr, PSafe,
    Persistent, Plain,
};
// Plumbing for views and `Persistent` impls (the derive's and the collections'):
// reachable, kept off the front page.
#[doc(hidden)]
pub use tx::ViewTail;
#[doc(hidden)]
pub use types::{plain_view, visit_erased, VisitFn, Visitor};

/// Support for `pmem-collections` and the code `#[derive(Persistent)]` generates; not
/// part of the public API and not covered by semantic versioning.
#[doc(hidden)]
pub mod __private {
    /// The write path of an open transaction, reached from any address in its pool.
    pub mod raw {
        pub use crate::format::{pool_tag_of, PPTR_TAG_SHIFT};
        pub use crate::tx::raw::*;
        pub use crate::types::{
            free_owned_later, owns_nothing, settle_padding, snapshot_plain, CopyOf,
        };
    }
    /// The stored graph an automatic migration reads old values by.
    pub mod auto {
        pub use crate::format::auto::{widen, within, FieldMatcher, OldGraph, OldType};
        pub use crate::types::zero_padding_of;
    }
    /// Pools built from a stored schema instead of a Rust type (untyped compaction).
    pub mod stored {
        pub use crate::pool::{RawPool, RawTx, StoredRoot};
    }
}
#[doc(hidden)]
pub use __private::raw;
