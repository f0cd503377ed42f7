//! The rest of `BTreeMap`'s write methods on [`PBTreeMapMut`]: `range_mut`, `append`,
//! `split_off`, `extract_if` and the `Extend` trait, with the iterators [`RangeMut`]
//! and [`ExtractIf`].

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::iter::FusedIterator;
use std::marker::PhantomData;
use std::ops::{Bound, RangeBounds};

use pmem_core::{raw, Error, PInit, Persistent, Result};

use super::iter::view_iterator;
use super::map_mut::PBTreeMapMut;
use super::node::{self, corrupted, panic_corrupted};
use super::tree::{Dir, Tree};
use crate::{CopyOut, PKey};

impl<K: Persistent + Ord, V: Persistent> PBTreeMapMut<K, V> {
    /// An iterator over the entries whose keys lie in `range`, with each value's view,
    /// in key order (double-ended). For plain values each view snapshots its value as
    /// it is handed out.
    ///
    /// # Panics
    /// Like std: when the range's start is above its end, or they are equal and both
    /// excluded.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.extend((0..6).map(|k| (k, 0)))?;
    ///     for (k, v) in m.range_mut(2..4) {
    ///         *v = *k * 10;
    ///     }
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|m| m.values().copied().collect::<Vec<_>>())?, [0, 0, 20, 30, 0, 0]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn range_mut<Q: ?Sized + Ord, R: RangeBounds<Q>>(&mut self, range: R) -> RangeMut<'_, K, V>
    where
        K: Borrow<Q>,
    {
        RangeMut {
            raw: self.raw_range(&range),
            _m: PhantomData,
        }
    }

    /// Moves every entry of `other` into this map, leaving `other` empty; a key present
    /// in both takes `other`'s value (the old value is dropped, freeing what it owned,
    /// and `other`'s copy of the key too), as in std. Entries move as bytes: what they
    /// own moves with them.
    ///
    /// Into an empty map with the same node capacities, `other`'s tree is moved whole
    /// (the two headers change); otherwise entry by entry, smallest first, each one
    /// logged like an insert here and a removal there.
    ///
    /// # Errors
    /// [`Error::CrossPool`] when `other` lies in another pool. An allocation error
    /// stops the move: the entries moved so far stay moved, the rest stay in `other`,
    /// both maps consistent (roll back for all or nothing).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PBTreeMap, PString, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PBTreeMap<u64, PString>>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let v = tx.root_mut();
    ///     v.resize_with(2, PBTreeMap::new)?;
    ///     v.get_mut(0).unwrap().extend([(1, "a"), (2, "b")])?;
    ///     v.get_mut(1).unwrap().extend([(2, "B"), (3, "C")])?;
    ///     let mut both = v.iter_mut();
    ///     let (a, b) = (both.next().unwrap(), both.next().unwrap());
    ///     a.append(b)
    /// })?;
    /// pool.read(|v| {
    ///     assert_eq!(v[0].values().map(|s| s.as_str()).collect::<String>(), "aBC");
    ///     assert!(v[1].is_empty());
    /// })?;
    /// pool.check()?; // "b" and the second "2" were freed, nothing else
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn append(&mut self, other: &mut PBTreeMapMut<K, V>) -> Result<()> {
        if other.is_empty() {
            return Ok(());
        }
        let mut src = other.tree()?;
        let mut dst = self.tree()?;
        if !raw::same_pool(src.anchor(), dst.anchor()) {
            return Err(Error::CrossPool);
        }
        let (sh, dh) = (src.header(), dst.header());
        if dh.root == 0 && (sh.leaf_cap, sh.inner_cap) == (dh.leaf_cap, dh.inner_cap) {
            dst.update_header(|h| *h = sh);
            src.update_header(|h| {
                h.root = 0;
                h.len = 0;
                h.height = 0;
            });
            return Ok(());
        }
        let g = dst.geo;
        while let Some(from) = src.descend_end(Dir::First)? {
            // SAFETY: `from` is an entry of `other`; its bytes move into this map (whose
            // nodes are distinct: two exclusive views of one pool), then `other` forgets
            // them without dropping.
            unsafe {
                let (kp, vp) = (
                    src.geo.key(from.leaf, from.pos),
                    src.geo.val(from.leaf, from.pos),
                );
                match dst.descend(|k: &K| k.cmp(&*kp.cast::<K>()))? {
                    Some((to, true)) => {
                        let dv = g.val(to.leaf, to.pos);
                        V::free_owned(dv.cast())?;
                        raw::snapshot(dv, g.vs);
                        std::ptr::copy_nonoverlapping(vp, dv, g.vs);
                        K::free_owned(kp.cast())?;
                    }
                    found => dst.insert_bytes(found.map(|(p, _)| p), kp, vp)?,
                }
                src.remove_at(&from)?;
            }
        }
        Ok(())
    }

    /// Splits the map at `key`: the entries whose keys are at or above it are removed
    /// and answered as a `BTreeMap` (plain data: std answers them as a new map; a map
    /// in the pool cannot be handed out). For other types, see
    /// [`retain`](Self::retain) and [`append`](Self::append).
    ///
    /// Removes from the largest key down, each removal logged as one.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// let high = pool.tx(|tx| {
    ///     tx.root_mut().extend((0..5).map(|k| (k, k * 10)))?;
    ///     tx.root_mut().split_off(&3)
    /// })?;
    /// assert_eq!(high.into_iter().collect::<Vec<_>>(), [(3, 30), (4, 40)]);
    /// assert_eq!(pool.read(|m| m.len())?, 3);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn split_off<Q: ?Sized + Ord>(&mut self, key: &Q) -> Result<BTreeMap<K, V>>
    where
        K: Borrow<Q> + CopyOut,
        V: CopyOut,
    {
        let mut out = BTreeMap::new();
        while self
            .last_key_value()
            .is_some_and(|(k, _)| k.borrow() >= key)
        {
            match self.pop_last()? {
                Some((k, v)) => out.insert(k, v),
                None => break,
            };
        }
        Ok(out)
    }

    /// An iterator that removes the entries of `range` for which `pred` answers `true`
    /// and yields them in key order (plain data); `pred` may change the values it sees
    /// (each is snapshotted first). Lazy, like std's: entries the iterator has not
    /// reached when it is dropped stay. For other types, see [`retain`](Self::retain).
    ///
    /// # Panics
    /// Like [`range`](super::PBTreeMap::range), for a decreasing range.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// let out = pool.tx(|tx| {
    ///     tx.root_mut().extend((0..8).map(|k| (k, k)))?;
    ///     Ok::<_, pmem_core::Error>(tx.root_mut().extract_if(2.., |k, _| k % 2 == 0).collect::<Vec<_>>())
    /// })?;
    /// assert_eq!(out, [(2, 2), (4, 4), (6, 6)]);
    /// assert_eq!(pool.read(|m| m.keys().copied().collect::<Vec<_>>())?, [0, 1, 3, 5, 7]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn extract_if<Q, R, F>(&mut self, range: R, pred: F) -> ExtractIf<'_, K, V, R, F, Q>
    where
        K: Borrow<Q> + CopyOut,
        V: CopyOut,
        Q: ?Sized + Ord,
        R: RangeBounds<Q>,
        F: FnMut(&K, &mut V) -> bool,
    {
        ExtractIf {
            pass: Pass::new(self, &range),
            range,
            pred,
            _q: PhantomData,
        }
    }
}

