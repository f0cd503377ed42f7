//! [`PVecMut<T>`]: the write surface of a [`PVec<T>`], handed out by transactions.

use std::marker::PhantomData;
use std::ops::Deref;
use std::ptr;

use pmem_core::{raw, PInit, Persistent, Plain, Result, ViewTail};

use crate::CopyOut;

use super::compact::Compact;
use super::pvec::PVec;
use super::raw::{replace_in_place, Elem, RawVec};

/// The view of a [`PVec<T>`] inside a transaction: `std::vec::Vec`'s write methods, each
/// logging exactly what it changes (a `push` logs the length word and the new slot).
///
/// Reads go through `Deref` to [`PVec<T>`] (and on to `[T]`). Element views recurse:
/// [`get_mut`](Self::get_mut) answers `&mut T::View`, so a `PVec<PString>` element is
/// edited through [`PStringMut`](crate::PStringMut).
///
/// Removing an element that owns pool memory frees what it owned, in the same
/// transaction; owned data never leaves the pool. So the methods that hand removed
/// elements out (`pop`, `remove`, `swap_remove`, `drain`, `split_off`...) need plain data
/// ([`CopyOut`]), and each has a twin for every `T` that drops the element in place:
/// `pop_with`, `remove_with`, `swap_remove_with`, `drain_with`, `truncate`, `retain`.
///
/// Errors: [`Error::OutOfSpace`](pmem_core::Error::OutOfSpace) (or another allocation
/// error) leaves the vector unchanged; [`Error::Corrupted`](pmem_core::Error::Corrupted)
/// means the pool is damaged and the transaction should roll back.
pub struct PVecMut<T: Persistent> {
    _t: PhantomData<T>,
    _tail: ViewTail,
}

impl<T: Persistent> Deref for PVecMut<T> {
    type Target = PVec<T>;
    fn deref(&self) -> &PVec<T> {
        // SAFETY: a view lies over a valid `PVec<T>`.
        unsafe { &*ptr::from_ref(self).cast::<PVec<T>>() }
    }
}

impl<'a, T: Persistent> IntoIterator for &'a mut PVecMut<T> {
    type Item = &'a mut T::View;
    type IntoIter = IterMut<'a, T>;
    fn into_iter(self) -> IterMut<'a, T> {
        self.iter_mut()
    }
}

impl<T: Persistent> PVecMut<T> {
    pub(crate) const EL: Elem = Elem::of::<T>();
    const SIZED: () = assert!(
        size_of::<T>() != 0,
        "pmem: a PVec of a zero-sized type is not supported"
    );

    pub(crate) fn hdr(&mut self) -> *mut RawVec {
        let () = Self::SIZED;
        ptr::from_mut(self).cast()
    }

    pub(crate) fn len_now(&self) -> usize {
        self.len()
    }

    /// Logs slots `from..to` (which must be below `cap`), and zeroes the padding of
    /// values assigned through `&mut` in them earlier in the transaction, before the
    /// caller moves them (`raw::settle_padding`).
    pub(crate) fn snapshot_slots(&mut self, from: usize, to: usize) {
        if to > from {
            let p = self.elem_ptr(from);
            // SAFETY: slots `from..to` are inside the buffer (callers keep `to <= cap`),
            // which lies in the open transaction's pool; the views of its elements have
            // ended (this view is borrowed mutably).
            unsafe {
                raw::settle_padding(p.cast_const().cast(), (to - from) * size_of::<T>());
                raw::snapshot(p.cast_const().cast(), (to - from) * size_of::<T>());
            }
        }
    }

    /// [`raw::settle_padding`] of elements `from..to` that are about to be copied.
    pub(crate) fn settle_slots(&mut self, from: usize, to: usize) {
        if to > from {
            let p = self.elem_ptr(from);
            // SAFETY: initialised elements of this vector; their views have ended (this
            // view is borrowed mutably).
            unsafe { raw::settle_padding(p.cast_const().cast(), (to - from) * size_of::<T>()) };
        }
    }

