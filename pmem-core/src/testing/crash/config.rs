//! What a crash-state run is given and what it reports.

use std::fmt::Debug;

use crate::engine::Durability;
use crate::pool::Pool;

/// Settings of a crash-state run.
#[derive(Clone, Debug)]
pub struct CrashConfig {
    /// Durability of the pool under test.
    pub durability: Durability,
    /// Enumerate all 3^n combinations when at most this many writes are unsynced.
    pub exhaustive_limit: usize,
    /// Random combinations per persistence point when not exhaustive.
    pub random_images: usize,
    /// At most this many pairwise deviations per persistence point.
    pub max_pairs: usize,
    /// Seed of the random choices.
    pub seed: u64,
    /// Crash the recovery of every n-th image too (0: never).
    pub recovery_crash_every: usize,
    /// Log size that triggers a checkpoint (small values exercise checkpoints often).
    pub checkpoint_threshold: u64,
    /// Initial pool size.
    pub initial_size: u64,
    /// Maximum pool size.
    pub max_size: u64,
}

impl Default for CrashConfig {
    fn default() -> Self {
        CrashConfig {
            durability: Durability::Full,
            exhaustive_limit: 5,
            random_images: 8,
            max_pairs: 24,
            seed: 0x5eed_cafe,
            recovery_crash_every: 17,
            checkpoint_threshold: 8 << 10,
            initial_size: 64 << 10,
            max_size: 64 << 20,
        }
    }
}

/// What a run checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CrashReport {
    /// Crash images opened and verified (recovery crashes included).
    pub images: u64,
    /// Persistence points visited.
    pub crash_points: u64,
    /// Images made by crashing a recovery.
    pub recovery_images: u64,
}

/// One step of a workload: runs exactly one transaction on the pool.
pub type Step<R> = Box<dyn FnOnce(&mut Pool<R>)>;
