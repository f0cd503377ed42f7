//! Workload 3 (issue 13): threads.
//!
//! Every engine holds one map of `keys` (100,000) `u64 → u64` entries: pmem a
//! `PBTreeMap<u64, u64>` as the pool's root, redb a table, SQLite-WAL a table with an
//! `INTEGER PRIMARY KEY`, LMDB a database of big-endian `u64`s. Each engine runs as its
//! users would run it from several threads: pmem a cloned `Pool` per thread, redb and
//! LMDB one shared database (their write transactions queue on its writer lock), SQLite
//! its own connection per thread (`synchronous=FULL`, a 60 s busy timeout: writers queue
//! on the WAL write lock through SQLite's busy handler).
//!
//! - `w3.durable_commits_threads.tN`: N = 1, 2, 4, 8 threads, each committing durable
//!   transactions that add 1 to the value of a random key (pmem `Full`, redb
//!   `Immediate`, SQLite `synchronous=FULL`, LMDB default sync) for a fixed time. Time
//!   per commit of all threads together (the inverse of commits/s), with the number of
//!   `fdatasync`/`fsync` calls in the window ([`crate::syncs`]).
//! - `w3.read_during_long_tx.{p50,p99,max}`: one thread holds a write transaction open
//!   for 100 ms (after changing one value), `cycles` times; another thread issues point
//!   reads on a fixed schedule, one every 200 µs of each window, and each read's
//!   latency counts from its scheduled start (so a read that waits delays the ones
//!   behind it, and they count it: no coordinated omission).
//! - `w3.reader_alone`, `w3.two_readers_alone`, `w3.writer_alone`, and
//!   `w3.readers_while_writing` + `w3.writer_with_readers` (2 readers and 1 writer at
//!   once): point reads (one read transaction each) and durable commits, each for a
//!   fixed time.
//!
//! One child per repetition runs every engine, and every measurement is cut into short
//! slices taken in turn: for each thread count, slice 1 of every engine, then slice 2...
//! (the reader/writer phases likewise), and the engines' order rotates with the
//! repetition. fdatasync latency on this machine switches between regimes (≈ 150 µs,
//! ≈ 4 ms) that last about a second; 50 ms slices make every engine see the same
//! moments of the disk. The fdatasync floor
//! (`floor.w3.fdatasync`: one thread, 512-byte pwrite + fdatasync into a written file)
//! takes its turn in the commit slices like an engine.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use redb::{ReadableDatabase as _, ReadableTable as _};

use crate::util::{consume, fresh_dir, Rng};

/// The engines of workload 3, in table order.
pub const ENGINES: &[&str] = &["pmem", "redb", "sqlite-wal", "lmdb"];
/// Thread counts of `w3.durable_commits_threads`.
pub const THREADS: &[usize] = &[1, 2, 4, 8];
/// How long the long transaction stays open.
const HOLD: Duration = Duration::from_millis(100);
/// Schedule of the reads during the long transaction.
const SPACING: Duration = Duration::from_micros(200);
/// Pause between two long transactions.
const GAP: Duration = Duration::from_millis(20);

/// Sizes of one workload-3 child.
#[derive(Clone, Debug)]
pub struct Plan {
    pub keys: u64,
    /// Seconds per (engine, thread count) of the commit rows, and per (engine, phase) of
    /// the reader/writer rows, each cut into `slices` turns.
    pub secs: f64,
    pub slices: u64,
    /// Long transactions per engine.
    pub cycles: u64,
    pub seed: u64,
    /// Repetition number: rotates the engines' order.
    pub rep: u64,
    pub commits: bool,
    pub readers: bool,
    /// Diagnostic: only these engines (`--child w3 ... engines=pmem,redb`).
    pub only: Option<Vec<String>>,
}

/// An engine opened on its data set.
trait Engine: Sync {
    /// A handle for one thread. Handles are opened once and kept across slices, as an
    /// application keeps its connections (a SQLite connection's page cache is its own).
    fn handle(&self) -> Box<dyn Handle + Send + '_>;
}

