//! Power loss on real files, independent of the simulated medium (`pmem_core::sim`).
//!
//! A child process runs a workload (a bank of derived structs with strings, vectors, a
//! B-tree journal and 100–300 KiB blobs that force pool growth; commits, rolled-back and
//! panicking transactions, a reopen, a clean close) on a real pool file, with an
//! `LD_PRELOAD` shim (`power_loss/shim.c`, built here with the system `cc`) recording
//! every call that changes a file in its directory: creates, writes (stores through a
//! shared mapping included), size changes, fallocate, syncs of files and of the
//! directory, links, renames, unlinks, and the workload's progress markers.
//!
//! The parent rebuilds, from that trace, the states a crash could leave under the
//! strict POSIX rules (`power_loss/states.rs`): at every crash point (before each sync,
//! at each marker, at the end, plus seeded random points) the process-crash image and
//! power-loss images where each write not yet covered by a sync is applied, lost or
//! torn at 512-byte sectors, and each directory change not covered by a directory sync
//! is applied or lost. Each image is opened through the public API (`Pool::open`, some
//! with `open_or_create`) and must open (or, before `create` returned, fail with a
//! typed error), pass `check()`, and hold exactly the first M commits, with every commit
//! acknowledged before the crash among them in `Durability::Full` (any prefix in
//! `Process` after power loss). Some recoveries are crashed too: the recovery runs in a
//! recorded child, and every state of its trace must reopen to the recovered state.
//!
//! `PMEM_POWERLOSS_STATES=N` raises the number of states per mode (default 5,000) for a
//! soak. Failing images are kept under `target/tmp/power_loss-failures/`.

#[path = "power_loss/states.rs"]
mod states;
#[path = "power_loss/trace.rs"]
mod trace;
#[path = "power_loss/workload.rs"]
mod workload;

use std::collections::{BTreeSet, HashMap};
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use pmem::{Durability, Error, PoolOptions};
use states::{choice_sets, Budget, Choice, Fs, Image};
use trace::Op;
use workload::{digest_pool, plan, run_tx, Bank, Plan, Step};

/// The child test: a no-op unless the harness started this process with a role.
const CHILD_TEST: &str = "harness_child_process_does_nothing_unless_the_harness_starts_it";
const ROLE_ENV: &str = "PMEM_PL_ROLE";
const POOL: &str = "bank.pool";
const SEED: u64 = 0x00c0_ffee;
/// Committed transactions of the workload, per mode.
const COMMITS: usize = 150;
const INITIAL_SIZE: u64 = 64 << 10;
const CHECKPOINT: u64 = 16 << 10;
const DEFAULT_STATES: u64 = 5_000;
/// Recoveries crashed per mode.
const RECOVERY_SAMPLES: usize = 10;

fn options(mode: Durability) -> PoolOptions {
    PoolOptions::new()
        .durability(mode)
        .initial_size(INITIAL_SIZE)
        .checkpoint_threshold(CHECKPOINT)
        .max_size(64 << 20)
}

fn mode_name(mode: Durability) -> &'static str {
    match mode {
        Durability::Full => "full",
        _ => "process",
    }
}

fn mode_of(name: &str) -> Durability {
    match name {
        "full" => Durability::Full,
        "process" => Durability::Process,
        other => panic!("unknown mode {other}"),
    }
}

// ---------------------------------------------------------------------------------------
// The shim and the child processes

/// Builds `shim.c` into the target's temporary directory (once per source version).
fn shim() -> &'static Path {
    static SHIM: OnceLock<PathBuf> = OnceLock::new();
    SHIM.get_or_init(|| {
        let src = include_str!("power_loss/shim.c");
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in src.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("power_loss-shim");
        std::fs::create_dir_all(&dir).unwrap();
        let so = dir.join(format!("shim-{h:016x}.so"));
        if !so.exists() {
            let c = dir.join(format!("shim-{h:016x}.c"));
            std::fs::write(&c, src).unwrap();
            let tmp = dir.join(format!("shim-{h:016x}.so.{}", std::process::id()));
            let out = Command::new("cc")
                .args(["-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-o"])
                .arg(&tmp)
                .arg(&c)
                .arg("-ldl")
                .output()
                .expect("running cc");
            assert!(
                out.status.success(),
                "cc failed to build the shim:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::fs::rename(&tmp, &so).unwrap();
        }
        so
    })
}

