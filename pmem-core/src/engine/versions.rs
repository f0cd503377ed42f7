//! The data of snapshot reads (ARCHITECTURE §7.2): the versions of one pool and what
//! each lacks of the last commit. The writer's operations on them (making, publishing,
//! protecting at checkpoints) are in `snapshot.rs`; the pin protocol is in `pin.rs`.

use std::sync::atomic::Ordering;

use super::pin::Slot;
use crate::media::Region;

/// A version's missing ranges beyond this many: rebuild it instead (bounded memory for
/// a reader that lags across many commits).
const MAX_MISSING: usize = 4096;

/// One snapshot of the pool's committed state.
pub(crate) struct Version {
    pub(super) region: Region,
}

impl Version {
    /// The root object inside this version.
    pub(crate) fn root_ptr(&self) -> *const u8 {
        // SAFETY: the metadata page is mapped in every version, and a version's bytes
        // do not change while it is pinned; `root_off` was validated at open and never
        // changes.
        unsafe {
            let meta = self
                .region
                .base()
                .add(crate::format::META_OFF as usize)
                .cast::<crate::format::RootMeta>();
            let off = std::ptr::addr_of!((*meta).root_off).read();
            self.region.base().add(off as usize)
        }
    }
}

/// What a version lacks of the last commit.
pub(super) enum Missing {
    /// These written ranges (pool offsets, lengths), in commit order.
    Ranges(Vec<(u64, u64)>),
    /// Too much to list: rebuild it from W.
    Rebuild,
}

/// The writer's bookkeeping of one version.
pub(super) struct Meta {
    pub(super) missing: Missing,
    /// The commit number it equals when `missing` is empty.
    pub(super) at: u64,
}

/// Every version of one pool (behind the write lock; readers reach versions only
/// through `Shared::snap`).
#[derive(Default)]
pub(crate) struct Versions {
    /// Boxed: readers hold pointers to the slots, which must stay put while this grows.
    #[allow(clippy::vec_box)]
    pub(super) slots: Vec<Box<Slot<Version>>>,
    pub(super) meta: Vec<Meta>,
    /// Commits so far.
    pub(super) commits: u64,
    /// The slot published last; `None` for read-only pools (which read W directly).
    pub(super) current: Option<usize>,
}

/// Is `MADV_POPULATE_WRITE` known unsupported (kernels before 5.14)?
pub(super) static NO_POPULATE: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

impl Versions {
    /// Records a commit's written ranges as missing in every version.
    pub(crate) fn note_commit(&mut self, ranges: &[(u64, u64)]) {
        self.commits += 1;
        for m in &mut self.meta {
            if let Missing::Ranges(r) = &mut m.missing {
                // A version missing only this commit copies exactly its ranges, however
                // many; one lagging further is rebuilt past the bound.
                if !r.is_empty() && r.len() + ranges.len() > MAX_MISSING {
                    m.missing = Missing::Rebuild;
                } else {
                    r.extend_from_slice(ranges);
                }
            }
        }
    }
}

/// Whether a commit due for a checkpoint must publish first: where pages cannot be
/// copied in place, the current version is brought up to date before the file changes
/// instead of being protected.
pub(crate) fn publish_before_checkpoint() -> bool {
    NO_POPULATE.load(Ordering::Relaxed)
}
