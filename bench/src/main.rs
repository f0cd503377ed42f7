//! pmem's benchmark suite (DESIGN §10, issue 5): pmem against redb, SQLite (rollback
//! journal and WAL), LMDB (heed) and `std::collections`, in the same run.
//!
//! ```text
//! cargo run --release --manifest-path bench/Cargo.toml -- [--quick] [--n N] [--big]
//!     [--rows FILTER] [--reps R] [--dir DIR] [--update-docs docs/BENCHMARKS.md]
//! ```
//!
//! The parent process runs every engine's workload in a child process (this same binary
//! with `--child ...`), so that peak RSS (VmHWM, reset per phase through
//! `/proc/self/clear_refs`) belongs to one engine alone and no engine inherits another's
//! page cache in its address space. Workload 1, the fdatasync floor and workload 2 run
//! one child per engine per repetition, repetitions interleaved across engines (with
//! `--quick`, workload 2 runs one child per engine and durability class and repeats each
//! timed loop inside it, to save the setup). Workload 3 (threads) runs one child per
//! repetition holding every engine, their turns interleaved inside it.
//! Reported values are medians over repetitions.

mod fair;
mod floor;
mod maint;
mod pobj;
mod report;
mod syncs;
mod util;
mod w1;
mod w1_pmem;
mod w2;
mod w2_pmem;
mod w3;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use report::{Results, Sample};

/// Every engine, in table order.
pub const ENGINES: &[&str] = &["pmem", "redb", "sqlite", "sqlite-wal", "lmdb", "std"];

#[derive(Clone, Debug)]
pub struct Config {
    pub quick: bool,
    pub big: bool,
    pub n: u64,
    pub reps: u32,
    pub individual: u64,
    pub batches: u64,
    pub batch_size: u64,
    pub ranges: u64,
    pub records: u64,
    pub w2_full_ops: u64,
    pub w2_process_ops: u64,
    pub prefill: u64,
    pub lookups: u64,
    pub seed: u64,
    /// Time cap per repetition of a workload-2 loop (see `w2::Plan::max_secs`).
    pub w2_max_secs: f64,
    /// Workload 3: entries of the map; seconds per (engine, thread count) of the commit
    /// rows and per (engine, phase) of the reader/writer rows, in `w3_slices` turns;
    /// long transactions per engine.
    pub w3_keys: u64,
    pub w3_secs: f64,
    pub w3_slices: u64,
    pub w3_cycles: u64,
    pub rows: Vec<String>,
    pub dir: PathBuf,
    pub update_docs: Option<PathBuf>,
    pub save_raw: Option<PathBuf>,
    pub replay: Option<PathBuf>,
    pub keep: bool,
}

