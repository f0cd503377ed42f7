//! `PBTreeMap<K, V>`: the value stored in the pool, its `Persistent` impl and its
//! read API (plain `&self` access to mapped memory).

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Bound, RangeBounds};

use pmem_core::fingerprint::{fp_str, fp_u64, FP_START};
use pmem_core::schema::{Shape, TypeSchema};
use pmem_core::{PSafe, Persistent, Result, Visitor};

use super::iter::{end_leaf, step, Cursor, Iter, Keys, Range, RawIter, Values};
use super::map_mut::PBTreeMapMut;
use super::node::{self, Elems, Geo, MAX_CAP, MIN_CAP};
use super::tree::{search_inner, search_leaf, Header, Tree};

/// An ordered map in a pmem pool: a B+-tree whose nodes live in the pool, with the API
/// of [`std::collections::BTreeMap`].
///
/// Reads work on `&PBTreeMap` (inside [`Pool::read`](pmem_core::Pool::read) or a
/// transaction); changes go through the view [`PBTreeMapMut`] that a transaction hands
/// out, and log only the bytes they change in the nodes on their path. Keys and values
/// are stored inline in the leaves, so both are fixed-size [`Persistent`] types.
///
/// Lookups take any `Q` that `K` borrows as (like std); inserts take any
/// [`PKey<K>`](crate::PKey) (a value that initialises a `K` in the pool and compares as
/// one before it is written), so a map with [`PString`](crate::PString) keys is given
/// `&str`.
///
/// # Examples
///
/// ```
/// use pmem_collections::PBTreeMap;
/// use pmem_core::Pool;
///
/// let mut pool = Pool::<PBTreeMap<u64, u64>>::volatile()?;
/// pool.tx(|tx| {
///     let map = tx.root_mut();
///     for k in 1..=100 {
///         map.insert(k, k * k)?;
///     }
///     Ok::<_, pmem_core::Error>(())
/// })?;
/// pool.read(|map| {
///     assert_eq!(map.len(), 100);
///     assert_eq!(map.get(&7), Some(&49));
///     assert_eq!(map.range(10..13).map(|(k, _)| *k).collect::<Vec<_>>(), [10, 11, 12]);
/// })?;
/// # Ok::<(), pmem_core::Error>(())
/// ```
#[repr(C)]
pub struct PBTreeMap<K, V> {
    pub(crate) hdr: Header,
    _m: PhantomData<(K, V)>,
}

impl<K, V> PBTreeMap<K, V> {
    pub(crate) const ELEMS: Elems = Elems::of::<K, V>();

    /// An empty map (it allocates nothing until the first insert).
    ///
    /// # Examples
    ///
    /// ```
    /// let map = pmem_collections::PBTreeMap::<u64, u64>::new();
    /// assert!(map.is_empty());
    /// ```
    pub const fn new() -> Self {
        PBTreeMap {
            hdr: Header::empty(Self::ELEMS),
            _m: PhantomData,
        }
    }

    /// An empty map whose nodes hold `leaf` entries and `inner` separators: a test hook
    /// for exercising deep trees with few keys. The default capacities fill 4 KiB.
    ///
    /// # Panics
    /// When a capacity is outside `4..=4096`.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{PBTreeMap, PVec};
    /// let mut pool = pmem_core::Pool::<PVec<PBTreeMap<u32, u32>>>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().push(PBTreeMap::with_node_capacity(4, 4))?;
    ///     tx.root_mut().last_mut().unwrap().extend((0..100).map(|k| (k, k)))
    /// })?;
    /// assert!(pool.read(|v| v[0].height())? >= 3); // 100 keys, at most 4 per node
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[doc(hidden)]
    pub fn with_node_capacity(leaf: usize, inner: usize) -> Self {
        assert!(
            (MIN_CAP..=MAX_CAP).contains(&leaf) && (MIN_CAP..=MAX_CAP).contains(&inner),
            "node capacity out of range"
        );
        let mut m = Self::new();
        m.hdr.leaf_cap = leaf as u16;
        m.hdr.inner_cap = inner as u16;
        m
    }

    /// Levels of inner nodes above the leaves (0 when the root is a leaf): a test
    /// hook for checking that tests reach deep trees.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// assert_eq!(pool.read(|m| m.height())?, 0);
    /// pool.tx(|tx| tx.root_mut().extend((0..10_000).map(|k| (k, k))))?;
    /// assert!(pool.read(|m| m.height())? >= 1);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[doc(hidden)]
    pub fn height(&self) -> usize {
        self.hdr.height as usize
    }

