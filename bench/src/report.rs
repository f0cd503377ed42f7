//! The rows, their targets (issue 5), the tables (text and Markdown), the
//! machine-readable `row ...` lines, and the SVG chart of ratios.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::Config;

/// Engines that commit durably where a row says so; the best of them is "best peer".
/// `std` is the in-memory limit, shown for reference and never a best peer.
const PEERS: &[&str] = &["redb", "sqlite", "sqlite-wal", "lmdb"];

#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub ns_per_op: f64,
    pub hwm_kib: u64,
    pub file_bytes: Option<u64>,
    /// Operations the sample's phase did.
    pub ops: f64,
    /// fdatasync + fsync calls during the phase, where the child counted them.
    pub syncs: Option<f64>,
}

#[derive(Default)]
pub struct Results {
    samples: BTreeMap<(String, String), Vec<Sample>>,
    pub pending: BTreeSet<String>,
}

impl Results {
    pub fn add(&mut self, phase: &str, engine: &str, s: Sample) {
        self.samples.entry((phase.to_string(), engine.to_string())).or_default().push(s);
    }
    /// Every repetition's sample of one phase and engine.
    pub fn samples(&self, phase: &str, engine: &str) -> &[Sample] {
        self.samples.get(&(phase.to_string(), engine.to_string())).map_or(&[], Vec::as_slice)
    }
    /// Median over repetitions of each quantity.
    fn median(&self, phase: &str, engine: &str) -> Option<Med> {
        let v = self.samples.get(&(phase.to_string(), engine.to_string()))?;
        let ns = median(v.iter().map(|s| s.ns_per_op).collect());
        let hwm = median(v.iter().map(|s| s.hwm_kib as f64).collect());
        let files: Vec<f64> = v.iter().filter_map(|s| s.file_bytes).map(|b| b as f64).collect();
        let file = (!files.is_empty()).then(|| median(files));
        Some(Med { value: ns, hwm_kib: hwm, file_bytes: file, reps: v.len() })
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Med {
    /// ns per op, or bytes for size rows.
    pub value: f64,
    pub hwm_kib: f64,
    pub file_bytes: Option<f64>,
    pub reps: usize,
}

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Unit {
    NsPerOp,
    Bytes,
}

#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// Ratio to the best peer at or below this.
    Best(f64),
    /// Ratio to the best peer ≤ 1.0 and to LMDB below this.
    BestAndLmdb(f64),
    /// Ratio to the fdatasync floor at or below this.
    Floor(f64),
    /// Absolute time per operation at or below this many ns.
    AbsNs(f64),
    /// A `.tN` row of N threads: pmem's rate at least this × N × its 1-thread rate.
    Scaling(f64),
    /// Ratio to pmem's own `peer_phase` (a bulk load of the same records) at or below this.
    BulkLoad(f64),
    /// Ratio to `peer_phase` run by pmem's side of the harness (not an engine: a tool such
    /// as `cp`, named by the label) at or below this.
    Own(&'static str, f64),
    None,
}

/// The label of a row measured against another phase of pmem's own side.
fn own_baseline(t: Target) -> Option<&'static str> {
    match t {
        Target::BulkLoad(_) => Some("bulk load"),
        Target::Own(label, _) => Some(label),
        _ => None,
    }
}

pub struct RowDef {
    pub name: &'static str,
    /// Phase whose pmem samples are the row's pmem value.
    pub pmem_phase: &'static str,
    /// Phase whose samples of the other engines are the row's peers.
    pub peer_phase: &'static str,
    pub unit: Unit,
    pub target: Target,
    /// What one op is.
    pub op: &'static str,
}

pub fn rows() -> Vec<RowDef> {
    use Target::*;
    use Unit::*;
    let r = |name, pmem_phase, peer_phase, unit, target, op| RowDef { name, pmem_phase, peer_phase, unit, target, op };
    vec![
        r("floor.fdatasync", "floor.fdatasync", "floor.fdatasync", NsPerOp, None, "512-byte pwrite + fdatasync"),
        r("floor.fdatasync_fallocated", "floor.fdatasync_fallocated", "floor.fdatasync_fallocated", NsPerOp, None, "same, into fallocated blocks"),
        r("floor.w2.fdatasync", "floor.w2.fdatasync", "floor.w2.fdatasync", NsPerOp, None, "floor again, before each w2 Full rep"),
        r("floor.rr.fdatasync", "floor.rr.fdatasync", "floor.rr.fdatasync", NsPerOp, None, "floor interleaved with w1 commits"),
        r("floor.rr.fdatasync_fallocated", "floor.rr.fdatasync_fallocated", "floor.rr.fdatasync_fallocated", NsPerOp, None, "same, new fallocated 4 KiB block each"),
        r("w1.bulk_load", "w1.bulk_load", "w1.bulk_load", NsPerOp, Best(1.0), "insert (N in one tx)"),
        r("w1.individual_commits", "w1.individual_commits", "w1.individual_commits", NsPerOp, Best(1.0), "durable 1-insert commit"),
        r("w1.individual_commits_rr", "w1.individual_commits_rr", "w1.individual_commits_rr", NsPerOp, Best(1.0), "same, engines interleaved"),
        r("w1.commit_vs_floor", "w1.individual_commits_rr", "floor.rr.fdatasync", NsPerOp, Floor(1.2), "interleaved commit vs fdatasync"),
        r("w1.batch_commits", "w1.batch_commits", "w1.batch_commits", NsPerOp, Best(1.0), "insert (1,000 per commit)"),
        r("w1.random_reads", "w1.random_reads", "w1.random_reads", NsPerOp, BestAndLmdb(0.7), "point read"),
        r("w1.range_reads", "w1.range_reads", "w1.range_reads", NsPerOp, BestAndLmdb(0.7), "range read of 10"),
        r("w1.remove_half", "w1.remove_half", "w1.remove_half", NsPerOp, Best(1.0), "remove (N/2 in one tx)"),
        r("w1.file_size", "w1.file_size", "w1.file_size", Bytes, Best(1.0), "bytes on disk at the end"),
        r("w2.update3_hand.full", "w2.update3_hand.full", "w2.update3.full", NsPerOp, AbsNs(150_000.0), "tx: 3 fields of 1 of 100k records"),
        r("w2.update3_derive.full", "w2.update3_derive.full", "w2.update3.full", NsPerOp, AbsNs(150_000.0), "same, generated accessors"),
        r("w2.alloc_link.full", "w2.alloc_link.full", "w2.alloc_link.full", NsPerOp, AbsNs(150_000.0), "tx: alloc 56-byte node, link at head"),
        r("w2.hash_insert.full", "w2.hash_insert.full", "w2.hash_insert.full", NsPerOp, AbsNs(150_000.0), "tx: one u64→u64 insert"),
        r("w2.hash_lookup.full", "w2.hash_lookup.full", "w2.hash_lookup.full", NsPerOp, AbsNs(40.0), "lookup of a present key"),
        r("w2.update3_hand.process", "w2.update3_hand.process", "w2.update3.process", NsPerOp, AbsNs(400.0), "tx: 3 fields of 1 of 100k records"),
        r("w2.update3_derive.process", "w2.update3_derive.process", "w2.update3.process", NsPerOp, AbsNs(400.0), "same, generated accessors"),
        r("w2.alloc_link.process", "w2.alloc_link.process", "w2.alloc_link.process", NsPerOp, AbsNs(1000.0), "tx: alloc 56-byte node, link at head"),
        r("w2.hash_insert.process", "w2.hash_insert.process", "w2.hash_insert.process", NsPerOp, AbsNs(1000.0), "tx: one u64→u64 insert"),
        r("w2.hash_lookup.process", "w2.hash_lookup.process", "w2.hash_lookup.process", NsPerOp, AbsNs(40.0), "lookup of a present key"),
        r("floor.w3.fdatasync", "floor.w3.fdatasync", "floor.w3.fdatasync", NsPerOp, None, "floor again, before each w3 thread count"),
        r("w3.durable_commits_threads.t1", "w3.durable_commits_threads.t1", "w3.durable_commits_threads.t1", NsPerOp, Scaling(0.8), "durable +1 to one u64, 1 thread (time ÷ commits)"),
        r("w3.durable_commits_threads.t2", "w3.durable_commits_threads.t2", "w3.durable_commits_threads.t2", NsPerOp, Scaling(0.8), "same, 2 threads at once"),
        r("w3.durable_commits_threads.t4", "w3.durable_commits_threads.t4", "w3.durable_commits_threads.t4", NsPerOp, Scaling(0.8), "same, 4 threads at once"),
        r("w3.durable_commits_threads.t8", "w3.durable_commits_threads.t8", "w3.durable_commits_threads.t8", NsPerOp, Scaling(0.8), "same, 8 threads at once"),
        r("w3.read_during_long_tx.p50", "w3.read_during_long_tx.p50", "w3.read_during_long_tx.p50", NsPerOp, None, "point read while a write tx is open 100 ms: p50"),
        r("w3.read_during_long_tx.p99", "w3.read_during_long_tx.p99", "w3.read_during_long_tx.p99", NsPerOp, None, "same: p99"),
        r("w3.readers_while_writing", "w3.readers_while_writing", "w3.readers_while_writing", NsPerOp, None, "point read, 2 readers + 1 Full writer (time ÷ reads)"),
        r("w3.writer_with_readers", "w3.writer_with_readers", "w3.writer_with_readers", NsPerOp, None, "Full commit, 1 writer + 2 readers"),
        r("maint.compact", "maint.compact", "maint.bulk_load_map", NsPerOp, BulkLoad(1.5), "compact N-entry u64→u64 map (per entry)"),
        r("maint.migrate", "maint.migrate", "maint.bulk_load_records", NsPerOp, BulkLoad(2.0), "typed migrate of N records (per record)"),
        r("maint.backup", "maint.backup", "maint.cp", NsPerOp, Own("cp + sync", 1.0), "backup_to of the open records pool (per MiB)"),
    ]
}

pub struct TableRow<'a> {
    pub def: &'a RowDef,
    pub pmem: Option<Med>,
    /// Every non-pmem engine of the row, in table order.
    pub others: Vec<(&'static str, Option<Med>)>,
    pub best: Option<(&'static str, f64)>,
    pub ratio: Option<f64>,
    /// pmem ÷ the fdatasync floor, for rows of single durable commits.
    pub floor_ratio: Option<f64>,
    pub status: &'static str,
    pub target: String,
}

impl TableRow<'_> {
    fn is_floor(&self) -> bool {
        self.def.name.starts_with("floor.")
    }
}

pub fn build<'a>(_cfg: &Config, selected: &[&'a RowDef], res: &Results) -> Vec<TableRow<'a>> {
    let mut out = Vec::new();
    let floor = res.median("floor.fdatasync", "floor");
    for &def in selected {
        if def.name.starts_with("floor.") {
            let f = res.median(def.name, "floor");
            out.push(TableRow {
                def,
                pmem: None,
                others: vec![("floor", f)],
                best: None,
                ratio: None,
                floor_ratio: None,
                status: "—",
                target: "—".into(),
            });
            continue;
        }
        let pmem = res.median(def.pmem_phase, "pmem");
        let (others, candidates): (Vec<(&'static str, Option<Med>)>, Vec<&'static str>) = if def.name == "w1.commit_vs_floor" {
            (vec![("fdatasync", res.median(def.peer_phase, "floor"))], vec!["fdatasync"])
        } else if let Some(label) = own_baseline(def.target) {
            (vec![(label, res.median(def.peer_phase, "pmem"))], vec![label])
        } else {
            (crate::ENGINES[1..].iter().map(|&e| (e, res.median(def.peer_phase, e))).collect(), PEERS.to_vec())
        };
        let best = others
            .iter()
            .filter(|(e, m)| candidates.contains(e) && m.is_some())
            .map(|(e, m)| (*e, m.unwrap().value))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        let ratio = match (pmem, best) {
            (Some(p), Some((_, b))) if b > 0.0 => Some(p.value / b),
            _ => None,
        };
        let lmdb = others.iter().find(|(e, _)| *e == "lmdb").and_then(|(_, m)| *m).map(|m| m.value);
        let (target, met) = match def.target {
            Target::Best(t) => (format!("≤ {t} × best"), ratio.map(|r| r <= t)),
            Target::BestAndLmdb(t) => (
                format!("≤ 1 × best, < {t} × lmdb"),
                ratio.zip(pmem.zip(lmdb)).map(|(r, (p, l))| r <= 1.0 && p.value / l < t),
            ),
            Target::Floor(t) => (format!("≤ {t} × floor"), ratio.map(|r| r <= t)),
            Target::AbsNs(t) => (format!("≤ {}", fmt_ns(t)), pmem.map(|p| p.value <= t)),
            Target::BulkLoad(t) => (format!("≤ {t} × bulk load"), ratio.map(|r| r <= t)),
            Target::Own(label, t) => (format!("≤ {t} × {label}"), ratio.map(|r| r <= t)),
            Target::Scaling(f) => {
                let n: f64 = def.name.rsplit_once(".t").and_then(|(_, n)| n.parse().ok()).expect("a .tN row");
                let one = res.median("w3.durable_commits_threads.t1", "pmem");
                (format!("≥ {f} × N × 1 thread"), pmem.zip(one).map(|(p, o)| 1.0 / p.value >= f * n / o.value))
            }
            Target::None => ("—".into(), None),
        };
        let status = match (pmem, met) {
            (None, _) => "pending",
            (Some(_), Some(true)) => "met",
            (Some(_), Some(false)) => "MISSED",
            (Some(_), None) => "—",
        };
        let single_commit = def.name.starts_with("w1.individual_commits")
            || def.name.starts_with("w3.durable_commits_threads")
            || (def.name.starts_with("w2.") && def.name.ends_with(".full") && !def.name.contains("lookup"));
        // w2 and w3 rows compare with the floor measured right before them.
        let floor = if def.name.starts_with("w2.") {
            res.median("floor.w2.fdatasync", "floor").or(floor)
        } else if def.name.starts_with("w3.") {
            res.median("floor.w3.fdatasync", "floor").or(floor)
        } else if def.name == "w1.individual_commits_rr" {
            res.median("floor.rr.fdatasync", "floor").or(floor)
        } else {
            floor
        };
        let floor_ratio = match (single_commit, pmem, floor) {
            (true, Some(p), Some(f)) => Some(p.value / f.value),
            _ => None,
        };
        out.push(TableRow { def, pmem, others, best, ratio, floor_ratio, status, target });
    }
    out
}

