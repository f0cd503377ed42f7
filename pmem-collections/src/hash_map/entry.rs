//! The entry API of [`PHashMapMut`]: in-place insert-or-update.

use std::borrow::Borrow;
use std::hash::Hash;
use std::ptr;

use pmem_core::{PInit, Persistent, Result};

use super::key::PKey;
use super::map::Bucket;
use super::raw::Table;
use super::view::PHashMapMut;
use crate::vec::replace_in_place;
use crate::CopyOut;

/// A view into one entry of a map, present or absent.
///
/// This `enum` is created by the [`entry`](PHashMapMut::entry) method on [`PHashMapMut`].
/// `L` is what the key was given as (a `&str` for a `PString` key); it is written into
/// the pool only if the entry is vacant and a value is inserted.
pub enum Entry<'a, K, V, L = K> {
    /// The key is present.
    Occupied(OccupiedEntry<'a, K, V>),
    /// The key is absent.
    Vacant(VacantEntry<'a, K, V, L>),
}

/// A present entry of a map; part of [`Entry`].
pub struct OccupiedEntry<'a, K, V> {
    pub(crate) map: &'a mut PHashMapMut<K, V>,
    pub(crate) index: usize,
}

/// An absent entry of a map; part of [`Entry`].
pub struct VacantEntry<'a, K, V, L> {
    pub(crate) map: &'a mut PHashMapMut<K, V>,
    pub(crate) key: L,
}

impl<'a, K, V, L> Entry<'a, K, V, L>
where
    K: Persistent + Hash + Eq + Borrow<L::Key>,
    V: Persistent,
    L: PKey<K>,
    L::Key: Hash + Eq,
{
    /// The value's view, inserting `default` first if the entry is vacant.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PHashMap, PString};
    /// let mut pool = pmem_core::Pool::<PHashMap<PString, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     *tx.root_mut().entry("ada").or_insert(10)? += 1;
    ///     *tx.root_mut().entry("ada").or_insert(10)? += 1;
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|m| m.get("ada").copied())?, Some(12));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn or_insert(self, default: impl PInit<V>) -> Result<&'a mut V::View> {
        match self {
            Entry::Occupied(o) => Ok(o.into_mut()),
            Entry::Vacant(v) => v.insert(default),
        }
    }

    /// The value's view, inserting `f()` first if the entry is vacant.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PHashMap, PString};
    /// let mut pool = pmem_core::Pool::<PHashMap<u64, PString>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().entry(1).or_insert_with(|| "one").map(drop))?;
    /// assert_eq!(pool.read(|m| m.get(&1).unwrap().to_string())?, "one");
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn or_insert_with<W: PInit<V>>(self, f: impl FnOnce() -> W) -> Result<&'a mut V::View> {
        match self {
            Entry::Occupied(o) => Ok(o.into_mut()),
            Entry::Vacant(v) => v.insert(f()),
        }
    }

    /// The value's view, inserting `V::default()` first if the entry is vacant.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PHashMap, PVec};
    /// let mut pool = pmem_core::Pool::<PHashMap<u64, PVec<u64>>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().entry(7).or_default()?.push(30)?;
    ///     tx.root_mut().entry(7).or_default()?.push(12)
    /// })?;
    /// assert_eq!(pool.read(|m| m[&7].to_vec())?, [30, 12]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn or_default(self) -> Result<&'a mut V::View>
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }

    /// Calls `f` on the value's view if the entry is occupied; answers the entry.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().entry(1).and_modify(|v| *v += 1).or_insert(0)?;
    ///     tx.root_mut().entry(1).and_modify(|v| *v += 1).or_insert(0).map(drop)
    /// })?;
    /// assert_eq!(pool.read(|m| m[&1])?, 1);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[must_use]
    pub fn and_modify(self, f: impl FnOnce(&mut V::View)) -> Self {
        match self {
            Entry::Occupied(mut o) => {
                f(o.get_mut());
                Entry::Occupied(o)
            }
            v @ Entry::Vacant(_) => v,
        }
    }

    /// The entry's key, in its borrowed form.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PHashMap, PString};
    /// let mut pool = pmem_core::Pool::<PHashMap<PString, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     assert_eq!(tx.root_mut().entry("ada").key(), "ada");
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn key(&self) -> &L::Key {
        match self {
            Entry::Occupied(o) => o.key().borrow(),
            Entry::Vacant(v) => v.key.key(),
        }
    }
}