impl Config {
    fn parse(args: &[String]) -> (Self, Option<Vec<String>>) {
        let mut quick = false;
        let mut big = false;
        let mut n = None;
        let mut reps = None;
        let mut rows = Vec::new();
        let mut dir = None;
        let mut update_docs = None;
        let mut save_raw = None;
        let mut replay = None;
        let mut keep = false;
        let mut child = None;
        let mut i = 0;
        let val = |i: &mut usize| -> String {
            *i += 1;
            args.get(*i).cloned().unwrap_or_else(|| usage(&format!("{} needs a value", args[*i - 1])))
        };
        while i < args.len() {
            match args[i].as_str() {
                "--quick" => quick = true,
                "--big" => big = true,
                "--keep" => keep = true,
                "--n" => n = Some(val(&mut i).replace('_', "").parse().unwrap_or_else(|_| usage("--n takes a number"))),
                "--reps" => reps = Some(val(&mut i).parse().unwrap_or_else(|_| usage("--reps takes a number"))),
                "--rows" => rows.extend(val(&mut i).split(',').filter(|s| !s.is_empty()).map(str::to_string)),
                "--dir" => dir = Some(PathBuf::from(val(&mut i))),
                "--update-docs" => update_docs = Some(PathBuf::from(val(&mut i))),
                "--save-raw" => save_raw = Some(PathBuf::from(val(&mut i))),
                "--replay" => replay = Some(PathBuf::from(val(&mut i))),
                "--child" => {
                    child = Some(args[i + 1..].to_vec());
                    break;
                }
                "-h" | "--help" => usage(""),
                a => usage(&format!("unknown argument {a}")),
            }
            i += 1;
        }
        let n = n.unwrap_or(if big {
            5_000_000
        } else if quick {
            20_000
        } else {
            1_000_000
        });
        let cfg = if quick {
            Config {
                quick,
                big,
                n,
                reps: reps.unwrap_or(3),
                individual: 100,
                batches: 10,
                batch_size: 1000,
                ranges: 20_000,
                records: 100_000,
                w2_full_ops: 50,
                w2_process_ops: 20_000,
                prefill: 100_000,
                lookups: 200_000,
                seed: 3,
                w2_max_secs: 0.5,
                w3_keys: 10_000,
                w3_secs: 0.1,
                w3_slices: 4,
                w3_cycles: 2,
                rows,
                dir: dir.unwrap_or_else(default_dir),
                update_docs,
                save_raw: save_raw.clone(),
                replay: replay.clone(),
                keep,
            }
        } else {
            Config {
                quick,
                big,
                n,
                reps: reps.unwrap_or(3),
                individual: 1000,
                batches: 100,
                batch_size: 1000,
                ranges: 500_000,
                records: 100_000,
                w2_full_ops: 500,
                w2_process_ops: 100_000,
                prefill: 100_000,
                lookups: 1_000_000,
                seed: 3,
                w2_max_secs: 5.0,
                w3_keys: 100_000,
                w3_secs: 2.0,
                w3_slices: 40,
                w3_cycles: 10,
                rows,
                dir: dir.unwrap_or_else(default_dir),
                update_docs,
                save_raw: save_raw.clone(),
                replay: replay.clone(),
                keep,
            }
        };
        (cfg, child)
    }

    /// Is a row with this name selected by `--rows`?
    pub fn wants(&self, row: &str) -> bool {
        self.rows.is_empty() || self.rows.iter().any(|f| row.contains(f.as_str()))
    }

    pub fn command_line(&self) -> String {
        let mut s = String::from("cargo run --release --manifest-path bench/Cargo.toml");
        if self.quick || self.big || !self.rows.is_empty() || self.n != if self.quick { 20_000 } else { 1_000_000 } {
            s.push_str(" --");
        }
        if self.quick {
            s.push_str(" --quick");
        }
        if self.big {
            s.push_str(" --big");
        } else if self.n != if self.quick { 20_000 } else { 1_000_000 } {
            s.push_str(&format!(" --n {}", self.n));
        }
        if !self.rows.is_empty() {
            s.push_str(&format!(" --rows {}", self.rows.join(",")));
        }
        s
    }
}

fn default_dir() -> PathBuf {
    std::env::temp_dir().join(format!("pmem-bench-{}", std::process::id()))
}

fn usage(msg: &str) -> ! {
    if !msg.is_empty() {
        eprintln!("error: {msg}");
    }
    eprintln!(
        "usage: cargo run --release --manifest-path bench/Cargo.toml -- [--quick] [--n N] [--big] [--rows FILTER] \
         [--reps R] [--dir DIR] [--keep] [--update-docs docs/BENCHMARKS.md] [--save-raw F | --replay F]\n\
         --quick      small N (20,000) and short loops: under a minute, what CI runs\n\
         --n N        workload-1 entries (default 1,000,000); --big sets 5,000,000\n\
         --rows F     only rows whose name contains one of the comma-separated F (e.g. w1,update3)\n\
         --reps R     repetitions (medians are reported; default 3)\n\
         --dir DIR    where the engines' files go (default: a fresh directory under $TMPDIR)\n\
         --update-docs PATH  rewrite the generated part of PATH and write benchmarks.svg beside it\n\
         --save-raw PATH     keep every child's result lines; --replay PATH rebuilds the tables from them\n\
                             (pass the same --quick/--n/--rows as the measured run)"
    );
    std::process::exit(if msg.is_empty() { 0 } else { 2 })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cfg, child) = Config::parse(&args);
    if let Some(c) = child {
        child_main(&c);
        return;
    }
    let code = parent_main(&cfg);
    std::process::exit(code);
}

