//! `PBTreeSet<T>`: a `PBTreeMap<T, ()>` with the API of `std::collections::BTreeSet`.

use std::borrow::Borrow;
use std::fmt;
use std::iter::FusedIterator;
use std::marker::PhantomData;
use std::ops::{Deref, RangeBounds};

use pmem_core::fingerprint::{fp_str, fp_u64, FP_START};
use pmem_core::schema::{Shape, TypeSchema};
use pmem_core::{PSafe, Persistent, Result, ViewTail, Visitor};

use super::iter;
use super::map::PBTreeMap;
use super::map_mut::PBTreeMapMut;
use crate::{CopyOut, PKey};

/// An ordered set in a pmem pool, with the API of [`std::collections::BTreeSet`]; a
/// [`PBTreeMap<T, ()>`](PBTreeMap) underneath (so the same node layout and logging).
///
/// # Examples
///
/// ```
/// use pmem_collections::PBTreeSet;
/// let mut pool = pmem_core::Pool::<PBTreeSet<u32>>::volatile()?;
/// pool.tx(|tx| tx.root_mut().extend([5, 1, 3]))?;
/// pool.read(|s| {
///     assert!(s.contains(&3));
///     assert_eq!(s.iter().copied().collect::<Vec<_>>(), [1, 3, 5]);
/// })?;
/// # Ok::<(), pmem_core::Error>(())
/// ```
#[repr(transparent)]
pub struct PBTreeSet<T> {
    map: PBTreeMap<T, ()>,
}

impl<T> PBTreeSet<T> {
    /// An empty set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(pmem_collections::PBTreeSet::<u8>::new().is_empty());
    /// ```
    pub const fn new() -> Self {
        PBTreeSet {
            map: PBTreeMap::new(),
        }
    }

    /// An empty set with small nodes: a test hook (see `PBTreeMap::with_node_capacity`).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PBTreeSet, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PBTreeSet<u32>>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().push(PBTreeSet::with_node_capacity(4, 4))?;
    ///     tx.root_mut().last_mut().unwrap().extend(0..100)
    /// })?;
    /// assert_eq!(pool.read(|v| v[0].len())?, 100);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[doc(hidden)]
    pub fn with_node_capacity(leaf: usize, inner: usize) -> Self {
        PBTreeSet {
            map: PBTreeMap::with_node_capacity(leaf, inner),
        }
    }

    /// The number of elements.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeSet;
    /// let mut pool = pmem_core::Pool::<PBTreeSet<u8>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([1, 2, 2]))?;
    /// assert_eq!(pool.read(|s| s.len())?, 2);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the set is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(pmem_collections::PBTreeSet::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// An iterator over the elements, in order (double-ended).
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeSet;
    /// let mut pool = pmem_core::Pool::<PBTreeSet<u8>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([3, 1, 2]))?;
    /// assert_eq!(pool.read(|s| s.iter().rev().copied().collect::<Vec<_>>())?, [3, 2, 1]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter {
            inner: self.map.keys(),
        }
    }
}

impl<T: Ord> PBTreeSet<T> {
    /// Whether the set holds `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeSet;
    /// let mut pool = pmem_core::Pool::<PBTreeSet<u8>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().insert(1).map(|_| ()))?;
    /// assert_eq!(pool.read(|s| (s.contains(&1), s.contains(&2)))?, (true, false));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn contains<Q: ?Sized + Ord>(&self, value: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        self.map.contains_key(value)
    }

    /// The stored element equal to `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeSet;
    /// let mut pool = pmem_core::Pool::<PBTreeSet<u8>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().insert(1).map(|_| ()))?;
    /// assert_eq!(pool.read(|s| s.get(&1).copied())?, Some(1));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn get<Q: ?Sized + Ord>(&self, value: &Q) -> Option<&T>
    where
        T: Borrow<Q>,
    {
        self.map.get_key_value(value).map(|(k, ())| k)
    }

    /// The smallest element.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeSet;
    /// let mut pool = pmem_core::Pool::<PBTreeSet<u8>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([3, 1, 2]))?;
    /// assert_eq!(pool.read(|s| s.first().copied())?, Some(1));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn first(&self) -> Option<&T> {
        self.map.first_key_value().map(|(k, ())| k)
    }

    /// The largest element.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeSet;
    /// let mut pool = pmem_core::Pool::<PBTreeSet<u8>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([3, 1, 2]))?;
    /// assert_eq!(pool.read(|s| s.last().copied())?, Some(3));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn last(&self) -> Option<&T> {
        self.map.last_key_value().map(|(k, ())| k)
    }

    /// An iterator over the elements in `range`, in order (double-ended).
    ///
    /// # Panics
    /// Like std: when the range's start is above its end, or they are equal and both
    /// excluded.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeSet;
    /// let mut pool = pmem_core::Pool::<PBTreeSet<u8>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend(0..10))?;
    /// assert_eq!(pool.read(|s| s.range(4..=6).copied().collect::<Vec<_>>())?, [4, 5, 6]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn range<Q: ?Sized + Ord, R: RangeBounds<Q>>(&self, range: R) -> Range<'_, T>
    where
        T: Borrow<Q>,
    {
        Range {
            inner: self.map.range(range),
        }
    }
}