    /// The number of entries.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u8, u8>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().insert(1, 2).map(|_| ()))?;
    /// assert_eq!(pool.read(|m| m.len())?, 1);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.hdr.len as usize
    }

    /// Whether the map has no entries.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = pmem_collections::PBTreeMap::<u8, u8>::new();
    /// assert!(map.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.hdr.len == 0
    }

    pub(crate) fn anchor(&self) -> *const u8 {
        std::ptr::from_ref(self).cast()
    }

    pub(crate) fn geo(&self) -> Geo {
        self.hdr.geo_or_panic(Self::ELEMS)
    }

    fn end_leaf(&self, geo: &Geo, last: bool) -> Option<*mut u8> {
        end_leaf(&self.hdr, geo, last)
    }

    pub(crate) fn raw_iter(&self) -> RawIter {
        let geo = self.geo();
        if self.is_empty() {
            RawIter::empty(&self.hdr, geo)
        } else {
            RawIter::new(&self.hdr, geo, None, None, self.len(), true)
        }
    }

    /// An iterator over the entries, in key order (double-ended).
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u8, char>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([(2, 'b'), (1, 'a'), (3, 'c')]))?;
    /// pool.read(|m| {
    ///     assert_eq!(m.iter().collect::<Vec<_>>(), [(&1, &'a'), (&2, &'b'), (&3, &'c')]);
    ///     assert_eq!(m.iter().next_back(), Some((&3, &'c')));
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter {
            raw: self.raw_iter(),
            _m: PhantomData,
        }
    }

    /// An iterator over the keys, in order (double-ended).
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u8, char>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([(2, 'b'), (1, 'a')]))?;
    /// assert_eq!(pool.read(|m| m.keys().copied().collect::<Vec<_>>())?, [1, 2]);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn keys(&self) -> Keys<'_, K, V> {
        Keys {
            raw: self.raw_iter(),
            _m: PhantomData,
        }
    }

    /// An iterator over the values, in key order (double-ended).
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u8, char>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([(2, 'b'), (1, 'a')]))?;
    /// assert_eq!(pool.read(|m| m.values().rev().copied().collect::<String>())?, "ba");
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn values(&self) -> Values<'_, K, V> {
        Values {
            raw: self.raw_iter(),
            _m: PhantomData,
        }
    }
}

impl<K: Ord, V> PBTreeMap<K, V> {
    /// The leaf and search result for `cmp` (stored key vs target).
    ///
    /// # Panics
    /// With "pmem: corrupted pool" when a node on the way is corrupted.
    #[inline]
    pub(crate) fn find_by(
        &self,
        geo: &Geo,
        mut cmp: impl FnMut(&K) -> Ordering,
    ) -> Option<(*mut u8, Result<usize, usize>)> {
        if self.hdr.root == 0 {
            return None;
        }
        let mut off = self.hdr.root;
        for level in (1..=self.hdr.height as usize).rev() {
            let n = geo.search_node_or_panic(self.anchor(), off, level);
            // SAFETY: a checked inner node of this map holding valid keys.
            let (c, _) = unsafe { search_inner(geo, n, &mut cmp) };
            // SAFETY: `c <= len`.
            off = unsafe { Geo::child(n, c) };
        }
        let leaf = geo.search_node_or_panic(self.anchor(), off, 0);
        // SAFETY: a checked leaf of this map holding valid keys.
        Some((leaf, unsafe { search_leaf(geo, leaf, &mut cmp) }))
    }

    #[inline]
    fn find<Q: ?Sized + Ord>(&self, key: &Q) -> Option<(Geo, *mut u8, usize)>
    where
        K: Borrow<Q>,
    {
        let geo = self.geo();
        match self.find_by(&geo, |k| k.borrow().cmp(key)) {
            Some((leaf, Ok(i))) => Some((geo, leaf, i)),
            _ => None,
        }
    }