impl<K, V, L, W> Extend<(L, W)> for PBTreeMapMut<K, V>
where
    K: Persistent + Ord + Borrow<L::Key>,
    V: Persistent,
    L: PKey<K>,
    L::Key: Ord,
    W: PInit<V>,
{
    /// Inserts every pair like the inherent [`extend`](PBTreeMapMut::extend), for code
    /// generic over [`Extend`]; the inherent method answers errors, use it.
    ///
    /// # Panics
    /// With "`pmem: PBTreeMap::extend failed: ...`" when an entry cannot be written (the
    /// pool is full); the panic rolls the transaction back.
    #[track_caller]
    fn extend<I: IntoIterator<Item = (L, W)>>(&mut self, iter: I) {
        if let Err(e) = PBTreeMapMut::extend(self, iter) {
            panic!("pmem: PBTreeMap::extend failed: {e}");
        }
    }
}

/// A pass over a range of a map that removes some entries as it goes (behind
/// [`ExtractIf`] and the set's): a position in the leaf chain, kept valid by the
/// removals themselves, which answer where the next entry went.
pub(crate) struct Pass<'a, K, V> {
    map: &'a mut PBTreeMapMut<K, V>,
    tree: Option<Tree>,
    at: Option<(*mut u8, usize)>,
}

impl<'a, K: Persistent + Ord, V: Persistent> Pass<'a, K, V> {
    /// A pass from the start of `range`.
    ///
    /// # Panics
    /// For a decreasing range, and with "pmem: corrupted pool" for a bad node.
    pub(crate) fn new<Q: ?Sized + Ord>(
        map: &'a mut PBTreeMapMut<K, V>,
        range: &impl RangeBounds<Q>,
    ) -> Self
    where
        K: Borrow<Q>,
    {
        let at = map.range_start(range).map(|c| (c.leaf, c.i));
        let tree = map.tree().ok();
        Pass { map, tree, at }
    }

