//! The internal API that persistent collections and `#[derive(Persistent)]` build on.
//! Application code never calls it; it is public so the sibling crates can.
//!
//! Every function finds the pool (and its open transaction) from an address inside the
//! pool, in a couple of loads (see `map`). The contract of each write path is:
//!
//! 1. call [`snapshot`] for every byte range before changing it (a range already
//!    snapshotted in this transaction costs a lookup, not a copy; ranges inside memory
//!    allocated by this transaction save no old bytes but are still logged for redo);
//! 2. get new memory from [`alloc`] (rolled back with the transaction);
//! 3. release memory with [`free`] (takes effect at commit).

use std::sync::atomic::Ordering;

use crate::engine::{Shared, State, TxCtx};
use crate::error::{Error, Result};
use crate::heap::HeapMem;
use crate::media::{control_of, in_live_pool, region_base, thread_token};

/// The open transaction of the pool containing `addr`.
///
/// # Safety
/// - `addr` must lie in the mapped part of an open pool.
#[inline]
unsafe fn active<'a>(addr: usize) -> (&'a Shared, &'a mut State) {
    // SAFETY: forwarded contract.
    let c = unsafe { control_of(addr) };
    let st = c.active.load(Ordering::Acquire).cast::<State>();
    assert!(
        !st.is_null() && c.owner.load(Ordering::Acquire) == thread_token(),
        "pmem: pool memory changed outside a transaction (a bug in a view implementation)"
    );
    // SAFETY: `shared` is set at open and outlives the region; `st` is the state of the
    // transaction this thread holds the write lock for, and no other `&mut State` is
    // live while view code runs.
    unsafe {
        (
            &*c.shared.load(Ordering::Acquire).cast::<Shared>(),
            &mut *st,
        )
    }
}

/// Declares that `len` bytes at `ptr` are about to be written in the current transaction.
///
/// # Safety
/// - `ptr..ptr+len` must lie in the mapped part of a pool whose transaction is open on
///   this thread.
#[inline]
pub unsafe fn snapshot(ptr: *const u8, len: usize) {
    let addr = ptr as usize;
    // SAFETY: forwarded contract.
    let (sh, st) = unsafe { active(addr) };
    let base = region_base(addr);
    debug_assert!((addr - base + len) as u64 <= sh.region.control().mapped_len());
    // SAFETY: the range is mapped, by the caller's promise.
    unsafe {
        st.journal.snapshot(
            sh.region.base(),
            (addr - base) as u64,
            len as u64,
            &st.dirty,
        );
    };
}

/// [`snapshot`] of one value.
///
/// # Safety
/// - as for [`snapshot`].
#[inline]
pub unsafe fn snapshot_value<T>(ptr: *const T) {
    // SAFETY: forwarded contract.
    unsafe { snapshot(ptr.cast(), size_of::<T>()) }
}

pub(crate) fn alloc_in(sh: &Shared, st: &mut State, size: usize, align: usize) -> Result<u64> {
    st.journal.heap_touched = true;
    let mut heap = std::mem::take(&mut st.heap);
    let r = heap.alloc(&mut TxCtx { sh, st: &mut *st }, size as u64, align as u64);
    st.heap = heap;
    r
}

pub(crate) fn free_in(sh: &Shared, st: &mut State, off: u64, size: usize) -> Result<()> {
    st.heap
        .place(&crate::engine::ReadCtx(sh), off, size as u64)?;
    if !st.journal.freed.insert(off) {
        return Err(Error::corrupted(
            "allocation freed twice in one transaction",
            off,
        ));
    }
    if crate::inject::is(crate::inject::Broken::FreeBeforeCommit) {
        let mut heap = std::mem::take(&mut st.heap);
        let r = heap.free(&mut Unjournaled(TxCtx { sh, st }), off, size as u64);
        st.heap = heap;
        return r;
    }
    st.journal.frees.push((off, size as u64));
    Ok(())
}

/// The allocator's view of a transaction with its writes kept out of the journal: the
/// `FreeBeforeCommit` variant frees at once through it (neither rolled back nor logged).
struct Unjournaled<'a>(TxCtx<'a>);