/// `--child KIND ENGINE DIR key=value...`
fn child_main(a: &[String]) {
    let kv: BTreeMap<&str, &str> = a[3..].iter().filter_map(|s| s.split_once('=')).collect();
    let num = |k: &str| -> u64 { kv.get(k).unwrap_or_else(|| panic!("child needs {k}")).parse().unwrap() };
    let (kind, engine, dir) = (a[0].as_str(), a[1].as_str(), PathBuf::from(&a[2]));
    util::fresh_dir(&dir);
    match kind {
        "floor" => floor::run(&dir, num("count"), kv.get("phase").copied().unwrap_or("floor")),
        "w1rr" => w1::run_interleaved(
            &dir,
            w1::Plan {
                n: num("n"),
                individual: num("individual"),
                batches: 0,
                batch_size: 0,
                reads: 0,
                ranges: 0,
                seed: num("seed"),
            },
        ),
        "w1" => w1::run(
            engine,
            &dir,
            w1::Plan {
                n: num("n"),
                individual: num("individual"),
                batches: num("batches"),
                batch_size: num("batch_size"),
                reads: num("n"),
                ranges: num("ranges"),
                seed: num("seed"),
            },
        ),
        "w2" => {
            let groups: Vec<String> = kv["groups"].split(',').map(str::to_string).collect();
            w2::run(
                engine,
                w2::Dur::parse(kv["dur"]),
                &dir,
                w2::Plan {
                    records: num("records"),
                    ops: num("ops"),
                    reps: num("reps") as u32,
                    prefill: num("prefill"),
                    lookups: num("lookups"),
                    seed: num("seed"),
                    max_secs: kv["max_secs"].parse().unwrap(),
                },
                &groups,
            );
        }
        "w3" => {
            let groups: Vec<&str> = kv["groups"].split(',').collect();
            w3::run(
                &dir,
                &w3::Plan {
                    keys: num("keys"),
                    secs: kv["secs"].parse().unwrap(),
                    slices: num("slices"),
                    cycles: num("cycles"),
                    seed: num("seed"),
                    rep: num("rep"),
                    commits: groups.contains(&"commits"),
                    readers: groups.contains(&"readers"),
                    only: kv.get("engines").map(|v| v.split(',').map(str::to_string).collect()),
                },
            );
        }
        "fair" => fair::run(engine, &dir, num("n"), num("m"), num("rounds")),
        "maint" => maint::run(&dir, num("n")),
        _ => panic!("unknown child kind {kind}"),
    }
    if std::env::var_os("PMEM_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Takes one line of a child's output into the results.
fn ingest(res: &mut Results, engine: &str, line: &str) {
    if let Some(rest) = line.strip_prefix("phase ") {
        let mut it = rest.split_whitespace();
        let phase = it.next().unwrap_or_default().to_string();
        let f: BTreeMap<&str, f64> = it.filter_map(|p| p.split_once('=')).filter_map(|(k, v)| Some((k, v.parse().ok()?))).collect();
        let (Some(&ns), Some(&ops)) = (f.get("ns"), f.get("ops")) else { return };
        // pmem's w2 child measures the floor too: it is the floor's, not pmem's; the
        // interleaved child names the engine of each line.
        let named = rest.split_whitespace().find_map(|p| p.strip_prefix("engine="));
        let engine = if phase.starts_with("floor.") { "floor" } else { named.unwrap_or(engine) };
        res.add(&phase, engine, Sample {
            ns_per_op: ns / ops.max(1.0),
            hwm_kib: f.get("hwm_kib").copied().unwrap_or(0.0) as u64,
            file_bytes: f.get("file_bytes").map(|&b| b as u64),
            ops,
            syncs: f.get("syncs").copied(),
        });
    } else if line.starts_with("pending ") {
        res.pending.insert(engine.to_string());
    }
}

struct Job {
    label: String,
    args: Vec<String>,
}

fn parent_main(cfg: &Config) -> i32 {
    let t0 = Instant::now();
    util::fresh_dir(&cfg.dir);
    let rows = report::rows();
    let selected: Vec<&report::RowDef> = rows.iter().filter(|r| cfg.wants(r.name)).collect();
    if selected.is_empty() {
        usage("--rows selects no row");
    }
    let want = |pred: &dyn Fn(&report::RowDef) -> bool| selected.iter().any(|r| pred(r));
    let w1 = want(&|r| r.name.starts_with("w1.") && r.name != "w1.commit_vs_floor" && r.name != "w1.individual_commits_rr");
    let w1rr = want(&|r| r.name == "w1.commit_vs_floor" || r.name == "w1.individual_commits_rr");
    // The floor is measured whenever a row of single durable commits is (for ÷floor).
    let floor = want(&|r| {
        (r.name.starts_with("floor") && !r.name.starts_with("floor.w3"))
            || r.name.starts_with("w1.individual_commits")
            || r.name == "w1.commit_vs_floor"
            || (r.name.starts_with("w2.") && r.name.ends_with(".full") && !r.name.contains("lookup"))
    });
    let seed = cfg.seed.to_string();

    let mut jobs = Vec::new();
    for rep in 0..cfg.reps {
        if floor {
            jobs.push(Job {
                label: format!("floor rep {}", rep + 1),
                args: vec!["floor".into(), "floor".into(), format!("count={}", cfg.individual)],
            });
        }
        if w1rr {
            jobs.push(Job {
                label: format!("w1 commits interleaved rep {}", rep + 1),
                args: vec![
                    "w1rr".into(),
                    "all".into(),
                    format!("n={}", cfg.n),
                    format!("individual={}", cfg.individual),
                    format!("seed={seed}"),
                ],
            });
        }
        if w1 {
            for e in ENGINES {
                jobs.push(Job {
                    label: format!("w1 {e} rep {}", rep + 1),
                    args: vec![
                        "w1".into(),
                        (*e).into(),
                        format!("n={}", cfg.n),
                        format!("individual={}", cfg.individual),
                        format!("batches={}", cfg.batches),
                        format!("batch_size={}", cfg.batch_size),
                        format!("ranges={}", cfg.ranges),
                        format!("seed={seed}"),
                    ],
                });
            }
        }
    }
    // Workload 2. With --quick, one child per engine and durability repeats each loop
    // inside it (one setup: fast). Otherwise one child per repetition, repetitions
    // interleaved across engines like workload 1, so that a drift of fdatasync latency
    // (10× within minutes on a shared machine) hits every engine alike.
    let (outer, inner) = if cfg.quick { (1, cfg.reps) } else { (cfg.reps, 1) };
    for rep in 0..outer {
        for dur in [w2::Dur::Full, w2::Dur::Process] {
            let d = dur.name();
            let mut groups = Vec::new();
            for (g, pat) in [("update3", "update3"), ("alloc_link", "alloc_link"), ("hash", "hash_")] {
                if want(&|r| r.name.starts_with("w2.") && r.name.contains(pat) && r.name.ends_with(d)) {
                    groups.push(g);
                }
            }
            if groups.is_empty() {
                continue;
            }
            let ops = if dur == w2::Dur::Full { cfg.w2_full_ops } else { cfg.w2_process_ops };
            for e in ENGINES {
                jobs.push(Job {
                    label: if outer > 1 { format!("w2 {d} {e} rep {}", rep + 1) } else { format!("w2 {d} {e}") },
                    args: vec![
                        "w2".into(),
                        (*e).into(),
                        format!("dur={d}"),
                        format!("groups={}", groups.join(",")),
                        format!("records={}", cfg.records),
                        format!("ops={ops}"),
                        format!("reps={inner}"),
                        format!("prefill={}", cfg.prefill),
                        format!("lookups={}", cfg.lookups),
                        format!("seed={}", cfg.seed + u64::from(rep)),
                        format!("max_secs={}", cfg.w2_max_secs),
                    ],
                });
            }
        }
    }

    // Workload 3: one child per repetition, every engine inside it.
    let w3_commits = want(&|r| r.name.starts_with("w3.durable_commits_threads"));
    let w3_readers = want(&|r| r.name.starts_with("w3.") && !r.name.starts_with("w3.durable"));
    if w3_commits || w3_readers {
        let groups: Vec<&str> = [("commits", w3_commits), ("readers", w3_readers)].iter().filter(|g| g.1).map(|g| g.0).collect();
        for rep in 0..cfg.reps {
            jobs.push(Job {
                label: format!("w3 {} rep {}", groups.join("+"), rep + 1),
                args: vec![
                    "w3".into(),
                    "all".into(),
                    format!("groups={}", groups.join(",")),
                    format!("keys={}", cfg.w3_keys),
                    format!("secs={}", cfg.w3_secs),
                    format!("slices={}", cfg.w3_slices),
                    format!("cycles={}", cfg.w3_cycles),
                    format!("seed={seed}"),
                    format!("rep={rep}"),
                ],
            });
        }
    }

    // Maintenance (compaction, migration): one child per repetition.
    if want(&|r| r.name.starts_with("maint.")) {
        for rep in 0..cfg.reps {
            jobs.push(Job {
                label: format!("maint rep {}", rep + 1),
                args: vec!["maint".into(), "pmem".into(), format!("n={}", cfg.n)],
            });
        }
    }

    let mut res = Results::default();
    let mut failed = Vec::new();
    // Every child's result lines, prefixed with the engine: `--save-raw` keeps them and
    // `--replay` rebuilds the tables (and docs) from them without measuring again.
    let mut raw = Vec::new();
    let mut elapsed_recorded = None;
    if let Some(path) = &cfg.replay {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| usage(&format!("--replay {}: {e}", path.display())));
        for line in text.lines() {
            if let Some(e) = line.strip_prefix("# elapsed_secs=") {
                elapsed_recorded = e.parse::<f64>().ok().map(std::time::Duration::from_secs_f64);
            } else if let Some((engine, rest)) = line.split_once('\t') {
                ingest(&mut res, engine, rest);
            }
        }
        jobs.clear();
    }
    let exe = std::env::current_exe().expect("current exe");
    for (k, job) in jobs.iter().enumerate() {
        let t = Instant::now();
        eprint!("[{:>3}/{}] {:<28}", k + 1, jobs.len(), job.label);
        let engine = job.args[1].clone();
        let dir = cfg.dir.join(format!("{}-{}", job.args[0], engine));
        let mut args = vec!["--child".to_string(), job.args[0].clone(), engine.clone(), dir.display().to_string()];
        args.extend(job.args[2..].iter().cloned());
        let out = Command::new(&exe).args(&args).output().expect("spawn child");
        let stdout = String::from_utf8_lossy(&out.stdout);
        for line in stdout.lines() {
            ingest(&mut res, &engine, line);
            raw.push(format!("{engine}\t{line}"));
        }
        if out.status.success() {
            eprintln!(" {:>7.2}s", t.elapsed().as_secs_f64());
        } else {
            eprintln!(" FAILED ({})", out.status);
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
            failed.push(job.label.clone());
        }
    }
    if !cfg.keep {
        let _ = std::fs::remove_dir_all(&cfg.dir);
    }
    let elapsed = elapsed_recorded.unwrap_or_else(|| t0.elapsed());
    if let Some(path) = &cfg.save_raw {
        let text = format!("# pmem-bench raw results: {}\n# elapsed_secs={:.1}\n{}\n", cfg.command_line(), elapsed.as_secs_f64(), raw.join("\n"));
        std::fs::write(path, text).expect("write --save-raw file");
    }
    let table = report::build(cfg, &selected, &res);
    print!("{}", report::text(cfg, &table, &res));
    for line in report::machine_lines(&table) {
        println!("{line}");
    }
    eprintln!("total {:.1}s", elapsed.as_secs_f64());
    if let Some(path) = &cfg.update_docs {
        report::update_docs(cfg, &table, &res, path, elapsed);
    }
    if failed.is_empty() {
        0
    } else {
        eprintln!("failed: {}", failed.join(", "));
        1
    }
}
