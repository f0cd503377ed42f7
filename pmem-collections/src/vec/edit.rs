//! The rest of `Vec`'s write methods on [`PVecMut`]: ranges (`drain`, `splice`,
//! `extract_if`, `split_off`, `extend_from_within`), whole-vector passes (`dedup*`),
//! moves between vectors (`append`), resizing, and the `Index`/`IndexMut`/`Extend`
//! traits.

use std::marker::PhantomData;
use std::ops::{Bound, Index, IndexMut, RangeBounds};
use std::ptr;
use std::slice::SliceIndex;

use pmem_core::{raw, Error, PInit, Persistent, Plain, Result};

use super::compact::Compact;
use super::iter::{Drain, ExtractIf, Splice};
use super::raw::RawVec;
use super::view::PVecMut;
use crate::CopyOut;

/// `range` as `start..end` within `len`, panicking like slice indexing does.
#[track_caller]
pub(crate) fn bounds(range: impl RangeBounds<usize>, len: usize) -> (usize, usize) {
    let start = match range.start_bound() {
        Bound::Included(&s) => s,
        Bound::Excluded(&s) => s
            .checked_add(1)
            .unwrap_or_else(|| panic!("attempted to index slice from after maximum usize")),
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(&e) => e
            .checked_add(1)
            .unwrap_or_else(|| panic!("attempted to index slice up to maximum usize")),
        Bound::Excluded(&e) => e,
        Bound::Unbounded => len,
    };
    assert!(
        start <= end,
        "slice index starts at {start} but ends at {end}"
    );
    assert!(
        end <= len,
        "range end index {end} out of range for slice of length {len}"
    );
    (start, end)
}

/// The error of the `try_reserve` methods whose capacity overflows (`usize`, or
/// `isize::MAX` bytes): a size no allocation can describe, as the allocator answers a
/// layout it cannot serve. A size that fits but exceeds the pool's maximum is the
/// allocator's own [`Error::OutOfSpace`].
pub(crate) fn too_large(align: usize) -> Error {
    Error::UnsupportedLayout {
        size: u64::MAX,
        align: align as u64,
    }
}

impl<T: Persistent> PVecMut<T> {
    /// Appends an element and answers its view.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PString, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PString>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().push_mut("ad")?.push('a'))?;
    /// assert_eq!(pool.read(|v| v[0].to_string())?, "ada");
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn push_mut(&mut self, value: impl PInit<T>) -> Result<&mut T::View> {
        self.push(value)?;
        let p = self.elem_ptr(self.len_now() - 1);
        // SAFETY: the element just pushed, lent exclusively for the borrow of `self`.
        Ok(unsafe { T::view_mut(p) })
    }

