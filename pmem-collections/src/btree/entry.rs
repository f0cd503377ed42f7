//! The entry API of `PBTreeMapMut`: one descent, then insert or change in place.

use std::fmt;

use pmem_core::{raw, PInit, Persistent, Result};

use crate::vec::replace_in_place;
use crate::{CopyOut, PKey};

use super::map_mut::PBTreeMapMut;
use super::tree::Path;

/// A view into one entry of a map, vacant or occupied.
///
/// This `enum` is created by the [`entry`](PBTreeMapMut::entry) method on
/// [`PBTreeMapMut`]. `Q` is the type the key was given as (`K` itself, or anything
/// that initialises a `K`).
pub enum Entry<'a, K: Persistent + Ord, V: Persistent, Q = K> {
    /// The key is absent.
    Vacant(VacantEntry<'a, K, V, Q>),
    /// The key is present.
    Occupied(OccupiedEntry<'a, K, V>),
}

/// A vacant entry: the key is absent. Part of [`Entry`].
pub struct VacantEntry<'a, K: Persistent + Ord, V: Persistent, Q = K> {
    pub(crate) map: &'a mut PBTreeMapMut<K, V>,
    pub(crate) key: Q,
    /// The path to the insertion point; `None` when the map is empty.
    pub(crate) path: Option<Path>,
}

/// An occupied entry: the key is present. Part of [`Entry`], and answered by
/// [`first_entry`](PBTreeMapMut::first_entry) and
/// [`last_entry`](PBTreeMapMut::last_entry).
pub struct OccupiedEntry<'a, K: Persistent + Ord, V: Persistent> {
    pub(crate) map: &'a mut PBTreeMapMut<K, V>,
    pub(crate) path: Path,
}

impl<'a, K: Persistent + Ord, V: Persistent, Q: PKey<K>> Entry<'a, K, V, Q> {
    /// The value's view, inserting `default` first if the key is absent.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     *m.entry(1).or_insert(10)? += 1;
    ///     *m.entry(1).or_insert(10)? += 1;
    ///     assert_eq!(m.get(&1), Some(&12));
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn or_insert(self, default: impl PInit<V>) -> Result<&'a mut V::View> {
        match self {
            Entry::Occupied(o) => Ok(o.into_mut()),
            Entry::Vacant(v) => v.insert(default),
        }
    }

    /// The value's view, inserting the result of `default` first if the key is absent.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     assert_eq!(*m.entry(1).or_insert_with(|| 7)?, 7);
    ///     assert_eq!(*m.entry(1).or_insert_with(|| -> u64 { unreachable!() })?, 7);
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn or_insert_with<W: PInit<V>>(
        self,
        default: impl FnOnce() -> W,
    ) -> Result<&'a mut V::View> {
        match self {
            Entry::Occupied(o) => Ok(o.into_mut()),
            Entry::Vacant(v) => v.insert(default()),
        }
    }

    /// The value's view, inserting `V::default()` first if the key is absent.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     *m.entry(4).or_default()? += 2;
    ///     assert_eq!(m.get(&4), Some(&2));
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn or_default(self) -> Result<&'a mut V::View>
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }

    /// Calls `f` on the value's view if the key is present; answers the entry.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.entry(1).and_modify(|v| *v += 1).or_insert(10)?;
    ///     m.entry(1).and_modify(|v| *v += 1).or_insert(10)?;
    ///     assert_eq!(m.get(&1), Some(&11));
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[must_use]
    pub fn and_modify(mut self, f: impl FnOnce(&mut V::View)) -> Self {
        if let Entry::Occupied(o) = &mut self {
            f(o.get_mut());
        }
        self
    }
}

impl<Key: Persistent + Ord, V: Persistent> Entry<'_, Key, V, Key> {
    /// The entry's key.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     assert_eq!(*tx.root_mut().entry(3).key(), 3);
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn key(&self) -> &Key {
        match self {
            Entry::Occupied(o) => o.key(),
            Entry::Vacant(v) => v.key(),
        }
    }
}