/// Runs this test binary again as a child in `role`, recording the file system calls it
/// makes under `dir`; answers the trace and the child's stdout.
fn run_recorded(role: &str, dir: &Path, trace_path: &Path) -> (Vec<Op>, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", CHILD_TEST, "--nocapture", "--test-threads=1"])
        .env(ROLE_ENV, role)
        .env("PMEM_PL_DIR", dir)
        .env("PMEM_PL_TRACE", trace_path)
        .env("LD_PRELOAD", shim())
        .output()
        .expect("starting the child");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "child {role} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(trace_path).unwrap();
    (trace::parse(&bytes).unwrap(), stdout)
}

/// Appends a marker to the trace through the shim's `pmem_pl_marker`.
fn marker(text: &str) {
    type MarkerFn = unsafe extern "C" fn(*const libc::c_char, libc::size_t);
    static FN: OnceLock<usize> = OnceLock::new();
    let f = *FN.get_or_init(|| {
        let name = CString::new("pmem_pl_marker").unwrap();
        // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name only looks a symbol up.
        let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
        assert!(!p.is_null(), "pmem_pl_marker not found: is the shim preloaded?");
        p as usize
    });
    // SAFETY: `f` is the shim's `void pmem_pl_marker(const char *, size_t)`; it copies at
    // most `len` bytes from the pointer, which is valid for `text.len()` bytes.
    unsafe {
        let f: MarkerFn = std::mem::transmute::<usize, MarkerFn>(f);
        f(text.as_ptr().cast(), text.len());
    }
}

#[test]
fn harness_child_process_does_nothing_unless_the_harness_starts_it() {
    let Ok(role) = std::env::var(ROLE_ENV) else {
        return;
    };
    let dir = PathBuf::from(std::env::var("PMEM_PL_DIR").unwrap());
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let planned = info
            .payload()
            .downcast_ref::<&str>()
            .is_some_and(|s| s.contains("planned rollback"));
        if !planned {
            default_hook(info);
        }
    }));
    let (what, mode) = role.split_once(':').unwrap_or((role.as_str(), "full"));
    match what {
        "workload" => child_workload(&dir, mode_of(mode)),
        "recover" => child_recover(&dir, mode_of(mode)),
        "probe" => child_probe(&dir),
        other => panic!("unknown role {other}"),
    }
}

/// The recorded workload: create, the planned transactions, a reopen, a clean close.
fn child_workload(dir: &Path, mode: Durability) {
    let path = dir.join(POOL);
    let Plan {
        steps,
        digests,
        blobs,
    } = plan(SEED, COMMITS);
    marker("create begin");
    let mut pool = options(mode).create::<Bank>(&path).unwrap();
    marker("create returned");
    let mut k = 0;
    for step in &steps {
        match step {
            Step::Tx { actions, end } => {
                let committing = *end == workload::End::Commit;
                marker(&if committing {
                    format!("begin {}", k + 1)
                } else {
                    format!("rollback {end:?} begin")
                });
                let committed = run_tx(&mut pool, actions, *end).unwrap();
                assert_eq!(committed, committing);
                if committed {
                    k += 1;
                    marker(&format!("ack {k}"));
                } else {
                    marker("rollback returned");
                }
            }
            Step::Reopen => {
                marker("reopen begin");
                drop(pool);
                pool = options(mode).open::<Bank>(&path).unwrap();
                marker("reopen returned");
            }
        }
    }
    let got = pool.read(|b| digest_pool(b, &blobs)).unwrap().unwrap();
    assert_eq!(got, digests[k], "the pool holds the model's state");
    pool.check().unwrap();
    marker("close begin");
    drop(pool);
    marker("closed");
}

/// A recorded recovery: open, report the state, close.
fn child_recover(dir: &Path, mode: Durability) {
    let plan = plan(SEED, COMMITS);
    marker("open begin");
    let pool = options(mode).open::<Bank>(dir.join(POOL)).unwrap();
    marker("open returned");
    pool.check().unwrap();
    let d = pool.read(|b| digest_pool(b, &plan.blobs)).unwrap().unwrap();
    println!("PL-DIGEST {d:016x}");
    marker("close begin");
    pool.close().unwrap();
    marker("closed");
}

