//! The rest of `BTreeSet`'s API: the set operations (`union`, `intersection`,
//! `difference`, `symmetric_difference`: merges of two sorted walks, and their
//! predicates) on [`PBTreeSet`], and `append`, `split_off`, `extract_if`, `replace` and
//! `Extend` on [`PBTreeSetMut`]; `PInit` from a `Vec` or an array.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::iter::{FusedIterator, Peekable};
use std::marker::PhantomData;
use std::ops::RangeBounds;

use pmem_core::{raw, PInit, Persistent, Result};

use super::edit::Pass;
use super::node;
use super::set::{Iter, PBTreeSet, PBTreeSetMut};
use crate::build::build_in;
use crate::{CopyOut, PKey};

impl<T: Ord> PBTreeSet<T> {
    /// The elements of `self` that are not in `other`, in order, lazily.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PBTreeSet, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PBTreeSet<u8>>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([vec![1, 2, 3], vec![2, 3, 4]]))?;
    /// assert_eq!(pool.read(|v| v[0].difference(&v[1]).copied().collect::<Vec<_>>())?, [1]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn difference<'a>(&'a self, other: &'a PBTreeSet<T>) -> Difference<'a, T> {
        Difference {
            merge: Merge::new(self, other),
        }
    }

    /// The elements in `self` or in `other` but not in both, in order, lazily.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PBTreeSet, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PBTreeSet<u8>>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([vec![1, 2, 3], vec![2, 3, 4]]))?;
    /// assert_eq!(
    ///     pool.read(|v| v[0].symmetric_difference(&v[1]).copied().collect::<Vec<_>>())?,
    ///     [1, 4]
    /// );
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn symmetric_difference<'a>(
        &'a self,
        other: &'a PBTreeSet<T>,
    ) -> SymmetricDifference<'a, T> {
        SymmetricDifference {
            merge: Merge::new(self, other),
        }
    }

    /// The elements in both `self` and `other`, in order, lazily.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PBTreeSet, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PBTreeSet<u8>>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([vec![1, 2, 3], vec![2, 3, 4]]))?;
    /// assert_eq!(pool.read(|v| v[0].intersection(&v[1]).copied().collect::<Vec<_>>())?, [2, 3]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn intersection<'a>(&'a self, other: &'a PBTreeSet<T>) -> Intersection<'a, T> {
        Intersection {
            merge: Merge::new(self, other),
        }
    }

    /// The elements in `self` or `other` (each once), in order, lazily.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PBTreeSet, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PBTreeSet<u8>>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([vec![1, 2, 3], vec![2, 3, 4]]))?;
    /// assert_eq!(pool.read(|v| v[0].union(&v[1]).copied().collect::<Vec<_>>())?, [1, 2, 3, 4]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn union<'a>(&'a self, other: &'a PBTreeSet<T>) -> Union<'a, T> {
        Union {
            merge: Merge::new(self, other),
        }
    }

    /// Whether `self` and `other` have no element in common.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PBTreeSet, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PBTreeSet<u8>>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([vec![1, 2], vec![3], vec![2]]))?;
    /// assert_eq!(pool.read(|v| (v[0].is_disjoint(&v[1]), v[0].is_disjoint(&v[2])))?, (true, false));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn is_disjoint(&self, other: &PBTreeSet<T>) -> bool {
        self.intersection(other).next().is_none()
    }

    /// Whether every element of `self` is in `other`.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PBTreeSet, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PBTreeSet<u8>>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([vec![1, 2], vec![1, 2, 3]]))?;
    /// assert_eq!(pool.read(|v| (v[0].is_subset(&v[1]), v[1].is_subset(&v[0])))?, (true, false));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn is_subset(&self, other: &PBTreeSet<T>) -> bool {
        self.len() <= other.len() && self.difference(other).next().is_none()
    }

    /// Whether every element of `other` is in `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PBTreeSet, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PBTreeSet<u8>>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([vec![1, 2], vec![1, 2, 3]]))?;
    /// assert!(pool.read(|v| v[1].is_superset(&v[0]))?);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn is_superset(&self, other: &PBTreeSet<T>) -> bool {
        other.is_subset(self)
    }
}

