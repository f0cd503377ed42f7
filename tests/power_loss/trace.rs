//! The records `shim.c` writes, parsed into [`Op`]s.
//!
//! A record is a 40-byte little-endian header `{u32 kind, u32 name_len, u32 name2_len,
//! u32 flags, u64 a, u64 b, u64 data_len}` followed by the name, the second name and the
//! data. Names are relative to the recorded directory; `""` is the directory itself.

use std::fmt;

/// One recorded call that changed (or made durable) a file under the directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// A new, empty file appeared under `name` (open with `O_CREAT` of a missing file).
    Create { name: String },
    /// `data` written at `off` (write, pwrite, writev, or stores through a shared mapping).
    Write {
        name: String,
        off: u64,
        data: Vec<u8>,
    },
    /// The file's size set to `size` (ftruncate, `O_TRUNC`).
    SetSize { name: String, size: u64 },
    /// `fallocate` / `posix_fallocate` (`mode` 0 extends the size to `off + len`).
    Falloc {
        name: String,
        mode: u32,
        off: u64,
        len: u64,
    },
    /// fsync or fdatasync of a file: its data and size become durable.
    Sync { name: String, data_only: bool },
    /// fsync of a directory: its entries become durable.
    DirSync { name: String },
    /// A second name for a file.
    Link { from: String, to: String },
    /// A file moved to another name.
    Rename { from: String, to: String },
    /// A name removed.
    Unlink { name: String },
    /// `msync(MS_SYNC)` of a mapped range of a file.
    Msync { name: String, off: u64, len: u64 },
    /// `sync_file_range`: no durability promise.
    SyncFileRange { name: String },
    /// sync / syncfs: everything durable.
    SyncAll,
    /// A progress marker from the workload.
    Marker(String),
}

impl Op {
    /// Does this op make something durable (a crash point sits just before it)?
    pub(crate) fn is_sync(&self) -> bool {
        matches!(
            self,
            Op::Sync { .. } | Op::DirSync { .. } | Op::Msync { .. } | Op::SyncAll
        )
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Create { name } => write!(f, "create {name}"),
            Op::Write { name, off, data } => {
                write!(f, "write {name} @{off:#x}+{:#x}", data.len())
            }
            Op::SetSize { name, size } => write!(f, "set_len {name} {size:#x}"),
            Op::Falloc {
                name,
                mode,
                off,
                len,
            } => write!(f, "fallocate {name} mode {mode} @{off:#x}+{len:#x}"),
            Op::Sync { name, data_only } => {
                write!(
                    f,
                    "{} {name}",
                    if *data_only { "fdatasync" } else { "fsync" }
                )
            }
            Op::DirSync { name } => write!(f, "fsync dir {name:?}"),
            Op::Link { from, to } => write!(f, "link {from} -> {to}"),
            Op::Rename { from, to } => write!(f, "rename {from} -> {to}"),
            Op::Unlink { name } => write!(f, "unlink {name}"),
            Op::Msync { name, off, len } => write!(f, "msync {name} @{off:#x}+{len:#x}"),
            Op::SyncFileRange { name } => write!(f, "sync_file_range {name}"),
            Op::SyncAll => write!(f, "sync"),
            Op::Marker(m) => write!(f, "marker {m:?}"),
        }
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Parses a whole trace. A truncated or unknown record is an error (the shim never
/// writes one unless it is broken).
pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<Op>, String> {
    const HEADER: usize = 40;
    let mut ops = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if bytes.len() - at < HEADER {
            return Err(format!("truncated record header at byte {at}"));
        }
        let h = &bytes[at..at + HEADER];
        let (kind, n1, n2, flags) = (
            u32_at(h, 0),
            u32_at(h, 4) as usize,
            u32_at(h, 8) as usize,
            u32_at(h, 12),
        );
        let (a, b, dlen) = (u64_at(h, 16), u64_at(h, 24), u64_at(h, 32) as usize);
        let body = at + HEADER;
        let end = body + n1 + n2 + dlen;
        if end > bytes.len() {
            return Err(format!("truncated record body at byte {at}"));
        }
        let text =
            |from: usize, n: usize| String::from_utf8_lossy(&bytes[from..from + n]).into_owned();
        let name = text(body, n1);
        let name2 = text(body + n1, n2);
        let data = &bytes[body + n1 + n2..end];
        ops.push(match kind {
            1 => Op::Create { name },
            2 => Op::Write {
                name,
                off: a,
                data: data.to_vec(),
            },
            3 => Op::SetSize { name, size: a },
            4 => Op::Falloc {
                name,
                mode: flags,
                off: a,
                len: b,
            },
            5 | 6 => Op::Sync {
                name,
                data_only: kind == 6,
            },
            7 => Op::DirSync { name },
            8 => Op::Link {
                from: name,
                to: name2,
            },
            9 => Op::Rename {
                from: name,
                to: name2,
            },
            10 => Op::Unlink { name },
            11 => Op::Msync {
                name,
                off: a,
                len: b,
            },
            12 => Op::Marker(name),
            13 => Op::SyncFileRange { name },
            14 => Op::SyncAll,
            k => return Err(format!("unknown record kind {k} at byte {at}")),
        });
        at = end;
    }
    Ok(ops)
}
