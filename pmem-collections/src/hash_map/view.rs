//! [`PHashMapMut<K, V>`]: the write surface of a [`PHashMap`], handed out by
//! transactions.

use std::borrow::Borrow;
use std::hash::Hash;
use std::marker::PhantomData;
use std::ops::Deref;
use std::ptr;

use pmem_core::{PInit, Persistent, Result, ViewTail};

use super::entry::{Entry, OccupiedEntry, VacantEntry};
use super::hasher::{canary, make_hash};
use super::iter::{IterMut, ValuesMut};
use super::key::PKey;
use super::map::{Bucket, PHashMap};
use super::raw::{self, bucket_capacity, h2, Header, Table, EMPTY};
use crate::vec::replace_in_place;
use crate::CopyOut;

/// The view of a [`PHashMap<K, V>`] inside a transaction: `std::collections::HashMap`'s
/// write methods, each logging only what it changes (an insert logs one control byte,
/// one bucket and the header; a table rebuild logs the fresh table, never the old one).
///
/// Reads go through `Deref` to [`PHashMap`]. Value views recurse:
/// [`get_mut`](Self::get_mut) answers `&mut V::View`, so fields of a derived struct stored
/// in a map are edited through its generated accessors.
///
/// Removing or overwriting a value that owns pool memory frees what it owned, in the
/// same transaction; owned data never leaves the pool. So the methods that hand a
/// removed value out (`insert`'s old value, `remove`, `remove_entry`) need plain data,
/// and each has a twin for every type: [`set`](Self::set) overwrites and drops,
/// [`remove_with`](Self::remove_with) lets a closure read the entry just before it is
/// dropped.
///
/// Errors: [`Error::OutOfSpace`](pmem_core::Error::OutOfSpace) (or another allocation
/// error) leaves the map unchanged; [`Error::Corrupted`](pmem_core::Error::Corrupted)
/// means the pool is damaged and the transaction should roll back.
pub struct PHashMapMut<K, V> {
    _t: PhantomData<(K, V)>,
    _tail: ViewTail,
}

impl<K, V> Deref for PHashMapMut<K, V> {
    type Target = PHashMap<K, V>;
    fn deref(&self) -> &PHashMap<K, V> {
        // SAFETY: a view lies over a valid `PHashMap<K, V>`.
        unsafe { &*ptr::from_ref(self).cast::<PHashMap<K, V>>() }
    }
}

type Lay<K, V> = PHashMap<K, V>;

/// Marks full bucket `i` of `map`'s table `t` free, its entry already dropped or copied
/// out (it owns nothing any more): logs the control byte and the header's counters.
///
/// # Safety
/// - `t` is `map`'s table and bucket `i` is full.
pub(crate) unsafe fn erase_bucket<K: Persistent + Hash + Eq, V: Persistent>(
    map: &mut PHashMapMut<K, V>,
    t: Table,
    i: usize,
) {
    // SAFETY: caller's contract.
    unsafe { raw::erase(map.hdr(), t, i) };
}

impl<'a, K: Persistent + Hash + Eq, V: Persistent> IntoIterator for &'a mut PHashMapMut<K, V> {
    type Item = (&'a K, &'a mut V::View);
    type IntoIter = IterMut<'a, K, V>;
    fn into_iter(self) -> IterMut<'a, K, V> {
        self.iter_mut()
    }
}

impl<K: Persistent + Hash + Eq, V: Persistent> PHashMapMut<K, V> {
    const SIZED: () = assert!(
        size_of::<Bucket<K, V>>() != 0,
        "pmem: a PHashMap of zero-sized entries is not supported"
    );

    pub(crate) fn hdr(&mut self) -> *mut Header {
        let () = Self::SIZED;
        ptr::from_mut(self).cast()
    }

    pub(crate) fn bucket(t: Table, i: usize) -> *mut Bucket<K, V> {
        t.bucket(i).cast()
    }

    /// Rebuilds the table into a fresh allocation with room for `capacity` entries.
    pub(crate) fn resize(&mut self, capacity: usize) -> Result<()> {
        let hdr = self.hdr();
        let mut hasher = |p: *mut u8, seed: u64| {
            // SAFETY: `resize` hands in full buckets only.
            make_hash(seed, unsafe { &(*p.cast::<Bucket<K, V>>()).key })
        };
        // SAFETY: this view's header, in the open transaction's pool.
        unsafe { raw::resize(hdr, Lay::<K, V>::LAYOUT, capacity, &mut hasher) }
    }

