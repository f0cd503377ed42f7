//! Workload 2: persistent objects, one small transaction at a time, in `Full` and in
//! `Process` durability.
//!
//! - `update3`: update 3 fields (`a += 1`, `b = x`, `c = y`) of a random record among
//!   100,000 64-byte records.
//! - `alloc_link`: allocate a 56-byte node and link it at the head of a list.
//! - `hash_insert`: one `u64 → u64` insert of a new key per transaction into a map
//!   pre-filled with 100,000 entries.
//! - `hash_lookup`: lookups of present keys (one read transaction for the batch), in
//!   the map of exactly 100,000 entries, before the inserts.
//!
//! Peers do the natural equivalent: a read-modify-write of the record's row/value, an
//! insert of the node row plus an update of the head row, an insert of one row. Their
//! durability per class is in [`Dur`].

use std::collections::HashMap;
use std::path::Path;

use redb::ReadableTable as _;

use crate::util::{consume, fresh_dir, Phase, Rng};

/// Durability class of a run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dur {
    /// Survives power loss: pmem `Full`, redb `Immediate`, SQLite `synchronous=FULL`,
    /// LMDB default (sync).
    Full,
    /// Survives a process crash, not an OS crash: pmem `Process`, SQLite
    /// `synchronous=OFF`, LMDB `NO_SYNC`. redb has no such level: its `None` loses the
    /// commits since the last durable one even on a process crash (weaker); shown anyway.
    Process,
}

impl Dur {
    pub fn name(self) -> &'static str {
        match self {
            Dur::Full => "full",
            Dur::Process => "process",
        }
    }
    pub fn parse(s: &str) -> Self {
        match s {
            "full" => Dur::Full,
            "process" => Dur::Process,
            _ => panic!("durability must be full or process, not {s}"),
        }
    }
}

/// Sizes of one workload-2 run of one engine.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub records: u64,
    /// Transactions per repetition.
    pub ops: u64,
    pub reps: u32,
    pub prefill: u64,
    pub lookups: u64,
    pub seed: u64,
    /// Time cap of one repetition's loop: a slow engine stops early and its time per op
    /// is computed over the transactions it did (at least 64).
    pub max_secs: f64,
}

/// Runs `op` up to `n` times or until `cap` seconds have passed (checked every 8
/// operations for the first 64, then every 64, so fast loops pay nothing measurable);
/// answers the count.
fn capped(ph: &Phase, n: u64, cap: f64, mut op: impl FnMut()) -> u64 {
    let mut done = 0;
    while done < n {
        op();
        done += 1;
        let check = if done < 64 { done % 8 == 0 } else { done % 64 == 0 };
        if check && ph.elapsed_secs() > cap {
            break;
        }
    }
    done
}

pub const NODE_PAYLOAD: usize = 40;

