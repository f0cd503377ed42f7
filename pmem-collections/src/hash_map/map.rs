//! The `PHashMap<K, V>` header type: reads, trait impls and `Persistent`.

use std::borrow::Borrow;
use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;
use std::ptr;

use pmem_core::raw::CopyOf;
use pmem_core::schema::{Shape, TypeSchema};
use pmem_core::{view_cast, Error, PSafe, Persistent, Result, Visitor};

use super::hasher::{canary, make_hash};
use super::iter::{Iter, Keys, Values};
use super::raw::{bucket_capacity, Header, Layout, Table};
use super::view::PHashMapMut;
use crate::vec::collection_fp;

/// One key-value pair, as stored in a bucket.
#[repr(C)]
pub(crate) struct Bucket<K, V> {
    pub(crate) key: K,
    pub(crate) value: V,
}

/// A hash map stored in a pool: the persistent counterpart of
/// [`HashMap<K, V>`](std::collections::HashMap).
///
/// The value itself is a 48-byte header; the entries live in one open-addressing table
/// (SwissTable-style, see `raw.rs`) that the map owns. Hashing is deterministic across
/// processes and platforms ([`PHasher`](crate::PHasher)) with a random per-map seed kept
/// in the header. Reads work on `&PHashMap` (`get`, `contains_key`, `iter`, ...) with
/// lookups by any borrowed form (`&str` for `PString` keys); changes go through
/// [`PHashMapMut`], whose methods log only the control byte, bucket and header words they
/// change. A `PHashMap` built outside a pool ([`PHashMap::new`], `Default`) is empty and
/// owns nothing.
///
/// # Examples
///
/// ```
/// use pmem_collections::{PHashMap, PString};
/// let mut pool = pmem_core::Pool::<PHashMap<PString, u64>>::volatile()?;
/// pool.tx(|tx| {
///     let m = tx.root_mut();
///     m.insert("ada", 36)?;
///     m.insert("bob", 7)?;
///     *m.get_mut("bob").unwrap() += 1;
///     Ok::<_, pmem_core::Error>(())
/// })?;
/// pool.read(|m| {
///     assert_eq!(m.get("ada"), Some(&36));
///     assert_eq!(m.get("bob"), Some(&8));
///     assert_eq!(m.len(), 2);
/// })?;
/// # Ok::<(), pmem_core::Error>(())
/// ```
#[repr(C)]
pub struct PHashMap<K, V> {
    pub(crate) hdr: Header,
    _t: PhantomData<(K, V)>,
}

impl<K, V> PHashMap<K, V> {
    pub(crate) const LAYOUT: Layout = Layout {
        size: size_of::<Bucket<K, V>>(),
        align: align_of::<Bucket<K, V>>(),
    };

    /// An empty map that owns nothing (no pool memory is touched).
    ///
    /// # Examples
    ///
    /// ```
    /// let m = pmem_collections::PHashMap::<u64, u64>::new();
    /// assert!(m.is_empty());
    /// ```
    pub const fn new() -> Self {
        PHashMap {
            hdr: Header {
                table: 0,
                bucket_mask: 0,
                items: 0,
                growth_left: 0,
                seed: 0,
                hash_check: 0,
            },
            _t: PhantomData,
        }
    }

