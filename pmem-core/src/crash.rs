//! The crash-state harness (DESIGN §9, ARCHITECTURE §10).
//!
//! A workload runs on the simulated medium (`sim`), which records every write, growth
//! and sync of the pool file and the log in one trace, with a marker after each step
//! (one transaction) returns. The harness then walks the trace and, at every
//! *persistence point* — just before each sync takes effect, at each marker, and at the
//! end — builds the disk images a crash could leave:
//!
//! - the *process-crash* image: every write issued so far (the page cache survives);
//! - *power-loss* images: each write not yet covered by a sync applied, dropped, or torn
//!   at 512-byte sectors. All combinations when there are few such writes; otherwise
//!   every single and pairwise deviation from "all applied" and "all dropped" (pairs
//!   sampled when there are many) plus seeded random combinations.
//!
//! Each image is opened (recovery runs), must pass `Pool::check`, and its logical state
//! (`observe`) must equal the state before or after the step in flight, with every
//! acknowledged step present. In `Durability::Process` a power-loss image may also be
//! any earlier state (a consistent prefix), since that mode does not promise power-loss
//! durability. Some images are also crashed *during recovery*: the recovery's own trace
//! is enumerated the same way and every result must equal the completed recovery's.

use std::fmt::Debug;

use crate::engine::Durability;
use crate::error::Result;
use crate::pool::{Pool, PoolOptions};
use crate::psafe::Persistent;
use crate::sim::{Event, FileId, SimDisk};

/// Settings of a crash-state run.
#[derive(Clone, Debug)]
pub struct CrashConfig {
    /// Durability of the pool under test.
    pub durability: Durability,
    /// Enumerate all 3^n combinations when at most this many writes are unsynced.
    pub exhaustive_limit: usize,
    /// Random combinations per persistence point when not exhaustive.
    pub random_images: usize,
    /// At most this many pairwise deviations per persistence point.
    pub max_pairs: usize,
    /// Seed of the random choices.
    pub seed: u64,
    /// Crash the recovery of every n-th image too (0: never).
    pub recovery_crash_every: usize,
    /// Log size that triggers a checkpoint (small values exercise checkpoints often).
    pub checkpoint_threshold: u64,
    /// Initial pool size.
    pub initial_size: u64,
    /// Maximum pool size.
    pub max_size: u64,
}

impl Default for CrashConfig {
    fn default() -> Self {
        CrashConfig {
            durability: Durability::Full,
            exhaustive_limit: 5,
            random_images: 8,
            max_pairs: 24,
            seed: 0x5eed_cafe,
            recovery_crash_every: 17,
            checkpoint_threshold: 8 << 10,
            initial_size: 64 << 10,
            max_size: 64 << 20,
        }
    }
}

/// What a run checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CrashReport {
    /// Crash images opened and verified (recovery crashes included).
    pub images: u64,
    /// Persistence points visited.
    pub crash_points: u64,
    /// Images made by crashing a recovery.
    pub recovery_images: u64,
}

/// One step of a workload: runs exactly one transaction on the pool.
pub type Step<R> = Box<dyn FnOnce(&mut Pool<R>)>;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[derive(Clone)]
struct Pending {
    file: FileId,
    off: u64,
    data: Vec<u8>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Applied,
    Dropped,
    /// Torn: sectors applied per the bits of a mask (seeded).
    Torn(u64),
}

fn apply(img: &mut Vec<u8>, off: u64, data: &[u8]) {
    let end = off as usize + data.len();
    if img.len() < end {
        img.resize(end, 0);
    }
    img[off as usize..end].copy_from_slice(data);
}

fn apply_torn(img: &mut Vec<u8>, p: &Pending, mask: u64) {
    let sector = crate::layout::SECTOR;
    let mut at = p.off;
    let end = p.off + p.data.len() as u64;
    let mut i = 0u32;
    while at < end {
        let next = ((at / sector) + 1) * sector;
        let stop = next.min(end);
        if mask.rotate_right(i % 64) & 1 == 1 {
            let s = (at - p.off) as usize;
            apply(img, at, &p.data[s..s + (stop - at) as usize]);
        }
        at = stop;
        i += 1;
    }
}

fn build(durable: &[Vec<u8>; 2], pending: &[Pending], fates: &[Fate]) -> [Vec<u8>; 2] {
    let mut img = durable.clone();
    for (p, f) in pending.iter().zip(fates) {
        let file = &mut img[p.file as usize];
        match *f {
            Fate::Applied => apply(file, p.off, &p.data),
            Fate::Dropped => {}
            Fate::Torn(mask) => apply_torn(file, p, mask),
        }
    }
    img
}