    /// The value for `key`.
    ///
    /// # Panics
    /// With "pmem: corrupted pool: ..." when a node on the way is corrupted (only a
    /// damaged file can cause this); the same holds for every read method.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().insert(1, 10).map(|_| ()))?;
    /// pool.read(|m| {
    ///     assert_eq!(m.get(&1), Some(&10));
    ///     assert_eq!(m.get(&2), None);
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[inline]
    pub fn get<Q: ?Sized + Ord>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        // SAFETY: a found entry of a checked leaf, borrowed with the map.
        self.find(key)
            .map(|(g, leaf, i)| unsafe { &*g.val(leaf, i).cast::<V>() })
    }

    /// The stored key and the value for `key`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().insert(1, 10).map(|_| ()))?;
    /// assert_eq!(pool.read(|m| m.get_key_value(&1).map(|(k, v)| (*k, *v)))?, Some((1, 10)));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn get_key_value<Q: ?Sized + Ord>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
    {
        // SAFETY: a found entry of a checked leaf, borrowed with the map.
        self.find(key).map(|(g, leaf, i)| unsafe {
            (&*g.key(leaf, i).cast::<K>(), &*g.val(leaf, i).cast::<V>())
        })
    }

    /// Whether the map holds `key`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().insert(1, 10).map(|_| ()))?;
    /// assert_eq!(pool.read(|m| (m.contains_key(&1), m.contains_key(&2)))?, (true, false));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn contains_key<Q: ?Sized + Ord>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_some()
    }

    /// The entry with the smallest key.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([(5, 50), (3, 30), (9, 90)]))?;
    /// assert_eq!(pool.read(|m| m.first_key_value().map(|(k, v)| (*k, *v)))?, Some((3, 30)));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn first_key_value(&self) -> Option<(&K, &V)> {
        self.iter().next()
    }

    /// The entry with the largest key.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend([(5, 50), (3, 30), (9, 90)]))?;
    /// assert_eq!(pool.read(|m| m.last_key_value().map(|(k, v)| (*k, *v)))?, Some((9, 90)));
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn last_key_value(&self) -> Option<(&K, &V)> {
        let geo = self.geo();
        let leaf = self.end_leaf(&geo, true)?;
        // SAFETY: a checked, non-empty leaf of this map.
        unsafe {
            let i = node::len(leaf) - 1;
            Some((
                &*geo.key(leaf, i).cast::<K>(),
                &*geo.val(leaf, i).cast::<V>(),
            ))
        }
    }

    /// The first position whose key is not below `bound`.
    fn lower(&self, geo: &Geo, bound: Bound<&impl Fn(&K) -> Ordering>) -> Option<Cursor> {
        let (leaf, i) = match bound {
            Bound::Unbounded => return self.end_leaf(geo, false).map(|leaf| Cursor { leaf, i: 0 }),
            Bound::Included(c) => {
                let (leaf, r) = self.find_by(geo, c)?;
                (leaf, r.unwrap_or_else(|i| i))
            }
            Bound::Excluded(c) => {
                let (leaf, r) = self.find_by(geo, c)?;
                (leaf, r.map_or_else(|i| i, |i| i + 1))
            }
        };
        // SAFETY: a checked leaf.
        if i < unsafe { node::len(leaf) } {
            return Some(Cursor { leaf, i });
        }
        // SAFETY: as above.
        let nx = unsafe { node::next(leaf) };
        (nx != 0).then(|| Cursor {
            leaf: step(geo, leaf, nx),
            i: 0,
        })
    }

    /// The last position whose key is not above `bound`.
    fn upper(&self, geo: &Geo, bound: Bound<&impl Fn(&K) -> Ordering>) -> Option<Cursor> {
        let (leaf, end) = match bound {
            Bound::Unbounded => {
                let leaf = self.end_leaf(geo, true)?;
                // SAFETY: a checked, non-empty leaf.
                let n = unsafe { node::len(leaf) };
                return Some(Cursor { leaf, i: n - 1 });
            }
            Bound::Included(c) => {
                let (leaf, r) = self.find_by(geo, c)?;
                (leaf, r.map_or_else(|i| i, |i| i + 1))
            }
            Bound::Excluded(c) => {
                let (leaf, r) = self.find_by(geo, c)?;
                (leaf, r.unwrap_or_else(|i| i))
            }
        };
        if end > 0 {
            return Some(Cursor { leaf, i: end - 1 });
        }
        // SAFETY: a checked leaf.
        let pv = unsafe { node::prev(leaf) };
        if pv == 0 {
            return None;
        }
        let leaf = step(geo, leaf, pv);
        // SAFETY: a checked, non-empty leaf.
        let n = unsafe { node::len(leaf) };
        Some(Cursor { leaf, i: n - 1 })
    }

    /// An iterator over the entries whose keys lie in `range`, in key order
    /// (double-ended).
    ///
    /// # Panics
    /// Like std: when the range's start is above its end, or they are equal and both
    /// excluded.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_collections::PBTreeMap;
    /// use std::ops::Bound::{Excluded, Included};
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().extend((0..10).map(|k| (k, k * 10))))?;
    /// pool.read(|m| {
    ///     assert_eq!(m.range(3..6).map(|(k, _)| *k).collect::<Vec<_>>(), [3, 4, 5]);
    ///     assert_eq!(m.range((Excluded(7), Included(9))).rev().map(|(_, v)| *v).collect::<Vec<_>>(), [90, 80]);
    ///     assert_eq!(m.range(20..).count(), 0);
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn range<Q: ?Sized + Ord, R: RangeBounds<Q>>(&self, range: R) -> Range<'_, K, V>
    where
        K: Borrow<Q>,
    {
        Range {
            raw: self.raw_range(&range),
            _m: PhantomData,
        }
    }

    /// The untyped iterator over the entries whose keys lie in `range`.
    ///
    /// # Panics
    /// As [`range`](Self::range).
    pub(crate) fn raw_range<Q: ?Sized + Ord, R: RangeBounds<Q>>(&self, range: &R) -> RawIter
    where
        K: Borrow<Q>,
    {
        check_range(range);
        let geo = self.geo();
        let empty = RawIter::empty(&self.hdr, geo);
        if self.is_empty() {
            return empty;
        }
        // An unbounded end stays unresolved until the iterator reaches for it.
        let front = match range.start_bound().map(by::<K, Q>) {
            Bound::Unbounded => None,
            b => match self.lower(&geo, b.as_ref()) {
                Some(c) => Some(c),
                None => return empty,
            },
        };
        let back = match range.end_bound().map(by::<K, Q>) {
            Bound::Unbounded => None,
            b => match self.upper(&geo, b.as_ref()) {
                Some(c) => Some(c),
                None => return empty,
            },
        };
        if let (Some(f), Some(b)) = (front, back) {
            // SAFETY: both cursors are entries of checked leaves of this map.
            if unsafe {
                (*geo.key(f.leaf, f.i).cast::<K>()).cmp(&*geo.key(b.leaf, b.i).cast::<K>())
            } == Ordering::Greater
            {
                return empty;
            }
        }
        RawIter::new(&self.hdr, geo, front, back, self.len(), false)
    }

    /// The position of the first entry whose key lies at or after the start of
    /// `range`, if any (for a pass over a range that removes entries as it goes).
    ///
    /// # Panics
    /// As [`range`](Self::range).
    pub(crate) fn range_start<Q: ?Sized + Ord, R: RangeBounds<Q>>(
        &self,
        range: &R,
    ) -> Option<Cursor>
    where
        K: Borrow<Q>,
    {
        check_range(range);
        if self.is_empty() {
            return None;
        }
        let geo = self.geo();
        self.lower(&geo, range.start_bound().map(by::<K, Q>).as_ref())
    }
}

