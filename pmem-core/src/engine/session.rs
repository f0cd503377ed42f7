//! The pool's second file: where its log lives, how it is created and removed, and
//! whether the log found beside a pool file is the one that pool needs
//! (ARCHITECTURE §3.2, "the two files stay a pair").
//!
//! A pool file's state slot says one of three things about its log: *clean* (every
//! commit is in the pool file; no log is needed — a cleanly closed pool is one file),
//! *in use* with a 64-bit id (the log whose header carries that id may hold commits
//! past the checkpoint; the pool must not open without it), or *legacy* (a file written
//! before the id existed: the log is used if present). Every writable open starts a
//! new log session with a fresh id, so a log copied in an earlier session is told apart
//! from the current one. The order of a session start makes every crash point safe:
//!
//! 1. everything is checkpointed (the old log holds nothing the pool file lacks);
//! 2. the log header gets the new id, naming the old id and the checkpoint it follows
//!    (`prev_log_id`, `base_seq`), and is synced — a newly created log file also gets
//!    its directory entry synced;
//! 3. the state slot gets `InUse(new id)` and the pool file is synced.
//!
//! A crash between 2 and 3 leaves a state slot naming the old id and a header naming the new
//! one *as its successor from this very checkpoint*: no commit can have used the new
//! log yet (commits start after 3), so the log is ignored, not refused.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::format::{LogHeader, LogState, StateSlot, LOG_HEADER_LEN, PAGE, SECTOR};
#[cfg(feature = "testing")]
use crate::media::sim::{FileId, SimDisk};
use crate::media::Region;
use crate::media::{Backing, MappedLog, RealFile};

/// Zero bytes a new log is given ahead of its first groups, so that small `Full`
/// commits overwrite allocated blocks (their fdatasync then flushes data only).
pub(crate) const LOG_INITIAL: u64 = 1 << 20;

/// The path of a pool's log: the pool's path with `.log` appended.
pub(crate) fn log_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".log");
    PathBuf::from(s)
}

pub(crate) fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> Error + 'a {
    move |e| Error::io(op, path, e)
}

/// Syncs the directory holding `path`, so that a name created, linked or removed in it
/// survives power loss.
pub(crate) fn sync_dir(path: &Path) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let d = File::open(dir).map_err(io_err("opening directory", dir))?;
    d.sync_all().map_err(io_err("syncing directory", dir))
}

/// Where a pool's files live.
#[derive(Clone)]
pub(crate) enum Location {
    /// Real files: the pool at this path, the log beside it.
    File(PathBuf),
    /// The simulated medium of the crash-state harness.
    #[cfg(feature = "testing")]
    Sim(SimDisk),
    /// Anonymous memory: no files at all.
    Volatile,
}

/// How the log is written.
#[derive(Clone, Copy)]
pub(crate) enum LogAccess {
    /// Positional writes (`Full` durability: every commit makes a system call anyway).
    Pwrite,
    /// Stores into a shared mapping (no system call per commit).
    Mapped,
}

impl Location {
    /// The log's path (for messages).
    pub(crate) fn log_path(&self) -> PathBuf {
        match self {
            Location::File(p) => log_path(p),
            #[cfg(feature = "testing")]
            Location::Sim(_) => PathBuf::from("sim.pool.log"),
            Location::Volatile => PathBuf::from("<volatile>"),
        }
    }

    /// Opens the log if it exists (`None` when it does not).
    pub(crate) fn open_log(
        &self,
        region: &Region,
        read_only: bool,
        access: LogAccess,
    ) -> Result<Option<Box<dyn Backing>>> {
        match self {
            Location::Volatile => Ok(None),
            #[cfg(feature = "testing")]
            Location::Sim(disk) => Ok(disk.exists(FileId::Log).then(|| disk.backing(FileId::Log))),
            Location::File(p) => {
                let lp = log_path(p);
                let f = match OpenOptions::new().read(true).write(!read_only).open(&lp) {
                    Ok(f) => f,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(Error::io("opening", &lp, e)),
                };
                let rf = RealFile::new(f, lp.clone());
                if read_only {
                    return Ok(Some(Box::new(rf)));
                }
                let len = rf.len().map_err(io_err("reading", &lp))?;
                if len % PAGE != 0 {
                    // A log is always a page multiple; round up so a mapping covers it.
                    rf.grow(len.div_ceil(PAGE) * PAGE)
                        .map_err(io_err("growing", &lp))?;
                    rf.sync().map_err(io_err("syncing", &lp))?;
                }
                wrap(rf, region, access).map(Some)
            }
        }
    }

    /// Creates an empty log file (replacing any file of that name) holding `header`,
    /// durable with its directory entry.
    pub(crate) fn create_log(
        &self,
        region: &Region,
        header: &LogHeader,
        access: LogAccess,
    ) -> Result<Box<dyn Backing>> {
        match self {
            Location::Volatile => unreachable!("volatile pools have no log"),
            #[cfg(feature = "testing")]
            Location::Sim(disk) => {
                disk.create(FileId::Log);
                let log = disk.backing(FileId::Log);
                write_header(&*log, header, LOG_HEADER_LEN)?;
                disk.sync_dir()
                    .map_err(io_err("syncing directory", log.path()))?;
                Ok(log)
            }
            Location::File(p) => {
                use std::os::unix::fs::PermissionsExt;
                let lp = log_path(p);
                // The log gets the pool file's permissions (`PoolOptions::mode`).
                let mode = std::fs::metadata(p)
                    .map_err(io_err("reading", p))?
                    .permissions()
                    .mode()
                    & 0o777;
                let f = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(mode)
                    .open(&lp)
                    .map_err(io_err("creating", &lp))?;
                let rf = RealFile::new(f, lp.clone());
                write_header(&rf, header, LOG_INITIAL)?;
                sync_dir(&lp)?;
                wrap(rf, region, access)
            }
        }
    }