// ---------------------------------------------------------------- formatting

pub fn fmt_ns(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.1} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

fn fmt_rate(ops_per_s: f64) -> String {
    if ops_per_s >= 1e6 {
        format!("{:.2}M/s", ops_per_s / 1e6)
    } else if ops_per_s >= 1e3 {
        format!("{:.1}k/s", ops_per_s / 1e3)
    } else {
        format!("{ops_per_s:.0}/s")
    }
}

pub fn fmt_bytes(b: f64) -> String {
    if b >= (1u64 << 30) as f64 {
        format!("{:.2} GiB", b / (1u64 << 30) as f64)
    } else if b >= (1 << 20) as f64 {
        format!("{:.1} MiB", b / (1 << 20) as f64)
    } else if b >= 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{b:.0} B")
    }
}

fn fmt_value(unit: Unit, m: Option<Med>) -> String {
    match (unit, m) {
        (_, None) => "—".into(),
        (Unit::NsPerOp, Some(m)) => format!("{} ({})", fmt_ns(m.value), fmt_rate(1e9 / m.value)),
        (Unit::Bytes, Some(m)) => fmt_bytes(m.value),
    }
}

fn fmt_ratio(r: Option<f64>) -> String {
    match r {
        None => "—".into(),
        Some(r) if r >= 100.0 => format!("{r:.0}"),
        Some(r) if r >= 10.0 => format!("{r:.1}"),
        Some(r) => format!("{r:.2}"),
    }
}

