//! `PBTreeMapMut<K, V>`: the view a transaction hands out to change a `PBTreeMap`.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use pmem_core::{raw, PInit, Persistent, Result, ViewTail};

use crate::vec::replace_in_place;
use crate::{CopyOut, PKey};

use super::entry::{Entry, OccupiedEntry, VacantEntry};
use super::iter::{IterMut, ValuesMut};
use super::map::{free_all, PBTreeMap};
use super::node::{self, corrupted, panic_corrupted};
use super::tree::{Dir, Header, Path, Tree};

/// The view of a [`PBTreeMap`] inside a transaction: every change goes through its
/// methods, which snapshot exactly the bytes they change. Reads are available through
/// `Deref<Target = PBTreeMap<K, V>>`.
///
/// Owned pool data never leaves the pool: methods that hand back old keys or values
/// ([`insert`](Self::insert), [`remove`](Self::remove), [`pop_first`](Self::pop_first)...)
/// exist only for plain data ([`CopyOut`]); for others, [`set`](Self::set) and
/// [`remove_with`](Self::remove_with) drop what the old entry owned instead.
pub struct PBTreeMapMut<K, V> {
    _m: PhantomData<(K, V)>,
    _tail: ViewTail,
}

impl<K, V> Deref for PBTreeMapMut<K, V> {
    type Target = PBTreeMap<K, V>;

    fn deref(&self) -> &PBTreeMap<K, V> {
        // SAFETY: a view lies over a valid map.
        unsafe { &*std::ptr::from_ref(self).cast::<PBTreeMap<K, V>>() }
    }
}

impl<'a, K: Persistent + Ord, V: Persistent> IntoIterator for &'a mut PBTreeMapMut<K, V> {
    type Item = (&'a K, &'a mut V::View);
    type IntoIter = IterMut<'a, K, V>;

    fn into_iter(self) -> IterMut<'a, K, V> {
        self.iter_mut()
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for PBTreeMapMut<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Compares a stored key with an insert argument in its borrowed form.
fn cmp_q<K, L>(k: &K, q: &L) -> Ordering
where
    K: Persistent + Borrow<L::Key>,
    L: PKey<K>,
    L::Key: Ord,
{
    k.borrow().cmp(q.key())
}

impl<K: Persistent + Ord, V: Persistent> PBTreeMapMut<K, V> {
    pub(crate) fn tree(&mut self) -> Result<Tree> {
        let hdr = std::ptr::from_mut(self).cast::<Header>();
        // SAFETY: the view lies over a map in a pool whose transaction is open on this
        // thread (views exist only inside transactions), borrowed exclusively.
        unsafe { Tree::new(hdr, PBTreeMap::<K, V>::ELEMS) }
    }

    /// Writes a new entry for a key the descent did not find (`path` is `None` when the
    /// tree is empty) and answers where it is. An error leaves the tree as it was: room
    /// is made only once key and value are built, and a root leaf allocated for them
    /// is given back.
    ///
    /// # Safety
    /// - `path` came from a descent on `t` that did not find the key, unchanged since.
    pub(crate) unsafe fn insert_new(
        t: &mut Tree,
        path: Option<Path>,
        key: impl PInit<K>,
        value: impl PInit<V>,
    ) -> Result<(*mut u8, usize)> {
        // SAFETY: the caller's contract; every branch builds the entry where nothing
        // counts it yet.
        unsafe {
            match path {
                None => {
                    let leaf = t.make_root()?;
                    if let Err(e) = Self::init_slot(t, leaf, 0, key, value) {
                        // The leaf was allocated for this entry alone.
                        let _ = t.geo.free_node(leaf, 0);
                        t.update_header(|h| h.root = 0);
                        return Err(e);
                    }
                    Ok((leaf, 0))
                }
                Some(path) if node::len(path.leaf) < t.geo.leaf_cap => {
                    Self::init_slot(t, path.leaf, path.pos, key, value)?;
                    Ok((path.leaf, path.pos))
                }
                Some(path) => Self::insert_full(t, path, key, value),
            }
        }
    }