    /// Appends an element.
    ///
    /// Logs the length word and the new slot; when the buffer is full, moves the
    /// elements into a fresh buffer twice as large (the old one is freed at commit).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PString, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PString>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().push("ada")?; // a `&str` is written as a `PString`
    ///     tx.root_mut().push(String::from("bob"))
    /// })?;
    /// assert_eq!(pool.read(|v| v.iter().map(|s| s.to_string()).collect::<Vec<_>>())?, ["ada", "bob"]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn push(&mut self, value: impl PInit<T>) -> Result<()> {
        let h = self.hdr();
        // SAFETY: `h` is this view's header, in the open transaction's pool.
        unsafe { RawVec::reserve(h, 1, Self::EL, false)? };
        let len = self.len_now();
        self.snapshot_slots(len, len + 1);
        let dst = self.elem_ptr(len);
        // SAFETY: slot `len < cap` is logged and holds no value; on error `len` is
        // unchanged, so the vector is as before.
        unsafe {
            value.init(dst)?;
            RawVec::set_len(h, len + 1);
        }
        Ok(())
    }

    /// Removes the last element and returns it, or `None` if the vector is empty.
    ///
    /// Only for plain data; for elements that own pool memory use
    /// [`pop_with`](Self::pop_with).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u32>>::volatile()?;
    /// let got = pool.tx(|tx| {
    ///     tx.root_mut().extend([1, 2])?;
    ///     Ok::<_, pmem_core::Error>((tx.root_mut().pop(), tx.root_mut().pop(), tx.root_mut().pop()))
    /// })?;
    /// assert_eq!(got, (Some(2), Some(1), None));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn pop(&mut self) -> Option<T>
    where
        T: CopyOut,
    {
        let len = self.len_now();
        if len == 0 {
            return None;
        }
        let h = self.hdr();
        // SAFETY: element `len - 1` is initialised plain data (a bytewise copy is a
        // valid value that owns nothing); the length shrinks past it.
        unsafe {
            let v = self.elem_ptr(len - 1).read();
            RawVec::set_len(h, len - 1);
            Some(v)
        }
    }

    /// Removes the last element, dropping it (freeing what it owned) after `f` has seen
    /// it. Answers `f`'s result, or `None` if the vector is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PString, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PString>>::volatile()?;
    /// let empty_pool = pool.check()?.allocations;
    /// let last = pool.tx(|tx| {
    ///     tx.root_mut().push("ada")?;
    ///     tx.root_mut().pop_with(|s| s.to_string())
    /// })?;
    /// assert_eq!(last.as_deref(), Some("ada"));
    /// // Only the vector's buffer is left: the string's buffer was freed.
    /// assert_eq!(pool.check()?.allocations, empty_pool + 1);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn pop_with<R>(&mut self, f: impl FnOnce(&T) -> R) -> Result<Option<R>> {
        let len = self.len_now();
        if len == 0 {
            return Ok(None);
        }
        let h = self.hdr();
        let p = self.elem_ptr(len - 1);
        // SAFETY: element `len - 1` is initialised; it is dropped (its allocations freed
        // at commit) and the length shrinks past it.
        unsafe {
            let r = f(&*p);
            T::free_owned(p)?;
            RawVec::set_len(h, len - 1);
            Ok(Some(r))
        }
    }

    /// Inserts an element at `index`, shifting the ones after it to the right.
    ///
    /// Logs slots `index..=len` and the length word.
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
    ///     tx.root_mut().insert(1, 2)
    /// })?;
    /// assert_eq!(pool.read(|v| v.to_vec())?, [1, 2, 3]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn insert(&mut self, index: usize, value: impl PInit<T>) -> Result<()> {
        let len = self.len_now();
        assert!(
            index <= len,
            "insertion index (is {index}) should be <= len (is {len})"
        );
        let h = self.hdr();
        // SAFETY: this view's header, in the open transaction's pool.
        unsafe { RawVec::reserve(h, 1, Self::EL, false)? };
        self.snapshot_slots(index, len + 1);
        let base = self.elem_ptr(0);
        // SAFETY: slot `len < cap` is logged and free: the value is built there (in pool
        // memory, so whatever it allocates is found from its address), then rotated into
        // place. On error nothing but the free slot was written.
        unsafe {
            value.init(base.add(len))?;
            let v = base.add(len).read();
            ptr::copy(base.add(index), base.add(index + 1), len - index);
            base.add(index).write(v);
            RawVec::set_len(h, len + 1);
        }
        Ok(())
    }

    /// Removes and returns the element at `index`, shifting the ones after it left.
    /// Only for plain data; see [`remove_with`](Self::remove_with).
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u8>>::volatile()?;
    /// let x = pool.tx(|tx| {
    ///     tx.root_mut().extend([1, 2, 3])?;
    ///     Ok::<_, pmem_core::Error>(tx.root_mut().remove(0))
    /// })?;
    /// assert_eq!(x, 1);
    /// assert_eq!(pool.read(|v| v.to_vec())?, [2, 3]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn remove(&mut self, index: usize) -> T
    where
        T: CopyOut,
    {
        let (p, len) = self.elem_to_remove(index, "removal");
        // SAFETY: the element is plain data, so a bytewise copy owns nothing; `close_gap`
        // then overwrites it.
        let v = unsafe { p.read() };
        self.close_gap(index, len);
        v
    }

    /// Removes the element at `index`, dropping it (freeing what it owned) after `f` has
    /// seen it; shifts the ones after it left. Answers `f`'s result.
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PString, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PString>>::volatile()?;
    /// let n = pool.tx(|tx| {
    ///     tx.root_mut().extend(["a", "bb", "c"])?;
    ///     tx.root_mut().remove_with(1, |s| s.len())
    /// })?;
    /// assert_eq!(n, 2);
    /// assert_eq!(pool.read(|v| v.len())?, 2);
    /// pool.check()?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn remove_with<R>(&mut self, index: usize, f: impl FnOnce(&T) -> R) -> Result<R> {
        let (p, len) = self.elem_to_remove(index, "removal");
        // SAFETY: `elem_to_remove` checked `index < len`, so `p` is an initialised
        // element; `close_gap` overwrites it next.
        let r = unsafe { drop_seen(p, f)? };
        self.close_gap(index, len);
        Ok(r)
    }

    /// Element `index` and the length, checking that `index < len` (the panic message
    /// names `op`, as std's does).
    #[track_caller]
    fn elem_to_remove(&self, index: usize, op: &str) -> (*mut T, usize) {
        let len = self.len_now();
        assert!(
            index < len,
            "{op} index (is {index}) should be < len (is {len})"
        );
        (self.elem_ptr(index), len)
    }

    /// Shifts `index + 1..len` one slot left over the (already dropped) element at
    /// `index` and shortens the vector.
    pub(crate) fn close_gap(&mut self, index: usize, len: usize) {
        self.snapshot_slots(index, len);
        let base = self.elem_ptr(0);
        let h = self.hdr();
        // SAFETY: slots `index..len` are logged; moving bytes of PSafe values keeps them
        // valid (they hold offsets, never self-addresses).
        unsafe {
            ptr::copy(base.add(index + 1), base.add(index), len - index - 1);
            RawVec::set_len(h, len - 1);
        }
    }

    /// Removes and returns the element at `index`, moving the last element into its
    /// place (O(1); logs one slot and the length word). Only for plain data; see
    /// [`swap_remove_with`](Self::swap_remove_with).
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u8>>::volatile()?;
    /// let x = pool.tx(|tx| {
    ///     tx.root_mut().extend([1, 2, 3])?;
    ///     Ok::<_, pmem_core::Error>(tx.root_mut().swap_remove(0))
    /// })?;
    /// assert_eq!(x, 1);
    /// assert_eq!(pool.read(|v| v.to_vec())?, [3, 2]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn swap_remove(&mut self, index: usize) -> T
    where
        T: CopyOut,
    {
        let (p, len) = self.elem_to_remove(index, "swap_remove");
        // SAFETY: plain data: the copy owns nothing; `fill_from_last` overwrites it.
        let v = unsafe { p.read() };
        self.fill_from_last(index, len);
        v
    }

    /// Removes the element at `index`, dropping it (freeing what it owned) after `f` has
    /// seen it, and moves the last element into its place. Answers `f`'s result.
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PString, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PString>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend(["a", "b", "c"])?;
    ///     tx.root_mut().swap_remove_with(0, |_| ())
    /// })?;
    /// assert_eq!(pool.read(|v| v.iter().map(|s| s.to_string()).collect::<Vec<_>>())?, ["c", "b"]);
    /// pool.check()?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn swap_remove_with<R>(&mut self, index: usize, f: impl FnOnce(&T) -> R) -> Result<R> {
        let (p, len) = self.elem_to_remove(index, "swap_remove");
        // SAFETY: `elem_to_remove` checked `index < len`, so `p` is an initialised
        // element; `fill_from_last` overwrites it next.
        let r = unsafe { drop_seen(p, f)? };
        self.fill_from_last(index, len);
        Ok(r)
    }

    fn fill_from_last(&mut self, index: usize, len: usize) {
        let base = self.elem_ptr(0);
        let h = self.hdr();
        if index != len - 1 {
            self.settle_slots(len - 1, len);
            self.snapshot_slots(index, index + 1);
            // SAFETY: both slots are initialised elements of the buffer; slot `index` is
            // logged.
            unsafe { ptr::copy_nonoverlapping(base.add(len - 1), base.add(index), 1) };
        }
        // SAFETY: elements `0..len - 1` are initialised.
        unsafe { RawVec::set_len(h, len - 1) };
    }

    /// Shortens the vector to `len` elements, dropping the rest (freeing what they
    /// owned). Does nothing if `len >= self.len()`. Keeps the capacity.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u8>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend([1, 2, 3])?;
    ///     tx.root_mut().truncate(1)
    /// })?;
    /// assert_eq!(pool.read(|v| v.to_vec())?, [1]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn truncate(&mut self, len: usize) -> Result<()> {
        let old = self.len_now();
        if len >= old {
            return Ok(());
        }
        for i in len..old {
            // SAFETY: element `i` is initialised; the length shrinks past it below.
            unsafe { T::free_owned(self.elem_ptr(i))? };
        }
        let h = self.hdr();
        // SAFETY: elements `0..len` are initialised.
        unsafe { RawVec::set_len(h, len) };
        Ok(())
    }

    /// Removes every element, dropping them (freeing what they owned). Keeps the
    /// capacity; [`shrink_to_fit`](Self::shrink_to_fit) frees it.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u8>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend([1, 2, 3])?;
    ///     tx.root_mut().clear()
    /// })?;
    /// assert!(pool.read(|v| v.is_empty())?);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn clear(&mut self) -> Result<()> {
        self.truncate(0)
    }

    /// Appends every item of `iter` (anything writable as a `T`).
    ///
    /// Reserves the iterator's lower size bound first. If an item fails to be written,
    /// the items before it stay appended.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PString, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PString>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend("a b c".split(' ')))?;
    /// assert_eq!(pool.read(|v| v.len())?, 3);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn extend<I: PInit<T>>(&mut self, iter: impl IntoIterator<Item = I>) -> Result<()> {
        let iter = iter.into_iter();
        self.reserve(iter.size_hint().0)?;
        for x in iter {
            self.push(x)?;
        }
        Ok(())
    }

    /// Appends a copy of every element of `other` (plain data), logging the new slots
    /// as one range.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u16>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend_from_slice(&[4, 5]))?;
    /// assert_eq!(pool.read(|v| v.to_vec())?, [4, 5]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn extend_from_slice(&mut self, other: &[T]) -> Result<()>
    where
        T: Plain,
    {
        if other.is_empty() {
            return Ok(());
        }
        let h = self.hdr();
        // SAFETY: this view's header, in the open transaction's pool.
        unsafe { RawVec::reserve(h, other.len(), Self::EL, false)? };
        let len = self.len_now();
        self.snapshot_slots(len, len + other.len());
        let dst = self.elem_ptr(len);
        // SAFETY: slots `len..len + other.len()` are inside the buffer and logged;
        // `other` is DRAM (or another pool allocation), never this buffer's spare slots.
        unsafe {
            ptr::copy_nonoverlapping(other.as_ptr(), dst, other.len());
            RawVec::set_len(h, len + other.len());
        }
        Ok(())
    }

    /// Keeps only the elements for which `f` answers `true`, dropping the others
    /// (freeing what they owned), in order. `f` sees each element once, in order.
    ///
    /// Logs the slots from the first removed element to the end. If `f` panics, the
    /// vector is left consistent (the elements not yet visited are kept).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u32>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend(1..=6)?;
    ///     tx.root_mut().retain(|x| x % 2 == 0)
    /// })?;
    /// assert_eq!(pool.read(|v| v.to_vec())?, [2, 4, 6]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn retain(&mut self, mut f: impl FnMut(&T) -> bool) -> Result<()> {
        // SAFETY: `retain_raw` hands out initialised elements, one at a time.
        self.retain_raw(|p| f(unsafe { &*p }))
    }

    /// Keeps only the elements for which `f` answers `true`, like
    /// [`retain`](Self::retain), but `f` gets each element's view (`&mut T` for plain
    /// data, after a snapshot of the element), as std's `retain_mut` gets `&mut T`.
    ///
    /// Logs every element `f` sees (plain data), plus the slots from the first removed
    /// element to the end.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PString, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PString>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend(["a", "", "c"])?;
    ///     tx.root_mut().retain_mut(|s| !s.is_empty() && s.push('!').is_ok())
    /// })?;
    /// assert_eq!(pool.read(|v| v.iter().map(|s| s.to_string()).collect::<Vec<_>>())?, ["a!", "c!"]);
    /// pool.check()?; // the removed string's buffer was freed
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn retain_mut(&mut self, mut f: impl FnMut(&mut T::View) -> bool) -> Result<()> {
        // SAFETY: `retain_raw` hands out initialised elements, one at a time, while
        // nothing else refers to them.
        self.retain_raw(|p| f(unsafe { T::view_mut(p) }))
    }

    /// The pass behind `retain` and `retain_mut`: `keep` sees each element's address.
    fn retain_raw(&mut self, mut keep: impl FnMut(*mut T) -> bool) -> Result<()> {
        let len = self.len_now();
        let base = self.elem_ptr(0);
        let hdr = self.hdr();
        // SAFETY: this view's header and buffer, borrowed exclusively for the pass.
        let mut pass = unsafe { Compact::new(hdr, base, len, 0) };
        while let Some(p) = pass.current(len) {
            if keep(p) {
                pass.keep();
            } else {
                // SAFETY: an initialised element, dropped and then counted as a gap.
                let r = unsafe { T::free_owned(p) };
                pass.remove();
                r?;
            }
        }
        Ok(())
    }

    /// The view of the element at `index`, or `None` if out of bounds.
    ///
    /// For plain data this snapshots the element and answers `&mut T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PString, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PString>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().push("ad")?;
    ///     tx.root_mut().get_mut(0).unwrap().push_str("a")?; // a PStringMut
    ///     assert!(tx.root_mut().get_mut(1).is_none());
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|v| v[0].to_string())?, "ada");
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn get_mut(&mut self, index: usize) -> Option<&mut T::View> {
        if index >= self.len_now() {
            return None;
        }
        let p = self.elem_ptr(index);
        // SAFETY: an initialised element of this vector, lent exclusively for the
        // borrow of `self` (which the transaction bounds).
        Some(unsafe { T::view_mut(p) })
    }

    /// Replaces the element at `index` with `value`, dropping the old one (freeing what
    /// it owned). For plain data `*v.get_mut(i).unwrap() = x` does the same.
    ///
    /// The new value is built before the old one is dropped, so an error leaves the
    /// element unchanged.
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PString, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PString>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().push("old")?;
    ///     tx.root_mut().set(0, "new")
    /// })?;
    /// assert_eq!(pool.read(|v| v[0].to_string())?, "new");
    /// pool.check()?; // the old string's buffer was freed
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn set(&mut self, index: usize, value: impl PInit<T>) -> Result<()> {
        let len = self.len_now();
        assert!(index < len, "index (is {index}) should be < len (is {len})");
        let p = self.elem_ptr(index);
        // SAFETY: an initialised element, borrowed exclusively through `self`.
        unsafe { replace_in_place(p, value) }
    }

    /// The elements as one mutable slice (plain data), after logging all of them.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u32>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend([3, 1, 2])?;
    ///     tx.root_mut().as_mut_slice().sort();
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|v| v.to_vec())?, [1, 2, 3]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn as_mut_slice(&mut self) -> &mut [T]
    where
        T: Plain,
    {
        let len = self.len_now();
        if len == 0 {
            return &mut [];
        }
        self.snapshot_slots(0, len);
        let p = self.elem_ptr(0);
        // SAFETY: `len` initialised, logged elements, lent exclusively for the borrow of
        // `self`.
        unsafe { std::slice::from_raw_parts_mut(p, len) }
    }

    /// An iterator over the elements' views, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u32>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend([1, 2])?;
    ///     for x in tx.root_mut().iter_mut() {
    ///         *x *= 10;
    ///     }
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|v| v.to_vec())?, [10, 20]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn iter_mut(&mut self) -> IterMut<'_, T> {
        IterMut {
            base: self.elem_ptr(0),
            next: 0,
            end: self.len_now(),
            _m: PhantomData,
        }
    }

    /// Makes room for at least `additional` more elements (growing by doubling).
    ///
    /// # Panics
    /// If the capacity overflows `usize` ("capacity overflow").
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u64>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().reserve(100))?;
    /// assert!(pool.read(|v| v.capacity())? >= 100);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn reserve(&mut self, additional: usize) -> Result<()> {
        let h = self.hdr();
        // SAFETY: this view's header, in the open transaction's pool.
        unsafe { RawVec::reserve(h, additional, Self::EL, false) }
    }

    /// Makes room for exactly `additional` more elements (no doubling).
    ///
    /// # Panics
    /// If the capacity overflows `usize` ("capacity overflow").
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u64>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().reserve_exact(3))?;
    /// assert_eq!(pool.read(|v| v.capacity())?, 3);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn reserve_exact(&mut self, additional: usize) -> Result<()> {
        let h = self.hdr();
        // SAFETY: this view's header, in the open transaction's pool.
        unsafe { RawVec::reserve(h, additional, Self::EL, true) }
    }

    /// Moves the elements into a buffer of exactly `len` elements, freeing the old one at
    /// commit (an empty vector frees its buffer and owns nothing).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().reserve(100)?;
    ///     tx.root_mut().push(7)?;
    ///     tx.root_mut().shrink_to_fit()
    /// })?;
    /// assert_eq!(pool.read(|v| v.capacity())?, 1);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn shrink_to_fit(&mut self) -> Result<()> {
        let len = self.len_now();
        if self.capacity() == len {
            return Ok(());
        }
        let h = self.hdr();
        // SAFETY: this view's header, in the open transaction's pool; `len <= len`.
        unsafe { RawVec::realloc(h, len, Self::EL) }
    }
}

