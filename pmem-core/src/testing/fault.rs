//! Deliberately broken engine variants, for proving the crash-state harness catches
//! them (issue 6: "the harness is tested"). Only the `testing` feature compiles the
//! switch; without it every check is a constant `false` and vanishes.

/// A deliberate bug the engine can be switched into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Broken {
    /// `Full` commits return without syncing the log.
    SkipLogSync = 1,
    /// Log scan accepts groups whose checksum does not match (torn groups replay).
    SkipGroupChecksum = 2,
    /// Checkpoint writes pages before the log holding them is durable.
    CheckpointBeforeLogDurable = 4,
    /// Checkpoint publishes the new state slot without syncing the pages first.
    PublishBeforePagesSync = 8,
    /// Snapshots save no old bytes: rollback restores nothing.
    SkipUndo = 16,
    /// Log scan ignores sequence numbers (stale groups from before a checkpoint replay).
    IgnoreSequence = 32,
    /// Allocator writes bypass the journal (neither rolled back nor logged).
    AllocatorOutsideJournal = 64,
    /// The new checkpoint state slot is not synced before the log restarts.
    SkipSlotSync = 128,
    /// Frees take effect immediately instead of at commit, outside the journal.
    FreeBeforeCommit = 256,
    /// Pool growth is not synced before the commits that use the grown region return
    /// (the power-loss bug of issue 10).
    SkipGrowthSync = 512,
}

impl Broken {
    /// Every variant.
    pub const ALL: [Broken; 10] = [
        Broken::SkipLogSync,
        Broken::SkipGroupChecksum,
        Broken::CheckpointBeforeLogDurable,
        Broken::PublishBeforePagesSync,
        Broken::SkipUndo,
        Broken::IgnoreSequence,
        Broken::AllocatorOutsideJournal,
        Broken::SkipSlotSync,
        Broken::FreeBeforeCommit,
        Broken::SkipGrowthSync,
    ];
}

#[cfg(feature = "testing")]
static BROKEN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Switches the engine (process-wide) into a broken variant, or back with `None`.
#[cfg(feature = "testing")]
pub fn set_broken(v: Option<Broken>) {
    BROKEN.store(
        v.map_or(0, |v| v as u32),
        std::sync::atomic::Ordering::SeqCst,
    );
}

#[cfg(feature = "testing")]
#[inline]
pub(crate) fn is(v: Broken) -> bool {
    BROKEN.load(std::sync::atomic::Ordering::Relaxed) & v as u32 != 0
}

#[cfg(not(feature = "testing"))]
#[inline(always)]
pub(crate) const fn is(_: Broken) -> bool {
    false
}

/// The `FreeBeforeCommit` bug: free at once, with allocator writes bypassing the journal.
pub(crate) fn free_now(
    heap: &mut crate::heap::HeapIndex,
    sh: &crate::engine::Shared,
    st: &mut crate::engine::State,
    off: u64,
    size: u64,
) -> crate::error::Result<()> {
    struct Direct<'a>(crate::engine::TxCtx<'a>);
    impl crate::heap::HeapMem for Direct<'_> {
        fn base(&self) -> *mut u8 {
            self.0.base()
        }
        fn mapped_len(&self) -> u64 {
            self.0.mapped_len()
        }
        fn max_size(&self) -> u64 {
            self.0.max_size()
        }
        fn snapshot(&mut self, _: u64, _: u64) {}
        fn record_fresh(&mut self, off: u64, len: u64) {
            self.0.record_fresh(off, len);
        }
        fn ensure_mapped(&mut self, len: u64) -> crate::error::Result<()> {
            self.0.ensure_mapped(len)
        }
    }
    heap.free(&mut Direct(crate::engine::TxCtx { sh, st }), off, size)
}
