//! Diagnostic (issue 13 item 5): what the harness's own choices cost each engine, in
//! one process so that the machine's drift cancels out. Not part of the tables:
//!
//! ```text
//! bench/target/release/pmem-bench --child fair ENGINE DIR n=1000000 m=200000 rounds=5
//! ```
//!
//! loads `n` workload-1 entries (pre-generated, untimed), then runs, `rounds` times,
//! each variant of a phase over `m` operations (the variants' order rotating from round
//! to round, so that none always runs first) and prints `fair PHASE VARIANT ns_per_op=…`
//! per round:
//!
//! - reads and ranges: keys generated inside the timed loop (`rng.below(n)` then
//!   `Data::key`, the old rule) or before it (`pre`), the same keys in the same order;
//!   and what a read does with the value: first and last byte (the old rule), first
//!   byte (the new rule, as redb's `lmdb_benchmark` and the independent harness do), or
//!   a sum of all 150 bytes;
//! - SQLite: the same point reads through a second connection with `mmap_size` 4 GiB;
//! - `gen key` / `gen entry`: generating a key (with its random index) or a 174-byte
//!   entry alone, which is what the old rule added to every timed operation;
//! - `bulk_load` (first), 500 durable single-insert commits (`commit1`) and
//!   `remove_half` (last), timed once, for comparing engine
//!   settings across runs: engines `lmdb+writemap` (`MDB_WRITEMAP`) and
//!   `lmdb+nordahead` (`MDB_NORDAHEAD`) besides the four of workload 1.

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use crate::util::{Data, Key, Rng, Val};

type Consume = fn(&[u8]) -> u64;

fn first_last(v: &[u8]) -> u64 {
    u64::from(v[0]) + u64::from(v[v.len() - 1])
}
fn first(v: &[u8]) -> u64 {
    u64::from(v[0])
}
fn all(v: &[u8]) -> u64 {
    v.iter().map(|&b| u64::from(b)).sum()
}

const CONSUME: [(&str, Consume); 3] = [("first+last", first_last), ("first", first), ("all150", all)];

/// Where a timed loop's keys come from.
enum Keys<'a> {
    /// Generated in the loop: a random index below `n`, then its key.
    Gen { data: &'a Data, rng: Rng, n: u64 },
    Pre(std::slice::Iter<'a, Key>),
}

impl Keys<'_> {
    #[inline]
    fn next(&mut self) -> Key {
        match self {
            Keys::Gen { data, rng, n } => data.key(rng.below(*n)),
            Keys::Pre(it) => *it.next().expect("enough keys"),
        }
    }
}

/// The loaded entries.
struct Entries<'a>(std::slice::Iter<'a, (Key, Val)>);

impl Entries<'_> {
    #[inline]
    fn next(&mut self) -> (Key, Val) {
        *self.0.next().expect("enough entries")
    }
}

/// One engine under test.
trait Engine {
    fn insert(&mut self, src: &mut Entries, m: u64);
    fn remove(&mut self, src: &mut Keys, m: u64);
    fn reads(&mut self, src: &mut Keys, m: u64, c: Consume) -> u64;
    fn ranges(&mut self, src: &mut Keys, m: u64, c: Consume) -> u64;
    /// Extra read variants of this engine (name, run).
    fn extra_reads(&mut self, _src: &mut Keys, _m: u64) -> Option<(&'static str, u64)> {
        None
    }
}