    /// Removes the log of a cleanly closed pool (best effort: a log left behind by a
    /// crash here is ignored, since the pool file says it is clean).
    pub(crate) fn remove_log(&self) {
        match self {
            Location::Volatile => {}
            #[cfg(feature = "testing")]
            Location::Sim(disk) => {
                disk.remove(FileId::Log);
                let _ = disk.sync_dir();
            }
            Location::File(p) => {
                let lp = log_path(p);
                if std::fs::remove_file(&lp).is_ok() {
                    let _ = sync_dir(&lp);
                }
            }
        }
    }
}

fn wrap(rf: RealFile, region: &Region, access: LogAccess) -> Result<Box<dyn Backing>> {
    match access {
        LogAccess::Pwrite => Ok(Box::new(rf)),
        LogAccess::Mapped => {
            let lp = rf.path().to_path_buf();
            Ok(Box::new(
                MappedLog::new(rf, region).map_err(io_err("mapping", &lp))?,
            ))
        }
    }
}

/// Writes `header` at the start of `log` (and zeros up to `len` when the log is
/// shorter), then syncs it.
pub(crate) fn write_header(log: &dyn Backing, header: &LogHeader, len: u64) -> Result<()> {
    let cur = log.len().map_err(io_err("reading", log.path()))?;
    let mut page = vec![0u8; LOG_HEADER_LEN as usize];
    page[..SECTOR as usize].copy_from_slice(&header.encode());
    log.write_at(0, &page)
        .map_err(io_err("writing", log.path()))?;
    let from = cur.max(LOG_HEADER_LEN);
    if len > from {
        let zeros = vec![0u8; (len - from) as usize];
        log.write_at(from, &zeros)
            .map_err(io_err("writing", log.path()))?;
    }
    log.sync().map_err(io_err("syncing", log.path()))
}

/// What to do with the log found beside a pool file.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LogUse {
    /// Replay it: it may hold commits past the checkpoint.
    Replay,
    /// Its contents are all in the pool file already (or there is none).
    Ignore,
}

/// What was found where a pool's log belongs.
pub(crate) enum Found {
    /// No log file.
    Nothing,
    /// A file whose header does not decode.
    Garbage,
    /// A log with this header.
    Log(LogHeader),
}

/// Decides, from the pool file's state slot and what was found where its log belongs,
/// whether the log is the one the pool needs. Answers a typed error for a missing,
/// foreign or stale log.
pub(crate) fn judge(
    state: &StateSlot,
    uuid: &[u8; 16],
    found: Found,
    pool: &Path,
    log: &Path,
) -> Result<LogUse> {
    let mismatch = |reason| Error::LogMismatch {
        pool: pool.to_path_buf(),
        log: log.to_path_buf(),
        reason,
    };
    let invalid = || Error::corrupted("log header is invalid (log offset)", 0);
    match (state.log, found) {
        (LogState::Clean, _) | (LogState::Legacy, Found::Nothing) => Ok(LogUse::Ignore),
        (LogState::InUse(_), Found::Nothing) => Err(Error::LogMissing {
            pool: pool.to_path_buf(),
            log: log.to_path_buf(),
        }),
        (_, Found::Garbage) => Err(invalid()),
        (_, Found::Log(h)) if h.uuid != *uuid => Err(mismatch("the log belongs to another pool")),
        (LogState::Legacy, Found::Log(_)) => Ok(LogUse::Replay),
        (LogState::InUse(id), Found::Log(h)) => {
            if h.log_id == id {
                Ok(LogUse::Replay)
            } else if h.prev_log_id == id && h.base_seq == state.checkpoint_seq {
                // A new session's header was written, its id not yet published: no
                // commit used it (ARCHITECTURE §3.2).
                Ok(LogUse::Ignore)
            } else {
                Err(mismatch(
                    "the log is from another session of this pool (a stale copy); \
                     restore the log that was copied with the pool file",
                ))
            }
        }
    }
}

/// Reads the header of `log`.
pub(crate) fn read_header(log: &dyn Backing) -> Result<Found> {
    if log.len().map_err(io_err("reading", log.path()))? < SECTOR {
        return Ok(Found::Garbage);
    }
    let mut b = vec![0u8; SECTOR as usize];
    log.read_at(0, &mut b)
        .map_err(io_err("reading", log.path()))?;
    Ok(LogHeader::decode(&b).map_or(Found::Garbage, Found::Log))
}

/// A fresh, nonzero log id.
pub(crate) fn new_log_id() -> u64 {
    loop {
        let id = u64::from_le_bytes(random_uuid()[..8].try_into().expect("8 bytes"));
        if id != 0 {
            return id;
        }
    }
}

/// Sixteen random bytes: a new pool's UUID, a log session's id.
pub(crate) fn random_uuid() -> [u8; 16] {
    let mut u = [0u8; 16];
    // SAFETY: getrandom writes at most the given length into our buffer.
    let n = unsafe { libc::getrandom(u.as_mut_ptr().cast(), u.len(), 0) };
    if n != 16 {
        // Fall back to time and address entropy; uniqueness, not secrecy, is needed.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        u[..8].copy_from_slice(&(t.as_nanos() as u64).to_le_bytes());
        let addr = std::ptr::from_ref(&t) as u64;
        u[8..].copy_from_slice(&(addr ^ u64::from(std::process::id())).to_le_bytes());
    }
    u
}
