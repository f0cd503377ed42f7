//! The harness is tested: each deliberately broken engine variant (see
//! `pmem_core::fault::Broken`) must make the crash-state harness report a violation.
//! Lives in its own test binary because the switch is process-wide.

mod common_list;

use std::panic::{catch_unwind, AssertUnwindSafe};

use common_list::{observe, Root};
use pmem_core::crash::{check_crash_states, CrashConfig, Step};
use pmem_core::fault::{set_broken, Broken};
use pmem_core::{Durability, Pool};

fn steps(n: usize, seed: u64) -> Vec<Step<Root>> {
    common_list::random_steps(n, seed)
}

/// Runs the harness; answers whether it reported a problem (an error or a panic).
fn harness_objects(durability: Durability, seed: u64) -> bool {
    let cfg = CrashConfig {
        durability,
        seed,
        ..CrashConfig::default()
    };
    let r = catch_unwind(AssertUnwindSafe(|| {
        check_crash_states(
            &cfg,
            |p: &mut Pool<Root>| {
                for i in 0..5 {
                    p.tx(|tx| tx.root_mut().push_front(i + 100)).unwrap();
                }
            },
            steps(80, seed),
            observe,
        )
    }));
    !matches!(r, Ok(Ok(_)))
}

#[test]
fn the_harness_catches_every_broken_variant() {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {})); // broken variants panic noisily by design
    set_broken(None);
    let healthy = harness_objects(Durability::Full, 3) || harness_objects(Durability::Process, 5);
    let mut missed = Vec::new();
    for v in Broken::ALL {
        set_broken(Some(v));
        let caught =
            harness_objects(Durability::Full, 3) || harness_objects(Durability::Process, 5);
        set_broken(None);
        if !caught {
            missed.push(v);
        }
    }
    std::panic::set_hook(prev);
    assert!(!healthy, "the healthy engine must pass the harness");
    let n = Broken::ALL.len();
    println!("broken variants caught: {}/{n}", n - missed.len());
    assert!(missed.is_empty(), "the harness missed {missed:?}");
}

/// Issue 10: growth not made durable before the commits that use it. The strict medium
/// (a size change survives power loss only after a sync of that file) must see the
/// pool refuse to open, or lose acknowledged steps, in `Full` durability.
#[test]
fn growth_without_a_sync_is_caught_as_lost_commits_after_power_loss() {
    let cfg = CrashConfig {
        durability: Durability::Full,
        seed: 3,
        checkpoint_threshold: 64 << 20,
        recovery_crash_every: 0,
        ..CrashConfig::default()
    };
    // Each step links 1,500 nodes (about 150 KiB): the heap grows every step or two
    // (its growth step is at least 256 KiB), and the commit that uses the grown region
    // follows before any checkpoint.
    let steps = || {
        (0..6u64)
            .map(|i| {
                Box::new(move |p: &mut Pool<Root>| {
                    p.tx(|tx| {
                        for k in 0..1_500 {
                            tx.root_mut().push_front(i * 10_000 + k)?;
                        }
                        Ok::<_, pmem_core::Error>(())
                    })
                    .unwrap();
                }) as Step<Root>
            })
            .collect()
    };
    let healthy = check_crash_states(&cfg, |_| {}, steps(), observe);
    assert!(healthy.is_ok(), "{healthy:?}");
    set_broken(Some(Broken::SkipGrowthSync));
    let r = check_crash_states(&cfg, |_| {}, steps(), observe);
    set_broken(None);
    let err = r.expect_err("the harness must catch unsynced growth");
    println!("unsynced growth: {err}");
    assert!(err.contains("power loss"), "{err}");
}