/// Each kind of call std and libc make on files, once, for the shim's own test.
fn child_probe(dir: &Path) {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::FileExt;
    let a = dir.join("a");
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&a)
        .unwrap();
    f.write_all(b"hello").unwrap();
    f.write_all_at(b"world", 5).unwrap();
    f.sync_data().unwrap();
    f.sync_all().unwrap();
    f.set_len(10_000).unwrap();
    // SAFETY: plain syscall on our descriptor.
    assert_eq!(unsafe { libc::posix_fallocate(f.as_raw_fd(), 0, 20_000) }, 0);
    std::fs::hard_link(&a, dir.join("b")).unwrap();
    std::fs::rename(dir.join("b"), dir.join("c")).unwrap();
    std::fs::remove_file(dir.join("c")).unwrap();
    std::fs::File::open(dir).unwrap().sync_all().unwrap();
    // SAFETY: a fresh shared mapping of 8 KiB of a 20,000-byte file; unmapped below.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            8192,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            f.as_raw_fd(),
            0,
        );
        assert_ne!(p, libc::MAP_FAILED);
        std::ptr::write_bytes(p.cast::<u8>().add(600), 7, 10);
        marker("stored");
        assert_eq!(libc::msync(p, 8192, libc::MS_SYNC), 0);
        std::ptr::write_bytes(p.cast::<u8>().add(5000), 9, 10);
        assert_eq!(libc::munmap(p, 8192), 0);
    }
    marker("probe done");
}

// ---------------------------------------------------------------------------------------
// Checking crash states

/// What the workload had told the world at a crash point.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Progress {
    /// `create` returned.
    created: bool,
    /// Commits acknowledged (their `tx` returned).
    acked: u64,
    /// Commits begun (at most this many may be present).
    begun: u64,
    /// The last marker.
    last: String,
}

impl Progress {
    fn see(&mut self, m: &str) {
        if m == "create returned" {
            self.created = true;
        } else if let Some(k) = m.strip_prefix("begin ") {
            self.begun = k.parse().unwrap();
        } else if let Some(k) = m.strip_prefix("ack ") {
            self.acked = k.parse().unwrap();
        }
        m.clone_into(&mut self.last);
    }
}

/// What an image must recover to.
#[derive(Clone, Debug)]
enum Expect {
    /// A state of the workload at this point.
    Workload(Progress),
    /// Exactly this state (crashed recoveries: the completed recovery's state).
    Exact(u64),
}

/// One broken rule.
struct Violation {
    at: String,
    pending: String,
    error: String,
    kept: Option<PathBuf>,
}

/// Opens images and applies the rules; counts states and collects violations.
struct Checker<'a> {
    mode: Durability,
    plan: &'a Plan,
    /// digest → M.
    prefix: HashMap<u64, u64>,
    scratch: PathBuf,
    keep_root: PathBuf,
    states: u64,
    recovery_states: u64,
    violations: Vec<Violation>,
    /// Recoveries to crash: (image, digest), a seeded reservoir sample.
    samples: Vec<(Image, u64)>,
    seen_for_sampling: u64,
    rng: u64,
}

/// How an image is opened.
#[derive(Clone, Copy, Debug)]
enum How {
    Open,
    OpenOrCreate,
}

