//! The raw layer under [`PVec`](super::PVec) and [`PString`](crate::PString): a header of
//! three pool words and the non-generic operations on it.
//!
//! A buffer is one pool allocation of `cap * size` bytes (the element size and alignment
//! travel in an [`Elem`], so this code is instantiated once, not per element type).
//! Growth never writes into the old buffer: it allocates a fresh one, copies the `len`
//! initialised elements into it (declaring the copied range with `raw::snapshot`, which
//! saves no old bytes for fresh memory but logs the range for redo), frees the old buffer
//! (the free takes effect at commit) and only then rewrites the header. An error at any
//! step before the header write leaves the vector as it was.
//!
//! Invariants of a header (checked by [`RawVec::buffer`], so a corrupted header is an
//! error or the documented "pmem: corrupted pool" panic, never undefined behaviour):
//! - `off == 0` exactly when `cap == 0` (no buffer), and then `len == 0`;
//! - otherwise `off..off + cap * size` is one live allocation, aligned for the element;
//! - `len <= cap`, and elements `0..len` are initialised.

use std::ptr;

use pmem_core::{raw, Result};

use crate::corrupted::corrupted;

/// The in-pool header of a `PVec<T>` or `PString`.
#[repr(C)]
#[derive(Debug, Default)]
pub(crate) struct RawVec {
    /// Pool offset of the buffer; 0 when there is none (`cap == 0`).
    pub(crate) off: u64,
    /// Initialised elements; `len <= cap`.
    pub(crate) len: u64,
    /// Elements the buffer has room for.
    pub(crate) cap: u64,
}

const _: () = assert!(size_of::<RawVec>() == 24);

/// Size and alignment of one element.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Elem {
    pub(crate) size: usize,
    pub(crate) align: usize,
}

impl Elem {
    /// The layout of `T`.
    pub(crate) const fn of<T>() -> Elem {
        Elem {
            size: size_of::<T>(),
            align: align_of::<T>(),
        }
    }

    /// Bytes of `n` elements, or `None` on overflow.
    fn bytes(self, n: u64) -> Option<usize> {
        usize::try_from(n)
            .ok()?
            .checked_mul(self.size)
            .filter(|&b| isize::try_from(b).is_ok())
    }

    /// The smallest capacity worth allocating (at least one 16-byte allocator slot).
    fn min_cap(self) -> usize {
        match self.size {
            1 => 16,
            2..=1024 => 4,
            _ => 1,
        }
    }
}

#[track_caller]
pub(crate) fn capacity_overflow() -> ! {
    panic!("capacity overflow")
}

impl RawVec {
    /// An empty header that owns nothing.
    pub(crate) const fn new() -> RawVec {
        RawVec {
            off: 0,
            len: 0,
            cap: 0,
        }
    }

    /// The buffer's address (`None` when there is none) and `len`, after checking the
    /// header's invariants and that the buffer lies inside this header's pool.
    pub(crate) fn buffer(&self, el: Elem) -> Result<(Option<*mut u8>, usize)> {
        if self.off == 0 {
            if self.cap != 0 || self.len != 0 {
                return Err(corrupted(
                    "vector without a buffer has a length or capacity",
                    0,
                ));
            }
            return Ok((None, 0));
        }
        if self.len > self.cap {
            return Err(corrupted("vector length exceeds its capacity", self.off));
        }
        let bytes = el
            .bytes(self.cap)
            .ok_or_else(|| corrupted("vector capacity overflows", self.off))?;
        let p = raw::resolve(ptr::from_ref(self).cast(), self.off, bytes, el.align)?;
        Ok((Some(p), self.len as usize))
    }

    /// [`RawVec::buffer`], panicking with the documented message on corruption.
    #[track_caller]
    pub(crate) fn buffer_or_panic(&self, el: Elem) -> (Option<*mut u8>, usize) {
        match self.buffer(el) {
            Ok(b) => b,
            Err(e) => crate::corrupted::panic_corrupted(&e),
        }
    }

    /// Bytes of the buffer's allocation.
    pub(crate) fn alloc_bytes(&self, el: Elem) -> usize {
        // `buffer` checked this product before any caller gets here.
        el.bytes(self.cap).unwrap_or_else(|| capacity_overflow())
    }

    /// Sets `len`, logging the one word it changes.
    ///
    /// # Safety
    /// - `this` is a valid header in a pool whose transaction is open on this thread;
    /// - `len <= cap` and elements `0..len` are initialised.
    pub(crate) unsafe fn set_len(this: *mut RawVec, len: usize) {
        // SAFETY: caller's contract: the header lies in an open transaction's pool.
        unsafe {
            let p = ptr::addr_of_mut!((*this).len);
            raw::snapshot_value(p);
            p.write(len as u64);
        }
    }

    /// Makes room for `additional` more elements, growing by doubling.
    ///
    /// # Safety
    /// - as for [`RawVec::set_len`]; `el.size > 0`.
    ///
    /// # Panics
    /// On arithmetic overflow of the capacity ("capacity overflow").
    pub(crate) unsafe fn reserve(
        this: *mut RawVec,
        additional: usize,
        el: Elem,
        exact: bool,
    ) -> Result<()> {
        // SAFETY: caller's contract.
        let (len, cap) = unsafe { ((*this).len as usize, (*this).cap as usize) };
        let need = len
            .checked_add(additional)
            .unwrap_or_else(|| capacity_overflow());
        if need <= cap {
            return Ok(());
        }
        let new_cap = if exact {
            need
        } else {
            need.max(cap.saturating_mul(2)).max(el.min_cap())
        };
        // SAFETY: caller's contract; `new_cap >= len`.
        unsafe { RawVec::realloc(this, new_cap, el) }
    }