    /// Makes the table ready for inserts: allocated (drawing the seed) and hashed by
    /// this build.
    fn prepare(&mut self) -> Result<Table> {
        let h = self.hdr;
        if h.table == 0 || h.hash_check != canary() {
            self.resize(h.items as usize)?;
        }
        Ok(self.table().expect("prepared"))
    }

    /// Writes a new entry for a key known to be absent; answers its bucket.
    pub(crate) fn insert_new<L: PKey<K>>(
        &mut self,
        key: L,
        value: impl PInit<V>,
    ) -> Result<(Table, usize)>
    where
        K: Borrow<L::Key>,
        L::Key: Hash + Eq,
    {
        let mut t = self.prepare()?;
        let hash = make_hash(self.hdr.seed, key.key());
        let mut i = t.find_insert_slot(hash)?;
        if t.ctrl(i) == EMPTY && self.hdr.growth_left == 0 {
            // Mostly tombstones: rebuild at the same size; mostly live: double.
            let full = bucket_capacity(self.hdr.bucket_mask as usize);
            self.resize(if self.len() < full / 2 {
                full
            } else {
                full + 1
            })?;
            t = self.table().expect("just rebuilt");
            i = t.find_insert_slot(hash)?;
        }
        let b = Self::bucket(t, i);
        // Log the control byte and the bucket as one range when they are close (small
        // tables): one journal interval and one redo record, not two.
        let ctrl = t.ctrl_ptr(i);
        let span = b as usize + size_of::<Bucket<K, V>>() - ctrl as usize;
        let one_range = span <= 256;
        let (from, len) = if one_range {
            (ctrl, span)
        } else {
            (b.cast::<u8>(), size_of::<Bucket<K, V>>())
        };
        // SAFETY: bucket `i` is free (EMPTY or DELETED) in this view's table: logged,
        // then written; only once both key and value are written is it marked full, so
        // an error leaves the map unchanged (a written key is dropped again). `from..+len`
        // lies inside the table.
        unsafe {
            pmem_core::raw::snapshot(from, len);
            let kp = ptr::addr_of_mut!((*b).key);
            key.init(kp)?;
            if let Err(e) = value.init(ptr::addr_of_mut!((*b).value)) {
                let _ = K::free_owned(kp);
                return Err(e);
            }
            raw::record_insert(self.hdr(), t, i, h2(hash), one_range);
        }
        Ok((t, i))
    }

    /// Inserts `value` for `key`, answering the old value if the key was present (the
    /// stored key is kept, as in std). Only for plain values; [`set`](Self::set) works
    /// for every value type.
    ///
    /// A new key is written into the pool (a `&str` becomes a `PString`) only when it is
    /// absent.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PHashMap, PString};
    /// let mut pool = pmem_core::Pool::<PHashMap<PString, u64>>::volatile()?;
    /// let (a, b) = pool.tx(|tx| {
    ///     let a = tx.root_mut().insert("ada", 1)?;
    ///     let b = tx.root_mut().insert("ada", 2)?;
    ///     Ok::<_, pmem_core::Error>((a, b))
    /// })?;
    /// assert_eq!((a, b), (None, Some(1)));
    /// assert_eq!(pool.read(|m| m.get("ada").copied())?, Some(2));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn insert<L: PKey<K>>(&mut self, key: L, value: impl PInit<V>) -> Result<Option<V>>
    where
        V: CopyOut,
        K: Borrow<L::Key>,
        L::Key: Hash + Eq,
    {
        if let Some((t, i)) = self.find(key.key()) {
            let vp = Self::value_ptr(t, i);
            // SAFETY: a full bucket's value, plain data (the copy owns nothing); logged
            // before it is overwritten, restored if the new value fails to be written.
            unsafe {
                let old = vp.read();
                pmem_core::raw::snapshot_value(vp);
                if let Err(e) = value.init(vp) {
                    vp.write(old);
                    return Err(e);
                }
                return Ok(Some(old));
            }
        }
        self.insert_new(key, value)?;
        Ok(None)
    }

    pub(crate) fn value_ptr(t: Table, i: usize) -> *mut V {
        // SAFETY: projection inside bucket `i`.
        unsafe { ptr::addr_of_mut!((*Self::bucket(t, i)).value) }
    }

