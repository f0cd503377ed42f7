//! `pmem`: inspect pool files without the program that wrote them.
//!
//! ```text
//! pmem info   POOL [--json]                    header, sizes, log, root type, allocator statistics
//! pmem check  POOL [--json] [--progress]       allocator integrity + a type-aware walk from the root
//! pmem dump   POOL [--path PATH] [--compact] [--max-depth N]   the object graph as JSON
//! pmem stats  POOL [--json] [--progress]       space by type
//! pmem schema POOL [--json]                    the stored schema as Rust declarations
//! pmem backup POOL DEST                        a self-contained copy in one new file
//! pmem compact POOL                            live data rewritten into a fresh file, atomically
//!                                              (any root: by the stored schema; see `compact`)
//! pmem completions bash|zsh|fish|elvish|powershell
//! ```
//!
//! Every command but `compact` opens the pool read-only with a shared lock
//! (`pmem_core::inspect::Inspector`): it never writes to the pool or its log, recovery
//! replays into private memory, and a pool that a program has open for writing is
//! reported as open elsewhere. The walk is driven by the schema the pool stored at
//! creation, so no application code is needed.
//!
//! Exit status: 0 healthy (or done), 1 problems found in the pool (including a pool
//! too damaged to open), 2 usage errors and pools that cannot be opened (missing, not
//! a pool, open elsewhere, a newer format).
//!
//! Modules: `args` (the command line, for clap), `fail` (what a failure says),
//! `schema` (the stored schema, parsed and checked), `pool` (typed reads of raw bytes,
//! `--path`), `path` (path and key syntax), `walk` (the walk behind `check` and
//! `stats`), `report` (their output), `dump`, `decl` (`schema`'s declarations),
//! `progress` (the bar), `compact` (typed compaction for roots it can name,
//! `pmem::compact::compact_untyped` for every other root).

mod args;
mod compact;
mod decl;
mod dump;
mod fail;
mod path;
mod pool;
mod progress;
mod report;
mod schema;
mod walk;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use clap::{CommandFactory, Parser};
use pmem_collections::inspect::Inspector;

use crate::args::{Cli, Command};
use crate::dump::{Dump, Node};
use crate::fail::Failure;
use crate::pool::Pool;
use crate::progress::Progress;
use crate::schema::Schema;

fn main() -> ExitCode {
    // Help and version go to stdout with status 0, usage errors to stderr with 2.
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("pmem: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn run(command: Command) -> Result<u8, Failure> {
    match command {
        Command::Info { pool, json } => info(&pool.pool, json.json),
        Command::Check {
            pool,
            json,
            progress,
        } => {
            let pool = open(&pool.pool)?;
            let r = walk::walk(
                &pool,
                Progress {
                    label: "checking",
                    forced: progress.progress,
                },
            );
            let (text, healthy) = report::check_text(&r, 50);
            out(&if json.json {
                json_text(&report::check_json(&r))
            } else {
                text
            })?;
            Ok(u8::from(!healthy))
        }
        Command::Stats {
            pool,
            json,
            progress,
        } => {
            let pool = open(&pool.pool)?;
            let r = walk::walk(
                &pool,
                Progress {
                    label: "counting",
                    forced: progress.progress,
                },
            );
            let stats = pool.ins.stats().ok();
            out(&if json.json {
                json_text(&report::stats_json(&r, stats.as_ref()))
            } else {
                report::stats_text(&r, stats.as_ref())
            })?;
            Ok(u8::from(!r.problems.is_empty()))
        }
        Command::Dump {
            pool,
            path,
            compact,
            max_depth,
        } => dump(
            &open(&pool.pool)?,
            path.as_deref(),
            compact,
            max_depth as usize,
        ),
        Command::Backup { pool, dest } => {
            let ins = Inspector::open(&pool.pool).map_err(|e| Failure::open(&pool.pool, &e))?;
            let started = std::time::Instant::now();
            let bytes = ins.backup_to(&dest).map_err(|e| Failure::open(&dest, &e))?;
            let secs = started.elapsed().as_secs_f64().max(1e-6);
            out(&format!(
                "backed up {} to {}: {bytes} bytes in {:.3} s ({:.0} MB/s)\n",
                pool.pool.display(),
                dest.display(),
                secs,
                bytes as f64 / secs / 1e6
            ))
            .map(|()| 0)
        }
        Command::Schema { pool, json } => {
            let ins = Inspector::open(&pool.pool).map_err(|e| Failure::open(&pool.pool, &e))?;
            let text = ins
                .schema_json()
                .map_err(|e| Failure::damaged(&pool.pool, &e))?;
            if json {
                let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                    Failure::damaged(&pool.pool, format!("stored schema is not JSON: {e}"))
                })?;
                return out(&json_text(&v)).map(|()| 0);
            }
            let schema = Schema::parse(&text).map_err(|e| Failure::damaged(&pool.pool, e))?;
            out(&decl::declarations(&schema)).map(|()| 0)
        }
        Command::Compact { pool } => out(&compact::run(&pool.pool)?).map(|()| 0),
        Command::Completions { shell } => {
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "pmem", &mut text);
            out(&String::from_utf8_lossy(&text)).map(|()| 0)
        }
    }
}