pub fn run(engine: &str, dir: &Path, n: u64, m: u64, rounds: u64) {
    let data = Data { seed: 3 };
    let mut e: Box<dyn Engine> = match engine {
        "pmem" => Box::new(Pmem::open(dir)),
        "redb" => Box::new(Redb(crate::w1::redb_create(&dir.join("redb.db")))),
        "lmdb" => Box::new(Lmdb::open(dir, heed::EnvFlags::empty())),
        "lmdb+writemap" => Box::new(Lmdb::open(dir, heed::EnvFlags::WRITE_MAP)),
        "lmdb+nordahead" => Box::new(Lmdb::open(dir, heed::EnvFlags::NO_READ_AHEAD)),
        "sqlite-wal" => Box::new(Sqlite::open(dir)),
        _ => panic!("fair: unknown engine {engine}"),
    };
    let out = |phase: &str, variant: &str, t: Instant, ops: u64| {
        println!("fair {phase} {variant} ns_per_op={:.1} engine={engine}", t.elapsed().as_nanos() as f64 / ops as f64);
    };
    let load = data.entries(0, n);
    let t = Instant::now();
    e.insert(&mut Entries(load.iter()), n);
    out("bulk_load", "pre", t, n);
    drop(load);
    let mut rng = Rng::new(0x5eed);
    for round in 0..rounds {
        for (phase, count) in [("reads", m), ("ranges", m / 2)] {
            let seed = rng.next_u64();
            let mut r = Rng::new(seed);
            let keys = data.keys((0..count).map(|_| r.below(n)));
            // Variant 0: keys generated in the loop, first + last byte (the old rules);
            // 1..=3: pre-generated keys with each consumption; 4: the engine's extra.
            let mut variants: Vec<usize> = (0..5).collect();
            variants.rotate_left(round as usize % 5);
            for v in variants {
                let t = Instant::now();
                let (name, s) = match v {
                    0 => {
                        let mut k = Keys::Gen { data: &data, rng: Rng::new(seed), n };
                        ("gen+first+last".to_string(), if phase == "reads" { e.reads(&mut k, count, first_last) } else { e.ranges(&mut k, count, first_last) })
                    }
                    1..=3 => {
                        let (cname, c) = CONSUME[v - 1];
                        let mut k = Keys::Pre(keys.iter());
                        (format!("pre+{cname}"), if phase == "reads" { e.reads(&mut k, count, c) } else { e.ranges(&mut k, count, c) })
                    }
                    _ => match (phase, e.extra_reads(&mut Keys::Pre(keys.iter()), count)) {
                        ("reads", Some((name, s))) => (name.to_string(), s),
                        _ => continue,
                    },
                };
                black_box(s);
                out(phase, &name, t, count);
            }
        }
        // What the old rule added to each operation: generating its key or entry.
        let mut r = Rng::new(round);
        let t = Instant::now();
        for _ in 0..m {
            black_box(data.key(r.below(n)));
        }
        out("gen", "key", t, m);
        let t = Instant::now();
        for i in 0..m {
            black_box((data.key(i), data.value(i)));
        }
        out("gen", "entry", t, m);
    }
    // Durable single-insert commits, to compare engine settings on small commits.
    let extra = data.entries(n, n + 500);
    let t = Instant::now();
    for one in extra.chunks(1) {
        e.insert(&mut Entries(one.iter()), 1);
    }
    out("commit1", "pre", t, 500);
    let keys = data.keys(0..n / 2);
    let t = Instant::now();
    e.remove(&mut Keys::Pre(keys.iter()), n / 2);
    out("remove_half", "pre", t, n / 2);
}

// ---------------------------------------------------------------- engines

struct Pmem(pmem::Pool<pmem::PBTreeMap<Key, Val>>);

impl Pmem {
    fn open(dir: &Path) -> Self {
        Pmem(pmem::PoolOptions::new().create(dir.join("fair.pool")).expect("create pool"))
    }
}

impl Engine for Pmem {
    fn insert(&mut self, src: &mut Entries, m: u64) {
        self.0
            .tx(|tx| {
                let map = tx.root_mut();
                for _ in 0..m {
                    let (k, v) = src.next();
                    map.set(k, v)?;
                }
                Ok::<_, pmem::Error>(())
            })
            .expect("insert");
    }
    fn remove(&mut self, src: &mut Keys, m: u64) {
        self.0
            .tx(|tx| {
                let map = tx.root_mut();
                for _ in 0..m {
                    assert!(map.remove_with(&src.next(), |_, _| ())?.is_some());
                }
                Ok::<_, pmem::Error>(())
            })
            .expect("remove");
    }
    fn reads(&mut self, src: &mut Keys, m: u64, c: Consume) -> u64 {
        self.0.read(|map| (0..m).map(|_| c(map.get(&src.next()).expect("present"))).sum()).expect("read")
    }
    fn ranges(&mut self, src: &mut Keys, m: u64, c: Consume) -> u64 {
        self.0
            .read(|map| {
                let mut s = 0;
                for _ in 0..m {
                    for (_, v) in map.range::<Key, _>(src.next()..).take(10) {
                        s += c(v);
                    }
                }
                s
            })
            .expect("read")
    }
}

const RT: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("kv");

struct Redb(redb::Database);

impl Engine for Redb {
    fn insert(&mut self, src: &mut Entries, m: u64) {
        let tx = self.0.begin_write().unwrap();
        {
            let mut t = tx.open_table(RT).unwrap();
            for _ in 0..m {
                let (k, v) = src.next();
                t.insert(&k[..], &v[..]).unwrap();
            }
        }
        tx.commit().unwrap();
    }
    fn remove(&mut self, src: &mut Keys, m: u64) {
        let tx = self.0.begin_write().unwrap();
        {
            let mut t = tx.open_table(RT).unwrap();
            for _ in 0..m {
                t.remove(&src.next()[..]).unwrap().expect("present");
            }
        }
        tx.commit().unwrap();
    }
    fn reads(&mut self, src: &mut Keys, m: u64, c: Consume) -> u64 {
        use redb::ReadableDatabase;
        let tx = self.0.begin_read().unwrap();
        let t = tx.open_table(RT).unwrap();
        (0..m).map(|_| c(t.get(&src.next()[..]).unwrap().expect("present").value())).sum()
    }
    fn ranges(&mut self, src: &mut Keys, m: u64, c: Consume) -> u64 {
        use redb::ReadableDatabase;
        let tx = self.0.begin_read().unwrap();
        let t = tx.open_table(RT).unwrap();
        let mut s = 0;
        for _ in 0..m {
            let k = src.next();
            for e in t.range::<&[u8]>(&k[..]..).unwrap().take(10) {
                s += c(e.unwrap().1.value());
            }
        }
        s
    }
}