    /// Inserts `value` for `key`, or overwrites the present value, dropping it (freeing
    /// what it owned). Answers `true` when the key was new, like `HashSet::insert`.
    ///
    /// An overwrite builds the new value before dropping the old one, so an error
    /// leaves the entry unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PHashMap, PString, PVec};
    /// let mut pool = pmem_core::Pool::<PHashMap<PString, PVec<u64>>>::volatile()?;
    /// let (a, b) = pool.tx(|tx| {
    ///     let a = tx.root_mut().set("ada", vec![1, 2])?;
    ///     let b = tx.root_mut().set("ada", vec![3])?; // frees the old vector
    ///     Ok::<_, pmem_core::Error>((a, b))
    /// })?;
    /// assert_eq!((a, b), (true, false));
    /// assert_eq!(pool.read(|m| m.get("ada").unwrap().to_vec())?, [3]);
    /// pool.check()?; // nothing leaked
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn set<L: PKey<K>>(&mut self, key: L, value: impl PInit<V>) -> Result<bool>
    where
        K: Borrow<L::Key>,
        L::Key: Hash + Eq,
    {
        if let Some((t, i)) = self.find(key.key()) {
            // SAFETY: a full bucket's value, borrowed exclusively through `self`.
            unsafe { replace_in_place(Self::value_ptr(t, i), value)? };
            return Ok(false);
        }
        self.insert_new(key, value)?;
        Ok(true)
    }

    /// Removes the entry for `key` and answers its value (plain data only; see
    /// [`remove_with`](Self::remove_with)). The stored key is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PHashMap, PString};
    /// let mut pool = pmem_core::Pool::<PHashMap<PString, u64>>::volatile()?;
    /// let empty_pool = pool.check()?.allocations;
    /// let r = pool.tx(|tx| {
    ///     tx.root_mut().insert("ada", 1)?;
    ///     Ok::<_, pmem_core::Error>((tx.root_mut().remove("ada")?, tx.root_mut().remove("ada")?))
    /// })?;
    /// assert_eq!(r, (Some(1), None));
    /// // The key's string was freed; only the (now empty) table is left.
    /// assert_eq!(pool.check()?.allocations, empty_pool + 1);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn remove<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Result<Option<V>>
    where
        V: CopyOut,
        K: Borrow<Q>,
    {
        self.remove_with(key, |_, v| {
            // SAFETY: plain data: the copy owns nothing.
            unsafe { ptr::read(v) }
        })
    }

    /// Removes the entry for `key` and answers the stored key and value (both plain
    /// data).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u64, u64>>::volatile()?;
    /// let r = pool.tx(|tx| {
    ///     tx.root_mut().insert(1, 10)?;
    ///     tx.root_mut().remove_entry(&1)
    /// })?;
    /// assert_eq!(r, Some((1, 10)));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn remove_entry<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Result<Option<(K, V)>>
    where
        K: CopyOut + Borrow<Q>,
        V: CopyOut,
    {
        self.remove_with(key, |k, v| {
            // SAFETY: plain data: the copies own nothing.
            unsafe { (ptr::read(k), ptr::read(v)) }
        })
    }

    /// Removes the entry for `key`, dropping key and value (freeing what they owned)
    /// after `f` has seen them. Answers `f`'s result, or `None` if the key is absent.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PHashMap, PString, PVec};
    /// let mut pool = pmem_core::Pool::<PHashMap<PString, PVec<u64>>>::volatile()?;
    /// let sum = pool.tx(|tx| {
    ///     tx.root_mut().set("ada", vec![1, 2, 3])?;
    ///     tx.root_mut().remove_with("ada", |_, v| v.iter().sum::<u64>())
    /// })?;
    /// assert_eq!(sum, Some(6));
    /// pool.check()?; // the key's and the vector's buffers were freed
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn remove_with<Q: Hash + Eq + ?Sized, R>(
        &mut self,
        key: &Q,
        f: impl FnOnce(&K, &V) -> R,
    ) -> Result<Option<R>>
    where
        K: Borrow<Q>,
    {
        let Some((t, i)) = self.find(key) else {
            return Ok(None);
        };
        // SAFETY: bucket `i` is full in this view's table.
        unsafe { self.erase_with(t, i, f).map(Some) }
    }

    /// Drops the entry in full bucket `i` after `f` has seen it, and marks the bucket
    /// free.
    ///
    /// # Safety
    /// - bucket `i` of `t` (this view's table) is full.
    pub(crate) unsafe fn erase_with<R>(
        &mut self,
        table: Table,
        index: usize,
        f: impl FnOnce(&K, &V) -> R,
    ) -> Result<R> {
        let bucket = Self::bucket(table, index);
        // SAFETY: caller's contract; the entry is dropped, then its bucket marked free.
        unsafe {
            let out = f(&(*bucket).key, &(*bucket).value);
            K::free_owned(ptr::addr_of_mut!((*bucket).key))?;
            V::free_owned(ptr::addr_of_mut!((*bucket).value))?;
            raw::erase(self.hdr(), table, index);
            Ok(out)
        }
    }

