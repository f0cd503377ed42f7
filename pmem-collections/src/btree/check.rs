//! The integrity walk behind `Pool::check` for B-trees: every node is reported to the
//! visitor (owned once, live), every entry's owned data is visited, and the structure
//! is verified: levels, lengths against capacities and minimum occupancy, strictly
//! increasing keys, every separator a byte-for-byte copy of the minimum of its right
//! subtree, the leaf chain in key order, and the entry count.

use std::cmp::Ordering;

use pmem_core::{Persistent, Result, Visitor};

use super::node::{self, corrupted, Elems, Geo};
use super::tree::Header;

struct Walk<'v, 'a, K, V> {
    geo: Geo,
    v: &'v mut Visitor<'a>,
    prev_leaf: *mut u8,
    prev_key: *const K,
    count: u64,
    _v: std::marker::PhantomData<V>,
}

/// Walks the tree with header `hdr` (see the module docs).
///
/// # Errors
/// [`pmem_core::Error::Corrupted`] naming the first violation and where it is.
pub(crate) fn visit<K: Persistent + Ord, V: Persistent>(
    hdr: &Header,
    v: &mut Visitor<'_>,
) -> Result<()> {
    let here = pmem_core::raw::offset_of(std::ptr::from_ref(hdr).cast()).unwrap_or(0);
    let geo = hdr.geo(Elems::of::<K, V>())?;
    if hdr.root == 0 {
        if hdr.len != 0 || hdr.height != 0 {
            return Err(corrupted("PBTreeMap without a root but with entries", here));
        }
        return Ok(());
    }
    let mut w = Walk::<K, V> {
        geo,
        v,
        prev_leaf: std::ptr::null_mut(),
        prev_key: std::ptr::null(),
        count: 0,
        _v: std::marker::PhantomData,
    };
    w.node(
        std::ptr::from_ref(hdr).cast(),
        hdr.root,
        hdr.height as usize,
        true,
    )?;
    // SAFETY: `prev_leaf` is the last leaf visited, a checked node.
    if unsafe { node::next(w.prev_leaf) } != 0 {
        return Err(corrupted(
            "PBTreeMap: the last leaf links to a next one",
            node::off(w.prev_leaf),
        ));
    }
    if w.count != hdr.len {
        return Err(corrupted(
            "PBTreeMap: entry count differs from the stored length",
            here,
        ));
    }
    Ok(())
}

impl<K: Persistent + Ord, V: Persistent> Walk<'_, '_, K, V> {
    /// Visits the subtree at `off`; answers its smallest key.
    fn node(&mut self, anchor: *const u8, off: u64, level: usize, root: bool) -> Result<*const u8> {
        let g = self.geo;
        let n = g.node_at(anchor, off, level)?;
        self.v.owned(
            n,
            if level == 0 {
                g.leaf_size
            } else {
                g.inner_size
            },
        )?;
        // SAFETY: a checked node (bounds, level, length) that this walk owns once.
        unsafe {
            let len = node::len(n);
            if level == 0 {
                let edge = node::next(n) == 0 || node::prev(n) == 0;
                let min_ok = if root {
                    len >= 1
                } else {
                    len >= g.leaf_min() || (len >= 1 && edge)
                };
                if !min_ok {
                    return Err(corrupted("PBTreeMap leaf below its minimum occupancy", off));
                }
                let back = if self.prev_leaf.is_null() {
                    0
                } else {
                    node::off(self.prev_leaf)
                };
                if node::prev(n) != back
                    || (!self.prev_leaf.is_null() && node::next(self.prev_leaf) != off)
                {
                    return Err(corrupted("PBTreeMap leaf chain out of key order", off));
                }
                for i in 0..len {
                    let k = g.key(n, i).cast::<K>();
                    let val = g.val(n, i).cast::<V>();
                    // Each entry is validated before it is read as a `K` or a `V`.
                    self.v.enter("{key}");
                    self.v.validate(k)?;
                    self.v.leave();
                    self.v.enter("[]");
                    self.v.validate(val)?;
                    self.v.leave();
                    if !self.prev_key.is_null() && (*self.prev_key).cmp(&*k) != Ordering::Less {
                        return Err(corrupted("PBTreeMap keys out of order", off));
                    }
                    self.prev_key = k;
                    self.v.enter("{key}");
                    (*k).visit_owned(self.v)?;
                    self.v.leave();
                    self.v.enter("[]");
                    (*val).visit_owned(self.v)?;
                    self.v.leave();
                }
                self.prev_leaf = n;
                self.count += len as u64;
                return Ok(g.key(n, 0));
            }
            if len < if root { 1 } else { g.inner_min() } {
                return Err(corrupted(
                    "PBTreeMap inner node below its minimum occupancy",
                    off,
                ));
            }
            let first = self.node(n, Geo::child(n, 0), level - 1, false)?;
            for i in 0..len {
                let min = self.node(n, Geo::child(n, i + 1), level - 1, false)?;
                if std::slice::from_raw_parts(g.sep(n, i), g.ks)
                    != std::slice::from_raw_parts(min, g.ks)
                {
                    return Err(corrupted(
                        "PBTreeMap separator is not the minimum of its right subtree",
                        off,
                    ));
                }
            }
            Ok(first)
        }
    }
}
