//! Where the bytes go: the files under a pool behind one small trait (a real file, the
//! log through a shared mapping, and — for the crash-state harness — a simulated disk),
//! and the aligned region of address space each open pool is mapped into.

mod map;
mod mapped_log;
mod medium;
#[cfg(feature = "testing")]
pub mod sim;

pub(crate) use map::{
    claim_tag, control_of, in_live_pool, live_region, log_start, max_log_size, max_pool_size,
    region_base, reserve_fresh_tag, thread_token, Region,
};
pub(crate) use mapped_log::MappedLog;
pub(crate) use medium::{Backing, RealFile};
