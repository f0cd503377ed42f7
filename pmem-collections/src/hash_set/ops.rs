//! The rest of `HashSet`'s API: the set operations (`union`, `intersection`,
//! `difference`, `symmetric_difference` and their predicates) on [`PHashSet`], and
//! `drain`, `extract_if`, `replace`, `shrink_to`, `try_reserve` and `Extend` on
//! [`PHashSetMut`], with their iterators.

use std::borrow::Borrow;
use std::hash::Hash;
use std::iter::{Chain, FusedIterator};
use std::marker::PhantomData;
use std::ptr;

use pmem_core::{raw, Persistent, Result};

use super::{Iter, PHashSet, PHashSetMut};
use crate::hash_map::{erase_bucket, full_buckets, Bucket, FullBuckets, Table};
use crate::{CopyOut, PBuildHasher, PKey};

impl<T> PHashSet<T> {
    /// How this set hashes its elements (see [`PHashMap::hasher`](crate::PHashMap::hasher)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::hash::BuildHasher;
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashSet<u8>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().insert(1).map(drop))?;
    /// assert_eq!(pool.read(|s| s.hasher().hash_one(1u8) == s.hasher().hash_one(1u8))?, true);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn hasher(&self) -> PBuildHasher {
        self.map.hasher()
    }
}

impl<T: Hash + Eq> PHashSet<T> {
    /// The elements of `self` that are not in `other`, lazily, in no particular order.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PHashSet, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PHashSet<u8>>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([vec![1, 2, 3], vec![2, 3, 4]]))?;
    /// let d = pool.read(|v| v[0].difference(&v[1]).copied().collect::<Vec<_>>())?;
    /// assert_eq!(d, [1]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn difference<'a>(&'a self, other: &'a PHashSet<T>) -> Difference<'a, T> {
        Difference {
            iter: self.iter(),
            other,
        }
    }

    /// The elements in `self` or in `other` but not in both, lazily.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<pmem_collections::PHashSet<u8>>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([vec![1, 2, 3], vec![2, 3, 4]]))?;
    /// let mut d = pool.read(|v| v[0].symmetric_difference(&v[1]).copied().collect::<Vec<_>>())?;
    /// d.sort();
    /// assert_eq!(d, [1, 4]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn symmetric_difference<'a>(
        &'a self,
        other: &'a PHashSet<T>,
    ) -> SymmetricDifference<'a, T> {
        SymmetricDifference {
            iter: self.difference(other).chain(other.difference(self)),
        }
    }

    /// The elements in both `self` and `other`, lazily (walking the smaller set).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<pmem_collections::PHashSet<u8>>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([vec![1, 2, 3], vec![2, 3, 4]]))?;
    /// let mut d = pool.read(|v| v[0].intersection(&v[1]).copied().collect::<Vec<_>>())?;
    /// d.sort();
    /// assert_eq!(d, [2, 3]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn intersection<'a>(&'a self, other: &'a PHashSet<T>) -> Intersection<'a, T> {
        let (small, large) = if self.len() <= other.len() {
            (self, other)
        } else {
            (other, self)
        };
        Intersection {
            iter: small.iter(),
            other: large,
        }
    }

    /// The elements in `self` or `other` (each once), lazily.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<pmem_collections::PHashSet<u8>>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([vec![1, 2, 3], vec![2, 3, 4]]))?;
    /// let mut d = pool.read(|v| v[0].union(&v[1]).copied().collect::<Vec<_>>())?;
    /// d.sort();
    /// assert_eq!(d, [1, 2, 3, 4]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn union<'a>(&'a self, other: &'a PHashSet<T>) -> Union<'a, T> {
        let (small, large) = if self.len() <= other.len() {
            (self, other)
        } else {
            (other, self)
        };
        Union {
            iter: large.iter().chain(small.difference(large)),
        }
    }

    /// Whether `self` and `other` have no element in common.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<pmem_collections::PHashSet<u8>>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([vec![1, 2], vec![3], vec![2]]))?;
    /// assert_eq!(pool.read(|v| (v[0].is_disjoint(&v[1]), v[0].is_disjoint(&v[2])))?, (true, false));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn is_disjoint(&self, other: &PHashSet<T>) -> bool {
        self.intersection(other).next().is_none()
    }

    /// Whether every element of `self` is in `other`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<pmem_collections::PHashSet<u8>>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([vec![1, 2], vec![1, 2, 3]]))?;
    /// assert_eq!(pool.read(|v| (v[0].is_subset(&v[1]), v[1].is_subset(&v[0])))?, (true, false));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn is_subset(&self, other: &PHashSet<T>) -> bool {
        self.len() <= other.len() && self.iter().all(|x| other.contains(x))
    }

    /// Whether every element of `other` is in `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PVec<pmem_collections::PHashSet<u8>>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([vec![1, 2], vec![1, 2, 3]]))?;
    /// assert_eq!(pool.read(|v| v[1].is_superset(&v[0]))?, true);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn is_superset(&self, other: &PHashSet<T>) -> bool {
        other.is_subset(self)
    }
}