impl HeapMem for Unjournaled<'_> {
    fn base(&self) -> *mut u8 {
        self.0.base()
    }
    fn mapped_len(&self) -> u64 {
        self.0.mapped_len()
    }
    fn max_size(&self) -> u64 {
        self.0.max_size()
    }
    fn snapshot(&mut self, _: u64, _: u64) {}
    fn record_fresh(&mut self, off: u64, len: u64) {
        self.0.record_fresh(off, len);
    }
    fn ensure_mapped(&mut self, len: u64) -> Result<()> {
        self.0.ensure_mapped(len)
    }
}

/// Allocates `size` bytes aligned to `align` in the pool containing `anchor`, inside
/// its open transaction. The bytes are uninitialised (whatever the pool held); writes
/// to them must still go through [`snapshot`], which saves no old bytes for them.
///
/// # Errors
/// [`Error::OutOfSpace`] at the pool's maximum size; [`Error::UnsupportedLayout`] for
/// `size == 0` or `align > 64`.
///
/// # Safety
/// - `anchor` must lie in the mapped part of a pool whose transaction is open on this
///   thread.
pub unsafe fn alloc(anchor: *const u8, size: usize, align: usize) -> Result<*mut u8> {
    let addr = anchor as usize;
    // SAFETY: forwarded contract.
    let (sh, st) = unsafe { active(addr) };
    let off = alloc_in(sh, st, size, align)?;
    // SAFETY: `off` is a fresh allocation inside the mapping.
    Ok(unsafe { sh.region.base().add(off as usize) })
}

/// Frees, when the transaction commits, the allocation of `size` bytes at `ptr`.
///
/// # Errors
/// [`Error::Corrupted`] when `ptr` is not a live allocation of at least `size` bytes.
///
/// # Safety
/// - `ptr` must lie in the mapped part of a pool whose transaction is open on this
///   thread, and nothing may use the allocation after the commit.
pub unsafe fn free(ptr: *const u8, size: usize) -> Result<()> {
    let addr = ptr as usize;
    // SAFETY: forwarded contract.
    let (sh, st) = unsafe { active(addr) };
    free_in(sh, st, (addr - region_base(addr)) as u64, size)
}

/// Gives back an allocation made earlier in the current transaction, at once: unlike
/// [`free`], the memory can be allocated again by this same transaction (a bulk
/// transaction that allocates and gives back scratch nodes does not grow the heap by
/// them). An allocation that is not this transaction's own is freed at commit, as by
/// [`free`].
///
/// Freeing at once is sound for memory this transaction allocated: no committed state
/// refers to it, and the allocator's bytes it changes are journaled as every
/// allocation's are (an abort restores them and rebuilds the index).
///
/// # Errors
/// [`Error::Corrupted`] when `ptr` is not a live allocation of at least `size` bytes.
///
/// # Safety
/// - `ptr` must lie in the mapped part of a pool whose transaction is open on this
///   thread, and nothing may use the allocation after this call;
/// - no `&mut` view of a plain value inside it was handed out in this transaction:
///   such a view's padding zeroer is remembered at its address until the commit
///   (ARCHITECTURE §12.1), and would then run on whatever reused the memory. Scratch
///   the library fills only through `PInit` qualifies.
pub unsafe fn free_fresh(ptr: *const u8, size: usize) -> Result<()> {
    let addr = ptr as usize;
    // SAFETY: forwarded contract.
    let (sh, st) = unsafe { active(addr) };
    let off = (addr - region_base(addr)) as u64;
    if !st.journal.fresh.covers(off, off + size as u64)
        || crate::inject::is(crate::inject::Broken::FreeBeforeCommit)
    {
        return free_in(sh, st, off, size);
    }
    st.journal.heap_touched = true;
    let mut heap = std::mem::take(&mut st.heap);
    let r = heap.free(&mut TxCtx { sh, st: &mut *st }, off, size as u64);
    st.heap = heap;
    r
}

/// The pool offset of `ptr`, or `None` when `ptr` is not inside an open pool.
#[inline]
pub fn offset_of(ptr: *const u8) -> Option<u64> {
    let addr = ptr as usize;
    crate::media::live_region(addr).map(|(base, _)| (addr - base) as u64)
}