struct Lmdb {
    env: &'static heed::Env,
    db: heed::Database<'static, heed::types::Bytes, heed::types::Bytes>,
}

impl Lmdb {
    fn open(dir: &Path, flags: heed::EnvFlags) -> Self {
        let env = crate::w1::lmdb_open(dir, flags);
        Lmdb { env, db: crate::w1::lmdb_db(env, "kv") }
    }
}

impl Engine for Lmdb {
    fn insert(&mut self, src: &mut Entries, m: u64) {
        let mut tx = self.env.write_txn().unwrap();
        for _ in 0..m {
            let (k, v) = src.next();
            self.db.put(&mut tx, &k, &v).unwrap();
        }
        tx.commit().unwrap();
    }
    fn remove(&mut self, src: &mut Keys, m: u64) {
        let mut tx = self.env.write_txn().unwrap();
        for _ in 0..m {
            assert!(self.db.delete(&mut tx, &src.next()).unwrap());
        }
        tx.commit().unwrap();
    }
    fn reads(&mut self, src: &mut Keys, m: u64, c: Consume) -> u64 {
        let tx = self.env.read_txn().unwrap();
        (0..m).map(|_| c(self.db.get(&tx, &src.next()).unwrap().expect("present"))).sum()
    }
    fn ranges(&mut self, src: &mut Keys, m: u64, c: Consume) -> u64 {
        let tx = self.env.read_txn().unwrap();
        let mut s = 0;
        for _ in 0..m {
            let k = src.next();
            let r = (std::ops::Bound::Included(&k[..]), std::ops::Bound::Unbounded);
            for e in self.db.range(&tx, &r).unwrap().take(10) {
                s += c(e.unwrap().1);
            }
        }
        s
    }
}

struct Sqlite {
    c: rusqlite::Connection,
    mmap: rusqlite::Connection,
}

impl Sqlite {
    fn open(dir: &Path) -> Self {
        let path = dir.join("sqlite.db");
        let c = crate::w1::sqlite_open(&path, true, "FULL");
        c.execute_batch("CREATE TABLE kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;").unwrap();
        // `sqlite_open` turns memory-mapped reads on; the first connection turns them off
        // again, so that both sides of the comparison are there.
        c.execute_batch("PRAGMA mmap_size=0;").unwrap();
        let mmap = crate::w1::sqlite_open(&path, true, "FULL");
        Sqlite { c, mmap }
    }
    fn reads_on(c: &mut rusqlite::Connection, src: &mut Keys, m: u64, f: Consume) -> u64 {
        let tx = c.transaction().unwrap();
        let mut s = 0;
        {
            let mut st = tx.prepare_cached("SELECT v FROM kv WHERE k = ?1").unwrap();
            for _ in 0..m {
                s += st.query_row([&src.next()[..]], |r| Ok(f(r.get_ref(0)?.as_blob()?))).unwrap();
            }
        }
        tx.commit().unwrap();
        s
    }
}

impl Engine for Sqlite {
    fn insert(&mut self, src: &mut Entries, m: u64) {
        let tx = self.c.transaction().unwrap();
        {
            let mut st = tx.prepare_cached("INSERT INTO kv (k, v) VALUES (?1, ?2)").unwrap();
            for _ in 0..m {
                let (k, v) = src.next();
                st.execute((&k[..], &v[..])).unwrap();
            }
        }
        tx.commit().unwrap();
    }
    fn remove(&mut self, src: &mut Keys, m: u64) {
        let tx = self.c.transaction().unwrap();
        {
            let mut st = tx.prepare_cached("DELETE FROM kv WHERE k = ?1").unwrap();
            for _ in 0..m {
                assert_eq!(st.execute([&src.next()[..]]).unwrap(), 1);
            }
        }
        tx.commit().unwrap();
    }
    fn reads(&mut self, src: &mut Keys, m: u64, c: Consume) -> u64 {
        Self::reads_on(&mut self.c, src, m, c)
    }
    fn ranges(&mut self, src: &mut Keys, m: u64, c: Consume) -> u64 {
        let tx = self.c.transaction().unwrap();
        let mut s = 0;
        {
            let mut st = tx.prepare_cached("SELECT v FROM kv WHERE k >= ?1 ORDER BY k LIMIT 10").unwrap();
            for _ in 0..m {
                let mut rows = st.query([&src.next()[..]]).unwrap();
                while let Some(r) = rows.next().unwrap() {
                    s += c(r.get_ref(0).unwrap().as_blob().unwrap());
                }
            }
        }
        tx.commit().unwrap();
        s
    }
    fn extra_reads(&mut self, src: &mut Keys, m: u64) -> Option<(&'static str, u64)> {
        Some(("pre+first+mmap_size", Self::reads_on(&mut self.mmap, src, m, first)))
    }
}