impl<T> Default for PBTreeSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for PBTreeSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<T: PartialEq> PartialEq for PBTreeSet<T> {
    fn eq(&self, other: &Self) -> bool {
        self.map == other.map
    }
}

impl<T: Eq> Eq for PBTreeSet<T> {}

impl<T: PartialOrd> PartialOrd for PBTreeSet<T> {
    /// Compares the elements in order, lexicographically, as std does.
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.iter().partial_cmp(other.iter())
    }
}

impl<T: Ord> Ord for PBTreeSet<T> {
    /// Compares the elements in order, lexicographically, as std does.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.iter().cmp(other.iter())
    }
}

impl<T: std::hash::Hash> std::hash::Hash for PBTreeSet<T> {
    /// Hashes the length, then the elements in order.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.len().hash(state);
        for x in self {
            x.hash(state);
        }
    }
}

impl<'a, T> IntoIterator for &'a PBTreeSet<T> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

/// An iterator over the elements of a [`PBTreeSet`], in order.
///
/// This `struct` is created by the [`iter`](PBTreeSet::iter) method on [`PBTreeSet`].
pub struct Iter<'a, T> {
    inner: iter::Keys<'a, T, ()>,
}

/// An iterator over a sub-range of the elements of a [`PBTreeSet`].
///
/// This `struct` is created by the [`range`](PBTreeSet::range) method on [`PBTreeSet`].
pub struct Range<'a, T> {
    inner: iter::Range<'a, T, ()>,
}

impl<'a, T> Iterator for Iter<'a, T> {
    type Item = &'a T;
    fn next(&mut self) -> Option<&'a T> {
        self.inner.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<'a, T> DoubleEndedIterator for Iter<'a, T> {
    fn next_back(&mut self) -> Option<&'a T> {
        self.inner.next_back()
    }
}

impl<T> ExactSizeIterator for Iter<'_, T> {}
impl<T> FusedIterator for Iter<'_, T> {}

impl<'a, T> Iterator for Range<'a, T> {
    type Item = &'a T;
    fn next(&mut self) -> Option<&'a T> {
        self.inner.next().map(|(k, ())| k)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<'a, T> DoubleEndedIterator for Range<'a, T> {
    fn next_back(&mut self) -> Option<&'a T> {
        self.inner.next_back().map(|(k, ())| k)
    }
}

impl<T> FusedIterator for Range<'_, T> {}

