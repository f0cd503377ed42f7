//! Crash-state enumeration over the core engine: allocation (small and large), free,
//! field writes, aborted transactions, checkpoints (a tiny threshold makes them
//! frequent) and crashes during recovery, in both durability modes.

mod common_list;

use common_list::{observe, Root};
use pmem_core::crash::{check_crash_states, CrashConfig, Step};
use pmem_core::{Durability, Pool};

fn steps(n: usize, seed: u64) -> Vec<Step<Root>> {
    common_list::random_steps(n, seed)
}

fn scale() -> usize {
    std::env::var("PMEM_CRASH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

#[test]
fn every_crash_image_of_a_mixed_workload_recovers_to_an_allowed_state() {
    let mut total = 0;
    for (durability, seed) in [(Durability::Full, 7u64), (Durability::Process, 11)] {
        let cfg = CrashConfig {
            durability,
            seed,
            ..CrashConfig::default()
        };
        let setup = |p: &mut Pool<Root>| {
            for i in 0..5 {
                p.tx(|tx| tx.root_mut().push_front(i + 100)).unwrap();
            }
        };
        let report = check_crash_states(&cfg, setup, steps(120 * scale(), seed), observe)
            .unwrap_or_else(|e| panic!("{durability:?}: {e}"));
        println!("{durability:?}: {report:?}");
        assert!(
            report.recovery_images > 0,
            "recovery crashes were not exercised"
        );
        total += report.images;
    }
    println!("crash images checked: {total}");
    assert!(total >= 10_000, "only {total} crash images checked");
}

/// Root for the large-transaction test: a 320 KiB array behind a box, so one
/// transaction's log group is streamed (body in pieces, header last).
type BigRoot = Option<pmem_core::PBox<[u64; 40_000]>>;

#[test]
#[allow(clippy::large_stack_arrays)] // the point: one 320 KB value, streamed to the log
fn large_transactions_streamed_to_the_log_recover_whole_or_not_at_all() {
    let steps: Vec<Step<BigRoot>> = (1..=4u64)
        .map(|k| {
            Box::new(move |p: &mut Pool<BigRoot>| {
                p.tx(|tx| {
                    let b = tx.root_mut().insert([k; 40_000])?;
                    b[39_999] = k * 10;
                    Ok::<_, pmem_core::Error>(())
                })
                .unwrap();
            }) as Step<BigRoot>
        })
        .collect();
    let cfg = CrashConfig {
        checkpoint_threshold: 1 << 20,
        max_size: 16 << 20,
        random_images: 16,
        ..CrashConfig::default()
    };
    let report = check_crash_states(
        &cfg,
        |_| {},
        steps,
        |r: &BigRoot| {
            r.as_ref().map(|b| {
                assert!(
                    b[..39_999].iter().all(|&x| x == b[0]),
                    "a torn array was recovered"
                );
                (b[0], b[39_999])
            })
        },
    )
    .unwrap();
    println!("large transactions: {report:?}");
    assert!(report.images > 50);
}

#[test]
fn transactions_with_thousands_of_writes_recover_whole_or_not_at_all() {
    // Each step writes every node of a 1,500-node list (separate 8-byte ranges): the
    // journal switches to line mode.
    let steps: Vec<Step<Root>> = (0..4u64)
        .map(|k| {
            Box::new(move |p: &mut Pool<Root>| {
                p.tx(|tx| {
                    let root = tx.root_mut();
                    root.bump_all(k + 1);
                    root.push_front(k)?;
                    if k == 2 {
                        return Err(pmem_core::Error::InvalidOptions(
                            "rolled back on purpose".into(),
                        ));
                    }
                    Ok::<_, pmem_core::Error>(())
                })
                .ok();
            }) as Step<Root>
        })
        .collect();
    let cfg = CrashConfig {
        checkpoint_threshold: 256 << 10,
        ..CrashConfig::default()
    };
    let setup = |p: &mut Pool<Root>| {
        p.tx(|tx| {
            for v in 0..1500 {
                tx.root_mut().push_front(v)?;
            }
            Ok::<_, pmem_core::Error>(())
        })
        .unwrap();
    };
    let report = check_crash_states(&cfg, setup, steps, observe).unwrap();
    println!("line-mode transactions: {report:?}");
    assert!(report.images > 50);
}

/// Issue 10 item 5: `create` returns a durable pool in every mode. In `Process` mode a
/// power loss right after `create` used to leave "pool has no root object".
#[test]
fn every_crash_image_of_create_opens_once_create_returned() {
    for durability in [Durability::Full, Durability::Process] {
        let cfg = CrashConfig {
            durability,
            ..CrashConfig::default()
        };
        let report = pmem_core::crash::check_create_crash_states::<Root, _>(&cfg, observe)
            .unwrap_or_else(|e| panic!("{durability:?}: {e}"));
        println!("create, {durability:?}: {report:?}");
        assert!(report.crash_points >= 4, "{report:?}");
    }
}

/// Issue 10: commits that grow the pool stay recoverable after power loss (the pool
/// file's new size is synced before a commit that uses it returns), in both modes.
#[test]
fn commits_that_grow_the_pool_survive_power_loss() {
    for durability in [Durability::Full, Durability::Process] {
        let cfg = CrashConfig {
            durability,
            checkpoint_threshold: 512 << 10,
            ..CrashConfig::default()
        };
        let steps: Vec<Step<Root>> = (0..8u64)
            .map(|i| {
                Box::new(move |p: &mut Pool<Root>| {
                    let _ = p.tx(|tx| {
                        for k in 0..1_200 {
                            tx.root_mut().push_front(i * 10_000 + k)?;
                        }
                        if i % 3 == 2 {
                            return Err(pmem_core::Error::InvalidOptions("roll back".into()));
                        }
                        Ok(())
                    });
                }) as Step<Root>
            })
            .collect();
        let report = check_crash_states(&cfg, |_| {}, steps, observe)
            .unwrap_or_else(|e| panic!("{durability:?}: {e}"));
        println!("growth, {durability:?}: {report:?}");
        assert!(report.images > 100, "{report:?}");
    }
}
