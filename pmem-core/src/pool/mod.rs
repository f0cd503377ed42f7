//! The public face of a pool: [`Pool`], [`PoolOptions`], [`Tx`], [`PoolInfo`] and
//! [`Stats`].

#[allow(clippy::module_inception)]
mod pool;
mod tx;

pub use pool::{Pool, PoolInfo, PoolOptions, Stats};
pub use tx::Tx;
