//! Opening crash images through the public API and judging what they recover to.
//!
//! [`walk`] replays a trace and calls back at each crash point; [`Checker::point`]
//! builds that point's images, writes each into a scratch directory under the
//! recorded names, opens it (`Pool::open`, every fifth with `open_or_create`), runs
//! `check()`, reads the state's digest, closes it (and every eighth, reopens it), and
//! applies the rules:
//!
//! - before `create` returned, a typed error (or no pool file) is fine; an image that
//!   opens holds the empty bank;
//! - after it, the image opens, is healthy, and holds exactly the first M commits for
//!   some M no larger than the commits begun;
//! - M is at least the commits acknowledged for the process-crash image (both modes)
//!   and for every power-loss image in `Durability::Full`;
//! - a crashed recovery reopens to exactly the completed recovery's state;
//! - nothing panics.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pmem::{Durability, Error, PoolOptions};

use super::states::{choice_sets, Budget, Choice, Fs, Image};
use super::trace::Op;
use super::workload::{digest_pool, Bank, Plan};

/// What the workload had told the world at a crash point.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Progress {
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
            self.begun = k.parse().expect("a commit number");
        } else if let Some(k) = m.strip_prefix("ack ") {
            self.acked = k.parse().expect("a commit number");
        }
        m.clone_into(&mut self.last);
    }

    /// The last marker seen.
    pub(crate) fn last(&self) -> &str {
        &self.last
    }
}

/// What an image must recover to.
#[derive(Clone, Debug)]
pub(crate) enum Expect {
    /// A state of the workload at this point.
    Workload(Progress),
    /// Exactly this state (crashed recoveries: the completed recovery's state).
    Exact(u64),
}

impl Expect {
    fn promises(&self) -> (bool, u64, u64) {
        match self {
            Expect::Workload(p) => (p.created, p.acked, p.begun),
            Expect::Exact(d) => (true, *d, 0),
        }
    }

    fn last_marker(&self) -> String {
        match self {
            Expect::Workload(p) => format!("{:?}", p.last),
            Expect::Exact(_) => "-".into(),
        }
    }
}

/// One broken rule.
pub(crate) struct Violation {
    /// The crash point and image.
    pub(crate) at: String,
    /// The pending ops and what became of each.
    pub(crate) pending: String,
    /// What went wrong.
    pub(crate) error: String,
    /// Where the image was kept.
    pub(crate) kept: Option<PathBuf>,
}

/// How an image is opened.
#[derive(Clone, Copy, Debug)]
enum How {
    Open,
    OpenOrCreate,
}

/// What opening an image gave.
enum Opened {
    Failed(Error),
    Recovered(u64),
}

pub(crate) fn next_rand(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Writes `img`'s files into a fresh `dir`.
pub(crate) fn write_image(dir: &Path, img: &Image) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("creating an image directory");
    for (name, bytes) in img {
        std::fs::write(dir.join(name), bytes).expect("writing an image file");
    }
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}

