//! Spreading a full leaf and its full siblings over one more leaf (a 2-to-3 or 3-to-4
//! split, as in B*-trees): each leaf ends about three quarters full instead of half,
//! which raises the fill of randomly built trees from 86% to 89% (see
//! DESIGN-NOTES-btree.md). Used when the leaf cannot share with a sibling.
//!
//! The group's entries are staged in DRAM, the boundaries chosen, and each node's new
//! contents written back (skipping the prefix a node keeps). The new node goes to the
//! right of the group, so the parent sees "the last node of the group split".

use pmem_core::Result;

use super::insert::Spare;
use super::node::{self, Geo};
use super::tree::{Path, Tree};

impl Tree {
    /// Spreads the full leaf at `path` and its siblings over one more leaf. Answers
    /// where the new entry goes, or `None` (nothing changed) when the leaf has no
    /// sibling or no boundaries fit the bounds.
    ///
    /// # Safety
    /// - as for [`Tree::make_room`], with the leaf full and `height > 0`; `spare` came
    ///   from `Tree::reserve` for this path.
    pub(crate) unsafe fn spread(
        &mut self,
        path: &Path,
        spare: &mut Spare,
    ) -> Result<Option<(*mut u8, usize)>> {
        let g = self.geo;
        let (parent, j) = path.inner[path.height - 1];
        // SAFETY: checked nodes of this tree; `j <= len(parent)`; every range below
        // stays within the nodes' capacities (the plan is checked first).
        unsafe {
            let pn = node::len(parent);
            let lo = j.saturating_sub(1);
            let hi = (j + 1).min(pn);
            if lo == hi {
                return Ok(None);
            }
            let mut nodes = Vec::with_capacity(3);
            for c in lo..=hi {
                nodes.push(if c == j {
                    path.leaf
                } else {
                    g.node_at(parent, Geo::child(parent, c), 0)?
                });
            }
            let lens: Vec<usize> = nodes.iter().map(|&n| node::len(n)).collect();
            let orig: usize = lens.iter().sum();
            let v = lens[..j - lo].iter().sum::<usize>() + path.pos;
            let Some(bounds) = self.spread_plan(orig + 1, nodes.len() + 1, v) else {
                return Ok(None);
            };

            // Stage every entry of the group.
            let mut keys = Vec::with_capacity(orig * g.ks);
            let mut vals = Vec::with_capacity(orig * g.vs);
            for (&n, &len) in nodes.iter().zip(&lens) {
                keys.extend_from_slice(std::slice::from_raw_parts(g.key(n, 0), len * g.ks));
                vals.extend_from_slice(std::slice::from_raw_parts(g.val(n, 0), len * g.vs));
            }
            let last = *nodes.last().expect("two nodes or more");
            let fresh = spare.leaf();
            nodes.push(fresh);

            // Write each node's share of the originals (the new entry is not among them).
            let mut at = None;
            let mut old_start = 0;
            for (q, &n) in nodes.iter().enumerate() {
                let (b, e) = (bounds[q], bounds[q + 1]);
                // Originals in this node's range: virtual indices shift past `v`.
                let x = if b > v { b - 1 } else { b };
                let count = e - b - usize::from((b..e).contains(&v));
                if (b..e).contains(&v) {
                    at = Some((n, v - b));
                }
                let old_len = lens.get(q).copied().unwrap_or(0);
                let keep = if x == old_start {
                    old_len.min(count)
                } else {
                    0
                };
                let (ks, vs) = (g.ks, g.vs);
                node::write_bytes(
                    g.key(n, keep),
                    keys[(x + keep) * ks..].as_ptr(),
                    (count - keep) * ks,
                );
                node::write_bytes(
                    g.val(n, keep),
                    vals[(x + keep) * vs..].as_ptr(),
                    (count - keep) * vs,
                );
                node::set_len(n, count);
                old_start += old_len;
            }

            // Link the new leaf after the group, then fix the separators.
            let (loff, foff, nx) = (node::off(last), node::off(fresh), node::next(last));
            node::set_prev(fresh, loff);
            node::set_next(fresh, nx);
            if nx != 0 {
                node::set_prev(g.node_at(last, nx, 0)?, foff);
            }
            node::set_next(last, foff);
            for (q, &n) in nodes[1..nodes.len() - 1].iter().enumerate() {
                node::write_bytes(g.sep(parent, lo + q), g.key(n, 0), g.ks);
            }
            let mut up = Path {
                inner: path.inner,
                height: path.height,
                leaf: last,
                pos: 0,
                sep: None,
            };
            up.inner[path.height - 1].1 = hi;
            self.insert_into_parent(&up, g.key(fresh, 0), foff, spare);
            Ok(at)
        }
    }

    /// Boundaries (`m + 1` virtual indices) splitting `total` entries, the new one at
    /// `v`, over `m` leaves of `min..=cap` entries each, such that the new entry is no
    /// leaf's first but the first leaf's. `None` when none fit.
    fn spread_plan(&self, total: usize, m: usize, v: usize) -> Option<Vec<usize>> {
        let (cap, min) = (self.geo.leaf_cap, self.geo.leaf_min().max(1));
        let mut b: Vec<usize> = (0..=m).map(|q| total * q / m).collect();
        if let Some(q) = (1..m).find(|&q| b[q] == v) {
            // Make the new entry the last of leaf q - 1, or else the second of leaf q.
            b[q] += 1;
            if b[q] - b[q - 1] > cap || b[q + 1] - b[q] < min {
                b[q] -= 2;
            }
        }
        b.windows(2)
            .all(|w| (min..=cap).contains(&(w[1] - w[0])))
            .then_some(b)
    }
}