impl<T: Persistent + Hash + Eq> PHashSetMut<T> {
    /// Removes every element and answers an iterator over them (plain data; for other
    /// types see [`clear`](Self::clear)). Keeps the table. The set is cleared at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashSet<u8>>::volatile()?;
    /// let mut all = pool.tx(|tx| {
    ///     tx.root_mut().extend([3, 1, 2])?;
    ///     Ok::<_, pmem_core::Error>(tx.root_mut().drain().collect::<Vec<_>>())
    /// })?;
    /// all.sort();
    /// assert_eq!(all, [1, 2, 3]);
    /// assert!(pool.read(|s| s.is_empty())?);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn drain(&mut self) -> Drain<'_, T>
    where
        T: CopyOut,
    {
        let items: Vec<T> = self.map().drain().map(|(k, ())| k).collect();
        Drain {
            items: items.into_iter(),
            _m: PhantomData,
        }
    }

    /// An iterator that removes the elements for which `pred` answers `true` and yields
    /// them (plain data; for other types see [`retain`](Self::retain)). Lazy: elements
    /// it has not reached when it is dropped stay.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashSet<u32>>::volatile()?;
    /// let mut evens = pool.tx(|tx| {
    ///     tx.root_mut().extend(0..8)?;
    ///     Ok::<_, pmem_core::Error>(tx.root_mut().extract_if(|x| x % 2 == 0).collect::<Vec<_>>())
    /// })?;
    /// evens.sort();
    /// assert_eq!(evens, [0, 2, 4, 6]);
    /// assert_eq!(pool.read(|s| s.len())?, 4);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn extract_if<F: FnMut(&T) -> bool>(&mut self, pred: F) -> ExtractIf<'_, T, F>
    where
        T: CopyOut,
    {
        let table = self.map.table();
        ExtractIf {
            buckets: table.map(full_buckets),
            table,
            set: self,
            pred,
        }
    }

    /// Adds `value`, replacing an equal element already present; answers the replaced
    /// element (plain data). Logs the element's bytes, or inserts like
    /// [`insert`](Self::insert).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashSet<u64>>::volatile()?;
    /// let r = pool.tx(|tx| Ok::<_, pmem_core::Error>((tx.root_mut().replace(5)?, tx.root_mut().replace(5)?)))?;
    /// assert_eq!(r, (None, Some(5)));
    /// assert_eq!(pool.read(|s| s.len())?, 1);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn replace(&mut self, value: T) -> Result<Option<T>>
    where
        T: CopyOut,
    {
        if let Some((t, i)) = self.map.find(&value) {
            let kp = t.bucket(i).cast::<Bucket<T, ()>>().cast::<T>();
            // SAFETY: a full bucket's key (the bucket starts with it, `repr(C)`), plain
            // data: copied out, logged, overwritten by an equal (same hash) element.
            unsafe {
                let old = kp.read();
                raw::snapshot_value(kp);
                kp.write(value);
                return Ok(Some(old));
            }
        }
        self.map().insert_new(value, ())?;
        Ok(None)
    }

    /// Rebuilds the table smaller, to hold at least `min_capacity` elements (see
    /// [`PHashMapMut::shrink_to`](crate::PHashMapMut::shrink_to)).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashSet<u32>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().reserve(1000)?;
    ///     tx.root_mut().shrink_to(10)
    /// })?;
    /// assert!((10..1000).contains(&pool.read(|s| s.capacity())?));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn shrink_to(&mut self, min_capacity: usize) -> Result<()> {
        self.map().shrink_to(min_capacity)
    }

    /// [`reserve`](Self::reserve) that never panics (see
    /// [`PHashMapMut::try_reserve`](crate::PHashMapMut::try_reserve)).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashSet<u32>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().try_reserve(50)?;
    ///     assert!(tx.root_mut().try_reserve(usize::MAX).is_err());
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert!(pool.read(|s| s.capacity())? >= 50);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn try_reserve(&mut self, additional: usize) -> Result<()> {
        self.map().try_reserve(additional)
    }
}

