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
                Err::<(), _>(Error::NestedAborted)
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
            assert_eq!((expected.as_str(), found.as_str()), ("todo", "bank"))
        }
        other => panic!("expected WrongLayout, got {other:?}"),
    }
    match Pool::<i64>::open(&path) {
        Err(Error::TypeMismatch { expected, found }) => {
            assert_eq!(expected.name, "i64");
            assert_eq!(found.name, "u64");
            assert_ne!(expected.fingerprint, found.fingerprint);
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

    fs::write(&path, &good).unwrap();
    let log = d.path("p.pool.log");
    let mut l = fs::read(&log).unwrap();
    l[20] ^= 0xFF; // the log names another pool
    fs::write(&log, &l).unwrap();
    assert!(matches!(
        Pool::<u64>::open(&path),
        Err(Error::Corrupted { .. })
    ));
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
    drop(pool);
    assert!(fs::metadata(&log).unwrap().len() <= 1 << 20);
    let pool = Pool::<u64>::open(&path).unwrap();
    let off = pool.read(|r| *r).unwrap();
    drop(pool);
    let bytes = fs::read(&path).unwrap();
    assert!(bytes[off as usize..off as usize + BIG]
        .iter()
        .all(|&b| b == 7));
}
