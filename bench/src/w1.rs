//! Workload 1: redb's published comparison (`lmdb_benchmark`), same shape: 24-byte
//! random keys, 150-byte random values from a seeded generator; bulk load of N in one
//! transaction; individual durable single-insert commits; commits of 1,000 inserts;
//! N random point reads; range reads of 10; removal of half the keys in one
//! transaction; the engine's disk usage after all of it.
//!
//! Every commit is durable: redb `Durability::Immediate`, LMDB default sync, SQLite
//! `synchronous=FULL` (both journal modes), pmem `Durability::Full`.

use std::path::Path;

use crate::util::{consume, disk_bytes, Data, Key, Phase, Rng, Val, KEY, VAL};

/// Sizes of one workload-1 run.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub n: u64,
    pub individual: u64,
    pub batches: u64,
    pub batch_size: u64,
    pub reads: u64,
    pub ranges: u64,
    pub seed: u64,
}

/// What an engine must do for workload 1. Every write method is one durable commit.
pub trait Kv {
    /// Inserts entries `from..to` of the data set in one transaction.
    fn insert(&mut self, data: &Data, from: u64, to: u64);
    /// Looks up every key in `keys`, in one read transaction; answers a checksum.
    fn get_many(&mut self, data: &Data, idx: &mut dyn Iterator<Item = u64>, count: u64) -> u64;
    /// `count` range reads of 10 entries from random existing keys, one read
    /// transaction; answers a checksum and the number of entries seen.
    fn ranges(&mut self, data: &Data, idx: &mut dyn Iterator<Item = u64>, count: u64) -> (u64, u64);
    /// Removes entries `from..to` in one transaction.
    fn remove(&mut self, data: &Data, from: u64, to: u64);
    /// Flushes buffers that hold nothing durable-relevant and closes (so sizes settle).
    fn close(self: Box<Self>);
}

pub fn sum_bytes(v: &[u8]) -> u64 {
    u64::from(v[0]) + u64::from(v[v.len() - 1])
}

/// Runs the whole workload against one engine, reporting one phase line per row.
pub fn run(engine: &str, dir: &Path, plan: Plan) {
    let data = Data { seed: plan.seed };
    let Some(mut kv) = open(engine, dir) else {
        println!("pending {engine} w1");
        return;
    };
    let files = (engine != "std").then_some(dir);
    let n = plan.n;

    let ph = Phase::start("w1.bulk_load", n);
    kv.insert(&data, 0, n);
    ph.end(files);

    let mut next = n;
    let ph = Phase::start("w1.individual_commits", plan.individual);
    for _ in 0..plan.individual {
        kv.insert(&data, next, next + 1);
        next += 1;
    }
    ph.end(files);

    let ph = Phase::start("w1.batch_commits", plan.batches * plan.batch_size);
    for _ in 0..plan.batches {
        kv.insert(&data, next, next + plan.batch_size);
        next += plan.batch_size;
    }
    ph.end(files);

    let mut rng = Rng::new(plan.seed ^ 0x5eed);
    let ph = Phase::start("w1.random_reads", plan.reads);
    let found = kv.get_many(&data, &mut std::iter::repeat_with(|| rng.below(n)), plan.reads);
    ph.end(files);
    consume(found);

    let ph = Phase::start("w1.range_reads", plan.ranges);
    let (sum, seen) = kv.ranges(&data, &mut std::iter::repeat_with(|| rng.below(n)), plan.ranges);
    ph.end(files);
    consume(sum);
    assert!(seen >= plan.ranges * 9, "{engine}: range reads saw {seen} entries for {} ranges", plan.ranges);

    let ph = Phase::start("w1.remove_half", n / 2);
    kv.remove(&data, 0, n / 2);
    ph.end(files);

    kv.close();
    if let Some(d) = files {
        crate::util::report("w1.file_size", disk_bytes(d) as f64, 1, 0, Some(disk_bytes(d)));
        crate::util::list_files(d);
    }
}

