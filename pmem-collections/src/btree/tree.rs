//! The tree header stored in the map value, the handle that write paths use, and the
//! descent from the root to a leaf (recording the path for writes).

use std::cmp::Ordering;

use pmem_core::{raw, Result};

use super::node::{self, corrupted, panic_corrupted, Elems, Geo, MAX_HEIGHT};

/// The bytes of a `PBTreeMap` in the pool (24 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Header {
    /// Offset of the root node; 0 when the map is empty.
    pub(crate) root: u64,
    /// Number of entries.
    pub(crate) len: u64,
    /// Levels above the leaves (0: the root is a leaf).
    pub(crate) height: u32,
    /// Entries per leaf.
    pub(crate) leaf_cap: u16,
    /// Separator keys per inner node.
    pub(crate) inner_cap: u16,
}

const _: () = assert!(size_of::<Header>() == 24);

impl Header {
    /// An empty tree with the default capacities for `e`.
    pub(crate) const fn empty(e: Elems) -> Header {
        let (leaf_cap, inner_cap) = e.default_caps();
        Header {
            root: 0,
            len: 0,
            height: 0,
            leaf_cap,
            inner_cap,
        }
    }

    /// The node geometry, checking the stored capacities and height.
    ///
    /// # Errors
    /// [`pmem_core::Error::Corrupted`] when they are out of range.
    #[inline]
    pub(crate) fn geo(&self, e: Elems) -> Result<Geo> {
        let g = Geo::new(e, self.leaf_cap as usize, self.inner_cap as usize);
        match g {
            Some(g) if (self.height as usize) < MAX_HEIGHT => Ok(g),
            _ => Err(corrupted(
                "PBTreeMap header with impossible capacities or height",
                raw::offset_of(std::ptr::from_ref(self).cast()).unwrap_or(0),
            )),
        }
    }

    /// [`Header::geo`], panicking with the documented "corrupted pool" message.
    ///
    /// # Panics
    /// When the header is corrupted.
    #[inline]
    #[track_caller]
    pub(crate) fn geo_or_panic(&self, e: Elems) -> Geo {
        match Geo::new(e, self.leaf_cap as usize, self.inner_cap as usize) {
            Some(g) if (self.height as usize) < MAX_HEIGHT => g,
            _ => self.corrupted_geo(e),
        }
    }

    #[cold]
    #[inline(never)]
    #[track_caller]
    fn corrupted_geo(&self, e: Elems) -> ! {
        match self.geo(e) {
            Err(err) => panic_corrupted(&err),
            Ok(_) => unreachable!("the geometry was refused a moment ago"),
        }
    }
}

/// Binary search in an inner node: the child to descend into for the target that
/// `cmp` compares against (`cmp(stored)` = stored vs target), and whether a separator
/// equals the target.
///
/// # Safety
/// - `node` is an inner node of `geo` with a checked length; every separator is a
///   valid `K`.
#[inline]
pub(crate) unsafe fn search_inner<K>(
    geo: &Geo,
    node: *mut u8,
    cmp: &mut impl FnMut(&K) -> Ordering,
) -> (usize, bool) {
    // SAFETY: caller's contract.
    let n = unsafe { node::len(node) };
    // SAFETY: `i < len`, a separator holding a valid key.
    match bisect(n, |i| cmp(unsafe { &*geo.sep(node, i).cast::<K>() })) {
        Ok(i) => (i + 1, true),
        Err(i) => (i, false),
    }
}

/// Binary search in a leaf: `Ok(i)` when key `i` matches, else `Err(insertion point)`.
///
/// # Safety
/// - `leaf` is a leaf of `geo` with a checked length; every key is a valid `K`.
#[inline]
pub(crate) unsafe fn search_leaf<K>(
    geo: &Geo,
    leaf: *mut u8,
    cmp: &mut impl FnMut(&K) -> Ordering,
) -> Result<usize, usize> {
    // SAFETY: caller's contract.
    let n = unsafe { node::len(leaf) };
    // SAFETY: `i < len`, an initialised key.
    bisect(n, |i| cmp(unsafe { &*geo.key(leaf, i).cast::<K>() }))
}

/// Binary search over `n` sorted items, `probe(i)` comparing item `i` with the
/// target: `Ok(i)` for an item equal to it, else `Err(insertion point)`. Only indices
/// `< n` are probed.
#[inline]
fn bisect(n: usize, mut probe: impl FnMut(usize) -> Ordering) -> Result<usize, usize> {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        match probe(mid) {
            Ordering::Greater => hi = mid,
            Ordering::Less => lo = mid + 1,
            Ordering::Equal => return Ok(mid),
        }
    }
    Err(lo)
}

/// Which way a descent goes at each inner node.
#[derive(Clone, Copy)]
pub(crate) enum Dir {
    First,
    Last,
}

