//! The rest of `HashMap`'s write methods on [`PHashMapMut`]: `drain`, `extract_if`,
//! `get_disjoint_mut`, `shrink_to`, `try_reserve`, and the `Extend` trait; with the
//! iterators [`Drain`] and [`ExtractIf`].

use std::borrow::Borrow;
use std::hash::Hash;
use std::iter::FusedIterator;
use std::marker::PhantomData;
use std::ptr;

use pmem_core::{PInit, Persistent, Result};

use super::key::PKey;
use super::map::PHashMap;
use super::raw::{self, capacity_to_buckets, FullBuckets, Table};
use super::view::PHashMapMut;
use crate::vec::too_large;
use crate::CopyOut;

impl<K: Persistent + Hash + Eq, V: Persistent> PHashMapMut<K, V> {
    /// Removes every entry and answers an iterator over them (plain data: they are
    /// copied out; for other types see [`clear`](Self::clear) and
    /// [`retain`](Self::retain)). Keeps the table, as std does.
    ///
    /// The map is cleared at once (logging the control bytes as one range and the
    /// header's counters), whether or not the iterator is used up.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u8, u8>>::volatile()?;
    /// let mut all = pool.tx(|tx| {
    ///     tx.root_mut().extend([(1, 10), (2, 20)])?;
    ///     Ok::<_, pmem_core::Error>(tx.root_mut().drain().collect::<Vec<_>>())
    /// })?;
    /// all.sort();
    /// assert_eq!(all, [(1, 10), (2, 20)]);
    /// assert!(pool.read(|m| m.is_empty() && m.capacity() > 0)?);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn drain(&mut self) -> Drain<'_, K, V>
    where
        K: CopyOut,
        V: CopyOut,
    {
        let items: Vec<(K, V)> = self.iter().map(|(k, v)| (*k, *v)).collect();
        if let Some(t) = self.table() {
            if !items.is_empty() {
                // SAFETY: this view's table; the entries are plain (own nothing) and
                // were copied out above.
                unsafe { raw::clear_no_drop(self.hdr(), t) };
            }
        }
        Drain {
            items: items.into_iter(),
            _m: PhantomData,
        }
    }

    /// An iterator that removes the entries for which `pred` answers `true` and yields
    /// them (plain data); `pred` may change the values it sees (each is snapshotted
    /// first). Lazy, like std's: entries the iterator has not reached when it is
    /// dropped stay. Each removal logs one control byte and the header's counters. For
    /// other types see [`retain`](Self::retain).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u32, u32>>::volatile()?;
    /// let mut evens = pool.tx(|tx| {
    ///     tx.root_mut().extend((0..8).map(|k| (k, k * k)))?;
    ///     Ok::<_, pmem_core::Error>(tx.root_mut().extract_if(|k, _| k % 2 == 0).collect::<Vec<_>>())
    /// })?;
    /// evens.sort();
    /// assert_eq!(evens, [(0, 0), (2, 4), (4, 16), (6, 36)]);
    /// assert_eq!(pool.read(|m| m.len())?, 4);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn extract_if<F: FnMut(&K, &mut V) -> bool>(&mut self, pred: F) -> ExtractIf<'_, K, V, F>
    where
        K: CopyOut,
        V: CopyOut,
    {
        let table = self.table();
        ExtractIf {
            buckets: table.map(Table::full_buckets),
            table,
            map: self,
            pred,
        }
    }

