//! Removal: taking an entry out of its leaf, then restoring the occupancy invariants
//! bottom-up (borrow one entry from a sibling, else merge with it), shrinking the root
//! when it is left with one child; and freeing whole trees.
//!
//! Occupancy: a non-root node holds at least half its capacity, except the first and
//! the last leaf, which only need one entry (sequential inserts leave them short; see
//! `insert`).

// The tree algorithms read best with the textbook names: l/r/s for siblings, p and
// j for positions, n for lengths, g for the geometry.
#![allow(clippy::many_single_char_names)]

use pmem_core::Result;

use super::node::{self, corrupted, Geo};
use super::tree::{Path, Tree};

impl Tree {
    /// Removes the entry at `path` (its owned data already freed by the caller) and
    /// rebalances. Answers where the entry that followed it is now: `(leaf, index)`,
    /// where the index may equal the leaf's length (then it is the next leaf's first).
    /// When the tree became empty the leaf answered is freed; check `len` first.
    ///
    /// # Errors
    /// [`pmem_core::Error::Corrupted`] for a bad node.
    ///
    /// # Safety
    /// - `path` came from a descent on this tree that found an entry, unchanged since.
    pub(crate) unsafe fn remove_at(&mut self, path: &Path) -> Result<(*mut u8, usize)> {
        let g = self.geo;
        let (leaf, i) = (path.leaf, path.pos);
        // SAFETY: checked nodes of this tree (caller's contract).
        unsafe {
            g.leaf_remove(leaf, i);
            self.update_header(|h| h.len -= 1);
            // The removed key was the minimum of the subtree right of `path.sep`: that
            // separator becomes a copy of the new minimum. (If the leaf is now empty it
            // is merged away below, taking the separator with it.)
            if i == 0 && node::len(leaf) > 0 {
                if let Some((n, k)) = path.sep {
                    node::write_bytes(g.sep(n, k), g.key(leaf, 0), g.ks);
                }
            }
            self.rebalance_leaf(path, i)
        }
    }

    /// # Safety
    /// - as for [`Tree::remove_at`], after the entry is gone.
    unsafe fn rebalance_leaf(&mut self, path: &Path, i: usize) -> Result<(*mut u8, usize)> {
        let g = self.geo;
        let leaf = path.leaf;
        // SAFETY: checked nodes of this tree (caller's contract); siblings are checked
        // as they are resolved.
        unsafe {
            let n = node::len(leaf);
            if path.height == 0 {
                if n == 0 {
                    g.free_node(leaf, 0)?;
                    self.update_header(|h| h.root = 0);
                }
                return Ok((leaf, i));
            }
            let min = g.leaf_min();
            if n >= min || (n > 0 && (node::next(leaf) == 0 || node::prev(leaf) == 0)) {
                return Ok((leaf, i));
            }
            let (parent, j) = path.inner[path.height - 1];
            let (left, right) = g.leaf_siblings(parent, j)?;
            let at = match (left, right) {
                (Some(s), _) if n > 0 && node::len(s) > min => {
                    let sn = node::len(s);
                    g.leaf_move(leaf, 1, leaf, 0, n);
                    g.leaf_move(leaf, 0, s, sn - 1, 1);
                    node::set_len(leaf, n + 1);
                    node::set_len(s, sn - 1);
                    node::write_bytes(g.sep(parent, j - 1), g.key(leaf, 0), g.ks);
                    return Ok((leaf, i + 1));
                }
                (_, Some(r)) if n > 0 && node::len(r) > min => {
                    let rn = node::len(r);
                    g.leaf_move(leaf, n, r, 0, 1);
                    node::set_len(leaf, n + 1);
                    g.leaf_move(r, 0, r, 1, rn - 1);
                    node::set_len(r, rn - 1);
                    node::write_bytes(g.sep(parent, j), g.key(r, 0), g.ks);
                    return Ok((leaf, i));
                }
                (Some(s), _) => {
                    let sn = node::len(s);
                    self.merge_leaves(s, leaf, parent, j - 1)?;
                    (s, sn + i)
                }
                (None, Some(r)) => {
                    self.merge_leaves(leaf, r, parent, j)?;
                    (leaf, i)
                }
                (None, None) => {
                    return Err(corrupted(
                        "PBTreeMap inner node without keys",
                        node::off(parent),
                    ))
                }
            };
            self.rebalance_inner(path, path.height - 1)?;
            Ok(at)
        }
    }

    /// Appends leaf `r` to its left sibling `l`, unlinks and frees `r`, and removes
    /// separator `k` (and child `k + 1`, which is `r`) from `parent`.
    ///
    /// # Safety
    /// - checked sibling leaves of this tree whose entries fit in one leaf.
    unsafe fn merge_leaves(
        &mut self,
        l: *mut u8,
        r: *mut u8,
        parent: *mut u8,
        k: usize,
    ) -> Result<()> {
        let g = self.geo;
        // SAFETY: caller's contract.
        unsafe {
            let (ln, rn) = (node::len(l), node::len(r));
            debug_assert!(ln + rn <= g.leaf_cap);
            g.leaf_move(l, ln, r, 0, rn);
            node::set_len(l, ln + rn);
            let nx = node::next(r);
            node::set_next(l, nx);
            if nx != 0 {
                node::set_prev(g.node_at(l, nx, 0)?, node::off(l));
            }
            g.inner_remove(parent, k);
            g.free_node(r, 0)
        }
    }

