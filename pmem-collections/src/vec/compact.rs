//! One pass over a vector that removes some elements and closes the gaps (`retain`,
//! `retain_mut`, `dedup_by`, `extract_if`), as std's `retain` does it: elements are
//! visited in order; a kept element moves down over the gap left by the removed ones
//! before it; when the pass ends — finished, stopped early, failed or unwinding from a
//! panic in the caller's closure — the unvisited elements and the tail move down too and
//! the length is written once.
//!
//! Logging: nothing until the first removal; then the slots from the first removed one
//! to the end of the vector, as one range (every later move writes inside it), and the
//! length word at the end.

use std::ptr;

use pmem_core::raw;

use super::raw::RawVec;

/// The state of one pass; dropping it closes the gap.
pub(crate) struct Compact<T> {
    hdr: *mut RawVec,
    base: *mut T,
    /// Elements in the vector when the pass began (`processed..len` are still there).
    len: usize,
    /// Where the pass stands: the next element to visit.
    processed: usize,
    /// Elements removed so far; slots `processed - deleted..processed` are the gap.
    deleted: usize,
    /// The header's length was set to where the pass began (see [`Compact::detached`]):
    /// write it back at the end even if nothing was removed.
    detached: bool,
}

impl<T> Compact<T> {
    /// A pass over the vector at `hdr` whose elements start at `base`, beginning at
    /// element `from`.
    ///
    /// # Safety
    /// - `hdr` is a valid header in a pool whose transaction is open on this thread,
    ///   `base` its buffer, `len` its length and `from <= len`; nothing else changes the
    ///   vector while the pass lives.
    pub(crate) unsafe fn new(hdr: *mut RawVec, base: *mut T, len: usize, from: usize) -> Self {
        Compact {
            hdr,
            base,
            len,
            processed: from,
            deleted: 0,
            detached: false,
        }
    }

    /// [`Compact::new`] for a pass whose state the caller may leak (an iterator): the
    /// header's length is set to `from` now, so a leaked pass leaves the vector cut
    /// short there (losing elements, never duplicating them), and written back when the
    /// pass is dropped.
    ///
    /// # Safety
    /// - as for [`Compact::new`].
    pub(crate) unsafe fn detached(hdr: *mut RawVec, base: *mut T, len: usize, from: usize) -> Self {
        // SAFETY: caller's contract; elements `0..from` are initialised.
        unsafe { RawVec::set_len(hdr, from) };
        Compact {
            detached: true,
            // SAFETY: forwarded contract.
            ..unsafe { Compact::new(hdr, base, len, from) }
        }
    }

    /// The index of the element to visit next.
    pub(crate) fn position(&self) -> usize {
        self.processed
    }

    /// The last element kept so far (moved down over the gap); the pass must have
    /// begun past element 0, which it keeps.
    pub(crate) fn last_kept(&self) -> *mut T {
        let n = self.processed - self.deleted;
        debug_assert!(n > 0);
        // SAFETY: `n - 1 < processed <= len`: a kept, initialised element.
        unsafe { self.base.add(n - 1) }
    }

    /// The element to visit next, or `None` at `end` (`end <= len`).
    pub(crate) fn current(&self, end: usize) -> Option<*mut T> {
        // SAFETY: `processed < end <= len`: an initialised element of the buffer.
        (self.processed < end).then(|| unsafe { self.base.add(self.processed) })
    }

    /// Keeps the current element: it moves down over the gap.
    pub(crate) fn keep(&mut self) {
        if self.deleted > 0 {
            // SAFETY: both slots are inside the range logged at the first removal; the
            // destination is a gap (its element was removed).
            unsafe {
                // The element's view (if the pass handed one out) has ended.
                raw::settle_padding(
                    self.base.add(self.processed).cast_const().cast(),
                    size_of::<T>(),
                );
                ptr::copy_nonoverlapping(
                    self.base.add(self.processed),
                    self.base.add(self.processed - self.deleted),
                    1,
                );
            }
        }
        self.processed += 1;
    }

    /// Counts the current element as removed; the caller has dropped it or copied it
    /// out (plain data). Logs the rest of the vector at the first removal.
    pub(crate) fn remove(&mut self) {
        if self.deleted == 0 {
            // SAFETY: slots `processed..len` are inside the buffer, in the open
            // transaction's pool; everything the pass moves lands in them.
            unsafe {
                raw::snapshot(
                    self.base.add(self.processed).cast_const().cast(),
                    (self.len - self.processed) * size_of::<T>(),
                );
            }
        }
        self.deleted += 1;
        self.processed += 1;
    }
}

impl<T> Drop for Compact<T> {
    fn drop(&mut self) {
        if self.deleted == 0 {
            if self.detached {
                // SAFETY: nothing moved: elements `0..len` are as they were.
                unsafe { RawVec::set_len(self.hdr, self.len) };
            }
            return;
        }
        // SAFETY: slots from the first removed one to `len` were logged; the unvisited
        // elements `processed..len` are initialised and move down over the gap; then
        // elements `0..len - deleted` are initialised.
        unsafe {
            raw::settle_padding(
                self.base.add(self.processed).cast_const().cast(),
                (self.len - self.processed) * size_of::<T>(),
            );
            ptr::copy(
                self.base.add(self.processed),
                self.base.add(self.processed - self.deleted),
                self.len - self.processed,
            );
            RawVec::set_len(self.hdr, self.len - self.deleted);
        }
    }
}