    /// Initialises key and value in the spare slot of `leaf` and moves them to `pos`.
    /// An error leaves the leaf as it was.
    ///
    /// # Safety
    /// - `leaf` is a checked leaf of `t` with a spare slot and `pos <= len`, and the new
    ///   key belongs at `pos`.
    unsafe fn init_slot(
        t: &mut Tree,
        leaf: *mut u8,
        pos: usize,
        key: impl PInit<K>,
        value: impl PInit<V>,
    ) -> Result<()> {
        let g = t.geo;
        // SAFETY: the spare slot `len < cap` is inside the leaf; it is snapshotted
        // before it is initialised and counted only once both parts are.
        unsafe {
            let n = node::len(leaf);
            let (kp, vp) = (g.key(leaf, n), g.val(leaf, n));
            // The spare slot and the range the rotation moves, logged once each.
            raw::snapshot(g.key(leaf, pos), (n + 1 - pos) * g.ks);
            raw::snapshot(g.val(leaf, pos), (n + 1 - pos) * g.vs);
            key.init(kp.cast())?;
            if let Err(e) = value.init(vp.cast()) {
                let _ = K::free_owned(kp.cast());
                return Err(e);
            }
            t.finish_insert(leaf, pos);
        }
        Ok(())
    }

    /// [`insert_new`](Self::insert_new) into a full leaf: key and value are built in a
    /// scratch allocation first, then room is made (which allocates every node it
    /// needs before it changes anything), then the entry's bytes move into place.
    ///
    /// # Safety
    /// - as for [`insert_new`](Self::insert_new), with `path.leaf` full.
    unsafe fn insert_full(
        t: &mut Tree,
        mut path: Path,
        key: impl PInit<K>,
        value: impl PInit<V>,
    ) -> Result<(*mut u8, usize)> {
        let g = t.geo;
        let voff = g.ks.next_multiple_of(align_of::<V>());
        let size = (voff + g.vs).max(1);
        let align = align_of::<K>().max(align_of::<V>());
        // SAFETY: the scratch allocation is fresh pool memory of this tree's pool,
        // declared before it is written; the entry built in it is either moved into
        // the leaf (the scratch then owns nothing) or dropped again, and the scratch is
        // given back at once (`free_fresh`), so that a bulk transaction reuses one
        // scratch slot instead of leaving one per full-leaf insert in the heap.
        unsafe {
            let s = raw::alloc(t.anchor(), size, align)?;
            raw::snapshot(s, size);
            let (kp, vp) = (s.cast::<K>(), s.add(voff).cast::<V>());
            if let Err(e) = key.init(kp) {
                let _ = raw::free_fresh(s, size);
                return Err(e);
            }
            if let Err(e) = value.init(vp) {
                let _ = K::free_owned(kp);
                let _ = raw::free_fresh(s, size);
                return Err(e);
            }
            let (leaf, pos) = match t.make_room(&mut path) {
                Ok(at) => at,
                Err(e) => {
                    let _ = K::free_owned(kp);
                    let _ = V::free_owned(vp);
                    let _ = raw::free_fresh(s, size);
                    return Err(e);
                }
            };
            let n = node::len(leaf);
            raw::snapshot(g.key(leaf, pos), (n + 1 - pos) * g.ks);
            raw::snapshot(g.val(leaf, pos), (n + 1 - pos) * g.vs);
            std::ptr::copy_nonoverlapping(s, g.key(leaf, n), g.ks);
            std::ptr::copy_nonoverlapping(s.add(voff), g.val(leaf, n), g.vs);
            t.finish_insert(leaf, pos);
            raw::free_fresh(s, size)?;
            Ok((leaf, pos))
        }
    }

    /// Inserts or, for a present key, calls `present` on the value's address.
    fn upsert<L, W, R>(
        &mut self,
        key: L,
        value: W,
        present: impl FnOnce(*mut V, W) -> Result<R>,
        absent: R,
    ) -> Result<R>
    where
        L: PKey<K>,
        L::Key: Ord,
        W: PInit<V>,
        K: Borrow<L::Key>,
    {
        let mut t = self.tree()?;
        // SAFETY: the tree holds valid keys; positions come from the descent.
        unsafe {
            match t.descend(|k: &K| cmp_q(k, &key))? {
                Some((path, true)) => present(t.geo.val(path.leaf, path.pos).cast(), value),
                found => {
                    Self::insert_new(&mut t, found.map(|(p, _)| p), key, value)?;
                    Ok(absent)
                }
            }
        }
    }