/// The durable engines, each loaded with N entries (untimed), then `individual`
/// rounds of one single-insert commit per engine plus one bare fdatasync of the floor,
/// each timed on its own: every engine and the floor see the same moments of the disk,
/// which on a shared machine matters more than anything else for these rows.
pub fn run_interleaved(dir: &Path, plan: Plan) {
    use std::time::Instant;
    let data = Data { seed: plan.seed };
    let names = ["pmem", "redb", "sqlite", "sqlite-wal", "lmdb"];
    let mut kvs: Vec<(&str, Box<dyn Kv>)> = Vec::new();
    for e in names {
        let d = dir.join(e);
        crate::util::fresh_dir(&d);
        let Some(mut kv) = open(e, &d) else { continue };
        kv.insert(&data, 0, plan.n);
        kvs.push((e, kv));
    }
    let mut floor = crate::floor::Floor::new(dir, plan.individual);
    let mut falloc = crate::floor::Floor::fallocated(dir, plan.individual);
    let mut ns = vec![0u128; kvs.len() + 2];
    for r in 0..plan.individual {
        let i = plan.n + r;
        for (k, (_, kv)) in kvs.iter_mut().enumerate() {
            let t = Instant::now();
            kv.insert(&data, i, i + 1);
            ns[k] += t.elapsed().as_nanos();
        }
        let t = Instant::now();
        floor.one(r);
        ns[kvs.len()] += t.elapsed().as_nanos();
        let t = Instant::now();
        falloc.one(r);
        ns[kvs.len() + 1] += t.elapsed().as_nanos();
    }
    for (k, (e, _)) in kvs.iter().enumerate() {
        println!("phase w1.individual_commits_rr ns={} ops={} hwm_kib=0 engine={e}", ns[k], plan.individual);
    }
    println!("phase floor.rr.fdatasync ns={} ops={} hwm_kib=0 engine=floor", ns[kvs.len()], plan.individual);
    println!("phase floor.rr.fdatasync_fallocated ns={} ops={} hwm_kib=0 engine=floor", ns[kvs.len() + 1], plan.individual);
}

fn open(engine: &str, dir: &Path) -> Option<Box<dyn Kv>> {
    Some(match engine {
        "pmem" => return crate::w1_pmem::open(dir),
        "redb" => Box::new(RedbKv::open(dir)),
        "sqlite" => Box::new(SqliteKv::open(dir, false)),
        "sqlite-wal" => Box::new(SqliteKv::open(dir, true)),
        "lmdb" => Box::new(LmdbKv::open(dir)),
        "std" => Box::new(StdKv(std::collections::BTreeMap::new())),
        _ => panic!("unknown engine {engine}"),
    })
}

// ---------------------------------------------------------------- redb

const REDB_T: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("kv");

struct RedbKv(redb::Database);

impl RedbKv {
    fn open(dir: &Path) -> Self {
        RedbKv(redb::Database::create(dir.join("redb.db")).expect("redb create"))
    }
}

impl Kv for RedbKv {
    fn insert(&mut self, data: &Data, from: u64, to: u64) {
        let tx = self.0.begin_write().unwrap(); // Durability::Immediate is the default
        {
            let mut t = tx.open_table(REDB_T).unwrap();
            for i in from..to {
                t.insert(&data.key(i)[..], &data.value(i)[..]).unwrap();
            }
        }
        tx.commit().unwrap();
    }
    fn get_many(&mut self, data: &Data, idx: &mut dyn Iterator<Item = u64>, count: u64) -> u64 {
        use redb::ReadableDatabase;
        let tx = self.0.begin_read().unwrap();
        let t = tx.open_table(REDB_T).unwrap();
        let mut s = 0;
        for i in idx.take(count as usize) {
            s += sum_bytes(t.get(&data.key(i)[..]).unwrap().expect("present").value());
        }
        s
    }
    fn ranges(&mut self, data: &Data, idx: &mut dyn Iterator<Item = u64>, count: u64) -> (u64, u64) {
        use redb::ReadableDatabase;
        let tx = self.0.begin_read().unwrap();
        let t = tx.open_table(REDB_T).unwrap();
        let (mut s, mut seen) = (0, 0);
        for i in idx.take(count as usize) {
            let k = data.key(i);
            for e in t.range::<&[u8]>(&k[..]..).unwrap().take(10) {
                let (_k, v) = e.unwrap();
                s += sum_bytes(v.value());
                seen += 1;
            }
        }
        (s, seen)
    }
    fn remove(&mut self, data: &Data, from: u64, to: u64) {
        let tx = self.0.begin_write().unwrap();
        {
            let mut t = tx.open_table(REDB_T).unwrap();
            for i in from..to {
                t.remove(&data.key(i)[..]).unwrap().expect("present");
            }
        }
        tx.commit().unwrap();
    }
    fn close(self: Box<Self>) {}
}

