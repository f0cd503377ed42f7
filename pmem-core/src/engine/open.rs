//! The engine behind a pool: opening and recovery, commit, rollback, group commit and
//! checkpoint (ARCHITECTURE §7–§9 walk through each, failure by failure).
//!
//! The pool file is mapped copy-on-write, so nothing a transaction writes reaches the
//! file behind our back. A commit appends one redo group (every written range's new
//! bytes, checksummed) to the log; in `Full` durability one fdatasync of the log then
//! makes it durable, shared by every commit waiting at that moment (group commit). A
//! checkpoint writes the pages changed since the last one into the pool file, syncs it,
//! then publishes a new checkpoint state slot, after which the log restarts. Recovery
//! replays every complete group past the checkpoint; replay is idempotent.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockWriteGuard};

use super::journal::Journal;
use super::session::{io_err, sync_dir, LogAccess, LogUse, Place, LOG_INITIAL};
use crate::error::{Error, Result, TypeIdentity};
use crate::format::{
    BlockHeader, HeaderFault, LogHeader, LogState, RootMeta, StateSlot, StaticHeader, HEAP_START,
    KIND_FREE, LOG_HEADER_LEN, META_MAGIC, META_OFF, PAGE, SECTOR, STATE_SLOT_OFF,
};
use crate::heap::{self, HeapIndex, HeapMem};
use crate::media::{Backing, RealFile};
use crate::media::{Slot, ABS_MAX_POOL_SIZE};

/// How durable a returned commit is. See `docs/ARCHITECTURE.md` §2 for the guarantees.
///
/// Every decision the engine and the crash harness make from the mode is one of the
/// methods below, each an exhaustive `match`: a new mode is a compile error at every
/// place that has to decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// A commit that returned survives power loss: one fdatasync of the log per commit,
    /// shared by concurrent committers.
    #[default]
    Full,
    /// A commit that returned survives any crash of the process (kill -9, abort, panic).
    /// No flush system call on the commit path. After an OS crash or power loss the pool
    /// recovers to a consistent prefix of its commits.
    Process,
}

impl Durability {
    /// Whether a commit waits for a device flush of the log before it returns.
    pub(crate) fn syncs_on_commit(self) -> bool {
        match self {
            Durability::Full => true,
            Durability::Process => false,
        }
    }

    /// How the log is written: `Full` makes a system call per commit anyway (the
    /// fdatasync), and fdatasync of a range written with pwrite is cheaper than of
    /// pages dirtied through a mapping; `Process` commits with memory copies only.
    pub(crate) fn log_access(self) -> LogAccess {
        match self {
            Durability::Full => LogAccess::Pwrite,
            Durability::Process => LogAccess::Mapped,
        }
    }

    /// Whether every acknowledged commit survives power loss (otherwise a power loss
    /// may roll the pool back to any consistent prefix of its commits).
    pub fn survives_power_loss(self) -> bool {
        match self {
            Durability::Full => true,
            Durability::Process => false,
        }
    }
}

/// What backs a pool.
pub(crate) enum Source {
    File { path: PathBuf },
    Sim(crate::media::sim::SimDisk),
    Volatile,
}

/// What the caller expects of the pool it opens.
#[derive(Clone, Debug)]
pub(crate) struct Expect {
    pub(crate) layout: Option<String>,
    pub(crate) root: TypeIdentity,
    pub(crate) root_size: u64,
    pub(crate) root_align: u64,
}

/// Settings fixed at open.
#[derive(Clone, Debug)]
#[allow(clippy::struct_excessive_bools)] // independent switches, each named at its use
pub(crate) struct Config {
    pub(crate) durability: Durability,
    pub(crate) read_only: bool,
    pub(crate) checkpoint_bytes: u64,
    pub(crate) volatile: bool,
    pub(crate) release_pages: bool,
    /// Run the full check (values included) before `open` returns.
    pub(crate) verify: bool,
}

/// Settings of a new pool.
#[derive(Clone, Debug)]
pub(crate) struct CreateSpec {
    pub(crate) layout: String,
    pub(crate) initial_size: u64,
    pub(crate) max_size: u64,
    pub(crate) mode: u32,
}

/// A growable bitset of pages changed since the last checkpoint.
#[derive(Default, Debug)]
pub(crate) struct PageSet {
    words: Vec<u64>,
    count: u64,
}

