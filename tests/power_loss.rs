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
//! The harness is tested too: the shim against what std and libc really call, the
//! rules against hand-made traces (an unsynced write, growth or link can vanish), and
//! the whole pipeline against engines switched into broken variants
//! (`pmem_core::fault`), each of which must be caught.
//!
//! A typed migration (`pmem::migrate`) is recorded and crashed the same way
//! (`power_loss/migration.rs`): every state must hold the old pool with its contents or
//! the migrated one, only the latter once `migrate` returned; two broken migrations must
//! be caught. A compaction (`pmem::compact`, the same atomic replacement) is crashed
//! the same way: the old pool or the compacted one, with the same contents.
//!
//! `PMEM_POWERLOSS_STATES=N` raises the number of states per mode (default 5,000) and
//! per migration run (default 1,000) for a soak. Failing images are kept under `target/tmp/power_loss-failures/`, and the report
//! names each violation's crash point, the pending ops with what became of each, and
//! the error.

#[path = "power_loss/check.rs"]
mod check;
#[path = "power_loss/migration.rs"]
mod migration;
#[path = "power_loss/states.rs"]
mod states;
#[path = "power_loss/trace.rs"]
mod trace;
#[path = "power_loss/workload.rs"]
mod workload;

use std::collections::BTreeSet;
use std::ffi::CString;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use check::{next_rand, walk, Checker, Expect, Points, Progress, Violation};
use pmem::{Durability, PoolOptions};
use pmem_core::fault::{set_broken, Broken};
use states::{choice_sets, Budget, Fs, Image};
use trace::Op;
use workload::{digest_pool, plan, run_tx, Bank, Plan, Step};

/// The child test: a no-op unless the harness started this process with a role.
const CHILD_TEST: &str = "harness_child_process_does_nothing_unless_the_harness_starts_it";
const ROLE_ENV: &str = "PMEM_PL_ROLE";
const POOL: &str = "bank.pool";
const SEED: u64 = 0x00c0_ffee;
/// Committed transactions of the workload, per mode.
const COMMITS: usize = 200;
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
        Durability::Process => "process",
        other => panic!("no power-loss workload for {other:?}"),
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
            // Per-process names, then a rename: test binaries may build it at once.
            let pid = std::process::id();
            let c = dir.join(format!("shim-{h:016x}.{pid}.c"));
            std::fs::write(&c, src).unwrap();
            let tmp = dir.join(format!("shim-{h:016x}.so.{pid}"));
            let out = Command::new("cc")
                .args(["-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-o"])
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
            if !out.stderr.is_empty() {
                eprintln!(
                    "cc warned about the shim:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            let _ = std::fs::remove_file(&c);
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
        assert!(
            !p.is_null(),
            "pmem_pl_marker not found: is the shim preloaded?"
        );
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
    // role:mode:commits:broken-variant-bits
    let parts: Vec<&str> = role.split(':').collect();
    if parts[0] == "probe" {
        return child_probe(&dir);
    }
    if parts[0] == "probe-rename" {
        return child_probe_rename(&dir);
    }
    if parts[0] == "migrate" {
        return migration::child(&dir, parts[1]);
    }
    if parts[0] == "compact" {
        return migration::child_compact(&dir, parts.get(1).copied().unwrap_or("none"));
    }
    let mode = mode_of(parts[1]);
    let commits: usize = parts[2].parse().unwrap();
    let broken: u32 = parts[3].parse().unwrap();
    set_broken(Broken::ALL.into_iter().find(|b| *b as u32 == broken));
    match parts[0] {
        "workload" => child_workload(&dir, mode, commits),
        "recover" => child_recover(&dir, mode, commits),
        other => panic!("unknown role {other}"),
    }
}

/// The recorded workload: create, the planned transactions, a reopen, a clean close.
fn child_workload(dir: &Path, mode: Durability, commits: usize) {
    let path = dir.join(POOL);
    let Plan {
        steps,
        digests,
        blobs,
    } = plan(SEED, commits);
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
fn child_recover(dir: &Path, mode: Durability, commits: usize) {
    let plan = plan(SEED, commits);
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
    let r = unsafe { libc::posix_fallocate(f.as_raw_fd(), 0, 20_000) };
    assert_eq!(r, 0);
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

/// Writes through descriptors and a shared mapping across renames, for the shim's test.
fn child_probe_rename(dir: &Path) {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::FileExt;
    let open = |name: &str| {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join(name))
            .unwrap()
    };
    let x = open("x");
    x.set_len(4096).unwrap();
    let old = open("old");
    // SAFETY: a fresh shared mapping of the 4 KiB file; unmapped below.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            x.as_raw_fd(),
            0,
        )
    };
    assert_ne!(p, libc::MAP_FAILED);
    std::fs::rename(dir.join("x"), dir.join("y")).unwrap();
    x.write_all_at(b"via fd", 0).unwrap();
    // SAFETY: within the mapping.
    unsafe { std::ptr::write_bytes(p.cast::<u8>().add(1024), 7, 10) };
    marker("stored");
    // `old` is replaced: what is written through it reaches no name.
    std::fs::rename(dir.join("y"), dir.join("old")).unwrap();
    old.write_all_at(b"lost", 0).unwrap();
    x.sync_data().unwrap();
    // SAFETY: unmapping the mapping made above.
    unsafe { assert_eq!(libc::munmap(p, 4096), 0) };
    marker("probe done");
}

