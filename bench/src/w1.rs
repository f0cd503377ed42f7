//! Workload 1: redb's published comparison (`lmdb_benchmark`), same shape: 24-byte
//! random keys, 150-byte random values from a seeded generator; bulk load of N in one
//! transaction; individual durable single-insert commits; commits of 1,000 inserts;
//! N random point reads; range reads of 10; removal of half the keys in one
//! transaction; the engine's disk usage after all of it.
//!
//! Every commit is durable: redb `Durability::Immediate`, LMDB default sync, SQLite
//! `synchronous=FULL` (both journal modes), pmem `Durability::Full`.
//!
//! Same rules for every engine (issue 13 item 5): each phase's keys and values are
//! generated before the phase (the timed loop is the engine's work alone), a read
//! consumes the first byte of each value (what redb's `lmdb_benchmark` does), point and
//! range reads run in one read transaction per phase, SQLite statements are prepared
//! once, and the engines' caches hold the whole data set (redb and SQLite 4 GiB, as
//! redb's benchmark sets them; pmem and LMDB use the OS page cache), SQLite reading
//! through memory-mapped I/O (`mmap_size`). LMDB keeps its defaults: `MDB_WRITEMAP` makes its bulk
//! load and removals 13–24 % faster but a durable single commit 6× slower here, and
//! one configuration serves every row (`fair.rs` measures both).

use std::path::Path;

use crate::util::{consume, disk_bytes, Data, Key, Phase, Rng, Val, KEY, VAL};

/// Page cache of redb and SQLite: 4 GiB, what redb's own benchmark gives every engine,
/// so that even `--big` fits (pmem and LMDB use the OS page cache, unbounded).
pub const CACHE_BYTES: usize = 4 << 30;

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
/// Keys and values come pre-generated.
pub trait Kv {
    /// Inserts `entries` in one transaction.
    fn insert(&mut self, entries: &[(Key, Val)]);
    /// Looks up every key, in one read transaction; answers a checksum.
    fn get_many(&mut self, keys: &[Key]) -> u64;
    /// A range read of 10 entries from each key (all present), in one read transaction;
    /// answers a checksum and the number of entries seen.
    fn ranges(&mut self, keys: &[Key]) -> (u64, u64);
    /// Removes every key (all present) in one transaction.
    fn remove(&mut self, keys: &[Key]);
    /// Flushes buffers that hold nothing durable-relevant and closes (so sizes settle).
    fn close(self: Box<Self>);
}

/// What a read does with a value: its first byte, for every engine alike.
#[inline]
pub fn use_value(v: &[u8]) -> u64 {
    u64::from(v[0])
}

