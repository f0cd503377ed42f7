//! `pmem`: inspect pool files without the program that wrote them.
//!
//! ```text
//! pmem info  POOL [--json]                     header, sizes, log, root type, allocator statistics
//! pmem check POOL [--json] [--progress]        allocator integrity + a type-aware walk from the root
//! pmem dump  POOL [--path root.accounts] [--compact] [--max-depth N]   the object graph as JSON
//! pmem stats POOL [--json] [--progress]        space by type
//! ```
//!
//! Every command opens the pool read-only with a shared lock (`pmem_core::inspect`):
//! it never writes to the pool or its log, recovery replays into private memory, and a
//! pool that a program has open for writing is reported as open elsewhere. The walk is
//! driven by the schema the pool stored at creation, so no application code is needed.
//!
//! Exit status: 0 healthy (or done), 1 problems found in the pool (including a pool
//! too damaged to open), 2 usage errors and pools that cannot be opened (missing, not
//! a pool, locked, a newer format).
//!
//! Arguments are parsed by hand: four commands and five flags do not need a parser
//! crate's compile time and dependencies.

mod dump;
mod pool;
mod report;
mod schema;
mod walk;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use pmem::inspect::Inspector;
use pmem::Error;

use crate::dump::{Dump, Node};
use crate::pool::Pool;
use crate::schema::Schema;
use crate::walk::Progress;

const USAGE: &str = "\
usage: pmem <command> POOL [options]

commands:
  info POOL     header, format version, sizes, durability, log, root type, allocator statistics
  check POOL    allocator integrity and a type-aware walk from the root: every owned pointer
                names a live allocation, nothing is owned twice, nothing leaked, collection
                lengths agree with their contents
  dump POOL     the object graph (or the part at --path) as JSON
  stats POOL    space by type: allocations and bytes per type, from the walk

options:
  --json             info, check, stats: machine-readable output
  --path PATH        dump: only the value at PATH, e.g. root.accounts or root.accounts[7].owner
  --compact          dump: JSON on one line
  --max-depth N      dump: nesting limit (default 10000)
  --progress         check, stats: show progress on stderr even when it is not a terminal
  -h, --help         this text
  -V, --version      the version

The pool is opened read-only and never modified. Exit status: 0 healthy, 1 problems
found, 2 usage error or a pool that cannot be opened (missing, locked by a program that
has it open, not a pool).";

#[derive(Default)]
struct Args {
    command: String,
    pool: String,
    json: bool,
    path: Option<String>,
    compact: bool,
    max_depth: Option<usize>,
    progress: bool,
}

fn parse(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut a = Args::default();
    let mut positional = Vec::new();
    while let Some(arg) = argv.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| argv.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--json" => a.json = true,
            "--compact" => a.compact = true,
            "--progress" => a.progress = true,
            "--path" => a.path = Some(value("--path")?),
            "--max-depth" => {
                let v = value("--max-depth")?;
                a.max_depth = Some(
                    v.parse()
                        .ok()
                        .filter(|&n| n > 0 && n <= 1_000_000)
                        .ok_or_else(|| {
                            format!("--max-depth: {v:?} is not a number from 1 to 1000000")
                        })?,
                );
            }
            f if f.starts_with('-') && f.len() > 1 => return Err(format!("unknown option {f}")),
            _ => positional.push(arg),
        }
    }
    let mut p = positional.into_iter();
    a.command = p.next().ok_or("no command given")?;
    a.pool = p
        .next()
        .ok_or_else(|| format!("{}: no POOL given", a.command))?;
    if let Some(extra) = p.next() {
        return Err(format!("unexpected argument {extra:?}"));
    }
    let allowed: &[(&str, bool)] = match a.command.as_str() {
        "info" => &[("--json", a.json)],
        "check" | "stats" => &[("--json", a.json), ("--progress", a.progress)],
        "dump" => &[
            ("--path", a.path.is_some()),
            ("--compact", a.compact),
            ("--max-depth", a.max_depth.is_some()),
        ],
        other => return Err(format!("unknown command {other:?}")),
    };
    let given = [
        ("--json", a.json),
        ("--progress", a.progress),
        ("--path", a.path.is_some()),
        ("--compact", a.compact),
        ("--max-depth", a.max_depth.is_some()),
    ];
    if let Some((f, _)) = given
        .iter()
        .find(|(f, on)| *on && !allowed.iter().any(|(g, _)| g == f))
    {
        return Err(format!("{f} does not apply to {}", a.command));
    }
    Ok(a)
}