/// Column headers naming each engine's durability per row class.
fn engine_label(e: &str, row: &str) -> String {
    if row.ends_with(".process") {
        match e {
            "pmem" => "pmem (Process)".into(),
            "redb" => "redb (None†)".into(),
            "sqlite" => "sqlite (sync=OFF)".into(),
            "sqlite-wal" => "sqlite-wal (sync=OFF)".into(),
            "lmdb" => "lmdb (NOSYNC)".into(),
            _ => e.into(),
        }
    } else {
        e.into()
    }
}

/// The three tables as rows of cells: values, ratios, resources.
fn grids(table: &[TableRow]) -> [(Vec<String>, Vec<Vec<String>>); 3] {
    let engines = crate::ENGINES;
    let mut h1 = vec!["row".to_string(), "op".into()];
    h1.extend(engines.iter().map(|e| e.to_string()));
    let mut g1 = Vec::new();
    let mut h2 = vec!["row".to_string()];
    h2.extend(engines[1..].iter().map(|e| format!("÷{e}")));
    h2.extend(["best peer".into(), "ratio".into(), "÷floor".into(), "target".into(), "status".into()]);
    let mut g2 = Vec::new();
    let mut h3 = vec!["row".to_string()];
    h3.extend(engines.iter().map(|e| e.to_string()));
    let mut g3 = Vec::new();
    for r in table {
        let get = |e: &str| -> Option<Med> {
            if e == "pmem" {
                r.pmem
            } else {
                r.others.iter().find(|(o, _)| *o == e).and_then(|(_, m)| *m)
            }
        };
        let own = own_baseline(r.def.target);
        let bulk = own.is_some();
        if r.is_floor() || r.def.name == "w1.commit_vs_floor" || bulk {
            let f = r.others[0].1;
            let mut c1 = vec![r.def.name.to_string(), r.def.op.to_string()];
            c1.push(if r.is_floor() { "—".into() } else { fmt_value(r.def.unit, r.pmem) });
            let label = own.unwrap_or("floor");
            c1.push(format!("{label}: {}", fmt_value(r.def.unit, f)));
            c1.extend(std::iter::repeat_n(String::new(), engines.len() - 2));
            g1.push(c1);
            if !r.is_floor() {
                let mut c2 = vec![r.def.name.to_string()];
                c2.extend(std::iter::repeat_n(String::new(), engines.len() - 1));
                let (peer, floor_ratio) = if let Some(label) = own { (label, None) } else { ("fdatasync", r.ratio) };
                c2.extend([peer.into(), fmt_ratio(r.ratio), fmt_ratio(floor_ratio), r.target.clone(), r.status.into()]);
                g2.push(c2);
            }
            continue;
        }
        let mut c1 = vec![r.def.name.to_string(), r.def.op.to_string()];
        let mut c2 = vec![r.def.name.to_string()];
        let mut c3 = vec![r.def.name.to_string()];
        for e in engines {
            let m = get(e);
            c1.push(if m.is_none() && *e == "pmem" { "pending".into() } else { fmt_value(r.def.unit, m) });
            if *e != "pmem" {
                c2.push(fmt_ratio(r.pmem.zip(m).map(|(p, m)| p.value / m.value)));
            }
            c3.push(match m {
                None => "—".into(),
                Some(m) => {
                    let f = m.file_bytes.map_or("in memory".into(), fmt_bytes);
                    format!("{} / {}", fmt_bytes(m.hwm_kib * 1024.0), f)
                }
            });
        }
        c2.push(r.best.map_or("—".into(), |(e, _)| engine_label(e, r.def.name)));
        c2.extend([fmt_ratio(r.ratio), fmt_ratio(r.floor_ratio), r.target.clone(), r.status.into()]);
        g1.push(c1);
        g2.push(c2);
        // The interleaved rows run every engine in one process: no RSS or size of their own.
        if r.def.unit == Unit::NsPerOp && !r.def.name.ends_with("_rr") && !r.def.name.starts_with("w3.") {
            g3.push(c3);
        }
    }
    [(h1, g1), (h2, g2), (h3, g3)]
}