impl<'a, K: Persistent + Hash + Eq, V: Persistent> OccupiedEntry<'a, K, V> {
    fn table(&self) -> Table {
        self.map
            .table()
            .expect("an occupied entry's map has a table")
    }

    fn bucket(&self) -> *mut Bucket<K, V> {
        self.table().bucket(self.index).cast()
    }

    /// The stored key.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::hash_map::Entry;
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().insert(5, 50)?;
    ///     let Entry::Occupied(o) = tx.root_mut().entry(5) else { unreachable!() };
    ///     assert_eq!(*o.key(), 5);
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn key(&self) -> &K {
        // SAFETY: a full bucket, borrowed through `self`.
        unsafe { &(*self.bucket()).key }
    }

    /// The value.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::hash_map::Entry;
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().insert(5, 50)?;
    ///     let Entry::Occupied(o) = tx.root_mut().entry(5) else { unreachable!() };
    ///     assert_eq!(*o.get(), 50);
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn get(&self) -> &V {
        // SAFETY: a full bucket, borrowed through `self`.
        unsafe { &(*self.bucket()).value }
    }

    /// The value's view.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::hash_map::Entry;
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().insert(5, 50)?;
    ///     let Entry::Occupied(mut o) = tx.root_mut().entry(5) else { unreachable!() };
    ///     *o.get_mut() += 1;
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|m| m[&5])?, 51);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn get_mut(&mut self) -> &mut V::View {
        // SAFETY: a full bucket's value, lent exclusively for the borrow of `self`.
        unsafe { V::view_mut(ptr::addr_of_mut!((*self.bucket()).value)) }
    }

    /// The value's view, for the entry's whole lifetime.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::hash_map::Entry;
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().insert(5, 50)?;
    ///     let Entry::Occupied(o) = tx.root_mut().entry(5) else { unreachable!() };
    ///     *o.into_mut() = 0;
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|m| m[&5])?, 0);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn into_mut(self) -> &'a mut V::View {
        let b = self.bucket();
        // SAFETY: a full bucket's value; the entry held the map's exclusive borrow for
        // `'a` and is consumed.
        unsafe { V::view_mut(ptr::addr_of_mut!((*b).value)) }
    }

    /// Replaces the value, answering the old one (plain data; see
    /// [`set`](Self::set)).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::hash_map::Entry;
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u64, u64>>::volatile()?;
    /// let old = pool.tx(|tx| {
    ///     tx.root_mut().insert(5, 50)?;
    ///     let Entry::Occupied(mut o) = tx.root_mut().entry(5) else { unreachable!() };
    ///     o.insert(6)
    /// })?;
    /// assert_eq!(old, 50);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn insert(&mut self, value: impl PInit<V>) -> Result<V>
    where
        V: CopyOut,
    {
        let vp = self.get_mut();
        // SAFETY: plain data; `get_mut` logged the value; restored if `init` fails.
        unsafe {
            let vp = ptr::from_mut(vp);
            let old = vp.read();
            if let Err(e) = value.init(vp) {
                vp.write(old);
                return Err(e);
            }
            Ok(old)
        }
    }

    /// Replaces the value, dropping the old one (freeing what it owned). The new value
    /// is built first, so an error leaves the entry unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{hash_map::Entry, PHashMap, PString};
    /// let mut pool = pmem_core::Pool::<PHashMap<u64, PString>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().set(5, "old")?;
    ///     let Entry::Occupied(mut o) = tx.root_mut().entry(5) else { unreachable!() };
    ///     o.set("new")
    /// })?;
    /// assert_eq!(pool.read(|m| m[&5].to_string())?, "new");
    /// pool.check()?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn set(&mut self, value: impl PInit<V>) -> Result<()> {
        let b = self.bucket();
        // SAFETY: a full bucket's value, borrowed exclusively through `self`.
        unsafe { replace_in_place(ptr::addr_of_mut!((*b).value), value) }
    }

    /// Removes the entry, answering its value (plain data; see
    /// [`remove_with`](Self::remove_with)).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::hash_map::Entry;
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u64, u64>>::volatile()?;
    /// let v = pool.tx(|tx| {
    ///     tx.root_mut().insert(5, 50)?;
    ///     let Entry::Occupied(o) = tx.root_mut().entry(5) else { unreachable!() };
    ///     o.remove()
    /// })?;
    /// assert_eq!(v, 50);
    /// assert!(pool.read(|m| m.is_empty())?);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn remove(self) -> Result<V>
    where
        V: CopyOut,
    {
        self.remove_with(|_, v| {
            // SAFETY: plain data: the copy owns nothing.
            unsafe { ptr::read(v) }
        })
    }

    /// Removes the entry, dropping key and value (freeing what they owned) after `f` has
    /// seen them; answers `f`'s result.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{hash_map::Entry, PHashMap, PString};
    /// let mut pool = pmem_core::Pool::<PHashMap<PString, PString>>::volatile()?;
    /// let s = pool.tx(|tx| {
    ///     tx.root_mut().set("k", "v")?;
    ///     let Entry::Occupied(o) = tx.root_mut().entry("k") else { unreachable!() };
    ///     o.remove_with(|k, v| format!("{k}={v}"))
    /// })?;
    /// assert_eq!(s, "k=v");
    /// pool.check()?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn remove_with<R>(self, f: impl FnOnce(&K, &V) -> R) -> Result<R> {
        let t = self.table();
        // SAFETY: bucket `index` is full in the map's table.
        unsafe { self.map.erase_with(t, self.index, f) }
    }
}

