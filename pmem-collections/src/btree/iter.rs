//! Iterators over a `PBTreeMap`: a front and a back cursor walking the leaf chain
//! towards each other, so every iterator is double-ended and each step costs a load,
//! plus one link hop per leaf.

use std::fmt;
use std::iter::FusedIterator;
use std::marker::PhantomData;

use pmem_core::Persistent;

use super::node::{self, Geo};
use super::tree::Header;

/// A position in a leaf.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub(crate) leaf: *mut u8,
    pub(crate) i: usize,
}

/// The untyped core of every iterator: yields entry addresses from `front` to `back`
/// (both included), at most `left` of them. An end given as `None` is the first or
/// last entry of the tree, found only if that end is used (so `iter().next()` and
/// `range(k..).take(10)` never descend the other side of the tree).
#[derive(Clone)]
pub(crate) struct RawIter {
    front: Option<Cursor>,
    back: Option<Cursor>,
    /// Entries left to yield when exact, else an upper bound (the map's length, which
    /// keeps a corrupted leaf chain from looping); 0 once the ends have met.
    left: usize,
    exact: bool,
    geo: Geo,
    hdr: *const Header,
}

impl RawIter {
    /// Yields `front..=back` of the tree at `hdr`. `left` is the exact count when
    /// `exact`, else a bound.
    pub(crate) fn new(
        hdr: &Header,
        geo: Geo,
        front: Option<Cursor>,
        back: Option<Cursor>,
        left: usize,
        exact: bool,
    ) -> RawIter {
        RawIter {
            front,
            back,
            left,
            exact,
            geo,
            hdr,
        }
    }

    pub(crate) fn empty(hdr: &Header, geo: Geo) -> RawIter {
        RawIter {
            front: None,
            back: None,
            left: 0,
            exact: true,
            geo,
            hdr,
        }
    }

    pub(crate) fn len_hint(&self) -> (usize, Option<usize>) {
        if self.exact {
            (self.left, Some(self.left))
        } else {
            (usize::from(self.left > 0), Some(self.left))
        }
    }

    /// The first or last entry of the tree.
    fn end(&self, last: bool) -> Cursor {
        // SAFETY: the iterator borrows the map whose header this is.
        let hdr = unsafe { &*self.hdr };
        let leaf = end_leaf(hdr, &self.geo, last)
            .unwrap_or_else(|| panic!("pmem: corrupted pool: PBTreeMap without its entries"));
        // SAFETY: a checked, non-empty leaf.
        let n = unsafe { node::len(leaf) };
        Cursor {
            leaf,
            i: if last { n - 1 } else { 0 },
        }
    }

    /// Counts the entry at `c` out; answers whether the ends have met.
    fn take(&mut self, c: Cursor, other: Option<Cursor>, at_end: bool) -> (*mut u8, *mut u8) {
        if other == Some(c) || at_end {
            self.left = 0;
        } else {
            self.left -= 1;
        }
        // SAFETY: the cursor is inside a checked leaf of a live tree (iterators borrow
        // the map), `c.i < len`.
        unsafe { (self.geo.key(c.leaf, c.i), self.geo.val(c.leaf, c.i)) }
    }

    pub(crate) fn next(&mut self) -> Option<(*mut u8, *mut u8)> {
        if self.left == 0 {
            return None;
        }
        let c = match self.front {
            Some(c) => c,
            None => self.end(false),
        };
        // SAFETY: `c.leaf` is a checked leaf; the next one is checked as resolved.
        unsafe {
            let n = node::len(c.leaf);
            let last = c.i + 1 == n && node::next(c.leaf) == 0;
            let item = self.take(c, self.back, last);
            if self.left > 0 {
                self.front = Some(if c.i + 1 < n {
                    Cursor {
                        leaf: c.leaf,
                        i: c.i + 1,
                    }
                } else {
                    Cursor {
                        leaf: step(&self.geo, c.leaf, node::next(c.leaf)),
                        i: 0,
                    }
                });
            }
            Some(item)
        }
    }