    /// The number of entries.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u8, u8>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().insert(1, 2).map(drop))?;
    /// assert_eq!(pool.read(|m| m.len())?, 1);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.hdr.items as usize
    }

    /// Is the map empty?
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(pmem_collections::PHashMap::<u8, u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.hdr.items == 0
    }

    /// The number of entries the map holds without rebuilding its table (tombstones
    /// included, so this may undercount after removals, like std's).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u8, u8>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().reserve(100))?;
    /// assert!(pool.read(|m| m.capacity())? >= 100);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn capacity(&self) -> usize {
        if self.hdr.table == 0 {
            0
        } else {
            bucket_capacity(self.hdr.bucket_mask as usize)
        }
    }

    #[inline]
    #[track_caller]
    pub(crate) fn table(&self) -> Option<Table> {
        Table::resolve_or_panic(ptr::from_ref(&self.hdr), Self::LAYOUT)
    }

    /// How this map hashes its keys: [`PHasher`](crate::PHasher) with the map's seed
    /// (std answers `&S`; the seed lives in the pool header, so this answers a copy).
    /// The seed is drawn when the map allocates its first table; before that this is
    /// seed 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::hash::BuildHasher;
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().insert(1, 1).map(drop))?;
    /// let (a, b) = pool.read(|m| (m.hasher().hash_one(1u64), m.hasher().hash_one(1u64)))?;
    /// assert_eq!(a, b);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn hasher(&self) -> crate::PBuildHasher {
        crate::PBuildHasher::new(self.hdr.seed)
    }

    /// An iterator over `(&K, &V)`, in no particular order.
    ///
    /// # Panics
    /// With "pmem: corrupted pool: ..." if the header is inconsistent.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u8, u8>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([(1, 10), (2, 20)]))?;
    /// let mut all = pool.read(|m| m.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>())?;
    /// all.sort();
    /// assert_eq!(all, [(1, 10), (2, 20)]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter::new(self.table(), self.len())
    }

    /// An iterator over the keys, in no particular order.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u8, u8>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([(1, 10), (2, 20)]))?;
    /// assert_eq!(pool.read(|m| m.keys().map(|k| *k as u32).sum::<u32>())?, 3);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn keys(&self) -> Keys<'_, K, V> {
        Keys { inner: self.iter() }
    }

    /// An iterator over the values, in no particular order.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u8, u8>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([(1, 10), (2, 20)]))?;
    /// assert_eq!(pool.read(|m| m.values().map(|v| *v as u32).sum::<u32>())?, 30);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn values(&self) -> Values<'_, K, V> {
        Values { inner: self.iter() }
    }
}

impl<K: Hash + Eq, V> PHashMap<K, V> {
    /// The bucket holding `q`'s entry, if any.
    #[inline]
    #[track_caller]
    pub(crate) fn find<Q: Hash + Eq + ?Sized>(&self, q: &Q) -> Option<(Table, usize)>
    where
        K: Borrow<Q>,
    {
        let t = self.table()?;
        let eq = |p: *mut u8| {
            // SAFETY: a matching control byte means the bucket is full, so it holds an
            // initialised entry.
            unsafe { (*p.cast::<Bucket<K, V>>()).key.borrow() == q }
        };
        let i = if self.hdr.hash_check == canary() {
            t.find(make_hash(self.hdr.seed, q), eq)
        } else {
            t.find_linear(eq)
        };
        i.map(|i| (t, i))
    }

    #[inline]
    #[track_caller]
    fn find_bucket<Q: Hash + Eq + ?Sized>(&self, q: &Q) -> Option<&Bucket<K, V>>
    where
        K: Borrow<Q>,
    {
        // SAFETY: a full bucket holds an initialised entry, unchanged while `&self` lives.
        self.find(q)
            .map(|(t, i)| unsafe { &*t.bucket(i).cast::<Bucket<K, V>>() })
    }

    /// The value for `key`, if any.
    ///
    /// # Panics
    /// With "pmem: corrupted pool: ..." if the header is inconsistent.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PHashMap, PString};
    /// let mut pool = pmem_core::Pool::<PHashMap<PString, u64>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().insert("ada", 1).map(drop))?;
    /// assert_eq!(pool.read(|m| m.get("ada").copied())?, Some(1));
    /// assert_eq!(pool.read(|m| m.get("eve").copied())?, None);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find_bucket(key).map(|b| &b.value)
    }

    /// The stored key and value for `key`, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PHashMap, PString};
    /// let mut pool = pmem_core::Pool::<PHashMap<PString, u64>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().insert("ada", 1).map(drop))?;
    /// pool.read(|m| {
    ///     let (k, v) = m.get_key_value("ada").unwrap();
    ///     assert_eq!((k.as_str(), *v), ("ada", 1));
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn get_key_value<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
    {
        self.find_bucket(key).map(|b| (&b.key, &b.value))
    }

    /// Is there an entry for `key`?
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PHashMap<u64, ()>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().insert(7, ()).map(drop))?;
    /// assert!(pool.read(|m| m.contains_key(&7))?);
    /// assert!(!pool.read(|m| m.contains_key(&8))?);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn contains_key<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_some()
    }
}

