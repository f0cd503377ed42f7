//! Fault injection: the one switch that turns the engine, the allocator or the journal
//! into a deliberately broken variant, so that the crash-state harness can be shown to
//! catch each (ARCHITECTURE §10).
//!
//! Production code asks [`is`] at each injection point; nothing here knows the code it
//! breaks, and the harness's public face (`testing::fault`) only flips the switch.
//! Only the `testing` feature compiles the switch; without it [`is`] is a constant
//! `false` and every check vanishes.

/// A deliberate bug the engine can be switched into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
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
    /// (ARCHITECTURE §7.1).
    SkipGrowthSync = 512,
}

#[cfg(feature = "testing")]
static BROKEN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Switches the engine (process-wide) into a broken variant, or back with `None`.
#[cfg(feature = "testing")]
pub(crate) fn set(v: Option<Broken>) {
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
#[inline]
pub(crate) const fn is(_: Broken) -> bool {
    false
}