    /// The view of the value for `key`, if any. For plain data this snapshots the value
    /// and answers `&mut V`.
    ///
    /// # Panics
    /// With "pmem: corrupted pool: ..." if the header is inconsistent.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PHashMap, PString};
    /// let mut pool = pmem_core::Pool::<PHashMap<u64, PString>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().set(7, "ad")?;
    ///     tx.root_mut().get_mut(&7).unwrap().push('a')?; // a PStringMut
    ///     assert!(tx.root_mut().get_mut(&8).is_none());
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|m| m.get(&7).unwrap().to_string())?, "ada");
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn get_mut<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<&mut V::View>
    where
        K: Borrow<Q>,
    {
        let (t, i) = self.find(key)?;
        // SAFETY: a full bucket's value, lent exclusively for the borrow of `self`.
        Some(unsafe { V::view_mut(Self::value_ptr(t, i)) })
    }

    /// The entry for `key`, for in-place insert-or-update.
    ///
    /// # Panics
    /// With "pmem: corrupted pool: ..." if the header is inconsistent.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PHashMap, PString};
    /// let mut pool = pmem_core::Pool::<PHashMap<PString, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     for word in "a b a c a".split(' ') {
    ///         *tx.root_mut().entry(word).or_insert(0)? += 1;
    ///     }
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|m| m.get("a").copied())?, Some(3));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn entry<L: PKey<K>>(&mut self, key: L) -> Entry<'_, K, V, L>
    where
        K: Borrow<L::Key>,
        L::Key: Hash + Eq,
    {
        match self.find(key.key()) {
            Some((_, index)) => Entry::Occupied(OccupiedEntry { map: self, index }),
            None => Entry::Vacant(VacantEntry { map: self, key }),
        }
    }

    /// Keeps only the entries for which `f` answers `true`, dropping the others (freeing
    /// what they owned). `f` gets each value's view, as std's gets `&mut V`; for plain
    /// values the view snapshots the value, so a predicate that only reads still logs
    /// every value: [`retain_ref`](Self::retain_ref) logs only the removals. Each
    /// removal logs one control byte and the header.
    ///
    /// If `f` panics, the entries removed so far stay removed and the map is consistent.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u32, u32>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend((0..10).map(|i| (i, i)))?;
    ///     tx.root_mut().retain(|k, v| {
    ///         *v *= 10;
    ///         k % 2 == 0
    ///     })
    /// })?;
    /// assert_eq!(pool.read(|m| (m.len(), m[&4]))?, (5, 40));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn retain(&mut self, mut f: impl FnMut(&K, &mut V::View) -> bool) -> Result<()> {
        // SAFETY: each value is handed out once, while nothing else refers to it.
        self.retain_raw(|k, v| f(k, unsafe { V::view_mut(v) }))
    }

    /// [`retain`](Self::retain) with a predicate that only reads: nothing is logged for
    /// the entries it keeps.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u32, u32>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend((0..10).map(|i| (i, i * i)))?;
    ///     tx.root_mut().retain_ref(|k, _| k % 2 == 0)
    /// })?;
    /// assert_eq!(pool.read(|m| m.len())?, 5);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn retain_ref(&mut self, mut f: impl FnMut(&K, &V) -> bool) -> Result<()> {
        // SAFETY: an initialised value, read while nothing changes it.
        self.retain_raw(|k, v| f(k, unsafe { &*v }))
    }

    pub(crate) fn retain_raw(&mut self, mut f: impl FnMut(&K, *mut V) -> bool) -> Result<()> {
        let Some(t) = self.table() else { return Ok(()) };
        for i in t.full_buckets() {
            let b = Self::bucket(t, i);
            // SAFETY: a full bucket (erasing others does not move it).
            let keep = unsafe { f(&(*b).key, ptr::addr_of_mut!((*b).value)) };
            if !keep {
                // SAFETY: as above.
                unsafe { self.erase_with(t, i, |_, _| ())? };
            }
        }
        Ok(())
    }

    /// Removes every entry, dropping them (freeing what they owned). Keeps the table, as
    /// std does (logging its control bytes as one range);
    /// [`shrink_to_fit`](Self::shrink_to_fit) afterwards frees it.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u32, u32>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend((0..100).map(|i| (i, i)))?;
    ///     tx.root_mut().clear()
    /// })?;
    /// assert!(pool.read(|m| m.is_empty() && m.capacity() >= 100)?);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn clear(&mut self) -> Result<()> {
        let Some(t) = self.table() else { return Ok(()) };
        if self.is_empty() && self.hdr.growth_left as usize == bucket_capacity(t.buckets() - 1) {
            return Ok(());
        }
        for i in t.full_buckets() {
            let b = Self::bucket(t, i);
            // SAFETY: a full bucket; every control byte is reset below.
            unsafe {
                K::free_owned(ptr::addr_of_mut!((*b).key))?;
                V::free_owned(ptr::addr_of_mut!((*b).value))?;
            }
        }
        // SAFETY: this view's table; every entry was dropped above.
        unsafe { raw::clear_no_drop(self.hdr(), t) };
        Ok(())
    }

    /// Inserts every `(key, value)` of `iter`, overwriting (and dropping) present values
    /// like [`set`](Self::set). Reserves room first as std does (the iterator's lower
    /// size bound into an empty map, half of it otherwise, since keys may repeat). If an
    /// item fails, the ones before it stay inserted.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PHashMap, PString};
    /// let mut pool = pmem_core::Pool::<PHashMap<PString, u32>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([("a", 1), ("b", 2), ("a", 3)]))?;
    /// assert_eq!(pool.read(|m| (m.len(), m.get("a").copied()))?, (2, Some(3)));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn extend<L: PKey<K>, W: PInit<V>>(
        &mut self,
        iter: impl IntoIterator<Item = (L, W)>,
    ) -> Result<()>
    where
        K: Borrow<L::Key>,
        L::Key: Hash + Eq,
    {
        let iter = iter.into_iter();
        self.reserve_for_extend(iter.size_hint().0)?;
        for (k, v) in iter {
            self.set(k, v)?;
        }
        Ok(())
    }

    /// Before `extend` adds about `hint` items: room for all of them into an empty map,
    /// else for half (some may already be present), as hashbrown does.
    pub(crate) fn reserve_for_extend(&mut self, hint: usize) -> Result<()> {
        self.reserve(if self.is_empty() {
            hint
        } else {
            hint.div_ceil(2)
        })
    }

    /// Makes room for at least `additional` more entries without another rebuild.
    ///
    /// # Panics
    /// If the capacity overflows `usize` ("capacity overflow").
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().reserve(1000))?;
    /// assert!(pool.read(|m| m.capacity())? >= 1000);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn reserve(&mut self, additional: usize) -> Result<()> {
        if additional == 0 {
            return Ok(());
        }
        let h = self.hdr;
        if h.table != 0 && h.hash_check == canary() && additional as u64 <= h.growth_left {
            return Ok(());
        }
        let need = self
            .len()
            .checked_add(additional)
            .unwrap_or_else(|| crate::vec::capacity_overflow());
        self.resize(need)
    }

    /// Rebuilds the table as small as the entries allow; an empty map frees its table
    /// and owns nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().reserve(1000)?;
    ///     tx.root_mut().insert(1, 1)?;
    ///     tx.root_mut().shrink_to_fit()
    /// })?;
    /// assert!(pool.read(|m| m.capacity())? < 10);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn shrink_to_fit(&mut self) -> Result<()> {
        let Some(t) = self.table() else { return Ok(()) };
        if self.is_empty() {
            // SAFETY: this view's header; the table holds no entry.
            return unsafe { raw::free_table(self.hdr(), Lay::<K, V>::LAYOUT) };
        }
        let want = raw::capacity_to_buckets(self.len()).unwrap_or(usize::MAX);
        if want < t.buckets() {
            self.resize(self.len())?;
        }
        Ok(())
    }

    /// An iterator over `(&K, &mut V::View)`, in no particular order.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u8, u32>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend([(1, 1), (2, 2)])?;
    ///     for (k, v) in tx.root_mut().iter_mut() {
    ///         *v += u32::from(*k) * 10;
    ///     }
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|m| (m[&1], m[&2]))?, (11, 22));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        IterMut {
            inner: self.iter(),
            _m: PhantomData,
        }
    }

    /// An iterator over the value views, in no particular order.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u8, u32>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().extend([(1, 1), (2, 2)])?;
    ///     tx.root_mut().values_mut().for_each(|v| *v = 0);
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|m| m.values().sum::<u32>())?, 0);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn values_mut(&mut self) -> ValuesMut<'_, K, V> {
        ValuesMut {
            inner: self.iter_mut(),
        }
    }
}