impl<K, V> Default for PHashMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for PHashMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Hash + Eq, V: PartialEq> PartialEq for PHashMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}
impl<K: Hash + Eq, V: Eq> Eq for PHashMap<K, V> {}

impl<K: Hash + Eq + Borrow<Q>, Q: Hash + Eq + ?Sized, V> std::ops::Index<&Q> for PHashMap<K, V> {
    type Output = V;
    /// The value for `key`.
    ///
    /// # Panics
    /// If the key is absent.
    #[track_caller]
    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("key not found in PHashMap")
    }
}

impl<'a, K, V> IntoIterator for &'a PHashMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;
    fn into_iter(self) -> Iter<'a, K, V> {
        self.iter()
    }
}

/// Checks a table header against its control bytes and reports the table; answers the
/// table (if any) for the caller to visit the entries.
pub(crate) fn visit_table(hdr: &Header, lay: Layout, v: &mut Visitor<'_>) -> Result<Option<Table>> {
    let Some(t) = Table::resolve(hdr, lay)? else {
        return Ok(None);
    };
    let (full, deleted) = t.census();
    let bad = |what: &str| {
        Err(Error::Corrupted {
            what: what.to_string(),
            offset: hdr.table,
        })
    };
    if full as u64 != hdr.items {
        return bad("hash map length disagrees with its table");
    }
    if hdr.growth_left + hdr.items + deleted as u64 != bucket_capacity(t.buckets() - 1) as u64 {
        return bad("hash map growth counter disagrees with its table");
    }
    v.owned(t.start(), lay.alloc_size(t.buckets()).unwrap_or(usize::MAX))?;
    Ok(Some(t))
}

// SAFETY: the header is six pool words (an offset, counts, a seed), no addresses;
// `repr(C)` fixes its layout.
unsafe impl<K: PSafe, V: PSafe> PSafe for PHashMap<K, V> {}

