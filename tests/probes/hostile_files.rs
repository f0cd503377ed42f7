//! Files that are not what they claim: every probe gets a typed error (never a panic,
//! never a pool that silently lost commits).

use std::path::PathBuf;

use crate::common::Dir;
use pmem::{Error, PVec, Pool, PoolOptions};

/// A pool with 200 commits in its log (not yet checkpointed), copied while open.
fn crashed_pool(d: &Dir, name: &str) -> PathBuf {
    let live = d.path(&format!("{name}.live"));
    let mut p = PoolOptions::new()
        .checkpoint_threshold(64 << 20)
        .create::<PVec<u64>>(&live)
        .unwrap();
    for i in 0..200 {
        p.tx(|tx| tx.root_mut().push(i)).unwrap();
    }
    let path = d.path(name);
    std::fs::copy(&live, &path).unwrap();
    let mut log = live.clone().into_os_string();
    log.push(".log");
    let mut copy_log = path.clone().into_os_string();
    copy_log.push(".log");
    std::fs::copy(&log, &copy_log).unwrap();
    drop(p);
    path
}

fn log_of(p: &std::path::Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".log");
    PathBuf::from(s)
}

#[test]
fn a_pool_truncated_to_any_length_is_refused_with_a_typed_error() {
    let d = Dir::new("probe-files", "truncated");
    let good = d.path("good.pool");
    drop(Pool::<PVec<u64>>::create(&good).unwrap());
    let bytes = std::fs::read(&good).unwrap();
    for len in [0, 1, 511, 512, 1536, 4095, 4096, 8191, 8192, 12288, 100_000] {
        let p = d.path("cut.pool");
        std::fs::write(&p, &bytes[..len.min(bytes.len())]).unwrap();
        match Pool::<PVec<u64>>::open(&p) {
            Err(Error::NotAPool { .. } | Error::Corrupted { .. }) => {}
            Ok(_) if len >= bytes.len() => {}
            other => panic!("cut to {len}: {other:?}"),
        }
    }
}

#[test]
fn swapping_the_logs_of_two_crashed_pools_is_refused() {
    let d = Dir::new("probe-files", "swap");
    let a = crashed_pool(&d, "a.pool");
    let b = crashed_pool(&d, "b.pool");
    let (la, lb) = (
        std::fs::read(log_of(&a)).unwrap(),
        std::fs::read(log_of(&b)).unwrap(),
    );
    std::fs::write(log_of(&a), &lb).unwrap();
    std::fs::write(log_of(&b), &la).unwrap();
    for p in [&a, &b] {
        assert!(matches!(
            Pool::<PVec<u64>>::open(p),
            Err(Error::LogMismatch { .. })
        ));
    }
    // Put back, both recover every commit.
    std::fs::write(log_of(&a), &la).unwrap();
    assert_eq!(
        Pool::<PVec<u64>>::open(&a)
            .unwrap()
            .read(|v| v.len())
            .unwrap(),
        200
    );
}

#[test]
fn a_crashed_pool_without_its_log_or_with_an_empty_one_is_refused() {
    let d = Dir::new("probe-files", "nolog");
    let a = crashed_pool(&d, "a.pool");
    let log = std::fs::read(log_of(&a)).unwrap();
    std::fs::remove_file(log_of(&a)).unwrap();
    assert!(matches!(
        Pool::<PVec<u64>>::open(&a),
        Err(Error::LogMissing { .. })
    ));
    std::fs::write(log_of(&a), b"").unwrap();
    assert!(matches!(
        Pool::<PVec<u64>>::open(&a),
        Err(Error::Corrupted { .. })
    ));
    std::fs::write(log_of(&a), &log).unwrap();
    assert_eq!(
        Pool::<PVec<u64>>::open(&a)
            .unwrap()
            .read(|v| v.len())
            .unwrap(),
        200
    );
}

#[test]
fn a_second_opener_is_refused_at_once_and_a_read_only_one_cannot_write() {
    let d = Dir::new("probe-files", "locked");
    let p = d.path("p.pool");
    let pool = Pool::<PVec<u64>>::create(&p).unwrap();
    assert!(matches!(
        Pool::<PVec<u64>>::open(&p),
        Err(Error::Locked { .. })
    ));
    drop(pool);
    let mut ro = PoolOptions::new()
        .read_only(true)
        .open::<PVec<u64>>(&p)
        .unwrap();
    assert!(matches!(
        ro.tx(|tx| tx.root_mut().push(1)),
        Err(Error::ReadOnly)
    ));
}
