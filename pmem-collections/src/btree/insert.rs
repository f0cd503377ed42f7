//! Insertion: making room in a full leaf (sharing entries with a sibling, or splitting)
//! and pushing separators up, growing the root when it splits.
//!
//! The new entry itself is written by the caller into the spare slot (`len`) of the
//! leaf that [`Tree::make_room`] answers, then rotated into place by
//! [`Tree::finish_insert`]; so a panic inside the caller's `PInit` leaves a consistent
//! tree. Room is always made so that the new entry never becomes the first key of a
//! leaf other than the leftmost, which keeps every separator a copy of an existing key
//! (the exact-minimum invariant) without rewriting separators after the insert.
//!
//! Allocation failures change nothing: every node a split may need (a leaf, one inner
//! node per full inner node above it, a new root when all of them are full) is
//! allocated first, into a [`Spare`], before any byte of the tree is written; the
//! nodes a split does not use are given back.

// The tree algorithms read best with the textbook names: l/r/s for siblings, p and
// j for positions, n for lengths, g for the geometry.
#![allow(clippy::many_single_char_names)]

use pmem_core::{raw, Result};

use super::node::{self, corrupted, Geo, MAX_HEIGHT};
use super::tree::{Path, Tree};

/// Nodes allocated for one split before it changes anything (see the module docs).
pub(crate) struct Spare {
    leaf: Option<*mut u8>,
    /// `inner[i]` is a fresh inner node of level `i + 1`, taken by the split at that
    /// level (or by the new root).
    inner: Vec<Option<*mut u8>>,
}

impl Spare {
    pub(crate) fn leaf(&mut self) -> *mut u8 {
        self.leaf
            .take()
            .expect("a spare leaf was allocated for this split")
    }

    fn inner(&mut self, level: usize) -> *mut u8 {
        self.inner
            .get_mut(level - 1)
            .and_then(Option::take)
            .expect("a spare inner node was allocated for this level")
    }
}

impl Tree {
    /// Allocates the root leaf of an empty tree.
    ///
    /// # Safety
    /// - the tree is empty; its pool's transaction is open on this thread.
    pub(crate) unsafe fn make_root(&mut self) -> Result<*mut u8> {
        // SAFETY: caller's contract.
        let leaf = unsafe { self.geo.alloc_leaf(self.anchor())? };
        let off = node::off(leaf);
        self.update_header(|h| {
            h.root = off;
            h.height = 0;
        });
        Ok(leaf)
    }

    /// Counts the entry the caller initialised in slot `len` of `leaf`, moving it to
    /// position `pos`.
    ///
    /// # Safety
    /// - `(leaf, pos)` came from [`Tree::make_room`] or [`Tree::make_root`] and the
    ///   spare slot holds an initialised entry.
    pub(crate) unsafe fn finish_insert(&mut self, leaf: *mut u8, pos: usize) {
        // SAFETY: caller's contract.
        unsafe { self.geo.leaf_rotate_in(leaf, pos) };
        self.update_header(|h| h.len += 1);
    }

    /// Inserts an entry whose key and value bytes are at `kp` and `vp` (moved from
    /// another tree of the same pool, which forgets them) where a descent that did not
    /// find the key ended (`None`: the tree is empty). An allocation error changes
    /// nothing.
    ///
    /// # Safety
    /// - `path` came from [`Tree::descend`] on this tree, unchanged since; `kp` and `vp`
    ///   hold a key and a value of this tree's types, outside this tree's nodes.
    pub(crate) unsafe fn insert_bytes(
        &mut self,
        path: Option<Path>,
        kp: *const u8,
        vp: *const u8,
    ) -> Result<()> {
        let g = self.geo;
        // SAFETY: caller's contract; room is made first (all or nothing), then the
        // spare slot and the rotated range are logged and written, then counted.
        unsafe {
            let (leaf, pos) = match path {
                None => (self.make_root()?, 0),
                Some(mut p) => self.make_room(&mut p)?,
            };
            let n = node::len(leaf);
            raw::snapshot(g.key(leaf, pos), (n + 1 - pos) * g.ks);
            raw::snapshot(g.val(leaf, pos), (n + 1 - pos) * g.vs);
            std::ptr::copy_nonoverlapping(kp, g.key(leaf, n), g.ks);
            std::ptr::copy_nonoverlapping(vp, g.val(leaf, n), g.vs);
            self.finish_insert(leaf, pos);
        }
        Ok(())
    }