fn next_rand(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn write_image(dir: &Path, img: &Image) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in img {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}

/// What opening an image gave.
enum Opened {
    Failed(Error),
    Recovered(u64),
}

impl<'a> Checker<'a> {
    fn new(mode: Durability, plan: &'a Plan, scratch: PathBuf, keep_root: PathBuf) -> Self {
        let prefix = plan
            .digests
            .iter()
            .enumerate()
            .map(|(m, d)| (*d, m as u64))
            .collect();
        Checker {
            mode,
            plan,
            prefix,
            scratch,
            keep_root,
            states: 0,
            recovery_states: 0,
            violations: Vec::new(),
            samples: Vec::new(),
            seen_for_sampling: 0,
            rng: SEED ^ 0x5a5a,
        }
    }

    /// Opens `img` in the scratch directory; `Err` is a rule broken on the way.
    fn open_image(&self, img: &Image, how: How, reopen: bool) -> Result<Opened, String> {
        write_image(&self.scratch, img);
        let path = self.scratch.join(POOL);
        let opts = options(self.mode);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let pool = match how {
                How::Open => opts.open::<Bank>(&path),
                How::OpenOrCreate => opts.open_or_create::<Bank>(&path),
            };
            let pool = match pool {
                Ok(p) => p,
                Err(e) => return Ok(Opened::Failed(e)),
            };
            pool.check().map_err(|e| format!("check after recovery: {e}"))?;
            let d = pool
                .read(|b| digest_pool(b, &self.plan.blobs))
                .map_err(|e| format!("read: {e}"))??;
            pool.close().map_err(|e| format!("close after recovery: {e}"))?;
            if reopen {
                let again = opts
                    .open::<Bank>(&path)
                    .map_err(|e| format!("reopen after a clean close: {e}"))?;
                let d2 = again
                    .read(|b| digest_pool(b, &self.plan.blobs))
                    .map_err(|e| format!("read: {e}"))??;
                if d2 != d {
                    return Err("reopen after a clean close gives another state".into());
                }
            }
            Ok(Opened::Recovered(d))
        }));
        match r {
            Ok(x) => x,
            Err(p) => Err(format!("panic: {}", panic_text(&*p))),
        }
    }

    /// Checks every image of one crash point.
    fn point(&mut self, fs: &Fs<'_>, at: &str, expect: &Expect, budget: Budget, seed: u64) {
        let sets = choice_sets(fs, seed, budget);
        for (k, choices) in sets.iter().enumerate() {
            let process_crash = choices.iter().all(|c| *c == Choice::Apply);
            let img = fs.image(choices);
            let n = self.states + self.recovery_states;
            let how = if n % 5 == 4 && matches!(expect, Expect::Workload(_)) {
                How::OpenOrCreate
            } else {
                How::Open
            };
            let verdict = self
                .open_image(&img, how, n % 8 == 0)
                .and_then(|o| self.judge(o, expect, process_crash));
            match expect {
                Expect::Workload(_) => self.states += 1,
                Expect::Exact(_) => self.recovery_states += 1,
            }
            match verdict {
                Ok(Some(d)) if matches!(how, How::Open) && matches!(expect, Expect::Workload(_)) => {
                    self.sample(&img, d);
                }
                Ok(_) => {}
                Err(error) => {
                    let kept = (self.violations.len() < 20).then(|| {
                        let d = self.keep_root.join(format!(
                            "{}-{}",
                            mode_name(self.mode),
                            self.violations.len()
                        ));
                        write_image(&d, &img);
                        d
                    });
                    let kind = if process_crash { "process crash" } else { "power loss" };
                    self.violations.push(Violation {
                        at: format!("{at}, image {k} ({kind}, {how:?})"),
                        pending: fs.describe(choices, 40),
                        error,
                        kept,
                    });
                }
            }
        }
    }

    /// Applies the rules to what opening gave; answers the digest of a recovered state.
    fn judge(&self, o: Opened, expect: &Expect, process_crash: bool) -> Result<Option<u64>, String> {
        match (o, expect) {
            (Opened::Failed(e), Expect::Workload(p)) if !p.created => {
                let _ = e; // before `create` returned, a typed error (or no file) is fine
                Ok(None)
            }
            (Opened::Failed(e), _) => Err(format!("open failed: {e} ({e:?})")),
            (Opened::Recovered(d), Expect::Exact(want)) => {
                if d == *want {
                    Ok(Some(d))
                } else {
                    Err(format!(
                        "recovered to {} instead of the completed recovery's {}",
                        self.name(d),
                        self.name(*want)
                    ))
                }
            }
            (Opened::Recovered(d), Expect::Workload(p)) => {
                let Some(&m) = self.prefix.get(&d) else {
                    return Err(format!("contents are not the first M commits for any M (digest {d:016x})"));
                };
                if m > p.begun {
                    return Err(format!("holds {m} commits but only {} had begun", p.begun));
                }
                let durable_needed = process_crash || self.mode == Durability::Full;
                if durable_needed && m < p.acked {
                    return Err(format!(
                        "holds {m} commits but {} were acknowledged before the {}",
                        p.acked,
                        if process_crash { "process crash" } else { "power loss" }
                    ));
                }
                Ok(Some(d))
            }
        }
    }

    fn name(&self, d: u64) -> String {
        self.prefix
            .get(&d)
            .map_or_else(|| format!("digest {d:016x}"), |m| format!("commit {m}"))
    }

    fn sample(&mut self, img: &Image, d: u64) {
        self.seen_for_sampling += 1;
        if self.samples.len() < RECOVERY_SAMPLES {
            self.samples.push((img.clone(), d));
        } else {
            let j = next_rand(&mut self.rng) % self.seen_for_sampling;
            if (j as usize) < RECOVERY_SAMPLES {
                self.samples[j as usize] = (img.clone(), d);
            }
        }
    }
}