    pub(crate) fn next_back(&mut self) -> Option<(*mut u8, *mut u8)> {
        if self.left == 0 {
            return None;
        }
        let c = match self.back {
            Some(c) => c,
            None => self.end(true),
        };
        // SAFETY: as in `next`.
        unsafe {
            let first = c.i == 0 && node::prev(c.leaf) == 0;
            let item = self.take(c, self.front, first);
            if self.left > 0 {
                self.back = Some(if c.i > 0 {
                    Cursor {
                        leaf: c.leaf,
                        i: c.i - 1,
                    }
                } else {
                    let p = step(&self.geo, c.leaf, node::prev(c.leaf));
                    Cursor {
                        leaf: p,
                        i: node::len(p) - 1,
                    }
                });
            }
            Some(item)
        }
    }
}

/// The leaf at the first or last end of the tree, if it has entries.
///
/// # Panics
/// With "pmem: corrupted pool" when a node on the way is corrupted.
pub(crate) fn end_leaf(hdr: &Header, geo: &Geo, last: bool) -> Option<*mut u8> {
    if hdr.root == 0 {
        return None;
    }
    let anchor = std::ptr::from_ref(hdr).cast::<u8>();
    let mut off = hdr.root;
    for level in (1..=hdr.height as usize).rev() {
        let n = geo.node_or_panic(anchor, off, level);
        // SAFETY: a checked inner node; its length bounds the child index.
        off = unsafe { Geo::child(n, if last { node::len(n) } else { 0 }) };
    }
    let leaf = geo.node_or_panic(anchor, off, 0);
    // SAFETY: a checked leaf.
    (unsafe { node::len(leaf) } > 0).then_some(leaf)
}

/// The neighbouring leaf at `off`, checked and non-empty.
///
/// # Panics
/// With "pmem: corrupted pool" when the link is 0 or the leaf is bad or empty.
#[track_caller]
pub(crate) fn step(geo: &Geo, from: *mut u8, off: u64) -> *mut u8 {
    let leaf = geo.node_or_panic(from, off, 0);
    // SAFETY: a checked leaf.
    let n = unsafe { node::len(leaf) };
    assert!(
        off != 0 && n > 0,
        "pmem: corrupted pool: PBTreeMap leaf chain broken at offset {:#x}",
        node::off(from)
    );
    leaf
}

macro_rules! iterator {
    ($(#[$m:meta])* $name:ident, $item:ty, |$k:ident, $v:ident| $make:expr, exact: $exact:tt) => {
        $(#[$m])*
        pub struct $name<'a, K, V> {
            pub(crate) raw: RawIter,
            pub(crate) _m: PhantomData<&'a (K, V)>,
        }

        impl<'a, K: 'a, V: 'a> Iterator for $name<'a, K, V> {
            type Item = $item;

            fn next(&mut self) -> Option<$item> {
                // SAFETY: the raw iterator yields initialised entries of a map borrowed for 'a.
                self.raw.next().map(|($k, $v)| unsafe { $make })
            }

            fn size_hint(&self) -> (usize, Option<usize>) {
                self.raw.len_hint()
            }
        }

        impl<'a, K: 'a, V: 'a> DoubleEndedIterator for $name<'a, K, V> {
            fn next_back(&mut self) -> Option<$item> {
                // SAFETY: as in `next`.
                self.raw.next_back().map(|($k, $v)| unsafe { $make })
            }
        }

        impl<'a, K: 'a, V: 'a> FusedIterator for $name<'a, K, V> {}

        // SAFETY: the iterator only hands out shared references into a map it borrows
        // shared; it is as thread-safe as `&K` and `&V`.
        unsafe impl<K: Sync, V: Sync> Send for $name<'_, K, V> {}
        // SAFETY: as above; `&self` methods read nothing mutable.
        unsafe impl<K: Sync, V: Sync> Sync for $name<'_, K, V> {}

        impl<K, V> Clone for $name<'_, K, V> {
            fn clone(&self) -> Self {
                $name { raw: self.raw.clone(), _m: PhantomData }
            }
        }

        iterator!(@exact $exact $name);
    };
    (@exact true $name:ident) => {
        impl<'a, K: 'a, V: 'a> ExactSizeIterator for $name<'a, K, V> {}
    };
    (@exact false $name:ident) => {};
}

iterator!(
    /// An iterator over the entries of a [`PBTreeMap`](super::PBTreeMap), in key order.
    ///
    /// This `struct` is created by the [`iter`](super::PBTreeMap::iter) method on
    /// [`PBTreeMap`](super::PBTreeMap).
    Iter, (&'a K, &'a V), |k, v| (&*k.cast::<K>(), &*v.cast::<V>()), exact: true
);

