//! [`PHashSet<T>`]: a hash set in pool memory (a `PHashMap<T, ()>`), and its view
//! [`PHashSetMut<T>`].

use std::borrow::Borrow;
use std::fmt;
use std::hash::Hash;
use std::iter::FusedIterator;
use std::ops::Deref;
use std::ptr;

use pmem_core::schema::{Shape, TypeSchema};
use pmem_core::{view_cast, PInit, PSafe, Persistent, Result, ViewTail, Visitor};

use crate::build::build_in;
use crate::{CopyOut, PHashMap, PHashMapMut, PKey};

mod ops;

pub use ops::{Difference, Drain, ExtractIf, Intersection, SymmetricDifference, Union};

/// A hash set stored in a pool: the persistent counterpart of
/// [`HashSet<T>`](std::collections::HashSet).
///
/// It is a [`PHashMap<T, ()>`] (same header, table, hashing and logging). Reads work on
/// `&PHashSet`; changes go through [`PHashSetMut`]. Lookups take any borrowed form of
/// `T` (`&str` for `PString` elements).
///
/// # Examples
///
/// ```
/// use pmem_collections::{PHashSet, PString};
/// let mut pool = pmem_core::Pool::<PHashSet<PString>>::volatile()?;
/// pool.tx(|tx| {
///     assert!(tx.root_mut().insert("ada")?);
///     assert!(!tx.root_mut().insert("ada")?);
///     Ok::<_, pmem_core::Error>(())
/// })?;
/// assert!(pool.read(|s| s.contains("ada"))?);
/// # Ok::<(), pmem_core::Error>(())
/// ```
#[repr(transparent)]
pub struct PHashSet<T> {
    map: PHashMap<T, ()>,
}

impl<T> PHashSet<T> {
    /// An empty set that owns nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(pmem_collections::PHashSet::<u64>::new().is_empty());
    /// ```
    pub const fn new() -> Self {
        PHashSet {
            map: PHashMap::new(),
        }
    }

    /// The number of elements.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashSet<u8>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([1, 2, 2]))?;
    /// assert_eq!(pool.read(|s| s.len())?, 2);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Is the set empty?
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(pmem_collections::PHashSet::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The number of elements the set holds without rebuilding its table.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashSet<u8>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().reserve(50))?;
    /// assert!(pool.read(|s| s.capacity())? >= 50);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn capacity(&self) -> usize {
        self.map.capacity()
    }

    /// An iterator over the elements, in no particular order.
    ///
    /// # Panics
    /// With "pmem: corrupted pool: ..." if the header is inconsistent.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashSet<u8>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([1, 2]))?;
    /// assert_eq!(pool.read(|s| s.iter().map(|x| *x as u32).sum::<u32>())?, 3);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn iter(&self) -> Iter<'_, T> {
        Iter {
            inner: self.map.keys(),
        }
    }
}

impl<T: Hash + Eq> PHashSet<T> {
    /// Is `value` in the set?
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PHashSet, PString};
    /// let mut pool = pmem_core::Pool::<PHashSet<PString>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().insert("a").map(drop))?;
    /// assert_eq!(pool.read(|s| (s.contains("a"), s.contains("b")))?, (true, false));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn contains<Q: Hash + Eq + ?Sized>(&self, value: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        self.map.contains_key(value)
    }

    /// The stored element equal to `value`, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PHashSet, PString};
    /// let mut pool = pmem_core::Pool::<PHashSet<PString>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().insert("a").map(drop))?;
    /// assert_eq!(pool.read(|s| s.get("a").map(|p| p.len()))?, Some(1));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn get<Q: Hash + Eq + ?Sized>(&self, value: &Q) -> Option<&T>
    where
        T: Borrow<Q>,
    {
        self.map.get_key_value(value).map(|(k, ())| k)
    }
}