/// Which ops get a crash point in a walk.
enum Points<'p> {
    /// Before each sync, at each marker, at the end.
    Mandatory,
    /// Exactly these op indices (before the op; `usize::MAX` = the end).
    Only(&'p BTreeSet<usize>),
}

/// Replays `ops` over `initial` and checks the images of every crash point.
fn walk(
    ck: &mut Checker<'_>,
    ops: &[Op],
    initial: &[(String, Vec<u8>)],
    points: &Points<'_>,
    base: &Expect,
    budget: Budget,
    seed: u64,
) {
    let mut fs = Fs::new(ops, initial);
    let mut expect = base.clone();
    let mut last_visit = None;
    let mut changes = 0usize;
    for (i, op) in ops.iter().enumerate() {
        if let (Op::Marker(m), Expect::Workload(p)) = (op, &mut expect) {
            p.see(m);
        }
        let wanted = match points {
            Points::Mandatory => op.is_sync() || matches!(op, Op::Marker(_)),
            Points::Only(set) => set.contains(&i),
        };
        // A point with nothing new since the last one (no op replayed, the same
        // promises) would only repeat its images.
        let key = (changes, promises(&expect));
        if wanted && last_visit != Some(key) {
            let at = format!("crash before op #{i} ({op}; last marker {})", last_marker(&expect));
            ck.point(&fs, &at, &expect, budget, seed ^ (i as u64).wrapping_mul(0x9e37));
            last_visit = Some(key);
        }
        fs.apply_next().unwrap();
        if !matches!(op, Op::Marker(_)) {
            changes += 1;
        }
    }
    let at_end = match points {
        Points::Mandatory => true,
        Points::Only(set) => set.contains(&usize::MAX),
    };
    if at_end {
        let at = format!("crash at the end ({} ops; last marker {})", ops.len(), last_marker(&expect));
        ck.point(&fs, &at, &expect, budget, seed ^ 0xe4d);
    }
}

fn promises(e: &Expect) -> (bool, u64, u64) {
    match e {
        Expect::Workload(p) => (p.created, p.acked, p.begun),
        Expect::Exact(d) => (true, *d, 0),
    }
}

fn last_marker(e: &Expect) -> String {
    match e {
        Expect::Workload(p) => format!("{:?}", p.last),
        Expect::Exact(_) => "-".into(),
    }
}

/// States per mode: the default, or `PMEM_POWERLOSS_STATES`.
fn target_states() -> u64 {
    std::env::var("PMEM_POWERLOSS_STATES")
        .ok()
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(DEFAULT_STATES)
}

/// A fast scratch directory for images: tmpfs when there is one.
fn scratch_root() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        let probe = shm.join(format!("pmem-powerloss-probe-{}", std::process::id()));
        if std::fs::create_dir(&probe).is_ok() {
            let _ = std::fs::remove_dir(&probe);
            return shm.to_path_buf();
        }
    }
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

const MANDATORY: Budget = Budget {
    exhaustive_limit: 3,
    tears: 2,
    max_pairs: 12,
    random: 6,
    cap: 40,
};
const RANDOM_POINT: Budget = Budget {
    exhaustive_limit: 2,
    tears: 1,
    max_pairs: 2,
    random: 4,
    cap: 10,
};
const RECOVERY: Budget = Budget {
    exhaustive_limit: 3,
    tears: 2,
    max_pairs: 8,
    random: 4,
    cap: 24,
};

