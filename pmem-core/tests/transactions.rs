//! Transaction semantics: commit, rollback on error and on panic (byte for byte,
//! allocator included), growth up to the maximum, nesting, concurrency and poisoning.

mod common_list;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

use common_list::{observe, random_tx, Rng, Root};
#[cfg(feature = "testing")]
use pmem_core::sim::SimDisk;
use pmem_core::{Durability, Error, Pool, PoolOptions};

fn filled() -> Pool<Root> {
    let mut pool = PoolOptions::new()
        .initial_size(64 << 10)
        .volatile::<Root>()
        .unwrap();
    let mut rng = Rng(99);
    for _ in 0..200 {
        random_tx(&mut pool, &mut rng);
    }
    pool
}

#[test]
fn an_error_rolls_back_every_byte_including_the_allocator() {
    let mut pool = filled();
    let before = pool.heap_image();
    let stats = pool.stats().unwrap();
    let r: Result<(), Error> = pool.tx(|tx| {
        let root = tx.root_mut();
        for v in 0..500 {
            root.push_front(v)?; // allocations, and heap growth
        }
        root.pop_front()?;
        root.big_mut().insert([1; 512])?;
        root.bump(3, 10);
        Err(Error::InvalidOptions("rolled back on purpose".into()))
    });
    assert!(r.is_err());
    let after = pool.heap_image();
    assert_eq!(before.len(), after.len(), "heap end restored");
    let diffs: Vec<usize> = (0..before.len())
        .filter(|&i| before[i] != after[i])
        .collect();
    if !diffs.is_empty() {
        eprintln!(
            "{} diffs, first {:#x} last {:#x}",
            diffs.len(),
            diffs[0] + 4096,
            diffs[diffs.len() - 1] + 4096
        );
    }
    assert!(before == after, "rollback left different bytes");
    assert_eq!(pool.stats().unwrap().allocations, stats.allocations);
    pool.check().unwrap();
    // The allocator's volatile index was rebuilt: allocation still works.
    pool.tx(|tx| tx.root_mut().push_front(1)).unwrap();
    pool.check().unwrap();
}

