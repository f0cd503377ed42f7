//! What `info`, `check` and `stats` print: text for people, `--json` for programs.

use std::fmt::Write as _;

use pmem_collections::inspect::Inspector;
use pmem_core::{PoolInfo, Stats};
use serde_json::{json, Value};

use crate::schema::{Schema, Shape};
use crate::walk::{Report, Usage};

/// `1536` → `1.5 KiB`.
pub(crate) fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    #[allow(clippy::cast_precision_loss)] // one decimal is shown
    let mut v = bytes as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

/// Seconds since the Unix epoch as `YYYY-MM-DD hh:mm:ss UTC` (Howard Hinnant's
/// days-to-civil algorithm).
pub(crate) fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Breaks `text` into lines of at most `width` characters, indenting every line but
/// the first by `indent` spaces.
fn wrap(text: &str, width: usize, indent: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split_whitespace() {
        if line > 0 && line + 1 + word.len() > width {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.len();
    }
    out
}

fn uuid(u: &[u8; 16]) -> String {
    let h = u.iter().fold(String::new(), |mut h, b| {
        let _ = write!(h, "{b:02x}");
        h
    });
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

const DURABILITY_NOTE: &str = "chosen by each program when it opens the pool (Durability::Full unless it asks otherwise); \
the file does not record it. Full: a commit that returned survives power loss (one fdatasync of the log per commit). \
Process: it survives a crash of the process, and after power loss the pool recovers to a consistent prefix of its commits.";

/// Everything `info` shows.
pub(crate) struct Info {
    header: PoolInfo,
    stats: Result<Stats, String>,
    root_offset: u64,
    root_size: u64,
    log_file: Option<u64>,
    /// The root type's readable name (the header's name when there is no schema).
    root: String,
    /// The stored schema, or why it is unusable.
    schema: Result<SchemaInfo, String>,
}

/// What `info` shows of the stored schema.
struct SchemaInfo {
    /// Every type: readable name, size, alignment, fingerprint.
    all: Vec<(String, u64, u64, String)>,
    /// The user's own types (structs and enums).
    named: Vec<String>,
    /// Bytes of JSON.
    bytes: usize,
}

impl Info {
    pub(crate) fn gather(ins: &Inspector, schema: Result<(&Schema, usize), String>) -> Info {
        let header = ins.info();
        let mut log = header.path.clone().into_os_string();
        log.push(".log");
        Info {
            stats: ins.stats().map_err(|e| e.to_string()),
            root_offset: ins.root_offset(),
            root_size: ins.root_size(),
            log_file: std::fs::metadata(&log).ok().map(|m| m.len()),
            root: schema.as_ref().map_or_else(
                |_| header.root_type.name.clone(),
                |(s, _)| s.names[s.root].clone(),
            ),
            schema: schema.map(|(s, bytes)| {
                let all = s
                    .types
                    .iter()
                    .zip(&s.names)
                    .map(|(t, n)| (n.clone(), t.size, t.align, t.fingerprint.clone()))
                    .collect();
                let named = s
                    .types
                    .iter()
                    .filter(|t| matches!(t.shape, Shape::Struct(_) | Shape::Enum { .. }))
                    .map(|t| t.name.clone())
                    .collect();
                SchemaInfo { all, named, bytes }
            }),
            header,
        }
    }

    pub(crate) fn text(&self) -> String {
        let i = &self.header;
        let mut o = String::new();
        let _ = writeln!(o, "pool          {}", i.path.display());
        let _ = writeln!(
            o,
            "format        version {}, layout {:?}, uuid {}",
            i.format_version,
            i.layout,
            uuid(&i.uuid)
        );
        let _ = writeln!(
            o,
            "created       {} (unix {})",
            utc(i.created_unix),
            i.created_unix
        );
        let _ = writeln!(
            o,
            "root type     {}, fingerprint {:016x}, {} bytes at offset {:#x}",
            self.root, i.root_type.fingerprint, self.root_size, self.root_offset
        );
        match &self.schema {
            Ok(SchemaInfo { all, named, bytes }) => {
                let _ = writeln!(
                    o,
                    "schema        {} types stored ({bytes} bytes of JSON): {}",
                    all.len(),
                    named.join(", ")
                );
            }
            Err(e) => {
                let _ = writeln!(o, "schema        unusable: {e}");
            }
        }
        match &self.stats {
            Ok(s) => {
                let _ = writeln!(
                    o,
                    "file          {} ({} bytes); grows on demand up to {}",
                    human(s.file_bytes),
                    s.file_bytes,
                    human(i.max_size)
                );
                let _ = writeln!(
                    o,
                    "heap          {} in {} allocations, {} free, largest free block {}, fragmentation {:.1}%",
                    human(s.allocated_bytes),
                    s.allocations,
                    human(s.free_bytes),
                    human(s.largest_free_block),
                    s.fragmentation * 100.0
                );
                let file = self.log_file.map_or_else(
                    || "no log file".into(),
                    |b| format!("log file {}", human(b)),
                );
                let _ = writeln!(
                    o,
                    "log           {} not yet checkpointed ({file}); {} commits, {} checkpoints",
                    human(s.log_bytes),
                    s.commits,
                    s.checkpoints
                );
            }
            Err(e) => {
                let _ = writeln!(o, "heap          unreadable: {e}");
            }
        }
        let _ = writeln!(o, "durability    {}", wrap(DURABILITY_NOTE, 76, 14));
        o
    }

    pub(crate) fn json(&self) -> Value {
        let i = &self.header;
        let mut v = json!({
            "path": i.path,
            "format_version": i.format_version,
            "layout": i.layout,
            "uuid": uuid(&i.uuid),
            "created_unix": i.created_unix,
            "root": { "type": self.root, "name": i.root_type.name, "fingerprint": format!("{:016x}", i.root_type.fingerprint),
                      "size": self.root_size, "offset": self.root_offset },
            "max_size": i.max_size,
            "log_file_bytes": self.log_file,
            "durability": DURABILITY_NOTE,
        });
        v["schema"] = match &self.schema {
            Ok(SchemaInfo { all, bytes, .. }) => json!({
                "bytes": bytes,
                "types": all.iter().map(|(n, size, align, fp)| json!({ "name": n, "size": size, "align": align, "fingerprint": fp })).collect::<Vec<_>>(),
            }),
            Err(e) => json!({ "error": e }),
        };
        match &self.stats {
            Ok(s) => {
                v["stats"] = json!({
                    "file_bytes": s.file_bytes, "heap_bytes": s.heap_bytes, "allocated_bytes": s.allocated_bytes,
                    "allocations": s.allocations, "free_bytes": s.free_bytes, "largest_free_block": s.largest_free_block,
                    "fragmentation": s.fragmentation, "log_bytes": s.log_bytes, "commits": s.commits, "checkpoints": s.checkpoints,
                });
            }
            Err(e) => v["stats_error"] = json!(e),
        }
        v
    }
}

fn usage(u: Usage) -> Value {
    json!({ "count": u.count, "bytes": u.bytes })
}

/// `pmem check`'s report; answers whether the pool is healthy.
pub(crate) fn check_text(r: &Report, limit: usize) -> (String, bool) {
    let mut o = String::new();
    if r.heap_ok {
        let _ = writeln!(
            o,
            "allocator     ok: {} live allocations, {}",
            r.allocations.count,
            human(r.allocations.bytes)
        );
        let _ = writeln!(
            o,
            "walk          {} allocations reached from the root ({}), plus the schema record",
            r.reached.count,
            human(r.reached.bytes)
        );
    }
    for w in r.warnings.iter().take(limit) {
        let _ = writeln!(o, "warning: {w}");
    }
    if r.warnings.len() > limit {
        let _ = writeln!(o, "warning: ... and {} more", r.warnings.len() - limit);
    }
    for p in r.problems.iter().take(limit) {
        let _ = writeln!(o, "problem: {p}");
    }
    if r.problems.len() > limit {
        let _ = writeln!(o, "problem: ... and {} more", r.problems.len() - limit);
    }
    let healthy = r.problems.is_empty();
    if healthy {
        let _ = writeln!(o, "healthy");
    } else {
        let n = r.problems.len();
        let _ = writeln!(o, "{n} problem{} found", if n == 1 { "" } else { "s" });
    }
    (o, healthy)
}

pub(crate) fn check_json(r: &Report) -> Value {
    json!({
        "healthy": r.problems.is_empty(),
        "problems": r.problems,
        "warnings": r.warnings,
        "allocations": usage(r.allocations),
        "reached": usage(r.reached),
        "leaked": usage(r.leaked),
        "schema_record": usage(r.schema),
    })
}

/// `pmem stats`: space by type.
pub(crate) fn stats_text(r: &Report, stats: Option<&Stats>) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{:>12} {:>10}  type (allocations reached from the root)",
        "bytes", "count"
    );
    for (label, u) in &r.by_type {
        let _ = writeln!(o, "{:>12} {:>10}  {label}", u.bytes, u.count);
    }
    if r.schema.count > 0 {
        let _ = writeln!(
            o,
            "{:>12} {:>10}  (schema record)",
            r.schema.bytes, r.schema.count
        );
    }
    if r.leaked.count > 0 {
        let _ = writeln!(
            o,
            "{:>12} {:>10}  (unreachable: leaked; see pmem check)",
            r.leaked.bytes, r.leaked.count
        );
    }
    let _ = writeln!(
        o,
        "{:>12} {:>10}  total live ({})",
        r.allocations.bytes,
        r.allocations.count,
        human(r.allocations.bytes)
    );
    if let Some(s) = stats {
        let _ = writeln!(
            o,
            "heap {}: {} allocated, {} free (largest free block {}, fragmentation {:.1}%)",
            human(s.heap_bytes),
            human(s.allocated_bytes),
            human(s.free_bytes),
            human(s.largest_free_block),
            s.fragmentation * 100.0
        );
    }
    if !r.problems.is_empty() {
        let _ = writeln!(
            o,
            "the walk found {} problems; run pmem check",
            r.problems.len()
        );
    }
    o
}

pub(crate) fn stats_json(r: &Report, stats: Option<&Stats>) -> Value {
    let by: Vec<Value> = r
        .by_type
        .iter()
        .map(|(l, u)| json!({ "type": l, "count": u.count, "bytes": u.bytes }))
        .collect();
    let mut v = json!({
        "by_type": by,
        "schema_record": usage(r.schema),
        "leaked": usage(r.leaked),
        "total": usage(r.allocations),
        "problems": r.problems.len(),
    });
    if let Some(s) = stats {
        v["heap"] = json!({ "heap_bytes": s.heap_bytes, "allocated_bytes": s.allocated_bytes, "free_bytes": s.free_bytes,
                            "largest_free_block": s.largest_free_block, "fragmentation": s.fragmentation });
    }
    v
}

#[cfg(test)]
mod tests {
    use super::{human, utc};

    #[test]
    fn sizes_and_dates_read_like_a_person_writes_them() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(3 << 30), "3.0 GiB");
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_764_108_000), "2025-11-25 22:00:00 UTC");
    }
}
