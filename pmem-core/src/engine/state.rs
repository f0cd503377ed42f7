//! What an open pool is made of: its settings, the mutable state behind the write
//! lock, the state shared by every handle, and the two views of it the allocator
//! works through (inside a transaction, and read-only).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, RwLock};

use super::durability::{Durability, Mode};
use super::group_commit::GroupCommit;
use super::journal::Journal;
use super::page_set::PageSet;
use super::pin::Board;
use super::session::Location;
use super::versions::{Version, Versions};
use crate::error::{Error, Result, TypeIdentity};
use crate::format::{StateSlot, StaticHeader};
use crate::heap::{HeapIndex, HeapMem};
use crate::media::Backing;
use crate::media::Region;

/// What backs a pool.
pub(crate) enum Source {
    File {
        path: PathBuf,
    },
    #[cfg(feature = "testing")]
    Sim(crate::media::sim::SimDisk),
    Volatile,
}

/// What the caller expects of the pool it opens.
#[derive(Clone, Debug)]
pub(crate) struct Expect {
    pub(crate) layout: Option<String>,
    pub(crate) root: TypeIdentity,
    pub(crate) root_size: u64,
    pub(crate) root_align: u64,
}

/// Settings fixed at open.
#[derive(Clone, Debug)]
#[allow(clippy::struct_excessive_bools)] // independent switches, each named at its use
pub(crate) struct Config {
    /// The durability the pool was opened with, as reported to the user.
    pub(crate) durability: Durability,
    /// What the engine decides by.
    pub(crate) mode: Mode,
    pub(crate) read_only: bool,
    pub(crate) checkpoint_bytes: u64,
    pub(crate) release_pages: bool,
    /// Run the full check (values included) before `open` returns.
    pub(crate) verify: bool,
}

/// Settings of a new pool.
#[derive(Clone, Debug)]
pub(crate) struct CreateSpec {
    pub(crate) layout: String,
    pub(crate) initial_size: u64,
    pub(crate) max_size: u64,
    pub(crate) mode: u32,
}

/// Mutable engine state, owned by whoever holds the write lock.
pub(crate) struct State {
    pub(crate) journal: Journal,
    pub(crate) heap: HeapIndex,
    /// Where the next log group goes.
    pub(crate) log_pos: u64,
    /// Sequence number of the last commit.
    pub(crate) last_seq: u64,
    /// The last published checkpoint state.
    pub(crate) checkpoint: StateSlot,
    pub(crate) dirty: PageSet,
    /// End of the log bytes known to be written (not just allocated): small `Full`
    /// commits are kept inside written blocks, whose fdatasync flushes data only.
    pub(super) log_written: u64,
    pub(super) buf: Vec<u8>,
    pub(super) ranges: Vec<(u64, u64)>,
    /// Snapshot versions for readers (ARCHITECTURE §7.2).
    pub(crate) versions: Versions,
}

/// Group commit (see `group_commit`), plus where each not-yet-durable group starts so
/// a failed sync can invalidate it.
pub(crate) struct Flusher {
    pub(super) gc: GroupCommit,
    /// Transactions between `Pool::tx`'s start and their commit's append (see
    /// `gather_committers`).
    pub(crate) committers: std::sync::atomic::AtomicUsize,
    /// (seq, log offset) of groups appended but not known durable.
    pub(super) pending: Mutex<VecDeque<(u64, u64)>>,
}

/// Everything shared by the handles of one open pool.
pub(crate) struct Shared {
    // Field order is drop order: the files go before the region they are mapped into.
    pub(crate) log: Option<Box<dyn Backing>>,
    pub(crate) pool_file: Option<Box<dyn Backing>>,
    pub(crate) state: RwLock<State>,
    pub(crate) flusher: Flusher,
    pub(crate) header: StaticHeader,
    pub(crate) cfg: Config,
    pub(crate) poisoned: AtomicBool,
    /// Which snapshot version readers enter (the versions live in `State::versions`).
    pub(crate) snap: Board<Version>,
    pub(crate) path: PathBuf,
    /// Where the files live (to create, find and remove the log).
    pub(crate) location: Location,
    pub(crate) region: Region,
}

/// The transaction's view of the engine, for the allocator and the raw API.
pub(crate) struct TxCtx<'a> {
    pub(crate) sh: &'a Shared,
    pub(crate) st: &'a mut State,
}

impl HeapMem for TxCtx<'_> {
    fn base(&self) -> *mut u8 {
        self.sh.region.base()
    }
    fn mapped_len(&self) -> u64 {
        self.sh.region.control().mapped_len()
    }
    fn max_size(&self) -> u64 {
        self.sh.max_size()
    }
    fn snapshot(&mut self, off: u64, len: u64) {
        // SAFETY: the allocator only names ranges below heap_end <= mapped_len.
        unsafe {
            self.st
                .journal
                .snapshot(self.sh.region.base(), off, len, &self.st.dirty);
        }
    }
    fn record_fresh(&mut self, off: u64, len: u64) {
        self.st.journal.record_fresh(off, len);
    }
    fn ensure_mapped(&mut self, len: u64) -> Result<()> {
        self.sh.ensure_mapped(len)
    }
}

/// Read-only access to the mapping for walks outside a transaction.
pub(crate) struct ReadCtx<'a>(pub(crate) &'a Shared);

impl HeapMem for ReadCtx<'_> {
    fn base(&self) -> *mut u8 {
        self.0.region.base()
    }
    fn mapped_len(&self) -> u64 {
        self.0.region.control().mapped_len()
    }
    fn max_size(&self) -> u64 {
        self.0.max_size()
    }
    fn snapshot(&mut self, _: u64, _: u64) {
        unreachable!("read context never writes");
    }
    fn record_fresh(&mut self, _: u64, _: u64) {
        unreachable!("read context never writes");
    }
    fn ensure_mapped(&mut self, _: u64) -> Result<()> {
        unreachable!("read context never writes");
    }
}

impl Shared {
    /// The largest the pool may grow: its declared maximum, bounded by the region.
    pub(crate) fn max_size(&self) -> u64 {
        self.header.max_size.min(crate::media::max_pool_size())
    }

    pub(crate) fn check_usable(&self) -> Result<()> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(Error::Poisoned);
        }
        Ok(())
    }

    pub(super) fn poison(&self) {
        self.poisoned.store(true, Ordering::Release);
    }
}