    /// Inserts an element at `index` (shifting the ones after it) and answers its view.
    ///
    /// # Panics
    /// If `index > len`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u8>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend([1, 3])?;
    ///     *tx.root_mut().insert_mut(1, 0)? += 2;
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|v| v.to_vec())?, [1, 2, 3]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn insert_mut(&mut self, index: usize, value: impl PInit<T>) -> Result<&mut T::View> {
        self.insert(index, value)?;
        let p = self.elem_ptr(index);
        // SAFETY: the element just inserted, lent exclusively for the borrow of `self`.
        Ok(unsafe { T::view_mut(p) })
    }

    /// The view of the first element, or `None` if the vector is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u8>>::volatile()?;
    /// pool.tx(|tx| {
    ///     assert!(tx.root_mut().first_mut().is_none());
    ///     tx.root_mut().extend([1, 2])?;
    ///     *tx.root_mut().first_mut().unwrap() = 9;
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|v| v.to_vec())?, [9, 2]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn first_mut(&mut self) -> Option<&mut T::View> {
        self.get_mut(0)
    }

    /// The view of the last element, or `None` if the vector is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u8>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend([1, 2])?;
    ///     *tx.root_mut().last_mut().unwrap() = 9;
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|v| v.to_vec())?, [1, 9]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn last_mut(&mut self) -> Option<&mut T::View> {
        let len = self.len_now();
        self.get_mut(len.checked_sub(1)?)
    }

    /// Swaps elements `a` and `b` (the slice method, for every element type: the
    /// elements' bytes move, what they own stays theirs). Logs the two slots.
    ///
    /// # Panics
    /// If `a` or `b` is out of bounds.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PString, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PString>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend(["a", "b", "c"])?;
    ///     tx.root_mut().swap(0, 2);
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|v| v.iter().map(|s| s.to_string()).collect::<String>())?, "cba");
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn swap(&mut self, a: usize, b: usize) {
        let len = self.len_now();
        assert!(
            a < len,
            "index out of bounds: the len is {len} but the index is {a}"
        );
        assert!(
            b < len,
            "index out of bounds: the len is {len} but the index is {b}"
        );
        if a == b {
            return;
        }
        self.snapshot_slots(a, a + 1);
        self.snapshot_slots(b, b + 1);
        let base = self.elem_ptr(0);
        // SAFETY: two distinct initialised, logged slots of this vector.
        unsafe { ptr::swap_nonoverlapping(base.add(a), base.add(b), 1) };
    }

    /// Shrinks the buffer to hold at least `min_capacity` elements (and never fewer
    /// than `len`), moving the elements into a fresh buffer; does nothing if the
    /// capacity is already at most that.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().reserve_exact(100)?;
    ///     tx.root_mut().extend([1, 2])?;
    ///     tx.root_mut().shrink_to(10)
    /// })?;
    /// assert_eq!(pool.read(|v| v.capacity())?, 10);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn shrink_to(&mut self, min_capacity: usize) -> Result<()> {
        let target = self.len_now().max(min_capacity);
        if self.capacity() <= target {
            return Ok(());
        }
        let h = self.hdr();
        // SAFETY: this view's header, in the open transaction's pool; `target >= len`.
        unsafe { RawVec::realloc(h, target, Self::EL) }
    }

    /// [`reserve`](Self::reserve) that never panics.
    ///
    /// # Errors
    /// [`Error::UnsupportedLayout`] when the capacity overflows (`usize`, or
    /// `isize::MAX` bytes); [`Error::OutOfSpace`] when it fits but the buffer would be
    /// larger than the pool's maximum size, as for any allocation (`reserve` answers
    /// that too). Either way the vector is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::Error;
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().try_reserve(10)?;
    ///     let e = tx.root_mut().try_reserve(usize::MAX).unwrap_err();
    ///     assert!(matches!(e, Error::UnsupportedLayout { .. }));
    ///     let e = tx.root_mut().try_reserve(1 << 40).unwrap_err(); // 8 TiB
    ///     assert!(matches!(e, Error::OutOfSpace { .. }));
    ///     Ok::<_, Error>(())
    /// })?;
    /// assert!(pool.read(|v| v.capacity())? >= 10);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn try_reserve(&mut self, additional: usize) -> Result<()> {
        self.checked_room(additional)?;
        self.reserve(additional)
    }

    /// [`reserve_exact`](Self::reserve_exact) that never panics (see
    /// [`try_reserve`](Self::try_reserve)).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u64>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().try_reserve_exact(3))?;
    /// assert_eq!(pool.read(|v| v.capacity())?, 3);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn try_reserve_exact(&mut self, additional: usize) -> Result<()> {
        self.checked_room(additional)?;
        self.reserve_exact(additional)
    }

    fn checked_room(&mut self, additional: usize) -> Result<()> {
        let fits = self
            .len_now()
            .checked_add(additional)
            .and_then(|n| n.checked_mul(size_of::<T>()))
            .is_some_and(|b| isize::try_from(b).is_ok());
        if fits {
            Ok(())
        } else {
            Err(too_large(align_of::<T>()))
        }
    }

    /// Resizes the vector to `new_len`: appends clones of `value` (anything writable as
    /// a `T`, `Clone`: `v.resize(5, "")` for a `PVec<PString>`), or drops the elements
    /// past `new_len` (freeing what they owned).
    ///
    /// An error while growing leaves the vector as it was (the elements written so far
    /// are dropped again).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PString, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PString>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().resize(3, "x")?;
    ///     tx.root_mut().resize(2, "unused")
    /// })?;
    /// assert_eq!(pool.read(|v| v.iter().map(|s| s.to_string()).collect::<Vec<_>>())?, ["x", "x"]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[allow(clippy::needless_pass_by_value)] // std's signature: the value is cloned
    pub fn resize<I: PInit<T> + Clone>(&mut self, new_len: usize, value: I) -> Result<()> {
        let len = self.len_now();
        if new_len <= len {
            return self.truncate(new_len);
        }
        self.resize_with(new_len, || value.clone())
    }

    /// Resizes the vector to `new_len`, appending `f()`'s results (anything writable as
    /// a `T`) or dropping the elements past `new_len` (freeing what they owned).
    ///
    /// An error while growing leaves the vector as it was.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u32>>::volatile()?;
    /// let mut n = 0;
    /// pool.tx(|tx| tx.root_mut().resize_with(4, || { n += 1; n }))?;
    /// assert_eq!(pool.read(|v| v.to_vec())?, [1, 2, 3, 4]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn resize_with<I: PInit<T>>(
        &mut self,
        new_len: usize,
        mut f: impl FnMut() -> I,
    ) -> Result<()> {
        let len = self.len_now();
        if new_len <= len {
            return self.truncate(new_len);
        }
        self.reserve(new_len - len)?;
        for _ in len..new_len {
            if let Err(e) = self.push(f()) {
                // Best effort: drops what this call wrote (only a corrupted pool fails).
                let _ = self.truncate(len);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Removes consecutive elements for which `same_bucket(a, b)` answers `true`,
    /// dropping them (freeing what they owned); `a` is the element considered, `b` the
    /// last one kept before it.
    ///
    /// Unlike std's, the closure gets `&T`, not `&mut T`: handing out mutable elements
    /// would log every element. Logs the slots from the first removed element to the
    /// end.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PString, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PString>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend(["a", "A", "b", "B", "b"])?;
    ///     tx.root_mut().dedup_by(|a, b| a.eq_ignore_ascii_case(b))
    /// })?;
    /// assert_eq!(pool.read(|v| v.iter().map(|s| s.to_string()).collect::<String>())?, "ab");
    /// pool.check()?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn dedup_by(&mut self, mut same_bucket: impl FnMut(&T, &T) -> bool) -> Result<()> {
        let len = self.len_now();
        if len <= 1 {
            return Ok(());
        }
        let base = self.elem_ptr(0);
        let hdr = self.hdr();
        // SAFETY: this view's header and buffer, borrowed exclusively for the pass.
        let mut pass = unsafe { Compact::new(hdr, base, len, 1) };
        while let Some(p) = pass.current(len) {
            let prev = pass.last_kept();
            // SAFETY: two distinct initialised elements (`prev` sits below `p`).
            if same_bucket(unsafe { &*p }, unsafe { &*prev }) {
                // SAFETY: an initialised element, dropped and then counted as a gap.
                let r = unsafe { T::free_owned(p) };
                pass.remove();
                r?;
            } else {
                pass.keep();
            }
        }
        Ok(())
    }

    /// Removes consecutive elements with equal keys (see [`dedup_by`](Self::dedup_by);
    /// the closure gets `&T`).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u32>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend([10, 11, 20, 30, 31])?;
    ///     tx.root_mut().dedup_by_key(|x| *x / 10)
    /// })?;
    /// assert_eq!(pool.read(|v| v.to_vec())?, [10, 20, 30]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn dedup_by_key<K: PartialEq>(&mut self, mut key: impl FnMut(&T) -> K) -> Result<()> {
        self.dedup_by(|a, b| key(a) == key(b))
    }

    /// Removes consecutive equal elements (see [`dedup_by`](Self::dedup_by)).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u32>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend([1, 1, 2, 3, 3, 3, 1])?;
    ///     tx.root_mut().dedup()
    /// })?;
    /// assert_eq!(pool.read(|v| v.to_vec())?, [1, 2, 3, 1]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn dedup(&mut self) -> Result<()>
    where
        T: PartialEq,
    {
        self.dedup_by(|a, b| a == b)
    }

    /// Moves every element of `other` to the end of this vector, leaving `other` empty
    /// (with its capacity, as std does). The elements' bytes move; what they own moves
    /// with them.
    ///
    /// Logs the new slots and both lengths (and a growth, as `reserve` does). An
    /// allocation error leaves both vectors unchanged.
    ///
    /// # Errors
    /// [`Error::CrossPool`] when `other` lies in another pool (its elements' offsets
    /// would mean nothing here).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PString, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PVec<PString>>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend([vec!["a"], vec!["b", "c"]])?;
    ///     let mut both = tx.root_mut().iter_mut();
    ///     let (first, second) = (both.next().unwrap(), both.next().unwrap());
    ///     first.append(second)
    /// })?;
    /// pool.read(|v| {
    ///     assert_eq!(v[0].iter().map(|s| s.to_string()).collect::<String>(), "abc");
    ///     assert!(v[1].is_empty());
    /// })?;
    /// pool.check()?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn append(&mut self, other: &mut PVecMut<T>) -> Result<()> {
        let n = other.len_now();
        if n == 0 {
            return Ok(());
        }
        let (mine, theirs) = (self.hdr(), other.hdr());
        if !raw::same_pool(mine.cast_const().cast(), theirs.cast_const().cast()) {
            return Err(Error::CrossPool);
        }
        self.reserve(n)?;
        other.settle_slots(0, n);
        let len = self.len_now();
        self.snapshot_slots(len, len + n);
        let (dst, src) = (self.elem_ptr(len), other.elem_ptr(0));
        // SAFETY: `n` initialised elements of `other` move into logged spare slots of
        // this (distinct: two exclusive views) vector; `other` then forgets them.
        unsafe {
            ptr::copy_nonoverlapping(src, dst, n);
            RawVec::set_len(mine, len + n);
            RawVec::set_len(theirs, 0);
        }
        Ok(())
    }

    /// Removes the elements in `range` and answers an iterator over them (plain data:
    /// they are copied out; for other elements see [`drain_with`](Self::drain_with)).
    ///
    /// The range is removed at once (logging the slots from its start to the end and
    /// the length word), whether or not the iterator is used up.
    ///
    /// # Panics
    /// If the range is out of bounds or decreasing.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u32>>::volatile()?;
    /// let out = pool.tx(|tx| {
    ///     tx.root_mut().extend([1, 2, 3, 4, 5])?;
    ///     Ok::<_, pmem_core::Error>(tx.root_mut().drain(1..3).collect::<Vec<_>>())
    /// })?;
    /// assert_eq!(out, [2, 3]);
    /// assert_eq!(pool.read(|v| v.to_vec())?, [1, 4, 5]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn drain(&mut self, range: impl RangeBounds<usize>) -> Drain<'_, T>
    where
        T: CopyOut,
    {
        let (start, end) = bounds(range, self.len_now());
        let items = self[start..end].to_vec();
        self.remove_range(start, end);
        Drain {
            items: items.into_iter(),
            _m: PhantomData,
        }
    }

    /// Removes the elements in `range`, dropping each (freeing what it owned) after `f`
    /// has seen it: [`drain`](Self::drain) for every element type.
    ///
    /// # Panics
    /// If the range is out of bounds or decreasing.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PString, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PString>>::volatile()?;
    /// let mut seen = Vec::new();
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend(["a", "b", "c", "d"])?;
    ///     tx.root_mut().drain_with(1..=2, |s| seen.push(s.to_string()))
    /// })?;
    /// assert_eq!(seen, ["b", "c"]);
    /// assert_eq!(pool.read(|v| v.len())?, 2);
    /// pool.check()?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn drain_with(
        &mut self,
        range: impl RangeBounds<usize>,
        mut f: impl FnMut(&T),
    ) -> Result<()> {
        let (start, end) = bounds(range, self.len_now());
        for i in start..end {
            let p = self.elem_ptr(i);
            // SAFETY: an initialised element, seen and then dropped; the range is
            // removed below.
            unsafe {
                f(&*p);
                T::free_owned(p)?;
            }
        }
        self.remove_range(start, end);
        Ok(())
    }

    /// Closes the gap of `start..end` (whose elements own nothing any more): logs the
    /// slots from `start` to the end and the length word.
    fn remove_range(&mut self, start: usize, end: usize) {
        if start == end {
            return;
        }
        let len = self.len_now();
        self.snapshot_slots(start, len);
        let base = self.elem_ptr(0);
        let h = self.hdr();
        // SAFETY: slots `start..len` are logged; the tail moves down over the range.
        unsafe {
            ptr::copy(base.add(end), base.add(start), len - end);
            RawVec::set_len(h, len - (end - start));
        }
    }

    /// Replaces the elements in `range` with the items of `replace_with`, and answers
    /// an iterator over the removed ones (plain data).
    ///
    /// The replacement is done at once (std finishes it when the iterator is dropped):
    /// the items are collected first, then room is made (an allocation error changes
    /// nothing), then the slots from the range's start to the new end are logged and
    /// written.
    ///
    /// # Panics
    /// If the range is out of bounds or decreasing.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u32>>::volatile()?;
    /// let out = pool.tx(|tx| {
    ///     tx.root_mut().extend([1, 2, 3, 4])?;
    ///     Ok::<_, pmem_core::Error>(tx.root_mut().splice(1..3, [7, 8, 9])?.collect::<Vec<_>>())
    /// })?;
    /// assert_eq!(out, [2, 3]);
    /// assert_eq!(pool.read(|v| v.to_vec())?, [1, 7, 8, 9, 4]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn splice(
        &mut self,
        range: impl RangeBounds<usize>,
        replace_with: impl IntoIterator<Item = T>,
    ) -> Result<Splice<'_, T>>
    where
        T: CopyOut,
    {
        let len = self.len_now();
        let (start, end) = bounds(range, len);
        let new: Vec<T> = replace_with.into_iter().collect();
        let removed = self[start..end].to_vec();
        if new.len() > removed.len() {
            self.reserve(new.len() - removed.len())?;
        }
        let new_len = len - removed.len() + new.len();
        self.snapshot_slots(start, len.max(new_len));
        let base = self.elem_ptr(0);
        let h = self.hdr();
        // SAFETY: slots `start..max(len, new_len)` are inside the buffer (reserved) and
        // logged; the tail moves to its new place, then the plain items are written.
        unsafe {
            ptr::copy(base.add(end), base.add(start + new.len()), len - end);
            ptr::copy_nonoverlapping(new.as_ptr(), base.add(start), new.len());
            RawVec::set_len(h, new_len);
        }
        Ok(Splice {
            items: removed.into_iter(),
            _m: PhantomData,
        })
    }

    /// An iterator that removes the elements of `range` for which `filter` answers
    /// `true` and yields them (plain data); `filter` may change the elements it sees
    /// (each is snapshotted first). Lazy, like std's: elements the iterator has not
    /// reached when it is dropped are kept. For other element types, see
    /// [`retain_mut`](Self::retain_mut).
    ///
    /// # Panics
    /// If the range is out of bounds or decreasing.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u32>>::volatile()?;
    /// let evens = pool.tx(|tx| {
    ///     tx.root_mut().extend(1..=8)?;
    ///     Ok::<_, pmem_core::Error>(tx.root_mut().extract_if(..6, |x| *x % 2 == 0).collect::<Vec<_>>())
    /// })?;
    /// assert_eq!(evens, [2, 4, 6]);
    /// assert_eq!(pool.read(|v| v.to_vec())?, [1, 3, 5, 7, 8]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn extract_if<F: FnMut(&mut T) -> bool>(
        &mut self,
        range: impl RangeBounds<usize>,
        filter: F,
    ) -> ExtractIf<'_, T, F>
    where
        T: CopyOut,
    {
        let len = self.len_now();
        let (start, end) = bounds(range, len);
        let base = self.elem_ptr(0);
        let hdr = self.hdr();
        ExtractIf {
            // SAFETY: this view's header and buffer, borrowed exclusively by the
            // iterator for its whole life.
            pass: unsafe { Compact::detached(hdr, base, len, start) },
            end,
            pred: filter,
            _m: PhantomData,
        }
    }

    /// Splits the vector at `at`: the elements `at..` are removed and answered as a
    /// `Vec` (plain data: std answers the tail as a new vector; a vector in the pool
    /// cannot be handed out). Keeps the capacity. For other element types, see
    /// [`drain_with`](Self::drain_with) and [`truncate`](Self::truncate).
    ///
    /// # Panics
    /// If `at > len`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u32>>::volatile()?;
    /// let tail = pool.tx(|tx| {
    ///     tx.root_mut().extend([1, 2, 3])?;
    ///     Ok::<_, pmem_core::Error>(tx.root_mut().split_off(1))
    /// })?;
    /// assert_eq!(tail, [2, 3]);
    /// assert_eq!(pool.read(|v| v.to_vec())?, [1]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn split_off(&mut self, at: usize) -> Vec<T>
    where
        T: CopyOut,
    {
        let len = self.len_now();
        assert!(
            at <= len,
            "`at` split index (is {at}) should be <= len (is {len})"
        );
        let tail = self[at..].to_vec();
        if at < len {
            let h = self.hdr();
            // SAFETY: `at < len`; plain elements own nothing.
            unsafe { RawVec::set_len(h, at) };
        }
        tail
    }

    /// Appends a copy of the elements in `src` (plain data), logging the new slots.
    ///
    /// # Panics
    /// If the range is out of bounds or decreasing.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u32>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend([1, 2, 3])?;
    ///     tx.root_mut().extend_from_within(..2)
    /// })?;
    /// assert_eq!(pool.read(|v| v.to_vec())?, [1, 2, 3, 1, 2]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn extend_from_within(&mut self, src: impl RangeBounds<usize>) -> Result<()>
    where
        T: Plain,
    {
        let len = self.len_now();
        let (start, end) = bounds(src, len);
        let n = end - start;
        if n == 0 {
            return Ok(());
        }
        self.reserve(n)?;
        self.settle_slots(start, end);
        self.snapshot_slots(len, len + n);
        let base = self.elem_ptr(0);
        let h = self.hdr();
        // SAFETY: `start..end` are initialised and `len..len + n` are reserved, logged
        // spare slots; the ranges do not overlap.
        unsafe {
            ptr::copy_nonoverlapping(base.add(start), base.add(len), n);
            RawVec::set_len(h, len + n);
        }
        Ok(())
    }

    /// Removes and answers the last element if `predicate` answers `true` for it (plain
    /// data; the predicate may change it, after a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u32>>::volatile()?;
    /// let r = pool.tx(|tx| {
    ///     tx.root_mut().extend([1, 2])?;
    ///     let a = tx.root_mut().pop_if(|x| *x == 2);
    ///     let b = tx.root_mut().pop_if(|x| *x == 2);
    ///     Ok::<_, pmem_core::Error>((a, b))
    /// })?;
    /// assert_eq!(r, (Some(2), None));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn pop_if(&mut self, predicate: impl FnOnce(&mut T) -> bool) -> Option<T>
    where
        T: CopyOut,
    {
        let last = self.last_mut()?;
        if predicate(last) {
            self.pop()
        } else {
            None
        }
    }
}