impl<T: Persistent + Ord> PBTreeSetMut<T> {
    /// Moves every element of `other` into this set, leaving `other` empty (an element
    /// in both is kept here; `other`'s copy is dropped). See
    /// [`PBTreeMapMut::append`](crate::PBTreeMapMut::append), whose errors it shares.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PBTreeSet, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PBTreeSet<u8>>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend([vec![1, 2], vec![2, 3]])?;
    ///     let mut both = tx.root_mut().iter_mut();
    ///     let (a, b) = (both.next().unwrap(), both.next().unwrap());
    ///     a.append(b)
    /// })?;
    /// assert_eq!(pool.read(|v| (v[0].iter().copied().collect::<Vec<_>>(), v[1].len()))?, (vec![1, 2, 3], 0));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn append(&mut self, other: &mut PBTreeSetMut<T>) -> Result<()> {
        self.map().append(other.map())
    }

    /// Splits the set at `value`: the elements at or above it are removed and answered
    /// as a `BTreeSet` (plain data; see
    /// [`PBTreeMapMut::split_off`](crate::PBTreeMapMut::split_off)).
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeSet;
    /// let mut pool = pmem_core::Pool::<PBTreeSet<u8>>::volatile()?;
    /// let high = pool.tx(|tx| {
    ///     tx.root_mut().extend(0..5)?;
    ///     tx.root_mut().split_off(&3)
    /// })?;
    /// assert_eq!(high.into_iter().collect::<Vec<_>>(), [3, 4]);
    /// assert_eq!(pool.read(|s| s.len())?, 3);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn split_off<Q: ?Sized + Ord>(&mut self, value: &Q) -> Result<BTreeSet<T>>
    where
        T: Borrow<Q> + CopyOut,
    {
        Ok(self.map().split_off(value)?.into_keys().collect())
    }

    /// An iterator that removes the elements of `range` for which `pred` answers `true`
    /// and yields them in order (plain data). Lazy: elements it has not reached when it
    /// is dropped stay. For other types, see [`retain`](Self::retain).
    ///
    /// # Panics
    /// Like [`range`](PBTreeSet::range), for a decreasing range.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeSet;
    /// let mut pool = pmem_core::Pool::<PBTreeSet<u8>>::volatile()?;
    /// let out = pool.tx(|tx| {
    ///     tx.root_mut().extend(0..8)?;
    ///     Ok::<_, pmem_core::Error>(tx.root_mut().extract_if(..5, |x| x % 2 == 1).collect::<Vec<_>>())
    /// })?;
    /// assert_eq!(out, [1, 3]);
    /// assert_eq!(pool.read(|s| s.iter().copied().collect::<Vec<_>>())?, [0, 2, 4, 5, 6, 7]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn extract_if<Q, R, F>(&mut self, range: R, pred: F) -> ExtractIf<'_, T, R, F, Q>
    where
        T: Borrow<Q> + CopyOut,
        Q: ?Sized + Ord,
        R: RangeBounds<Q>,
        F: FnMut(&T) -> bool,
    {
        ExtractIf {
            pass: Pass::new(self.map(), &range),
            range,
            pred,
            _q: PhantomData,
        }
    }

    /// Adds `value`, replacing an equal element already present; answers the replaced
    /// element (plain data). Logs the element's bytes (and the separator that copies
    /// them, if any), or inserts like [`insert`](Self::insert).
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeSet;
    /// let mut pool = pmem_core::Pool::<PBTreeSet<u8>>::volatile()?;
    /// let r = pool.tx(|tx| Ok::<_, pmem_core::Error>((tx.root_mut().replace(5)?, tx.root_mut().replace(5)?)))?;
    /// assert_eq!(r, (None, Some(5)));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn replace(&mut self, value: T) -> Result<Option<T>>
    where
        T: CopyOut,
    {
        let t = self.map().tree()?;
        // SAFETY: the tree holds valid keys; a found key is plain data, copied out and
        // overwritten by an equal one after a snapshot, and so is the separator that
        // copies it (exact-minimum invariant: separators are byte copies of keys).
        unsafe {
            if let Some((path, true)) = t.descend(|k: &T| k.cmp(&value))? {
                let kp = t.geo.key(path.leaf, path.pos).cast::<T>();
                let old = kp.read();
                raw::snapshot_value(kp);
                kp.write(value);
                if let Some((n, k)) = path.sep {
                    node::write_bytes(t.geo.sep(n, k), kp.cast(), t.geo.ks);
                }
                return Ok(Some(old));
            }
        }
        self.insert(value)?;
        Ok(None)
    }
}

