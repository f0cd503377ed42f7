//! The public face of a pool: [`Pool`], [`PoolOptions`], [`Tx`] and [`Stats`].

use std::cell::RefCell;
use std::marker::PhantomData;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::tx::Tx;
use crate::engine::{
    self, Config, CreateSpec, Durability, Expect, Mode, Shared, Source, State, TxCtx,
};
use crate::error::{Error, Result, TypeIdentity};
use crate::heap::{self, HeapMem};
use crate::media::thread_token;
use crate::types::Persistent;

/// Options for opening or creating a pool.
///
/// # Examples
///
/// ```
/// use pmem_core::{Durability, PoolOptions};
/// let dir = std::env::temp_dir().join(format!("pmem-doc-opts-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let mut pool = PoolOptions::new()
///     .layout("counter")
///     .max_size(64 << 20)
///     .durability(Durability::Process)
///     .open_or_create::<u64>(dir.join("counter.pool"))
///     .unwrap();
/// pool.tx(|tx| { *tx.root_mut() += 1; Ok::<_, pmem_core::Error>(()) }).unwrap();
/// assert_eq!(pool.read(|n| *n).unwrap(), 1);
/// # drop(pool); std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct PoolOptions {
    layout: Option<String>,
    initial_size: u64,
    max_size: u64,
    durability: Durability,
    mode: u32,
    checkpoint_bytes: u64,
    read_only: bool,
    release_pages: bool,
    verify: bool,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            layout: None,
            initial_size: 1 << 20,
            max_size: 64 << 30,
            durability: Durability::Full,
            mode: 0o600,
            checkpoint_bytes: 64 << 20,
            read_only: false,
            release_pages: true,
            verify: false,
        }
    }
}

impl PoolOptions {
    /// Default options: `Full` durability, 1 MiB initial size, 64 GiB maximum, mode 0600.
    pub fn new() -> Self {
        Self::default()
    }

    /// The layout name: stored at creation, and required to match at open when set.
    #[must_use]
    pub fn layout(mut self, name: impl Into<String>) -> Self {
        self.layout = Some(name.into());
        self
    }

    /// Size of a new pool file (rounded up to a page; at least 12 KiB).
    #[must_use]
    pub fn initial_size(mut self, bytes: u64) -> Self {
        self.initial_size = bytes;
        self
    }

    /// Largest size the pool may grow to (at most 128 GiB). Fixed at creation.
    #[must_use]
    pub fn max_size(mut self, bytes: u64) -> Self {
        self.max_size = bytes;
        self
    }

    /// Durability of commits (see [`Durability`]).
    #[must_use]
    pub fn durability(mut self, d: Durability) -> Self {
        self.durability = d;
        self
    }