/// An iterator over the element views of a [`PVec`], front to back.
///
/// This `struct` is created by the [`iter_mut`](PVecMut::iter_mut) method on
/// [`PVecMut`].
pub struct IterMut<'a, T: Persistent> {
    base: *mut T,
    next: usize,
    end: usize,
    _m: PhantomData<&'a mut PVecMut<T>>,
}

impl<'a, T: Persistent> Iterator for IterMut<'a, T> {
    type Item = &'a mut T::View;
    fn next(&mut self) -> Option<&'a mut T::View> {
        if self.next == self.end {
            return None;
        }
        self.next += 1;
        // SAFETY: each initialised element is handed out once, for the borrow of the
        // view that made this iterator.
        Some(unsafe { T::view_mut(self.base.add(self.next - 1)) })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.end - self.next, Some(self.end - self.next))
    }
}

impl<T: Persistent> DoubleEndedIterator for IterMut<'_, T> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.next == self.end {
            return None;
        }
        self.end -= 1;
        // SAFETY: as in `next`.
        Some(unsafe { T::view_mut(self.base.add(self.end)) })
    }
}

impl<T: Persistent> ExactSizeIterator for IterMut<'_, T> {}
impl<T: Persistent> std::iter::FusedIterator for IterMut<'_, T> {}

/// Shows the element at `p` to `f`, then drops it in place (freeing what it owns);
/// answers `f`'s result.
///
/// # Safety
/// - `p` points to an initialised element in a pool whose transaction is open on this
///   thread; the caller overwrites or forgets the slot afterwards.
unsafe fn drop_seen<T: Persistent, R>(p: *mut T, f: impl FnOnce(&T) -> R) -> Result<R> {
    // SAFETY: the caller's contract.
    unsafe {
        let r = f(&*p);
        T::free_owned(p)?;
        Ok(r)
    }
}