impl PageSet {
    fn mark(&mut self, off: u64, len: u64) {
        if len == 0 {
            return;
        }
        let (first, last) = (off / PAGE, (off + len - 1) / PAGE);
        for p in first..=last {
            let w = (p / 64) as usize;
            if w >= self.words.len() {
                self.words.resize(w + 1, 0);
            }
            let bit = 1u64 << (p % 64);
            if self.words[w] & bit == 0 {
                self.words[w] |= bit;
                self.count += 1;
            }
        }
    }
    /// Maximal runs of set pages as (first page, page count).
    fn runs(&self) -> Vec<(u64, u64)> {
        let mut out: Vec<(u64, u64)> = Vec::new();
        for (w, &word) in self.words.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let b = bits.trailing_zeros() as u64;
                bits &= bits - 1;
                let p = w as u64 * 64 + b;
                match out.last_mut() {
                    Some((s, n)) if *s + *n == p => *n += 1,
                    _ => out.push((p, 1)),
                }
            }
        }
        out
    }
    fn clear(&mut self) {
        self.words.clear();
        self.count = 0;
    }
}

/// Mutable engine state, owned by whoever holds the write lock.
pub(crate) struct State {
    pub(crate) journal: Journal,
    pub(crate) heap: HeapIndex,
    /// Where the next log group goes.
    pub(crate) log_pos: u64,
    /// Sequence number of the last commit.
    pub(crate) last_seq: u64,
    /// The last published checkpoint state.
    pub(crate) checkpoint: StateSlot,
    pub(crate) dirty: PageSet,
    /// End of the log bytes known to be written (not just allocated): small `Full`
    /// commits are kept inside written blocks, whose fdatasync flushes data only.
    log_written: u64,
    buf: Vec<u8>,
    ranges: Vec<(u64, u64)>,
}

/// Group commit (see `group_commit`), plus where each not-yet-durable group starts so
/// a failed sync can invalidate it.
pub(crate) struct Flusher {
    gc: super::group_commit::GroupCommit,
    /// Transactions between `Pool::tx`'s start and their commit's append (see
    /// `gather_committers`).
    pub(crate) committers: std::sync::atomic::AtomicUsize,
    /// (seq, log offset) of groups appended but not known durable.
    pending: Mutex<VecDeque<(u64, u64)>>,
}

/// Everything shared by the handles of one open pool.
pub(crate) struct Shared {
    // Field order is drop order: the files go before the slot they are mapped into.
    pub(crate) log: Option<Box<dyn Backing>>,
    pub(crate) pool_file: Option<Box<dyn Backing>>,
    pub(crate) state: RwLock<State>,
    pub(crate) flusher: Flusher,
    pub(crate) header: StaticHeader,
    pub(crate) cfg: Config,
    pub(crate) poisoned: AtomicBool,
    pub(crate) path: PathBuf,
    /// Where the files live (to create, find and remove the log).
    pub(crate) place: Place,
    pub(crate) slot: Slot,
}

/// The transaction's view of the engine, for the allocator and the raw API.
pub(crate) struct TxCtx<'a> {
    pub(crate) sh: &'a Shared,
    pub(crate) st: &'a mut State,
}

impl HeapMem for TxCtx<'_> {
    fn base(&self) -> *mut u8 {
        self.sh.slot.base()
    }
    fn mapped_len(&self) -> u64 {
        self.sh.slot.control().mapped_len()
    }
    fn max_size(&self) -> u64 {
        self.sh.max_size()
    }
    fn snapshot(&mut self, off: u64, len: u64) {
        // SAFETY: the allocator only names ranges below heap_end <= mapped_len.
        unsafe { self.st.journal.snapshot(self.sh.slot.base(), off, len) };
    }
    fn record_fresh(&mut self, off: u64, len: u64) {
        self.st.journal.record_fresh(off, len);
    }
    fn ensure_mapped(&mut self, len: u64) -> Result<()> {
        self.sh.ensure_mapped(len)
    }
}

/// Read-only access to the mapping for walks outside a transaction.
pub(crate) struct ReadCtx<'a>(pub(crate) &'a Shared);

