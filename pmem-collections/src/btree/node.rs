//! Node layout of the persistent B+-tree and the byte-level operations on nodes.
//!
//! A tree is a header (in the map value itself) plus nodes allocated in the pool. Keys
//! and values are fixed-size, so a node is a struct of arrays whose offsets depend only
//! on the element sizes and the capacities stored in the header; [`Geo`] computes them.
//! Every routine here is non-generic (elements are moved as bytes), so the structural
//! code is compiled once, not once per `(K, V)`.
//!
//! ```text
//! leaf   | len u16 | level u16 = 0 | pad u32 | prev u64 | next u64 | keys[cap] | vals[cap] |
//! inner  | len u16 | level u16 ≥ 1 | pad u32 | children u64[cap + 1] | keys[cap] |
//! ```
//!
//! `len` counts entries (leaf) or separator keys (inner node, which then has `len + 1`
//! children). `prev`/`next` link the leaves in key order (pool offsets, 0 = none).
//! Separator `i` of an inner node is a byte-for-byte copy of the smallest key of child
//! `i + 1` (the *exact-minimum* invariant, see DESIGN-NOTES-btree.md): separators own
//! nothing; they borrow the owned data of the leaf key they copy.
//!
//! Every write goes through [`write_bytes`] or another helper that calls
//! [`raw::snapshot`] on exactly the bytes it changes.

use pmem_core::{raw, Result};

/// Bytes of a leaf header.
pub(crate) const LEAF_HDR: usize = 24;
/// Bytes of an inner-node header; the child array starts here.
pub(crate) const INNER_HDR: usize = 8;
/// Offset of a node's `len` (`u16`).
pub(crate) const OFF_LEN: usize = 0;
/// Offset of a node's `level` (`u16`, 0 = leaf).
pub(crate) const OFF_LEVEL: usize = 2;
/// Offset of a leaf's `prev` link (`u64` pool offset).
pub(crate) const OFF_PREV: usize = 8;
/// Offset of a leaf's `next` link (`u64` pool offset).
pub(crate) const OFF_NEXT: usize = 16;
/// Bytes of one child slot of an inner node (a `u64` pool offset).
pub(crate) const CHILD_SIZE: usize = 8;
/// Default node budget: a 4 KiB heap block less the allocator's 64-byte block header.
pub(crate) const NODE_BUDGET: usize = 4096 - 64;
/// Smallest node capacity: keeps every non-root leaf at two entries or more.
pub(crate) const MIN_CAP: usize = 4;
/// Largest node capacity (lengths are stored in 16 bits).
pub(crate) const MAX_CAP: usize = 4096;
/// Tallest tree accepted; deeper is a corrupted header (a pool cannot hold that many
/// entries at the minimum fan-out of 3).
pub(crate) const MAX_HEIGHT: usize = 32;

/// Sizes and alignments of the element types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Elems {
    pub(crate) ks: usize,
    pub(crate) ka: usize,
    pub(crate) vs: usize,
    pub(crate) va: usize,
}

/// `x` rounded up to `a`, a power of two (every alignment is).
const fn align_up(x: usize, a: usize) -> usize {
    (x + a - 1) & !(a - 1)
}

const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}

impl Elems {
    /// The elements of a `PBTreeMap<K, V>`; fails to compile for alignments above 64.
    pub(crate) const fn of<K, V>() -> Elems {
        assert!(
            align_of::<K>() <= 64 && align_of::<V>() <= 64,
            "PBTreeMap supports alignments up to 64"
        );
        Elems {
            ks: size_of::<K>(),
            ka: align_of::<K>(),
            vs: size_of::<V>(),
            va: align_of::<V>(),
        }
    }

    /// Node alignment.
    const fn align(self) -> usize {
        max(8, max(self.ka, self.va))
    }

    const fn leaf_size(self, cap: usize) -> usize {
        let keys = align_up(LEAF_HDR, self.ka);
        let vals = align_up(keys + cap * self.ks, self.va);
        align_up(vals + cap * self.vs, self.align())
    }

    const fn inner_size(self, cap: usize) -> usize {
        let keys = align_up(INNER_HDR + (cap + 1) * CHILD_SIZE, self.ka);
        align_up(keys + cap * self.ks, self.align())
    }