// ---------------------------------------------------------------------------------------
// The runs

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
    let probe = shm.join(format!("pmem-powerloss-probe-{}", std::process::id()));
    if std::fs::create_dir(&probe).is_ok() {
        let _ = std::fs::remove_dir(&probe);
        return shm.to_path_buf();
    }
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// Images per crash point before each sync, at each marker and at the end; the cap is
/// fitted to the target (`check::fit_cap`) from `CAPS`.
const MANDATORY: Budget = Budget {
    exhaustive_limit: 3,
    tears: 2,
    max_pairs: 12,
    random: 6,
    cap: 40,
};
const CAPS: [usize; 10] = [6, 8, 12, 16, 24, 32, 40, 64, 128, 256];
/// Images per seeded random crash point.
const RANDOM_POINT: Budget = Budget {
    exhaustive_limit: 2,
    tears: 1,
    max_pairs: 2,
    random: 4,
    cap: 10,
};
/// Images per crash point of a recorded recovery.
const RECOVERY: Budget = Budget {
    exhaustive_limit: 2,
    tears: 1,
    max_pairs: 4,
    random: 3,
    cap: 12,
};

/// One recorded workload and the checks of its crash states.
struct Run {
    mode: Durability,
    commits: usize,
    /// Workload states to check at least.
    target: u64,
    /// The child's engine is switched into this broken variant.
    broken: Option<Broken>,
    /// Stop at this many violations.
    stop_after: usize,
    /// Recoveries to record and crash.
    recoveries: usize,
}

/// What a run found.
struct Found {
    line: String,
    states: u64,
    violations: Vec<Violation>,
    /// The run's directories (kept when there were violations).
    dirs: [PathBuf; 2],
}