impl<T> Default for PHashSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for PHashSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<T: Hash + Eq> PartialEq for PHashSet<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|x| other.contains(x))
    }
}
impl<T: Hash + Eq> Eq for PHashSet<T> {}

impl<'a, T> IntoIterator for &'a PHashSet<T> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

/// An iterator over the elements of a [`PHashSet`].
///
/// This `struct` is created by the [`iter`](PHashSet::iter) method on [`PHashSet`].
pub struct Iter<'a, T> {
    inner: crate::hash_map::Keys<'a, T, ()>,
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
impl<T> ExactSizeIterator for Iter<'_, T> {}
impl<T> Clone for Iter<'_, T> {
    fn clone(&self) -> Self {
        Iter {
            inner: self.inner.clone(),
        }
    }
}
impl<T> FusedIterator for Iter<'_, T> {}

// SAFETY: a `PHashMap<T, ()>` header.
unsafe impl<T: PSafe> PSafe for PHashSet<T> {}

// SAFETY: the view delegates to `PHashMapMut<T, ()>`, whose methods snapshot what they
// change; visiting and freeing are the map's.
unsafe impl<T: Persistent + Hash + Eq> Persistent for PHashSet<T> {
    type View = PHashSetMut<T>;
    const TYPE_NAME: &'static str = "PHashSet";
    const FINGERPRINT: u64 = crate::vec::collection_fp(
        "PHashSet",
        &[(T::TYPE_NAME, size_of::<T>(), align_of::<T>())],
    );
    const SCHEMA: &'static TypeSchema = &TypeSchema {
        name: "PHashSet",
        size: size_of::<Self>(),
        align: align_of::<Self>(),
        fingerprint: Self::FINGERPRINT,
        shape: Shape::Collection {
            kind: "PHashSet",
            params: &[T::schema],
        },
    };

    unsafe fn view_mut<'a>(ptr: *mut Self) -> &'a mut PHashSetMut<T> {
        // SAFETY: `PHashSetMut` ends in a `ViewTail`; the fat pointer covers the header,
        // which the caller lends exclusively for `'a`.
        unsafe { &mut *view_cast!(ptr, Self => PHashSetMut<T>) }
    }

    fn visit_owned(&self, v: &mut Visitor<'_>) -> Result<()> {
        self.map.visit_owned(v)
    }

    unsafe fn free_owned(ptr: *mut Self) -> Result<()> {
        // SAFETY: a set is its map (`repr(transparent)`); caller's contract.
        unsafe { PHashMap::<T, ()>::free_owned(ptr.cast()) }
    }

    unsafe fn clone_into_pool(&self, dst: *mut Self) -> Result<()> {
        // SAFETY: a set is its map (`repr(transparent)`); forwarded contract.
        unsafe { self.map.clone_into_pool(dst.cast()) }
    }

    /// Unchanged: [`clone_into_pool`](Persistent::clone_into_pool). Otherwise each old
    /// element, read by its stored size, is migrated and inserted into a fresh table,
    /// hashed by the new element's bytes.
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
        // SAFETY: a set is a `PHashMap<T, ()>` (`repr(transparent)`), stored the same
        // way, its buckets the elements; caller's contract for `old` and `dst`; `p` is
        // a value slot of the new map, written with the unit value.
        unsafe {
            crate::hash_map::migrate_table::<T, ()>(
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

/// The view of a [`PHashSet<T>`] inside a transaction: `std::collections::HashSet`'s
/// write methods, logging like [`PHashMapMut`]. Reads go through `Deref` to
/// [`PHashSet`].
///
/// Removing an element that owns pool memory frees what it owned, so
/// [`take`](Self::take) (which hands the element out) needs plain data;
/// [`take_with`](Self::take_with) and [`remove`](Self::remove) work for every type.
pub struct PHashSetMut<T> {
    _t: std::marker::PhantomData<T>,
    _tail: ViewTail,
}

impl<T> Deref for PHashSetMut<T> {
    type Target = PHashSet<T>;
    fn deref(&self) -> &PHashSet<T> {
        // SAFETY: a view lies over a valid `PHashSet<T>`.
        unsafe { &*ptr::from_ref(self).cast::<PHashSet<T>>() }
    }
}

impl<T: Persistent + Hash + Eq> PHashSetMut<T> {
    fn map(&mut self) -> &mut PHashMapMut<T, ()> {
        let p = ptr::from_mut(self).cast::<PHashMap<T, ()>>();
        // SAFETY: a set is its map (`repr(transparent)`); the map's view covers the same
        // bytes and is borrowed for as long as `self`.
        unsafe { &mut *view_cast!(p, PHashMap<T, ()> => PHashMapMut<T, ()>) }
    }

    /// Adds `value`; answers `true` if it was not present (a present element is left
    /// as it is, and `value` is not written into the pool).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashSet<u64>>::volatile()?;
    /// let r = pool.tx(|tx| Ok::<_, pmem_core::Error>((tx.root_mut().insert(1)?, tx.root_mut().insert(1)?)))?;
    /// assert_eq!(r, (true, false));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn insert<L: PKey<T>>(&mut self, value: L) -> Result<bool>
    where
        T: Borrow<L::Key>,
        L::Key: Hash + Eq,
    {
        if self.contains(value.key()) {
            return Ok(false);
        }
        self.map().insert_new(value, ())?;
        Ok(true)
    }

    /// Removes `value`, dropping the stored element (freeing what it owned); answers
    /// whether it was present.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PHashSet, PString};
    /// let mut pool = pmem_core::Pool::<PHashSet<PString>>::volatile()?;
    /// let r = pool.tx(|tx| {
    ///     tx.root_mut().insert("a")?;
    ///     Ok::<_, pmem_core::Error>((tx.root_mut().remove("a")?, tx.root_mut().remove("a")?))
    /// })?;
    /// assert_eq!(r, (true, false));
    /// pool.check()?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn remove<Q: Hash + Eq + ?Sized>(&mut self, value: &Q) -> Result<bool>
    where
        T: Borrow<Q>,
    {
        Ok(self.map().remove_with(value, |_, ()| ())?.is_some())
    }

    /// Removes `value` and answers the stored element (plain data; see
    /// [`take_with`](Self::take_with)).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashSet<u64>>::volatile()?;
    /// let r = pool.tx(|tx| {
    ///     tx.root_mut().insert(4)?;
    ///     tx.root_mut().take(&4)
    /// })?;
    /// assert_eq!(r, Some(4));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn take<Q: Hash + Eq + ?Sized>(&mut self, value: &Q) -> Result<Option<T>>
    where
        T: CopyOut + Borrow<Q>,
    {
        self.map().remove_with(value, |k, ()| {
            // SAFETY: plain data: the copy owns nothing.
            unsafe { ptr::read(k) }
        })
    }

    /// Removes `value`, dropping the stored element (freeing what it owned) after `f`
    /// has seen it; answers `f`'s result, or `None` if absent.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PHashSet, PString};
    /// let mut pool = pmem_core::Pool::<PHashSet<PString>>::volatile()?;
    /// let r = pool.tx(|tx| {
    ///     tx.root_mut().insert("ada")?;
    ///     tx.root_mut().take_with("ada", |s| s.to_uppercase())
    /// })?;
    /// assert_eq!(r.as_deref(), Some("ADA"));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn take_with<Q: Hash + Eq + ?Sized, R>(
        &mut self,
        value: &Q,
        f: impl FnOnce(&T) -> R,
    ) -> Result<Option<R>>
    where
        T: Borrow<Q>,
    {
        self.map().remove_with(value, |k, ()| f(k))
    }

    /// Keeps only the elements for which `f` answers `true`, dropping the others.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashSet<u32>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend(0..10)?;
    ///     tx.root_mut().retain(|x| *x < 3)
    /// })?;
    /// assert_eq!(pool.read(|s| s.len())?, 3);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn retain(&mut self, mut f: impl FnMut(&T) -> bool) -> Result<()> {
        self.map().retain_raw(|k, _| f(k))
    }

    /// Removes every element, dropping them. Keeps the table.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashSet<u32>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend(0..10)?;
    ///     tx.root_mut().clear()
    /// })?;
    /// assert!(pool.read(|s| s.is_empty())?);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn clear(&mut self) -> Result<()> {
        self.map().clear()
    }

    /// Adds every item of `iter` (reserving room first as `PHashMapMut::extend` does).
    /// If an item fails, the ones before it stay added.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PHashSet, PString};
    /// let mut pool = pmem_core::Pool::<PHashSet<PString>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend(["a", "b", "a"]))?;
    /// assert_eq!(pool.read(|s| s.len())?, 2);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn extend<L: PKey<T>>(&mut self, iter: impl IntoIterator<Item = L>) -> Result<()>
    where
        T: Borrow<L::Key>,
        L::Key: Hash + Eq,
    {
        let iter = iter.into_iter();
        self.map().reserve_for_extend(iter.size_hint().0)?;
        for x in iter {
            self.insert(x)?;
        }
        Ok(())
    }

    /// Makes room for at least `additional` more elements without another rebuild.
    ///
    /// # Panics
    /// If the capacity overflows `usize`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashSet<u32>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().reserve(100))?;
    /// assert!(pool.read(|s| s.capacity())? >= 100);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn reserve(&mut self, additional: usize) -> Result<()> {
        self.map().reserve(additional)
    }

    /// Rebuilds the table as small as the elements allow; an empty set frees it.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashSet<u32>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().reserve(100)?;
    ///     tx.root_mut().shrink_to_fit()
    /// })?;
    /// assert_eq!(pool.read(|s| s.capacity())?, 0);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn shrink_to_fit(&mut self) -> Result<()> {
        self.map().shrink_to_fit()
    }
}