/// Handles kept per engine: enough for the most threads a measurement uses.
const HANDLES: usize = 8;

trait Handle {
    /// One durable transaction: the value of `k` += 1.
    fn commit(&mut self, k: u64);
    /// One point read, in its own read transaction.
    fn read(&mut self, k: u64) -> u64;
    /// A write transaction that adds 1 to the value of `k`, then calls `hold` (which
    /// returns after the hold), then commits.
    fn long_tx(&mut self, k: u64, hold: &mut dyn FnMut());
}

pub fn run(dir: &Path, plan: &Plan) {
    let mut engines: Vec<(&str, Box<dyn Engine>)> = ENGINES
        .iter()
        .filter(|e| plan.only.as_ref().is_none_or(|o| o.iter().any(|x| x == *e)))
        .map(|&e| {
            let d = dir.join(e);
            fresh_dir(&d);
            (e, open(e, &d, plan.keys))
        })
        .collect();
    engines.push(("floor", Box::new(FloorEng::new(dir))));
    let turn = plan.rep as usize % engines.len();
    engines.rotate_left(turn);
    let mut handles: Vec<(&str, Vec<Box<dyn Handle + Send + '_>>)> =
        engines.iter().map(|(e, eng)| (*e, (0..HANDLES).map(|_| eng.handle()).collect())).collect();
    let slice = plan.secs / plan.slices as f64;
    let (k, seed) = (plan.keys, plan.seed);
    if plan.commits {
        for &n in THREADS {
            let mut acc = Acc::default();
            for _ in 0..plan.slices {
                for (e, hs) in &mut handles {
                    // The floor is one thread of fdatasyncs whatever the row's N.
                    let roles = vec![Role::Commit; if *e == "floor" { 1 } else { n }];
                    acc.add(e, run_threads(hs, &roles, slice, k, seed), |ops| ops.iter().sum());
                }
            }
            for (e, a) in acc.0 {
                let line = format!("ns={:.0} ops={} hwm_kib=0 syncs={} sync_ns={} engine={e}", a.ns, a.ops, a.syncs, a.sync_ns);
                if e == "floor" {
                    // The run's floor, and the floor of this thread count's slices.
                    println!("phase floor.w3.fdatasync {line}");
                    println!("phase floor.w3.t{n} {line}");
                } else {
                    println!("phase w3.durable_commits_threads.t{n} {line}");
                }
            }
        }
    }
    if plan.readers {
        handles.retain(|(e, _)| *e != "floor");
        for (e, hs) in &mut handles {
            let mut lat = long_tx_reads(hs, plan.cycles, plan.keys, plan.seed);
            lat.sort_unstable();
            let q = |p: usize| lat[(lat.len() * p / 100).min(lat.len() - 1)];
            for (name, v) in [("p50", q(50)), ("p99", q(99)), ("max", *lat.last().unwrap())] {
                println!("phase w3.read_during_long_tx.{name} ns={v} ops=1 hwm_kib=0 reads={} engine={e}", lat.len());
            }
        }
        let (mut one, mut two, mut w, mut mix_w, mut mix_r) = (Acc::default(), Acc::default(), Acc::default(), Acc::default(), Acc::default());
        for _ in 0..plan.slices {
            for (e, hs) in &mut handles {
                one.add(e, run_threads(hs, &[Role::Read], slice, k, seed), |ops| ops[0]);
                two.add(e, run_threads(hs, &[Role::Read, Role::Read], slice, k, seed), |ops| ops[0] + ops[1]);
                w.add(e, run_threads(hs, &[Role::Commit], slice, k, seed), |ops| ops[0]);
                let mix = run_threads(hs, &[Role::Commit, Role::Read, Role::Read], slice, k, seed);
                mix_r.add(e, Run { ops: mix.ops.clone(), ns: mix.ns, syncs: 0, sync_ns: 0 }, |ops| ops[1] + ops[2]);
                mix_w.add(e, mix, |ops| ops[0]);
            }
        }
        for (phase, acc) in [
            ("w3.reader_alone", one),
            ("w3.two_readers_alone", two),
            ("w3.writer_alone", w),
            ("w3.writer_with_readers", mix_w),
            ("w3.readers_while_writing", mix_r),
        ] {
            for (e, a) in acc.0 {
                println!("phase {phase} ns={:.0} ops={} hwm_kib=0 syncs={} sync_ns={} engine={e}", a.ns, a.ops, a.syncs, a.sync_ns);
            }
        }
    }
}

/// Sums of the slices of one measurement, per engine (in first-seen order).
#[derive(Default)]
struct Acc(Vec<(String, Sum)>);

#[derive(Default, Clone, Copy)]
struct Sum {
    ns: f64,
    ops: u64,
    syncs: u64,
    sync_ns: u64,
}

impl Acc {
    /// Adds one slice; `count` picks the operations that count from the per-thread ones.
    fn add(&mut self, e: &str, r: Run, count: impl Fn(&[u64]) -> u64) {
        let i = match self.0.iter().position(|(x, _)| x == e) {
            Some(i) => i,
            None => {
                self.0.push((e.to_string(), Sum::default()));
                self.0.len() - 1
            }
        };
        let s = &mut self.0[i].1;
        s.ns += r.ns;
        s.ops += count(&r.ops);
        s.syncs += r.syncs;
        s.sync_ns += r.sync_ns;
    }
}

#[derive(Clone, Copy)]
enum Role {
    Commit,
    Read,
}

struct Run {
    /// Operations per thread.
    ops: Vec<u64>,
    /// From the start signal to the last thread's last operation.
    ns: f64,
    /// fdatasync + fsync calls in that window, and the time spent in them.
    syncs: u64,
    sync_ns: u64,
}

/// Runs one thread per role, each repeating its operation on random keys from a common
/// start until `secs` have passed. Committing threads take handles from the front,
/// reading threads from the back, so readers and writers keep their own connections
/// from one slice to the next, as an application's would.
fn run_threads(handles: &mut [Box<dyn Handle + Send + '_>], roles: &[Role], secs: f64, keys: u64, seed: u64) -> Run {
    // Each run draws other keys.
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let seed = seed ^ RUNS.fetch_add(1, Ordering::Relaxed).wrapping_mul(0xa076_1d64_78bd_642f);
    let stop = AtomicBool::new(false);
    let start = Barrier::new(roles.len() + 1);
    let stopped = Barrier::new(roles.len() + 1);
    let counted = Barrier::new(roles.len() + 1);
    let mut front = handles.iter_mut();
    let mut assigned: Vec<&mut Box<dyn Handle + Send + '_>> = Vec::new();
    for role in roles {
        assigned.push(match role {
            Role::Commit => front.next().expect("enough handles"),
            Role::Read => front.next_back().expect("enough handles"),
        });
    }
    std::thread::scope(|s| {
        let threads: Vec<_> = roles
            .iter()
            .zip(assigned)
            .enumerate()
            .map(|(t, (&role, h))| {
                let (stop, start, stopped, counted) = (&stop, &start, &stopped, &counted);
                s.spawn(move || {
                    let mut rng = Rng::new(seed ^ (t as u64 + 1).wrapping_mul(0x9e37_79b9));
                    let mut done = 0u64;
                    let mut sum = 0u64;
                    start.wait();
                    while !stop.load(Ordering::Relaxed) {
                        let k = rng.below(keys);
                        match role {
                            Role::Commit => h.commit(k),
                            Role::Read => sum = sum.wrapping_add(h.read(k)),
                        }
                        done += 1;
                    }
                    consume(sum);
                    stopped.wait();
                    counted.wait();
                    done
                })
            })
            .collect();
        start.wait();
        let (syncs0, sync_ns0) = (crate::syncs::count(), crate::syncs::ns());
        let t0 = Instant::now();
        std::thread::sleep(Duration::from_secs_f64(secs));
        stop.store(true, Ordering::Relaxed);
        stopped.wait();
        let ns = t0.elapsed().as_nanos() as f64;
        let (syncs, sync_ns) = (crate::syncs::count() - syncs0, crate::syncs::ns() - sync_ns0);
        counted.wait();
        let ops = threads.into_iter().map(|t| t.join().expect("bench thread")).collect();
        Run { ops, ns, syncs, sync_ns }
    })
}

/// The latencies (ns) of the reads scheduled while a write transaction is open; see the
/// module docs.
fn long_tx_reads(handles: &mut [Box<dyn Handle + Send + '_>], cycles: u64, keys: u64, seed: u64) -> Vec<u64> {
    let [w, .., r] = handles else { panic!("two handles") };
    let base = Instant::now();
    let now = || base.elapsed().as_nanos() as u64;
    // Start of the current window + 1 (0: none yet), and windows closed so far.
    let open_at = AtomicU64::new(0);
    let closed = AtomicU64::new(0);
    let start = Barrier::new(2);
    std::thread::scope(|s| {
        s.spawn(|| {
            let h = w;
            start.wait();
            for c in 0..cycles {
                h.long_tx(c % keys, &mut || {
                    open_at.store(now() + 1, Ordering::Release);
                    std::thread::sleep(HOLD);
                });
                closed.store(c + 1, Ordering::Release);
                std::thread::sleep(GAP);
            }
        });
        let reader = s.spawn(|| {
            let h = r;
            let mut rng = Rng::new(seed ^ 0x7ead);
            let per = (HOLD.as_nanos() / SPACING.as_nanos()) as u64;
            let mut lat = Vec::with_capacity((cycles * per) as usize);
            let mut last = 0;
            start.wait();
            for c in 0..cycles {
                let t0 = loop {
                    let t = open_at.load(Ordering::Acquire);
                    if t != last {
                        break t;
                    }
                    std::thread::yield_now();
                };
                last = t0;
                for j in 0..per {
                    let due = t0 - 1 + j * SPACING.as_nanos() as u64;
                    while now() < due {
                        std::hint::spin_loop();
                    }
                    consume(h.read(rng.below(keys)));
                    lat.push(now() - due);
                }
                while closed.load(Ordering::Acquire) <= c {
                    std::thread::yield_now();
                }
            }
            lat
        });
        reader.join().expect("reader")
    })
}

// ---------------------------------------------------------------- the floor

/// Slots of the floor file (512 bytes each, written and synced beforehand), reused in
/// turn.
const FLOOR_SLOTS: u64 = 4096;

/// The fdatasync floor as an engine: a "commit" is a 512-byte pwrite at the next slot
/// of a file written and synced beforehand, then fdatasync (as `floor.fdatasync`).
struct FloorEng {
    file: std::fs::File,
    next: AtomicU64,
}

impl FloorEng {
    fn new(dir: &Path) -> Self {
        use std::os::unix::fs::FileExt;
        let path = dir.join("floor-w3.dat");
        let file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(path).expect("floor file");
        file.write_all_at(&vec![0u8; (FLOOR_SLOTS * 512) as usize], 0).expect("preallocate");
        file.sync_all().expect("sync");
        FloorEng { file, next: AtomicU64::new(0) }
    }
}

impl Engine for FloorEng {
    fn handle(&self) -> Box<dyn Handle + Send + '_> {
        Box::new(FloorH(self))
    }
}

struct FloorH<'a>(&'a FloorEng);

impl Handle for FloorH<'_> {
    fn commit(&mut self, _k: u64) {
        use std::os::unix::fs::FileExt;
        let slot = self.0.next.fetch_add(1, Ordering::Relaxed) % FLOOR_SLOTS;
        self.0.file.write_all_at(&[0xa5u8; 512], slot * 512).expect("write");
        self.0.file.sync_data().expect("fdatasync");
    }
    fn read(&mut self, _k: u64) -> u64 {
        unreachable!("the floor only commits")
    }
    fn long_tx(&mut self, _k: u64, _hold: &mut dyn FnMut()) {
        unreachable!("the floor only commits")
    }
}