/// Records the workload, checks its crash states and crashes some recoveries.
fn power_loss(run: &Run) -> Found {
    let t0 = Instant::now();
    let name = mode_name(run.mode);
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let tag = run.broken.map_or_else(String::new, |b| format!("-{b:?}"));
    let dir = tmp.join(format!("power_loss-{}-{name}{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let work = dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let work = work.canonicalize().unwrap();
    let role = format!(
        "workload:{name}:{}:{}",
        run.commits,
        run.broken.map_or(0, |b| b as u32)
    );
    let (ops, _) = run_recorded(&role, &work, &dir.join("trace"));
    let recorded = t0.elapsed();

    let plan = plan(SEED, run.commits);
    let keep = tmp.join("power_loss-failures").join(format!("{name}{tag}"));
    let _ = std::fs::remove_dir_all(&keep);
    let scratch = scratch_root().join(format!("pmem-powerloss-{}-{name}{tag}", std::process::id()));
    let mut ck = Checker::new(
        options(run.mode),
        run.mode,
        POOL,
        &plan,
        scratch.join("image"),
        keep.clone(),
        run.recoveries,
    );
    ck.stop_after = run.stop_after;
    let start = Expect::Workload(Progress::default());
    let cap = check::fit_cap(&ops, &[], &start, SEED, MANDATORY, &CAPS, run.target);
    let budget = Budget { cap, ..MANDATORY };
    walk(
        &ops,
        &[],
        &Points::Mandatory,
        &start,
        SEED,
        &mut |fs, at, e, s| {
            ck.point(fs, at, e, budget, s);
            !ck.done()
        },
    );
    let mandatory = ck.states;

    // Top up with seeded random crash points between the mandatory ones.
    let mut rng = SEED ^ 0x1234;
    let mut rounds = 0;
    while ck.states < run.target && !ck.done() && rounds < 100 {
        let want = ((run.target - ck.states) / 5 + 1) as usize;
        let set: BTreeSet<usize> = (0..want)
            .map(|_| (next_rand(&mut rng) % ops.len() as u64) as usize)
            .collect();
        walk(
            &ops,
            &[],
            &Points::Only(&set),
            &start,
            next_rand(&mut rng),
            &mut |fs, at, e, s| {
                ck.point(fs, at, e, RANDOM_POINT, s);
                !ck.done()
            },
        );
        rounds += 1;
    }

    let samples = std::mem::take(&mut ck.samples);
    crash_recoveries(&mut ck, run, &samples, &dir);
    let _ = std::fs::remove_dir_all(&scratch);
    if ck.violations.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let states = ck.states + ck.recovery_states;
    let line = format!(
        "powerloss states: {states}, violations: {}  [{name}{tag}: {} ops recorded in {:.1}s \
         ({}); {mandatory} states at syncs/markers/end (cap {cap}) + {} at random points + {} of {} crashed recoveries; \
         images ({:.1} GiB) written in {:.1}s, opened in {:.1}s; {:.1}s in all]",
        ck.violations.len(),
        ops.len(),
        recorded.as_secs_f64(),
        trace_summary(&ops),
        ck.states - mandatory,
        ck.recovery_states,
        samples.len(),
        ck.bytes_written as f64 / f64::from(1u32 << 30),
        ck.build_time.as_secs_f64(),
        ck.open_time.as_secs_f64(),
        t0.elapsed().as_secs_f64(),
    );
    Found {
        line,
        states,
        violations: ck.violations,
        dirs: [dir, keep],
    }
}

/// What a workload trace did, in a few counts.
fn trace_summary(ops: &[Op]) -> String {
    let log = format!("{POOL}.log");
    let count = |f: &dyn Fn(&Op) -> bool| ops.iter().filter(|o| f(o)).count();
    format!(
        "{} pool growths, {} pool syncs, {} log writes, {} log syncs, {} directory syncs",
        count(&|o| matches!(o, Op::Falloc { name, .. } if name == POOL)),
        count(&|o| matches!(o, Op::Sync { name, .. } if name == POOL)),
        count(&|o| matches!(o, Op::Write { name, .. } if *name == log)),
        count(&|o| matches!(o, Op::Sync { name, .. } if *name == log)),
        count(&|o| matches!(o, Op::DirSync { .. })),
    )
}

/// Crashes recoveries: records a recovery of each sampled image in a child, then checks
/// the crash states of that recovery's own trace (each must reopen to the state the
/// completed recovery gave).
fn crash_recoveries(ck: &mut Checker<'_>, run: &Run, samples: &[(Image, u64)], dir: &Path) {
    let name = mode_name(run.mode);
    for (n, (img, digest)) in samples.iter().enumerate() {
        if ck.done() {
            break;
        }
        let rdir = dir.join(format!("recover-{n}"));
        check::write_image(&rdir, img);
        let rdir = rdir.canonicalize().unwrap();
        let (rops, out) = run_recorded(
            &format!("recover:{name}:{}:0", run.commits),
            &rdir,
            &dir.join(format!("trace-recover-{n}")),
        );
        let got = out
            .lines()
            .find_map(|l| l.split_once("PL-DIGEST ").map(|(_, d)| d))
            .and_then(|h| u64::from_str_radix(h.trim(), 16).ok());
        if got != Some(*digest) {
            ck.violations.push(Violation {
                at: format!("recovery sample {n}"),
                pending: String::new(),
                error: format!(
                    "a recorded recovery reported {got:x?}, the parent's open {digest:016x}"
                ),
                kept: None,
            });
            continue;
        }
        let mut r = SEED ^ n as u64;
        let extra: BTreeSet<usize> = (0..8)
            .map(|_| (next_rand(&mut r) % rops.len().max(1) as u64) as usize)
            .collect();
        walk(
            &rops,
            img,
            &Points::MandatoryAnd(&extra),
            &Expect::Exact(*digest),
            r,
            &mut |fs, at, e, s| {
                ck.point(fs, &format!("recovery {n}: {at}"), e, RECOVERY, s);
                !ck.done()
            },
        );
    }
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

/// The report of a run: its line, the first violations in full, the kinds counted.
fn describe(found: &Found, shown: usize) -> String {
    let mut s = format!("{}\n", found.line);
    for v in found.violations.iter().take(shown) {
        let _ = writeln!(s, "violation at {}:\n    {}", v.at, v.error);
        if let Some(k) = &v.kept {
            let _ = writeln!(s, "    image kept in {}", k.display());
        }
        let _ = write!(
            s,
            "    pending ops ([A]pplied, [D]ropped, [T]orn):\n{}",
            v.pending
        );
    }
    let mut kinds: Vec<(String, usize)> = Vec::new();
    for v in &found.violations {
        let k = kind_of(&v.error);
        match kinds.iter_mut().find(|(x, _)| *x == k) {
            Some((_, n)) => *n += 1,
            None => kinds.push((k, 1)),
        }
    }
    if !kinds.is_empty() {
        s += "violation kinds (first seen first):\n";
        for (k, n) in &kinds {
            let _ = writeln!(s, "  {n:6} × {k}");
        }
    }
    s
}

fn check_mode(mode: Durability) {
    let target = target_states();
    let found = power_loss(&Run {
        mode,
        commits: COMMITS,
        target,
        broken: None,
        stop_after: usize::MAX,
        recoveries: RECOVERY_SAMPLES,
    });
    print!("{}", describe(&found, 12));
    assert!(found.violations.is_empty(), "{}", found.line);
    assert!(found.states >= target, "{}", found.line);
}

#[test]
fn every_power_loss_state_of_a_full_durability_workload_recovers_to_an_acknowledged_prefix() {
    check_mode(Durability::Full);
}

#[test]
fn every_power_loss_state_of_a_process_durability_workload_recovers_to_a_prefix() {
    check_mode(Durability::Process);
}

#[test]
fn the_harness_catches_engines_that_break_durability() {
    for (broken, mode) in [
        (Broken::SkipLogSync, Durability::Full),
        (Broken::CheckpointBeforeLogDurable, Durability::Process),
        (Broken::PublishBeforePagesSync, Durability::Full),
        (Broken::SkipSlotSync, Durability::Full),
    ] {
        let found = power_loss(&Run {
            mode,
            commits: 40,
            target: 3_000,
            broken: Some(broken),
            stop_after: 3,
            recoveries: 0,
        });
        print!("{}", describe(&found, 1));
        assert!(
            !found.violations.is_empty(),
            "{broken:?} went unnoticed: {}",
            found.line
        );
        for d in &found.dirs {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Migrations (`power_loss/migration.rs`)

/// States per migration run: the default, or `PMEM_POWERLOSS_STATES`.
fn migration_target() -> u64 {
    std::env::var("PMEM_POWERLOSS_STATES")
        .ok()
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(migration::DEFAULT_STATES)
}

fn check_migration(crashed_v1: bool) {
    check_replacement(false, crashed_v1);
}

fn check_replacement(compact: bool, crashed_v1: bool) {
    check_run(compact, false, crashed_v1);
}

fn check_run(compact: bool, auto: bool, crashed_v1: bool) {
    check_any(compact, migration::Compaction::Typed, auto, crashed_v1);
}

fn check_any(compact: bool, how: migration::Compaction, auto: bool, crashed_v1: bool) {
    let target = migration_target();
    let found = migration::run(&migration::Run {
        compact,
        how,
        auto,
        crashed_v1,
        fault: None,
        target,
        stop_after: usize::MAX,
    });
    print!("{}", migration::describe(&found, 12));
    assert!(found.violations.is_empty(), "{}", found.line);
    assert!(found.states >= target, "{}", found.line);
}

#[test]
fn every_power_loss_state_of_a_migration_holds_the_old_pool_or_the_migrated_one() {
    check_migration(false);
}

#[test]
fn every_power_loss_state_of_a_migration_of_a_crashed_pool_holds_the_old_pool_or_the_migrated_one()
{
    check_migration(true);
}

#[test]
fn every_power_loss_state_of_an_automatic_migration_holds_the_old_pool_or_the_migrated_one() {
    check_run(false, true, false);
}

#[test]
fn every_power_loss_state_of_an_automatic_migration_of_a_crashed_pool_holds_the_old_pool_or_the_migrated_one(
) {
    check_run(false, true, true);
}

#[test]
fn every_power_loss_state_of_a_compaction_holds_the_old_pool_or_the_compacted_one() {
    check_replacement(true, false);
}

#[test]
fn every_power_loss_state_of_a_compaction_of_a_crashed_pool_holds_the_old_pool_or_the_compacted_one(
) {
    check_replacement(true, true);
}

#[test]
fn every_power_loss_state_of_an_untyped_compaction_holds_the_old_pool_or_the_compacted_one() {
    check_any(true, migration::Compaction::Untyped, false, false);
}

#[test]
fn every_power_loss_state_of_an_untyped_compaction_of_a_crashed_pool_holds_the_old_pool_or_the_compacted_one(
) {
    check_any(true, migration::Compaction::Untyped, false, true);
}

#[test]
fn the_harness_catches_migrations_that_are_not_atomic() {
    use migration::Fault;
    for fault in [Fault::RenameBeforeClose, Fault::NoDirSyncAfterRename] {
        for crashed_v1 in [false, true] {
            let found = migration::run(&migration::Run {
                compact: false,
                how: migration::Compaction::Typed,
                auto: false,
                crashed_v1,
                fault: Some(fault),
                target: 100,
                stop_after: 3,
            });
            print!("{}", migration::describe(&found, 1));
            assert!(
                !found.violations.is_empty(),
                "{fault:?} went unnoticed: {}",
                found.line
            );
            for d in &found.dirs {
                let _ = std::fs::remove_dir_all(d);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The recorder and the rules themselves

#[test]
fn the_shim_records_what_std_and_libc_do_to_files() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("power_loss-probe-{}", std::process::id()));
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

#[test]
fn the_shim_follows_a_file_it_writes_across_a_rename() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("power_loss-probe-rename-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("d")).unwrap();
    let d = dir.join("d").canonicalize().unwrap();
    let (ops, _) = run_recorded("probe-rename", &d, &dir.join("trace"));
    let shown: Vec<String> = ops.iter().map(ToString::to_string).collect();
    let want = [
        "create x",
        "set_len x 0x1000",
        "create old",
        "rename x -> y",
        "write y @0x0+0x6",
        "write y @0x0+0x200", // the same bytes, seen again through the mapping
        "write y @0x400+0x200",
        "marker \"stored\"",
        "rename y -> old",
        "fdatasync old",
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

#[test]
fn images_written_to_disk_equal_the_images_built_in_memory() {
    let initial = vec![("a".to_string(), vec![1u8; 3000])];
    let ops = [
        w("a", 700, &[2; 2000]),
        Op::Falloc {
            name: "a".into(),
            mode: 0,
            off: 0,
            len: 9000,
        },
        w("a", 8000, &[3; 1500]),
        Op::Link {
            from: "a".into(),
            to: "b".into(),
        },
        Op::Create { name: "c".into() },
        w("c", 100, &[4; 1100]),
        Op::SetSize {
            name: "a".into(),
            size: 5000,
        },
        Op::Falloc {
            name: "a".into(),
            mode: 3, // punch a hole, keep the size
            off: 512,
            len: 1024,
        },
        w("a", 4800, &[5; 600]),
    ];
    let mut fs = Fs::new(&ops, &initial);
    for _ in &ops {
        fs.apply_next().unwrap();
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("power_loss-images-{}", std::process::id()));
    let sets = choice_sets(
        &fs,
        7,
        Budget {
            cap: 200,
            ..MANDATORY
        },
    );
    assert!(sets.len() > 50);
    for choices in &sets {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        fs.write_image(choices, &dir).unwrap();
        let mut on_disk: Image = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().into_string().unwrap(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        on_disk.sort();
        assert!(on_disk == fs.image(choices), "{}", fs.describe(choices, 20));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn file<'i>(img: &'i Image, name: &str) -> Option<&'i Vec<u8>> {
    img.iter().find(|(n, _)| n == name).map(|(_, b)| b)
}

#[test]
fn an_unsynced_write_is_absent_from_some_power_loss_state() {
    let initial = vec![("a".to_string(), vec![1u8; 1024])];
    let ops = [w("a", 0, &[2; 1024])];
    let images = end_images(&ops, &initial);
    assert_eq!(
        file(&images[0], "a").unwrap(),
        &vec![2u8; 1024],
        "the process-crash image has it"
    );
    assert!(images
        .iter()
        .any(|i| file(i, "a").unwrap() == &vec![1u8; 1024]));
    assert!(
        images.iter().any(|i| {
            let a = file(i, "a").unwrap();
            a[..512] != a[512..]
        }),
        "torn at a sector boundary"
    );
    let synced = [
        w("a", 0, &[2; 1024]),
        Op::Sync {
            name: "a".into(),
            data_only: true,
        },
    ];
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
    let synced = [
        ops[0].clone(),
        Op::Sync {
            name: "a".into(),
            data_only: true,
        },
    ];
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
    let images = end_images(std::slice::from_ref(&link), &initial);
    assert!(file(&images[0], "b").is_some());
    assert!(images.iter().any(|i| file(i, "b").is_none()));
    let synced = [
        link,
        Op::DirSync {
            name: String::new(),
        },
    ];
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
    assert!(end_images(&created, &[])
        .iter()
        .any(|i| file(i, "c").is_none()));
}