/// Records the workload in `mode`, checks its crash states and crashes some recoveries.
/// Answers the report line and the violations.
fn power_loss(mode: Durability) -> (String, Vec<Violation>) {
    let t0 = Instant::now();
    let name = mode_name(mode);
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let run = tmp.join(format!("power_loss-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&run);
    let work = run.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let work = work.canonicalize().unwrap();
    let (ops, _) = run_recorded(&format!("workload:{name}"), &work, &run.join("trace"));
    let recorded = t0.elapsed();

    let plan = plan(SEED, COMMITS);
    let scratch = scratch_root().join(format!("pmem-powerloss-{}-{name}", std::process::id()));
    let keep_root = tmp.join("power_loss-failures");
    let mut ck = Checker::new(mode, &plan, scratch.join("image"), keep_root);
    let start = Expect::Workload(Progress::default());
    walk(&mut ck, &ops, &[], &Points::Mandatory, &start, MANDATORY, SEED);
    let mandatory = ck.states;

    // Top up with seeded random crash points between the mandatory ones.
    let target = target_states();
    let mut rng = SEED ^ 0x1234;
    let mut round = 0;
    while ck.states < target && round < 50 {
        let want = ((target - ck.states) / 6 + 1) as usize;
        let set: BTreeSet<usize> = (0..want)
            .map(|_| (next_rand(&mut rng) % ops.len() as u64) as usize)
            .collect();
        walk(&mut ck, &ops, &[], &Points::Only(&set), &start, RANDOM_POINT, next_rand(&mut rng));
        round += 1;
    }

    // Crash some recoveries: record a recovery of a sampled image, then check every
    // crash state of that recovery's own trace.
    let samples = std::mem::take(&mut ck.samples);
    for (n, (img, digest)) in samples.iter().enumerate() {
        let dir = run.join(format!("recover-{n}"));
        write_image(&dir, img);
        let dir = dir.canonicalize().unwrap();
        let (rops, out) = run_recorded(&format!("recover:{name}"), &dir, &run.join(format!("trace-recover-{n}")));
        let got = out
            .lines()
            .find_map(|l| l.split_once("PL-DIGEST ").map(|(_, d)| d))
            .and_then(|h| u64::from_str_radix(h.trim(), 16).ok());
        if got != Some(*digest) {
            ck.violations.push(Violation {
                at: format!("recovery sample {n}"),
                pending: String::new(),
                error: format!("a recorded recovery reported {got:x?}, the parent's open {digest:016x}"),
                kept: None,
            });
            continue;
        }
        let all: BTreeSet<usize> = (0..rops.len()).chain([usize::MAX]).collect();
        walk(
            &mut ck,
            &rops,
            img,
            &Points::Only(&all),
            &Expect::Exact(*digest),
            RECOVERY,
            SEED ^ n as u64,
        );
    }
    let _ = std::fs::remove_dir_all(&scratch);
    if ck.violations.is_empty() {
        let _ = std::fs::remove_dir_all(&run);
    }
    let line = format!(
        "powerloss states: {}, violations: {}  [{name}: {} ops recorded in {:.1}s, {} states at syncs/markers/end + {} at random points, {} states of {} crashed recoveries, {:.1}s]",
        ck.states + ck.recovery_states,
        ck.violations.len(),
        ops.len(),
        recorded.as_secs_f64(),
        mandatory,
        ck.states - mandatory,
        ck.recovery_states,
        samples.len(),
        t0.elapsed().as_secs_f64(),
    );
    (line, ck.violations)
}

/// A violation's message with its numbers blanked, to group violations by kind.
fn kind_of(error: &str) -> String {
    let mut out = String::new();
    let mut chars = error.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            while chars.peek().is_some_and(char::is_ascii_alphanumeric) {
                chars.next();
            }
            out.push('N');
        } else {
            out.push(c);
        }
    }
    out
}

fn report(mode: Durability) {
    let (line, violations) = power_loss(mode);
    println!("{line}");
    for v in violations.iter().take(12) {
        println!("violation at {}:\n    {}", v.at, v.error);
        if let Some(k) = &v.kept {
            println!("    image kept in {}", k.display());
        }
        print!("    pending ops ([A]pplied, [D]ropped, [T]orn):\n{}", v.pending);
    }
    let mut kinds: HashMap<String, usize> = HashMap::new();
    for v in &violations {
        *kinds.entry(kind_of(&v.error)).or_default() += 1;
    }
    if !kinds.is_empty() {
        println!("violation kinds ({}):", mode_name(mode));
        for (k, n) in &kinds {
            println!("  {n:6} × {k}");
        }
    }
    assert!(violations.is_empty(), "{line}");
    let states: u64 = line
        .split_whitespace()
        .nth(2)
        .and_then(|s| s.trim_end_matches(',').parse().ok())
        .unwrap();
    assert!(states >= target_states(), "{line}");
}

#[test]
fn every_power_loss_state_of_a_full_durability_workload_recovers_to_an_acknowledged_prefix() {
    report(Durability::Full);
}

#[test]
fn every_power_loss_state_of_a_process_durability_workload_recovers_to_a_prefix() {
    report(Durability::Process);
}