    /// Moves the elements into a fresh buffer of exactly `new_cap >= len` elements (or
    /// none at all for 0), freeing the old one at commit.
    ///
    /// # Safety
    /// - as for [`RawVec::reserve`]; `new_cap >= len`.
    pub(crate) unsafe fn realloc(this: *mut RawVec, new_cap: usize, el: Elem) -> Result<()> {
        let anchor: *const u8 = this.cast_const().cast();
        // SAFETY: caller's contract: a valid header.
        let h = unsafe { &*this };
        let (old, len) = h.buffer(el)?;
        debug_assert!(new_cap >= len);
        let old_bytes = h.alloc_bytes(el);
        let fresh = if new_cap == 0 {
            None
        } else {
            let bytes = el
                .bytes(new_cap as u64)
                .unwrap_or_else(|| capacity_overflow());
            // SAFETY: `anchor` lies in the pool of the open transaction (caller's contract).
            let p = unsafe { raw::alloc(anchor, bytes, el.align)? };
            if let Some(old) = old {
                let used = len * el.size;
                // SAFETY: `p` is a fresh allocation of at least `used` bytes, `old` holds
                // `used` initialised bytes; they do not overlap. The snapshot declares the
                // copied range (no old bytes are saved for fresh memory).
                // The old elements' views have ended (the vector is borrowed mutably):
                // padding assigned through them is zeroed before it is copied.
                unsafe {
                    raw::settle_padding(old, used);
                    raw::snapshot(p, used);
                    ptr::copy_nonoverlapping(old, p, used);
                }
            }
            Some(p)
        };
        if let Some(old) = old {
            // SAFETY: `old` is this header's live buffer of `old_bytes` bytes; nothing
            // refers to it once the header names the new buffer below. (Not
            // `free_fresh`: an element view handed out earlier in the transaction has
            // its padding zeroer remembered at its old address until the commit.)
            if let Err(e) = unsafe { raw::free(old, old_bytes) } {
                if let Some(p) = fresh {
                    // SAFETY: `p` was allocated above and is referenced by nothing.
                    let _ = unsafe { raw::free(p, el.bytes(new_cap as u64).unwrap_or(0)) };
                }
                return Err(e);
            }
        }
        let off = fresh.map_or(0, |p| raw::offset_of(p).expect("allocated in this pool"));
        // SAFETY: a valid header in the open transaction's pool; the whole header is
        // logged before it changes.
        unsafe {
            raw::snapshot_value(this);
            (*this).off = off;
            (*this).cap = new_cap as u64;
        }
        Ok(())
    }

    /// Frees the buffer (at commit) without touching the header; the caller forgets it.
    ///
    /// # Safety
    /// - as for [`RawVec::set_len`]; the elements own nothing any more.
    pub(crate) unsafe fn free_buffer(this: *const RawVec, el: Elem) -> Result<()> {
        // SAFETY: caller's contract: a valid header.
        let h = unsafe { &*this };
        if let (Some(p), _) = h.buffer(el)? {
            // SAFETY: the header's live buffer, in the open transaction's pool.
            unsafe { raw::free(p, h.alloc_bytes(el))? };
        }
        Ok(())
    }
}

/// Writes `value` over the initialised `T` at `dst`, dropping the old value (freeing
/// what it owned) only once the new one is fully written, so a failing `init` leaves
/// `*dst` unchanged.
///
/// The new value is first built in a scratch allocation of the same pool (it must sit in
/// pool memory: whatever it allocates is found from its address), then moved over the
/// old one; the scratch allocation is freed again at commit.
///
/// # Safety
/// - `dst` holds a valid `T` in a pool whose transaction is open on this thread, and is
///   borrowed exclusively by the caller.
pub(crate) unsafe fn replace_in_place<T: pmem_core::Persistent>(
    dst: *mut T,
    value: impl pmem_core::PInit<T>,
) -> Result<()> {
    let size = size_of::<T>().max(1);
    // SAFETY: `dst` lies in the open transaction's pool (caller's contract).
    let tmp = unsafe { raw::alloc(dst.cast_const().cast(), size, align_of::<T>())? }.cast::<T>();
    // SAFETY: `tmp` is a fresh allocation for one `T`, declared before it is written.
    unsafe { raw::snapshot(tmp.cast_const().cast(), size_of::<T>()) };
    // SAFETY: as above; `tmp` owns nothing yet.
    if let Err(e) = unsafe { value.init(tmp) } {
        // SAFETY: `tmp` was allocated above and holds no value that owns anything.
        let _ = unsafe { raw::free(tmp.cast_const().cast(), size) };
        return Err(e);
    }
    // SAFETY: `dst` holds a valid `T` that is about to be overwritten; `tmp` holds the
    // new value; both in the open transaction's pool. The old value's allocations are
    // freed at commit, its bytes are overwritten right after being logged.
    if let Err(e) = unsafe { T::free_owned(dst) } {
        // SAFETY: `tmp` holds the new value, referenced by nothing: undo it.
        let _ =
            unsafe { T::free_owned(tmp).and_then(|()| raw::free(tmp.cast_const().cast(), size)) };
        return Err(e);
    }
    // SAFETY: as above.
    unsafe {
        raw::snapshot_value(dst);
        ptr::copy_nonoverlapping(tmp, dst, 1);
        raw::free(tmp.cast_const().cast(), size)
    }
}