/// The pool and its schema, for the commands that need both.
fn open(path: &Path) -> Result<Pool, Failure> {
    let ins = Inspector::open(path).map_err(|e| Failure::open(path, &e))?;
    let json = ins.schema_json().map_err(|e| Failure::damaged(path, &e))?;
    let schema = Schema::parse(&json).map_err(|e| Failure::damaged(path, e))?;
    Ok(Pool::new(ins, schema))
}

fn info(path: &Path, json: bool) -> Result<u8, Failure> {
    let ins = Inspector::open(path).map_err(|e| Failure::open(path, &e))?;
    let schema = ins
        .schema_json()
        .map_err(|e| e.to_string())
        .and_then(|json| Ok((Schema::parse(&json)?, json.len())));
    // The header and the allocator are worth showing even when the schema is not.
    let info = report::Info::gather(
        &ins,
        schema.as_ref().map(|(s, n)| (s, *n)).map_err(Clone::clone),
    );
    out(&if json {
        json_text(&info.json())
    } else {
        info.text()
    })?;
    Ok(u8::from(schema.is_err()))
}

fn out(text: &str) -> Result<(), Failure> {
    let mut o = std::io::stdout().lock();
    match o.write_all(text.as_bytes()).and_then(|()| o.flush()) {
        Ok(()) => Ok(()),
        // A reader that went away (`| head`) is not an error of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::output(&e)),
    }
}

fn json_text(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("a JSON value always serialises");
    s.push('\n');
    s
}

fn dump(pool: &Pool, path: Option<&str>, compact: bool, max_depth: usize) -> Result<u8, Failure> {
    let (off, t) = pool
        .resolve(path.unwrap_or("root"))
        .map_err(|e| Failure::usage(format!("--path {}: {e}", path.unwrap_or("root"))))?;
    let d = Dump {
        pool,
        max_depth,
        errors: AtomicU64::new(0),
    };
    // Deep graphs (a list of boxes) nest deeply; serialise on a thread with room.
    let stack = (max_depth * 16 * 1024).clamp(64 << 20, 4 << 30);
    let written = std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(stack)
            .spawn_scoped(s, || {
                let mut o = std::io::BufWriter::new(std::io::stdout().lock());
                let node = Node {
                    d: &d,
                    off,
                    t,
                    depth: 0,
                };
                let r = if compact {
                    serde_json::to_writer(&mut o, &node)
                } else {
                    serde_json::to_writer_pretty(&mut o, &node)
                };
                r.map_err(std::io::Error::from)
                    .and_then(|()| writeln!(o))
                    .and_then(|()| o.flush())
            })
            .map_err(|e| Failure::usage(format!("starting the dump: {e}")))?
            .join()
            .map_err(|_| Failure::damaged(pool.ins.path(), "the dump failed"))
    })?;
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(0),
        Err(e) => return Err(Failure::output(&e)),
    }
    let errors = d.errors.load(Ordering::Relaxed);
    if errors > 0 {
        eprintln!(
            "pmem: {errors} parts of the pool could not be read (shown as {{\"$error\": ...}})"
        );
        return Ok(1);
    }
    Ok(0)
}