#[test]
fn a_transaction_with_thousands_of_writes_rolls_back_exactly_and_commits_whole() {
    // Thousands of separate writes switch the journal to line mode.
    let mut pool = filled();
    pool.tx(|tx| {
        for v in 0..3000 {
            tx.root_mut().push_front(v)?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    let before = pool.heap_image();
    let bulk = |tx: &mut pmem_core::Tx<'_, Root>| {
        let root = tx.root_mut();
        root.bump_all(3); // thousands of separate 8-byte writes
        for v in 0..500 {
            root.push_front(v)?;
        }
        root.bump_all(1); // again: every range already logged
        Ok::<_, Error>(())
    };
    let r: Result<(), Error> = pool.tx(|tx| {
        bulk(tx)?;
        Err(Error::InvalidOptions("rolled back on purpose".into()))
    });
    assert!(r.is_err());
    assert!(
        pool.heap_image() == before,
        "line-mode rollback left different bytes"
    );
    pool.check().unwrap();
    pool.tx(bulk).unwrap();
    let m = pool.read(observe).unwrap();
    assert_eq!(m.count, m.values.len() as u64);
    assert_eq!(m.sum, m.values.iter().sum::<u64>());
    pool.check().unwrap();
}

#[test]
fn a_panic_rolls_back_and_resumes_unwinding() {
    let mut pool = filled();
    let before = pool.heap_image();
    let r = catch_unwind(AssertUnwindSafe(|| {
        let _ = pool.tx(|tx| {
            let root = tx.root_mut();
            root.push_front(5)?;
            root.bump(0, 1);
            assert!(root.count == 0, "in the middle of a multi-step change");
            Ok::<_, Error>(())
        });
    }));
    assert_eq!(
        *r.unwrap_err().downcast::<&str>().unwrap(),
        "in the middle of a multi-step change"
    );
    assert!(pool.heap_image() == before);
    pool.check().unwrap();
    pool.tx(|tx| tx.root_mut().push_front(2)).unwrap();
}

#[test]
fn growth_keeps_earlier_references_valid_and_stops_cleanly_at_the_maximum() {
    let mut pool = PoolOptions::new()
        .initial_size(16 << 10)
        .max_size(2 << 20)
        .volatile::<Root>()
        .unwrap();
    pool.tx(|tx| tx.root_mut().push_front(1)).unwrap();
    let mut pushed = 1u64;
    loop {
        let before = pool.heap_image();
        let r = pool.tx(|tx| {
            let root = tx.root_mut();
            for v in 0..100 {
                root.push_front(v)?;
            }
            Ok::<_, Error>(())
        });
        match r {
            Ok(()) => pushed += 100,
            Err(Error::OutOfSpace { max_size, .. }) => {
                assert_eq!(max_size, 2 << 20);
                assert!(
                    pool.heap_image() == before,
                    "the failing transaction left bytes behind"
                );
                break;
            }
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert!(pushed > 20_000, "only {pushed} 64-byte nodes in 2 MiB");
    let m = pool.read(observe).unwrap();
    assert_eq!(m.values.len() as u64, pushed);
    pool.check().unwrap();
    // Still usable: free some, allocate again.
    pool.tx(|tx| {
        for _ in 0..10 {
            tx.root_mut().pop_front()?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.tx(|tx| tx.root_mut().push_front(7)).unwrap();
    pool.check().unwrap();
}

#[test]
fn a_transaction_through_a_second_handle_inside_another_is_refused_not_deadlocked_and_works_inside_a_read(
) {
    let mut pool = Pool::<u64>::volatile().unwrap();
    let mut other = pool.clone();
    let inner = pool.tx(|tx| {
        *tx.root_mut() = 1;
        Ok::<_, Error>(other.tx(|tx2| {
            *tx2.root_mut() = 2;
            Ok::<_, Error>(())
        }))
    });
    assert!(matches!(inner.unwrap(), Err(Error::WouldDeadlock)));
    let reader = pool.clone();
    let mut writer = pool.clone();
    // A read holds no lock (it runs on a snapshot), so a transaction through another
    // handle inside it simply works; the read keeps seeing its snapshot.
    let r = reader
        .read(|n| {
            let before = *n;
            let r = writer.tx(|tx| {
                *tx.root_mut() = 3;
                Ok::<_, Error>(())
            });
            (before, r, *n)
        })
        .unwrap();
    assert!(matches!(r, (1, Ok(()), 1)));
    let in_tx_read = pool.tx(|_| Ok::<_, Error>(reader.read(|n| *n)));
    assert!(matches!(in_tx_read.unwrap(), Err(Error::WouldDeadlock)));
    assert_eq!(pool.read(|n| *n).unwrap(), 3);
}

#[test]
fn readers_never_observe_uncommitted_state() {
    // Invariant: root.0 == root.1 at every commit; a transaction breaks it in between.
    let mut pool = Pool::<(u64, u64)>::volatile().unwrap();
    let stop = AtomicBool::new(false);
    let reads = std::sync::atomic::AtomicU64::new(0);
    let mut txs = 0u64;
    std::thread::scope(|s| {
        for _ in 0..2 {
            let reader = pool.clone();
            let (stop, reads) = (&stop, &reads);
            s.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let (a, b) = reader.read(|r| *r).unwrap();
                    assert_eq!(a, b, "a reader saw a half-done transaction");
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        // At least 10,000 transactions, and enough of them overlapping with readers.
        while txs < 10_000 || reads.load(Ordering::Relaxed) < 10_000 {
            pool.tx(|tx| {
                let r = tx.root_mut();
                r.0 = txs;
                std::hint::spin_loop();
                r.1 = txs;
                Ok::<_, Error>(())
            })
            .unwrap();
            txs += 1;
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert_eq!(pool.read(|r| *r).unwrap(), (txs - 1, txs - 1));
}

#[test]
fn concurrent_durable_committers_lose_nothing() {
    let d = std::env::temp_dir().join(format!("pmem-core-group-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let path = d.join("p.pool");
    let pool = PoolOptions::new()
        .durability(Durability::Full)
        .create::<[u64; 4]>(&path)
        .unwrap();
    std::thread::scope(|s| {
        for t in 0..4 {
            let mut h = pool.clone();
            s.spawn(move || {
                for _ in 0..100 {
                    h.tx(|tx| {
                        tx.root_mut()[t] += 1;
                        Ok::<_, Error>(())
                    })
                    .unwrap();
                }
            });
        }
    });
    let commits = pool.stats().unwrap().commits;
    drop(pool);
    let pool = Pool::<[u64; 4]>::open(&path).unwrap();
    assert_eq!(pool.read(|r| *r).unwrap(), [100; 4]);
    assert!(commits >= 400);
    drop(pool);
    std::fs::remove_dir_all(&d).unwrap();
}

// The two tests below fail the simulated medium (the `testing` feature).
#[cfg(feature = "testing")]
#[test]
fn a_failed_flush_poisons_the_pool_and_reopening_keeps_exactly_the_acknowledged_commits() {
    let disk = SimDisk::new();
    let mut pool = PoolOptions::new()
        .initial_size(64 << 10)
        .create_sim::<u64>(&disk)
        .unwrap();
    for _ in 0..5 {
        pool.tx(|tx| {
            *tx.root_mut() += 1;
            Ok::<_, Error>(())
        })
        .unwrap();
    }
    disk.fail_sync_after(0);
    let r = pool.tx(|tx| {
        *tx.root_mut() += 1;
        Ok::<_, Error>(())
    });
    assert!(matches!(r, Err(Error::Io { .. })), "{r:?}");
    assert!(matches!(
        pool.tx(|_| Ok::<_, Error>(())),
        Err(Error::Poisoned)
    ));
    assert!(matches!(pool.read(|n| *n), Err(Error::Poisoned)));
    assert!(matches!(pool.check(), Err(Error::Poisoned)));
    drop(pool);
    let pool = PoolOptions::new().open_sim::<u64>(&disk).unwrap();
    assert_eq!(pool.read(|n| *n).unwrap(), 5);
    pool.check().unwrap();
}

#[cfg(feature = "testing")]
#[test]
fn a_full_disk_fails_the_transaction_cleanly_and_the_pool_stays_usable() {
    let disk = SimDisk::new();
    let mut pool = PoolOptions::new()
        .initial_size(64 << 10)
        .checkpoint_threshold(1 << 30)
        .create_sim::<Root>(&disk)
        .unwrap();
    pool.tx(|tx| tx.root_mut().push_front(1)).unwrap();
    let used = disk.file(pmem_core::sim::FileId::Pool).len()
        + disk.file(pmem_core::sim::FileId::Log).len();
    disk.set_capacity(Some(used as u64 + (32 << 10)));
    let before = pool.heap_image();
    let r = pool.tx(|tx| {
        for v in 0..5000 {
            tx.root_mut().push_front(v)?; // needs to grow the file past the capacity
        }
        Ok::<_, Error>(())
    });
    assert!(matches!(r, Err(Error::OutOfSpace { .. })), "{r:?}");
    assert!(pool.heap_image() == before);
    pool.tx(|tx| tx.root_mut().push_front(2)).unwrap();
    assert_eq!(pool.read(observe).unwrap().values, vec![2, 1]);
    pool.check().unwrap();
}

/// A pool file whose transactions roll back: pages unchanged since the last checkpoint
/// are restored from the file (their private copies dropped), pages changed since are
/// restored from the journal, and the heap grown by the transaction is given back. Each
/// rollback must leave every byte, and reopening must find every commit.
#[test]
fn rollbacks_on_a_pool_file_restore_clean_pages_from_the_file_and_dirty_ones_from_the_journal() {
    let dir = std::env::temp_dir().join(format!("pmem-rollback-file-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("p.pool");
    let opts = PoolOptions::new().initial_size(64 << 10);
    let mut pool = opts.create::<Root>(&path).unwrap();
    let mut rng = Rng(7);
    for _ in 0..200 {
        random_tx(&mut pool, &mut rng);
    }
    pool.tx(|tx| {
        for v in 0..3000 {
            tx.root_mut().push_front(v)?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.close().unwrap();
    let bulk = |tx: &mut pmem_core::Tx<'_, Root>| {
        let root = tx.root_mut();
        root.bump_all(3); // thousands of 8-byte writes: line mode
        for v in 0..2000 {
            root.push_front(v)?; // allocations, and heap growth
        }
        root.bump_all(1);
        Ok::<_, Error>(())
    };
    let roll_back = |pool: &mut Pool<Root>, what: &str| {
        let before = pool.heap_image();
        let r: Result<(), Error> = pool.tx(|tx| {
            bulk(tx)?;
            Err(Error::InvalidOptions("rolled back on purpose".into()))
        });
        assert!(r.is_err());
        assert!(
            pool.heap_image() == before,
            "{what}: rollback left different bytes"
        );
        pool.check().unwrap();
        pool.read(observe).unwrap()
    };
    // Just reopened: every page is the file's.
    let mut pool = opts.open::<Root>(&path).unwrap();
    let m0 = roll_back(&mut pool, "all pages clean");
    // A commit after the checkpoint: its pages are dirty (only in the mapping and the
    // log), the rest clean; a rollback now mixes both kinds.
    pool.tx(bulk).unwrap();
    let m1 = pool.read(observe).unwrap();
    assert_eq!(m1.values.len(), m0.values.len() + 2000);
    assert_eq!(
        roll_back(&mut pool, "dirty and clean pages").values,
        m1.values
    );
    // And a panic in the middle of a bulk transaction.
    let before = pool.heap_image();
    let r = catch_unwind(AssertUnwindSafe(|| {
        let _ = pool.tx(|tx| {
            bulk(tx)?;
            panic!("in the middle of a bulk transaction");
            #[allow(unreachable_code)]
            Ok::<_, Error>(())
        });
    }));
    assert!(r.is_err());
    assert!(
        pool.heap_image() == before,
        "panic: rollback left different bytes"
    );
    pool.tx(|tx| tx.root_mut().push_front(42)).unwrap();
    pool.close().unwrap();
    let pool = opts.open::<Root>(&path).unwrap();
    pool.check().unwrap();
    let m2 = pool.read(observe).unwrap();
    assert_eq!(m2.values[0], 42);
    assert_eq!(&m2.values[1..], &m1.values[..]);
    assert_eq!(m2.sum, m2.values.iter().sum::<u64>());
    drop(pool);
    std::fs::remove_dir_all(&dir).unwrap();
}