/// Compares stored keys with `q`.
fn by<K: Borrow<Q>, Q: ?Sized + Ord>(q: &Q) -> impl Fn(&K) -> Ordering + '_ {
    move |k| k.borrow().cmp(q)
}

/// std's checks on range bounds.
fn check_range<Q: ?Sized + Ord>(r: &impl RangeBounds<Q>) {
    match (r.start_bound(), r.end_bound()) {
        (Bound::Excluded(s), Bound::Excluded(e)) if s == e => {
            panic!("range start and end are equal and excluded in PBTreeMap")
        }
        (Bound::Included(s) | Bound::Excluded(s), Bound::Included(e) | Bound::Excluded(e))
            if s > e =>
        {
            panic!("range start is greater than range end in PBTreeMap")
        }
        _ => {}
    }
}

impl<K, V> Default for PBTreeMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for PBTreeMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: PartialEq, V: PartialEq> PartialEq for PBTreeMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<K: Eq, V: Eq> Eq for PBTreeMap<K, V> {}

impl<K: PartialOrd, V: PartialOrd> PartialOrd for PBTreeMap<K, V> {
    /// Compares the entries in key order, lexicographically, as std does.
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.iter().partial_cmp(other.iter())
    }
}

impl<K: Ord, V: Ord> Ord for PBTreeMap<K, V> {
    /// Compares the entries in key order, lexicographically, as std does.
    fn cmp(&self, other: &Self) -> Ordering {
        self.iter().cmp(other.iter())
    }
}

impl<K: std::hash::Hash, V: std::hash::Hash> std::hash::Hash for PBTreeMap<K, V> {
    /// Hashes the length, then the entries in key order.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.len().hash(state);
        for kv in self {
            kv.hash(state);
        }
    }
}

impl<K: Ord + Borrow<Q>, Q: Ord + ?Sized, V> std::ops::Index<&Q> for PBTreeMap<K, V> {
    type Output = V;

