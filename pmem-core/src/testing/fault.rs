//! Deliberately broken engine variants, for proving that the crash-state harness
//! catches them (ARCHITECTURE §10; `tests/broken_variants.rs`). The variants and the
//! injection points live with the code they break (`inject`); this is the switch.

pub use crate::inject::Broken;

/// Switches the engine (process-wide) into a broken variant, or back with `None`.
pub fn set_broken(v: Option<Broken>) {
    crate::inject::set(v);
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