    /// Default capacities: the most entries that fit [`NODE_BUDGET`], at least [`MIN_CAP`].
    pub(crate) const fn default_caps(self) -> (u16, u16) {
        let mut leaf = MIN_CAP;
        while leaf < MAX_CAP && self.leaf_size(leaf + 1) <= NODE_BUDGET {
            leaf += 1;
        }
        let mut inner = MIN_CAP;
        while inner < MAX_CAP && self.inner_size(inner + 1) <= NODE_BUDGET {
            inner += 1;
        }
        (leaf as u16, inner as u16)
    }
}

/// Offsets and sizes of the nodes of one tree.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Geo {
    pub(crate) ks: usize,
    pub(crate) vs: usize,
    pub(crate) leaf_cap: usize,
    pub(crate) inner_cap: usize,
    pub(crate) leaf_keys: usize,
    pub(crate) leaf_vals: usize,
    pub(crate) leaf_size: usize,
    pub(crate) inner_keys: usize,
    pub(crate) inner_size: usize,
    pub(crate) align: usize,
}

impl Geo {
    /// The geometry for the given capacities, or `None` when they are out of range.
    /// Inlined: every lookup computes it from the header, and with the element sizes
    /// constant, most of it folds away.
    #[inline]
    pub(crate) fn new(e: Elems, leaf_cap: usize, inner_cap: usize) -> Option<Geo> {
        if !(MIN_CAP..=MAX_CAP).contains(&leaf_cap) || !(MIN_CAP..=MAX_CAP).contains(&inner_cap) {
            return None;
        }
        let leaf_keys = align_up(LEAF_HDR, e.ka);
        Some(Geo {
            ks: e.ks,
            vs: e.vs,
            leaf_cap,
            inner_cap,
            leaf_keys,
            leaf_vals: align_up(leaf_keys + leaf_cap * e.ks, e.va),
            leaf_size: e.leaf_size(leaf_cap),
            inner_keys: align_up(INNER_HDR + (inner_cap + 1) * CHILD_SIZE, e.ka),
            inner_size: e.inner_size(inner_cap),
            align: e.align(),
        })
    }

    /// Fewest entries in a leaf other than the root and the last leaf.
    pub(crate) fn leaf_min(&self) -> usize {
        self.leaf_cap / 2
    }

    /// Fewest keys in an inner node other than the root.
    pub(crate) fn inner_min(&self) -> usize {
        self.inner_cap / 2
    }

    /// Key `i` of a leaf.
    ///
    /// # Safety
    /// - `leaf` is a leaf of this geometry and `i <= leaf_cap`.
    #[inline]
    pub(crate) unsafe fn key(&self, leaf: *mut u8, i: usize) -> *mut u8 {
        // SAFETY: inside (or one past) the key array, by the caller's promise.
        unsafe { leaf.add(self.leaf_keys + i * self.ks) }
    }

    /// Value `i` of a leaf.
    ///
    /// # Safety
    /// - as for [`Geo::key`].
    #[inline]
    pub(crate) unsafe fn val(&self, leaf: *mut u8, i: usize) -> *mut u8 {
        // SAFETY: inside (or one past) the value array, by the caller's promise.
        unsafe { leaf.add(self.leaf_vals + i * self.vs) }
    }

    /// Separator `i` of an inner node.
    ///
    /// # Safety
    /// - `node` is an inner node of this geometry and `i <= inner_cap`.
    #[inline]
    pub(crate) unsafe fn sep(&self, node: *mut u8, i: usize) -> *mut u8 {
        // SAFETY: inside (or one past) the key array, by the caller's promise.
        unsafe { node.add(self.inner_keys + i * self.ks) }
    }

    /// The slot of child `i` of an inner node.
    ///
    /// # Safety
    /// - `node` is an inner node of this geometry and `i <= inner_cap + 1`.
    #[inline]
    pub(crate) unsafe fn child_slot(node: *mut u8, i: usize) -> *mut u8 {
        // SAFETY: inside (or one past) the child array, by the caller's promise.
        unsafe { node.add(INNER_HDR + i * CHILD_SIZE) }
    }