/// Bytes of a slice, for [`Phase::start_with_input`].
fn bytes<T>(v: &[T]) -> usize {
    std::mem::size_of_val(v)
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

    let input = data.entries(0, n);
    let ph = Phase::start_with_input("w1.bulk_load", n, bytes(&input));
    kv.insert(&input);
    ph.end(files);
    drop(input);

    let mut next = n;
    let input = data.entries(next, next + plan.individual);
    let ph = Phase::start_with_input("w1.individual_commits", plan.individual, bytes(&input));
    for e in input.chunks(1) {
        kv.insert(e);
    }
    ph.end(files);
    next += plan.individual;

    let input = data.entries(next, next + plan.batches * plan.batch_size);
    let ph = Phase::start_with_input("w1.batch_commits", plan.batches * plan.batch_size, bytes(&input));
    for batch in input.chunks(plan.batch_size.max(1) as usize) {
        kv.insert(batch);
    }
    ph.end(files);
    drop(input);

    let mut rng = Rng::new(plan.seed ^ 0x5eed);
    let keys = data.keys((0..plan.reads).map(|_| rng.below(n)));
    let ph = Phase::start_with_input("w1.random_reads", plan.reads, bytes(&keys));
    let found = kv.get_many(&keys);
    ph.end(files);
    consume(found);

    let keys = data.keys((0..plan.ranges).map(|_| rng.below(n)));
    let ph = Phase::start_with_input("w1.range_reads", plan.ranges, bytes(&keys));
    let (sum, seen) = kv.ranges(&keys);
    ph.end(files);
    consume(sum);
    assert!(seen >= plan.ranges * 9, "{engine}: range reads saw {seen} entries for {} ranges", plan.ranges);

    let keys = data.keys(0..n / 2);
    let ph = Phase::start_with_input("w1.remove_half", n / 2, bytes(&keys));
    kv.remove(&keys);
    ph.end(files);
    drop(keys);

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
        kv.insert(&data.entries(0, plan.n));
        kvs.push((e, kv));
    }
    let mut floor = crate::floor::Floor::new(dir, plan.individual);
    let mut falloc = crate::floor::Floor::fallocated(dir, plan.individual);
    let mut ns = vec![0u128; kvs.len() + 2];
    for r in 0..plan.individual {
        let i = plan.n + r;
        let entry = [(data.key(i), data.value(i))];
        for (k, (_, kv)) in kvs.iter_mut().enumerate() {
            let t = Instant::now();
            kv.insert(&entry);
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

/// Opens (creates) a redb database with a [`CACHE_BYTES`] cache.
pub fn redb_create(path: &Path) -> redb::Database {
    redb::Database::builder().set_cache_size(CACHE_BYTES).create(path).expect("redb create")
}

impl RedbKv {
    fn open(dir: &Path) -> Self {
        RedbKv(redb_create(&dir.join("redb.db")))
    }
}

impl Kv for RedbKv {
    fn insert(&mut self, entries: &[(Key, Val)]) {
        let tx = self.0.begin_write().unwrap(); // Durability::Immediate is the default
        {
            let mut t = tx.open_table(REDB_T).unwrap();
            for (k, v) in entries {
                t.insert(&k[..], &v[..]).unwrap();
            }
        }
        tx.commit().unwrap();
    }
    fn get_many(&mut self, keys: &[Key]) -> u64 {
        use redb::ReadableDatabase;
        let tx = self.0.begin_read().unwrap();
        let t = tx.open_table(REDB_T).unwrap();
        let mut s = 0;
        for k in keys {
            s += use_value(t.get(&k[..]).unwrap().expect("present").value());
        }
        s
    }
    fn ranges(&mut self, keys: &[Key]) -> (u64, u64) {
        use redb::ReadableDatabase;
        let tx = self.0.begin_read().unwrap();
        let t = tx.open_table(REDB_T).unwrap();
        let (mut s, mut seen) = (0, 0);
        for k in keys {
            for e in t.range::<&[u8]>(&k[..]..).unwrap().take(10) {
                let (_k, v) = e.unwrap();
                s += use_value(v.value());
                seen += 1;
            }
        }
        (s, seen)
    }
    fn remove(&mut self, keys: &[Key]) {
        let tx = self.0.begin_write().unwrap();
        {
            let mut t = tx.open_table(REDB_T).unwrap();
            for k in keys {
                t.remove(&k[..]).unwrap().expect("present");
            }
        }
        tx.commit().unwrap();
    }
    fn close(self: Box<Self>) {}
}

// ---------------------------------------------------------------- SQLite

struct SqliteKv(rusqlite::Connection);

/// Opens SQLite with `synchronous=` `sync`, rollback journal (`wal == false`, SQLite's
/// default `DELETE` mode) or WAL, a [`CACHE_BYTES`] page cache and memory-mapped I/O
/// (`mmap_size` [`CACHE_BYTES`], which SQLite caps at its compiled maximum of 2 GiB:
/// reads come straight from the mapping, −20 % per point read here, see `fair.rs`).
pub fn sqlite_open(path: &Path, wal: bool, sync: &str) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(path).expect("sqlite open");
    if wal {
        let mode: String = c.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).unwrap();
        assert_eq!(mode.to_lowercase(), "wal");
    }
    c.execute_batch(&format!(
        "PRAGMA synchronous={sync}; PRAGMA cache_size=-{}; PRAGMA mmap_size={CACHE_BYTES};",
        CACHE_BYTES / 1024
    ))
    .unwrap();
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
    fn insert(&mut self, entries: &[(Key, Val)]) {
        let tx = self.0.transaction().unwrap();
        {
            let mut st = tx.prepare_cached("INSERT INTO kv (k, v) VALUES (?1, ?2)").unwrap();
            for (k, v) in entries {
                st.execute((&k[..], &v[..])).unwrap();
            }
        }
        tx.commit().unwrap();
    }
    fn get_many(&mut self, keys: &[Key]) -> u64 {
        let tx = self.0.transaction().unwrap();
        let mut s = 0;
        {
            let mut st = tx.prepare_cached("SELECT v FROM kv WHERE k = ?1").unwrap();
            for k in keys {
                s += st.query_row([&k[..]], |r| Ok(use_value(r.get_ref(0)?.as_blob()?))).unwrap();
            }
        }
        tx.commit().unwrap();
        s
    }
    fn ranges(&mut self, keys: &[Key]) -> (u64, u64) {
        let tx = self.0.transaction().unwrap();
        let (mut s, mut seen) = (0, 0);
        {
            let mut st = tx.prepare_cached("SELECT v FROM kv WHERE k >= ?1 ORDER BY k LIMIT 10").unwrap();
            for k in keys {
                let mut rows = st.query([&k[..]]).unwrap();
                while let Some(r) = rows.next().unwrap() {
                    s += use_value(r.get_ref(0).unwrap().as_blob().unwrap());
                    seen += 1;
                }
            }
        }
        tx.commit().unwrap();
        (s, seen)
    }
    fn remove(&mut self, keys: &[Key]) {
        let tx = self.0.transaction().unwrap();
        {
            let mut st = tx.prepare_cached("DELETE FROM kv WHERE k = ?1").unwrap();
            for k in keys {
                assert_eq!(st.execute([&k[..]]).unwrap(), 1);
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
    fn insert(&mut self, entries: &[(Key, Val)]) {
        let mut tx = self.env.write_txn().unwrap();
        for (k, v) in entries {
            self.db.put(&mut tx, k, v).unwrap();
        }
        tx.commit().unwrap();
    }
    fn get_many(&mut self, keys: &[Key]) -> u64 {
        let tx = self.env.read_txn().unwrap();
        let mut s = 0;
        for k in keys {
            s += use_value(self.db.get(&tx, k).unwrap().expect("present"));
        }
        s
    }
    fn ranges(&mut self, keys: &[Key]) -> (u64, u64) {
        let tx = self.env.read_txn().unwrap();
        let (mut s, mut seen) = (0, 0);
        for k in keys {
            let r = (std::ops::Bound::Included(&k[..]), std::ops::Bound::Unbounded);
            for e in self.db.range(&tx, &r).unwrap().take(10) {
                s += use_value(e.unwrap().1);
                seen += 1;
            }
        }
        (s, seen)
    }
    fn remove(&mut self, keys: &[Key]) {
        let mut tx = self.env.write_txn().unwrap();
        for k in keys {
            assert!(self.db.delete(&mut tx, k).unwrap());
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
    fn insert(&mut self, entries: &[(Key, Val)]) {
        for (k, v) in entries {
            self.0.insert(*k, *v);
        }
    }
    fn get_many(&mut self, keys: &[Key]) -> u64 {
        keys.iter().map(|k| use_value(&self.0[k])).sum()
    }
    fn ranges(&mut self, keys: &[Key]) -> (u64, u64) {
        let (mut s, mut seen) = (0, 0);
        for k in keys {
            for (_, v) in self.0.range::<Key, _>(k..).take(10) {
                s += use_value(v);
                seen += 1;
            }
        }
        (s, seen)
    }
    fn remove(&mut self, keys: &[Key]) {
        for k in keys {
            self.0.remove(k).expect("present");
        }
    }
    fn close(self: Box<Self>) {}
}

const _: () = assert!(KEY == 24 && VAL == 150);