fn text_grid(head: &[String], rows: &[Vec<String>]) -> String {
    let w: Vec<usize> = (0..head.len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).chain([head[i].chars().count()]).max().unwrap())
        .collect();
    let mut s = String::new();
    for r in std::iter::once(head).chain(rows.iter().map(Vec::as_slice)) {
        let line: Vec<String> = r.iter().zip(&w).map(|(c, w)| format!("{c:<w$}", w = *w)).collect();
        let _ = writeln!(s, "{}", line.join("  ").trim_end());
    }
    s
}

fn md_grid(head: &[String], rows: &[Vec<String>]) -> String {
    let mut s = format!("| {} |\n|{}|\n", head.join(" | "), head.iter().map(|_| "---").collect::<Vec<_>>().join("|"));
    for r in rows {
        let _ = writeln!(s, "| {} |", r.iter().map(|c| if c.is_empty() { " " } else { c.as_str() }).collect::<Vec<_>>().join(" | "));
    }
    s
}

const TITLES: [&str; 3] = [
    "Median time per op (ops/s)",
    "Ratios: pmem ÷ engine (< 1: pmem faster or smaller); best peer excludes std",
    "Peak RSS / disk usage after the phase (medians)",
];

/// Workload 3's own tables (rates with their spread over repetitions, commits per sync,
/// the reader rows side by side), when the run measured it.
fn w3_grids(res: &Results) -> Vec<(String, Vec<String>, Vec<Vec<String>>)> {
    let engines = crate::w3::ENGINES;
    // Rate (ops/s): median and range over repetitions.
    let rates = |phase: &str, e: &str| -> Option<(f64, f64, f64)> {
        let v: Vec<f64> = res.samples(phase, e).iter().map(|s| 1e9 / s.ns_per_op).collect();
        if v.is_empty() {
            return None;
        }
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(0.0, f64::max);
        Some((median(v), lo, hi))
    };
    let fmt_rates = |r: Option<(f64, f64, f64)>| match r {
        None => "—".to_string(),
        Some((m, lo, hi)) => format!("{} [{}–{}]", fmt_rate(m), fmt_rate(lo).trim_end_matches("/s"), fmt_rate(hi)),
    };
    let reps = res.samples("w3.durable_commits_threads.t1", "pmem").len();
    let mut out = Vec::new();
    let pmem1 = rates("w3.durable_commits_threads.t1", "pmem").map(|r| r.0);
    if pmem1.is_some() {
        let mut head = vec!["threads".to_string()];
        for e in engines {
            head.push(format!("{e} commits/s"));
            head.push("÷ pmem 1 thread".into());
        }
        head.push("floor fdatasync/s (1 thread, same slices)".into());
        let mut rows = Vec::new();
        let mut sync_rows = Vec::new();
        for &n in crate::w3::THREADS {
            let phase = format!("w3.durable_commits_threads.t{n}");
            let mut row = vec![n.to_string()];
            let mut srow = vec![n.to_string()];
            for e in engines {
                let r = rates(&phase, e);
                row.push(fmt_rates(r));
                row.push(fmt_ratio(r.zip(pmem1).map(|(r, p)| r.0 / p)));
                // Commits per sync call: median over repetitions, and the range.
                let v: Vec<f64> = res.samples(&phase, e).iter().filter_map(|s| Some(s.ops / s.syncs?.max(1.0))).collect();
                srow.push(if v.is_empty() {
                    "—".into()
                } else {
                    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
                    let hi = v.iter().copied().fold(0.0, f64::max);
                    format!("{:.2} [{lo:.2}–{hi:.2}]", median(v))
                });
            }
            row.push(fmt_rates(rates(&format!("floor.w3.t{n}"), "floor")));
            rows.push(row);
            sync_rows.push(srow);
        }
        out.push((
            format!("Workload 3: durable commits from N threads at once — commits/s, median [min–max] over {reps} reps; ÷ pmem 1 thread: the rate over pmem's 1-thread rate (pmem's target: ≥ 0.8 × N)"),
            head,
            rows,
        ));
        let mut head = vec!["threads".to_string()];
        head.extend(engines.iter().map(|e| format!("{e} commits per sync")));
        out.push((
            "Workload 3: commits per fdatasync/fsync call (counted in-process; LMDB also writes its meta page through an O_DSYNC descriptor, not counted) — median [min–max]".to_string(),
            head,
            sync_rows,
        ));
    }
    if !res.samples("w3.reader_alone", "pmem").is_empty() || !res.samples("w3.read_during_long_tx.p50", "pmem").is_empty() {
        let mut head = vec!["measure".to_string()];
        head.extend(engines.iter().map(|e| e.to_string()));
        let mut rows = Vec::new();
        for (label, phase) in [
            ("point read while a write tx is open 100 ms: p50", "w3.read_during_long_tx.p50"),
            ("same: p99", "w3.read_during_long_tx.p99"),
            ("same: max", "w3.read_during_long_tx.max"),
        ] {
            let mut row = vec![label.to_string()];
            row.extend(engines.iter().map(|e| res.median(phase, e).map_or("—".into(), |m| fmt_ns(m.value))));
            rows.push(row);
        }
        let rel = |phase: &str, base: &str, e: &str| -> String {
            let r = rates(phase, e);
            match (r, rates(base, e)) {
                (Some(r), Some(b)) => format!("{} (× {:.2})", fmt_rates(Some(r)), r.0 / b.0),
                _ => fmt_rates(r),
            }
        };
        for (label, phase, base) in [
            ("reads/s, 1 reader alone", "w3.reader_alone", None),
            ("reads/s, 2 readers alone (× 1 reader)", "w3.two_readers_alone", Some("w3.reader_alone")),
            ("reads/s, 2 readers + 1 writer (× 1 reader alone)", "w3.readers_while_writing", Some("w3.reader_alone")),
            ("commits/s, writer alone", "w3.writer_alone", None),
            ("commits/s, writer + 2 readers (× alone)", "w3.writer_with_readers", Some("w3.writer_alone")),
        ] {
            let mut row = vec![label.to_string()];
            row.extend(engines.iter().map(|e| match base {
                Some(b) => rel(phase, b, e),
                None => fmt_rates(rates(phase, e)),
            }));
            rows.push(row);
        }
        let reps = res.samples("w3.reader_alone", "pmem").len().max(res.samples("w3.read_during_long_tx.p50", "pmem").len());
        out.push((
            format!("Workload 3: readers and a writer — one read transaction per point read; rates median [min–max] over {reps} reps"),
            head,
            rows,
        ));
    }
    out
}