fn open(engine: &str, dir: &Path, keys: u64) -> Box<dyn Engine> {
    match engine {
        "pmem" => Box::new(PmemEng::open(dir, keys)),
        "redb" => Box::new(RedbEng::open(dir, keys)),
        "sqlite-wal" => Box::new(SqliteEng::open(dir, keys)),
        "lmdb" => Box::new(LmdbEng::open(dir, keys)),
        _ => panic!("unknown w3 engine {engine}"),
    }
}

// ---------------------------------------------------------------- pmem

type PMap = pmem::PBTreeMap<u64, u64>;

/// `Durability::Full` (the default): commits of concurrent threads share fdatasyncs
/// (group commit).
struct PmemEng(pmem::Pool<PMap>);

impl PmemEng {
    fn open(dir: &Path, keys: u64) -> Self {
        let mut pool = pmem::PoolOptions::new().create::<PMap>(dir.join("w3.pool")).expect("create pool");
        assert_eq!(pool.durability(), pmem::Durability::Full);
        pool.tx(|tx| {
            let m = tx.root_mut();
            for k in 0..keys {
                m.set(k, 0)?;
            }
            Ok::<_, pmem::Error>(())
        })
        .expect("fill");
        PmemEng(pool)
    }
}

impl Engine for PmemEng {
    fn handle(&self) -> Box<dyn Handle + Send + '_> {
        Box::new(PmemH(self.0.clone()))
    }
}

