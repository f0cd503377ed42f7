//! Opening a pool (ARCHITECTURE §9 steps 1–3): lock the file, validate the header,
//! pick the checkpoint state slot, map the file, and find and judge its log.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::create::initial_image;
use super::group_commit::GroupCommit;
use super::journal::Journal;
use super::page_set::PageSet;
use super::pin::Board;
use super::session::{io_err, Location, LogUse, LOG_INITIAL};
use super::state::{Config, CreateSpec, Expect, Flusher, Shared, Source, State};
use super::versions::Versions;
use crate::error::{Error, Result};
use crate::format::{
    HeaderFault, LogHeader, StateSlot, StaticHeader, HEAP_START, LOG_HEADER_LEN, PAGE, SECTOR,
    STATE_SLOT_OFF,
};
use crate::heap::HeapIndex;
use crate::media::Region;
use crate::media::{Backing, RealFile};

fn flock(file: &File, path: &Path, shared: bool) -> Result<()> {
    let op = if shared { libc::LOCK_SH } else { libc::LOCK_EX } | libc::LOCK_NB;
    // SAFETY: flock on our own descriptor.
    if unsafe { libc::flock(file.as_raw_fd(), op) } != 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
            return Err(Error::Locked {
                path: path.to_path_buf(),
            });
        }
        return Err(Error::io("locking", path, e));
    }
    Ok(())
}

/// Opens `path` and locks it (shared or exclusive), making sure the lock is on the
/// file `path` names *after* locking: a file renamed over `path` between the open and
/// the lock (a migration or a restore replacing the pool) would otherwise leave this
/// opener holding a lock on the replaced file while another process writes the new
/// one. Retries a few times, then answers `Locked`.
fn open_locked(path: &Path, write: bool, shared: bool) -> Result<File> {
    use std::os::unix::fs::MetadataExt;
    for _ in 0..8 {
        let file = OpenOptions::new()
            .read(true)
            .write(write)
            .open(path)
            .map_err(|e| open_error(path, write, e))?;
        flock(&file, path, shared)?;
        let held = file.metadata().map_err(|e| Error::io("reading", path, e))?;
        // Replaced meanwhile: drop this file and lock the one the path names now.
        match std::fs::metadata(path) {
            Ok(now) if now.dev() == held.dev() && now.ino() == held.ino() => return Ok(file),
            Ok(_) => {}
            Err(e) => return Err(Error::io("opening", path, e)),
        }
    }
    Err(Error::Locked {
        path: path.to_path_buf(),
    })
}

/// The error of opening the pool file. A writable open refused by the file's mode or a
/// read-only file system says so (`"opening for writing"`), and its message points to
/// `PoolOptions::read_only(true)` (see `Error::Io`'s `Display`).
pub(crate) fn open_error(path: &Path, write: bool, e: io::Error) -> Error {
    if write && crate::error::is_write_refusal(&e) {
        Error::io("opening for writing", path, e)
    } else {
        Error::io("opening", path, e)
    }
}

/// The state slot in force (ARCHITECTURE §3.2): the valid one, at the offset its count
/// names, with the highest count.
fn latest_state_slot(page0: &[u8]) -> Result<StateSlot> {
    let state_slots = STATE_SLOT_OFF.map(|o| StateSlot::decode(&page0[o as usize..]));
    state_slots
        .iter()
        .flatten()
        .filter(|s| s.offset() == STATE_SLOT_OFF[(s.checkpoint_count % 2) as usize])
        .max_by_key(|s| s.checkpoint_count)
        .copied()
        .ok_or_else(|| Error::corrupted("no valid checkpoint state slot", SECTOR))
}

fn fault_to_error(f: &HeaderFault, path: &Path) -> Error {
    match f {
        HeaderFault::Magic => Error::NotAPool {
            path: path.to_path_buf(),
        },
        HeaderFault::Version(v) => Error::UnsupportedVersion {
            found: *v,
            supported: crate::format::FORMAT_VERSION,
        },
        HeaderFault::Checksum => Error::corrupted("pool header checksum mismatch", 0),
        HeaderFault::Field(f) => Error::corrupted(format!("pool header field {f} is invalid"), 0),
    }
}

