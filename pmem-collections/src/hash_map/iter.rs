//! Iterators over a [`PHashMap`](super::PHashMap).

use std::iter::FusedIterator;
use std::marker::PhantomData;

use pmem_core::Persistent;

use super::map::Bucket;
use super::raw::{FullBuckets, Table};

/// An iterator over the entries of a [`PHashMap`](crate::PHashMap), as `(&K, &V)`.
///
/// This `struct` is created by the [`iter`](crate::PHashMap::iter) method on
/// [`PHashMap`](crate::PHashMap).
pub struct Iter<'a, K, V> {
    table: Option<(Table, FullBuckets)>,
    left: usize,
    _m: PhantomData<&'a (K, V)>,
}

impl<K, V> Iter<'_, K, V> {
    pub(crate) fn new(table: Option<Table>, len: usize) -> Self {
        Iter {
            table: table.map(|t| (t, t.full_buckets())),
            left: len,
            _m: PhantomData,
        }
    }

    fn next_bucket(&mut self) -> Option<*mut Bucket<K, V>> {
        let (t, it) = self.table.as_mut()?;
        let i = it.next()?;
        self.left = self.left.saturating_sub(1);
        Some(t.bucket(i).cast())
    }
}

impl<K, V> Clone for Iter<'_, K, V> {
    fn clone(&self) -> Self {
        Iter {
            table: self.table.clone(),
            left: self.left,
            _m: PhantomData,
        }
    }
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);
    fn next(&mut self) -> Option<(&'a K, &'a V)> {
        // SAFETY: a full bucket holds an initialised entry, unchanged for `'a` (the map
        // is borrowed shared for `'a`).
        self.next_bucket()
            .map(|b| unsafe { (&(*b).key, &(*b).value) })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}
impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}
impl<K, V> FusedIterator for Iter<'_, K, V> {}

/// An iterator over the keys of a [`PHashMap`](crate::PHashMap).
///
/// This `struct` is created by the [`keys`](crate::PHashMap::keys) method on
/// [`PHashMap`](crate::PHashMap).
pub struct Keys<'a, K, V> {
    pub(crate) inner: Iter<'a, K, V>,
}

impl<'a, K, V> Iterator for Keys<'a, K, V> {
    type Item = &'a K;
    fn next(&mut self) -> Option<&'a K> {
        self.inner.next().map(|(k, _)| k)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}
impl<K, V> ExactSizeIterator for Keys<'_, K, V> {}
impl<K, V> Clone for Keys<'_, K, V> {
    fn clone(&self) -> Self {
        Keys {
            inner: self.inner.clone(),
        }
    }
}
impl<K, V> FusedIterator for Keys<'_, K, V> {}

/// An iterator over the values of a [`PHashMap`](crate::PHashMap).
///
/// This `struct` is created by the [`values`](crate::PHashMap::values) method on
/// [`PHashMap`](crate::PHashMap).
pub struct Values<'a, K, V> {
    pub(crate) inner: Iter<'a, K, V>,
}

impl<'a, K, V> Iterator for Values<'a, K, V> {
    type Item = &'a V;
    fn next(&mut self) -> Option<&'a V> {
        self.inner.next().map(|(_, v)| v)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}
impl<K, V> ExactSizeIterator for Values<'_, K, V> {}
impl<K, V> FusedIterator for Values<'_, K, V> {}

/// An iterator over the entries of a [`PHashMap`](crate::PHashMap) inside a transaction,
/// as `(&K, &mut V::View)`.
///
/// This `struct` is created by the [`iter_mut`](crate::PHashMapMut::iter_mut) method on
/// [`PHashMapMut`](crate::PHashMapMut).
pub struct IterMut<'a, K, V: Persistent> {
    pub(crate) inner: Iter<'a, K, V>,
    pub(crate) _m: PhantomData<&'a mut V::View>,
}

impl<'a, K, V: Persistent> Iterator for IterMut<'a, K, V> {
    type Item = (&'a K, &'a mut V::View);
    fn next(&mut self) -> Option<Self::Item> {
        let b = self.inner.next_bucket()?;
        // SAFETY: each full bucket is handed out once, for the borrow of the view that
        // made this iterator; keys are only read.
        Some(unsafe { (&(*b).key, V::view_mut(std::ptr::addr_of_mut!((*b).value))) })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}
impl<K, V: Persistent> ExactSizeIterator for IterMut<'_, K, V> {}
impl<K, V: Persistent> FusedIterator for IterMut<'_, K, V> {}

/// An iterator over the value views of a [`PHashMap`](crate::PHashMap) inside a
/// transaction.
///
/// This `struct` is created by the [`values_mut`](crate::PHashMapMut::values_mut) method
/// on [`PHashMapMut`](crate::PHashMapMut).
pub struct ValuesMut<'a, K, V: Persistent> {
    pub(crate) inner: IterMut<'a, K, V>,
}

impl<'a, K, V: Persistent> Iterator for ValuesMut<'a, K, V> {
    type Item = &'a mut V::View;
    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|(_, v)| v)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}
impl<K, V: Persistent> ExactSizeIterator for ValuesMut<'_, K, V> {}
impl<K, V: Persistent> FusedIterator for ValuesMut<'_, K, V> {}