struct PmemH(pmem::Pool<PMap>);

impl Handle for PmemH {
    fn commit(&mut self, k: u64) {
        self.0
            .tx(|tx| {
                *tx.root_mut().get_mut(&k).expect("present") += 1;
                Ok::<_, pmem::Error>(())
            })
            .expect("commit");
    }
    fn read(&mut self, k: u64) -> u64 {
        self.0.read(|m| *m.get(&k).expect("present")).expect("read")
    }
    fn long_tx(&mut self, k: u64, hold: &mut dyn FnMut()) {
        self.0
            .tx(|tx| {
                *tx.root_mut().get_mut(&k).expect("present") += 1;
                hold();
                Ok::<_, pmem::Error>(())
            })
            .expect("long tx");
    }
}

// ---------------------------------------------------------------- redb

const R3: redb::TableDefinition<u64, u64> = redb::TableDefinition::new("w3");

/// One `Database` shared by the threads; `Durability::Immediate` (the default).
struct RedbEng(redb::Database);

impl RedbEng {
    fn open(dir: &Path, keys: u64) -> Self {
        let db = crate::w1::redb_create(&dir.join("redb.db"));
        let tx = db.begin_write().unwrap();
        {
            let mut t = tx.open_table(R3).unwrap();
            for k in 0..keys {
                t.insert(k, 0).unwrap();
            }
        }
        tx.commit().unwrap();
        RedbEng(db)
    }
}