// ---------------------------------------------------------------- SQLite

struct SqliteKv(rusqlite::Connection);

/// Opens SQLite with `synchronous=FULL`, rollback journal (`wal == false`, SQLite's
/// default `DELETE` mode) or WAL, and a 1 GiB page cache (redb's default cache size).
pub fn sqlite_open(path: &Path, wal: bool, sync: &str) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(path).expect("sqlite open");
    if wal {
        let mode: String = c.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).unwrap();
        assert_eq!(mode.to_lowercase(), "wal");
    }
    c.execute_batch(&format!("PRAGMA synchronous={sync}; PRAGMA cache_size=-1048576;")).unwrap();
    c
}

impl SqliteKv {
    fn open(dir: &Path, wal: bool) -> Self {
        let c = sqlite_open(&dir.join("sqlite.db"), wal, "FULL");
        c.execute_batch("CREATE TABLE kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;").unwrap();
        SqliteKv(c)
    }
}

impl Kv for SqliteKv {
    fn insert(&mut self, data: &Data, from: u64, to: u64) {
        let tx = self.0.transaction().unwrap();
        {
            let mut st = tx.prepare_cached("INSERT INTO kv (k, v) VALUES (?1, ?2)").unwrap();
            for i in from..to {
                st.execute((&data.key(i)[..], &data.value(i)[..])).unwrap();
            }
        }
        tx.commit().unwrap();
    }
    fn get_many(&mut self, data: &Data, idx: &mut dyn Iterator<Item = u64>, count: u64) -> u64 {
        let tx = self.0.transaction().unwrap();
        let mut s = 0;
        {
            let mut st = tx.prepare_cached("SELECT v FROM kv WHERE k = ?1").unwrap();
            for i in idx.take(count as usize) {
                s += st.query_row([&data.key(i)[..]], |r| Ok(sum_bytes(r.get_ref(0)?.as_blob()?))).unwrap();
            }
        }
        tx.commit().unwrap();
        s
    }
    fn ranges(&mut self, data: &Data, idx: &mut dyn Iterator<Item = u64>, count: u64) -> (u64, u64) {
        let tx = self.0.transaction().unwrap();
        let (mut s, mut seen) = (0, 0);
        {
            let mut st = tx.prepare_cached("SELECT v FROM kv WHERE k >= ?1 ORDER BY k LIMIT 10").unwrap();
            for i in idx.take(count as usize) {
                let mut rows = st.query([&data.key(i)[..]]).unwrap();
                while let Some(r) = rows.next().unwrap() {
                    s += sum_bytes(r.get_ref(0).unwrap().as_blob().unwrap());
                    seen += 1;
                }
            }
        }
        tx.commit().unwrap();
        (s, seen)
    }
    fn remove(&mut self, data: &Data, from: u64, to: u64) {
        let tx = self.0.transaction().unwrap();
        {
            let mut st = tx.prepare_cached("DELETE FROM kv WHERE k = ?1").unwrap();
            for i in from..to {
                assert_eq!(st.execute([&data.key(i)[..]]).unwrap(), 1);
            }
        }
        tx.commit().unwrap();
    }
    fn close(self: Box<Self>) {
        self.0.close().map_err(|(_, e)| e).unwrap();
    }
}

// ---------------------------------------------------------------- LMDB

type LmdbDb = heed::Database<'static, heed::types::Bytes, heed::types::Bytes>;