    /// The next entry up to the end of `range` for which `take` answers `true`,
    /// removed from the map and copied out (plain data).
    ///
    /// # Panics
    /// With "pmem: corrupted pool" for a bad node.
    pub(crate) fn next<Q: ?Sized + Ord>(
        &mut self,
        range: &impl RangeBounds<Q>,
        mut take: impl FnMut(&K, *mut V) -> bool,
    ) -> Option<(K, V)>
    where
        K: Borrow<Q> + CopyOut,
        V: CopyOut,
    {
        let t = self.tree.as_mut()?;
        let g = t.geo;
        loop {
            let (mut leaf, mut i) = self.at?;
            // SAFETY: `(leaf, i)` is a position in a checked leaf of the exclusively
            // borrowed map: the start of the range, then past each kept entry or where
            // a removal said the next entry went.
            unsafe {
                if i >= node::len(leaf) {
                    let nx = node::next(leaf);
                    if nx == 0 {
                        self.at = None;
                        return None;
                    }
                    leaf = g
                        .node_at(leaf, nx, 0)
                        .unwrap_or_else(|e| panic_corrupted(&e));
                    i = 0;
                    self.at = Some((leaf, i));
                    continue;
                }
                let kp = g.key(leaf, i).cast::<K>();
                let past_end = match range.end_bound() {
                    Bound::Included(e) => (*kp).borrow() > e,
                    Bound::Excluded(e) => (*kp).borrow() >= e,
                    Bound::Unbounded => false,
                };
                if past_end {
                    self.at = None;
                    return None;
                }
                let vp = g.val(leaf, i).cast::<V>();
                if !take(&*kp, vp) {
                    self.at = Some((leaf, i + 1));
                    continue;
                }
                let out = (kp.read(), vp.read());
                let found = t
                    .descend(|k: &K| k.cmp(&out.0))
                    .unwrap_or_else(|e| panic_corrupted(&e));
                let Some((path, true)) = found else {
                    panic!(
                        "pmem: {}",
                        corrupted(
                            "PBTreeMap: a key in the leaf chain is not found from the root",
                            node::off(leaf),
                        )
                    );
                };
                let next = PBTreeMapMut::<K, V>::erase_at(t, &path)
                    .unwrap_or_else(|e| panic_corrupted(&e));
                self.at = (t.header().len > 0).then_some(next);
                return Some(out);
            }
        }
    }

    /// Entries left in the map (an upper bound on what the pass may yield).
    pub(crate) fn left(&self) -> usize {
        if self.at.is_some() {
            self.map.len()
        } else {
            0
        }
    }
}

view_iterator!(
    /// An iterator over the entries of a key range of a map, with each value's view.
    ///
    /// This `struct` is created by the [`range_mut`](PBTreeMapMut::range_mut) method on
    /// [`PBTreeMapMut`].
    RangeMut, exact: false
);

/// An iterator that removes the entries of a key range for which a predicate answers
/// `true`, and yields them in key order.
///
/// This `struct` is created by the [`extract_if`](PBTreeMapMut::extract_if) method on
/// [`PBTreeMapMut`].
pub struct ExtractIf<'a, K, V, R, F, Q: ?Sized = K> {
    pass: Pass<'a, K, V>,
    range: R,
    pred: F,
    _q: PhantomData<fn(&Q)>,
}

impl<K, V, R, F, Q> Iterator for ExtractIf<'_, K, V, R, F, Q>
where
    K: Persistent + Ord + Borrow<Q> + CopyOut,
    V: Persistent + CopyOut,
    Q: ?Sized + Ord,
    R: RangeBounds<Q>,
    F: FnMut(&K, &mut V) -> bool,
{
    type Item = (K, V);

    fn next(&mut self) -> Option<(K, V)> {
        let pred = &mut self.pred;
        // SAFETY: the pass hands out an initialised value of the exclusively borrowed
        // map, viewed (plain data: snapshotted, then `&mut`) while nothing else refers
        // to it.
        self.pass
            .next(&self.range, |k, v| pred(k, unsafe { V::view_mut(v) }))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.pass.left()))
    }
}

impl<K, V, R, F, Q> FusedIterator for ExtractIf<'_, K, V, R, F, Q>
where
    K: Persistent + Ord + Borrow<Q> + CopyOut,
    V: Persistent + CopyOut,
    Q: ?Sized + Ord,
    R: RangeBounds<Q>,
    F: FnMut(&K, &mut V) -> bool,
{
}