    /// Child `i` of an inner node (a pool offset).
    ///
    /// # Safety
    /// - `node` is an inner node of this geometry and `i <= len(node)`.
    #[inline]
    pub(crate) unsafe fn child(node: *const u8, i: usize) -> u64 {
        // SAFETY: aligned and in bounds, by the caller's promise.
        unsafe { node.add(INNER_HDR + i * CHILD_SIZE).cast::<u64>().read() }
    }

    /// The leaves left and right of child `j` of the inner node `parent` (`None` past
    /// either end), resolved and checked.
    ///
    /// # Errors
    /// [`Error::Corrupted`](pmem_core::Error::Corrupted) for a bad leaf.
    ///
    /// # Safety
    /// - `parent` is a checked inner node of this geometry whose children are leaves,
    ///   and `j <= len(parent)`.
    pub(crate) unsafe fn leaf_siblings(
        &self,
        parent: *mut u8,
        j: usize,
    ) -> Result<(Option<*mut u8>, Option<*mut u8>)> {
        // SAFETY: caller's contract: `j - 1` and `j + 1` are children when in range.
        unsafe {
            let left = if j > 0 {
                Some(self.node_at(parent, Geo::child(parent, j - 1), 0)?)
            } else {
                None
            };
            let right = if j < len(parent) {
                Some(self.node_at(parent, Geo::child(parent, j + 1), 0)?)
            } else {
                None
            };
            Ok((left, right))
        }
    }

    /// Resolves a node offset found in the tree, checking bounds, alignment, level and
    /// length, so that no later access can leave the node.
    ///
    /// # Errors
    /// [`Error::Corrupted`](pmem_core::Error::Corrupted) when any check fails.
    #[inline]
    pub(crate) fn node_at(&self, anchor: *const u8, off: u64, level: usize) -> Result<*mut u8> {
        self.resolve_node(anchor, off, level, false)
    }

    /// [`Geo::node_at`] for a node about to be binary-searched: its key array (up to
    /// 2 KiB) is prefetched first, so the search's dependent misses overlap.
    ///
    /// # Errors
    /// As for [`Geo::node_at`].
    #[inline]
    pub(crate) fn search_node_at(
        &self,
        anchor: *const u8,
        off: u64,
        level: usize,
    ) -> Result<*mut u8> {
        self.resolve_node(anchor, off, level, true)
    }

    #[inline]
    fn resolve_node(
        &self,
        anchor: *const u8,
        off: u64,
        level: usize,
        search: bool,
    ) -> Result<*mut u8> {
        let (size, cap) = if level == 0 {
            (self.leaf_size, self.leaf_cap)
        } else {
            (self.inner_size, self.inner_cap)
        };
        // `resolve` checks alignment with `%`; a constant 8 makes that a mask, and the
        // node's full alignment (a power of two) is checked here the same way.
        let p = raw::resolve(anchor, off, size, 8)?;
        if off & (self.align as u64 - 1) != 0 {
            return Err(corrupted("misaligned PBTreeMap node", off));
        }
        if search && level == 0 {
            // A leaf is usually a cache miss: ask for its header and keys at once.
            prefetch(p, 0, self.leaf_keys + (self.leaf_cap * self.ks).min(2048));
        }
        // SAFETY: `resolve` checked that `size >= LEAF_HDR` bytes at `p` are mapped.
        let (len, lvl) = unsafe { (len(p), level_of(p)) };
        if search && level > 0 && len <= cap {
            // An inner node's key array is large: ask for the keys its first three
            // binary-search probes read (7 lines, at eighths of the array), so those
            // misses overlap. Stepping by an eighth of the array's bytes lands within a
            // key of each probe: close enough for a hint, and 7 additions instead of 7
            // multiply-divide-multiply chains per node.
            let eighth = len * self.ks / 8;
            let base = p.wrapping_add(self.inner_keys);
            for q in [4, 2, 6, 1, 3, 5, 7] {
                prefetch_line(base.wrapping_add(q * eighth));
            }
        }
        if lvl != level || len > cap {
            return Err(corrupted(
                "PBTreeMap node with a wrong level or length",
                off,
            ));
        }
        Ok(p)
    }