    /// Makes room for a new entry at `path.pos` of `path.leaf`. Answers the leaf and
    /// position where the entry goes; that leaf has a free slot at its `len`.
    ///
    /// # Errors
    /// Allocation failures and [`pmem_core::Error::Corrupted`].
    ///
    /// # Safety
    /// - `path` came from [`Tree::descend`] on this tree, unchanged since.
    pub(crate) unsafe fn make_room(&mut self, path: &mut Path) -> Result<(*mut u8, usize)> {
        // SAFETY: the path's nodes are checked nodes of this tree (caller's contract).
        unsafe {
            if node::len(path.leaf) < self.geo.leaf_cap {
                return Ok((path.leaf, path.pos));
            }
            let append = (path.pos == self.geo.leaf_cap && node::next(path.leaf) == 0)
                || (path.pos == 0 && node::prev(path.leaf) == 0);
            if path.height > 0 && !append {
                if let Some(at) = self.share(path)? {
                    return Ok(at);
                }
            }
            let mut spare = self.reserve(path)?;
            let mut at = None;
            if path.height > 0 && !append {
                at = self.spread(path, &mut spare)?;
            }
            let at = match at {
                Some(at) => at,
                None => self.split_leaf(path, &mut spare)?,
            };
            self.release(spare)?;
            Ok(at)
        }
    }

    /// Allocates the nodes a split of the full leaf at `path` may need: a leaf, an
    /// inner node per full inner node above it, and a new root when every inner node
    /// on the path is full. On an error nothing is left allocated.
    ///
    /// # Safety
    /// - as for [`Tree::make_room`].
    unsafe fn reserve(&mut self, path: &Path) -> Result<Spare> {
        let g = self.geo;
        let mut levels = 0;
        let mut d = path.height;
        loop {
            if d == 0 {
                // Every inner node splits: a new root above them.
                levels += 1;
                if path.height + 1 >= MAX_HEIGHT {
                    return Err(corrupted(
                        "PBTreeMap would exceed its maximum height",
                        self.header().root,
                    ));
                }
                break;
            }
            d -= 1;
            // SAFETY: a checked inner node on the path (caller's contract).
            if unsafe { node::len(path.inner[d].0) } < g.inner_cap {
                break;
            }
            levels += 1;
        }
        let mut spare = Spare {
            leaf: None,
            inner: Vec::with_capacity(levels),
        };
        let r = (|| {
            // SAFETY: the tree's pool has an open transaction (caller's contract).
            unsafe {
                spare.leaf = Some(g.alloc_leaf(self.anchor())?);
                for level in 1..=levels {
                    spare.inner.push(Some(g.alloc_inner(self.anchor(), level)?));
                }
            }
            Ok(())
        })();
        if let Err(e) = r {
            // Best effort: the allocations are this transaction's own and nothing
            // refers to them.
            let _ = self.release(spare);
            return Err(e);
        }
        Ok(spare)
    }

    /// Frees the nodes of `spare` that the split did not use.
    fn release(&self, spare: Spare) -> Result<()> {
        let g = self.geo;
        // SAFETY: fresh nodes of this tree's pool that nothing refers to, given back
        // at once so that the transaction can reuse them (a bulk load would otherwise
        // leave one unused leaf per spread in the heap).
        unsafe {
            if let Some(l) = spare.leaf {
                g.free_fresh_node(l, 0)?;
            }
            for (i, n) in spare.inner.into_iter().enumerate() {
                if let Some(n) = n {
                    g.free_fresh_node(n, i + 1)?;
                }
            }
        }
        Ok(())
    }

    /// Moves entries of the full leaf into a sibling with a free slot, if the two can
    /// hold everything within their bounds (the fuller tree is smaller: see
    /// DESIGN-NOTES-btree.md). Prefers the sibling with more free slots.
    ///
    /// # Safety
    /// - as for [`Tree::make_room`], with the leaf full and `height > 0`.
    unsafe fn share(&mut self, path: &Path) -> Result<Option<(*mut u8, usize)>> {
        let g = self.geo;
        let (parent, j) = path.inner[path.height - 1];
        let (leaf, p) = (path.leaf, path.pos);
        // SAFETY: checked nodes of this tree; `j <= len(parent)`.
        unsafe {
            let (left, right) = g.leaf_siblings(parent, j)?;
            // (free slots, left node, right node, separator index, new entry's position
            // in the two nodes' concatenation)
            let mut options = [
                left.map(|l| (g.leaf_cap - node::len(l), l, leaf, j - 1, node::len(l) + p)),
                right.map(|r| (g.leaf_cap - node::len(r), leaf, r, j, p)),
            ];
            if options[0].map_or(0, |o| o.0) > options[1].map_or(0, |o| o.0) {
                options.swap(0, 1);
            }
            for (free, a, b, k, v) in options.into_iter().rev().flatten() {
                if free == 0 {
                    continue;
                }
                if let Some(fa) = self.share_plan(node::len(a), node::len(b), v) {
                    return Ok(Some(self.share_do(a, b, parent, k, v, fa)));
                }
            }
            Ok(None)
        }
    }

