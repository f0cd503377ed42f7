//! [`Tx`]: the handle a transaction's closure receives.

use std::marker::PhantomData;

use crate::engine::{Shared, State};
use crate::error::{Error, Result};
use crate::types::Persistent;

/// An open transaction on a pool with root `R`; handed to the closure of
/// [`crate::Pool::tx`].
///
/// Views and references from it cannot outlive the closure, and it cannot be sent to
/// another thread.
pub struct Tx<'p, R> {
    sh: &'p Shared,
    /// The engine state this transaction holds the write lock for. The one field that
    /// makes `Tx` neither `Send` nor `Sync` (so the compiler says so once).
    st: *mut State,
    /// Offset of the root object.
    root_off: usize,
    _root: PhantomData<&'p mut R>,
}

impl<'p, R: Persistent> Tx<'p, R> {
    pub(crate) fn new(sh: &'p Shared, st: *mut State, root: *mut R) -> Self {
        let root_off = root as usize - sh.region.base() as usize;
        Tx {
            sh,
            st,
            root_off,
            _root: PhantomData,
        }
    }

    fn root_ptr(&self) -> *mut R {
        // SAFETY: the root offset was validated at open; the mapping covers it.
        unsafe { self.sh.region.base().add(self.root_off).cast::<R>() }
    }

    /// Shared access to the root, uncommitted changes included.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<u64>::volatile().unwrap();
    /// pool.tx(|tx| {
    ///     *tx.root_mut() = 5;
    ///     assert_eq!(*tx.root(), 5);
    ///     Ok::<_, pmem_core::Error>(())
    /// }).unwrap();
    /// ```
    pub fn root(&self) -> &R {
        // SAFETY: the write lock is held; `&self` excludes `root_mut` views.
        unsafe { &*self.root_ptr() }
    }

    /// The root's mutable view. For plain data this snapshots the whole root (its old
    /// bytes are what a rollback restores).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<(u64, u64)>::volatile().unwrap();
    /// pool.tx(|tx| {
    ///     let root = tx.root_mut();
    ///     root.0 = 1;
    ///     root.1 = 2;
    ///     Ok::<_, pmem_core::Error>(())
    /// }).unwrap();
    /// assert_eq!(pool.read(|r| *r).unwrap(), (1, 2));
    /// ```
    pub fn root_mut(&mut self) -> &mut R::View {
        // SAFETY: the transaction is active on this thread; `&mut self` makes the view
        // exclusive and bounds it by the transaction.
        unsafe { R::view_mut(self.root_ptr()) }
    }

    /// Allocates `size` bytes aligned to `align` (at most 64) in this pool; the memory
    /// is freed again if the transaction rolls back. Answers the pool offset.
    ///
    /// # Errors
    /// [`Error::OutOfSpace`] when the pool cannot grow enough (or `size` exceeds its
    /// maximum size); [`Error::UnsupportedLayout`] for `size == 0`, or an `align` that is
    /// not a power of two or is above 64.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<u64>::volatile().unwrap();
    /// let r = pool.tx(|tx| {
    ///     let off = tx.alloc_raw(100, 8)?;
    ///     assert!(off > 0);
    ///     Err::<(), _>(pmem_core::Error::Poisoned) // any error rolls back: the memory is free again
    /// });
    /// assert!(r.is_err());
    /// pool.check().unwrap();
    /// ```
    pub fn alloc_raw(&mut self, size: usize, align: usize) -> Result<u64> {
        // SAFETY: the write lock is held by this transaction.
        let st = unsafe { &mut *self.st };
        crate::tx::raw::alloc_in(self.sh, st, size, align)
    }

    /// Frees, at commit, the allocation at pool offset `off` of `size` bytes.
    ///
    /// # Errors
    /// [`Error::Corrupted`](crate::Error::Corrupted) when `off` is not the start of a live
    /// allocation of at least `size` bytes, or was already freed in this transaction.
    ///
    /// # Safety
    /// Freeing memory that something still uses lets the next allocation alias it, and
    /// safe code would then read one type's bytes as another's. The caller promises:
    /// - nothing reachable from the root owns or points to the allocation when the
    ///   transaction commits (no `PBox`, `PPtr`, collection buffer or the root itself:
    ///   unlink it first, in this transaction);
    /// - no reference into it is used after this call;
    /// - it was allocated with `alloc_raw` (or by code that hands ownership over).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<u64>::volatile().unwrap();
    /// let before = pool.check().unwrap().allocations;
    /// pool.tx(|tx| {
    ///     let off = tx.alloc_raw(64, 8)?;
    ///     // SAFETY: nothing refers to the allocation made just above.
    ///     unsafe { tx.free_raw(off, 64) }
    /// }).unwrap();
    /// assert_eq!(pool.check().unwrap().allocations, before);
    /// ```
    pub unsafe fn free_raw(&mut self, off: u64, size: usize) -> Result<()> {
        // SAFETY: the write lock is held by this transaction.
        let st = unsafe { &mut *self.st };
        crate::tx::raw::free_in(self.sh, st, off, size)
    }

    /// The address of pool offset `off`, checked to lie in the mapped pool.
    ///
    /// # Errors
    /// [`Error::Corrupted`] when `off..off + size` is not inside the pool's heap.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<u64>::volatile().unwrap();
    /// pool.tx(|tx| {
    ///     let off = tx.alloc_raw(16, 8)?;
    ///     let p = tx.addr_of(off, 16)?;
    ///     assert!(!p.is_null());
    ///     assert!(tx.addr_of(0, 8).is_err()); // the header is not heap
    ///     Ok::<_, pmem_core::Error>(())
    /// }).unwrap();
    /// ```
    pub fn addr_of(&self, off: u64, size: usize) -> Result<*mut u8> {
        let mapped = self.sh.region.control().mapped_len();
        if off < crate::format::HEAP_START || off.saturating_add(size as u64) > mapped {
            return Err(Error::corrupted("offset outside the pool", off));
        }
        // SAFETY: in bounds of the mapping.
        Ok(unsafe { self.sh.region.base().add(off as usize) })
    }
}