    /// Restores occupancy of the inner node at depth `d` of `path` and upwards.
    ///
    /// # Safety
    /// - the nodes of `path` above depth `d` are unchanged since the descent.
    unsafe fn rebalance_inner(&mut self, path: &Path, mut d: usize) -> Result<()> {
        let g = self.geo;
        let min = g.inner_min();
        loop {
            let (nd, _) = path.inner[d];
            // SAFETY: checked nodes of this tree; siblings are checked as resolved.
            unsafe {
                let n = node::len(nd);
                if d == 0 {
                    if n == 0 {
                        let only = Geo::child(nd, 0);
                        g.free_node(nd, path.height)?;
                        self.update_header(|h| {
                            h.root = only;
                            h.height -= 1;
                        });
                    }
                    return Ok(());
                }
                if n >= min {
                    return Ok(());
                }
                let level = path.height - d;
                let (parent, j) = path.inner[d - 1];
                let pn = node::len(parent);
                let left = if j > 0 {
                    Some(g.node_at(parent, Geo::child(parent, j - 1), level)?)
                } else {
                    None
                };
                let right = if j < pn {
                    Some(g.node_at(parent, Geo::child(parent, j + 1), level)?)
                } else {
                    None
                };
                match (left, right) {
                    (Some(s), _) if node::len(s) > min => {
                        // Rotate right: s's last child moves to the front of nd.
                        let sn = node::len(s);
                        g.inner_move(nd, 1, nd, 0, n, 1, 0, n + 1);
                        node::write_bytes(g.sep(nd, 0), g.sep(parent, j - 1), g.ks);
                        node::write_u64(Geo::child_slot(nd, 0), Geo::child(s, sn));
                        node::write_bytes(g.sep(parent, j - 1), g.sep(s, sn - 1), g.ks);
                        node::set_len(s, sn - 1);
                        node::set_len(nd, n + 1);
                        return Ok(());
                    }
                    (_, Some(r)) if node::len(r) > min => {
                        // Rotate left: r's first child moves to the end of nd.
                        let rn = node::len(r);
                        node::write_bytes(g.sep(nd, n), g.sep(parent, j), g.ks);
                        node::write_u64(Geo::child_slot(nd, n + 1), Geo::child(r, 0));
                        node::write_bytes(g.sep(parent, j), g.sep(r, 0), g.ks);
                        g.inner_move(r, 0, r, 1, rn - 1, 0, 1, rn);
                        node::set_len(r, rn - 1);
                        node::set_len(nd, n + 1);
                        return Ok(());
                    }
                    (Some(s), _) => self.merge_inner(s, nd, parent, j - 1, level)?,
                    (None, Some(r)) => self.merge_inner(nd, r, parent, j, level)?,
                    (None, None) => {
                        return Err(corrupted(
                            "PBTreeMap inner node without keys",
                            node::off(parent),
                        ))
                    }
                }
            }
            d -= 1;
        }
    }

    /// Appends inner node `r` and the separator `k` between them to its left sibling
    /// `l`, then removes that separator and `r` from `parent` and frees `r`.
    ///
    /// # Safety
    /// - checked sibling inner nodes of this tree at `level` whose keys, with the
    ///   separator, fit in one node.
    unsafe fn merge_inner(
        &mut self,
        l: *mut u8,
        r: *mut u8,
        parent: *mut u8,
        k: usize,
        level: usize,
    ) -> Result<()> {
        let g = self.geo;
        // SAFETY: caller's contract.
        unsafe {
            let (ln, rn) = (node::len(l), node::len(r));
            debug_assert!(ln + 1 + rn <= g.inner_cap);
            node::write_bytes(g.sep(l, ln), g.sep(parent, k), g.ks);
            g.inner_move(l, ln + 1, r, 0, rn, ln + 1, 0, rn + 1);
            node::set_len(l, ln + 1 + rn);
            g.inner_remove(parent, k);
            g.free_node(r, level)
        }
    }

    /// Frees every node of the subtree at `off` (of `level`), calling `each_leaf` on
    /// every leaf first so that the caller frees what the entries own.
    ///
    /// # Errors
    /// [`pmem_core::Error::Corrupted`] for a bad node.
    ///
    /// # Safety
    /// - the subtree belongs to this tree, whose pool's transaction is open on this
    ///   thread; nothing uses it afterwards.
    pub(crate) unsafe fn free_subtree(
        &self,
        off: u64,
        level: usize,
        each_leaf: &mut dyn FnMut(*mut u8) -> Result<()>,
    ) -> Result<()> {
        let g = self.geo;
        let n = g.node_at(self.anchor(), off, level)?;
        // SAFETY: a checked node of this tree (caller's contract).
        unsafe {
            if level == 0 {
                each_leaf(n)?;
            } else {
                for c in 0..=node::len(n) {
                    self.free_subtree(Geo::child(n, c), level - 1, each_leaf)?;
                }
            }
            g.free_node(n, level)
        }
    }
}