/// Builds a set of `items` at `dst` (duplicates are added once); on an error, frees what
/// was built and leaves an empty set.
///
/// # Safety
/// - as for [`PInit::init`].
unsafe fn build_set<T, L>(dst: *mut PHashSet<T>, items: impl IntoIterator<Item = L>) -> Result<()>
where
    T: Persistent + Hash + Eq + Borrow<L::Key>,
    L: PKey<T>,
    L::Key: Hash + Eq,
{
    // SAFETY: forwarded contract.
    unsafe { build_in(dst, PHashSet::new, |s| s.extend(items)) }
}

// SAFETY: `build_set` initialises `*dst` fully, allocating only in `dst`'s pool.
unsafe impl<T, L> PInit<PHashSet<T>> for Vec<L>
where
    T: Persistent + Hash + Eq + Borrow<L::Key>,
    L: PKey<T>,
    L::Key: Hash + Eq,
{
    /// Writes the items as a new set (`vec!["a", "b"]` for a `PHashSet<PString>`).
    unsafe fn init(self, dst: *mut PHashSet<T>) -> Result<()> {
        // SAFETY: forwarded contract.
        unsafe { build_set(dst, self) }
    }
}

// SAFETY: as for `Vec<L>`.
unsafe impl<T, L, const N: usize> PInit<PHashSet<T>> for [L; N]
where
    T: Persistent + Hash + Eq + Borrow<L::Key>,
    L: PKey<T>,
    L::Key: Hash + Eq,
{
    unsafe fn init(self, dst: *mut PHashSet<T>) -> Result<()> {
        // SAFETY: forwarded contract.
        unsafe { build_set(dst, self) }
    }
}

/// Serialises as a sequence (in the table's order), as serde does for `HashSet<T>`.
#[cfg(feature = "serde")]
impl<T: serde::Serialize> serde::Serialize for PHashSet<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}