// ---------------------------------------------------------------------------------------
// The recorder and the rules themselves

#[test]
fn the_shim_records_what_std_and_libc_do_to_files() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("power_loss-probe-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("d")).unwrap();
    let d = dir.join("d").canonicalize().unwrap();
    let (ops, _) = run_recorded("probe", &d, &dir.join("trace"));
    let shown: Vec<String> = ops.iter().map(ToString::to_string).collect();
    let want = [
        "create a",
        "write a @0x0+0x5",
        "write a @0x5+0x5",
        "fdatasync a",
        "fsync a",
        "set_len a 0x2710",
        "fallocate a mode 0 @0x0+0x4e20",
        "link a -> b",
        "rename b -> c",
        "unlink c",
        "fsync dir \"\"",
        "write a @0x200+0x200",
        "marker \"stored\"",
        "msync a @0x0+0x2000",
        "write a @0x1200+0x200",
        "marker \"probe done\"",
    ];
    assert_eq!(shown, want);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn w(name: &str, off: u64, data: &[u8]) -> Op {
    Op::Write {
        name: name.into(),
        off,
        data: data.to_vec(),
    }
}

/// Every image of the end state of a hand-made trace.
fn end_images(ops: &[Op], initial: &[(String, Vec<u8>)]) -> Vec<Image> {
    let mut fs = Fs::new(ops, initial);
    for _ in ops {
        fs.apply_next().unwrap();
    }
    choice_sets(&fs, 1, MANDATORY)
        .iter()
        .map(|c| fs.image(c))
        .collect()
}

fn file<'i>(img: &'i Image, name: &str) -> Option<&'i Vec<u8>> {
    img.iter().find(|(n, _)| n == name).map(|(_, b)| b)
}

#[test]
fn an_unsynced_write_is_absent_from_some_power_loss_state() {
    let initial = vec![("a".to_string(), vec![1u8; 1024])];
    let ops = [w("a", 0, &[2; 1024])];
    let images = end_images(&ops, &initial);
    assert_eq!(file(&images[0], "a").unwrap(), &vec![2u8; 1024], "the process-crash image has it");
    assert!(images.iter().any(|i| file(i, "a").unwrap() == &vec![1u8; 1024]));
    assert!(
        images.iter().any(|i| {
            let a = file(i, "a").unwrap();
            a[..512] != a[512..]
        }),
        "torn at a sector boundary"
    );
    let synced = [w("a", 0, &[2; 1024]), Op::Sync { name: "a".into(), data_only: true }];
    assert!(end_images(&synced, &initial)
        .iter()
        .all(|i| file(i, "a").unwrap() == &vec![2u8; 1024]));
}

#[test]
fn a_growth_without_fsync_is_undone_in_some_state() {
    let initial = vec![("a".to_string(), vec![0u8; 4096])];
    let ops = [Op::Falloc {
        name: "a".into(),
        mode: 0,
        off: 0,
        len: 8192,
    }];
    let images = end_images(&ops, &initial);
    assert_eq!(file(&images[0], "a").unwrap().len(), 8192);
    assert!(images.iter().any(|i| file(i, "a").unwrap().len() == 4096));
    let synced = [ops[0].clone(), Op::Sync { name: "a".into(), data_only: true }];
    assert!(end_images(&synced, &initial)
        .iter()
        .all(|i| file(i, "a").unwrap().len() == 8192));
}

#[test]
fn a_link_without_a_directory_fsync_may_vanish() {
    let initial = vec![("a".to_string(), b"pool".to_vec())];
    let link = Op::Link {
        from: "a".into(),
        to: "b".into(),
    };
    let images = end_images(&[link.clone()], &initial);
    assert!(file(&images[0], "b").is_some());
    assert!(images.iter().any(|i| file(i, "b").is_none()));
    let synced = [link, Op::DirSync { name: String::new() }];
    assert!(end_images(&synced, &initial)
        .iter()
        .all(|i| file(i, "b").map(Vec::as_slice) == Some(&b"pool"[..])));
    // A file's own fsync does not make its name durable.
    let created = [
        Op::Create { name: "c".into() },
        w("c", 0, b"x"),
        Op::Sync {
            name: "c".into(),
            data_only: false,
        },
    ];
    assert!(end_images(&created, &[]).iter().any(|i| file(i, "c").is_none()));
}