impl<T, L> Extend<L> for PHashSetMut<T>
where
    T: Persistent + Hash + Eq + Borrow<L::Key>,
    L: PKey<T>,
    L::Key: Hash + Eq,
{
    /// Adds every item like the inherent [`extend`](PHashSetMut::extend), for code
    /// generic over [`Extend`]; the inherent method answers errors, use it.
    ///
    /// # Panics
    /// With "`pmem: PHashSet::extend failed: ...`" when an element cannot be written
    /// (the pool is full); the panic rolls the transaction back.
    #[track_caller]
    fn extend<I: IntoIterator<Item = L>>(&mut self, iter: I) {
        if let Err(e) = PHashSetMut::extend(self, iter) {
            panic!("pmem: PHashSet::extend failed: {e}");
        }
    }
}

set_iter!(
    /// The elements of one [`PHashSet`] that are not in another.
    ///
    /// This `struct` is created by the [`difference`](PHashSet::difference) method on
    /// [`PHashSet`].
    Difference<T: Hash + Eq> { iter: Iter<'a, T>, other: &'a PHashSet<T> }
    next: |s| s.iter.by_ref().find(|x| !s.other.contains(*x)),
    size_hint: |s| (0, s.iter.size_hint().1)
);

set_iter!(
    /// The elements in both of two [`PHashSet`]s.
    ///
    /// This `struct` is created by the [`intersection`](PHashSet::intersection) method
    /// on [`PHashSet`].
    Intersection<T: Hash + Eq> { iter: Iter<'a, T>, other: &'a PHashSet<T> }
    next: |s| s.iter.by_ref().find(|x| s.other.contains(*x)),
    size_hint: |s| (0, s.iter.size_hint().1)
);

set_iter!(
    /// The elements in one of two [`PHashSet`]s but not both.
    ///
    /// This `struct` is created by the
    /// [`symmetric_difference`](PHashSet::symmetric_difference) method on [`PHashSet`].
    SymmetricDifference<T: Hash + Eq> {
        iter: Chain<Difference<'a, T>, Difference<'a, T>>
    }
    next: |s| s.iter.next(),
    size_hint: |s| s.iter.size_hint()
);

set_iter!(
    /// The elements in either of two [`PHashSet`]s.
    ///
    /// This `struct` is created by the [`union`](PHashSet::union) method on
    /// [`PHashSet`].
    Union<T: Hash + Eq> { iter: Chain<Iter<'a, T>, Difference<'a, T>> }
    next: |s| s.iter.next(),
    size_hint: |s| s.iter.size_hint()
);

copied_out_iter!(
    /// An iterator over the elements removed by [`PHashSetMut::drain`].
    ///
    /// This `struct` is created by the [`drain`](PHashSetMut::drain) method on
    /// [`PHashSetMut`].
    Drain<T> => T, borrows PHashSetMut<T>
);

/// An iterator that removes the elements for which a predicate answers `true`, and
/// yields them.
///
/// This `struct` is created by the [`extract_if`](PHashSetMut::extract_if) method on
/// [`PHashSetMut`].
pub struct ExtractIf<'a, T, F> {
    set: &'a mut PHashSetMut<T>,
    table: Option<Table>,
    buckets: Option<FullBuckets>,
    pred: F,
}

impl<T, F> Iterator for ExtractIf<'_, T, F>
where
    T: Persistent + Hash + Eq + CopyOut,
    F: FnMut(&T) -> bool,
{
    type Item = T;
    fn next(&mut self) -> Option<T> {
        let t = self.table?;
        for i in self.buckets.as_mut()? {
            let kp = t.bucket(i).cast::<T>();
            // SAFETY: a full bucket of the borrowed set's table (its key first,
            // `repr(C)`); removing others moves nothing.
            if (self.pred)(unsafe { &*kp }) {
                // SAFETY: plain data: the copy owns nothing; the bucket is marked free.
                unsafe {
                    let x = ptr::read(kp);
                    erase_bucket(self.set.map(), t, i);
                    return Some(x);
                }
            }
        }
        None
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.set.len()))
    }
}

impl<T, F> FusedIterator for ExtractIf<'_, T, F>
where
    T: Persistent + Hash + Eq + CopyOut,
    F: FnMut(&T) -> bool,
{
}