iterator!(
    /// An iterator over the keys of a [`PBTreeMap`](super::PBTreeMap), in order.
    ///
    /// This `struct` is created by the [`keys`](super::PBTreeMap::keys) method on
    /// [`PBTreeMap`](super::PBTreeMap).
    Keys, &'a K, |k, _v| &*k.cast::<K>(), exact: true
);

iterator!(
    /// An iterator over the values of a [`PBTreeMap`](super::PBTreeMap), in key order.
    ///
    /// This `struct` is created by the [`values`](super::PBTreeMap::values) method on
    /// [`PBTreeMap`](super::PBTreeMap).
    Values, &'a V, |_k, v| &*v.cast::<V>(), exact: true
);

iterator!(
    /// An iterator over a sub-range of the entries of a [`PBTreeMap`](super::PBTreeMap).
    ///
    /// This `struct` is created by the [`range`](super::PBTreeMap::range) method on
    /// [`PBTreeMap`](super::PBTreeMap).
    Range, (&'a K, &'a V), |k, v| (&*k.cast::<K>(), &*v.cast::<V>()), exact: false
);

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for Iter<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for Range<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<K: fmt::Debug, V> fmt::Debug for Keys<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<K, V: fmt::Debug> fmt::Debug for Values<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// The iterators that hand out each value's view ([`IterMut`] and
/// [`RangeMut`](super::btree_map::RangeMut)): one definition, so their safety argument is
/// written once.
macro_rules! view_iterator {
    ($(#[$m:meta])* $name:ident, exact: $exact:tt) => {
        $(#[$m])*
        pub struct $name<'a, K, V: Persistent> {
            pub(crate) raw: $crate::btree::iter::RawIter,
            pub(crate) _m: PhantomData<(&'a K, &'a mut V::View)>,
        }

        impl<'a, K: 'a, V: Persistent> Iterator for $name<'a, K, V> {
            type Item = (&'a K, &'a mut V::View);

            fn next(&mut self) -> Option<Self::Item> {
                let (k, v) = self.raw.next()?;
                // SAFETY: each entry is yielded once, from a map borrowed exclusively for 'a.
                Some(unsafe { (&*k.cast::<K>(), V::view_mut(v.cast())) })
            }

            fn size_hint(&self) -> (usize, Option<usize>) {
                self.raw.len_hint()
            }
        }

        impl<'a, K: 'a, V: Persistent> DoubleEndedIterator for $name<'a, K, V> {
            fn next_back(&mut self) -> Option<Self::Item> {
                let (k, v) = self.raw.next_back()?;
                // SAFETY: as in `next`.
                Some(unsafe { (&*k.cast::<K>(), V::view_mut(v.cast())) })
            }
        }

        impl<'a, K: 'a, V: Persistent> FusedIterator for $name<'a, K, V> {}

        view_iterator!(@exact $exact $name);
    };
    (@exact true $name:ident) => {
        impl<'a, K: 'a, V: Persistent> ExactSizeIterator for $name<'a, K, V> {}
    };
    (@exact false $name:ident) => {};
}
pub(crate) use view_iterator;

view_iterator!(
    /// An iterator over the entries of a map with each value's view, in key order.
    ///
    /// This `struct` is created by the [`iter_mut`](super::PBTreeMapMut::iter_mut) method
    /// on [`PBTreeMapMut`](super::PBTreeMapMut).
    IterMut, exact: true
);

/// An iterator over the views of a map's values, in key order.
///
/// This `struct` is created by the [`values_mut`](super::PBTreeMapMut::values_mut)
/// method on [`PBTreeMapMut`](super::PBTreeMapMut).
pub struct ValuesMut<'a, K, V: Persistent> {
    pub(crate) inner: IterMut<'a, K, V>,
}

impl<'a, K: 'a, V: Persistent> Iterator for ValuesMut<'a, K, V> {
    type Item = &'a mut V::View;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|(_, v)| v)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<'a, K: 'a, V: Persistent> DoubleEndedIterator for ValuesMut<'a, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(|(_, v)| v)
    }
}

impl<'a, K: 'a, V: Persistent> ExactSizeIterator for ValuesMut<'a, K, V> {}
impl<'a, K: 'a, V: Persistent> FusedIterator for ValuesMut<'a, K, V> {}