/// Key `i` of the hash workload (distinct for distinct `i`: splitmix is a bijection).
pub fn hkey(seed: u64, i: u64) -> u64 {
    let mut r = Rng::new(seed.wrapping_add(i.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
    r.next_u64()
}

/// One engine's implementation of workload 2.
pub trait Objects {
    fn setup_records(&mut self, n: u64);
    fn update3(&mut self, i: u64, b: u64, c: u64);
    fn push_node(&mut self, id: u64, value: u64);
    fn setup_hash(&mut self, keys: &mut dyn Iterator<Item = (u64, u64)>);
    fn hash_insert(&mut self, k: u64, v: u64);
    /// Looks up every key, in one read transaction; answers the sum of the values.
    fn hash_lookups(&mut self, keys: &[u64]) -> u64;
}

pub fn run(engine: &str, dur: Dur, dir: &Path, plan: Plan, groups: &[String]) {
    let want = |g: &str| groups.iter().any(|x| x == g);
    // pmem's Full rows are compared with the fdatasync floor measured just before each
    // of their repetitions (fdatasync latency on a shared machine drifts within minutes).
    let floor = |n: u64| {
        if engine == "pmem" && dur == Dur::Full {
            crate::floor::preallocated(dir, n.min(200), "floor.w2.fdatasync");
        }
    };
    let d = dur.name();
    let files = |sub: &str| (engine != "std").then(|| dir.join(sub));
    let mut rng = Rng::new(plan.seed ^ 0x0b1e_c75);

    if want("update3") {
        for variant in update_variants(engine) {
            // One directory per variant, so each row's disk usage is its own.
            let name = format!("update3-{variant}");
            let sub = dir.join(&name);
            fresh_dir(&sub);
            let Some(mut o) = open(engine, variant, dur, &sub) else {
                println!("pending {engine} {variant}");
                continue;
            };
            o.setup_records(plan.records);
            let row = if engine == "pmem" { format!("w2.update3_{variant}.{d}") } else { format!("w2.update3.{d}") };
            for _ in 0..plan.reps {
                floor(plan.ops);
                let ph = Phase::start(&row, plan.ops);
                let done = capped(&ph, plan.ops, plan.max_secs, || {
                    let i = rng.below(plan.records);
                    o.update3(i, rng.next_u64(), rng.next_u64());
                });
                ph.end_after(done, files(&name).as_deref());
            }
        }
    }
    if want("alloc_link") {
        let sub = dir.join("alloc_link");
        fresh_dir(&sub);
        if let Some(mut o) = open(engine, "hand", dur, &sub) {
            let mut id = 1;
            for _ in 0..plan.reps {
                floor(plan.ops);
                let ph = Phase::start(&format!("w2.alloc_link.{d}"), plan.ops);
                let done = capped(&ph, plan.ops, plan.max_secs, || {
                    o.push_node(id, rng.next_u64());
                    id += 1;
                });
                ph.end_after(done, files("alloc_link").as_deref());
            }
        }
    }
    if want("hash") {
        let sub = dir.join("hash");
        fresh_dir(&sub);
        let Some(mut o) = open(engine, "hash", dur, &sub) else {
            println!("pending {engine} hash");
            return;
        };
        let seed = plan.seed;
        o.setup_hash(&mut (0..plan.prefill).map(|i| (hkey(seed, i), i)));
        // Lookups first, so that every engine's map holds exactly `prefill` entries
        // (the insert loops below are time-capped, so slow engines insert fewer).
        for _ in 0..plan.reps {
            // Keys are drawn before the phase so that the timed loop is lookups only.
            let keys: Vec<u64> = (0..plan.lookups).map(|_| hkey(seed, rng.below(plan.prefill))).collect();
            let ph = Phase::start(&format!("w2.hash_lookup.{d}"), plan.lookups);
            let s = o.hash_lookups(&keys);
            ph.end(files("hash").as_deref());
            consume(s);
        }
        let mut next = plan.prefill;
        for _ in 0..plan.reps {
            floor(plan.ops);
            let ph = Phase::start(&format!("w2.hash_insert.{d}"), plan.ops);
            let done = capped(&ph, plan.ops, plan.max_secs, || {
                o.hash_insert(hkey(seed, next), next);
                next += 1;
            });
            ph.end_after(done, files("hash").as_deref());
        }
    }
}

fn update_variants(engine: &str) -> &'static [&'static str] {
    if engine == "pmem" {
        &["hand", "derive"]
    } else {
        &["hand"]
    }
}

fn open(engine: &str, variant: &str, dur: Dur, dir: &Path) -> Option<Box<dyn Objects>> {
    Some(match engine {
        "pmem" => return crate::w2_pmem::open(variant, dur, dir),
        "redb" => Box::new(RedbObj::open(dir, dur)),
        "sqlite" => Box::new(SqliteObj::open(dir, false, dur)),
        "sqlite-wal" => Box::new(SqliteObj::open(dir, true, dur)),
        "lmdb" => Box::new(LmdbObj::open(dir, dur)),
        "std" => Box::new(StdObj::default()),
        _ => panic!("unknown engine {engine}"),
    })
}

fn record_bytes(i: u64) -> [u8; 64] {
    let mut r = [0u8; 64];
    r[24..32].copy_from_slice(&i.to_le_bytes());
    r
}

fn update_record(r: &mut [u8], b: u64, c: u64) {
    let a = u64::from_le_bytes(r[0..8].try_into().unwrap()) + 1;
    r[0..8].copy_from_slice(&a.to_le_bytes());
    r[8..16].copy_from_slice(&b.to_le_bytes());
    r[16..24].copy_from_slice(&c.to_le_bytes());
}

fn node_bytes(value: u64, next: u64) -> [u8; 56] {
    let mut n = [0u8; 56];
    n[0..8].copy_from_slice(&value.to_le_bytes());
    n[48..56].copy_from_slice(&next.to_le_bytes());
    n
}

// ---------------------------------------------------------------- redb

const R_REC: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("records");
const R_NODE: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("nodes");
const R_HASH: redb::TableDefinition<u64, u64> = redb::TableDefinition::new("hash");

struct RedbObj {
    db: redb::Database,
    dur: redb::Durability,
}

impl RedbObj {
    fn open(dir: &Path, dur: Dur) -> Self {
        let db = crate::w1::redb_create(&dir.join("redb.db"));
        let dur = match dur {
            Dur::Full => redb::Durability::Immediate,
            Dur::Process => redb::Durability::None,
        };
        RedbObj { db, dur }
    }
    fn write(&self) -> redb::WriteTransaction {
        let mut tx = self.db.begin_write().unwrap();
        tx.set_durability(self.dur).unwrap();
        tx
    }
}

impl Objects for RedbObj {
    fn setup_records(&mut self, n: u64) {
        let tx = self.db.begin_write().unwrap();
        {
            let mut t = tx.open_table(R_REC).unwrap();
            for i in 0..n {
                t.insert(i, &record_bytes(i)[..]).unwrap();
            }
        }
        tx.commit().unwrap();
    }
    fn update3(&mut self, i: u64, b: u64, c: u64) {
        let tx = self.write();
        {
            let mut t = tx.open_table(R_REC).unwrap();
            let mut r: [u8; 64] = t.get(i).unwrap().expect("present").value().try_into().unwrap();
            update_record(&mut r, b, c);
            t.insert(i, &r[..]).unwrap();
        }
        tx.commit().unwrap();
    }
    fn push_node(&mut self, id: u64, value: u64) {
        let tx = self.write();
        {
            let mut t = tx.open_table(R_NODE).unwrap();
            let head = t.get(0).unwrap().map_or(0, |g| u64::from_le_bytes(g.value().try_into().unwrap()));
            t.insert(id, &node_bytes(value, head)[..]).unwrap();
            t.insert(0, &id.to_le_bytes()[..]).unwrap();
        }
        tx.commit().unwrap();
    }
    fn setup_hash(&mut self, keys: &mut dyn Iterator<Item = (u64, u64)>) {
        let tx = self.db.begin_write().unwrap();
        {
            let mut t = tx.open_table(R_HASH).unwrap();
            for (k, v) in keys {
                t.insert(k, v).unwrap();
            }
        }
        tx.commit().unwrap();
    }
    fn hash_insert(&mut self, k: u64, v: u64) {
        let tx = self.write();
        tx.open_table(R_HASH).unwrap().insert(k, v).unwrap();
        tx.commit().unwrap();
    }
    fn hash_lookups(&mut self, keys: &[u64]) -> u64 {
        use redb::ReadableDatabase;
        let tx = self.db.begin_read().unwrap();
        let t = tx.open_table(R_HASH).unwrap();
        keys.iter().map(|&k| t.get(k).unwrap().expect("present").value()).fold(0, u64::wrapping_add)
    }
}

// ---------------------------------------------------------------- SQLite

struct SqliteObj(rusqlite::Connection);

impl SqliteObj {
    fn open(dir: &Path, wal: bool, dur: Dur) -> Self {
        let sync = match dur {
            Dur::Full => "FULL",
            Dur::Process => "OFF",
        };
        let c = crate::w1::sqlite_open(&dir.join("sqlite.db"), wal, sync);
        c.execute_batch(
            "CREATE TABLE IF NOT EXISTS records (id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b INTEGER NOT NULL, c INTEGER NOT NULL, payload BLOB NOT NULL);
             CREATE TABLE IF NOT EXISTS nodes (id INTEGER PRIMARY KEY, value INTEGER NOT NULL, payload BLOB NOT NULL, next INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS head (k INTEGER PRIMARY KEY, v INTEGER NOT NULL);
             INSERT OR IGNORE INTO head VALUES (0, 0);
             CREATE TABLE IF NOT EXISTS hash (k INTEGER PRIMARY KEY, v INTEGER NOT NULL);",
        )
        .unwrap();
        SqliteObj(c)
    }
}

impl Objects for SqliteObj {
    fn setup_records(&mut self, n: u64) {
        let tx = self.0.transaction().unwrap();
        {
            let mut st = tx.prepare("INSERT INTO records VALUES (?1, 0, 0, 0, ?2)").unwrap();
            for i in 0..n {
                st.execute((i as i64, &[0u8; 40][..])).unwrap();
            }
        }
        tx.commit().unwrap();
    }
    fn update3(&mut self, i: u64, b: u64, c: u64) {
        // One statement in autocommit mode is one transaction.
        let mut st = self.0.prepare_cached("UPDATE records SET a = a + 1, b = ?2, c = ?3 WHERE id = ?1").unwrap();
        assert_eq!(st.execute((i as i64, b as i64, c as i64)).unwrap(), 1);
    }
    fn push_node(&mut self, id: u64, value: u64) {
        let tx = self.0.transaction().unwrap();
        {
            let head: i64 = tx.prepare_cached("SELECT v FROM head WHERE k = 0").unwrap().query_row([], |r| r.get(0)).unwrap();
            tx.prepare_cached("INSERT INTO nodes VALUES (?1, ?2, ?3, ?4)")
                .unwrap()
                .execute((id as i64, value as i64, &[0u8; NODE_PAYLOAD][..], head))
                .unwrap();
            tx.prepare_cached("UPDATE head SET v = ?1 WHERE k = 0").unwrap().execute([id as i64]).unwrap();
        }
        tx.commit().unwrap();
    }
    fn setup_hash(&mut self, keys: &mut dyn Iterator<Item = (u64, u64)>) {
        let tx = self.0.transaction().unwrap();
        {
            let mut st = tx.prepare("INSERT INTO hash VALUES (?1, ?2)").unwrap();
            for (k, v) in keys {
                st.execute((k as i64, v as i64)).unwrap();
            }
        }
        tx.commit().unwrap();
    }
    fn hash_insert(&mut self, k: u64, v: u64) {
        let mut st = self.0.prepare_cached("INSERT INTO hash VALUES (?1, ?2)").unwrap();
        st.execute((k as i64, v as i64)).unwrap();
    }
    fn hash_lookups(&mut self, keys: &[u64]) -> u64 {
        let tx = self.0.transaction().unwrap();
        let mut s = 0u64;
        {
            let mut st = tx.prepare_cached("SELECT v FROM hash WHERE k = ?1").unwrap();
            for &k in keys {
                s = s.wrapping_add(st.query_row([k as i64], |r| r.get::<_, i64>(0)).unwrap() as u64);
            }
        }
        tx.commit().unwrap();
        s
    }
}

// ---------------------------------------------------------------- LMDB

type BeU64 = heed::types::U64<heed::byteorder::BE>;

struct LmdbObj {
    env: &'static heed::Env,
    rec: heed::Database<'static, BeU64, heed::types::Bytes>,
    node: heed::Database<'static, BeU64, heed::types::Bytes>,
    hash: heed::Database<'static, BeU64, BeU64>,
}

impl LmdbObj {
    fn open(dir: &Path, dur: Dur) -> Self {
        let flags = match dur {
            Dur::Full => heed::EnvFlags::empty(),
            Dur::Process => heed::EnvFlags::NO_SYNC,
        };
        let env = crate::w1::lmdb_open(dir, flags);
        let rec = crate::w1::lmdb_db(&env, "records");
        let node = crate::w1::lmdb_db(&env, "nodes");
        let hash = crate::w1::lmdb_db(&env, "hash");
        LmdbObj { env, rec, node, hash }
    }
}

impl Objects for LmdbObj {
    fn setup_records(&mut self, n: u64) {
        let mut tx = self.env.write_txn().unwrap();
        for i in 0..n {
            self.rec.put(&mut tx, &i, &record_bytes(i)).unwrap();
        }
        tx.commit().unwrap();
    }
    fn update3(&mut self, i: u64, b: u64, c: u64) {
        let mut tx = self.env.write_txn().unwrap();
        let mut r: [u8; 64] = self.rec.get(&tx, &i).unwrap().expect("present").try_into().unwrap();
        update_record(&mut r, b, c);
        self.rec.put(&mut tx, &i, &r).unwrap();
        tx.commit().unwrap();
    }
    fn push_node(&mut self, id: u64, value: u64) {
        let mut tx = self.env.write_txn().unwrap();
        let head = self.node.get(&tx, &0).unwrap().map_or(0, |v| u64::from_le_bytes(v.try_into().unwrap()));
        self.node.put(&mut tx, &id, &node_bytes(value, head)).unwrap();
        self.node.put(&mut tx, &0, &id.to_le_bytes()).unwrap();
        tx.commit().unwrap();
    }
    fn setup_hash(&mut self, keys: &mut dyn Iterator<Item = (u64, u64)>) {
        let mut tx = self.env.write_txn().unwrap();
        for (k, v) in keys {
            self.hash.put(&mut tx, &k, &v).unwrap();
        }
        tx.commit().unwrap();
    }
    fn hash_insert(&mut self, k: u64, v: u64) {
        let mut tx = self.env.write_txn().unwrap();
        self.hash.put(&mut tx, &k, &v).unwrap();
        tx.commit().unwrap();
    }
    fn hash_lookups(&mut self, keys: &[u64]) -> u64 {
        let tx = self.env.read_txn().unwrap();
        keys.iter().map(|k| self.hash.get(&tx, k).unwrap().expect("present")).fold(0, u64::wrapping_add)
    }
}

// ---------------------------------------------------------------- std (in-memory limit)

struct StdNode {
    _value: u64,
    _payload: [u8; NODE_PAYLOAD],
    next: Option<Box<StdNode>>,
}

#[derive(Default)]
struct StdObj {
    records: Vec<[u64; 8]>,
    head: Option<Box<StdNode>>,
    hash: HashMap<u64, u64>,
}

impl Drop for StdObj {
    fn drop(&mut self) {
        // Iteratively, so a long list does not overflow the stack.
        let mut cur = self.head.take();
        while let Some(mut n) = cur {
            cur = n.next.take();
        }
    }
}

impl Objects for StdObj {
    fn setup_records(&mut self, n: u64) {
        self.records = (0..n).map(|i| [0, 0, 0, i, 0, 0, 0, 0]).collect();
    }
    fn update3(&mut self, i: u64, b: u64, c: u64) {
        let r = &mut self.records[i as usize];
        r[0] += 1;
        r[1] = b;
        r[2] = c;
    }
    fn push_node(&mut self, _id: u64, value: u64) {
        let next = self.head.take();
        self.head = Some(Box::new(StdNode { _value: value, _payload: [0; NODE_PAYLOAD], next }));
    }
    fn setup_hash(&mut self, keys: &mut dyn Iterator<Item = (u64, u64)>) {
        self.hash.extend(keys);
    }
    fn hash_insert(&mut self, k: u64, v: u64) {
        self.hash.insert(k, v);
    }
    fn hash_lookups(&mut self, keys: &[u64]) -> u64 {
        keys.iter().map(|k| self.hash[k]).fold(0, u64::wrapping_add)
    }
}
