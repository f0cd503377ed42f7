//! Maintenance rows (issue 12 item 8): compacting and migrating N records, each against
//! bulk-loading the same records into a fresh pool, the work a compaction or migration
//! has to redo. Every timed step includes the pool's creation and its clean close (the
//! final checkpoint and sync), as the maintenance operation does.
//!
//! - `maint.bulk_load_map`: create a pool, insert N `u64 → u64` entries in one
//!   transaction (room reserved first), close it.
//! - `maint.compact`: `pmem::compact::compact` of that closed pool (open read-only, copy
//!   into a fresh file, close, rename, directory sync, reopen to take over the log).
//! - `maint.bulk_load_records`: create a pool of the v2 record vector, push N records
//!   (an `i64`, a short `PString`, a `u32`) in one transaction, close it.
//! - `maint.migrate`: `pmem::migrate::migrate` of a closed v1 pool of N records (`i32`
//!   balance, no flags) into v2 through a `MigrateFrom` impl.
//! - `maint.backup`: `Pool::backup_to` of the open records pool (a consistent copy, synced,
//!   linked into place, directory synced), per MiB of the pool file; `maint.cp`: the same
//!   file copied with `std::fs::copy` (what `cp` does) and synced, per MiB.

use std::path::Path;
use std::time::Instant;

use pmem::migrate::{migrate, MigrateFrom};
use pmem::{compact::compact, PHashMap, PString, PVec, Persistent, PoolOptions};

mod v1 {
    use pmem::{PString, PVec, Persistent};

    #[derive(Persistent, Default)]
    #[repr(C)]
    pub struct Record {
        pub id: u64,
        pub balance: i32,
        pub name: PString,
    }

    #[derive(Persistent, Default)]
    #[repr(C)]
    pub struct Records {
        pub all: PVec<Record>,
    }
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Record {
    id: u64,
    balance: i64,
    name: PString,
    flags: u32,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Records {
    all: PVec<Record>,
}

impl MigrateFrom<v1::Records> for Records {
    fn migrate(old: &v1::Records, new: &mut RecordsMut) -> pmem::Result<()> {
        let all = new.all_mut();
        all.reserve(old.all.len())?;
        for r in &old.all {
            let n = all.push_mut(Record::default())?;
            *n.id_mut() = r.id;
            *n.balance_mut() = i64::from(r.balance);
            n.set_name(r.name.as_str())?;
        }
        Ok(())
    }
}

fn name(i: u64) -> String {
    format!("record {i:08}")
}

fn timed(phase: &str, n: u64, path: &Path, f: impl FnOnce()) {
    crate::util::reset_peak_rss();
    let t = Instant::now();
    f();
    let ns = t.elapsed().as_nanos();
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    println!(
        "phase {phase} ns={ns} ops={n} hwm_kib={} file_bytes={bytes}",
        crate::util::peak_rss_kib()
    );
}

pub fn run(dir: &Path, n: u64) {
    let opts = PoolOptions::new().checkpoint_threshold(1 << 40);

    let map = dir.join("map.pool");
    timed("maint.bulk_load_map", n, &map, || {
        let mut p = opts.create::<PHashMap<u64, u64>>(&map).unwrap();
        p.tx(|tx| {
            let m = tx.root_mut();
            m.reserve(n as usize)?;
            (0..n).try_for_each(|i| m.insert(i.wrapping_mul(0x9e37_79b9_7f4a_7c15), i).map(drop))
        })
        .unwrap();
        p.close().unwrap();
    });
    timed("maint.compact", n, &map, || {
        compact::<PHashMap<u64, u64>>(&map, &opts).unwrap();
    });

    let bulk = dir.join("records.pool");
    timed("maint.bulk_load_records", n, &bulk, || {
        let mut p = opts.create::<Records>(&bulk).unwrap();
        p.tx(|tx| {
            let all = tx.root_mut().all_mut();
            all.reserve(n as usize)?;
            for i in 0..n {
                let r = all.push_mut(Record::default())?;
                *r.id_mut() = i;
                *r.balance_mut() = i as i64;
                r.set_name(name(i).as_str())?;
            }
            Ok::<_, pmem::Error>(())
        })
        .unwrap();
        p.close().unwrap();
    });
    let mib = (std::fs::metadata(&bulk).map(|m| m.len()).unwrap_or(0) >> 20).max(1);
    let copy = dir.join("records.cp");
    timed("maint.cp", mib, &copy, || {
        std::fs::copy(&bulk, &copy).unwrap();
        std::fs::File::open(&copy).unwrap().sync_all().unwrap();
    });
    let pool = opts.open::<Records>(&bulk).unwrap();
    let backup = dir.join("records.backup");
    timed("maint.backup", mib, &backup, || {
        pool.backup_to(&backup).unwrap();
    });
    pool.close().unwrap();

    let old = dir.join("v1.pool");
    let mut p = opts.create::<v1::Records>(&old).unwrap();
    p.tx(|tx| {
        let all = tx.root_mut().all_mut();
        all.reserve(n as usize)?;
        for i in 0..n {
            let r = all.push_mut(v1::Record::default())?;
            *r.id_mut() = i;
            *r.balance_mut() = i as i32;
            r.set_name(name(i).as_str())?;
        }
        Ok::<_, pmem::Error>(())
    })
    .unwrap();
    p.close().unwrap();
    timed("maint.migrate", n, &old, || {
        migrate::<v1::Records, Records>(&old, &opts).unwrap();
    });
}
