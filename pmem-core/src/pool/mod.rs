//! The public face of a pool: [`Pool`], [`PoolOptions`], [`Tx`], [`PoolInfo`] and
//! [`Stats`].

mod backup;
mod info;
mod open;
mod options;
#[allow(clippy::module_inception)]
mod pool;
mod stored;
mod tx;

pub use backup::BackupReport;
pub use info::{PoolInfo, Stats};
pub use options::{PoolOptions, Untyped};
pub use pool::Pool;
pub use stored::{RawPool, RawTx, StoredRoot};
pub use tx::Tx;