impl<T: Persistent, I: SliceIndex<[T]>> Index<I> for PVecMut<T> {
    type Output = I::Output;

    /// The element or slice at `index`, as for `[T]`.
    #[track_caller]
    fn index(&self, index: I) -> &I::Output {
        &self.as_slice()[index]
    }
}

impl<T: Plain, I: SliceIndex<[T]>> IndexMut<I> for PVecMut<T> {
    /// The element or slice at `index`, mutable after a snapshot of exactly those
    /// elements (plain data): `v[i] = x`, `v[i] += 1`, `v[a..b].sort()`. For other
    /// element types, use [`set`](PVecMut::set) or [`get_mut`](PVecMut::get_mut).
    ///
    /// # Panics
    /// If `index` is out of bounds, as for `[T]`.
    #[track_caller]
    fn index_mut(&mut self, index: I) -> &mut I::Output {
        let len = self.len_now();
        let base = self.elem_ptr(0);
        // SAFETY: `len` initialised elements, borrowed exclusively through `self`; the
        // part handed out is snapshotted before it can be written.
        unsafe {
            let all = std::slice::from_raw_parts_mut(base, len);
            let part = &mut all[index];
            let bytes = size_of_val(part);
            if bytes > 0 {
                raw::snapshot(ptr::from_mut(part).cast::<u8>().cast_const(), bytes);
            }
            part
        }
    }
}

impl<T: Persistent, I: PInit<T>> Extend<I> for PVecMut<T> {
    /// Appends every item, for code generic over [`Extend`]. The inherent
    /// [`extend`](PVecMut::extend) does the same and answers errors; use it.
    ///
    /// # Panics
    /// With "`pmem: PVecMut::extend failed: ...`" when an item cannot be written (the
    /// pool is full); the panic rolls the transaction back.
    fn extend<It: IntoIterator<Item = I>>(&mut self, iter: It) {
        if let Err(e) = PVecMut::extend(self, iter) {
            panic!("pmem: PVecMut::extend failed: {e}");
        }
    }
}