impl<'a, K, V, L> VacantEntry<'a, K, V, L>
where
    K: Persistent + Hash + Eq + Borrow<L::Key>,
    V: Persistent,
    L: PKey<K>,
    L::Key: Hash + Eq,
{
    /// The key, as given.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{hash_map::Entry, PHashMap, PString};
    /// let mut pool = pmem_core::Pool::<PHashMap<PString, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let Entry::Vacant(v) = tx.root_mut().entry("ada") else { unreachable!() };
    ///     assert_eq!(*v.key(), "ada");
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn key(&self) -> &L {
        &self.key
    }

    /// Takes the key back without inserting.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{hash_map::Entry, PHashMap, PString};
    /// let mut pool = pmem_core::Pool::<PHashMap<PString, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let Entry::Vacant(v) = tx.root_mut().entry(String::from("ada")) else { unreachable!() };
    ///     assert_eq!(v.into_key(), "ada");
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn into_key(self) -> L {
        self.key
    }

    /// Inserts `value` (writing the key into the pool) and answers the value's view.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{hash_map::Entry, PHashMap, PString};
    /// let mut pool = pmem_core::Pool::<PHashMap<PString, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     let Entry::Vacant(v) = tx.root_mut().entry("ada") else { unreachable!() };
    ///     *v.insert(1)? += 1;
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|m| m.get("ada").copied())?, Some(2));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn insert(self, value: impl PInit<V>) -> Result<&'a mut V::View> {
        let (t, i) = self.map.insert_new(self.key, value)?;
        let b = t.bucket(i).cast::<Bucket<K, V>>();
        // SAFETY: the bucket just written, lent for the map's exclusive borrow `'a`.
        Ok(unsafe { V::view_mut(ptr::addr_of_mut!((*b).value)) })
    }
}