// SAFETY: every `PHashMapMut` method snapshots what it changes; `visit_owned` reports the
// table and recurses into every full bucket's key and value; `free_owned` frees exactly
// those.
unsafe impl<K: Persistent + Hash + Eq, V: Persistent> Persistent for PHashMap<K, V> {
    type View = PHashMapMut<K, V>;
    const TYPE_NAME: &'static str = "PHashMap";
    const FINGERPRINT: u64 = collection_fp(
        "PHashMap",
        &[
            (K::TYPE_NAME, size_of::<K>(), align_of::<K>()),
            (V::TYPE_NAME, size_of::<V>(), align_of::<V>()),
        ],
    );
    const SCHEMA: &'static TypeSchema = &TypeSchema {
        name: "PHashMap",
        size: size_of::<Self>(),
        align: align_of::<Self>(),
        fingerprint: Self::FINGERPRINT,
        shape: Shape::Collection {
            kind: "PHashMap",
            params: &[K::schema, V::schema],
        },
    };

    unsafe fn view_mut<'a>(ptr: *mut Self) -> &'a mut PHashMapMut<K, V> {
        // SAFETY: `PHashMapMut` ends in a `ViewTail`; the fat pointer covers the header,
        // which the caller lends exclusively for `'a`.
        unsafe { &mut *view_cast!(ptr, Self => PHashMapMut<K, V>) }
    }

    /// Checks the header against the table, that every key is reachable by a lookup
    /// (when this build's hashes are the table's), and visits every key and value.
    fn visit_owned(&self, v: &mut Visitor<'_>) -> Result<()> {
        let Some(t) = visit_table(&self.hdr, Self::LAYOUT, v)? else {
            return Ok(());
        };
        let hashed = self.hdr.hash_check == canary();
        for i in t.full_buckets() {
            let b = t.bucket(i).cast::<Bucket<K, V>>();
            // SAFETY: a full bucket holds an entry's bytes; key and value are validated
            // before the bucket is read as a `Bucket<K, V>`.
            let b = unsafe {
                v.enter("{key}");
                v.validate(ptr::addr_of!((*b).key))?;
                v.leave();
                v.enter("[]");
                v.validate(ptr::addr_of!((*b).value))?;
                v.leave();
                &*b
            };
            v.enter("{key}");
            b.key.visit_owned(v)?;
            v.leave();
            v.enter("[]");
            b.value.visit_owned(v)?;
            v.leave();
            if hashed && !t.reachable(i, make_hash(self.hdr.seed, &b.key)) {
                return Err(Error::Corrupted {
                    what: "hash map entry is not reachable by lookup".into(),
                    offset: self.hdr.table,
                });
            }
        }
        Ok(())
    }

    unsafe fn free_owned(ptr: *mut Self) -> Result<()> {
        // SAFETY: caller's contract: a valid map in the open transaction's pool.
        unsafe {
            let hdr = ptr::addr_of_mut!((*ptr).hdr);
            if let Some(t) = Table::resolve(hdr, Self::LAYOUT)? {
                for i in t.full_buckets() {
                    let b = t.bucket(i).cast::<Bucket<K, V>>();
                    K::free_owned(ptr::addr_of_mut!((*b).key))?;
                    V::free_owned(ptr::addr_of_mut!((*b).value))?;
                }
                pmem_core::raw::free(t.start(), Self::LAYOUT.alloc_size(t.buckets()).unwrap_or(0))?;
            }
        }
        Ok(())
    }

    /// A table sized for exactly the entries (the smallest that holds them), each
    /// entry copied and rehashed under the new table's seed.
    unsafe fn clone_into_pool(&self, dst: *mut Self) -> Result<()> {
        // SAFETY: caller's contract: `dst` is writable, logged, in the destination's
        // open transaction; an empty map owns nothing, and its view lends `dst`.
        unsafe {
            ptr::write(dst, PHashMap::new());
            let view = Self::view_mut(dst);
            view.reserve(self.len())?;
            for (k, v) in self {
                view.insert_new(CopyOf(k), CopyOf(v))?;
            }
        }
        Ok(())
    }

    /// Unchanged: [`clone_into_pool`](Persistent::clone_into_pool). Otherwise the old
    /// table is read by the stored bucket layout and each entry's key and value are
    /// migrated and inserted into a fresh table, rehashed by the new key's bytes.
    unsafe fn migrate_into_pool(
        old: *const u8,
        old_ty: pmem_core::__private::auto::OldType<'_>,
        dst: *mut Self,
    ) -> Result<()> {
        if old_ty.identical_to(Self::SCHEMA) {
            // SAFETY: identical graphs: the old map is a valid `Self` (caller's contract).
            return unsafe { (*old.cast::<Self>()).clone_into_pool(dst) };
        }
        let key = old_ty.collection_param(Self::SCHEMA, 0)?;
        let val = old_ty.collection_param(Self::SCHEMA, 1)?;
        // SAFETY: caller's contract: `old` is a valid old map header whose buckets hold
        // stored keys of `key` and values of `val`; each old value handed to the
        // closure is one of them, aligned, and `p` a logged value slot of the new map.
        unsafe {
            super::migrate_table::<K, V>(
                old,
                key,
                "{key}",
                crate::migrate::OldElem::of(val)?,
                dst,
                |v, p| {
                    V::migrate_into_pool(v, val, p)
                        .map_err(|e| pmem_core::__private::auto::within(e, "[]"))
                },
            )
        }
    }
}

/// Serialises as a map (in the table's order), as serde does for `HashMap<K, V>`.
#[cfg(feature = "serde")]
impl<K: serde::Serialize, V: serde::Serialize> serde::Serialize for PHashMap<K, V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}