impl<T, L> Extend<L> for PBTreeSetMut<T>
where
    T: Persistent + Ord + Borrow<L::Key>,
    L: PKey<T>,
    L::Key: Ord,
{
    /// Adds every item like the inherent [`extend`](PBTreeSetMut::extend), for code
    /// generic over [`Extend`]; the inherent method answers errors, use it.
    ///
    /// # Panics
    /// With "`pmem: PBTreeSet::extend failed: ...`" when an element cannot be written
    /// (the pool is full); the panic rolls the transaction back.
    #[track_caller]
    fn extend<I: IntoIterator<Item = L>>(&mut self, iter: I) {
        if let Err(e) = PBTreeSetMut::extend(self, iter) {
            panic!("pmem: PBTreeSet::extend failed: {e}");
        }
    }
}

/// Builds a set of `items` at `dst`; on an error, frees what was built and leaves an
/// empty set.
///
/// # Safety
/// - as for [`PInit::init`].
unsafe fn build_set<T, L>(dst: *mut PBTreeSet<T>, items: impl IntoIterator<Item = L>) -> Result<()>
where
    T: Persistent + Ord + Borrow<L::Key>,
    L: PKey<T>,
    L::Key: Ord,
{
    // SAFETY: forwarded contract.
    unsafe { build_in(dst, PBTreeSet::new, |s| s.extend(items)) }
}

// SAFETY: `build_set` initialises `*dst` fully, allocating only in `dst`'s pool.
unsafe impl<T, L> PInit<PBTreeSet<T>> for Vec<L>
where
    T: Persistent + Ord + Borrow<L::Key>,
    L: PKey<T>,
    L::Key: Ord,
{
    /// Writes the items as a new set (`vec!["b", "a"]` for a `PBTreeSet<PString>`).
    unsafe fn init(self, dst: *mut PBTreeSet<T>) -> Result<()> {
        // SAFETY: forwarded contract.
        unsafe { build_set(dst, self) }
    }
}

// SAFETY: as for `Vec<L>`.
unsafe impl<T, L, const N: usize> PInit<PBTreeSet<T>> for [L; N]
where
    T: Persistent + Ord + Borrow<L::Key>,
    L: PKey<T>,
    L::Key: Ord,
{
    unsafe fn init(self, dst: *mut PBTreeSet<T>) -> Result<()> {
        // SAFETY: forwarded contract.
        unsafe { build_set(dst, self) }
    }
}

/// Two sorted walks side by side.
struct Merge<'a, T> {
    a: Peekable<Iter<'a, T>>,
    b: Peekable<Iter<'a, T>>,
}

impl<'a, T: Ord> Merge<'a, T> {
    fn new(a: &'a PBTreeSet<T>, b: &'a PBTreeSet<T>) -> Self {
        Merge {
            a: a.iter().peekable(),
            b: b.iter().peekable(),
        }
    }