impl Shared {
    /// Opens (and recovers) a pool. `create` makes a new one first where the source needs it.
    pub(crate) fn open(
        src: Source,
        cfg: Config,
        expect: &Expect,
        create: Option<&CreateSpec>,
    ) -> Result<Arc<Shared>> {
        match src {
            Source::File { path } => {
                let file = open_locked(&path, !cfg.read_only, cfg.read_only)?;
                let pool: Box<dyn Backing> = Box::new(RealFile::new(file, path.clone()));
                Self::open_backing(pool, Location::File(path.clone()), path, cfg, expect)
            }
            #[cfg(feature = "testing")]
            Source::Sim(disk) => {
                use crate::media::sim::FileId;
                if let Some(spec) = create {
                    super::create::create_sim(&disk, spec, expect)?;
                }
                if !disk.exists(FileId::Pool) {
                    return Err(Error::io(
                        "opening",
                        "sim.pool",
                        io::Error::from(io::ErrorKind::NotFound),
                    ));
                }
                let pool = disk.backing(FileId::Pool);
                Self::open_backing(
                    pool,
                    Location::Sim(disk),
                    PathBuf::from("sim.pool"),
                    cfg,
                    expect,
                )
            }
            Source::Volatile => {
                let spec = create.expect("volatile pools are always new");
                let (img, header) = initial_image(spec, expect)?;
                let region =
                    Region::reserve().map_err(io_err("mapping", Path::new("<volatile>")))?;
                let len = img.len() as u64;
                region
                    .map_anon(0, len)
                    .map_err(io_err("mapping", Path::new("<volatile>")))?;
                // SAFETY: `len` bytes were just mapped at the region base.
                unsafe { std::ptr::copy_nonoverlapping(img.as_ptr(), region.base(), img.len()) };
                region.control().mapped_len.store(len, Ordering::Release);
                Self::finish_open(
                    Files {
                        pool: None,
                        log: None,
                        location: Location::Volatile,
                        replay: false,
                    },
                    region,
                    header,
                    StateSlot::default(),
                    cfg,
                    PathBuf::from("<volatile>"),
                )
            }
        }
    }

    /// Opens a pool of any root type (the root identity is not checked): for tools.
    pub(crate) fn open_any(src: Source, cfg: Config, expect: &Expect) -> Result<Arc<Shared>> {
        let Source::File { path } = src else {
            unreachable!("tools open files")
        };
        let file = open_locked(&path, false, true)?;
        let pool: Box<dyn Backing> = Box::new(RealFile::new(file, path.clone()));
        let mut cfg = cfg;
        cfg.read_only = true;
        Self::open_backing(pool, Location::File(path.clone()), path, cfg, expect)
    }

    fn open_backing(
        pool: Box<dyn Backing>,
        location: Location,
        path: PathBuf,
        cfg: Config,
        expect: &Expect,
    ) -> Result<Arc<Shared>> {
        let len = pool.len().map_err(io_err("reading", &path))?;
        if len < SECTOR {
            return Err(Error::NotAPool { path });
        }
        let mut page0 = vec![0u8; (3 * SECTOR) as usize];
        let got = page0.len().min(len as usize);
        pool.read_at(0, &mut page0[..got])
            .map_err(io_err("reading", &path))?;
        let header = StaticHeader::decode(&page0).map_err(|f| fault_to_error(&f, &path))?;
        if let Some(want) = &expect.layout {
            if *want != header.layout {
                return Err(Error::WrongLayout {
                    expected: want.clone(),
                    found: header.layout,
                });
            }
        }
        // The root type is compared in full depth after recovery, against the schema
        // record the pool stores (`Pool::open`, `schema_diff`); tools open any type.
        if len < HEAP_START + PAGE {
            return Err(Error::corrupted(
                format!("pool file truncated to {len} bytes"),
                len,
            ));
        }
        let checkpoint = latest_state_slot(&page0)?;

        let region = Region::reserve().map_err(io_err("mapping", &path))?;
        let mlen = (len - len % PAGE).min(header.max_size);
        if mlen > crate::media::max_pool_size() {
            return Err(Error::InvalidOptions(format!(
                "pool file of {mlen} bytes does not fit this process's address-space region"
            )));
        }
        match pool.fd() {
            Some(fd) => region
                .map_private(0, mlen, fd, 0)
                .map_err(io_err("mapping", &path))?,
            None => {
                region.map_anon(0, mlen).map_err(io_err("mapping", &path))?;
                // SAFETY: `mlen` bytes are mapped at the region base.
                let dst = unsafe { std::slice::from_raw_parts_mut(region.base(), mlen as usize) };
                pool.read_at(0, dst).map_err(io_err("reading", &path))?;
            }
        }
        region.control().mapped_len.store(mlen, Ordering::Release);

        // The log: the one this pool file names, or none (ARCHITECTURE §3.2).
        let Some(access) = cfg.mode.log_access() else {
            unreachable!("volatile pools open no files");
        };
        let lp = location.log_path();
        let found = location.open_log(&region, cfg.read_only, access)?;
        let found_header = match &found {
            Some(l) => super::session::read_header(&**l)?,
            None => super::session::Found::Nothing,
        };
        let use_ = super::session::judge(&checkpoint, &header.uuid, found_header, &path, &lp)?;
        let replay = use_ == LogUse::Replay;
        let log = match (found, cfg.read_only) {
            (Some(l), _) if replay => Some(l),
            (_, true) => None,
            (Some(l), false) => Some(l),
            (None, false) => {
                // The session start below writes the real header; this one only names
                // the pool, in case of a crash before then (ignored: the state slot is clean).
                let h = LogHeader {
                    uuid: header.uuid,
                    log_id: 0,
                    prev_log_id: 0,
                    base_seq: checkpoint.checkpoint_seq,
                };
                Some(location.create_log(&region, &h, access)?)
            }
        };
        let pool_file = if cfg.read_only { None } else { Some(pool) };
        Self::finish_open(
            Files {
                pool: pool_file,
                log,
                location,
                replay,
            },
            region,
            header,
            checkpoint,
            cfg,
            path,
        )
    }