impl Engine for RedbEng {
    fn handle(&self) -> Box<dyn Handle + Send + '_> {
        Box::new(RedbH(&self.0))
    }
}

struct RedbH<'a>(&'a redb::Database);

impl RedbH<'_> {
    fn bump(tx: &redb::WriteTransaction, k: u64) {
        let mut t = tx.open_table(R3).unwrap();
        let v = t.get(k).unwrap().expect("present").value();
        t.insert(k, v + 1).unwrap();
    }
}

impl Handle for RedbH<'_> {
    fn commit(&mut self, k: u64) {
        let tx = self.0.begin_write().unwrap();
        Self::bump(&tx, k);
        tx.commit().unwrap();
    }
    fn read(&mut self, k: u64) -> u64 {
        let tx = self.0.begin_read().unwrap();
        let t = tx.open_table(R3).unwrap();
        t.get(k).unwrap().expect("present").value()
    }
    fn long_tx(&mut self, k: u64, hold: &mut dyn FnMut()) {
        let tx = self.0.begin_write().unwrap();
        Self::bump(&tx, k);
        hold();
        tx.commit().unwrap();
    }
}

// ---------------------------------------------------------------- SQLite (WAL)

/// WAL, `synchronous=FULL`; a connection per thread.
struct SqliteEng {
    path: std::path::PathBuf,
}