impl<'a, K: Persistent + Ord, V: Persistent, Q: PKey<K>> VacantEntry<'a, K, V, Q> {
    /// The key as it was given.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::{btree_map::Entry, PBTreeMap};
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     if let Entry::Vacant(v) = tx.root_mut().entry(3) {
    ///         assert_eq!(*v.key(), 3);
    ///     }
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn key(&self) -> &Q {
        &self.key
    }

    /// Takes the key back without inserting.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::{btree_map::Entry, PBTreeMap};
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     if let Entry::Vacant(v) = tx.root_mut().entry(3) {
    ///         assert_eq!(v.into_key(), 3);
    ///     }
    ///     assert!(tx.root().is_empty());
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn into_key(self) -> Q {
        self.key
    }

    /// Inserts the key with `value`; answers the value's view.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::{btree_map::Entry, PBTreeMap};
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     if let Entry::Vacant(v) = tx.root_mut().entry(3) {
    ///         *v.insert(30)? += 1;
    ///     }
    ///     assert_eq!(tx.root().get(&3), Some(&31));
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn insert(self, value: impl PInit<V>) -> Result<&'a mut V::View> {
        let mut t = self.map.tree()?;
        // SAFETY: the path (if any) is the descent made for this entry; the map is
        // borrowed exclusively since, so it is unchanged.
        unsafe {
            let (leaf, pos) = PBTreeMapMut::<K, V>::insert_new(&mut t, self.path, self.key, value)?;
            Ok(V::view_mut(t.geo.val(leaf, pos).cast()))
        }
    }
}

impl<'a, K: Persistent + Ord, V: Persistent> OccupiedEntry<'a, K, V> {
    fn key_ptr(&self) -> *mut K {
        let g = self.map.geo();
        // SAFETY: the path points at an initialised entry of the borrowed map.
        unsafe { g.key(self.path.leaf, self.path.pos).cast() }
    }

    fn val_ptr(&self) -> *mut V {
        let g = self.map.geo();
        // SAFETY: as in `key_ptr`.
        unsafe { g.val(self.path.leaf, self.path.pos).cast() }
    }

    /// The stored key.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.insert(5, 50)?;
    ///     assert_eq!(*m.first_entry().unwrap().key(), 5);
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn key(&self) -> &K {
        // SAFETY: an initialised key, borrowed with the entry.
        unsafe { &*self.key_ptr() }
    }

    /// The value.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.insert(5, 50)?;
    ///     assert_eq!(*m.first_entry().unwrap().get(), 50);
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn get(&self) -> &V {
        // SAFETY: an initialised value, borrowed with the entry.
        unsafe { &*self.val_ptr() }
    }

    /// The value's view.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.insert(5, 50)?;
    ///     *m.first_entry().unwrap().get_mut() = 51;
    ///     assert_eq!(m.get(&5), Some(&51));
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn get_mut(&mut self) -> &mut V::View {
        // SAFETY: an initialised value, borrowed exclusively with the entry.
        unsafe { V::view_mut(self.val_ptr()) }
    }

    /// The value's view, for the life of the map borrow.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.insert(5, 50)?;
    ///     let v = m.first_entry().unwrap().into_mut();
    ///     *v += 1;
    ///     assert_eq!(m.get(&5), Some(&51));
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn into_mut(self) -> &'a mut V::View {
        // SAFETY: an initialised value, borrowed exclusively for 'a through the map.
        unsafe { V::view_mut(self.val_ptr()) }
    }

    /// Replaces the value, answering the old one.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::{btree_map::Entry, PBTreeMap};
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.insert(5, 50)?;
    ///     if let Entry::Occupied(mut o) = m.entry(5) {
    ///         assert_eq!(o.insert(55)?, 50);
    ///     }
    ///     assert_eq!(m.get(&5), Some(&55));
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn insert(&mut self, value: impl PInit<V>) -> Result<V>
    where
        V: CopyOut,
    {
        let p = self.val_ptr();
        // SAFETY: plain data: copied out, snapshotted, overwritten (and restored if
        // that fails).
        unsafe {
            let old = std::ptr::read(p);
            raw::snapshot_value(p);
            if let Err(e) = value.init(p) {
                p.write(old);
                return Err(e);
            }
            Ok(old)
        }
    }

    /// Replaces the value, dropping the old one (freeing what it owned). The new value
    /// is built first, so an error leaves the entry unchanged. Works for every value
    /// type.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::{btree_map::Entry, PBTreeMap, PString};
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, PString>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.set(5, "old")?;
    ///     if let Entry::Occupied(mut o) = m.entry(5) {
    ///         o.set("new")?;
    ///     }
    ///     assert_eq!(m[&5], "new");
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// pool.check()?; // "old" was freed
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn set(&mut self, value: impl PInit<V>) -> Result<()> {
        let p = self.val_ptr();
        // SAFETY: an initialised value, borrowed exclusively through `self`.
        unsafe { replace_in_place(p, value) }
    }

    /// Removes the entry, answering its value.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.insert(5, 50)?;
    ///     assert_eq!(m.last_entry().unwrap().remove()?, 50);
    ///     assert!(m.is_empty());
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn remove(self) -> Result<V>
    where
        V: CopyOut,
    {
        self.remove_with(|_, v| *v)
    }

    /// Removes the entry, answering its key and value.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.insert(5, 50)?;
    ///     assert_eq!(m.first_entry().unwrap().remove_entry()?, (5, 50));
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn remove_entry(self) -> Result<(K, V)>
    where
        K: CopyOut,
        V: CopyOut,
    {
        self.remove_with(|k, v| (*k, *v))
    }

    /// Removes the entry, dropping key and value (freeing what they owned) after `f`
    /// has seen them; answers `f`'s result. Works for every key and value type.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::{PBTreeMap, PString};
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, PString>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let m = tx.root_mut();
    ///     m.extend([(5, "five"), (6, "six")])?;
    ///     let s = m.first_entry().unwrap().remove_with(|k, v| format!("{k}={v}"))?;
    ///     assert_eq!(s, "5=five");
    ///     assert_eq!(m.len(), 1);
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// pool.check()?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn remove_with<R>(self, f: impl FnOnce(&K, &V) -> R) -> Result<R> {
        let r = f(self.key(), self.get());
        let mut t = self.map.tree()?;
        // SAFETY: the path points at an entry of the exclusively borrowed map.
        unsafe { PBTreeMapMut::<K, V>::erase_at(&mut t, &self.path)? };
        Ok(r)
    }
}

impl<K: Persistent + Ord + fmt::Debug, V: Persistent + fmt::Debug, Q: fmt::Debug> fmt::Debug
    for Entry<'_, K, V, Q>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Vacant(v) => f.debug_tuple("Entry::Vacant").field(&v.key).finish(),
            Entry::Occupied(o) => f
                .debug_tuple("Entry::Occupied")
                .field(o.key())
                .field(o.get())
                .finish(),
        }
    }
}
