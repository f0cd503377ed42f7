//! pmem: ordinary Rust structs and collections kept in a memory-mapped pool file and
//! edited in place inside transactions that are all-or-nothing across errors, panics,
//! process kills and power loss.
//!
//! This facade re-exports the engine ([`pmem_core`]), the persistent collections
//! ([`pmem_collections`]) and `#[derive(Persistent)]`.
//!
//! # Examples
//!
//! ```
//! use pmem::Pool;
//! let mut pool = Pool::<u64>::volatile()?;
//! pool.tx(|tx| {
//!     *tx.root_mut() += 30;
//!     Ok::<_, pmem::Error>(())
//! })?;
//! assert_eq!(pool.read(|n| *n)?, 30);
//! # Ok::<(), pmem::Error>(())
//! ```

pub use pmem_collections::*;
pub use pmem_core::{
    fingerprint, plain_view, raw, PInit, schema, view_cast, CheckReport, Durability, Error, OptionPBoxMut, PBox,
    PBoxMut, PPtr, PSafe, Persistent, Plain, Pool, PoolInfo, PoolOptions, Result, Stats, Tx, TypeIdentity,
    ViewTail, Visitor,
};
pub use pmem_derive::Persistent;

/// Support for generated code; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use pmem_core::fingerprint::{fp_bytes, fp_str, fp_u64, FP_START};
    pub use pmem_core::raw;
    pub use pmem_core::schema::{FieldSchema, Shape, TypeSchema, VariantSchema};
}
