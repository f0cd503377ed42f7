//! Opening, creating and refusing pool files: one typed error per failure, never a
//! panic, and committed data survives close and reopen.

mod common_list;

use std::fs;
use std::path::PathBuf;

use common_list::{observe, Root};
use pmem_core::{Durability, Error, Pool, PoolOptions};

struct TempDir(PathBuf);
impl TempDir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("pmem-core-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn committed_state_survives_close_and_reopen_in_both_durability_modes() {
    let d = TempDir::new("reopen");
    for (i, dur) in [Durability::Full, Durability::Process]
        .into_iter()
        .enumerate()
    {
        let path = d.path(&format!("p{i}.pool"));
        {
            let mut pool = PoolOptions::new()
                .durability(dur)
                .create::<Root>(&path)
                .unwrap();
            for v in 1..=50 {
                pool.tx(|tx| tx.root_mut().push_front(v)).unwrap();
            }
            let _ = pool.tx(|tx| {
                tx.root_mut().push_front(999)?;
                Err::<(), _>(Error::InvalidOptions("rolled back on purpose".into()))
            });
        }
        let pool = Pool::<Root>::open(&path).unwrap();
        let m = pool.read(observe).unwrap();
        assert_eq!(m.values, (1..=50).rev().collect::<Vec<u64>>());
        assert_eq!(m.sum, (1..=50).sum::<u64>());
        pool.check().unwrap();
    }
}

#[test]
fn a_pool_without_a_checkpoint_recovers_from_its_log() {
    let d = TempDir::new("logonly");
    let path = d.path("p.pool");
    let mut pool = PoolOptions::new().create::<Root>(&path).unwrap();
    for v in 1..=20 {
        pool.tx(|tx| tx.root_mut().push_front(v)).unwrap();
    }
    // Simulate a process death: copy the files while the pool is open (no close-time
    // checkpoint), then open the copy.
    let copy = d.path("copy.pool");
    fs::copy(&path, &copy).unwrap();
    fs::copy(d.path("p.pool.log"), d.path("copy.pool.log")).unwrap();
    let before = pool.stats().unwrap();
    assert!(before.log_bytes > 0, "commits should still be in the log");
    drop(pool);
    let pool = Pool::<Root>::open(&copy).unwrap();
    assert_eq!(pool.read(observe).unwrap().values.len(), 20);
    pool.check().unwrap();
    assert_eq!(pool.stats().unwrap().log_bytes, 0, "recovery checkpoints");
}

#[test]
fn a_second_opener_gets_locked_at_once() {
    let d = TempDir::new("locked");
    let path = d.path("p.pool");
    let pool = Pool::<u64>::create(&path).unwrap();
    match Pool::<u64>::open(&path) {
        Err(Error::Locked { path: p }) => assert_eq!(p, path),
        other => panic!("expected Locked, got {other:?}"),
    }
    drop(pool);
    Pool::<u64>::open(&path).unwrap();
}