impl<T> Clone for Iter<'_, T> {
    fn clone(&self) -> Self {
        Iter {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Clone for Range<'_, T> {
    fn clone(&self) -> Self {
        Range {
            inner: self.inner.clone(),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for Range<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

// SAFETY: a map of PSafe elements (see `PBTreeMap`).
unsafe impl<T: PSafe> PSafe for PBTreeSet<T> {}

// SAFETY: delegates to the map of the same bytes (`repr(transparent)`).
unsafe impl<T: Persistent + Ord> Persistent for PBTreeSet<T> {
    type View = PBTreeSetMut<T>;
    const TYPE_NAME: &'static str = "PBTreeSet";
    const FINGERPRINT: u64 = fp_u64(fp_str(FP_START, "PBTreeSet/1"), T::FINGERPRINT);
    const SCHEMA: &'static TypeSchema = &TypeSchema {
        name: "PBTreeSet",
        size: size_of::<Self>(),
        align: align_of::<Self>(),
        fingerprint: Self::FINGERPRINT,
        shape: Shape::Collection {
            kind: "PBTreeSet",
            params: &[T::schema],
        },
    };

    unsafe fn view_mut<'a>(ptr: *mut Self) -> &'a mut PBTreeSetMut<T> {
        // SAFETY: `PBTreeSetMut` ends in a ViewTail; the fat pointer covers the set.
        unsafe { &mut *pmem_core::view_cast!(ptr, Self => PBTreeSetMut<T>) }
    }

    fn visit_owned(&self, v: &mut Visitor<'_>) -> Result<()> {
        self.map.visit_owned(v)
    }

    unsafe fn free_owned(ptr: *mut Self) -> Result<()> {
        // SAFETY: the same bytes are a map (`repr(transparent)`); caller's contract.
        unsafe { PBTreeMap::<T, ()>::free_owned(ptr.cast()) }
    }

    unsafe fn clone_into_pool(&self, dst: *mut Self) -> Result<()> {
        // SAFETY: the same bytes are a map (`repr(transparent)`); forwarded contract.
        unsafe { self.map.clone_into_pool(dst.cast()) }
    }

    /// Unchanged: [`clone_into_pool`](Persistent::clone_into_pool). Otherwise each old
    /// element, read by its stored size, is migrated and inserted into an empty tree,
    /// ordered by the new element's `Ord`.
    unsafe fn migrate_into_pool(
        old: *const u8,
        old_ty: pmem_core::__private::auto::OldType<'_>,
        dst: *mut Self,
    ) -> Result<()> {
        if old_ty.identical_to(Self::SCHEMA) {
            // SAFETY: identical graphs: the old set is a valid `Self` (caller's contract).
            return unsafe { (*old.cast::<Self>()).clone_into_pool(dst) };
        }
        let elem = old_ty.collection_param(Self::SCHEMA, 0)?;
        // SAFETY: a set is a `PBTreeMap<T, ()>` (`repr(transparent)`), stored the same
        // way with unit values; caller's contract for `old` and `dst`; `p` is a value
        // slot of the new tree, written with the unit value.
        unsafe {
            super::migrate::migrate_tree::<T, ()>(
                old,
                elem,
                "[]",
                crate::migrate::OldElem::UNIT,
                dst.cast(),
                |_, p| {
                    p.write(());
                    Ok(())
                },
            )
        }
    }
}

/// The view of a [`PBTreeSet`] inside a transaction. Reads are available through
/// `Deref<Target = PBTreeSet<T>>`.
pub struct PBTreeSetMut<T> {
    _m: PhantomData<T>,
    _tail: ViewTail,
}

impl<T> Deref for PBTreeSetMut<T> {
    type Target = PBTreeSet<T>;

    fn deref(&self) -> &PBTreeSet<T> {
        // SAFETY: a view lies over a valid set.
        unsafe { &*std::ptr::from_ref(self).cast::<PBTreeSet<T>>() }
    }
}

impl<T: fmt::Debug> fmt::Debug for PBTreeSetMut<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: Persistent + Ord> PBTreeSetMut<T> {
    pub(crate) fn map(&mut self) -> &mut PBTreeMapMut<T, ()> {
        // SAFETY: the set is a map of the same bytes, viewed in the same transaction
        // and borrowed exclusively through `self`.
        unsafe { PBTreeMap::<T, ()>::view_mut(std::ptr::from_mut(self).cast()) }
    }

    /// Adds `value`; answers whether it was new (an equal element is kept as it was).
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeSet;
    /// let mut pool = pmem_core::Pool::<PBTreeSet<u8>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let s = tx.root_mut();
    ///     assert!(s.insert(1)?);
    ///     assert!(!s.insert(1)?);
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn insert<Q: PKey<T>>(&mut self, value: Q) -> Result<bool>
    where
        T: Borrow<Q::Key>,
        Q::Key: Ord,
    {
        self.map().set(value, ())
    }

    /// Removes `value`, freeing what the element owned; answers whether it was present.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeSet;
    /// let mut pool = pmem_core::Pool::<PBTreeSet<u8>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let s = tx.root_mut();
    ///     s.insert(1)?;
    ///     assert!(s.remove(&1)?);
    ///     assert!(!s.remove(&1)?);
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn remove<Q: ?Sized + Ord>(&mut self, value: &Q) -> Result<bool>
    where
        T: Borrow<Q>,
    {
        Ok(self.map().remove_with(value, |_, ()| ())?.is_some())
    }

    /// Removes and answers the element equal to `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeSet;
    /// let mut pool = pmem_core::Pool::<PBTreeSet<u8>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let s = tx.root_mut();
    ///     s.insert(1)?;
    ///     assert_eq!(s.take(&1)?, Some(1));
    ///     assert_eq!(s.take(&1)?, None);
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn take<Q: ?Sized + Ord>(&mut self, value: &Q) -> Result<Option<T>>
    where
        T: Borrow<Q> + CopyOut,
    {
        self.map().remove_with(value, |k, ()| *k)
    }

    /// Removes `value`, dropping the stored element (freeing what it owned) after `f`
    /// has seen it; answers `f`'s result, or `None` if absent. Works for every element
    /// type.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::{PBTreeSet, PString};
    /// let mut pool = pmem_core::Pool::<PBTreeSet<PString>>::volatile()?;
    /// let r = pool.tx(|tx| {
    ///     tx.root_mut().insert("ada")?;
    ///     tx.root_mut().take_with("ada", |s| s.to_uppercase())
    /// })?;
    /// assert_eq!(r.as_deref(), Some("ADA"));
    /// pool.check()?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn take_with<Q: ?Sized + Ord, R>(
        &mut self,
        value: &Q,
        f: impl FnOnce(&T) -> R,
    ) -> Result<Option<R>>
    where
        T: Borrow<Q>,
    {
        self.map().remove_with(value, |k, ()| f(k))
    }

    /// Removes and answers the smallest element.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeSet;
    /// let mut pool = pmem_core::Pool::<PBTreeSet<u8>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let s = tx.root_mut();
    ///     s.extend([2, 1])?;
    ///     assert_eq!(s.pop_first()?, Some(1));
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn pop_first(&mut self) -> Result<Option<T>>
    where
        T: CopyOut,
    {
        Ok(self.map().pop_first()?.map(|(k, ())| k))
    }

    /// Removes and answers the largest element.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeSet;
    /// let mut pool = pmem_core::Pool::<PBTreeSet<u8>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let s = tx.root_mut();
    ///     s.extend([2, 1])?;
    ///     assert_eq!(s.pop_last()?, Some(2));
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn pop_last(&mut self) -> Result<Option<T>>
    where
        T: CopyOut,
    {
        Ok(self.map().pop_last()?.map(|(k, ())| k))
    }

    /// Keeps only the elements for which `f` answers `true`, freeing the others.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeSet;
    /// let mut pool = pmem_core::Pool::<PBTreeSet<u8>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let s = tx.root_mut();
    ///     s.extend(0..10)?;
    ///     s.retain(|x| x % 2 == 0)
    /// })?;
    /// assert_eq!(pool.read(|s| s.iter().copied().collect::<Vec<_>>())?, [0, 2, 4, 6, 8]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn retain(&mut self, mut f: impl FnMut(&T) -> bool) -> Result<()> {
        self.map().retain_raw(|k, _| f(k))
    }

    /// Removes every element, freeing the nodes and what the elements owned.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeSet;
    /// let mut pool = pmem_core::Pool::<PBTreeSet<u8>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let s = tx.root_mut();
    ///     s.extend(0..10)?;
    ///     s.clear()
    /// })?;
    /// assert!(pool.read(|s| s.is_empty())?);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn clear(&mut self) -> Result<()> {
        self.map().clear()
    }

    /// Adds every element of `iter`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeSet;
    /// let mut pool = pmem_core::Pool::<PBTreeSet<u8>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([3, 3, 4]))?;
    /// assert_eq!(pool.read(|s| s.len())?, 2);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn extend<Q: PKey<T>>(&mut self, iter: impl IntoIterator<Item = Q>) -> Result<()>
    where
        T: Borrow<Q::Key>,
        Q::Key: Ord,
    {
        let m = self.map();
        for v in iter {
            m.set(v, ())?;
        }
        Ok(())
    }
}

/// Serialises as a sequence in order, as serde does for `BTreeSet<T>`.
#[cfg(feature = "serde")]
impl<T: serde::Serialize> serde::Serialize for PBTreeSet<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}