impl SqliteEng {
    fn open(dir: &Path, keys: u64) -> Self {
        let path = dir.join("sqlite.db");
        let mut c = crate::w1::sqlite_open(&path, true, "FULL");
        c.execute_batch("CREATE TABLE kv3 (k INTEGER PRIMARY KEY, v INTEGER NOT NULL);").unwrap();
        let tx = c.transaction().unwrap();
        {
            let mut st = tx.prepare("INSERT INTO kv3 VALUES (?1, 0)").unwrap();
            for k in 0..keys {
                st.execute([k as i64]).unwrap();
            }
        }
        tx.commit().unwrap();
        SqliteEng { path }
    }
}

impl Engine for SqliteEng {
    fn handle(&self) -> Box<dyn Handle + Send + '_> {
        let c = crate::w1::sqlite_open(&self.path, true, "FULL");
        c.busy_timeout(Duration::from_secs(60)).unwrap();
        Box::new(SqliteH(c))
    }
}

struct SqliteH(rusqlite::Connection);

impl SqliteH {
    fn bump(&self, k: u64) {
        let mut st = self.0.prepare_cached("UPDATE kv3 SET v = v + 1 WHERE k = ?1").unwrap();
        assert_eq!(st.execute([k as i64]).unwrap(), 1);
    }
}

impl Handle for SqliteH {
    fn commit(&mut self, k: u64) {
        // One statement in autocommit mode is one transaction.
        self.bump(k);
    }
    fn read(&mut self, k: u64) -> u64 {
        let mut st = self.0.prepare_cached("SELECT v FROM kv3 WHERE k = ?1").unwrap();
        st.query_row([k as i64], |r| r.get::<_, i64>(0)).unwrap() as u64
    }
    fn long_tx(&mut self, k: u64, hold: &mut dyn FnMut()) {
        self.0.execute_batch("BEGIN IMMEDIATE").unwrap();
        self.bump(k);
        hold();
        self.0.execute_batch("COMMIT").unwrap();
    }
}

// ---------------------------------------------------------------- LMDB

type BeU64 = heed::types::U64<heed::byteorder::BE>;

/// One environment shared by the threads; default flags (sync at commit).
struct LmdbEng {
    env: &'static heed::Env,
    db: heed::Database<'static, BeU64, BeU64>,
}

impl LmdbEng {
    fn open(dir: &Path, keys: u64) -> Self {
        let env = crate::w1::lmdb_open(dir, heed::EnvFlags::empty());
        let db = crate::w1::lmdb_db(env, "w3");
        let mut tx = env.write_txn().unwrap();
        for k in 0..keys {
            db.put(&mut tx, &k, &0).unwrap();
        }
        tx.commit().unwrap();
        LmdbEng { env, db }
    }
}

impl Engine for LmdbEng {
    fn handle(&self) -> Box<dyn Handle + Send + '_> {
        Box::new(LmdbH(self))
    }
}

struct LmdbH<'a>(&'a LmdbEng);

impl Handle for LmdbH<'_> {
    fn commit(&mut self, k: u64) {
        self.long_tx(k, &mut || {});
    }
    fn read(&mut self, k: u64) -> u64 {
        let tx = self.0.env.read_txn().unwrap();
        self.0.db.get(&tx, &k).unwrap().expect("present")
    }
    fn long_tx(&mut self, k: u64, hold: &mut dyn FnMut()) {
        let e = self.0;
        let mut tx = e.env.write_txn().unwrap();
        let v = e.db.get(&tx, &k).unwrap().expect("present");
        e.db.put(&mut tx, &k, &(v + 1)).unwrap();
        hold();
        tx.commit().unwrap();
    }
}