    /// Inserts `value` for `key`; answers the old value if the key was present (the
    /// stored key is kept, as in std).
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     assert_eq!(m.insert(1, 10)?, None);
    ///     assert_eq!(m.insert(1, 11)?, Some(10));
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|m| m.get(&1).copied())?, Some(11));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn insert<L: PKey<K>>(&mut self, key: L, value: impl PInit<V>) -> Result<Option<V>>
    where
        K: Borrow<L::Key>,
        L::Key: Ord,
        V: CopyOut,
    {
        self.upsert(
            key,
            value,
            |vp, value| {
                // SAFETY: `vp` is an initialised value in the tree; plain data is copied
                // out, snapshotted, then overwritten (and restored if that fails).
                unsafe {
                    let old = std::ptr::read(vp);
                    raw::snapshot_value(vp);
                    if let Err(e) = value.init(vp) {
                        vp.write(old);
                        return Err(e);
                    }
                    Ok(Some(old))
                }
            },
            None,
        )
    }

    /// Inserts `value` for `key`, or overwrites the present value, dropping it (freeing
    /// what it owned). Answers `true` when the key was new, like
    /// [`PBTreeSetMut::insert`](crate::PBTreeSetMut::insert). Works for every value
    /// type; [`insert`](Self::insert) also hands back plain old values.
    ///
    /// An overwrite builds the new value before dropping the old one, so an error
    /// leaves the entry unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::{PBTreeMap, PString};
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, PString>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     assert!(m.set(1, "ada")?);
    ///     assert!(!m.set(1, "bob")?); // frees "ada"
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|m| m[&1].to_string())?, "bob");
    /// pool.check()?; // nothing leaked
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn set<L: PKey<K>>(&mut self, key: L, value: impl PInit<V>) -> Result<bool>
    where
        K: Borrow<L::Key>,
        L::Key: Ord,
    {
        self.upsert(
            key,
            value,
            |vp, value| {
                // SAFETY: `vp` is an initialised value in the tree, borrowed exclusively
                // through `self`.
                unsafe { replace_in_place(vp, value)? };
                Ok(false)
            },
            true,
        )
    }

    /// The view of the value for `key`, to change it in place.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.insert(1, 10)?;
    ///     *m.get_mut(&1).unwrap() += 5;
    ///     assert!(m.get_mut(&2).is_none());
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|m| m.get(&1).copied())?, Some(15));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn get_mut<Q: ?Sized + Ord>(&mut self, key: &Q) -> Option<&mut V::View>
    where
        K: Borrow<Q>,
    {
        let geo = self.geo();
        let Some((leaf, Ok(i))) = self.find_by(&geo, |k| k.borrow().cmp(key)) else {
            return None;
        };
        // SAFETY: an initialised value of this map, borrowed exclusively with `self`.
        Some(unsafe { V::view_mut(geo.val(leaf, i).cast()) })
    }

    /// An iterator over the entries with each value's view, in key order
    /// (double-ended). For plain values each view snapshots its value as it is handed
    /// out.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.extend([(1, 10), (2, 20)])?;
    ///     for (k, v) in m.iter_mut() {
    ///         *v += k;
    ///     }
    ///     assert_eq!(m.get(&2), Some(&22));
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        IterMut {
            raw: self.raw_iter(),
            _m: PhantomData,
        }
    }

    /// An iterator over the views of the values, in key order (double-ended).
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.extend([(1, 10), (2, 20)])?;
    ///     m.values_mut().rev().for_each(|v| *v = 0);
    ///     assert_eq!(m.values().sum::<u64>(), 0);
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn values_mut(&mut self) -> ValuesMut<'_, K, V> {
        ValuesMut {
            inner: self.iter_mut(),
        }
    }

    /// Descends to `key` for a removal.
    fn find_path<Q: ?Sized + Ord>(&mut self, key: &Q) -> Result<Option<(Tree, Path)>>
    where
        K: Borrow<Q>,
    {
        let t = self.tree()?;
        // SAFETY: the tree holds valid keys.
        match unsafe { t.descend(|k: &K| k.borrow().cmp(key))? } {
            Some((path, true)) => Ok(Some((t, path))),
            _ => Ok(None),
        }
    }

    /// Removes `key`; answers its value if it was present.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.insert(1, 10)?;
    ///     assert_eq!(m.remove(&1)?, Some(10));
    ///     assert_eq!(m.remove(&1)?, None);
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn remove<Q: ?Sized + Ord>(&mut self, key: &Q) -> Result<Option<V>>
    where
        K: Borrow<Q>,
        V: CopyOut,
    {
        self.remove_with(key, |_, v| *v)
    }

    /// Removes `key`; answers the stored key and the value if it was present.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.insert(1, 10)?;
    ///     assert_eq!(m.remove_entry(&1)?, Some((1, 10)));
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn remove_entry<Q: ?Sized + Ord>(&mut self, key: &Q) -> Result<Option<(K, V)>>
    where
        K: Borrow<Q> + CopyOut,
        V: CopyOut,
    {
        self.remove_with(key, |k, v| (*k, *v))
    }

    /// Removes the entry for `key`, dropping key and value (freeing what they owned)
    /// after `f` has seen them. Answers `f`'s result, or `None` if the key is absent.
    /// Works for every key and value type.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::{PBTreeMap, PString};
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, PString>>::volatile()?;
    /// let empty_pool = pool.check()?.allocations;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.set(1, "ada")?;
    ///     assert_eq!(m.remove_with(&1, |_, v| v.len())?, Some(3));
    ///     assert_eq!(m.remove_with(&1, |_, v| v.len())?, None);
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.check()?.allocations, empty_pool); // string and leaf freed
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn remove_with<Q: ?Sized + Ord, R>(
        &mut self,
        key: &Q,
        f: impl FnOnce(&K, &V) -> R,
    ) -> Result<Option<R>>
    where
        K: Borrow<Q>,
    {
        let Some((mut t, path)) = self.find_path(key)? else {
            return Ok(None);
        };
        // SAFETY: the path was just found in `t`, which nothing changed since.
        unsafe { Self::read_then_erase(&mut t, &path, f).map(Some) }
    }

    /// Lets `f` read the entry at `path`, then frees what it owns and removes it.
    ///
    /// # Safety
    /// - as for [`erase_at`](Self::erase_at).
    unsafe fn read_then_erase<R>(
        t: &mut Tree,
        path: &Path,
        f: impl FnOnce(&K, &V) -> R,
    ) -> Result<R> {
        // SAFETY: the path points at an initialised entry (caller's contract), read by
        // `f` before it is dropped.
        unsafe {
            let r = f(
                &*t.geo.key(path.leaf, path.pos).cast::<K>(),
                &*t.geo.val(path.leaf, path.pos).cast::<V>(),
            );
            Self::erase_at(t, path)?;
            Ok(r)
        }
    }

    /// Frees what the entry at `path` owns and removes it.
    ///
    /// # Safety
    /// - `path` points at an entry of `t`, unchanged since the descent.
    pub(crate) unsafe fn erase_at(t: &mut Tree, path: &Path) -> Result<(*mut u8, usize)> {
        // SAFETY: caller's contract.
        unsafe {
            K::free_owned(t.geo.key(path.leaf, path.pos).cast())?;
            V::free_owned(t.geo.val(path.leaf, path.pos).cast())?;
            t.remove_at(path)
        }
    }

    /// The entry for `key`, to insert or change it in place.
    ///
    /// # Panics
    /// With "pmem: corrupted pool: ..." when a node on the way is corrupted.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     for word in [3, 1, 3, 3] {
    ///         *m.entry(word).or_insert(0)? += 1;
    ///     }
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|m| (m.get(&3).copied(), m.get(&1).copied()))?, (Some(3), Some(1)));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn entry<L: PKey<K>>(&mut self, key: L) -> Entry<'_, K, V, L>
    where
        K: Borrow<L::Key>,
        L::Key: Ord,
    {
        let t = self.tree().unwrap_or_else(|e| panic_corrupted(&e));
        // SAFETY: the tree holds valid keys.
        let found =
            unsafe { t.descend(|k: &K| cmp_q(k, &key)) }.unwrap_or_else(|e| panic_corrupted(&e));
        match found {
            Some((path, true)) => Entry::Occupied(OccupiedEntry { map: self, path }),
            Some((path, false)) => Entry::Vacant(VacantEntry {
                map: self,
                key,
                path: Some(path),
            }),
            None => Entry::Vacant(VacantEntry {
                map: self,
                key,
                path: None,
            }),
        }
    }

    /// The entry with the smallest key, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.extend([(1, 10), (2, 20)])?;
    ///     m.first_entry().unwrap().remove_with(|_, _| ())?;
    ///     assert_eq!(m.first_key_value(), Some((&2, &20)));
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn first_entry(&mut self) -> Option<OccupiedEntry<'_, K, V>> {
        self.end_entry(Dir::First)
    }

    /// The entry with the largest key, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.extend([(1, 10), (2, 20)])?;
    ///     *m.last_entry().unwrap().get_mut() += 1;
    ///     assert_eq!(m.last_key_value(), Some((&2, &21)));
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn last_entry(&mut self) -> Option<OccupiedEntry<'_, K, V>> {
        self.end_entry(Dir::Last)
    }

    fn end_entry(&mut self, dir: Dir) -> Option<OccupiedEntry<'_, K, V>> {
        let t = self.tree().unwrap_or_else(|e| panic_corrupted(&e));
        let path = t.descend_end(dir).unwrap_or_else(|e| panic_corrupted(&e))?;
        Some(OccupiedEntry { map: self, path })
    }

    /// Removes and answers the entry with the smallest key.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.extend([(1, 10), (2, 20)])?;
    ///     assert_eq!(m.pop_first()?, Some((1, 10)));
    ///     assert_eq!(m.pop_first()?, Some((2, 20)));
    ///     assert_eq!(m.pop_first()?, None);
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn pop_first(&mut self) -> Result<Option<(K, V)>>
    where
        K: CopyOut,
        V: CopyOut,
    {
        self.pop(Dir::First)
    }

    /// Removes and answers the entry with the largest key.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.extend([(1, 10), (2, 20)])?;
    ///     assert_eq!(m.pop_last()?, Some((2, 20)));
    ///     assert_eq!(m.len(), 1);
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn pop_last(&mut self) -> Result<Option<(K, V)>>
    where
        K: CopyOut,
        V: CopyOut,
    {
        self.pop(Dir::Last)
    }

    /// Removes the entry with the smallest key, dropping key and value (freeing what
    /// they owned) after `f` has seen them. Answers `f`'s result, or `None` if the map
    /// is empty. Works for every key and value type.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::{PBTreeMap, PString};
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, PString>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.extend([(2, "b"), (1, "a")])?;
    ///     assert_eq!(m.pop_first_with(|k, v| format!("{k}{v}"))?.as_deref(), Some("1a"));
    ///     assert_eq!(m.len(), 1);
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// pool.check()?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn pop_first_with<R>(&mut self, f: impl FnOnce(&K, &V) -> R) -> Result<Option<R>> {
        self.pop_with(Dir::First, f)
    }

    /// Removes the entry with the largest key, dropping key and value (freeing what
    /// they owned) after `f` has seen them. Answers `f`'s result, or `None` if the map
    /// is empty. Works for every key and value type.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::{PBTreeMap, PString};
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, PString>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.extend([(2, "b"), (1, "a")])?;
    ///     assert_eq!(m.pop_last_with(|k, v| format!("{k}{v}"))?.as_deref(), Some("2b"));
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn pop_last_with<R>(&mut self, f: impl FnOnce(&K, &V) -> R) -> Result<Option<R>> {
        self.pop_with(Dir::Last, f)
    }

    fn pop_with<R>(&mut self, dir: Dir, f: impl FnOnce(&K, &V) -> R) -> Result<Option<R>> {
        let mut t = self.tree()?;
        let Some(path) = t.descend_end(dir)? else {
            return Ok(None);
        };
        // SAFETY: the path was just found in `t`, which nothing changed since.
        unsafe { Self::read_then_erase(&mut t, &path, f).map(Some) }
    }

    fn pop(&mut self, dir: Dir) -> Result<Option<(K, V)>>
    where
        K: CopyOut,
        V: CopyOut,
    {
        self.pop_with(dir, |k, v| (*k, *v))
    }

    /// Keeps only the entries for which `f` answers `true`, freeing the others. `f`
    /// sees the entries in key order and gets each value's view (for plain values the
    /// view snapshots the value, so a predicate that only reads still logs it; see
    /// [`retain_ref`](Self::retain_ref)).
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.extend((0..10).map(|k| (k, k)))?;
    ///     m.retain(|k, v| {
    ///         *v += 100;
    ///         k % 3 == 0
    ///     })?;
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|m| m.values().copied().collect::<Vec<_>>())?, [100, 103, 106, 109]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn retain(&mut self, mut f: impl FnMut(&K, &mut V::View) -> bool) -> Result<()> {
        // SAFETY: each value is handed out once, while nothing else refers to it.
        self.retain_raw(|k, v| f(k, unsafe { V::view_mut(v) }))
    }

    /// [`retain`](Self::retain) with a predicate that only reads: nothing is logged
    /// for the entries it keeps.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.extend((0..10).map(|k| (k, k * 2)))?;
    ///     m.retain_ref(|_, v| *v >= 10)
    /// })?;
    /// assert_eq!(pool.read(|m| m.keys().copied().collect::<Vec<_>>())?, [5, 6, 7, 8, 9]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn retain_ref(&mut self, mut f: impl FnMut(&K, &V) -> bool) -> Result<()> {
        // SAFETY: an initialised value, read while nothing changes it.
        self.retain_raw(|k, v| f(k, unsafe { &*v }))
    }

    pub(crate) fn retain_raw(&mut self, mut f: impl FnMut(&K, *mut V) -> bool) -> Result<()> {
        let mut t = self.tree()?;
        let Some(first) = t.descend_end(Dir::First)? else {
            return Ok(());
        };
        let g = t.geo;
        let (mut leaf, mut i) = (first.leaf, 0);
        // SAFETY: `(leaf, i)` is always a position in a checked leaf of the tree:
        // removals answer where the next entry went.
        unsafe {
            loop {
                if i >= node::len(leaf) {
                    let nx = node::next(leaf);
                    if nx == 0 {
                        return Ok(());
                    }
                    leaf = g.node_at(leaf, nx, 0)?;
                    i = 0;
                    continue;
                }
                let kp = g.key(leaf, i).cast::<K>();
                if f(&*kp, g.val(leaf, i).cast()) {
                    i += 1;
                    continue;
                }
                let found = t.descend(|k: &K| k.cmp(&*kp))?;
                let Some((path, true)) = found else {
                    return Err(corrupted(
                        "PBTreeMap: a key in the leaf chain is not found from the root",
                        node::off(leaf),
                    ));
                };
                (leaf, i) = Self::erase_at(&mut t, &path)?;
                if t.header().len == 0 {
                    return Ok(());
                }
            }
        }
    }

    /// Removes every entry, freeing the nodes and what the entries owned.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.extend((0..1000).map(|k| (k, k)))?;
    ///     m.clear()
    /// })?;
    /// assert!(pool.read(|m| m.is_empty())?);
    /// assert_eq!(pool.check()?.allocations, 1); // only the root is left
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn clear(&mut self) -> Result<()> {
        let mut t = self.tree()?;
        // SAFETY: the tree's entries are `K`/`V`; the header is reset below.
        unsafe { free_all::<K, V>(&t)? };
        t.update_header(|h| {
            h.root = 0;
            h.len = 0;
            h.height = 0;
        });
        Ok(())
    }

    /// Inserts every pair of `iter` (like [`set`](Self::set): later values replace
    /// earlier ones and free what they owned).
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([(1, 10), (2, 20), (1, 11)]))?;
    /// assert_eq!(pool.read(|m| m.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>())?, [(1, 11), (2, 20)]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn extend<Q, W, I>(&mut self, iter: I) -> Result<()>
    where
        I: IntoIterator<Item = (Q, W)>,
        Q: PKey<K>,
        Q::Key: Ord,
        W: PInit<V>,
        K: Borrow<Q::Key>,
    {
        for (k, v) in iter {
            self.set(k, v)?;
        }
        Ok(())
    }
}
