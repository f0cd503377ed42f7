//! What a pool reports about itself: [`PoolInfo`] and [`Stats`].

use std::path::PathBuf;

use crate::engine::{self, Durability, Shared};
use crate::error::{Result, TypeIdentity};
use crate::heap;

impl PoolInfo {
    pub(crate) fn from_shared(sh: &Shared) -> Self {
        let h = &sh.header;
        PoolInfo {
            path: sh.path.clone(),
            format_version: crate::format::FORMAT_VERSION,
            layout: h.layout.clone(),
            root_type: TypeIdentity {
                name: h.root_type_name.clone(),
                fingerprint: h.root_fingerprint,
            },
            max_size: h.max_size,
            created_unix: h.created_unix,
            uuid: h.uuid,
            durability: sh.cfg.durability,
        }
    }
}

/// Header information of an open pool.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PoolInfo {
    /// The pool file.
    pub path: PathBuf,
    /// On-media format version.
    pub format_version: u32,
    /// Layout name.
    pub layout: String,
    /// Root type stored at creation.
    pub root_type: TypeIdentity,
    /// Maximum size.
    pub max_size: u64,
    /// Creation time (seconds since the Unix epoch).
    pub created_unix: u64,
    /// Pool UUID.
    pub uuid: [u8; 16],
    /// Durability of this handle.
    pub durability: Durability,
}

/// Space and log statistics of a pool; see [`crate::Pool::stats`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Stats {
    /// Bytes of the pool file currently mapped (its size).
    pub file_bytes: u64,
    /// Bytes of heap (file size less header and metadata pages).
    pub heap_bytes: u64,
    /// Bytes handed out to live allocations (region sizes for small objects).
    pub allocated_bytes: u64,
    /// Number of live allocations.
    pub allocations: u64,
    /// Bytes free: free blocks plus free cells in runs.
    pub free_bytes: u64,
    /// The largest free block.
    pub largest_free_block: u64,
    /// External fragmentation: `1 - largest_free_block / free_bytes`.
    pub fragmentation: f64,
    /// Bytes of redo log not yet checkpointed.
    pub log_bytes: u64,
    /// Commits since creation (the last commit's sequence number).
    pub commits: u64,
    /// Checkpoints since creation.
    pub checkpoints: u64,
}

impl Stats {
    pub(crate) fn from_shared(sh: &Shared) -> Result<Self> {
        let g = sh
            .state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let c = heap::census(&engine::ReadCtx(sh), |_, _| {})?;
        Ok(Stats {
            file_bytes: sh.region.control().mapped_len(),
            heap_bytes: c.heap_bytes,
            allocated_bytes: c.allocated_bytes,
            allocations: c.allocations,
            free_bytes: c.free_bytes,
            largest_free_block: c.largest_free,
            fragmentation: if c.free_bytes == 0 {
                0.0
            } else {
                1.0 - c.largest_free as f64 / c.free_bytes as f64
            },
            log_bytes: g.log_pos - crate::format::LOG_HEADER_LEN,
            commits: g.last_seq,
            checkpoints: g.checkpoint.checkpoint_count,
        })
    }
}