/// The way from the root to one leaf position, for a write.
pub(crate) struct Path {
    /// `(node, child index taken)` for each inner level, root first.
    pub(crate) inner: [(*mut u8, usize); MAX_HEIGHT],
    /// Number of inner levels (the tree's height).
    pub(crate) height: usize,
    /// The leaf reached.
    pub(crate) leaf: *mut u8,
    /// The position in the leaf (of the key found, or where it would go).
    pub(crate) pos: usize,
    /// The separator equal to the key found, if any: `(inner node, key index)`.
    pub(crate) sep: Option<(*mut u8, usize)>,
}

impl Path {
    /// A path not walked yet, through a tree of `height` inner levels.
    fn start(height: usize) -> Path {
        Path {
            inner: [(std::ptr::null_mut(), 0); MAX_HEIGHT],
            height,
            leaf: std::ptr::null_mut(),
            pos: 0,
            sep: None,
        }
    }
}

/// A write handle on a tree: the header in the pool and its geometry.
pub(crate) struct Tree {
    pub(crate) hdr: *mut Header,
    pub(crate) geo: Geo,
}

impl Tree {
    /// The handle for the header at `hdr`.
    ///
    /// # Safety
    /// - `hdr` is a tree header in a pool whose transaction is open on this thread,
    ///   exclusively borrowed for the handle's life.
    pub(crate) unsafe fn new(hdr: *mut Header, e: Elems) -> Result<Tree> {
        // SAFETY: caller's contract.
        let geo = unsafe { (*hdr).geo(e)? };
        Ok(Tree { hdr, geo })
    }

    pub(crate) fn anchor(&self) -> *const u8 {
        self.hdr.cast()
    }

    pub(crate) fn header(&self) -> Header {
        // SAFETY: `hdr` is valid (see `new`).
        unsafe { *self.hdr }
    }

    /// Snapshots the header and applies `f` to it.
    pub(crate) fn update_header(&mut self, f: impl FnOnce(&mut Header)) {
        // SAFETY: `hdr` is valid pool memory in an open transaction (see `new`).
        unsafe {
            raw::snapshot(self.hdr.cast(), size_of::<Header>());
            f(&mut *self.hdr);
        }
    }

    /// Descends to the leaf for a key, recording the path. `None` when the tree is
    /// empty; else the path and whether the key was found (`pos` is the key's position
    /// or its insertion point).
    ///
    /// # Errors
    /// [`pmem_core::Error::Corrupted`] for a bad node.
    ///
    /// # Safety
    /// - the tree's elements are `K`s at every position its lengths cover.
    pub(crate) unsafe fn descend<K>(
        &self,
        mut cmp: impl FnMut(&K) -> Ordering,
    ) -> Result<Option<(Path, bool)>> {
        let h = self.header();
        if h.root == 0 {
            return Ok(None);
        }
        let mut path = Path::start(h.height as usize);
        let mut off = h.root;
        for d in 0..path.height {
            let n = self
                .geo
                .search_node_at(self.anchor(), off, path.height - d)?;
            // SAFETY: a checked inner node holding valid keys (caller's contract).
            let (c, exact) = unsafe { search_inner(&self.geo, n, &mut cmp) };
            if exact {
                path.sep = Some((n, c - 1));
            }
            path.inner[d] = (n, c);
            // SAFETY: `c <= len`.
            off = unsafe { Geo::child(n, c) };
        }
        path.leaf = self.geo.search_node_at(self.anchor(), off, 0)?;
        // SAFETY: a checked leaf holding valid keys (caller's contract).
        let r = unsafe { search_leaf(&self.geo, path.leaf, &mut cmp) };
        let found = r.is_ok();
        path.pos = r.unwrap_or_else(|i| i);
        Ok(Some((path, found)))
    }

    /// Descends to the first or last entry. `None` when the tree is empty.
    ///
    /// # Errors
    /// [`pmem_core::Error::Corrupted`] for a bad node.
    pub(crate) fn descend_end(&self, dir: Dir) -> Result<Option<Path>> {
        let h = self.header();
        if h.root == 0 {
            return Ok(None);
        }
        let mut path = Path::start(h.height as usize);
        let mut off = h.root;
        for d in 0..path.height {
            let n = self.geo.node_at(self.anchor(), off, path.height - d)?;
            let c = match dir {
                Dir::First => 0,
                // SAFETY: a checked inner node.
                Dir::Last => unsafe { node::len(n) },
            };
            path.inner[d] = (n, c);
            // SAFETY: `c <= len`.
            off = unsafe { Geo::child(n, c) };
        }
        path.leaf = self.geo.node_at(self.anchor(), off, 0)?;
        // SAFETY: a checked leaf.
        let n = unsafe { node::len(path.leaf) };
        if n == 0 {
            return Err(corrupted(
                "PBTreeMap: empty leaf in a non-empty tree",
                node::off(path.leaf),
            ));
        }
        path.pos = match dir {
            Dir::First => 0,
            Dir::Last => n - 1,
        };
        Ok(Some(path))
    }
}