/// Do `a` and `b` lie in the same open pool?
pub fn same_pool(a: *const u8, b: *const u8) -> bool {
    match (
        crate::media::live_region(a as usize),
        crate::media::live_region(b as usize),
    ) {
        (Some((x, _)), Some((y, _))) => x == y,
        _ => false,
    }
}

/// The address of pool offset `off`, in the pool containing `anchor`, checked: the
/// anchor must be in an open pool, and `off..off+size` inside the mapped heap and
/// aligned to `align` (a power of two).
///
/// Every pointer a collection follows goes through here, so the checks run in
/// registers (`check_resolve`) and the error, with its message, is built out of line:
/// a lookup in a `u64 → u64` hash map went from 198 to 126 instructions
/// (ARCHITECTURE §12, "Following a pointer").
///
/// # Errors
/// [`Error::Corrupted`] saying what is wrong and the offset.
#[inline]
pub fn resolve(anchor: *const u8, off: u64, size: usize, align: usize) -> Result<*mut u8> {
    match check_resolve(anchor as usize, off, size, align) {
        Ok(addr) => Ok(std::ptr::with_exposed_provenance_mut::<u8>(addr)),
        Err(why) => Err(resolve_error(why, off)),
    }
}

/// Why [`resolve`] refused a pointer (one byte, so a check's result fits in registers).
#[derive(Clone, Copy)]
enum Refusal {
    OutsideAnyPool,
    OutsidePool,
    Misaligned,
}

/// [`resolve`]'s checks: the address of `off` in the pool containing `anchor`, or
/// why not.
#[inline]
fn check_resolve(anchor: usize, off: u64, size: usize, align: usize) -> Result<usize, Refusal> {
    let Some((base, mapped)) = crate::media::live_region(anchor) else {
        return Err(Refusal::OutsideAnyPool);
    };
    let end = off.checked_add(size as u64);
    if off < crate::format::HEAP_START || end.is_none_or(|e| e > mapped) {
        return Err(Refusal::OutsidePool);
    }
    // Alignments are powers of two (`align_of`): a mask, not a division.
    if !align.is_power_of_two() || off & (align as u64 - 1) != 0 {
        return Err(Refusal::Misaligned);
    }
    Ok(base + off as usize)
}

#[cold]
#[inline(never)]
fn resolve_error(why: Refusal, off: u64) -> Error {
    let what = match why {
        Refusal::OutsideAnyPool => "pointer followed from outside any open pool",
        Refusal::OutsidePool => "pointer outside the pool",
        Refusal::Misaligned => "misaligned pointer",
    };
    Error::corrupted(what, off)
}

/// [`resolve`], panicking with the documented "corrupted pool" message on failure. Used
/// by `Deref` impls, which cannot return errors.
///
/// # Panics
/// When the pointer is corrupted (see [`resolve`]).
#[inline]
#[track_caller]
pub fn resolve_or_panic(anchor: *const u8, off: u64, size: usize, align: usize) -> *mut u8 {
    match resolve(anchor, off, size, align) {
        Ok(p) => p,
        Err(e) => panic_corrupted(&e),
    }
}

/// The documented "pmem: corrupted pool: ..." panic, out of line and cold so the
/// checked pointer paths that end in it stay small enough to inline.
#[cold]
#[inline(never)]
#[track_caller]
fn panic_corrupted(e: &Error) -> ! {
    panic!("pmem: {e}")
}

/// Is a transaction open on this thread for the pool containing `anchor`?
pub fn in_transaction(anchor: *const u8) -> bool {
    let addr = anchor as usize;
    if !in_live_pool(addr) {
        return false;
    }
    // SAFETY: in a live pool.
    let c = unsafe { control_of(addr) };
    !c.active.load(Ordering::Acquire).is_null() && c.owner.load(Ordering::Acquire) == thread_token()
}

/// A 64-bit random seed (for per-map hash seeds).
pub fn random_seed() -> u64 {
    let mut b = [0u8; 8];
    // SAFETY: getrandom writes at most 8 bytes into `b`.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), 8, 0) };
    if n == 8 {
        u64::from_le_bytes(b)
    } else {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        t.as_nanos() as u64 ^ (std::ptr::from_ref(&b) as u64).rotate_left(32)
    }
}