fn plan_line(cfg: &Config) -> String {
    format!(
        "N = {} entries, {} reps (medians), {} individual commits, {} × {} batch commits, {} range reads; workload 2: {} records, {} tx per rep in Full, {} in Process (a rep stops after {} s), {} lookups",
        cfg.n, cfg.reps, cfg.individual, cfg.batches, cfg.batch_size, cfg.ranges, cfg.records, cfg.w2_full_ops, cfg.w2_process_ops, cfg.w2_max_secs, cfg.lookups
    ) + &format!(
        "; workload 3: {} keys, {} s per engine and thread count (and per reader/writer phase) in {} interleaved slices, {} long transactions",
        cfg.w3_keys, cfg.w3_secs, cfg.w3_slices, cfg.w3_cycles
    )
}

const LEGEND: &str = "Process rows: pmem Durability::Process, sqlite synchronous=OFF, lmdb NOSYNC (all survive a process crash); \
† redb has no such level and runs Durability::None, which is weaker (loses commits since the last durable one even on a \
process crash). Full rows: pmem Durability::Full, redb Immediate, SQLite synchronous=FULL, LMDB default sync. \
std is in memory, never durable.";

pub fn text(cfg: &Config, table: &[TableRow], res: &Results) -> String {
    let mut s = format!("\n== pmem benchmarks: {} ==\n", plan_line(cfg));
    for (t, (h, g)) in TITLES.iter().zip(grids(table)) {
        let _ = write!(s, "\n{t}\n{}", text_grid(&h, &g));
    }
    for (t, h, g) in w3_grids(res) {
        let _ = write!(s, "\n{t}\n{}", text_grid(&h, &g));
    }
    let _ = writeln!(s, "\n{LEGEND}");
    s
}