/// A failed command: what to print and the exit status.
struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    fn open(pool: &str, e: &Error) -> Failure {
        match e {
            Error::Locked { .. } => Failure {
                message: format!("{pool} is open elsewhere: a program has it open for writing (pmem reads a pool only when no one writes it); close that program and retry"),
                code: 2,
            },
            Error::Corrupted { .. } => Failure { message: format!("{pool}: {e}"), code: 1 },
            _ => Failure { message: format!("{pool}: {e}"), code: 2 },
        }
    }
}

fn main() -> ExitCode {
    let mut argv = std::env::args().skip(1).peekable();
    match argv.peek().map(String::as_str) {
        None => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some("-V" | "--version") => {
            println!("pmem {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let parsed = match parse(argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("pmem: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&parsed) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("pmem: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn out(text: &str) -> Result<(), Failure> {
    let mut o = std::io::stdout().lock();
    match o.write_all(text.as_bytes()).and_then(|()| o.flush()) {
        Ok(()) => Ok(()),
        // A reader that went away (`| head`) is not an error of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure {
            message: format!("writing the output: {e}"),
            code: 2,
        }),
    }
}

fn json_text(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("a JSON value always serialises");
    s.push('\n');
    s
}

fn run(args: &Args) -> Result<u8, Failure> {
    let ins = Inspector::open(&args.pool).map_err(|e| Failure::open(&args.pool, &e))?;
    let schema = ins
        .schema_json()
        .map_err(|e| e.to_string())
        .and_then(|json| Ok((Schema::parse(&json)?, json.len())));
    if args.command == "info" {
        // The header and the allocator are worth showing even when the schema is not.
        let info = report::Info::gather(
            &ins,
            schema.as_ref().map(|(s, n)| (s, *n)).map_err(Clone::clone),
        );
        out(&if args.json {
            json_text(&info.json())
        } else {
            info.text()
        })?;
        return Ok(u8::from(schema.is_err()));
    }
    let (schema, _) = schema.map_err(|e| Failure {
        message: format!("{}: {e}", args.pool),
        code: 1,
    })?;
    let pool = Pool::new(ins, schema);
    // A bar on a terminal for pools big enough to take a while, or whenever asked.
    let progress = || {
        if args.progress {
            Progress::Always
        } else if std::io::stderr().is_terminal() {
            Progress::Above(10_000)
        } else {
            Progress::Never
        }
    };
    match args.command.as_str() {
        "check" => {
            let r = walk::walk(&pool, progress());
            let (text, healthy) = report::check_text(&r, 50);
            out(&if args.json {
                json_text(&report::check_json(&r))
            } else {
                text
            })?;
            Ok(u8::from(!healthy))
        }
        "stats" => {
            let r = walk::walk(&pool, progress());
            let stats = pool.ins.stats().ok();
            out(&if args.json {
                json_text(&report::stats_json(&r, stats.as_ref()))
            } else {
                report::stats_text(&r, stats.as_ref())
            })?;
            Ok(u8::from(!r.problems.is_empty()))
        }
        "dump" => dump(&pool, args),
        _ => unreachable!("parse checked the command; info returned above"),
    }
}

fn dump(pool: &Pool, args: &Args) -> Result<u8, Failure> {
    let (off, t) = pool
        .resolve(args.path.as_deref().unwrap_or("root"))
        .map_err(|e| Failure {
            message: format!("--path: {e}"),
            code: 2,
        })?;
    let max_depth = args.max_depth.unwrap_or(10_000);
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
                let r = if args.compact {
                    serde_json::to_writer(&mut o, &node)
                } else {
                    serde_json::to_writer_pretty(&mut o, &node)
                };
                r.map_err(std::io::Error::from)
                    .and_then(|()| writeln!(o))
                    .and_then(|()| o.flush())
            })
            .map_err(|e| Failure {
                message: format!("starting the dump: {e}"),
                code: 2,
            })?
            .join()
            .map_err(|_| Failure {
                message: "the dump failed".into(),
                code: 1,
            })
    })?;
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(0),
        Err(e) => {
            return Err(Failure {
                message: format!("writing the output: {e}"),
                code: 2,
            })
        }
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