#[test]
fn create_refuses_an_existing_file_and_open_refuses_a_missing_one() {
    let d = TempDir::new("exists");
    let path = d.path("p.pool");
    drop(Pool::<u64>::create(&path).unwrap());
    assert!(matches!(
        Pool::<u64>::create(&path),
        Err(Error::AlreadyExists { .. })
    ));
    match Pool::<u64>::open(d.path("missing.pool")) {
        Err(Error::Io { path, source, .. }) => {
            assert!(path.ends_with("missing.pool"));
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected Io, got {other:?}"),
    }
}

#[test]
fn wrong_layout_wrong_root_type_and_foreign_files_get_their_own_errors() {
    let d = TempDir::new("mismatch");
    let path = d.path("p.pool");
    drop(
        PoolOptions::new()
            .layout("bank")
            .create::<u64>(&path)
            .unwrap(),
    );
    match PoolOptions::new().layout("todo").open::<u64>(&path) {
        Err(Error::WrongLayout { expected, found }) => {
            assert_eq!((expected.as_str(), found.as_str()), ("todo", "bank"));
        }
        other => panic!("expected WrongLayout, got {other:?}"),
    }
    match Pool::<i64>::open(&path) {
        Err(Error::TypeMismatch {
            expected,
            found,
            differences,
        }) => {
            assert_eq!(expected.name, "i64");
            assert_eq!(found.name, "u64");
            assert_ne!(expected.fingerprint, found.fingerprint);
            assert_eq!(differences[0].to_string(), "root: u64 → i64");
        }
        other => panic!("expected TypeMismatch, got {other:?}"),
    }
    let junk = d.path("junk");
    fs::write(&junk, vec![7u8; 100_000]).unwrap();
    assert!(matches!(
        Pool::<u64>::open(&junk),
        Err(Error::NotAPool { .. })
    ));
    let empty = d.path("empty");
    fs::write(&empty, b"").unwrap();
    assert!(matches!(
        Pool::<u64>::open(&empty),
        Err(Error::NotAPool { .. })
    ));
}

#[test]
fn damaged_headers_say_what_is_wrong() {
    let d = TempDir::new("damaged");
    let path = d.path("p.pool");
    drop(Pool::<u64>::create(&path).unwrap());
    let good = fs::read(&path).unwrap();

    let mut b = good.clone();
    b[40] ^= 1; // inside the layout name: header checksum fails
    fs::write(&path, &b).unwrap();
    assert!(matches!(
        Pool::<u64>::open(&path),
        Err(Error::Corrupted { offset: 0, .. })
    ));

    let mut b = good.clone();
    b[8] = 99; // format version
    fs::write(&path, &b).unwrap();
    assert!(matches!(
        Pool::<u64>::open(&path),
        Err(Error::UnsupportedVersion {
            found: 99,
            supported: 1
        })
    ));

    let mut b = good.clone();
    b[512..1536].fill(0xAB); // both checkpoint slots
    fs::write(&path, &b).unwrap();
    assert!(matches!(
        Pool::<u64>::open(&path),
        Err(Error::Corrupted { offset: 512, .. })
    ));

    fs::write(&path, &good[..6000]).unwrap(); // truncated inside the heap
    assert!(matches!(
        Pool::<u64>::open(&path),
        Err(Error::Corrupted { .. })
    ));

    // A pool whose log is in use (copied while open), with a damaged log header.
    fs::write(&path, &good).unwrap();
    let pool = Pool::<u64>::open(&path).unwrap();
    let (copy, copy_log) = (d.path("q.pool"), d.path("q.pool.log"));
    fs::copy(&path, &copy).unwrap();
    let mut l = fs::read(d.path("p.pool.log")).unwrap();
    drop(pool);
    l[20] ^= 0xFF; // inside the pool UUID: the header checksum fails
    fs::write(&copy_log, &l).unwrap();
    assert!(matches!(
        Pool::<u64>::open(&copy),
        Err(Error::Corrupted { .. })
    ));
}

/// Issue 10 item 4: a closed pool is one file; an open pool is two, and the pool file
/// alone must never silently drop the commits its log holds.
#[test]
fn a_cleanly_closed_pool_is_one_file_and_opens_alone() {
    let d = TempDir::new("onefile");
    let path = d.path("p.pool");
    let mut pool = Pool::<u64>::create(&path).unwrap();
    assert!(d.path("p.pool.log").exists(), "an open pool has its log");
    pool.tx(|tx| {
        *tx.root_mut() = 7;
        Ok::<_, Error>(())
    })
    .unwrap();
    drop(pool);
    assert!(!d.path("p.pool.log").exists(), "a closed pool is one file");
    let moved = d.path("moved.pool");
    fs::rename(&path, &moved).unwrap();
    assert_eq!(Pool::<u64>::open(&moved).unwrap().read(|n| *n).unwrap(), 7);
}

fn open_copy_with_commits(d: &TempDir) -> (Pool<u64>, std::path::PathBuf) {
    let path = d.path("p.pool");
    let mut pool = PoolOptions::new()
        .checkpoint_threshold(64 << 20)
        .create::<u64>(&path)
        .unwrap();
    for v in 1..=50 {
        pool.tx(|tx| {
            *tx.root_mut() = v;
            Ok::<_, Error>(())
        })
        .unwrap();
    }
    (pool, path)
}

#[test]
fn a_pool_copied_without_its_log_refuses_to_open_and_names_both_files() {
    let d = TempDir::new("nolog");
    let (pool, path) = open_copy_with_commits(&d);
    let copy = d.path("copy.pool");
    fs::copy(&path, &copy).unwrap();
    let log = fs::read(d.path("p.pool.log")).unwrap();
    drop(pool);
    let err = Pool::<u64>::open(&copy).unwrap_err();
    assert!(matches!(err, Error::LogMissing { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("copy.pool ") && msg.contains("copy.pool.log") && msg.contains("missing"),
        "{msg}"
    );
    // open_or_create must not paper over it either.
    assert!(matches!(
        PoolOptions::new().open_or_create::<u64>(&copy),
        Err(Error::LogMissing { .. })
    ));
    // With its log restored, every commit is there.
    fs::write(d.path("copy.pool.log"), &log).unwrap();
    assert_eq!(Pool::<u64>::open(&copy).unwrap().read(|n| *n).unwrap(), 50);
}

#[test]
fn a_log_of_another_pool_or_an_earlier_session_is_refused() {
    let d = TempDir::new("wronglog");
    let (pool, path) = open_copy_with_commits(&d);
    let early_log = fs::read(d.path("p.pool.log")).unwrap();
    drop(pool);
    // Session 2: commits past its checkpoint, copied while open.
    let mut pool = PoolOptions::new()
        .checkpoint_threshold(64 << 20)
        .open::<u64>(&path)
        .unwrap();
    pool.tx(|tx| {
        *tx.root_mut() = 99;
        Ok::<_, Error>(())
    })
    .unwrap();
    let copy = d.path("copy.pool");
    fs::copy(&path, &copy).unwrap();
    let right_log = fs::read(d.path("p.pool.log")).unwrap();
    drop(pool);

    fs::write(d.path("copy.pool.log"), &early_log).unwrap();
    let err = Pool::<u64>::open(&copy).unwrap_err();
    assert!(
        matches!(err, Error::LogMismatch { reason, .. } if reason.contains("stale")),
        "{err:?}"
    );

    let other = d.path("other.pool");
    let other_pool = Pool::<u64>::create(&other).unwrap();
    fs::copy(d.path("other.pool.log"), d.path("copy.pool.log")).unwrap();
    drop(other_pool);
    let err = Pool::<u64>::open(&copy).unwrap_err();
    assert!(
        matches!(err, Error::LogMismatch { reason, .. } if reason.contains("another pool")),
        "{err:?}"
    );

    fs::write(d.path("copy.pool.log"), &right_log).unwrap();
    assert_eq!(Pool::<u64>::open(&copy).unwrap().read(|n| *n).unwrap(), 99);
}

#[test]
fn new_files_get_mode_0600_by_default_and_the_mode_asked_for() {
    use std::os::unix::fs::PermissionsExt;
    let d = TempDir::new("mode");
    drop(Pool::<u64>::create(d.path("a.pool")).unwrap());
    assert_eq!(
        fs::metadata(d.path("a.pool")).unwrap().permissions().mode() & 0o777,
        0o600
    );
    drop(
        PoolOptions::new()
            .mode(0o640)
            .create::<u64>(d.path("b.pool"))
            .unwrap(),
    );
    assert_eq!(
        fs::metadata(d.path("b.pool")).unwrap().permissions().mode() & 0o777,
        0o640
    );
}

#[test]
fn a_read_only_open_replays_without_writing_and_refuses_transactions() {
    let d = TempDir::new("ro");
    let path = d.path("p.pool");
    drop(Pool::<u64>::create(&path).unwrap());
    let before = fs::read(&path).unwrap();
    let mut ro = PoolOptions::new()
        .read_only(true)
        .open::<u64>(&path)
        .unwrap();
    let ro2 = PoolOptions::new()
        .read_only(true)
        .open::<u64>(&path)
        .unwrap(); // shared lock
    assert_eq!(ro.read(|n| *n).unwrap(), 0);
    assert!(matches!(
        ro.tx(|tx| {
            *tx.root_mut() = 1;
            Ok::<_, Error>(())
        }),
        Err(Error::ReadOnly)
    ));
    assert!(
        matches!(Pool::<u64>::open(&path), Err(Error::Locked { .. })),
        "a writer must wait for readers"
    );
    drop((ro, ro2));
    assert_eq!(fs::read(&path).unwrap(), before);
}

#[test]
fn a_log_grown_by_a_bulk_transaction_gives_its_space_back() {
    const BIG: usize = 8 << 20;
    let d = TempDir::new("shrink");
    let path = d.path("p.pool");
    let log = d.path("p.pool.log");
    let mut pool = PoolOptions::new()
        .checkpoint_threshold(1 << 20)
        .create::<u64>(&path)
        .unwrap();
    // One transaction writing 8 MiB: one 8 MiB log group.
    pool.tx(|tx| {
        let off = tx.alloc_raw(BIG, 8)?;
        let p = tx.addr_of(off, BIG)?;
        // SAFETY: a fresh allocation of BIG bytes in this transaction's pool, logged
        // before it is written.
        unsafe {
            pmem_core::raw::snapshot(p, BIG);
            std::ptr::write_bytes(p, 7, BIG);
        }
        *tx.root_mut() = off;
        Ok::<_, Error>(())
    })
    .unwrap();
    // The commit crossed the threshold: checkpointed, and the 8 MiB log was cut back.
    let len = fs::metadata(&log).unwrap().len();
    assert!(len <= 4 << 20, "log kept {len} bytes");
    pool.tx(|tx| {
        *tx.root_mut() += 0;
        Ok::<_, Error>(())
    })
    .unwrap();
    assert!(fs::metadata(&log).unwrap().len() <= 4 << 20);
    drop(pool);
    assert!(!log.exists(), "a closed pool is one file");
    let pool = Pool::<u64>::open(&path).unwrap();
    let off = pool.read(|r| *r).unwrap();
    drop(pool);
    let bytes = fs::read(&path).unwrap();
    assert!(bytes[off as usize..off as usize + BIG]
        .iter()
        .all(|&b| b == 7));
}
