//! [`Pool`]: a handle on an open pool, and its transactions and reads.

use std::marker::PhantomData;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::info::{PoolInfo, Stats};
use super::tx::Tx;
use crate::engine::{self, Durability, Shared, State, TxCtx};
use crate::error::{Error, Result, TypeIdentity};
use crate::heap::{self, HeapMem};
use crate::media::thread_token;
use crate::types::Persistent;

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

impl<R: Persistent> Pool<R> {
    pub(super) fn from_shared(sh: Arc<Shared>, init: Option<fn() -> R>) -> Result<Self> {
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
            .filter(|&e| e <= meta.heap_end && e <= self.sh.region.control().mapped_len())
            .ok_or_else(|| bad("outside the heap".into()))?;
        // SAFETY: `schema_off..end` lies inside the mapped heap (checked above); no
        // transaction runs during open, so nothing writes these bytes meanwhile.
        let bytes = unsafe {
            std::slice::from_raw_parts(
                self.sh.region.base().add(meta.schema_off as usize),
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
                                sh.region.base().add(soff as usize),
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
                    .snapshot(sh.region.base(), off, size_of::<R>() as u64, &st.dirty);
                let root = sh.region.base().add(off as usize).cast::<R>();
                std::ptr::write(root, init());
                // The commit reads every byte: no uninitialised padding (§12.1).
                crate::types::padding::zero_padding(R::schema(), root.cast());
            }
            sh.commit(st)
        })();
        sh.finish_internal(g, r)
    }

    fn root_ptr(&self) -> *mut R {
        let off = heap::meta(&engine::ReadCtx(&self.sh)).root_off;
        // SAFETY: the root offset was validated at open (an allocation of size_of::<R>()
        // bytes, aligned) and never changes.
        unsafe { self.sh.region.base().add(off as usize).cast::<R>() }
    }

    /// Runs `f` as one transaction: `Ok` commits (durably, per the pool's durability,
    /// before `tx` returns), `Err` rolls back, a panic rolls back and resumes unwinding.
    /// After a rollback the pool is byte-for-byte as before, allocator included.
    ///
    /// # Errors
    /// `f`'s own error; or, converted into `E`: [`Error::Poisoned`] after an earlier
    /// flush failure, [`Error::ReadOnly`], [`Error::WouldDeadlock`] when this thread
    /// already runs a transaction of the pool through another handle, and I/O errors
    /// from the commit. (Inside a `read` a transaction through another handle works:
    /// the read keeps its snapshot.)
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
        let control = sh.region.control();
        let me = thread_token();
        if control.owner.load(Ordering::Acquire) == me {
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
        // SAFETY: the transaction ended, nothing is committed yet (see the function).
        unsafe {
            crate::types::padding::before_commit(
                sh.region.base() as usize,
                matches!(out, Ok(Ok(_))),
            );
        }
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

    /// Runs `f` with shared access to the root, as of the last committed transaction.
    /// Many reads run at once; a read never waits for a transaction (it reads a
    /// snapshot: ARCHITECTURE §7.2), never sees a transaction's uncommitted bytes, and
    /// sees every transaction whose `tx` returned before the read began. The snapshot
    /// stays unchanged while `f` runs, whatever commits meanwhile.
    ///
    /// # Errors
    /// [`Error::Poisoned`] after a flush failure; [`Error::WouldDeadlock`] inside a
    /// transaction on the same pool on this thread (the transaction's own view is the
    /// one to read there).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<u64>::volatile().unwrap();
    /// let reader = pool.clone();
    /// pool.tx(|tx| {
    ///     *tx.root_mut() = 5;
    ///     // Inside the transaction, another handle still reads the committed state.
    ///     let seen = std::thread::scope(|s| s.spawn(|| reader.read(|n| *n)).join().unwrap());
    ///     assert_eq!(seen.unwrap(), 0);
    ///     Ok::<_, pmem_core::Error>(())
    /// }).unwrap();
    /// assert_eq!(pool.read(|n| *n).unwrap(), 5);
    /// ```
    pub fn read<T>(&self, f: impl FnOnce(&R) -> T) -> Result<T> {
        let sh = &*self.sh;
        sh.check_usable()?;
        if sh.region.control().owner.load(Ordering::Acquire) == thread_token() {
            return Err(Error::WouldDeadlock);
        }
        if !sh.has_versions() {
            // Read-only pools have no writer: the working mapping never changes.
            // SAFETY: see `root_ptr`; nothing writes a read-only pool's mapping.
            return Ok(f(unsafe { &*self.root_ptr() }));
        }
        let version = sh.pin_version()?;
        // SAFETY: the version holds the committed state, root included (validated at
        // open: an allocation of size_of::<R>() bytes, aligned); while pinned nothing
        // writes it (`engine::pin`), and the pin lasts until after `f` returns.
        Ok(f(unsafe { &*version.root_ptr().cast::<R>() }))
    }

    /// The engine state shared by this pool's handles.
    pub(super) fn shared(&self) -> &Shared {
        &self.sh
    }

    /// `WouldDeadlock` when this thread is inside a transaction of this pool (through
    /// any handle): the lock such a call needs is already held up the stack. (A read
    /// holds no lock: anything may run inside one.)
    pub(super) fn not_reentrant(&self) -> Result<()> {
        let sh = &*self.sh;
        if sh.region.control().owner.load(Ordering::Acquire) == thread_token() {
            return Err(Error::WouldDeadlock);
        }
        Ok(())
    }

    /// Writes all committed changes into the pool file and restarts the log.
    ///
    /// # Errors
    /// [`Error::WouldDeadlock`] inside a transaction of this pool on this thread; I/O
    /// errors (which poison the pool).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::Pool;
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-pool-ckpt-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let mut pool = Pool::<u64>::create(dir.join("p.pool")).unwrap();
    /// pool.tx(|tx| { *tx.root_mut() = 3; Ok::<_, pmem_core::Error>(()) }).unwrap();
    /// let before = pool.stats().unwrap().checkpoints;
    /// pool.checkpoint().unwrap();
    /// assert_eq!(pool.stats().unwrap().checkpoints, before + 1);
    /// # drop(pool); std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn checkpoint(&self) -> Result<()> {
        self.not_reentrant()?;
        self.sh.checkpoint()
    }

    /// Closes this handle; the last handle checkpoints and reports any error (dropping
    /// a handle does the same, but cannot report).
    ///
    /// # Errors
    /// [`Error::WouldDeadlock`] inside a transaction of this pool on this thread;
    /// [`Error::Poisoned`] after a flush failure; I/O errors of the checkpoint.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::Pool;
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-pool-close-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("p.pool");
    /// let mut pool = Pool::<u64>::create(&path).unwrap();
    /// pool.tx(|tx| { *tx.root_mut() = 8; Ok::<_, pmem_core::Error>(()) }).unwrap();
    /// pool.close().unwrap();
    /// // Closed cleanly: the pool file holds every commit, and no log is left.
    /// assert!(!dir.join("p.pool.log").exists());
    /// assert_eq!(Pool::<u64>::open(&path).unwrap().read(|n| *n).unwrap(), 8);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::Pool;
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-pool-path-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("p.pool");
    /// let pool = Pool::<u64>::create(&path).unwrap();
    /// assert_eq!(pool.path(), path);
    /// # drop(pool); std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn path(&self) -> &Path {
        &self.sh.path
    }

    /// The durability commits get (set with [`PoolOptions::durability`](crate::PoolOptions::durability)).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{Durability, Pool};
    /// let pool = Pool::<u64>::volatile().unwrap();
    /// assert_eq!(pool.durability(), Durability::Full); // the default
    /// ```
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
    ///
    /// # Panics
    /// If the heap walk of the open pool fails (an engine bug).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<u64>::volatile().unwrap();
    /// let before = pool.heap_image();
    /// let _ = pool.tx(|tx| {
    ///     tx.alloc_raw(4096, 8)?;
    ///     Err::<(), _>(pmem_core::Error::ReadOnly) // roll back
    /// });
    /// assert!(pool.heap_image() == before);
    /// ```
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
            std::slice::from_raw_parts(sh.region.base().add(start as usize), (end - start) as usize)
                .to_vec()
        };
        heap::mask_free_space(&ctx, &mut img, start).expect("heap walk of an open pool");
        img
    }

    /// A stable identity of this pool (its UUID), kept across opens.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::Pool;
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-pool-uuid-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("p.pool");
    /// let uuid = Pool::<u64>::create(&path).unwrap().uuid();
    /// assert_eq!(Pool::<u64>::open(&path).unwrap().uuid(), uuid);
    /// assert_ne!(Pool::<u64>::volatile().unwrap().uuid(), uuid);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn uuid(&self) -> [u8; 16] {
        self.sh.header.uuid
    }

    /// Information from the pool header.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pmem_core::Pool::<u64>::options().layout("demo").volatile().unwrap();
    /// let info = pool.info();
    /// assert_eq!(info.layout, "demo");
    /// assert_eq!(info.root_type.name, "u64");
    /// ```
    pub fn info(&self) -> PoolInfo {
        PoolInfo::from_shared(&self.sh)
    }
}