    /// The value for `key`.
    ///
    /// # Panics
    /// If the key is absent (and, like every read, on a corrupted node).
    #[track_caller]
    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("key not found in PBTreeMap")
    }
}

impl<'a, K, V> IntoIterator for &'a PBTreeMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Iter<'a, K, V> {
        self.iter()
    }
}

// SAFETY: the header holds pool offsets and counts, no addresses; the nodes it owns
// hold `K`s and `V`s, which are PSafe.
unsafe impl<K: PSafe, V: PSafe> PSafe for PBTreeMap<K, V> {}

// SAFETY: the view's methods snapshot every byte they change (see `node`); visit and
// free walk every node and entry the header owns; the fingerprint covers K, V and the
// node format version.
unsafe impl<K: Persistent + Ord, V: Persistent> Persistent for PBTreeMap<K, V> {
    type View = PBTreeMapMut<K, V>;
    const TYPE_NAME: &'static str = "PBTreeMap";
    const FINGERPRINT: u64 = fp_u64(
        fp_u64(fp_str(FP_START, "PBTreeMap/1"), K::FINGERPRINT),
        V::FINGERPRINT,
    );
    const SCHEMA: &'static TypeSchema = &TypeSchema {
        name: "PBTreeMap",
        size: size_of::<Self>(),
        align: align_of::<Self>(),
        fingerprint: Self::FINGERPRINT,
        shape: Shape::Collection {
            kind: "PBTreeMap",
            params: &[K::schema, V::schema],
        },
    };

    unsafe fn view_mut<'a>(ptr: *mut Self) -> &'a mut PBTreeMapMut<K, V> {
        // SAFETY: `PBTreeMapMut` ends in a ViewTail; the fat pointer covers the map.
        unsafe { &mut *pmem_core::view_cast!(ptr, Self => PBTreeMapMut<K, V>) }
    }

    fn visit_owned(&self, v: &mut Visitor<'_>) -> Result<()> {
        super::check::visit::<K, V>(&self.hdr, v)
    }

    unsafe fn free_owned(ptr: *mut Self) -> Result<()> {
        // SAFETY: caller's contract: a map in a pool with an open transaction.
        unsafe {
            let t = Tree::new(std::ptr::addr_of_mut!((*ptr).hdr), Self::ELEMS)?;
            free_all::<K, V>(&t)
        }
    }

    /// Entries copied in key order into an empty tree.
    unsafe fn clone_into_pool(&self, dst: *mut Self) -> Result<()> {
        // SAFETY: caller's contract: `dst` is writable, logged, in the destination's
        // open transaction; an empty map owns nothing, and its view lends `dst`.
        unsafe {
            std::ptr::write(dst, PBTreeMap::new());
            let view = Self::view_mut(dst);
            for (k, v) in self {
                view.set(pmem_core::raw::CopyOf(k), pmem_core::raw::CopyOf(v))?;
            }
        }
        Ok(())
    }

    /// Unchanged: [`clone_into_pool`](Persistent::clone_into_pool). Otherwise the old
    /// leaves are walked by the stored key and value layout, and each entry's key and
    /// value are migrated and inserted into an empty tree, ordered by the new key's
    /// `Ord`.
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
        // SAFETY: caller's contract: `old` is a valid old tree header whose entries are
        // stored keys of `key` and values of `val`; each old value handed to the
        // closure is one of them, aligned, and `p` a logged value slot of the new tree.
        unsafe {
            super::migrate::migrate_tree::<K, V>(
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

/// Frees every node of `t` and everything its entries own (the header is left as is).
///
/// # Safety
/// - `t` is a tree of `K`/`V` entries in a pool whose transaction is open on this thread.
pub(crate) unsafe fn free_all<K: Persistent, V: Persistent>(t: &Tree) -> Result<()> {
    let h = t.header();
    if h.root == 0 {
        return Ok(());
    }
    let g = t.geo;
    // SAFETY: caller's contract; every entry below a leaf's length is initialised.
    unsafe {
        t.free_subtree(h.root, h.height as usize, &mut |leaf| {
            for i in 0..node::len(leaf) {
                K::free_owned(g.key(leaf, i).cast())?;
                V::free_owned(g.val(leaf, i).cast())?;
            }
            Ok(())
        })
    }
}

/// Serialises as a map in key order, as serde does for `BTreeMap<K, V>`.
#[cfg(feature = "serde")]
impl<K: serde::Serialize, V: serde::Serialize> serde::Serialize for PBTreeMap<K, V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}