/// `row NAME pmem=VALUE best_peer=ENGINE best_peer_value=VALUE ratio=R`; VALUE is ns
/// per op (bytes for w1.file_size); `NA` where there is no number.
pub fn machine_lines(table: &[TableRow]) -> Vec<String> {
    let num = |v: Option<f64>| v.map_or("NA".to_string(), |v| format!("{v:.1}"));
    table
        .iter()
        .filter(|r| !r.is_floor())
        .map(|r| {
            format!(
                "row {} pmem={} best_peer={} best_peer_value={} ratio={}",
                r.def.name,
                num(r.pmem.map(|m| m.value)),
                r.best.map_or("NA", |b| b.0),
                num(r.best.map(|b| b.1)),
                r.ratio.map_or("NA".to_string(), |r| format!("{r:.3}")),
            )
        })
        .collect()
}

/// A horizontal bar chart of pmem ÷ best peer per row, log scale, hand-written SVG.
pub fn svg(table: &[TableRow], title: &str) -> String {
    let rows: Vec<&TableRow> = table.iter().filter(|r| !r.is_floor()).collect();
    let (left, width, top, rh) = (230.0, 560.0, 50.0, 24.0);
    let height = top + rh * rows.len() as f64 + 50.0;
    let (lo, hi) = (-3.0f64, 3.0f64); // log10 range: 0.001 .. 1000
    let x = |r: f64| left + (r.log10().clamp(lo, hi) - lo) / (hi - lo) * width;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" font-family="sans-serif" font-size="12">"#,
        w = left + width + 300.0
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(s, r#"<text x="10" y="20" font-size="14" font-weight="bold">{}</text>"#, esc(title));
    let _ = writeln!(
        s,
        r##"<text x="10" y="38" fill="#555">pmem ÷ best peer (log scale; left of 1 = pmem faster or smaller). Green: target met, red: missed, grey: no target or pending.</text>"##
    );
    for k in -3..=3 {
        let r = 10f64.powi(k);
        let xx = x(r);
        let stroke = if k == 0 { "#000" } else { "#ddd" };
        let _ = writeln!(s, r#"<line x1="{xx:.1}" y1="{top}" x2="{xx:.1}" y2="{:.1}" stroke="{stroke}"/>"#, height - 40.0);
        let label = if k < 0 { format!("{r}") } else { format!("{}", r as u64) };
        let _ = writeln!(s, r##"<text x="{xx:.1}" y="{:.1}" text-anchor="middle" fill="#555">{label}</text>"##, height - 25.0);
    }
    for (i, r) in rows.iter().enumerate() {
        let y = top + rh * i as f64;
        let _ = writeln!(s, r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#, left - 8.0, y + rh * 0.65, esc(r.def.name));
        match r.ratio {
            Some(ratio) => {
                let color = match r.status {
                    "met" => "#2a9d3f",
                    "MISSED" => "#d62728",
                    _ => "#999",
                };
                let (x0, x1) = (x(1.0), x(ratio));
                let _ = writeln!(
                    s,
                    r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{color}"/>"#,
                    x0.min(x1),
                    y + 4.0,
                    (x1 - x0).abs().max(1.0),
                    rh - 8.0
                );
                // Rows with an absolute target say the time too: their colour is about
                // the time, not the ratio.
                let abs = match (r.def.target, r.pmem) {
                    (Target::AbsNs(t), Some(p)) => format!("; {} (target ≤ {})", fmt_ns(p.value), fmt_ns(t)),
                    _ => String::new(),
                };
                let _ = writeln!(
                    s,
                    r#"<text x="{:.1}" y="{:.1}">{} vs {}{}</text>"#,
                    x0.max(x1) + 4.0,
                    y + rh * 0.65,
                    fmt_ratio(Some(ratio)),
                    r.best.map_or("", |b| b.0),
                    esc(&abs)
                );
            }
            None => {
                let _ = writeln!(s, r##"<text x="{:.1}" y="{:.1}" fill="#999">{}</text>"##, x(1.0) + 4.0, y + rh * 0.65, r.status);
            }
        }
    }
    s.push_str("</svg>\n");
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn sh(cmd: &str) -> String {
    std::process::Command::new("sh")
        .args(["-c", cmd])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim_end().to_string())
        .unwrap_or_default()
}

pub const BEGIN: &str = "<!-- BEGIN GENERATED by `bench --update-docs`; edits here are overwritten -->";
pub const END: &str = "<!-- END GENERATED -->";

/// Rewrites the generated part of `path` (between [`BEGIN`] and [`END`]) and writes
/// `benchmarks.svg` beside it.
pub fn update_docs(cfg: &Config, table: &[TableRow], res: &Results, path: &Path, elapsed: Duration) {
    let svg_path = path.with_file_name("benchmarks.svg");
    std::fs::write(&svg_path, svg(table, &format!("pmem vs best peer — {}", cfg.command_line()))).expect("write svg");
    let mut g = String::new();
    let _ = writeln!(g, "{BEGIN}\n");
    let _ = writeln!(g, "Command: `{}` — {} ({:.0} s wall).\n", cfg.command_line(), sh("date -u +'%Y-%m-%d %H:%M UTC'"), elapsed.as_secs_f64());
    let _ = writeln!(g, "{}.\n", plan_line(cfg));
    let _ = writeln!(g, "Machine:\n\n```text");
    let _ = writeln!(g, "{}", sh("lscpu | grep -E '^(Architecture|CPU\\(s\\)|Model name|Thread|Core|Hypervisor|L1d|L2|L3)'"));
    let _ = writeln!(g, "{}", sh("free -h | head -2"));
    let _ = writeln!(g, "{}", sh(&format!("df -hT {} | tail -1", std::env::temp_dir().display())));
    let _ = writeln!(g, "kernel {}; load after the run: {}", sh("uname -r"), sh("cat /proc/loadavg"));
    let _ = writeln!(g, "```\n");
    let _ = writeln!(g, "![pmem ÷ best peer per row](benchmarks.svg)\n");
    for (t, (h, rows)) in TITLES.iter().zip(grids(table)) {
        let _ = writeln!(g, "**{t}**\n\n{}", md_grid(&h, &rows));
    }
    for (t, h, rows) in w3_grids(res) {
        let _ = writeln!(g, "**{t}**\n\n{}", md_grid(&h, &rows));
    }
    let _ = writeln!(g, "{LEGEND}\n\nMachine-readable lines:\n\n```text\n{}\n```\n\n{END}", machine_lines(table).join("\n"));
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(a), Some(b)) if b > a => format!("{}{}{}", &old[..a], g.trim_end(), &old[b + END.len()..]),
        _ => format!("{old}\n{}\n", g.trim_end()),
    };
    std::fs::write(path, new).expect("write docs");
    eprintln!("wrote {} and {}", path.display(), svg_path.display());
}
