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