impl HeapMem for ReadCtx<'_> {
    fn base(&self) -> *mut u8 {
        self.0.slot.base()
    }
    fn mapped_len(&self) -> u64 {
        self.0.slot.control().mapped_len()
    }
    fn max_size(&self) -> u64 {
        self.0.max_size()
    }
    fn snapshot(&mut self, _: u64, _: u64) {
        unreachable!("read context never writes");
    }
    fn record_fresh(&mut self, _: u64, _: u64) {
        unreachable!("read context never writes");
    }
    fn ensure_mapped(&mut self, _: u64) -> Result<()> {
        unreachable!("read context never writes");
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

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

/// The bytes of a new, empty pool: header, checkpoint slot 0, metadata page, one free
/// block spanning the heap. The root is allocated by the first transaction after open.
pub(crate) fn initial_image(spec: &CreateSpec, expect: &Expect) -> Result<(Vec<u8>, StaticHeader)> {
    let size = spec.initial_size.max(HEAP_START + PAGE).div_ceil(PAGE) * PAGE;
    if spec.max_size > ABS_MAX_POOL_SIZE || spec.max_size < size {
        return Err(Error::InvalidOptions(format!(
            "max_size {} must be between the initial size {size} and {ABS_MAX_POOL_SIZE}",
            spec.max_size
        )));
    }
    if spec.layout.len() > crate::format::LAYOUT_LEN || spec.layout.contains('\0') {
        return Err(Error::InvalidOptions(
            "layout names are at most 64 bytes, without NUL".into(),
        ));
    }
    let header = StaticHeader {
        uuid: random_uuid(),
        layout: spec.layout.clone(),
        root_fingerprint: expect.root.fingerprint,
        root_size: expect.root_size,
        root_align: expect.root_align,
        max_size: spec.max_size,
        created_unix: unix_now(),
        root_type_name: truncate_name(&expect.root.name),
    };
    let mut img = vec![0u8; size as usize];
    img[..SECTOR as usize].copy_from_slice(&header.encode());
    // A new pool has every commit (none) in its file: it needs no log yet.
    let s0 = StateSlot {
        checkpoint_count: 0,
        checkpoint_seq: 0,
        log: LogState::Clean,
    };
    img[STATE_SLOT_OFF[0] as usize..][..StateSlot::LEN].copy_from_slice(&s0.encode());
    let meta = RootMeta {
        magic: META_MAGIC,
        root_off: 0,
        heap_end: size,
        schema_off: 0,
        schema_len: 0,
        reserved: [0; 3],
    };
    write_pod(&mut img, META_OFF, &meta);
    write_pod(
        &mut img,
        HEAP_START,
        &BlockHeader::new(KIND_FREE, 0, size - HEAP_START, 0),
    );
    Ok((img, header))
}

fn truncate_name(name: &str) -> String {
    let mut end = name.len().min(crate::format::TYPE_NAME_LEN);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_string()
}

fn write_pod<T: Copy>(img: &mut [u8], off: u64, v: &T) {
    // SAFETY: T is a padding-free #[repr(C)] header (size asserted in `layout`), so
    // viewing it as bytes reads only initialised memory.
    let bytes =
        unsafe { std::slice::from_raw_parts(std::ptr::from_ref(v).cast::<u8>(), size_of::<T>()) };
    img[off as usize..off as usize + bytes.len()].copy_from_slice(bytes);
}

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

/// Creates a pool file on disk, atomically and durably: the pool appears at `path`
/// complete or not at all, and once this returns it survives power loss. The new pool
/// is *clean* (it needs no log); its first writable open creates the log.
///
/// The file is written and synced under a temporary name, hard-linked to `path` (which
/// fails if `path` exists: no race with another creator), and the directory is synced
/// so the name is durable; the temporary name is then removed and the directory synced
/// again, so a power cut leaves no stray file behind (ARCHITECTURE §8.1).
pub(crate) fn create_files(path: &Path, spec: &CreateSpec, expect: &Expect) -> Result<()> {
    if path.exists() {
        return Err(Error::AlreadyExists {
            path: path.to_path_buf(),
        });
    }
    let (img, _) = initial_image(spec, expect)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".creating.{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(spec.mode)
            .open(&tmp)
            .map_err(|e| Error::io("creating", path, e))?;
        std::os::unix::fs::FileExt::write_all_at(&f, &img, 0)
            .map_err(|e| Error::io("writing", path, e))?;
        f.sync_all().map_err(|e| Error::io("syncing", path, e))?;
        std::fs::hard_link(&tmp, path).map_err(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                Error::AlreadyExists {
                    path: path.to_path_buf(),
                }
            } else {
                Error::io("creating", path, e)
            }
        })?;
        sync_dir(path)
    })();
    if std::fs::remove_file(&tmp).is_ok() && result.is_ok() {
        sync_dir(path)?;
    }
    result
}

