//! A pool on a nearly full file system: the transaction that runs out of disk fails with
//! a typed error and rolls back, the pool stays usable, and everything committed before
//! survives a reopen. Uses a 4 MiB tmpfs, so it needs root (CI runs as root); elsewhere
//! it says so and checks nothing (the simulated-disk test in `transactions.rs` covers the
//! same logic everywhere).

mod common_list;

use std::path::Path;
use std::process::Command;

use common_list::{observe, Root};
use pmem_core::{Error, Pool, PoolOptions};

struct Mount(std::path::PathBuf);
impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

fn tmpfs(size: &str) -> Option<Mount> {
    let dir = std::env::temp_dir().join(format!("pmem-fulldisk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(&dir)
        .status()
        .ok()?
        .success();
    if ok {
        Some(Mount(dir))
    } else {
        let _ = std::fs::remove_dir(&dir);
        None
    }
}

#[test]
fn running_out_of_disk_fails_the_transaction_and_keeps_the_pool_usable() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: mounting a small tmpfs needs root");
        return;
    }
    let Some(m) = tmpfs("4m") else {
        eprintln!("skipped: could not mount a tmpfs");
        return;
    };
    let path = m.0.join("p.pool");
    let mut pool = PoolOptions::new()
        .initial_size(64 << 10)
        .create::<Root>(&path)
        .unwrap();
    let mut committed = 0u64;
    let err = loop {
        let before = pool.heap_image();
        let r = pool.tx(|tx| {
            for v in 0..200 {
                tx.root_mut().push_front(v)?;
            }
            Ok::<_, Error>(())
        });
        match r {
            Ok(()) => committed += 200,
            Err(e) => {
                assert!(
                    pool.heap_image() == before,
                    "the failed transaction left bytes behind"
                );
                break e;
            }
        }
        assert!(committed < 1_000_000, "the disk never filled");
    };
    assert!(
        matches!(&err, Error::OutOfSpace { .. })
            || matches!(&err, Error::Io { source, .. } if source.raw_os_error() == Some(libc::ENOSPC)),
        "expected a typed out-of-space error, got {err:?}"
    );
    assert!(committed > 0);
    // Still usable: free some nodes, then a small transaction commits.
    pool.tx(|tx| {
        for _ in 0..100 {
            tx.root_mut().pop_front()?;
        }
        tx.root_mut().push_front(424_242)
    })
    .unwrap();
    pool.check().unwrap();
    let expected = pool.read(observe).unwrap();
    drop(pool);
    let pool = Pool::<Root>::open(Path::new(&path)).unwrap();
    assert_eq!(pool.read(observe).unwrap(), expected);
    pool.check().unwrap();
    drop(pool);
    drop(m);
}