    /// How many entries (the new one included) the left of two neighbouring leaves
    /// holds after sharing, or `None` if no split of `na + nb + 1` entries keeps both
    /// within `min..=cap` without making the new entry (at `v`) the right leaf's first.
    fn share_plan(&self, na: usize, nb: usize, v: usize) -> Option<usize> {
        let (cap, min) = (self.geo.leaf_cap, self.geo.leaf_min());
        let total = na + nb + 1;
        let mut fa = total.div_ceil(2);
        if v == fa {
            if fa < cap && total - fa > min {
                fa += 1;
            } else {
                fa -= 1;
            }
        }
        let ok = |n: usize| (min.max(1)..=cap).contains(&n);
        (ok(fa) && ok(total - fa)).then_some(fa)
    }

    /// Rebalances neighbouring leaves `a` and `b` (separator `k` of `parent` between
    /// them) so that `a` ends with `fa` entries counting the new one at concatenated
    /// position `v`. Answers where the new entry goes.
    ///
    /// # Safety
    /// - checked neighbouring leaves of this tree under `parent`; `fa` came from
    ///   [`Tree::share_plan`] for their lengths and `v`.
    unsafe fn share_do(
        &mut self,
        a: *mut u8,
        b: *mut u8,
        parent: *mut u8,
        k: usize,
        v: usize,
        fa: usize,
    ) -> (*mut u8, usize) {
        let g = self.geo;
        // SAFETY: caller's contract; every range stays within `cap` by the plan.
        unsafe {
            let (na, nb) = (node::len(a), node::len(b));
            let keep = if v < fa { fa - 1 } else { fa };
            if keep < na {
                let m = na - keep;
                g.leaf_move(b, m, b, 0, nb);
                g.leaf_move(b, 0, a, keep, m);
                node::set_len(b, nb + m);
                node::set_len(a, keep);
            } else if keep > na {
                let m = keep - na;
                g.leaf_move(a, na, b, 0, m);
                node::set_len(a, keep);
                g.leaf_move(b, 0, b, m, nb - m);
                node::set_len(b, nb - m);
            }
            node::write_bytes(g.sep(parent, k), g.key(b, 0), g.ks);
            if v < fa {
                (a, v)
            } else {
                (b, v - fa)
            }
        }
    }

    /// Splits the full leaf into itself and a new right neighbour, then pushes the
    /// separator up.
    ///
    /// # Safety
    /// - as for [`Tree::make_room`], with the leaf full; `spare` came from
    ///   [`Tree::reserve`] for this path.
    unsafe fn split_leaf(&mut self, path: &Path, spare: &mut Spare) -> Result<(*mut u8, usize)> {
        let g = self.geo;
        let cap = g.leaf_cap;
        let (l, p) = (path.leaf, path.pos);
        // SAFETY: `l` is a checked, full leaf of this tree; `r` is fresh.
        unsafe {
            let nx = node::next(l);
            // Appending at the end of the last leaf (ascending inserts) keeps the left
            // leaf full: it moves one entry, so the new entry is not `r`'s first key.
            // Prepending to the first leaf (descending inserts) keeps the right one
            // full: the first leaf keeps one entry and takes the new one.
            let (keep, at_left) = if nx == 0 && p == cap {
                (cap - 1, false)
            } else if p == 0 && node::prev(l) == 0 {
                (1, true)
            } else {
                let mut s = (cap + 2) / 2;
                if p == s {
                    s -= 1;
                }
                if p < s {
                    (s - 1, true)
                } else {
                    (s, false)
                }
            };
            let r = spare.leaf();
            g.leaf_move(r, 0, l, keep, cap - keep);
            node::set_len(r, cap - keep);
            node::set_len(l, keep);
            let (loff, roff) = (node::off(l), node::off(r));
            node::set_prev(r, loff);
            node::set_next(r, nx);
            if nx != 0 {
                node::set_prev(g.node_at(l, nx, 0)?, roff);
            }
            node::set_next(l, roff);
            self.insert_into_parent(path, g.key(r, 0), roff, spare);
            Ok(if at_left { (l, p) } else { (r, p - keep) })
        }
    }