    /// The views of the values for `N` keys at once, each `None` if absent.
    ///
    /// # Panics
    /// If two of the keys find the same entry.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PHashMap, PString};
    /// let mut pool = pmem_core::Pool::<PHashMap<PString, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend([("ada", 10), ("bob", 5)])?;
    ///     let [a, b, c] = tx.root_mut().get_disjoint_mut(["ada", "bob", "eve"]);
    ///     let (a, b) = (a.unwrap(), b.unwrap());
    ///     *a -= 3; // a transfer between two entries
    ///     *b += 3;
    ///     assert!(c.is_none());
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|m| (m["ada"], m["bob"]))?, (7, 8));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn get_disjoint_mut<Q: Hash + Eq + ?Sized, const N: usize>(
        &mut self,
        keys: [&Q; N],
    ) -> [Option<&mut V::View>; N]
    where
        K: Borrow<Q>,
    {
        let found = keys.map(|k| self.find(k));
        for (i, a) in found.iter().enumerate() {
            for b in &found[..i] {
                if let (Some((_, x)), Some((_, y))) = (a, b) {
                    assert!(x != y, "duplicate keys found");
                }
            }
        }
        // SAFETY: distinct full buckets' values (checked above), lent exclusively for
        // the borrow of `self`.
        found.map(|f| f.map(|(t, i)| unsafe { V::view_mut(Self::value_ptr(t, i)) }))
    }

    /// [`get_disjoint_mut`](Self::get_disjoint_mut) without the check that the keys
    /// find distinct entries.
    ///
    /// # Safety
    /// - no two of the keys may find the same entry (two views of one value would
    ///   alias).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u8, u8>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend([(1, 1), (2, 2)])?;
    ///     // SAFETY: 1 and 2 are different keys.
    ///     let [a, b] = unsafe { tx.root_mut().get_disjoint_unchecked_mut([&1, &2]) };
    ///     std::mem::swap(a.unwrap(), b.unwrap());
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|m| (m[&1], m[&2]))?, (2, 1));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub unsafe fn get_disjoint_unchecked_mut<Q: Hash + Eq + ?Sized, const N: usize>(
        &mut self,
        keys: [&Q; N],
    ) -> [Option<&mut V::View>; N]
    where
        K: Borrow<Q>,
    {
        keys.map(|k| {
            self.find(k).map(|(t, i)| {
                // SAFETY: full buckets' values, distinct by the caller's promise, lent
                // exclusively for the borrow of `self`.
                unsafe { V::view_mut(Self::value_ptr(t, i)) }
            })
        })
    }

    /// Rebuilds the table smaller, to hold at least `min_capacity` entries (and never
    /// fewer than the map has); does nothing if it is not larger than that. An empty
    /// map shrunk to 0 frees its table.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().reserve(1000)?;
    ///     tx.root_mut().insert(1, 1)?;
    ///     tx.root_mut().shrink_to(50)
    /// })?;
    /// assert!((50..1000).contains(&pool.read(|m| m.capacity())?));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn shrink_to(&mut self, min_capacity: usize) -> Result<()> {
        let want = self.len().max(min_capacity);
        if want == 0 {
            return self.shrink_to_fit();
        }
        let Some(t) = self.table() else { return Ok(()) };
        if capacity_to_buckets(want).is_some_and(|b| b < t.buckets()) {
            self.resize(want)?;
        }
        Ok(())
    }

    /// [`reserve`](Self::reserve) that never panics.
    ///
    /// # Errors
    /// [`Error::UnsupportedLayout`](pmem_core::Error::UnsupportedLayout) when the
    /// capacity overflows (the table's size does not fit a `usize`);
    /// [`Error::OutOfSpace`](pmem_core::Error::OutOfSpace) when the table fits but is
    /// larger than the pool's maximum size, as for any allocation. Either way the map is
    /// unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().try_reserve(100)?;
    ///     let e = tx.root_mut().try_reserve(usize::MAX).unwrap_err();
    ///     assert!(matches!(e, pmem_core::Error::UnsupportedLayout { .. }));
    ///     let e = tx.root_mut().try_reserve(1 << 40).unwrap_err();
    ///     assert!(matches!(e, pmem_core::Error::OutOfSpace { .. }));
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert!(pool.read(|m| m.capacity())? >= 100);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn try_reserve(&mut self, additional: usize) -> Result<()> {
        let fits = self
            .len()
            .checked_add(additional)
            .and_then(capacity_to_buckets)
            .and_then(|b| PHashMap::<K, V>::LAYOUT.alloc_size(b))
            .is_some();
        if !fits {
            return Err(too_large(PHashMap::<K, V>::LAYOUT.alloc_align()));
        }
        self.reserve(additional)
    }
}

impl<K, V, L, W> Extend<(L, W)> for PHashMapMut<K, V>
where
    K: Persistent + Hash + Eq + Borrow<L::Key>,
    V: Persistent,
    L: PKey<K>,
    L::Key: Hash + Eq,
    W: PInit<V>,
{
    /// Inserts every pair like the inherent [`extend`](PHashMapMut::extend), for code
    /// generic over [`Extend`]; the inherent method answers errors, use it.
    ///
    /// # Panics
    /// With "`pmem: PHashMap::extend failed: ...`" when an entry cannot be written (the
    /// pool is full); the panic rolls the transaction back.
    #[track_caller]
    fn extend<I: IntoIterator<Item = (L, W)>>(&mut self, iter: I) {
        if let Err(e) = PHashMapMut::extend(self, iter) {
            panic!("pmem: PHashMap::extend failed: {e}");
        }
    }
}

copied_out_iter!(
    /// An iterator over the entries removed by [`PHashMapMut::drain`].
    ///
    /// The map is cleared when `drain` is called, so dropping the iterator early, or
    /// leaking it, changes nothing more.
    ///
    /// This `struct` is created by the [`drain`](PHashMapMut::drain) method on
    /// [`PHashMapMut`].
    Drain<K, V> => (K, V), borrows PHashMapMut<K, V>
);

/// An iterator that removes the entries for which a predicate answers `true`, and
/// yields them.
///
/// This `struct` is created by the [`extract_if`](PHashMapMut::extract_if) method on
/// [`PHashMapMut`].
pub struct ExtractIf<'a, K, V, F> {
    map: &'a mut PHashMapMut<K, V>,
    table: Option<Table>,
    buckets: Option<FullBuckets>,
    pred: F,
}

impl<K, V, F> Iterator for ExtractIf<'_, K, V, F>
where
    K: Persistent + Hash + Eq + CopyOut,
    V: Persistent + CopyOut,
    F: FnMut(&K, &mut V) -> bool,
{
    type Item = (K, V);
    fn next(&mut self) -> Option<(K, V)> {
        let t = self.table?;
        for i in self.buckets.as_mut()? {
            let b = PHashMapMut::<K, V>::bucket(t, i);
            // SAFETY: a full bucket of the borrowed map's table (removing others moves
            // nothing); the value is viewed (plain data: snapshotted, then `&mut`) while
            // nothing else refers to it.
            let take =
                unsafe { (self.pred)(&(*b).key, V::view_mut(ptr::addr_of_mut!((*b).value))) };
            if take {
                // SAFETY: plain data: the copies own nothing; the bucket is marked free.
                unsafe {
                    let kv = (
                        ptr::read(ptr::addr_of!((*b).key)),
                        ptr::read(ptr::addr_of!((*b).value)),
                    );
                    raw::erase(self.map.hdr(), t, i);
                    return Some(kv);
                }
            }
        }
        None
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.map.len()))
    }
}

impl<K, V, F> FusedIterator for ExtractIf<'_, K, V, F>
where
    K: Persistent + Hash + Eq + CopyOut,
    V: Persistent + CopyOut,
    F: FnMut(&K, &mut V) -> bool,
{
}
