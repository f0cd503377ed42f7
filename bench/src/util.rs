//! Small shared pieces: a seeded generator, the workload-1 key/value generator, peak-RSS
//! probes, directory sizes, and the line protocol a child process reports results in.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

/// splitmix64: tiny, seedable, good enough to pick keys and fill values.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (multiply-shift: no division on the measured path).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

pub const KEY: usize = 24;
pub const VAL: usize = 150;
pub type Key = [u8; KEY];
pub type Val = [u8; VAL];

/// Workload 1's data: entry `i` is a pure function of (seed, i), so every engine sees
/// exactly the same keys in the same order. Each phase's keys (and values, for inserts)
/// are generated before the phase starts, as other harnesses do, so that the timed loop
/// is the engine's work alone; the phase's peak RSS leaves that input out.
#[derive(Clone, Copy)]
pub struct Data {
    pub seed: u64,
}

impl Data {
    pub fn key(&self, i: u64) -> Key {
        let mut r = Rng::new(self.seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ i.wrapping_mul(0xd6e8_feb8_6659_fd93));
        let mut k = [0u8; KEY];
        r.fill(&mut k);
        k
    }
    pub fn value(&self, i: u64) -> Val {
        let mut r = Rng::new(!self.seed ^ i.wrapping_mul(0xa076_1d64_78bd_642f));
        let mut v = [0u8; VAL];
        r.fill(&mut v);
        v
    }
    /// Entries `from..to`, generated ahead of a timed phase.
    pub fn entries(&self, from: u64, to: u64) -> Vec<(Key, Val)> {
        (from..to).map(|i| (self.key(i), self.value(i))).collect()
    }
    /// The keys of entries `idx`, generated ahead of a timed phase.
    pub fn keys(&self, idx: impl Iterator<Item = u64>) -> Vec<Key> {
        idx.map(|i| self.key(i)).collect()
    }
}

/// Resets the kernel's peak-RSS counter of this process (VmHWM) to the current RSS.
/// Linux ≥ 4.0: writing "5" to /proc/self/clear_refs.
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident set size of this process since the last reset, in KiB (VmHWM).
pub fn peak_rss_kib() -> u64 {
    status_field("VmHWM:")
}

fn status_field(name: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Bytes the files under `dir` occupy on disk (allocated blocks, so sparse holes in a
/// preallocated or mapped file do not count).
pub fn disk_bytes(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if let Ok(m) = e.metadata() {
                if m.is_dir() {
                    total += disk_bytes(&e.path());
                } else {
                    total += m.blocks() * 512;
                }
            }
        }
    }
    total
}

pub fn fresh_dir(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("create bench dir");
}

/// One measured phase, as a child reports it to the parent on stdout:
/// `phase ROW ns=TOTAL ops=COUNT hwm_kib=PEAK file_bytes=BYTES`.
pub struct Phase {
    row: String,
    ops: u64,
    faults: (u64, u64),
    /// KiB of pre-generated input resident before the phase, subtracted from its peak.
    excluded_kib: u64,
    start: Instant,
}

/// (minor, major) page faults of this process so far.
fn faults() -> (u64, u64) {
    // SAFETY: getrusage fills the struct it is given.
    unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        (ru.ru_minflt as u64, ru.ru_majflt as u64)
    }
}

impl Phase {
    pub fn start(row: &str, ops: u64) -> Self {
        reset_peak_rss();
        let faults = faults();
        Phase { row: row.to_string(), ops, faults, excluded_kib: 0, start: Instant::now() }
    }
    /// Like [`Phase::start`], for a phase whose input (`bytes` of keys and values,
    /// generated before the phase and resident) is not the engine's memory: the peak
    /// reported is the process's less those bytes.
    pub fn start_with_input(row: &str, ops: u64, bytes: usize) -> Self {
        let mut ph = Phase::start(row, ops);
        ph.excluded_kib = (bytes / 1024) as u64;
        ph
    }
    pub fn elapsed_secs(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
    /// Ends the phase after `ops` operations (fewer than announced when a time cap
    /// stopped the loop early).
    pub fn end_after(mut self, ops: u64, dir: Option<&Path>) {
        self.ops = ops;
        self.end(dir);
    }
    /// Ends the phase; `dir` is measured for the file size (`None`: in-memory engine).
    pub fn end(self, dir: Option<&Path>) {
        let ns = self.start.elapsed().as_nanos();
        let f = faults();
        let extra = format!(" minflt={} majflt={}", f.0 - self.faults.0, f.1 - self.faults.1);
        let hwm = peak_rss_kib().saturating_sub(self.excluded_kib);
        report_with(&self.row, ns as f64, self.ops, hwm, dir.map(disk_bytes), &extra);
    }
}

pub fn report(row: &str, ns: f64, ops: u64, hwm_kib: u64, file: Option<u64>) {
    report_with(row, ns, ops, hwm_kib, file, "");
}

fn report_with(row: &str, ns: f64, ops: u64, hwm_kib: u64, file: Option<u64>, extra: &str) {
    let mut line = format!("phase {row} ns={ns:.0} ops={ops} hwm_kib={hwm_kib}");
    if let Some(f) = file {
        let _ = write!(line, " file_bytes={f}");
    }
    println!("{line}{extra}");
}

/// Prevents the optimiser from discarding reads.
#[inline]
pub fn consume(x: u64) {
    std::hint::black_box(x);
}

/// Diagnostic: `files PATH apparent=BYTES allocated=BYTES` for each file under `dir`
/// (the parent ignores these lines; they explain a file-size row).
pub fn list_files(dir: &Path) {
    use std::os::unix::fs::MetadataExt;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if let Ok(m) = e.metadata() {
                if m.is_dir() {
                    list_files(&e.path());
                } else {
                    println!("files {} apparent={} allocated={}", e.path().display(), m.len(), m.blocks() * 512);
                }
            }
        }
    }
}
