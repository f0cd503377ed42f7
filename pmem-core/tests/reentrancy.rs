//! Issue 11 item 4: re-entrant calls used to hang instead of answering
//! `WouldDeadlock` — `read(|_| pool.checkpoint())`, `check`/`stats`/`checkpoint`
//! through a clone inside a `tx`, `read(|_| pool.stats())` while another thread waits
//! in `tx`. Every combination of an inner call inside an outer `tx` or `read`, through
//! the same handle or a clone, with and without a writer waiting, must either work or
//! return `WouldDeadlock` — within a timeout, never a hang. The table of outcomes is
//! pinned too.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use pmem_core::{Error, Pool};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Outer {
    Tx,
    Read,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Inner {
    Tx,
    Read,
    Check,
    Stats,
    Checkpoint,
    Close,
}

const INNER: [Inner; 6] = [
    Inner::Tx,
    Inner::Read,
    Inner::Check,
    Inner::Stats,
    Inner::Checkpoint,
    Inner::Close,
];

fn run_inner(p: &Pool<u64>, inner: Inner) -> Result<(), Error> {
    match inner {
        Inner::Tx => p.clone().tx(|tx| {
            *tx.root_mut() += 1;
            Ok(())
        }),
        Inner::Read => p.read(|n| *n).map(|_| ()),
        Inner::Check => p.check().map(|_| ()),
        Inner::Stats => p.stats().map(|_| ()),
        Inner::Checkpoint => p.checkpoint(),
        Inner::Close => p.clone().close(),
    }
}

/// Runs one combination on its own thread; `None` if it did not finish in time.
fn case(
    pool: &Pool<u64>,
    outer: Outer,
    inner: Inner,
    clone: bool,
    writer: bool,
) -> Option<Result<(), Error>> {
    let (done, wait) = mpsc::channel();
    let p = pool.clone();
    let waiting = pool.clone();
    thread::spawn(move || {
        let start_writer = |w: Pool<u64>| {
            thread::spawn(move || {
                let mut w = w;
                let _ = w.tx(|tx| {
                    *tx.root_mut() += 1;
                    Ok::<_, Error>(())
                });
            })
        };
        let mut p = p;
        let other = p.clone();
        let r = match outer {
            Outer::Tx => p
                .tx(|_| {
                    let h = writer.then(|| start_writer(waiting));
                    if writer {
                        thread::sleep(Duration::from_millis(20));
                    }
                    let r = run_inner(&other, inner);
                    Ok::<_, Error>((r, h))
                })
                .map(|(r, _)| r),
            Outer::Read => p.read(|_| {
                let h = writer.then(|| start_writer(waiting));
                if writer {
                    thread::sleep(Duration::from_millis(20));
                }
                let target = if clone { &other } else { &p };
                let _ = h;
                run_inner(target, inner)
            }),
        };
        let _ = done.send(r.and_then(|r| r));
    });
    wait.recv_timeout(Duration::from_secs(10)).ok()
}

#[test]
fn every_reentrant_call_works_or_answers_would_deadlock_and_none_hangs() {
    let dir = std::env::temp_dir().join(format!("pmem-reentrancy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pool = Pool::<u64>::create(dir.join("p.pool")).unwrap();
    let mut hangs = Vec::new();
    let mut table = Vec::new();
    for outer in [Outer::Tx, Outer::Read] {
        for inner in INNER {
            // Inside `tx` the handle is borrowed mutably: only a clone can be used.
            for clone in if outer == Outer::Tx {
                &[true][..]
            } else {
                &[false, true][..]
            } {
                for writer in [false, true] {
                    match case(&pool, outer, inner, *clone, writer) {
                        None => hangs.push((outer, inner, *clone, writer)),
                        Some(Ok(())) => table.push(format!("{outer:?}/{inner:?}: works")),
                        Some(Err(Error::WouldDeadlock)) => {
                            table.push(format!("{outer:?}/{inner:?}: WouldDeadlock"));
                        }
                        Some(Err(e)) => {
                            panic!("{outer:?} ∘ {inner:?} (clone {clone}, writer {writer}): {e}")
                        }
                    }
                }
            }
        }
    }
    table.dedup();
    println!("{}", table.join("\n"));
    assert!(hangs.is_empty(), "these combinations hang: {hangs:?}");
    // Since reads run on snapshots (ARCHITECTURE §7.2) a read holds no lock: Tx, Check,
    // Stats and Checkpoint inside a read work (they answered WouldDeadlock before).
    // Inside a transaction, whatever needs the state lock still refuses.
    let expected = [
        "Tx/Tx: WouldDeadlock",
        "Tx/Read: WouldDeadlock",
        "Tx/Check: WouldDeadlock",
        "Tx/Stats: WouldDeadlock",
        "Tx/Checkpoint: WouldDeadlock",
        "Tx/Close: works",
        "Read/Tx: works",
        "Read/Read: works",
        "Read/Check: works",
        "Read/Stats: works",
        "Read/Checkpoint: works",
        "Read/Close: works",
    ];
    assert_eq!(table, expected);
    drop(pool);
    std::fs::remove_dir_all(&dir).unwrap();
}