/// The fate combinations to try for `n` unsynced writes.
fn combinations(n: usize, cfg: &CrashConfig, rng: &mut Rng) -> Vec<Vec<Fate>> {
    let mut out = Vec::new();
    if n == 0 {
        return vec![Vec::new()];
    }
    if n <= cfg.exhaustive_limit {
        let total = 3usize.pow(n as u32);
        for mut k in 0..total {
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(match k % 3 {
                    0 => Fate::Applied,
                    1 => Fate::Dropped,
                    _ => Fate::Torn(rng.next()),
                });
                k /= 3;
            }
            out.push(v);
        }
        return out;
    }
    let all = |f: Fate| vec![f; n];
    out.push(all(Fate::Applied));
    out.push(all(Fate::Dropped));
    for i in 0..n {
        let mut v = all(Fate::Applied);
        v[i] = Fate::Dropped;
        out.push(v.clone());
        v[i] = Fate::Torn(rng.next());
        out.push(v);
        let mut w = all(Fate::Dropped);
        w[i] = Fate::Applied;
        out.push(w);
    }
    let pairs = n * (n - 1) / 2;
    for k in 0..pairs.min(cfg.max_pairs) {
        let (i, j) = if pairs <= cfg.max_pairs {
            let mut i = 0;
            let mut rem = k;
            while rem >= n - 1 - i {
                rem -= n - 1 - i;
                i += 1;
            }
            (i, i + 1 + rem)
        } else {
            let i = rng.below(n as u64) as usize;
            let j = (i + 1 + rng.below(n as u64 - 1) as usize) % n;
            (i.min(j), i.max(j))
        };
        let mut v = all(Fate::Applied);
        v[i] = Fate::Dropped;
        v[j] = Fate::Dropped;
        out.push(v);
        let mut w = all(Fate::Dropped);
        w[i] = Fate::Applied;
        w[j] = Fate::Applied;
        out.push(w);
    }
    for _ in 0..cfg.random_images {
        out.push(
            (0..n)
                .map(|_| match rng.below(3) {
                    0 => Fate::Applied,
                    1 => Fate::Dropped,
                    _ => Fate::Torn(rng.next()),
                })
                .collect(),
        );
    }
    out
}

/// Calls `visit(image, process_crash, acked)` for each crash image of `trace` starting
/// from `base`.
fn for_each_image(
    base: [Vec<u8>; 2],
    trace: &[Event],
    cfg: &CrashConfig,
    rng: &mut Rng,
    mut visit: impl FnMut([Vec<u8>; 2], bool, u64) -> std::result::Result<(), String>,
) -> std::result::Result<u64, String> {
    let mut durable = base;
    let mut pending: Vec<Pending> = Vec::new();
    let mut acked = 0u64;
    let mut points = 0u64;
    let mut point = |durable: &[Vec<u8>; 2], pending: &[Pending], acked: u64, rng: &mut Rng| {
        points += 1;
        let all = vec![Fate::Applied; pending.len()];
        visit(build(durable, pending, &all), true, acked)?;
        for fates in combinations(pending.len(), cfg, rng) {
            if fates.iter().all(|f| *f == Fate::Applied) {
                continue;
            }
            visit(build(durable, pending, &fates), false, acked)?;
        }
        Ok::<(), String>(())
    };
    for ev in trace {
        match ev {
            Event::Write { file, off, data } => pending.push(Pending {
                file: *file,
                off: *off,
                data: data.clone(),
            }),
            Event::Grow { file, len } => {
                let f = &mut durable[*file as usize];
                if (f.len() as u64) < *len {
                    f.resize(*len as usize, 0);
                }
            }
            Event::Shrink { file, len } => {
                durable[*file as usize].truncate(*len as usize);
                for p in pending.iter_mut().filter(|p| p.file == *file) {
                    let end = (p.off + p.data.len() as u64).min(*len);
                    p.data.truncate(end.saturating_sub(p.off) as usize);
                }
            }
            Event::Sync { file } => {
                point(&durable, &pending, acked, rng)?;
                let (mine, rest): (Vec<Pending>, Vec<Pending>) =
                    pending.drain(..).partition(|p| p.file == *file);
                for p in mine {
                    apply(&mut durable[p.file as usize], p.off, &p.data);
                }
                pending = rest;
            }
            Event::Mark(m) => {
                acked = *m;
                point(&durable, &pending, acked, rng)?;
            }
        }
    }
    point(&durable, &pending, acked, rng)?;
    Ok(points)
}

fn options(cfg: &CrashConfig) -> PoolOptions {
    PoolOptions::new()
        .durability(cfg.durability)
        .checkpoint_threshold(cfg.checkpoint_threshold)
        .initial_size(cfg.initial_size)
        .max_size(cfg.max_size)
}