/// Runs `open` again while it answers `Locked`, or `SameTag` naming a pool of another
/// test. The other test threads of this process start children; a child forked while
/// this thread held a pool open keeps the pool's lock (an `flock` on the shared open
/// file) until it execs, so a close followed by a reopen can briefly see its own pool
/// as locked. And the tests of this file share one process, as no application's pools
/// do: a pool another test created can have this image's 16-bit tag (1 in 65,536; new
/// pools avoid the tags this process has opened, so only before the first open), and
/// is open for a moment only.
pub(crate) fn retry_locked<T>(mut open: impl FnMut() -> Result<T, Error>) -> Result<T, Error> {
    let mut tries = 0;
    loop {
        match open() {
            Err(Error::Locked { .. }) if tries < 200 => {}
            Err(Error::SameTag {
                ref pool,
                ref other,
            }) if tries < 200 && pool.parent() != other.parent() => {}
            r => return r,
        }
        tries += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Opens images and applies the rules; counts states and collects violations.
pub(crate) struct Checker<'a> {
    options: PoolOptions,
    mode: Durability,
    pool_name: &'a str,
    plan: &'a Plan,
    /// digest → M.
    prefix: HashMap<u64, u64>,
    scratch: PathBuf,
    /// Where images that broke a rule are kept (`0`, `1`, ...).
    keep_root: PathBuf,
    /// Workload states checked.
    pub(crate) states: u64,
    /// States of crashed recoveries checked.
    pub(crate) recovery_states: u64,
    pub(crate) violations: Vec<Violation>,
    /// Stop checking once this many violations are known.
    pub(crate) stop_after: usize,
    /// Recoveries to crash: (image, digest), a seeded reservoir sample.
    pub(crate) samples: Vec<(Image, u64)>,
    sample_size: usize,
    seen_for_sampling: u64,
    rng: u64,
    /// Time spent building and writing images, and opening them.
    pub(crate) build_time: Duration,
    pub(crate) open_time: Duration,
    /// Bytes written into images.
    pub(crate) bytes_written: u64,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(
        options: PoolOptions,
        mode: Durability,
        pool_name: &'a str,
        plan: &'a Plan,
        scratch: PathBuf,
        keep_root: PathBuf,
        sample_size: usize,
    ) -> Self {
        let prefix = plan
            .digests
            .iter()
            .enumerate()
            .map(|(m, d)| (*d, m as u64))
            .collect();
        Checker {
            options,
            mode,
            pool_name,
            plan,
            prefix,
            scratch,
            keep_root,
            states: 0,
            recovery_states: 0,
            violations: Vec::new(),
            stop_after: usize::MAX,
            samples: Vec::new(),
            sample_size,
            seen_for_sampling: 0,
            rng: 0x5a5a,
            build_time: Duration::ZERO,
            open_time: Duration::ZERO,
            bytes_written: 0,
        }
    }

    /// Has it seen enough violations to stop?
    pub(crate) fn done(&self) -> bool {
        self.violations.len() >= self.stop_after
    }

    /// Opens the image in the scratch directory; `Err` is a rule broken on the way.
    fn open_image(&self, how: How, reopen: bool) -> Result<Opened, String> {
        let path = self.scratch.join(self.pool_name);
        let opts = &self.options;
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let pool = retry_locked(|| match how {
                How::Open => opts.open::<Bank>(&path),
                How::OpenOrCreate => opts.open_or_create::<Bank>(&path),
            });
            let pool = match pool {
                Ok(p) => p,
                Err(e) => return Ok(Opened::Failed(e)),
            };
            pool.check()
                .map_err(|e| format!("check after recovery: {e}"))?;
            let d = pool
                .read(|b| digest_pool(b, &self.plan.blobs))
                .map_err(|e| format!("read: {e}"))??;
            pool.close()
                .map_err(|e| format!("close after recovery: {e}"))?;
            if reopen {
                let again = retry_locked(|| opts.open::<Bank>(&path))
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
    pub(crate) fn point(
        &mut self,
        fs: &Fs<'_>,
        at: &str,
        expect: &Expect,
        budget: Budget,
        seed: u64,
    ) {
        for (k, choices) in choice_sets(fs, seed, budget).iter().enumerate() {
            if self.done() {
                return;
            }
            let process_crash = choices.iter().all(|c| *c == Choice::Apply);
            let t = Instant::now();
            let _ = std::fs::remove_dir_all(&self.scratch);
            std::fs::create_dir_all(&self.scratch).expect("creating the scratch directory");
            self.bytes_written += fs
                .write_image(choices, &self.scratch)
                .expect("writing an image");
            self.build_time += t.elapsed();
            let n = self.states + self.recovery_states;
            let workload = matches!(expect, Expect::Workload(_));
            let how = if n % 5 == 4 && workload {
                How::OpenOrCreate
            } else {
                How::Open
            };
            let t = Instant::now();
            let verdict = self
                .open_image(how, n % 8 == 0)
                .and_then(|o| self.judge(o, expect, process_crash));
            self.open_time += t.elapsed();
            if workload {
                self.states += 1;
            } else {
                self.recovery_states += 1;
            }
            match verdict {
                Ok(Some(d)) if matches!(how, How::Open) && workload => self.sample(fs, choices, d),
                Ok(_) => {}
                Err(error) => {
                    let kept = (self.violations.len() < 20).then(|| {
                        let d = self.keep_root.join(self.violations.len().to_string());
                        write_image(&d, &fs.image(choices));
                        d
                    });
                    let kind = if process_crash {
                        "process crash"
                    } else {
                        "power loss"
                    };
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
    fn judge(
        &self,
        o: Opened,
        expect: &Expect,
        process_crash: bool,
    ) -> Result<Option<u64>, String> {
        match (o, expect) {
            // Before `create` returned, a typed error (or no file) is fine.
            (Opened::Failed(_), Expect::Workload(p)) if !p.created => Ok(None),
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
                    return Err(format!(
                        "contents are not the first M commits for any M (digest {d:016x})"
                    ));
                };
                if m > p.begun {
                    return Err(format!("holds {m} commits but only {} had begun", p.begun));
                }
                let durable_needed = process_crash || self.mode.survives_power_loss();
                if durable_needed && m < p.acked {
                    return Err(format!(
                        "holds {m} commits but {} were acknowledged before the {}",
                        p.acked,
                        if process_crash {
                            "process crash"
                        } else {
                            "power loss"
                        }
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

    fn sample(&mut self, fs: &Fs<'_>, choices: &[Choice], d: u64) {
        self.seen_for_sampling += 1;
        if self.samples.len() < self.sample_size {
            self.samples.push((fs.image(choices), d));
        } else {
            let j = next_rand(&mut self.rng) % self.seen_for_sampling;
            if (j as usize) < self.sample_size {
                self.samples[j as usize] = (fs.image(choices), d);
            }
        }
    }
}

/// Which ops get a crash point in a walk.
pub(crate) enum Points<'p> {
    /// Before each sync, at each marker, at the end.
    Mandatory,
    /// Before each sync, at each marker, at the end, and before these ops.
    MandatoryAnd(&'p BTreeSet<usize>),
    /// Only before these ops (`usize::MAX`: at the end).
    Only(&'p BTreeSet<usize>),
}

/// Replays `ops` over `initial` and calls `visit(fs, description, expectation, seed)`
/// at every crash point, until it answers `false`.
pub(crate) fn walk(
    ops: &[Op],
    initial: &[(String, Vec<u8>)],
    points: &Points<'_>,
    base: &Expect,
    seed: u64,
    visit: &mut dyn FnMut(&Fs<'_>, &str, &Expect, u64) -> bool,
) {
    let mut fs = Fs::new(ops, initial);
    let mut expect = base.clone();
    let mut last_visit = None;
    let mut changes = 0usize;
    for (i, op) in ops.iter().enumerate() {
        if let (Op::Marker(m), Expect::Workload(p)) = (op, &mut expect) {
            p.see(m);
        }
        let mandatory = op.is_sync() || matches!(op, Op::Marker(_));
        let wanted = match points {
            Points::Mandatory => mandatory,
            Points::MandatoryAnd(set) => mandatory || set.contains(&i),
            Points::Only(set) => set.contains(&i),
        };
        // A point with nothing new since the last one (no op replayed, the same
        // promises) would only repeat its images.
        let key = (changes, expect.promises());
        if wanted && last_visit != Some(key) {
            let at = format!(
                "crash before op #{i} ({op}; last marker {})",
                expect.last_marker()
            );
            if !visit(
                &fs,
                &at,
                &expect,
                seed ^ (i as u64).wrapping_mul(0x9e37_79b9),
            ) {
                return;
            }
            last_visit = Some(key);
        }
        fs.apply_next().expect("a consistent trace");
        if !matches!(op, Op::Marker(_)) {
            changes += 1;
        }
    }
    let at_end = match points {
        Points::Mandatory | Points::MandatoryAnd(_) => true,
        Points::Only(set) => set.contains(&usize::MAX),
    };
    if at_end {
        let at = format!(
            "crash at the end ({} ops; last marker {})",
            ops.len(),
            expect.last_marker()
        );
        visit(&fs, &at, &expect, seed ^ 0xe4d);
    }
}

/// The largest per-point cap from `caps` whose mandatory points of `ops` (replayed over
/// the files `initial`) yield at most `target` images (the smallest cap when none does).
pub(crate) fn fit_cap(
    ops: &[Op],
    initial: &[(String, Vec<u8>)],
    base: &Expect,
    seed: u64,
    budget: Budget,
    caps: &[usize],
    target: u64,
) -> usize {
    let mut best = caps[0];
    for &cap in caps {
        let b = Budget { cap, ..budget };
        let mut n = 0u64;
        walk(
            ops,
            initial,
            &Points::Mandatory,
            base,
            seed,
            &mut |fs, _, _, s| {
                n += choice_sets(fs, s, b).len() as u64;
                true
            },
        );
        if n > target {
            break;
        }
        best = cap;
    }
    best
}
