//! Online backup (issue 12 item 6): `Pool::backup_to` writes a consistent,
//! self-contained single-file pool while other threads keep committing; the copy opens,
//! passes `check()`, and holds exactly the commits up to one point.

mod common;
use common::Dir;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pmem::{Error, PString, PVec, Persistent, Pool, PoolOptions};

#[derive(Persistent, Default)]
#[repr(C)]
struct Journal {
    entries: PVec<u64>,
    names: PVec<PString>,
    last: u64,
}

fn dir(name: &str) -> Dir {
    Dir::new("backup", name)
}

fn commit(p: &mut Pool<Journal>, i: u64) {
    p.tx(|tx| {
        let j = tx.root_mut();
        j.entries_mut().push(i)?;
        j.names_mut().push(format!("entry {i}").as_str())?;
        *j.last_mut() = i;
        Ok::<_, Error>(())
    })
    .unwrap();
}

/// The copy holds commits 0..k for some k, each whole.
fn prefix_of(path: &std::path::Path) -> u64 {
    let copy = PoolOptions::new()
        .verify(true)
        .open::<Journal>(path)
        .unwrap();
    copy.check().unwrap();
    copy.read(|j| {
        let k = j.entries.len() as u64;
        assert!(j.entries.iter().copied().eq(0..k), "not a prefix");
        assert_eq!(j.names.len() as u64, k, "a commit split in two");
        assert_eq!(j.last, k.saturating_sub(1));
        k
    })
    .unwrap()
}

#[test]
fn a_backup_taken_while_another_thread_commits_holds_a_whole_prefix() {
    let d = dir("online");
    let mut pool = PoolOptions::new()
        .durability(pmem::Durability::Process)
        .checkpoint_threshold(256 << 10)
        .create::<Journal>(d.path("p.pool"))
        .unwrap();
    for i in 0..100 {
        commit(&mut pool, i);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (mut pool, stop) = (pool.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut i = 100;
            while !stop.load(Ordering::Relaxed) {
                commit(&mut pool, i);
                i += 1;
            }
            i
        })
    };
    let mut copies = Vec::new();
    for b in 0..5 {
        let dest = d.path(&format!("copy{b}.pool"));
        let report = pool.backup_to(&dest).unwrap();
        assert!(report.bytes > 0);
        copies.push(dest);
    }
    stop.store(true, Ordering::Relaxed);
    let total = writer.join().unwrap();
    // A copy keeps its original's identity (and pointer tag), so it opens once the
    // original is closed (ARCHITECTURE §12, "Copies and tag collisions").
    drop(pool);
    let seen: Vec<u64> = copies.iter().map(|c| prefix_of(c)).collect();
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert!(
        seen[0] >= 100 && *seen.last().unwrap() <= total,
        "{seen:?} of {total}"
    );
}

#[test]
fn a_backup_holds_commits_that_are_only_in_the_log_and_needs_no_log() {
    let d = dir("log");
    let mut pool = PoolOptions::new()
        .checkpoint_threshold(64 << 20)
        .create::<Journal>(d.path("p.pool"))
        .unwrap();
    for i in 0..300 {
        commit(&mut pool, i);
    }
    pool.backup_to(d.path("copy.pool")).unwrap();
    drop(pool);
    assert!(!d.path("copy.pool.log").exists(), "a backup is one file");
    assert_eq!(prefix_of(&d.path("copy.pool")), 300);
}

#[test]
fn a_backup_never_replaces_a_file_and_works_inside_a_read() {
    let d = dir("refused");
    let pool = Pool::<Journal>::create(d.path("p.pool")).unwrap();
    std::fs::write(d.path("taken"), b"mine").unwrap();
    assert!(matches!(
        pool.backup_to(d.path("taken")),
        Err(Error::AlreadyExists { .. })
    ));
    assert_eq!(std::fs::read(d.path("taken")).unwrap(), b"mine");
    // A read holds no lock (it runs on a snapshot): a backup inside one works.
    let r = pool
        .read(|_| pool.backup_to(d.path("inside.pool")))
        .unwrap();
    assert!(r.is_ok(), "{r:?}");
    assert!(d.path("inside.pool").exists());
}

#[test]
fn a_backup_larger_than_its_copy_chunks_is_byte_exact_with_commits_only_in_the_log() {
    // 24 MiB of elements: the copy goes in 8 MiB chunks (engine/backup.rs), and the
    // last commits are only in the log (no checkpoint), so the copy reads them from
    // the pool's mapping, not from its file.
    let d = dir("chunks");
    let mut pool = PoolOptions::new()
        .checkpoint_threshold(1 << 40)
        .create::<Journal>(d.path("p.pool"))
        .unwrap();
    let n: u64 = 3 << 20;
    let value = |i: u64| i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    pool.tx(|tx| {
        let e = tx.root_mut().entries_mut();
        e.reserve(n as usize)?;
        (0..n).try_for_each(|i| e.push(value(i)))
    })
    .unwrap();
    pool.checkpoint().unwrap();
    pool.tx(|tx| {
        let j = tx.root_mut();
        for i in (0..n).step_by(100_003) {
            *j.entries_mut().get_mut(i as usize).unwrap() = !value(i);
        }
        *j.last_mut() = n;
        Ok::<_, Error>(())
    })
    .unwrap();
    let report = pool.backup_to(d.path("copy.pool")).unwrap();
    assert!(report.bytes > 3 * (8 << 20), "{report:?}");
    drop(pool);
    assert!(!d.path("copy.pool.log").exists(), "a backup is one file");
    let copy = PoolOptions::new()
        .verify(true)
        .open::<Journal>(d.path("copy.pool"))
        .unwrap();
    copy.check().unwrap();
    copy.read(|j| {
        assert_eq!(j.last, n);
        assert_eq!(j.entries.len() as u64, n);
        for (i, &v) in j.entries.iter().enumerate() {
            let i = i as u64;
            let want = if i % 100_003 == 0 {
                !value(i)
            } else {
                value(i)
            };
            assert_eq!(v, want, "entry {i}");
        }
    })
    .unwrap();
    let strays: Vec<_> = std::fs::read_dir(&d.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains(".backup."))
        .collect();
    assert!(strays.is_empty(), "temp files left: {strays:?}");
}