    /// File mode of new pool and log files (default 0600).
    #[must_use]
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = mode;
        self
    }

    /// Log size that triggers a checkpoint (default 64 MiB).
    #[must_use]
    pub fn checkpoint_threshold(mut self, bytes: u64) -> Self {
        self.checkpoint_bytes = bytes.max(1);
        self
    }

    /// Opens without writing anything: recovery replays into memory only, and
    /// transactions fail with [`Error::ReadOnly`]. Other read-only openers may share it.
    #[must_use]
    pub fn read_only(mut self, yes: bool) -> Self {
        self.read_only = yes;
        self
    }

    /// Validates the whole pool before `open` returns: the allocator walk, every owned
    /// pointer, and every reachable value of a type with invalid bit patterns (`bool`,
    /// `char`, enum tags, `PBox`, `Option` tags, strings' UTF-8) — what
    /// [`Pool::check`] does. A pool that fails is refused with [`Error::Corrupted`]
    /// naming the path. Without it, `open` trusts the file's plain data (see the trust
    /// model in ARCHITECTURE §12.1); with it, opening costs one walk of the pool.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{Pool, PoolOptions};
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-verify-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("p.pool");
    /// drop(Pool::<(bool, char)>::create(&path).unwrap());
    /// let pool = PoolOptions::new().verify(true).open::<(bool, char)>(&path).unwrap();
    /// assert_eq!(pool.read(|r| *r).unwrap(), (false, '\0'));
    /// # drop(pool); std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    #[must_use]
    pub fn verify(mut self, yes: bool) -> Self {
        self.verify = yes;
        self
    }

    fn config(&self, volatile: bool) -> Config {
        Config {
            durability: self.durability,
            mode: Mode::new(self.durability, volatile),
            read_only: self.read_only,
            checkpoint_bytes: self.checkpoint_bytes,
            release_pages: self.release_pages,
            verify: self.verify,
        }
    }

    fn spec(&self) -> CreateSpec {
        CreateSpec {
            layout: self.layout.clone().unwrap_or_default(),
            initial_size: self.initial_size,
            max_size: self.max_size,
            mode: self.mode,
        }
    }

    /// Opens an existing pool.
    pub fn open<R: Persistent>(&self, path: impl AsRef<Path>) -> Result<Pool<R>> {
        let path = path.as_ref().to_path_buf();
        let sh = Shared::open(
            Source::File { path },
            self.config(false),
            &expect::<R>(self.layout.as_ref()),
            None,
        )?;
        Pool::from_shared(sh, None)
    }

    /// Creates a new pool; fails with [`Error::AlreadyExists`] if the file exists.
    pub fn create<R: Persistent + Default>(&self, path: impl AsRef<Path>) -> Result<Pool<R>> {
        let path = path.as_ref().to_path_buf();
        let ex = expect::<R>(self.layout.as_ref());
        engine::create_files(&path, &self.spec(), &ex)?;
        let sh = Shared::open(Source::File { path }, self.config(false), &ex, None)?;
        Pool::from_shared(sh, Some(R::default))
    }

    /// Opens the pool at `path`, creating it (with `R::default()` as root) if missing.
    pub fn open_or_create<R: Persistent + Default>(
        &self,
        path: impl AsRef<Path>,
    ) -> Result<Pool<R>> {
        let path = path.as_ref().to_path_buf();
        let ex = expect::<R>(self.layout.as_ref());
        if !path.exists() {
            match engine::create_files(&path, &self.spec(), &ex) {
                Ok(()) | Err(Error::AlreadyExists { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let sh = Shared::open(Source::File { path }, self.config(false), &ex, None)?;
        Pool::from_shared(sh, Some(R::default))
    }

    /// A pool in anonymous memory: transactional, never written to disk. For tests and
    /// scratch work.
    pub fn volatile<R: Persistent + Default>(&self) -> Result<Pool<R>> {
        let ex = expect::<R>(self.layout.as_ref());
        let sh = Shared::open(Source::Volatile, self.config(true), &ex, Some(&self.spec()))?;
        Pool::from_shared(sh, Some(R::default))
    }

    /// Creates a pool on a simulated disk (crash-state harness).
    #[cfg(feature = "testing")]
    pub fn create_sim<R: Persistent + Default>(
        &self,
        disk: &crate::media::sim::SimDisk,
    ) -> Result<Pool<R>> {
        let ex = expect::<R>(self.layout.as_ref());
        let sh = Shared::open(
            Source::Sim(disk.clone()),
            self.config(false),
            &ex,
            Some(&self.spec()),
        )?;
        Pool::from_shared(sh, Some(R::default))
    }

    /// Opens (and recovers) a pool on a simulated disk.
    #[cfg(feature = "testing")]
    pub fn open_sim<R: Persistent>(&self, disk: &crate::media::sim::SimDisk) -> Result<Pool<R>> {
        let ex = expect::<R>(self.layout.as_ref());
        let sh = Shared::open(Source::Sim(disk.clone()), self.config(false), &ex, None)?;
        Pool::from_shared(sh, None)
    }
}

fn expect<R: Persistent>(layout: Option<&String>) -> Expect {
    Expect {
        layout: layout.cloned(),
        root: TypeIdentity {
            name: R::TYPE_NAME.to_string(),
            fingerprint: R::FINGERPRINT,
        },
        root_size: size_of::<R>() as u64,
        root_align: align_of::<R>() as u64,
    }
}

/// A pool file holding a root of type `R`, with transactions over it.
///
/// `tx` takes `&mut self`, so a transaction cannot start inside a `read` or another
/// transaction on the same handle (a compile error). Clone the handle to use the pool
/// from several threads: clones share one pool, readers run in parallel, and one
/// transaction runs at a time.
///
/// # Examples
///
/// ```
/// use pmem_core::Pool;
/// let mut pool = Pool::<u64>::volatile().unwrap();
/// pool.tx(|tx| {
///     *tx.root_mut() = 41;
///     Ok::<_, pmem_core::Error>(())
/// }).unwrap();
/// let r: Result<(), pmem_core::Error> = pool.tx(|tx| {
///     *tx.root_mut() = 0;
///     Err(pmem_core::Error::Poisoned) // any error rolls back
/// });
/// assert!(r.is_err());
/// assert_eq!(pool.read(|n| *n + 1).unwrap(), 42);
/// ```
pub struct Pool<R> {
    sh: Arc<Shared>,
    _root: PhantomData<fn() -> R>,
}

impl<R> Clone for Pool<R> {
    fn clone(&self) -> Self {
        Pool {
            sh: Arc::clone(&self.sh),
            _root: PhantomData,
        }
    }
}

impl<R> std::fmt::Debug for Pool<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("path", &self.sh.path)
            .field("durability", &self.sh.cfg.durability)
            .finish()
    }
}

/// Counts a transaction in `Flusher::committers` until dropped (after its append).
struct Committer<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for Committer<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

thread_local! {
    /// Slot bases this thread holds a read lock on.
    static READING: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

struct ReadMark(usize);
impl ReadMark {
    fn new(base: usize) -> Self {
        READING.with(|r| r.borrow_mut().push(base));
        ReadMark(base)
    }
}
impl Drop for ReadMark {
    fn drop(&mut self) {
        READING.with(|r| {
            let mut r = r.borrow_mut();
            if let Some(i) = r.iter().rposition(|&b| b == self.0) {
                r.swap_remove(i);
            }
        });
    }
}

fn thread_reads(base: usize) -> bool {
    READING.with(|r| r.borrow().contains(&base))
}

impl<R: Persistent> Pool<R> {
    /// Opens an existing pool with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        PoolOptions::new().open(path)
    }

    /// Options for opening or creating a pool.
    pub fn options() -> PoolOptions {
        PoolOptions::new()
    }

    fn from_shared(sh: Arc<Shared>, init: Option<fn() -> R>) -> Result<Self> {
        let mut pool = Pool {
            sh,
            _root: PhantomData,
        };
        let meta = heap::meta(&engine::ReadCtx(&pool.sh));
        pool.check_type(&meta)?;
        if pool.sh.cfg.verify && meta.root_off != 0 {
            pool.check()?;
        }
        let root_off = meta.root_off;
        if root_off == 0 {
            let Some(init) = init else {
                return Err(Error::corrupted("pool has no root object (creation was interrupted); open it with open_or_create", crate::format::META_OFF));
            };
            pool.create_root(init)?;
            // A pool that `create` returned survives power loss in every durability
            // mode: the root allocation goes into the pool file now.
            pool.sh.checkpoint()?;
        }
        Ok(pool)
    }

    /// Full-depth type identity (ARCHITECTURE §12): the stored schema graph must equal
    /// `R`'s, or the open fails with every difference by path. A pool without a schema
    /// record (its root was never created) is checked by the header's fingerprint.
    fn check_type(&self, meta: &crate::format::RootMeta) -> Result<()> {
        let h = &self.sh.header;
        let mismatch = |differences| Error::TypeMismatch {
            expected: TypeIdentity {
                name: R::TYPE_NAME.to_string(),
                fingerprint: R::FINGERPRINT,
            },
            found: TypeIdentity {
                name: h.root_type_name.clone(),
                fingerprint: h.root_fingerprint,
            },
            differences,
        };
        let shallow_equal = h.root_fingerprint == R::FINGERPRINT
            && h.root_size == size_of::<R>() as u64
            && h.root_align == align_of::<R>() as u64;
        if meta.schema_off == 0 {
            return if shallow_equal {
                Ok(())
            } else {
                Err(mismatch(Vec::new()))
            };
        }
        let bad =
            |what: String| Error::corrupted(format!("schema record: {what}"), meta.schema_off);
        let end = meta
            .schema_off
            .checked_add(meta.schema_len)
            .filter(|&e| e <= meta.heap_end && e <= self.sh.slot.control().mapped_len())
            .ok_or_else(|| bad("outside the heap".into()))?;
        // SAFETY: `schema_off..end` lies inside the mapped heap (checked above); no
        // transaction runs during open, so nothing writes these bytes meanwhile.
        let bytes = unsafe {
            std::slice::from_raw_parts(
                self.sh.slot.base().add(meta.schema_off as usize),
                (end - meta.schema_off) as usize,
            )
        };
        let text = std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8".into()))?;
        let stored = crate::format::Graph::from_json(text).map_err(bad)?;
        let differences = crate::format::diff(&stored, &crate::format::Graph::of(R::SCHEMA));
        // The graph is authoritative: it holds everything a fingerprint hashes (names,
        // sizes, alignments, offsets, discriminants), through every pointer.
        if differences.is_empty() {
            Ok(())
        } else {
            Err(mismatch(differences))
        }
    }

    fn create_root(&mut self, init: fn() -> R) -> Result<()> {
        let sh = &*self.sh;
        let mut g = sh.begin()?;
        let st: &mut State = &mut g;
        let r = (|| {
            let mut heap_ix = std::mem::take(&mut st.heap);
            st.journal.heap_touched = true;
            let res = {
                let mut ctx = TxCtx { sh, st: &mut *st };
                let schema = crate::format::schema::to_json(R::SCHEMA);
                heap_ix
                    .alloc(
                        &mut ctx,
                        size_of::<R>().max(1) as u64,
                        align_of::<R>() as u64,
                    )
                    .and_then(|off| {
                        // The pool describes itself: the schema of every type reachable from
                        // the root, for tools without the application's code.
                        let soff = heap_ix.alloc(&mut ctx, schema.len().max(1) as u64, 8)?;
                        ctx.snapshot(soff, schema.len() as u64);
                        // SAFETY: a fresh allocation of schema.len() bytes.
                        unsafe {
                            std::ptr::copy_nonoverlapping(
                                schema.as_ptr(),
                                sh.slot.base().add(soff as usize),
                                schema.len(),
                            );
                        };
                        let mut meta = heap::meta(&ctx);
                        meta.root_off = off;
                        meta.schema_off = soff;
                        meta.schema_len = schema.len() as u64;
                        heap::set_meta(&mut ctx, meta);
                        Ok(off)
                    })
            };
            st.heap = heap_ix;
            let off = res?;
            // SAFETY: `off` is a fresh allocation of size_of::<R>() bytes aligned for R.
            unsafe {
                st.journal
                    .snapshot(sh.slot.base(), off, size_of::<R>() as u64);
                std::ptr::write(sh.slot.base().add(off as usize).cast::<R>(), init());
            }
            sh.commit(st)
        })();
        match r {
            Ok(seq) => {
                drop(g);
                if let Some(seq) = seq {
                    sh.flush_to(seq)?;
                }
                Ok(())
            }
            Err(e) => {
                sh.abort(&mut g);
                Err(e)
            }
        }
    }

    fn root_ptr(&self) -> *mut R {
        let off = heap::meta(&engine::ReadCtx(&self.sh)).root_off;
        // SAFETY: the root offset was validated at open (an allocation of size_of::<R>()
        // bytes, aligned) and never changes.
        unsafe { self.sh.slot.base().add(off as usize).cast::<R>() }
    }

    /// Runs `f` as one transaction: `Ok` commits (durably, per the pool's durability,
    /// before `tx` returns), `Err` rolls back, a panic rolls back and resumes unwinding.
    /// After a rollback the pool is byte-for-byte as before, allocator included.
    ///
    /// # Errors
    /// `f`'s own error; or, converted into `E`: [`Error::Poisoned`] after an earlier
    /// flush failure, [`Error::ReadOnly`], [`Error::WouldDeadlock`] when this thread
    /// already reads or writes the pool through another handle, and I/O errors from the
    /// commit.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<(u32, u32)>::volatile().unwrap();
    /// let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
    ///     let _ = pool.tx(|tx| {
    ///         tx.root_mut().0 = 7;
    ///         panic!("boom");
    ///         #[allow(unreachable_code)]
    ///         Ok::<_, pmem_core::Error>(())
    ///     });
    /// }));
    /// assert!(r.is_err());
    /// assert_eq!(pool.read(|r| r.0).unwrap(), 0);
    /// ```
    pub fn tx<T, E, F>(&mut self, f: F) -> std::result::Result<T, E>
    where
        F: FnOnce(&mut Tx<'_, R>) -> std::result::Result<T, E>,
        E: From<Error>,
    {
        let sh = &*self.sh;
        let control = sh.slot.control();
        let me = thread_token();
        if control.owner.load(Ordering::Acquire) == me || thread_reads(sh.slot.base() as usize) {
            return Err(E::from(Error::WouldDeadlock));
        }
        // Counted as a committer until its group is appended (group commit waits a
        // moment for such transactions before it syncs).
        sh.flusher.committers.fetch_add(1, Ordering::AcqRel);
        let committer = Committer(&sh.flusher.committers);
        let mut g = sh.begin().map_err(E::from)?;
        let st: *mut State = std::ptr::from_mut(&mut *g);
        control.active.store(st.cast(), Ordering::Release);
        control.owner.store(me, Ordering::Release);
        let mut tx = Tx::new(sh, st, self.root_ptr());
        let out = catch_unwind(AssertUnwindSafe(|| f(&mut tx)));
        control.owner.store(0, Ordering::Release);
        control
            .active
            .store(std::ptr::null_mut(), Ordering::Release);
        // SAFETY: the transaction and every view into it are gone; the guard is ours.
        let st = unsafe { &mut *st };
        match out {
            Ok(Ok(v)) => match sh.commit(st) {
                Ok(seq) => {
                    drop(committer);
                    drop(g);
                    if let Some(seq) = seq {
                        sh.flush_to(seq).map_err(E::from)?;
                    }
                    Ok(v)
                }
                Err(e) => Err(E::from(e)),
            },
            Ok(Err(e)) => {
                sh.abort(st);
                Err(e)
            }
            Err(panic) => {
                sh.abort(st);
                drop(g);
                resume_unwind(panic)
            }
        }
    }

    /// Runs `f` with shared access to the root. Many reads run at once; a read never
    /// sees a transaction's uncommitted bytes.
    ///
    /// # Errors
    /// [`Error::Poisoned`] after a flush failure; [`Error::WouldDeadlock`] inside a
    /// transaction on the same pool on this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pmem_core::Pool::<[u8; 4]>::volatile().unwrap();
    /// assert_eq!(pool.read(|r| r.len()).unwrap(), 4);
    /// ```
    pub fn read<T>(&self, f: impl FnOnce(&R) -> T) -> Result<T> {
        let sh = &*self.sh;
        sh.check_usable()?;
        if sh.slot.control().owner.load(Ordering::Acquire) == thread_token() {
            return Err(Error::WouldDeadlock);
        }
        let base = sh.slot.base() as usize;
        if thread_reads(base) {
            // Already holding the read lock on this thread: the root cannot change.
            // SAFETY: see `root_ptr`; shared access while a read lock is held.
            return Ok(f(unsafe { &*self.root_ptr() }));
        }
        let _g = sh
            .state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _mark = ReadMark::new(base);
        // SAFETY: see `root_ptr`; the read lock excludes writers for the borrow.
        Ok(f(unsafe { &*self.root_ptr() }))
    }

    /// `WouldDeadlock` when this thread is inside a transaction or a read of this pool
    /// (through any handle): the lock such a call needs is already held up the stack.
    fn not_reentrant(&self) -> Result<()> {
        let sh = &*self.sh;
        if sh.slot.control().owner.load(Ordering::Acquire) == thread_token()
            || thread_reads(sh.slot.base() as usize)
        {
            return Err(Error::WouldDeadlock);
        }
        Ok(())
    }

    /// Writes all committed changes into the pool file and restarts the log.
    ///
    /// # Errors
    /// [`Error::WouldDeadlock`] inside a transaction or read of this pool on this
    /// thread; I/O errors (which poison the pool).
    pub fn checkpoint(&self) -> Result<()> {
        self.not_reentrant()?;
        self.sh.checkpoint()
    }

    /// Closes this handle; the last handle checkpoints and reports any error.
    pub fn close(self) -> Result<()> {
        if Arc::strong_count(&self.sh) == 1
            && !self.sh.cfg.read_only
            && self.sh.cfg.mode.has_files()
        {
            self.not_reentrant()?;
            self.sh.check_usable()?;
            self.sh.checkpoint()?;
        }
        Ok(())
    }

    /// The pool file's path.
    pub fn path(&self) -> &Path {
        &self.sh.path
    }

    /// The durability commits get.
    pub fn durability(&self) -> Durability {
        self.sh.cfg.durability
    }

    /// Space and log statistics.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pmem_core::Pool::<u64>::volatile().unwrap();
    /// let s = pool.stats().unwrap();
    /// assert!(s.allocated_bytes >= 8);
    /// assert!(s.free_bytes > 0);
    /// ```
    pub fn stats(&self) -> Result<Stats> {
        self.not_reentrant()?;
        Stats::from_shared(&self.sh)
    }

    /// Checks the pool's integrity: the heap walk (headers, tiling, bitmaps), then a walk
    /// of everything reachable from the root: every owned pointer must name a live
    /// allocation, none may be owned twice, and every allocation must be reachable.
    ///
    /// # Errors
    /// [`Error::Corrupted`] naming the first problem and its offset.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pmem_core::Pool::<u64>::volatile().unwrap();
    /// let report = pool.check().unwrap();
    /// assert_eq!(report.allocations, 1); // the root
    /// ```
    pub fn check(&self) -> Result<crate::types::CheckReport> {
        let sh = &*self.sh;
        sh.check_usable()?;
        self.not_reentrant()?;
        let g = sh
            .state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // The root is validated by the walk before it is read as an `R`.
        crate::types::check_pool(sh, &g.heap, self.root_ptr())
    }

    /// A copy of the pool's metadata page and heap with free space zeroed: the
    /// allocator metadata and every live allocation. A rolled-back transaction leaves
    /// this byte for byte as it was (free space holds whatever it held; its contents
    /// are not state).
    #[doc(hidden)]
    pub fn heap_image(&self) -> Vec<u8> {
        let sh = &*self.sh;
        let _g = sh
            .state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let ctx = engine::ReadCtx(sh);
        let end = heap::meta(&ctx).heap_end;
        let start = crate::format::META_OFF;
        // SAFETY: META_OFF..heap_end is mapped; the read lock excludes writers.
        let mut img = unsafe {
            std::slice::from_raw_parts(sh.slot.base().add(start as usize), (end - start) as usize)
                .to_vec()
        };
        heap::mask_free_space(&ctx, &mut img, start).expect("heap walk of an open pool");
        img
    }

    /// A stable identity of this pool (its UUID).
    pub fn uuid(&self) -> [u8; 16] {
        self.sh.header.uuid
    }

    /// Information from the pool header.
    pub fn info(&self) -> PoolInfo {
        PoolInfo::from_shared(&self.sh)
    }
}

impl PoolInfo {
    pub(crate) fn from_shared(sh: &Shared) -> Self {
        let h = &sh.header;
        PoolInfo {
            path: sh.path.clone(),
            format_version: crate::format::FORMAT_VERSION,
            layout: h.layout.clone(),
            root_type: TypeIdentity {
                name: h.root_type_name.clone(),
                fingerprint: h.root_fingerprint,
            },
            max_size: h.max_size,
            created_unix: h.created_unix,
            uuid: h.uuid,
            durability: sh.cfg.durability,
        }
    }
}

/// Header information of an open pool.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PoolInfo {
    /// The pool file.
    pub path: PathBuf,
    /// On-media format version.
    pub format_version: u32,
    /// Layout name.
    pub layout: String,
    /// Root type stored at creation.
    pub root_type: TypeIdentity,
    /// Maximum size.
    pub max_size: u64,
    /// Creation time (seconds since the Unix epoch).
    pub created_unix: u64,
    /// Pool UUID.
    pub uuid: [u8; 16],
    /// Durability of this handle.
    pub durability: Durability,
}

/// Space and log statistics of a pool; see [`Pool::stats`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Stats {
    /// Bytes of the pool file currently mapped (its size).
    pub file_bytes: u64,
    /// Bytes of heap (file size less header and metadata pages).
    pub heap_bytes: u64,
    /// Bytes handed out to live allocations (slot sizes for small objects).
    pub allocated_bytes: u64,
    /// Number of live allocations.
    pub allocations: u64,
    /// Bytes free: free blocks plus free slots in runs.
    pub free_bytes: u64,
    /// The largest free block.
    pub largest_free_block: u64,
    /// External fragmentation: `1 - largest_free_block / free_bytes`.
    pub fragmentation: f64,
    /// Bytes of redo log not yet checkpointed.
    pub log_bytes: u64,
    /// Commits since creation (the last commit's sequence number).
    pub commits: u64,
    /// Checkpoints since creation.
    pub checkpoints: u64,
}

impl Stats {
    pub(crate) fn from_shared(sh: &Shared) -> Result<Self> {
        let g = sh
            .state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let c = heap::census(&engine::ReadCtx(sh), |_, _| {})?;
        Ok(Stats {
            file_bytes: sh.slot.control().mapped_len(),
            heap_bytes: c.heap_bytes,
            allocated_bytes: c.allocated_bytes,
            allocations: c.allocations,
            free_bytes: c.free_bytes,
            largest_free_block: c.largest_free,
            fragmentation: if c.free_bytes == 0 {
                0.0
            } else {
                1.0 - c.largest_free as f64 / c.free_bytes as f64
            },
            log_bytes: g.log_pos - crate::format::LOG_HEADER_LEN,
            commits: g.last_seq,
            checkpoints: g.checkpoint.checkpoint_count,
        })
    }
}