/// Writes a new pool onto the simulated disk, with the same durability steps as
/// `create_files` (file synced, then its name).
pub(crate) fn create_sim(
    disk: &crate::media::sim::SimDisk,
    spec: &CreateSpec,
    expect: &Expect,
) -> Result<()> {
    use crate::media::sim::FileId;
    let (img, _) = initial_image(spec, expect)?;
    disk.create(FileId::Pool);
    let pool = disk.backing(FileId::Pool);
    pool.write_at(0, &img)
        .map_err(io_err("writing", pool.path()))?;
    pool.sync().map_err(io_err("syncing", pool.path()))?;
    disk.sync_dir()
        .map_err(io_err("syncing directory", pool.path()))
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
                let file = OpenOptions::new()
                    .read(true)
                    .write(!cfg.read_only)
                    .open(&path)
                    .map_err(|e| Error::io("opening", &path, e))?;
                flock(&file, &path, cfg.read_only)?;
                let pool: Box<dyn Backing> = Box::new(RealFile::new(file, path.clone()));
                Self::open_backing(pool, Place::File(path.clone()), path, cfg, expect)
            }
            Source::Sim(disk) => {
                use crate::media::sim::FileId;
                if let Some(spec) = create {
                    create_sim(&disk, spec, expect)?;
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
                    Place::Sim(disk),
                    PathBuf::from("sim.pool"),
                    cfg,
                    expect,
                )
            }
            Source::Volatile => {
                let spec = create.expect("volatile pools are always new");
                let (img, header) = initial_image(spec, expect)?;
                let slot = Slot::reserve().map_err(io_err("mapping", Path::new("<volatile>")))?;
                let len = img.len() as u64;
                slot.map_anon(0, len)
                    .map_err(io_err("mapping", Path::new("<volatile>")))?;
                // SAFETY: `len` bytes were just mapped at the slot base.
                unsafe { std::ptr::copy_nonoverlapping(img.as_ptr(), slot.base(), img.len()) };
                slot.control().mapped_len.store(len, Ordering::Release);
                Self::finish_open(
                    Files {
                        pool: None,
                        log: None,
                        place: Place::Volatile,
                        replay: false,
                    },
                    slot,
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
        let file = OpenOptions::new()
            .read(true)
            .open(&path)
            .map_err(|e| Error::io("opening", &path, e))?;
        flock(&file, &path, true)?;
        let pool: Box<dyn Backing> = Box::new(RealFile::new(file, path.clone()));
        let mut cfg = cfg;
        cfg.read_only = true;
        Self::open_backing(pool, Place::File(path.clone()), path, cfg, expect)
    }

    fn open_backing(
        pool: Box<dyn Backing>,
        place: Place,
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
        let slots = STATE_SLOT_OFF.map(|o| StateSlot::decode(&page0[o as usize..]));
        let checkpoint = slots
            .iter()
            .flatten()
            .filter(|s| s.offset() == STATE_SLOT_OFF[(s.checkpoint_count % 2) as usize])
            .max_by_key(|s| s.checkpoint_count)
            .copied()
            .ok_or_else(|| Error::corrupted("no valid checkpoint state slot", SECTOR))?;

        let slot = Slot::reserve().map_err(io_err("mapping", &path))?;
        let mlen = (len - len % PAGE).min(header.max_size);
        if mlen > crate::media::max_pool_size() {
            return Err(Error::InvalidOptions(format!(
                "pool file of {mlen} bytes does not fit this process's address-space slot"
            )));
        }
        match pool.fd() {
            Some(fd) => slot
                .map_private(0, mlen, fd, 0)
                .map_err(io_err("mapping", &path))?,
            None => {
                slot.map_anon(0, mlen).map_err(io_err("mapping", &path))?;
                // SAFETY: `mlen` bytes are mapped at the slot base.
                let dst = unsafe { std::slice::from_raw_parts_mut(slot.base(), mlen as usize) };
                pool.read_at(0, dst).map_err(io_err("reading", &path))?;
            }
        }
        slot.control().mapped_len.store(mlen, Ordering::Release);

        // The log: the one this pool file names, or none (ARCHITECTURE §3.2).
        let access = cfg.durability.log_access();
        let lp = place.log_path();
        let found = place.open_log(&slot, cfg.read_only, access)?;
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
                // the pool, in case of a crash before then (ignored: the slot is clean).
                let h = LogHeader {
                    uuid: header.uuid,
                    log_id: 0,
                    prev_log_id: 0,
                    base_seq: checkpoint.checkpoint_seq,
                };
                Some(place.create_log(&slot, &h, access)?)
            }
        };
        let pool_file = if cfg.read_only { None } else { Some(pool) };
        Self::finish_open(
            Files {
                pool: pool_file,
                log,
                place,
                replay,
            },
            slot,
            header,
            checkpoint,
            cfg,
            path,
        )
    }

    fn finish_open(
        files: Files,
        slot: Slot,
        header: StaticHeader,
        checkpoint: StateSlot,
        cfg: Config,
        path: PathBuf,
    ) -> Result<Arc<Shared>> {
        let state = State {
            journal: Journal::default(),
            heap: HeapIndex::default(),
            log_pos: LOG_HEADER_LEN,
            last_seq: checkpoint.checkpoint_seq,
            checkpoint,
            dirty: PageSet::default(),
            log_written: LOG_INITIAL,
            buf: Vec::new(),
            ranges: Vec::new(),
        };
        let sh = Arc::new(Shared {
            log: files.log,
            pool_file: files.pool,
            state: RwLock::new(state),
            flusher: Flusher {
                gc: super::group_commit::GroupCommit::new(checkpoint.checkpoint_seq),
                committers: std::sync::atomic::AtomicUsize::new(0),
                pending: Mutex::new(VecDeque::new()),
            },
            header,
            cfg,
            poisoned: AtomicBool::new(false),
            path,
            place: files.place,
            slot,
        });
        sh.slot.control().tag.store(
            u64::from(u16::from_le_bytes([sh.header.uuid[0], sh.header.uuid[1]])),
            Ordering::Release,
        );
        sh.slot
            .control()
            .shared
            .store(Arc::as_ptr(&sh).cast_mut().cast(), Ordering::Release);
        sh.recover(files.replay)?;
        Ok(sh)
    }

    /// Replays the log (when it holds commits past the checkpoint), validates the
    /// metadata, builds the allocator index and, for a writable pool, starts a new log
    /// session.
    fn recover(&self, replay: bool) -> Result<()> {
        let mut st = self
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let st = &mut *st;
        if let Some(log) = self.log.as_ref().filter(|_| replay) {
            let base = self.slot.base();
            let end = super::log::scan(
                &**log,
                self.header.salt(),
                st.checkpoint.checkpoint_seq,
                self.max_size(),
                |off, data| {
                    self.ensure_mapped(off + data.len() as u64)?;
                    // SAFETY: the range was bounds-checked against max_size by `scan` and is
                    // mapped by `ensure_mapped`.
                    unsafe {
                        std::ptr::copy_nonoverlapping(
                            data.as_ptr(),
                            base.add(off as usize),
                            data.len(),
                        );
                    };
                    st.dirty.mark(off, data.len() as u64);
                    Ok(())
                },
            )?;
            st.log_pos = end.pos;
            st.last_seq = end.last_seq;
            st.log_written = LOG_INITIAL
                .min(log.len().map_err(io_err("reading", log.path()))?)
                .max(end.pos);
            self.flusher.gc.reset(end.last_seq);
        }
        let ctx = ReadCtx(self);
        let meta = heap::meta(&ctx);
        if meta.magic != META_MAGIC {
            return Err(Error::corrupted("metadata page magic", META_OFF));
        }
        st.heap = HeapIndex::rebuild(&ctx)?;
        if meta.root_off != 0 {
            st.heap
                .place(&ctx, meta.root_off, self.header.root_size)
                .map_err(|_| Error::corrupted("root object is not an allocation", META_OFF))?;
            if meta.root_off % self.header.root_align != 0 {
                return Err(Error::corrupted("root object misaligned", META_OFF));
            }
        }
        if !self.cfg.read_only && self.pool_file.is_some() {
            if st.last_seq != st.checkpoint.checkpoint_seq || st.dirty.count > 0 {
                self.checkpoint_locked(st)?;
            }
            self.start_log_session(st)?;
        }
        Ok(())
    }

    /// Gives the log a fresh id and publishes it in the pool file (ARCHITECTURE §3.2):
    /// from now on the pool does not open without this log. Everything is checkpointed.
    fn start_log_session(&self, st: &mut State) -> Result<()> {
        let (Some(pool), Some(log)) = (&self.pool_file, &self.log) else {
            return Ok(());
        };
        debug_assert_eq!(st.last_seq, st.checkpoint.checkpoint_seq);
        let id = super::session::new_log_id();
        let prev = match st.checkpoint.log {
            LogState::InUse(p) => p,
            LogState::Legacy | LogState::Clean => 0,
        };
        let h = LogHeader {
            uuid: self.header.uuid,
            log_id: id,
            prev_log_id: prev,
            base_seq: st.last_seq,
        };
        super::session::write_header(&**log, &h, LOG_HEADER_LEN)?;
        Self::publish_state(pool.as_ref(), st, LogState::InUse(id))?;
        st.log_pos = LOG_HEADER_LEN;
        st.log_written = LOG_INITIAL
            .min(log.len().map_err(io_err("reading", log.path()))?)
            .max(LOG_HEADER_LEN);
        Ok(())
    }

    /// Writes the next state slot (checkpoint at `st.last_seq`, log state `log`) and
    /// syncs the pool file.
    fn publish_state(pool: &dyn Backing, st: &mut State, log: LogState) -> Result<()> {
        let next = StateSlot {
            checkpoint_count: st.checkpoint.checkpoint_count + 1,
            checkpoint_seq: st.last_seq,
            log,
        };
        pool.write_at(next.offset(), &next.encode())
            .map_err(io_err("writing", pool.path()))?;
        if !crate::testing::fault::is(crate::testing::fault::Broken::SkipSlotSync) {
            pool.sync().map_err(io_err("syncing", pool.path()))?;
        }
        st.checkpoint = next;
        Ok(())
    }

    /// Grows the file and the mapping so that `len` bytes are mapped.
    pub(crate) fn ensure_mapped(&self, len: u64) -> Result<()> {
        let c = self.slot.control();
        let cur = c.mapped_len();
        if len <= cur {
            return Ok(());
        }
        if len > self.max_size() {
            return Err(Error::OutOfSpace {
                requested: len,
                max_size: self.max_size(),
            });
        }
        let new = len.div_ceil(PAGE) * PAGE;
        let path = &self.path;
        match &self.pool_file {
            Some(f) => {
                f.grow(new).map_err(|e| {
                    if e.raw_os_error() == Some(libc::ENOSPC) {
                        Error::OutOfSpace {
                            requested: len,
                            max_size: self.max_size(),
                        }
                    } else {
                        Error::io("growing", path, e)
                    }
                })?;
                // The new size must be durable before any commit that uses the grown
                // region is acknowledged (ARCHITECTURE §7.1): one sync per growth step,
                // none in the steady state.
                if !crate::testing::fault::is(crate::testing::fault::Broken::SkipGrowthSync) {
                    f.sync().map_err(|e| {
                        self.poison();
                        Error::io("syncing", path, e)
                    })?;
                }
                match f.fd() {
                    Some(fd) => self
                        .slot
                        .map_private(cur, new - cur, fd, cur)
                        .map_err(io_err("mapping", path))?,
                    None => {
                        self.slot
                            .map_anon(cur, new - cur)
                            .map_err(io_err("mapping", path))?;
                        // SAFETY: just mapped.
                        let dst = unsafe {
                            std::slice::from_raw_parts_mut(
                                self.slot.base().add(cur as usize),
                                (new - cur) as usize,
                            )
                        };
                        f.read_at(cur, dst).map_err(io_err("reading", path))?;
                    }
                }
            }
            None => self
                .slot
                .map_anon(cur, new - cur)
                .map_err(io_err("mapping", path))?,
        }
        c.mapped_len.store(new, Ordering::Release);
        Ok(())
    }

    /// The largest the pool may grow: its declared maximum, bounded by the slot.
    pub(crate) fn max_size(&self) -> u64 {
        self.header.max_size.min(crate::media::max_pool_size())
    }

    pub(crate) fn check_usable(&self) -> Result<()> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(Error::Poisoned);
        }
        Ok(())
    }

    fn poison(&self) {
        self.poisoned.store(true, Ordering::Release);
    }

    /// Takes the write lock for a transaction.
    /// A leader's short wait for transactions already under way (`committers`): up to
    /// 100 µs, yielding, while any is still before its append — so that one sync
    /// covers them (like `commit_delay` with `commit_siblings` in `PostgreSQL`). A lone
    /// committer never waits: its own count is gone before it flushes.
    fn gather_committers(&self) {
        let start = std::time::Instant::now();
        while self.flusher.committers.load(Ordering::Acquire) > 0
            && start.elapsed() < std::time::Duration::from_micros(100)
        {
            std::thread::yield_now();
        }
    }

    pub(crate) fn begin(&self) -> Result<RwLockWriteGuard<'_, State>> {
        self.check_usable()?;
        if self.cfg.read_only {
            return Err(Error::ReadOnly);
        }
        let g = self
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.check_usable()?;
        Ok(g)
    }

    /// Rolls back everything the journal recorded.
    pub(crate) fn abort(&self, st: &mut State) {
        // SAFETY: every journaled range was mapped when written and mappings only grow.
        unsafe { st.journal.roll_back(self.slot.base()) };
        if st.journal.heap_touched {
            match HeapIndex::rebuild(&ReadCtx(self)) {
                Ok(ix) => st.heap = ix,
                // The bytes were just restored to a state that passed this very walk.
                Err(e) => unreachable!("heap walk failed after rollback: {e}"),
            }
        }
        st.journal.clear();
    }

    /// Commits the journal: applies deferred frees, appends the redo group. Answers the
    /// sequence number to wait for (`None`: nothing to flush).
    pub(crate) fn commit(&self, st: &mut State) -> Result<Option<u64>> {
        if st.journal.doomed {
            self.abort(st);
            return Err(Error::NestedAborted);
        }
        if !st.journal.frees.is_empty() {
            let frees = std::mem::take(&mut st.journal.frees);
            st.journal.heap_touched = true;
            let mut heap = std::mem::take(&mut st.heap);
            let mut r = Ok(());
            {
                let mut ctx = TxCtx { sh: self, st };
                for &(off, size) in &frees {
                    r = heap.free(&mut ctx, off, size);
                    if r.is_err() {
                        break;
                    }
                }
            }
            st.heap = heap;
            if let Err(e) = r {
                self.abort(st);
                return Err(e);
            }
        }
        if !st.journal.has_writes() {
            st.journal.clear();
            return Ok(None);
        }
        let Some(log) = &self.log else {
            st.journal.clear();
            return Ok(None);
        };
        st.journal.redo_ranges(&mut st.ranges);
        let seq = st.last_seq + 1;
        if self.cfg.durability.syncs_on_commit() && log.fd().is_some() {
            // A small group landing past the written part of the log would make its
            // fdatasync also convert freshly allocated blocks (a journal commit on ext4,
            // every time). Write zeros ahead once instead; big groups write their own
            // blocks and pay that once.
            let small: u64 = st.ranges.iter().map(|r| r.1 + 16).sum::<u64>() + 64;
            if small < 256 << 10 && st.log_pos + small > st.log_written {
                let from = st.log_written.max(st.log_pos);
                let zeros = vec![0u8; (1 << 20) + small as usize];
                if let Err(e) = log.write_at(from, &zeros) {
                    self.abort(st);
                    return Err(Error::io("writing", log.path(), e));
                }
                st.log_written = from + zeros.len() as u64;
            }
        }
        // SAFETY: every journaled range is mapped.
        let written = unsafe {
            super::log::write_group(
                &**log,
                st.log_pos,
                &mut st.buf,
                self.slot.base(),
                self.header.salt(),
                seq,
                &st.ranges,
            )
        };
        let len = match written {
            Ok(len) => len,
            Err(e) => {
                self.abort(st);
                return Err(Error::io("writing", log.path(), e));
            }
        };
        if self.cfg.durability.syncs_on_commit() {
            self.flusher
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push_back((seq, st.log_pos));
        }
        st.log_pos += len;
        st.log_written = st.log_written.max(st.log_pos);
        st.last_seq = seq;
        self.flusher.gc.appended(seq);
        for &(s, l) in &st.ranges {
            st.dirty.mark(s, l);
        }
        st.journal.clear();
        if st.log_pos - LOG_HEADER_LEN >= self.cfg.checkpoint_bytes {
            self.checkpoint_locked(st)?;
            return Ok(None);
        }
        Ok(self.cfg.durability.syncs_on_commit().then_some(seq))
    }

    /// Waits until commit `seq` is durable, syncing the log if nobody else is.
    pub(crate) fn flush_to(&self, seq: u64) -> Result<()> {
        let f = &self.flusher;
        let log = self.log.as_ref().expect("only logged pools flush");
        f.gc.wait_durable(
            seq,
            || self.gather_committers(),
            || {
                self.check_usable()?;
                let synced =
                    if crate::testing::fault::is(crate::testing::fault::Broken::SkipLogSync) {
                        Ok(())
                    } else {
                        log.sync()
                    };
                synced.map_err(|e| {
                    self.poison();
                    // Best effort: make the groups that did not become durable invalid, so a
                    // reopen replays exactly the commits acknowledged before the failure.
                    let pending = f
                        .pending
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    let durable = f.gc.durable();
                    if let Some(&(_, pos)) = pending.iter().find(|(s, _)| *s > durable) {
                        let _ = log.write_at(pos, &[0u8; 8]);
                    }
                    Error::io("syncing", log.path(), e)
                })
            },
        )?;
        let durable = f.gc.durable();
        let mut pending = f
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while pending.front().is_some_and(|(s, _)| *s <= durable) {
            pending.pop_front();
        }
        Ok(())
    }

    /// Writes every page changed since the last checkpoint into the pool file and
    /// restarts the log (ARCHITECTURE §8).
    pub(crate) fn checkpoint_locked(&self, st: &mut State) -> Result<()> {
        let (Some(pool), Some(log)) = (&self.pool_file, &self.log) else {
            return Ok(());
        };
        if st.dirty.count == 0 && st.log_pos == LOG_HEADER_LEN {
            return Ok(());
        }
        let r = (|| {
            // 1. Every commit being checkpointed must be durable in the log first, or a
            //    crash mid-checkpoint could leave the file holding part of a commit the
            //    log cannot replay.
            if !crate::testing::fault::is(crate::testing::fault::Broken::CheckpointBeforeLogDurable)
            {
                self.flush_to(st.last_seq)?;
            }
            // 2. Pages into the file, then sync it.
            let mapped = self.slot.control().mapped_len();
            let runs = st.dirty.runs();
            for &(first, n) in &runs {
                let off = first * PAGE;
                let len = (n * PAGE).min(mapped.saturating_sub(off));
                // SAFETY: below mapped_len.
                let src = unsafe {
                    std::slice::from_raw_parts(self.slot.base().add(off as usize), len as usize)
                };
                pool.write_at(off, src)
                    .map_err(io_err("writing", pool.path()))?;
            }
            if !crate::testing::fault::is(crate::testing::fault::Broken::PublishBeforePagesSync) {
                pool.sync().map_err(io_err("syncing", pool.path()))?;
            }
            // 3. Publish the new checkpoint in the other state slot, then sync.
            let log_state = st.checkpoint.log;
            Self::publish_state(pool.as_ref(), st, log_state)?;
            st.log_pos = LOG_HEADER_LEN;
            if self.cfg.release_pages && pool.fd().is_some() {
                for &(first, n) in &runs {
                    let len = (n * PAGE).min(mapped.saturating_sub(first * PAGE));
                    self.slot
                        .discard_private(first * PAGE, len.div_ceil(PAGE) * PAGE);
                }
            }
            st.dirty.clear();
            // A log far larger than the threshold (after a bulk transaction) gives its
            // space back; its contents are all in the pool file now.
            let keep = self.cfg.checkpoint_bytes.max(LOG_INITIAL);
            if log.len().map_err(io_err("reading", log.path()))? > 4 * keep {
                log.shrink(keep).map_err(io_err("truncating", log.path()))?;
                st.log_written = st.log_written.min(keep);
            }
            Ok(())
        })();
        if r.is_err() {
            self.poison();
        }
        r
    }

    /// Checkpoints now (taking the write lock).
    pub(crate) fn checkpoint(&self) -> Result<()> {
        let mut g = self.begin()?;
        self.checkpoint_locked(&mut g)
    }
}

/// The files an open pool works with.
struct Files {
    pool: Option<Box<dyn Backing>>,
    log: Option<Box<dyn Backing>>,
    place: Place,
    /// Whether the log holds commits to replay.
    replay: bool,
}

impl Drop for Shared {
    /// The last handle closes the pool cleanly: checkpoint, mark the pool file clean
    /// (synced), then remove the log — a cleanly closed pool is one file.
    fn drop(&mut self) {
        if self.cfg.read_only || self.poisoned.load(Ordering::Acquire) {
            return;
        }
        let (Some(pool), Some(_)) = (&self.pool_file, &self.log) else {
            return;
        };
        let mut g = self
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.checkpoint_locked(&mut g).is_ok()
            && Self::publish_state(pool.as_ref(), &mut g, LogState::Clean).is_ok()
        {
            self.place.remove_log();
        }
    }
}