    /// The smaller of the two next elements, and which walk(s) it came from.
    fn step(&mut self) -> Option<(&'a T, Ordering)> {
        let o = match (self.a.peek(), self.b.peek()) {
            (None, None) => return None,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(x), Some(y)) => x.cmp(y),
        };
        let x = match o {
            Ordering::Less => self.a.next(),
            Ordering::Greater => self.b.next(),
            Ordering::Equal => {
                self.b.next();
                self.a.next()
            }
        };
        x.map(|x| (x, o))
    }
}

impl<T> Clone for Merge<'_, T> {
    fn clone(&self) -> Self {
        Merge {
            a: self.a.clone(),
            b: self.b.clone(),
        }
    }
}

set_iter!(
    /// The elements of one [`PBTreeSet`] that are not in another, in order.
    ///
    /// This `struct` is created by the [`difference`](PBTreeSet::difference) method on
    /// [`PBTreeSet`].
    Difference<T: Ord> { merge: Merge<'a, T> }
    next: |s| loop {
        // Only `a`'s own elements, and stop when `a` ends.
        s.merge.a.peek()?;
        if let (x, Ordering::Less) = s.merge.step()? {
            return Some(x);
        }
    },
    size_hint: |_s| (0, None)
);

set_iter!(
    /// The elements in both of two [`PBTreeSet`]s, in order.
    ///
    /// This `struct` is created by the [`intersection`](PBTreeSet::intersection) method
    /// on [`PBTreeSet`].
    Intersection<T: Ord> { merge: Merge<'a, T> }
    next: |s| loop {
        s.merge.a.peek()?;
        s.merge.b.peek()?;
        if let (x, Ordering::Equal) = s.merge.step()? {
            return Some(x);
        }
    },
    size_hint: |_s| (0, None)
);

set_iter!(
    /// The elements in one of two [`PBTreeSet`]s but not both, in order.
    ///
    /// This `struct` is created by the
    /// [`symmetric_difference`](PBTreeSet::symmetric_difference) method on [`PBTreeSet`].
    SymmetricDifference<T: Ord> { merge: Merge<'a, T> }
    next: |s| loop {
        match s.merge.step()? {
            (_, Ordering::Equal) => {}
            (x, _) => return Some(x),
        }
    },
    size_hint: |_s| (0, None)
);

set_iter!(
    /// The elements in either of two [`PBTreeSet`]s, in order.
    ///
    /// This `struct` is created by the [`union`](PBTreeSet::union) method on
    /// [`PBTreeSet`].
    Union<T: Ord> { merge: Merge<'a, T> }
    next: |s| s.merge.step().map(|(x, _)| x),
    size_hint: |_s| (0, None)
);

/// An iterator that removes the elements of a range for which a predicate answers
/// `true`, and yields them in order.
///
/// This `struct` is created by the [`extract_if`](PBTreeSetMut::extract_if) method on
/// [`PBTreeSetMut`].
pub struct ExtractIf<'a, T, R, F, Q: ?Sized = T> {
    pass: Pass<'a, T, ()>,
    range: R,
    pred: F,
    _q: PhantomData<fn(&Q)>,
}

impl<T, R, F, Q> Iterator for ExtractIf<'_, T, R, F, Q>
where
    T: Persistent + Ord + Borrow<Q> + CopyOut,
    Q: ?Sized + Ord,
    R: RangeBounds<Q>,
    F: FnMut(&T) -> bool,
{
    type Item = T;

    fn next(&mut self) -> Option<T> {
        let pred = &mut self.pred;
        self.pass.next(&self.range, |k, _| pred(k)).map(|(k, ())| k)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.pass.left()))
    }
}

impl<T, R, F, Q> FusedIterator for ExtractIf<'_, T, R, F, Q>
where
    T: Persistent + Ord + Borrow<Q> + CopyOut,
    Q: ?Sized + Ord,
    R: RangeBounds<Q>,
    F: FnMut(&T) -> bool,
{
}