    /// Inserts separator bytes `sep` and the new right sibling `child` above the node
    /// at the bottom of `path`, splitting inner nodes and growing the root as needed.
    ///
    /// # Safety
    /// - `path` is the unchanged path to the node just split; `sep` points to `ks`
    ///   readable bytes that this call does not move; `spare` came from
    ///   [`Tree::reserve`] for this path.
    pub(crate) unsafe fn insert_into_parent(
        &mut self,
        path: &Path,
        sep: *const u8,
        child: u64,
        spare: &mut Spare,
    ) {
        let g = self.geo;
        // SAFETY: `sep` is readable (caller's contract).
        let mut sep_buf = unsafe { std::slice::from_raw_parts(sep, g.ks) }.to_vec();
        let mut child = child;
        let mut d = path.height;
        while d > 0 {
            d -= 1;
            let (n, j) = path.inner[d];
            // SAFETY: a checked inner node of this tree on the path.
            unsafe {
                if node::len(n) < g.inner_cap {
                    g.inner_insert(n, j, sep_buf.as_ptr(), child);
                    return;
                }
                let (up, r) = self.split_inner(n, j, &sep_buf, child, path.height - d, spare);
                sep_buf = up;
                child = r;
            }
        }
        // The root split: a new root above it (`reserve` checked the height).
        let h = self.header();
        // SAFETY: a fresh inner node of this tree's pool.
        unsafe {
            let root = spare.inner(h.height as usize + 1);
            node::write_u64(Geo::child_slot(root, 0), h.root);
            g.inner_insert(root, 0, sep_buf.as_ptr(), child);
            let off = node::off(root);
            self.update_header(|h| {
                h.root = off;
                h.height += 1;
            });
        }
    }

    /// Splits the full inner node `n` while inserting `sep`/`child` at `j`. Answers
    /// the separator to push up and the new right node.
    ///
    /// # Safety
    /// - `n` is a checked, full inner node of this tree at `level`, `j <= len(n)`;
    ///   `spare` holds a node for `level`.
    unsafe fn split_inner(
        &mut self,
        n: *mut u8,
        j: usize,
        sep: &[u8],
        child: u64,
        level: usize,
        spare: &mut Spare,
    ) -> (Vec<u8>, u64) {
        let g = self.geo;
        let (cap, ks) = (g.inner_cap, g.ks);
        // The node as it would be with the insertion, in DRAM: cap + 1 keys, cap + 2 children.
        let mut keys = Vec::with_capacity((cap + 1) * ks);
        let mut kids = Vec::with_capacity(cap + 2);
        // SAFETY: `n` is a checked inner node holding `cap` keys and `cap + 1` children.
        unsafe {
            keys.extend_from_slice(std::slice::from_raw_parts(g.sep(n, 0), j * ks));
            keys.extend_from_slice(sep);
            keys.extend_from_slice(std::slice::from_raw_parts(g.sep(n, j), (cap - j) * ks));
            kids.extend((0..=j).map(|i| Geo::child(n, i)));
            kids.push(child);
            kids.extend((j + 1..=cap).map(|i| Geo::child(n, i)));
        }
        let m = cap.div_ceil(2);
        // SAFETY: `n` is a checked inner node; `r` is fresh; all ranges are in bounds.
        unsafe {
            let r = spare.inner(level);
            node::write_bytes(g.sep(r, 0), keys[(m + 1) * ks..].as_ptr(), (cap - m) * ks);
            node::write_bytes(
                Geo::child_slot(r, 0),
                kids[m + 1..].as_ptr().cast(),
                (cap - m + 1) * 8,
            );
            node::set_len(r, cap - m);
            if j < m {
                node::write_bytes(g.sep(n, j), keys[j * ks..].as_ptr(), (m - j) * ks);
                node::write_bytes(
                    Geo::child_slot(n, j + 1),
                    kids[j + 1..].as_ptr().cast(),
                    (m - j) * 8,
                );
            }
            node::set_len(n, m);
            (keys[m * ks..(m + 1) * ks].to_vec(), node::off(r))
        }
    }
}