fn recover_and_observe<R: Persistent, S>(
    cfg: &CrashConfig,
    disk: &SimDisk,
    observe: &impl Fn(&R) -> S,
) -> Result<S> {
    let pool = options(cfg).open_sim::<R>(disk)?;
    pool.check()?;
    pool.read(observe)
}

/// Runs `steps` after `setup` on a simulated disk and verifies every crash image (see
/// the module docs). Answers what was checked, or the first violation.
///
/// # Errors
/// A description of the first image that failed to recover, failed `Pool::check`, or
/// recovered to a state that is not allowed.
///
/// # Examples
///
/// ```
/// use pmem_core::crash::{check_crash_states, CrashConfig, Step};
/// use pmem_core::Pool;
/// let steps: Vec<Step<u64>> = (0..3)
///     .map(|_| Box::new(|p: &mut Pool<u64>| {
///         p.tx(|tx| { *tx.root_mut() += 1; Ok::<_, pmem_core::Error>(()) }).unwrap();
///     }) as Step<u64>)
///     .collect();
/// let report = check_crash_states(&CrashConfig::default(), |_| {}, steps, |n: &u64| *n).unwrap();
/// assert!(report.images > 10);
/// ```
pub fn check_crash_states<R, S>(
    cfg: &CrashConfig,
    setup: impl FnOnce(&mut Pool<R>),
    steps: Vec<Step<R>>,
    observe: impl Fn(&R) -> S,
) -> std::result::Result<CrashReport, String>
where
    R: Persistent + Default,
    S: PartialEq + Debug + Clone,
{
    let disk = SimDisk::new();
    let mut pool = options(cfg)
        .create_sim::<R>(&disk)
        .map_err(|e| format!("create: {e}"))?;
    setup(&mut pool);
    let base = [disk.file(FileId::Pool), disk.file(FileId::Log)];
    let mut states = vec![pool.read(&observe).map_err(|e| format!("read: {e}"))?];
    disk.start_recording();
    for (i, step) in steps.into_iter().enumerate() {
        step(&mut pool);
        disk.mark(i as u64 + 1);
        states.push(
            pool.read(&observe)
                .map_err(|e| format!("read after step {}: {e}", i + 1))?,
        );
    }
    drop(pool); // closing checkpoints: its writes are crash points too
    let trace = disk.take_trace();

    let mut rng = Rng(cfg.seed | 1);
    let mut report = CrashReport::default();
    let mut rec_rng = Rng(cfg.seed.rotate_left(17) | 1);
    let points = for_each_image(base, &trace, cfg, &mut rng, |img, process_crash, acked| {
        report.images += 1;
        let describe = |what: String| {
            format!(
                "crash image {} (after {acked} acknowledged steps, {}): {what}",
                report.images,
                if process_crash {
                    "process crash"
                } else {
                    "power loss"
                }
            )
        };
        let [pool_img, log_img] = img;
        let disk = SimDisk::from_images(pool_img.clone(), log_img.clone());
        let state = recover_and_observe(cfg, &disk, &observe)
            .map_err(|e| describe(format!("recovery failed: {e}")))?;
        let a = acked as usize;
        let allowed: &[S] = if !process_crash && cfg.durability == Durability::Process {
            &states[..(a + 2).min(states.len())]
        } else {
            &states[a..(a + 2).min(states.len())]
        };
        if !allowed.contains(&state) {
            return Err(describe(format!(
                "recovered state {state:?} is none of the allowed {allowed:?}"
            )));
        }
        if cfg.recovery_crash_every > 0 && report.images % cfg.recovery_crash_every as u64 == 0 {
            let rbase = [pool_img.clone(), log_img.clone()];
            let rdisk = SimDisk::from_images(pool_img, log_img);
            rdisk.start_recording();
            let expected = recover_and_observe(cfg, &rdisk, &observe)
                .map_err(|e| describe(format!("recovery failed: {e}")))?;
            let rtrace = rdisk.take_trace();
            let mut nested = 0u64;
            for_each_image(rbase, &rtrace, cfg, &mut rec_rng, |img2, _, _| {
                nested += 1;
                let [p, l] = img2;
                let d = SimDisk::from_images(p, l);
                let s = recover_and_observe(cfg, &d, &observe).map_err(|e| {
                    describe(format!(
                        "crash during recovery, second recovery failed: {e}"
                    ))
                })?;
                if s != expected {
                    return Err(describe(format!(
                        "crash during recovery changed the state: {s:?} instead of {expected:?}"
                    )));
                }
                Ok(())
            })?;
            report.recovery_images += nested;
        }
        Ok(())
    })?;
    report.crash_points = points;
    report.images += report.recovery_images;
    Ok(report)
}