/// Opens an LMDB environment in `dir` with a 64 GiB map and `flags`. The environment
/// lives until the (child) process exits: heed ties database handles to it by lifetime.
pub fn lmdb_open(dir: &Path, flags: heed::EnvFlags) -> &'static heed::Env {
    let mut o = heed::EnvOpenOptions::new();
    o.map_size(64 << 30).max_dbs(4);
    // SAFETY: the benchmark is the only user of this directory; NO_SYNC (Process rows)
    // keeps LMDB crash-safe for process crashes, which is what those rows claim.
    unsafe {
        o.flags(flags);
        Box::leak(Box::new(o.open(dir).expect("lmdb open")))
    }
}

pub fn lmdb_db<KC: 'static, DC: 'static>(env: &'static heed::Env, name: &str) -> heed::Database<'static, KC, DC> {
    let wtxn = env.write_txn().unwrap();
    env.create_databases_and_commit(wtxn, |dbo, wtxn| {
        dbo.create_database::<KC, DC>(wtxn, Some(name)).map(heed::CommitOrAbort::<_, ()>::Commit)
    })
    .unwrap()
    .unwrap_commit()
}

struct LmdbKv {
    env: &'static heed::Env,
    db: LmdbDb,
}

impl LmdbKv {
    fn open(dir: &Path) -> Self {
        let env = lmdb_open(dir, heed::EnvFlags::empty());
        let db = lmdb_db(&env, "kv");
        LmdbKv { env, db }
    }
}

impl Kv for LmdbKv {
    fn insert(&mut self, data: &Data, from: u64, to: u64) {
        let mut tx = self.env.write_txn().unwrap();
        for i in from..to {
            self.db.put(&mut tx, &data.key(i), &data.value(i)).unwrap();
        }
        tx.commit().unwrap();
    }
    fn get_many(&mut self, data: &Data, idx: &mut dyn Iterator<Item = u64>, count: u64) -> u64 {
        let tx = self.env.read_txn().unwrap();
        let mut s = 0;
        for i in idx.take(count as usize) {
            s += sum_bytes(self.db.get(&tx, &data.key(i)).unwrap().expect("present"));
        }
        s
    }
    fn ranges(&mut self, data: &Data, idx: &mut dyn Iterator<Item = u64>, count: u64) -> (u64, u64) {
        let tx = self.env.read_txn().unwrap();
        let (mut s, mut seen) = (0, 0);
        for i in idx.take(count as usize) {
            let k = data.key(i);
            let r = (std::ops::Bound::Included(&k[..]), std::ops::Bound::Unbounded);
            for e in self.db.range(&tx, &r).unwrap().take(10) {
                s += sum_bytes(e.unwrap().1);
                seen += 1;
            }
        }
        (s, seen)
    }
    fn remove(&mut self, data: &Data, from: u64, to: u64) {
        let mut tx = self.env.write_txn().unwrap();
        for i in from..to {
            assert!(self.db.delete(&mut tx, &data.key(i)).unwrap());
        }
        tx.commit().unwrap();
    }
    fn close(self: Box<Self>) {
        self.env.force_sync().unwrap();
    }
}

// ---------------------------------------------------------------- std (in-memory limit)

struct StdKv(std::collections::BTreeMap<Key, Val>);

impl Kv for StdKv {
    fn insert(&mut self, data: &Data, from: u64, to: u64) {
        for i in from..to {
            self.0.insert(data.key(i), data.value(i));
        }
    }
    fn get_many(&mut self, data: &Data, idx: &mut dyn Iterator<Item = u64>, count: u64) -> u64 {
        idx.take(count as usize).map(|i| sum_bytes(&self.0[&data.key(i)])).sum()
    }
    fn ranges(&mut self, data: &Data, idx: &mut dyn Iterator<Item = u64>, count: u64) -> (u64, u64) {
        let (mut s, mut seen) = (0, 0);
        for i in idx.take(count as usize) {
            for (_, v) in self.0.range(data.key(i)..).take(10) {
                s += sum_bytes(v);
                seen += 1;
            }
        }
        (s, seen)
    }
    fn remove(&mut self, data: &Data, from: u64, to: u64) {
        for i in from..to {
            self.0.remove(&data.key(i)).expect("present");
        }
    }
    fn close(self: Box<Self>) {}
}

const _: () = assert!(KEY == 24 && VAL == 150);