    fn finish_open(
        files: Files,
        region: Region,
        header: StaticHeader,
        checkpoint: StateSlot,
        cfg: Config,
        path: PathBuf,
    ) -> Result<Arc<Shared>> {
        let state = State {
            // W is the pool file mapped privately exactly when the file has a descriptor
            // (the simulated medium and volatile pools copy instead).
            journal: Journal::new(files.pool.as_ref().is_some_and(|f| f.fd().is_some())),
            heap: HeapIndex::default(),
            log_pos: LOG_HEADER_LEN,
            last_seq: checkpoint.checkpoint_seq,
            checkpoint,
            dirty: PageSet::default(),
            log_written: LOG_INITIAL,
            buf: Vec::new(),
            ranges: Vec::new(),
            versions: Versions::default(),
        };
        let sh = Arc::new(Shared {
            log: files.log,
            pool_file: files.pool,
            state: RwLock::new(state),
            flusher: Flusher {
                gc: GroupCommit::new(checkpoint.checkpoint_seq),
                committers: std::sync::atomic::AtomicUsize::new(0),
                pending: Mutex::new(VecDeque::new()),
            },
            header,
            cfg,
            poisoned: AtomicBool::new(false),
            snap: Board::new(),
            path,
            location: files.location,
            region,
        });
        let tag = crate::format::pool_tag_of(&sh.header.uuid);
        // One tag per writable pool in the process (ARCHITECTURE §12): a copy beside its
        // original could otherwise receive the original's pointers.
        crate::media::claim_tag(&sh.region, tag, &sh.path, !sh.cfg.read_only).map_err(|other| {
            Error::SameTag {
                pool: sh.path.clone(),
                other,
            }
        })?;
        sh.region.control().tag.store(tag, Ordering::Release);
        sh.region
            .control()
            .shared
            .store(Arc::as_ptr(&sh).cast_mut().cast(), Ordering::Release);
        sh.recover(files.replay)?;
        {
            let mut st = sh
                .state
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            sh.start_versions(&mut st)?;
        }
        Ok(sh)
    }
}

/// The files an open pool works with.
struct Files {
    pool: Option<Box<dyn Backing>>,
    log: Option<Box<dyn Backing>>,
    location: Location,
    /// Whether the log holds commits to replay.
    replay: bool,
}

#[cfg(test)]
mod message_tests {
    use super::open_error;
    use std::io;
    use std::path::Path;

    #[test]
    fn a_writable_open_refused_by_mode_or_file_system_points_to_read_only() {
        let p = Path::new("data.pool");
        for errno in [libc::EACCES, libc::EROFS, libc::EPERM] {
            let e = open_error(p, true, io::Error::from_raw_os_error(errno));
            let text = e.to_string();
            assert!(
                text.starts_with("opening for writing data.pool: "),
                "{text}"
            );
            assert!(text.contains("PoolOptions::read_only(true)"), "{text}");
        }
    }

    #[test]
    fn other_open_failures_name_the_file_once_without_advice() {
        let p = Path::new("data.pool");
        let e = open_error(p, true, io::Error::from_raw_os_error(libc::ENOENT));
        assert_eq!(
            e.to_string(),
            "opening data.pool: No such file or directory (os error 2)"
        );
        let e = open_error(p, false, io::Error::from_raw_os_error(libc::EACCES));
        assert_eq!(
            e.to_string(),
            "opening data.pool: Permission denied (os error 13)"
        );
    }
}
