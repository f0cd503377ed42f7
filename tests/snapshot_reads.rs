//! Issue 13 item 1: `pool.read` used to take the engine's lock, so a read issued while
//! another thread's transaction closure ran waited for the whole closure (450 ms behind
//! a 500 ms transaction). Reads now run on a snapshot of the last committed state and
//! never wait for a transaction; these tests pin that down, and that a snapshot stays
//! exactly what it was while commits, checkpoints and growth go on behind it.
//!
//! No timing thresholds: where the old engine would block, a channel with a generous
//! timeout turns the block into a failed assertion instead of a hang.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use pmem::{Durability, Error, PVec, Persistent, Pool, PoolOptions};

const GENEROUS: Duration = Duration::from_secs(20);

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("pmem-snap-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Pair {
    a: u64,
    v: PVec<u64>,
    b: u64,
}

/// The writer's closure waits until the reader has finished its read: with a read
/// that waits for the transaction, the writer gives up after `GENEROUS` and the
/// assertion fails.
fn read_during_open_transaction(mut pool: Pool<u64>) {
    pool.tx(|tx| {
        *tx.root_mut() = 1;
        Ok::<_, Error>(())
    })
    .unwrap();
    let (in_tx, wait_in_tx) = mpsc::channel();
    let (read_done, wait_read) = mpsc::channel();
    let reader = pool.clone();
    let writer = std::thread::spawn(move || {
        pool.tx(|tx| {
            *tx.root_mut() = 2;
            in_tx.send(()).unwrap();
            Ok::<_, Error>(wait_read.recv_timeout(GENEROUS).is_ok())
        })
        .unwrap()
    });
    wait_in_tx.recv().unwrap();
    let seen = reader.read(|n| *n).unwrap();
    let _ = read_done.send(());
    let reader_finished_inside_the_tx = writer.join().unwrap();
    assert!(
        reader_finished_inside_the_tx,
        "the read waited for the transaction's closure"
    );
    assert_eq!(seen, 1, "a read saw uncommitted state");
    assert_eq!(reader.read(|n| *n).unwrap(), 2);
}

#[test]
fn a_read_during_an_open_transaction_returns_the_committed_value_at_once() {
    let d = temp_dir("open-tx");
    read_during_open_transaction(Pool::<u64>::create(d.join("p.pool")).unwrap());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_read_during_an_open_transaction_of_a_volatile_pool_returns_at_once() {
    read_during_open_transaction(Pool::<u64>::volatile().unwrap());
}

/// Every transaction moves `a`, `b` and the vector together (`a == b == v.len()`,
/// `v == [1, 2, ..]`), breaking the invariant in between; readers, many of them
/// overlapping commits and checkpoints, must never see it broken.
#[test]
fn readers_never_see_a_torn_multi_field_invariant_during_continuous_commits() {
    let d = temp_dir("torn");
    let mut pool = PoolOptions::new()
        .durability(Durability::Process)
        .checkpoint_threshold(64 << 10)
        .create::<Pair>(d.join("p.pool"))
        .unwrap();
    let stop = AtomicBool::new(false);
    let reads = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            let reader = pool.clone();
            let (stop, reads) = (&stop, &reads);
            s.spawn(move || {
                let mut last = 0;
                while !stop.load(Ordering::Relaxed) {
                    let (a, b, ok) = reader
                        .read(|r| {
                            let ok = r.v.len() as u64 == r.a
                                && r.v.iter().enumerate().all(|(i, &x)| x == i as u64 + 1);
                            (r.a, r.b, ok)
                        })
                        .unwrap();
                    assert!(a == b && ok, "a reader saw a half-done transaction");
                    assert!(a >= last, "a later read saw an older state");
                    last = a;
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        let mut n = 0u64;
        while n < 3_000 || reads.load(Ordering::Relaxed) < 3_000 {
            n += 1;
            pool.tx(|tx| {
                let r = tx.root_mut();
                *r.a_mut() = n;
                r.v_mut().push(n)?;
                std::hint::spin_loop();
                *r.b_mut() = n;
                Ok::<_, Error>(())
            })
            .unwrap();
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert!(pool.stats().unwrap().checkpoints >= 3);
    drop(pool);
    std::fs::remove_dir_all(&d).unwrap();
}

/// A reader pins its snapshot and holds it while the writer rewrites the same pages
/// many times and checkpoints several times: the checkpoint writes newer bytes into
/// the pool file, which a copy-on-write mapping would show in the pages it never
/// copied. The pinned values must not change.
#[test]
fn a_lagging_reader_keeps_its_snapshot_across_commits_and_checkpoints() {
    let d = temp_dir("lagging");
    let mut pool = PoolOptions::new()
        .durability(Durability::Process)
        .checkpoint_threshold(64 << 10)
        .create::<Pair>(d.join("p.pool"))
        .unwrap();
    pool.tx(|tx| {
        let r = tx.root_mut();
        *r.a_mut() = 7;
        *r.b_mut() = 7;
        r.v_mut().extend(0..16_384u64)?; // 128 KiB: 32 pages
        Ok::<_, Error>(())
    })
    .unwrap();
    let ckpt0 = pool.stats().unwrap().checkpoints;
    let (pinned, wait_pinned) = mpsc::channel();
    let (writer_done, wait_writer) = mpsc::channel();
    let reader = pool.clone();
    let reader = std::thread::spawn(move || {
        reader
            .read(|r| {
                let before: Vec<u64> = r.v.to_vec();
                pinned.send(()).unwrap();
                let writer_finished = wait_writer.recv_timeout(GENEROUS).is_ok();
                let same = r.v[..] == before[..] && r.a == 7 && r.b == 7;
                let expected = before.iter().copied().eq(0..16_384u64);
                (writer_finished, same && expected)
            })
            .unwrap()
    });
    wait_pinned.recv().unwrap();
    let writer = std::thread::spawn(move || {
        for k in 1..=40u64 {
            pool.tx(|tx| {
                let r = tx.root_mut();
                *r.a_mut() = 100 + k;
                for x in r.v_mut().iter_mut() {
                    *x = k;
                }
                *r.b_mut() = 100 + k;
                Ok::<_, Error>(())
            })
            .unwrap();
            if k % 10 == 0 {
                pool.checkpoint().unwrap();
            }
        }
        let checkpoints = pool.stats().unwrap().checkpoints;
        let _ = writer_done.send(());
        (pool, checkpoints)
    });
    let (writer_finished, unchanged) = reader.join().unwrap();
    let (pool, checkpoints) = writer.join().unwrap();
    assert!(writer_finished, "the writer waited for the reader");
    assert!(
        checkpoints >= ckpt0 + 5,
        "only {} checkpoints",
        checkpoints - ckpt0
    );
    assert!(unchanged, "a pinned snapshot changed under its reader");
    pool.read(|r| {
        assert_eq!((r.a, r.b), (140, 140));
        assert!(r.v.iter().all(|&x| x == 40));
    })
    .unwrap();
    drop(pool);
    std::fs::remove_dir_all(&d).unwrap();
}

/// A read that starts after `tx` returned sees that transaction, whether or not
/// another reader keeps older snapshots pinned meanwhile.
#[test]
fn a_read_after_tx_returns_sees_it() {
    let d = temp_dir("ryw");
    let mut pool = PoolOptions::new()
        .checkpoint_threshold(64 << 10)
        .create::<Pair>(d.join("p.pool"))
        .unwrap();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let reader = pool.clone();
        let stop = &stop;
        s.spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                reader
                    .read(|r| {
                        let a = r.a;
                        std::thread::yield_now();
                        assert_eq!(a, r.a);
                    })
                    .unwrap();
            }
        });
        for n in 1..=500u64 {
            pool.tx(|tx| {
                let r = tx.root_mut();
                *r.a_mut() = n;
                r.v_mut().push(n)?;
                Ok::<_, Error>(())
            })
            .unwrap();
            assert_eq!(pool.read(|r| (r.a, r.v.len())).unwrap(), (n, n as usize));
        }
        stop.store(true, Ordering::Relaxed);
    });
    drop(pool);
    std::fs::remove_dir_all(&d).unwrap();
}