    /// [`Geo::node_at`], panicking with the documented "corrupted pool" message.
    ///
    /// # Panics
    /// When the node is corrupted.
    #[inline]
    #[track_caller]
    pub(crate) fn node_or_panic(&self, anchor: *const u8, off: u64, level: usize) -> *mut u8 {
        match self.node_at(anchor, off, level) {
            Ok(p) => p,
            Err(e) => panic_corrupted(&e),
        }
    }

    /// [`Geo::search_node_at`], panicking with the documented "corrupted pool" message.
    ///
    /// # Panics
    /// When the node is corrupted.
    #[inline]
    #[track_caller]
    pub(crate) fn search_node_or_panic(
        &self,
        anchor: *const u8,
        off: u64,
        level: usize,
    ) -> *mut u8 {
        match self.search_node_at(anchor, off, level) {
            Ok(p) => p,
            Err(e) => panic_corrupted(&e),
        }
    }
}

/// Hints the CPU to load the cache line holding `p` (a no-op off x86-64).
#[inline]
fn prefetch_line(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it never faults and changes no state, for any address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Hints the CPU to load the cache lines of `p + from..p + to` (a no-op off x86-64).
#[inline]
fn prefetch(p: *const u8, from: usize, to: usize) {
    let mut at = from;
    while at < to {
        prefetch_line(p.wrapping_add(at));
        at += 64;
    }
}

pub(crate) use crate::corrupted::{corrupted, panic_corrupted};

/// The pool offset of a node.
pub(crate) fn off(p: *const u8) -> u64 {
    raw::offset_of(p).expect("pmem: B-tree node outside its pool")
}

/// Entries (leaf) or keys (inner node) in use.
///
/// # Safety
/// - `n` points to a node (at least 8 readable, aligned bytes).
#[inline]
pub(crate) unsafe fn len(n: *const u8) -> usize {
    // SAFETY: caller's contract.
    unsafe { n.add(OFF_LEN).cast::<u16>().read() as usize }
}

/// The level a node claims (0 = leaf).
///
/// # Safety
/// - as for [`len`].
#[inline]
pub(crate) unsafe fn level_of(n: *const u8) -> usize {
    // SAFETY: caller's contract.
    unsafe { n.add(OFF_LEVEL).cast::<u16>().read() as usize }
}

/// Sets the length of a node.
///
/// # Safety
/// - `n` is a node in a pool whose transaction is open on this thread.
#[inline]
pub(crate) unsafe fn set_len(n: *mut u8, v: usize) {
    debug_assert!(v <= MAX_CAP);
    // SAFETY: caller's contract; the two bytes are snapshotted before the write.
    unsafe {
        raw::snapshot(n.add(OFF_LEN), 2);
        n.add(OFF_LEN).cast::<u16>().write(v as u16);
    }
}

/// The previous leaf (offset, 0 = none).
///
/// # Safety
/// - `leaf` points to a leaf.
#[inline]
pub(crate) unsafe fn prev(leaf: *const u8) -> u64 {
    // SAFETY: caller's contract.
    unsafe { leaf.add(OFF_PREV).cast::<u64>().read() }
}

/// The next leaf (offset, 0 = none).
///
/// # Safety
/// - `leaf` points to a leaf.
#[inline]
pub(crate) unsafe fn next(leaf: *const u8) -> u64 {
    // SAFETY: caller's contract.
    unsafe { leaf.add(OFF_NEXT).cast::<u64>().read() }
}

/// Sets the previous-leaf link.
///
/// # Safety
/// - `leaf` is a leaf in a pool whose transaction is open on this thread.
pub(crate) unsafe fn set_prev(leaf: *mut u8, v: u64) {
    // SAFETY: caller's contract.
    unsafe { write_u64(leaf.add(OFF_PREV), v) }
}

/// Sets the next-leaf link.
///
/// # Safety
/// - as for [`set_prev`].
pub(crate) unsafe fn set_next(leaf: *mut u8, v: u64) {
    // SAFETY: caller's contract.
    unsafe { write_u64(leaf.add(OFF_NEXT), v) }
}

/// Snapshots and writes an aligned `u64`.
///
/// # Safety
/// - `p` is 8-aligned pool memory of a pool whose transaction is open on this thread.
#[inline]
pub(crate) unsafe fn write_u64(p: *mut u8, v: u64) {
    // SAFETY: caller's contract.
    unsafe {
        raw::snapshot(p, 8);
        p.cast::<u64>().write(v);
    }
}

/// Copies `n` bytes from `src` to `dst` (the ranges may overlap), snapshotting `dst`.
///
/// # Safety
/// - both ranges are readable pool memory; `dst` lies in a pool whose transaction is
///   open on this thread.
#[inline]
pub(crate) unsafe fn write_bytes(dst: *mut u8, src: *const u8, n: usize) {
    if n == 0 {
        return;
    }
    // SAFETY: caller's contract; the tree is borrowed mutably, so the views of the
    // entries that move have ended: padding assigned through them is zeroed first.
    unsafe {
        raw::settle_padding(src, n);
        raw::snapshot(dst, n);
        std::ptr::copy(src, dst, n);
    }
}

impl Geo {
    /// Allocates an empty leaf, logged whole (fresh memory costs no undo copy).
    ///
    /// # Safety
    /// - `anchor` lies in a pool whose transaction is open on this thread.
    pub(crate) unsafe fn alloc_leaf(&self, anchor: *const u8) -> Result<*mut u8> {
        // SAFETY: caller's contract; the fresh node is snapshotted before it is written.
        unsafe {
            let p = raw::alloc(anchor, self.leaf_size, self.align)?;
            raw::snapshot(p, self.leaf_size);
            std::ptr::write_bytes(p, 0, LEAF_HDR);
            Ok(p)
        }
    }

    /// Allocates an empty inner node of `level`, logged whole.
    ///
    /// # Safety
    /// - as for [`Geo::alloc_leaf`].
    pub(crate) unsafe fn alloc_inner(&self, anchor: *const u8, level: usize) -> Result<*mut u8> {
        // SAFETY: caller's contract; the fresh node is snapshotted before it is written.
        unsafe {
            let p = raw::alloc(anchor, self.inner_size, self.align)?;
            raw::snapshot(p, self.inner_size);
            std::ptr::write_bytes(p, 0, INNER_HDR);
            p.add(OFF_LEVEL).cast::<u16>().write(level as u16);
            Ok(p)
        }
    }

    /// Frees a node (at commit).
    ///
    /// # Safety
    /// - `n` is a node of this tree that nothing refers to any more.
    pub(crate) unsafe fn free_node(&self, n: *mut u8, level: usize) -> Result<()> {
        let size = if level == 0 {
            self.leaf_size
        } else {
            self.inner_size
        };
        // SAFETY: caller's contract.
        unsafe { raw::free(n, size) }
    }

    /// Gives back a node allocated in this transaction that nothing refers to, so the
    /// transaction can allocate its memory again (`raw::free_fresh`).
    ///
    /// # Safety
    /// - as for [`Geo::free_node`], and nothing uses the node after this call.
    pub(crate) unsafe fn free_fresh_node(&self, n: *mut u8, level: usize) -> Result<()> {
        let size = if level == 0 {
            self.leaf_size
        } else {
            self.inner_size
        };
        // SAFETY: caller's contract.
        unsafe { raw::free_fresh(n, size) }
    }

    /// Moves `n` entries from `src[si..]` to `dst[di..]` (same or different leaves,
    /// overlapping or not), snapshotting the destination.
    ///
    /// # Safety
    /// - both are leaves of this geometry in an open transaction's pool, and the
    ///   ranges lie within their capacities.
    pub(crate) unsafe fn leaf_move(
        &self,
        dst: *mut u8,
        di: usize,
        src: *mut u8,
        si: usize,
        n: usize,
    ) {
        // SAFETY: caller's contract.
        unsafe {
            write_bytes(self.key(dst, di), self.key(src, si), n * self.ks);
            write_bytes(self.val(dst, di), self.val(src, si), n * self.vs);
        }
    }

    /// Moves the entry initialised in the spare slot `len` to position `i`, shifting
    /// `i..len` up by one, and counts it.
    ///
    /// # Safety
    /// - `leaf` is a leaf of this geometry in an open transaction's pool with
    ///   `i <= len < leaf_cap`, and slot `len` holds an initialised entry.
    pub(crate) unsafe fn leaf_rotate_in(&self, leaf: *mut u8, i: usize) {
        // SAFETY: caller's contract; both ranges are snapshotted before they change.
        unsafe {
            let n = len(leaf);
            debug_assert!(i <= n && n < self.leaf_cap);
            if i < n {
                for (base, size) in [(self.key(leaf, i), self.ks), (self.val(leaf, i), self.vs)] {
                    if size > 0 {
                        raw::settle_padding(base, (n + 1 - i) * size);
                        raw::snapshot(base, (n + 1 - i) * size);
                        std::slice::from_raw_parts_mut(base, (n + 1 - i) * size).rotate_right(size);
                    }
                }
            }
            set_len(leaf, n + 1);
        }
    }

    /// Removes entry `i` of a leaf (whose owned data the caller already freed).
    ///
    /// # Safety
    /// - `leaf` is a leaf of this geometry in an open transaction's pool, `i < len`.
    pub(crate) unsafe fn leaf_remove(&self, leaf: *mut u8, i: usize) {
        // SAFETY: caller's contract.
        unsafe {
            let n = len(leaf);
            debug_assert!(i < n);
            self.leaf_move(leaf, i, leaf, i + 1, n - i - 1);
            set_len(leaf, n - 1);
        }
    }

    /// Inserts separator bytes `sep` at key position `i` and `child` at child position
    /// `i + 1` of an inner node with room.
    ///
    /// # Safety
    /// - `node` is an inner node of this geometry in an open transaction's pool with
    ///   `i <= len < inner_cap`; `sep` points to `ks` readable bytes outside
    ///   `node`'s shifted range.
    pub(crate) unsafe fn inner_insert(&self, node: *mut u8, i: usize, sep: *const u8, child: u64) {
        // SAFETY: caller's contract.
        unsafe {
            let n = len(node);
            debug_assert!(i <= n && n < self.inner_cap);
            write_bytes(self.sep(node, i + 1), self.sep(node, i), (n - i) * self.ks);
            write_bytes(self.sep(node, i), sep, self.ks);
            write_bytes(
                Self::child_slot(node, i + 2),
                Self::child_slot(node, i + 1),
                (n - i) * 8,
            );
            write_u64(Self::child_slot(node, i + 1), child);
            set_len(node, n + 1);
        }
    }

    /// Removes key `i` and child `i + 1` of an inner node.
    ///
    /// # Safety
    /// - `node` is an inner node of this geometry in an open transaction's pool with
    ///   `i < len`.
    pub(crate) unsafe fn inner_remove(&self, node: *mut u8, i: usize) {
        // SAFETY: caller's contract.
        unsafe {
            let n = len(node);
            debug_assert!(i < n);
            write_bytes(
                self.sep(node, i),
                self.sep(node, i + 1),
                (n - i - 1) * self.ks,
            );
            write_bytes(
                Self::child_slot(node, i + 1),
                Self::child_slot(node, i + 2),
                (n - i - 1) * 8,
            );
            set_len(node, n - 1);
        }
    }

    /// Copies `n` keys from `src[si..]` to `dst[di..]` and `m` children from
    /// `src[ci..]` to `dst[cj..]` of inner nodes (overlap allowed).
    ///
    /// # Safety
    /// - both are inner nodes of this geometry in an open transaction's pool and the
    ///   ranges lie within their capacities.
    #[allow(clippy::too_many_arguments)]
    pub(crate) unsafe fn inner_move(
        &self,
        dst: *mut u8,
        di: usize,
        src: *mut u8,
        si: usize,
        n: usize,
        cj: usize,
        ci: usize,
        m: usize,
    ) {
        // SAFETY: caller's contract.
        unsafe {
            write_bytes(self.sep(dst, di), self.sep(src, si), n * self.ks);
            write_bytes(Self::child_slot(dst, cj), Self::child_slot(src, ci), m * 8);
        }
    }
}