/// The writer grows the heap by mebibytes while a reader holds a snapshot taken of
/// the small pool: the snapshot is unchanged, and the next read sees the grown pool.
#[test]
fn a_pinned_reader_survives_the_writer_growing_the_pool_by_mebibytes() {
    let d = temp_dir("grow");
    let mut pool = PoolOptions::new()
        .initial_size(64 << 10)
        .create::<Pair>(d.join("p.pool"))
        .unwrap();
    pool.tx(|tx| {
        tx.root_mut().v_mut().extend(0..100u64)?;
        Ok::<_, Error>(())
    })
    .unwrap();
    let size0 = pool.stats().unwrap().file_bytes;
    let (pinned, wait_pinned) = mpsc::channel();
    let (writer_done, wait_writer) = mpsc::channel();
    let reader = pool.clone();
    let reader = std::thread::spawn(move || {
        reader
            .read(|r| {
                pinned.send(()).unwrap();
                let writer_finished = wait_writer.recv_timeout(GENEROUS).is_ok();
                let same = r.v.iter().copied().eq(0..100u64) && r.a == 0;
                (writer_finished, same)
            })
            .unwrap()
    });
    wait_pinned.recv().unwrap();
    let writer = std::thread::spawn(move || {
        for chunk in 0..8u64 {
            pool.tx(|tx| {
                let r = tx.root_mut();
                *r.a_mut() = chunk + 1;
                r.v_mut().extend((0..131_072u64).map(|i| i ^ chunk))?; // 1 MiB
                Ok::<_, Error>(())
            })
            .unwrap();
        }
        let _ = writer_done.send(());
        pool
    });
    let (writer_finished, same) = reader.join().unwrap();
    let pool = writer.join().unwrap();
    assert!(writer_finished, "the writer waited for the reader");
    assert!(same, "a pinned snapshot changed while the pool grew");
    assert!(pool.stats().unwrap().file_bytes >= size0 + (8 << 20));
    pool.read(|r| {
        assert_eq!(r.a, 8);
        assert_eq!(r.v.len(), 100 + 8 * 131_072);
        assert_eq!(r.v[100 + 7 * 131_072 + 5], 5 ^ 7);
    })
    .unwrap();
    drop(pool);
    std::fs::remove_dir_all(&d).unwrap();
}
