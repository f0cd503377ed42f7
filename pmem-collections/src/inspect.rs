//! Type-erased inspection of collections, for tools that read a pool without the
//! application's code (the `pmem` command's `check`, `dump` and `stats`).
//!
//! A tool knows a collection only from the pool's stored schema: its kind (`"PVec"`,
//! `"PHashMap"`...), where its header lies, and the size and alignment of each type
//! parameter. [`inspect`] reads the header and what it points to through a
//! [`PoolBytes`] source (every read bounds-checked, no pointer ever followed), checks
//! the structural invariants that need no knowledge of the element type, and answers
//! [`Contents`]: the element count the header claims, the allocations the collection
//! owns *itself* ([`Buffer`]s: a vector's buffer, a hash table, B-tree nodes) and where
//! each element, key and value lies, so the caller can walk into them with their types.
//!
//! The layouts read here are the collections' own (`docs/ARCHITECTURE.md` §3.5, "Collection
//! layouts"): every size, offset and constant is taken from the collection's own
//! definition (`size_of`/`offset_of!` of its header, the node and table constants), never
//! copied; the tests at the end of this file build real
//! collections and compare what this module reads with what the typed API reports, so a
//! layout change that is not mirrored here fails them.
//!
//! What needs the element type is left to the typed check (`Pool::check`): B-tree key
//! order, hash-map reachability of each key, and what the elements themselves own.
//!
//! # Examples
//!
//! ```
//! use pmem_collections::inspect::{inspect, CollectionKind, ElemLayout, Inspector, PoolBytes};
//! use pmem_collections::PVec;
//! use pmem_core::Pool;
//!
//! let dir = std::env::temp_dir().join(format!("pmem-doc-coll-inspect-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("v.pool");
//! let mut pool = Pool::<PVec<u32>>::create(&path)?;
//! pool.tx(|tx| tx.root_mut().extend([1, 2, 3]))?;
//! drop(pool);
//!
//! let ins = Inspector::open(&path)?;
//! let c = inspect(&ins, CollectionKind::Vec, ins.root_offset(), &[ElemLayout::of::<u32>()])?;
//! assert_eq!(c.len, 3);
//! let second = c.entries().nth(1).unwrap().key;
//! assert_eq!(ins.bytes(second, 4)?, &2u32.to_le_bytes());
//! # drop(ins); std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), pmem_core::Error>(())
//! ```

use std::collections::HashSet;
use std::mem::offset_of;

use pmem_core::Result;

use crate::corrupted::corrupted;

use crate::btree::{
    BTreeHeader, Elems, Geo, CHILD_SIZE, INNER_HDR, LEAF_HDR, MAX_HEIGHT, OFF_LEN, OFF_LEVEL,
    OFF_NEXT, OFF_PREV,
};
use crate::hash_map::{bucket_capacity, BucketLayout, HashHeader, DELETED, EMPTY, GROUP};
use crate::vec::RawVec;

mod links;
pub use links::{links, Links};

/// The read-only, type-agnostic pool handle this module reads through (re-exported from
/// `pmem_core::inspect`, so that `pmem::inspect` has all a tool needs).
pub use pmem_core::inspect::{Allocation, Inspector};

/// Read access to a pool's bytes by pool offset: what [`inspect`] reads through.
pub trait PoolBytes {
    /// `len` bytes at pool offset `off`.
    ///
    /// # Errors
    /// [`Error::Corrupted`](pmem_core::Error::Corrupted) (or another error) when the range is not inside the pool.
    fn bytes(&self, off: u64, len: u64) -> Result<&[u8]>;
}

impl PoolBytes for Inspector {
    fn bytes(&self, off: u64, len: u64) -> Result<&[u8]> {
        Inspector::bytes(self, off, len)
    }
}

/// A whole pool image in memory: offset `i` is byte `i`.
impl PoolBytes for [u8] {
    fn bytes(&self, off: u64, len: u64) -> Result<&[u8]> {
        let start = usize::try_from(off).ok();
        let end = start.and_then(|s| s.checked_add(usize::try_from(len).ok()?));
        match (start, end) {
            (Some(s), Some(e)) if e <= self.len() => Ok(&self[s..e]),
            _ => Err(corrupted(
                format!("read of {len} bytes outside the pool"),
                off,
            )),
        }
    }
}

/// Which collection a header belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum CollectionKind {
    /// [`PVec<T>`](crate::PVec): one parameter, the element.
    Vec,
    /// [`PString`](crate::PString): no parameters (UTF-8 bytes).
    String,
    /// [`PHashMap<K, V>`](crate::PHashMap): key and value.
    HashMap,
    /// [`PHashSet<T>`](crate::PHashSet): the element.
    HashSet,
    /// [`PBTreeMap<K, V>`](crate::PBTreeMap): key and value.
    BTreeMap,
    /// [`PBTreeSet<T>`](crate::PBTreeSet): the element.
    BTreeSet,
}

impl CollectionKind {
    /// The kind named `name` in a schema (`Shape::Collection`'s `kind`: `"PVec"`,
    /// `"PString"`, `"PHashMap"`, `"PHashSet"`, `"PBTreeMap"`, `"PBTreeSet"`).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::inspect::CollectionKind;
    /// assert_eq!(CollectionKind::from_name("PHashMap"), Some(CollectionKind::HashMap));
    /// assert_eq!(CollectionKind::from_name("Vec"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "PVec" => Self::Vec,
            "PString" => Self::String,
            "PHashMap" => Self::HashMap,
            "PHashSet" => Self::HashSet,
            "PBTreeMap" => Self::BTreeMap,
            "PBTreeSet" => Self::BTreeSet,
            _ => return None,
        })
    }

    /// The name a schema uses for this kind.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::inspect::CollectionKind;
    /// assert_eq!(CollectionKind::BTreeSet.name(), "PBTreeSet");
    /// assert_eq!(CollectionKind::from_name(CollectionKind::Vec.name()), Some(CollectionKind::Vec));
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Self::Vec => "PVec",
            Self::String => "PString",
            Self::HashMap => "PHashMap",
            Self::HashSet => "PHashSet",
            Self::BTreeMap => "PBTreeMap",
            Self::BTreeSet => "PBTreeSet",
        }
    }

    /// Bytes of the header (the collection value itself).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::{inspect::CollectionKind, PHashMap, PVec};
    /// assert_eq!(CollectionKind::Vec.header_size(), size_of::<PVec<u8>>() as u64);
    /// assert_eq!(CollectionKind::HashMap.header_size(), size_of::<PHashMap<u8, u8>>() as u64);
    /// ```
    pub const fn header_size(self) -> u64 {
        match self {
            Self::Vec | Self::String => size_of::<RawVec>() as u64,
            Self::BTreeMap | Self::BTreeSet => size_of::<BTreeHeader>() as u64,
            Self::HashMap | Self::HashSet => size_of::<HashHeader>() as u64,
        }
    }

    /// How many type parameters [`inspect`] expects layouts for.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::inspect::CollectionKind;
    /// assert_eq!(CollectionKind::String.param_count(), 0);
    /// assert_eq!(CollectionKind::Vec.param_count(), 1);
    /// assert_eq!(CollectionKind::BTreeMap.param_count(), 2);
    /// ```
    pub const fn param_count(self) -> usize {
        match self {
            Self::String => 0,
            Self::Vec | Self::HashSet | Self::BTreeSet => 1,
            Self::HashMap | Self::BTreeMap => 2,
        }
    }

    /// Whether entries have values (maps) or are single elements.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::inspect::CollectionKind;
    /// assert!(CollectionKind::HashMap.is_map());
    /// assert!(!CollectionKind::HashSet.is_map());
    /// ```
    pub const fn is_map(self) -> bool {
        matches!(self, Self::HashMap | Self::BTreeMap)
    }
}

/// Size and alignment of a type parameter, as a schema records them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElemLayout {
    /// `size_of`.
    pub size: u64,
    /// `align_of` (a power of two).
    pub align: u64,
}

impl ElemLayout {
    /// The layout of `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::inspect::ElemLayout;
    /// assert_eq!(ElemLayout::of::<(u8, u32)>(), ElemLayout { size: 8, align: 4 });
    /// ```
    pub const fn of<T>() -> Self {
        ElemLayout {
            size: size_of::<T>() as u64,
            align: align_of::<T>() as u64,
        }
    }

    const UNIT: ElemLayout = ElemLayout { size: 0, align: 1 };
    const BYTE: ElemLayout = ElemLayout { size: 1, align: 1 };
}

/// An allocation a collection owns itself (not counting what its elements own).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Buffer {
    /// Pool offset of the allocation.
    pub offset: u64,
    /// Bytes the collection uses of it; the allocation may be larger (the allocator
    /// rounds small sizes up to its slot size).
    pub size: u64,
}

/// One element (vectors, strings, sets) or entry (maps).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Pool offset of the element, or of the key of a map entry.
    pub key: u64,
    /// Pool offset of a map entry's value; `None` for elements.
    pub value: Option<u64>,
}

/// Where a collection's elements lie.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Elements {
    /// `count` elements of `stride` bytes each, contiguous from `offset` (vectors and
    /// strings; `offset` is 0 when there is no buffer).
    Contiguous {
        /// Pool offset of element 0.
        offset: u64,
        /// Number of elements.
        count: u64,
        /// Bytes per element.
        stride: u64,
    },
    /// Entries scattered over buckets or nodes (maps and sets), in the collection's
    /// iteration order: bucket order for hash tables, key order for B-trees.
    Entries(Vec<Entry>),
}

/// What [`inspect`] found behind a collection header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contents {
    /// The collection.
    pub kind: CollectionKind,
    /// The element (entry) count the header records; checked against the elements found.
    pub len: u64,
    /// The allocations the collection owns itself, each once.
    pub buffers: Vec<Buffer>,
    /// Where the elements lie.
    pub elements: Elements,
}

impl Contents {
    /// Every element or entry, in iteration order.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::inspect::{inspect, CollectionKind, ElemLayout, Inspector};
    /// use pmem_collections::PBTreeMap;
    /// # let dir = std::env::temp_dir().join(format!("pmem-doc-coll-entries-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let path = dir.join("m.pool");
    /// let mut pool = pmem_core::Pool::<PBTreeMap<u16, u32>>::create(&path)?;
    /// pool.tx(|tx| tx.root_mut().extend([(2, 20), (1, 10)]))?;
    /// drop(pool);
    /// let ins = Inspector::open(&path)?;
    /// let (k, v) = (ElemLayout::of::<u16>(), ElemLayout::of::<u32>());
    /// let c = inspect(&ins, CollectionKind::BTreeMap, ins.root_offset(), &[k, v])?;
    /// let first = c.entries().next().unwrap(); // key order
    /// assert_eq!(ins.bytes(first.key, 2)?, &1u16.to_le_bytes());
    /// assert_eq!(ins.bytes(first.value.unwrap(), 4)?, &10u32.to_le_bytes());
    /// # drop(ins); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn entries(&self) -> impl Iterator<Item = Entry> + '_ {
        let (contiguous, scattered) = match &self.elements {
            Elements::Contiguous {
                offset,
                count,
                stride,
            } => (
                Some((0..*count).map(move |i| Entry {
                    key: offset + i * stride,
                    value: None,
                })),
                None,
            ),
            Elements::Entries(v) => (None, Some(v.iter().copied())),
        };
        contiguous
            .into_iter()
            .flatten()
            .chain(scattered.into_iter().flatten())
    }
}

/// What a stored [`PPtr`](pmem_core::PPtr) word points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PPtrTarget {
    /// The null pointer.
    Null,
    /// The pool offset of the target.
    At(u64),
    /// A pointer made in another pool (its tag is not this pool's).
    Foreign,
}

use pmem_core::raw::{pool_tag_of, PPTR_TAG_SHIFT};

/// Decodes the 8-byte word of a [`PPtr`](pmem_core::PPtr) stored in the pool whose
/// UUID is `pool_uuid` ([`PoolInfo::uuid`](pmem_core::PoolInfo::uuid)).
///
/// A `PPtr` keeps its target's pool offset in the low 48 bits and the 16-bit tag of the
/// pool it was made in (the UUID's first two bytes, little-endian) in the top 16, so
/// that one stored in another pool is refused instead of followed.
///
/// # Examples
///
/// ```
/// use pmem_collections::inspect::{pptr_target, PPtrTarget};
/// let uuid = [0x34, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
/// assert_eq!(pptr_target(0, &uuid), PPtrTarget::Null);
/// assert_eq!(pptr_target(0x1234_0000_0000_2040, &uuid), PPtrTarget::At(0x2040));
/// assert_eq!(pptr_target(0x9999_0000_0000_2040, &uuid), PPtrTarget::Foreign);
/// ```
pub fn pptr_target(word: u64, pool_uuid: &[u8; 16]) -> PPtrTarget {
    let tag = pool_tag_of(pool_uuid);
    if word == 0 {
        PPtrTarget::Null
    } else if word >> PPTR_TAG_SHIFT != tag {
        PPtrTarget::Foreign
    } else {
        PPtrTarget::At(word & ((1 << PPTR_TAG_SHIFT) - 1))
    }
}

/// Reads the collection of kind `kind` whose header lies at pool offset `header`;
/// `params` are the layouts of its type parameters ([`CollectionKind::param_count`] of
/// them: element; or key, value).
///
/// Checks, without knowing the element types: header fields against each other, every
/// buffer inside the pool and aligned, hash-table counters against the control bytes,
/// a string's UTF-8, and a B-tree's shape (node levels and lengths, minimum occupancy,
/// each separator a byte copy of the smallest key to its right, the leaf chain, the
/// entry count, no node reached twice).
///
/// # Errors
/// [`Error::Corrupted`](pmem_core::Error::Corrupted) naming the first violation and its offset; also when `params`
/// has the wrong length or an element layout no collection can have (zero-sized
/// elements, alignment above 64).
///
/// # Examples
///
/// An in-memory image works as well as a file ([`PoolBytes`] for `[u8]`):
///
/// ```
/// use pmem_collections::inspect::{inspect, CollectionKind, ElemLayout, Inspector};
/// use pmem_collections::PString;
/// # let dir = std::env::temp_dir().join(format!("pmem-doc-coll-image-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let path = dir.join("s.pool");
/// let mut pool = pmem_core::Pool::<PString>::create(&path)?;
/// pool.tx(|tx| tx.root_mut().push_str("héllo"))?;
/// drop(pool); // closed cleanly: the file holds every commit
/// let root = Inspector::open(&path)?.root_offset();
/// let image = std::fs::read(&path).unwrap();
/// let c = inspect(&image[..], CollectionKind::String, root, &[])?;
/// assert_eq!(c.len, 6); // bytes
/// assert!(inspect(&image[..], CollectionKind::Vec, root, &[]).is_err()); // wants 1 layout
/// # let _ = ElemLayout::of::<u8>();
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), pmem_core::Error>(())
/// ```
pub fn inspect<M: PoolBytes + ?Sized>(
    mem: &M,
    kind: CollectionKind,
    header: u64,
    params: &[ElemLayout],
) -> Result<Contents> {
    if params.len() != kind.param_count() {
        return Err(corrupted(
            format!(
                "{} takes {} type parameters, the schema gives {}",
                kind.name(),
                kind.param_count(),
                params.len()
            ),
            header,
        ));
    }
    for p in params {
        if !p.align.is_power_of_two() || p.align > 64 || p.size % p.align != 0 {
            return Err(corrupted(
                format!(
                    "{} parameter with impossible layout (size {}, align {})",
                    kind.name(),
                    p.size,
                    p.align
                ),
                header,
            ));
        }
    }
    let h = mem.bytes(header, kind.header_size())?;
    match kind {
        CollectionKind::Vec => vec(mem, kind, h, header, params[0]),
        CollectionKind::String => {
            let c = vec(mem, kind, h, header, ElemLayout::BYTE)?;
            if let Elements::Contiguous { offset, count, .. } = c.elements {
                if count > 0 {
                    if let Err(e) = std::str::from_utf8(mem.bytes(offset, count)?) {
                        return Err(corrupted(format!("string is not UTF-8 ({e})"), offset));
                    }
                }
            }
            Ok(c)
        }
        CollectionKind::HashMap => hash(mem, kind, h, header, params[0], params[1]),
        CollectionKind::HashSet => hash(mem, kind, h, header, params[0], ElemLayout::UNIT),
        CollectionKind::BTreeMap => btree(mem, kind, h, header, params[0], params[1]),
        CollectionKind::BTreeSet => btree(mem, kind, h, header, params[0], ElemLayout::UNIT),
    }
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

const fn align_up(x: u64, a: u64) -> u64 {
    x.div_ceil(a) * a
}

/// `x` as a pool-sized quantity (every offset and size fits a `usize` on the 64-bit
/// targets pmem builds for).
fn to_u64(x: usize) -> u64 {
    x as u64
}

/// `PVec`/`PString` header (`vec/raw.rs::RawVec`): `off`, `len`, `cap`.
fn vec<M: PoolBytes + ?Sized>(
    mem: &M,
    kind: CollectionKind,
    h: &[u8],
    header: u64,
    el: ElemLayout,
) -> Result<Contents> {
    let (off, len, cap) = (
        u64_at(h, offset_of!(RawVec, off)),
        u64_at(h, offset_of!(RawVec, len)),
        u64_at(h, offset_of!(RawVec, cap)),
    );
    let empty = Contents {
        kind,
        len: 0,
        buffers: Vec::new(),
        elements: Elements::Contiguous {
            offset: 0,
            count: 0,
            stride: el.size,
        },
    };
    if off == 0 {
        if cap != 0 || len != 0 {
            return Err(corrupted(
                "vector without a buffer has a length or capacity",
                header,
            ));
        }
        return Ok(empty);
    }
    if el.size == 0 {
        return Err(corrupted("vector of zero-sized elements has a buffer", off));
    }
    if len > cap {
        return Err(corrupted("vector length exceeds its capacity", off));
    }
    if off % el.align != 0 {
        return Err(corrupted("vector buffer is misaligned", off));
    }
    let bytes = cap
        .checked_mul(el.size)
        .ok_or_else(|| corrupted("vector capacity overflows", off))?;
    mem.bytes(off, bytes)?;
    Ok(Contents {
        kind,
        len,
        buffers: vec![Buffer {
            offset: off,
            size: bytes,
        }],
        elements: Elements::Contiguous {
            offset: off,
            count: len,
            stride: el.size,
        },
    })
}

/// `PHashMap`/`PHashSet` header (`hash_map/raw.rs::Header`) and its table: `buckets`
/// control bytes, padding to the bucket alignment, then `buckets` buckets
/// `{ key, value }`.
fn hash<M: PoolBytes + ?Sized>(
    mem: &M,
    kind: CollectionKind,
    h: &[u8],
    header: u64,
    k: ElemLayout,
    v: ElemLayout,
) -> Result<Contents> {
    let (table, mask, items, growth_left) = (
        u64_at(h, offset_of!(HashHeader, table)),
        u64_at(h, offset_of!(HashHeader, bucket_mask)),
        u64_at(h, offset_of!(HashHeader, items)),
        u64_at(h, offset_of!(HashHeader, growth_left)),
    );
    if table == 0 {
        if mask != 0 || items != 0 || growth_left != 0 {
            return Err(corrupted("hash map without a table has entries", header));
        }
        return Ok(Contents {
            kind,
            len: 0,
            buffers: Vec::new(),
            elements: Elements::Entries(Vec::new()),
        });
    }
    // `Bucket<K, V>` is `#[repr(C)] { key: K, value: V }`.
    let align = k.align.max(v.align);
    let voff = align_up(k.size, v.align);
    let size = align_up(voff + v.size, align);
    if size == 0 {
        return Err(corrupted(
            "hash map of zero-sized entries has a table",
            table,
        ));
    }
    let buckets = mask.wrapping_add(1);
    if !buckets.is_power_of_two() || buckets < to_u64(GROUP) {
        return Err(corrupted(
            "hash map bucket count is not a power of two",
            table,
        ));
    }
    let lay = BucketLayout {
        size: usize::try_from(size).map_err(|_| corrupted("hash map bucket too large", table))?,
        align: usize::try_from(align).expect("alignment checked to be at most 64"),
    };
    let nb =
        usize::try_from(buckets).map_err(|_| corrupted("hash map table size overflows", table))?;
    let slots = to_u64(lay.slots_offset(nb));
    let bytes = to_u64(
        lay.alloc_size(nb)
            .ok_or_else(|| corrupted("hash map table size overflows", table))?,
    );
    if table % to_u64(lay.alloc_align()) != 0 {
        return Err(corrupted("hash map table is misaligned", table));
    }
    let ctrl = mem.bytes(table, buckets)?;
    mem.bytes(table, bytes)?;
    let (mut full, mut deleted) = (0u64, 0u64);
    let mut entries = Vec::new();
    for (i, &c) in (0u64..).zip(ctrl) {
        match c {
            EMPTY => {}
            DELETED => deleted += 1,
            c if c < DELETED => {
                full += 1;
                let at = table + slots + i * size;
                entries.push(Entry {
                    key: at,
                    value: kind.is_map().then_some(at + voff),
                });
            }
            _ => {
                return Err(corrupted(
                    "hash map control byte is neither empty, deleted nor full",
                    table + i,
                ))
            }
        }
    }
    if full != items {
        return Err(corrupted("hash map length disagrees with its table", table));
    }
    if growth_left
        .checked_add(items)
        .and_then(|n| n.checked_add(deleted))
        != Some(to_u64(bucket_capacity(nb - 1)))
    {
        return Err(corrupted(
            "hash map growth counter disagrees with its table",
            table,
        ));
    }
    Ok(Contents {
        kind,
        len: items,
        buffers: vec![Buffer {
            offset: table,
            size: bytes,
        }],
        elements: Elements::Entries(entries),
    })
}

/// The node geometry of a tree with these parameters and stored capacities (the
/// collection's own `btree/node.rs::Geo`), or `None` when the capacities are out of range.
fn geo(k: ElemLayout, v: ElemLayout, leaf_cap: u64, inner_cap: u64) -> Option<Geo> {
    let e = Elems {
        ks: usize::try_from(k.size).ok()?,
        ka: usize::try_from(k.align).ok()?,
        vs: usize::try_from(v.size).ok()?,
        va: usize::try_from(v.align).ok()?,
    };
    Geo::new(
        e,
        usize::try_from(leaf_cap).ok()?,
        usize::try_from(inner_cap).ok()?,
    )
}

struct TreeWalk<'m, M: ?Sized> {
    mem: &'m M,
    geo: Geo,
    map: bool,
    seen: HashSet<u64>,
    buffers: Vec<Buffer>,
    entries: Vec<Entry>,
    prev_leaf: u64,
}

/// `PBTreeMap`/`PBTreeSet` header (`btree/tree.rs::Header`: root, len, height,
/// `leaf_cap`, `inner_cap`) and its nodes (`btree/node.rs`).
fn btree<M: PoolBytes + ?Sized>(
    mem: &M,
    kind: CollectionKind,
    h: &[u8],
    header: u64,
    k: ElemLayout,
    v: ElemLayout,
) -> Result<Contents> {
    let (root, len) = (
        u64_at(h, offset_of!(BTreeHeader, root)),
        u64_at(h, offset_of!(BTreeHeader, len)),
    );
    let height = u32_at(h, offset_of!(BTreeHeader, height));
    let (leaf_cap, inner_cap) = (
        u64::from(u16_at(h, offset_of!(BTreeHeader, leaf_cap))),
        u64::from(u16_at(h, offset_of!(BTreeHeader, inner_cap))),
    );
    let geo = match geo(k, v, leaf_cap, inner_cap) {
        Some(g) if (height as usize) < MAX_HEIGHT => g,
        _ => {
            return Err(corrupted(
                "PBTreeMap header with impossible capacities or height",
                header,
            ))
        }
    };
    if root == 0 {
        if len != 0 || height != 0 {
            return Err(corrupted(
                "PBTreeMap without a root but with entries",
                header,
            ));
        }
        return Ok(Contents {
            kind,
            len: 0,
            buffers: Vec::new(),
            elements: Elements::Entries(Vec::new()),
        });
    }
    let mut w = TreeWalk {
        mem,
        geo,
        map: kind.is_map(),
        seen: HashSet::new(),
        buffers: Vec::new(),
        entries: Vec::new(),
        prev_leaf: 0,
    };
    w.node(root, height, true)?;
    let last = w.prev_leaf;
    if u64_at(mem.bytes(last, to_u64(LEAF_HDR))?, OFF_NEXT) != 0 {
        return Err(corrupted(
            "PBTreeMap: the last leaf links to a next one",
            last,
        ));
    }
    if w.entries.len() as u64 != len {
        return Err(corrupted(
            "PBTreeMap: entry count differs from the stored length",
            header,
        ));
    }
    Ok(Contents {
        kind,
        len,
        buffers: w.buffers,
        elements: Elements::Entries(w.entries),
    })
}

impl<M: PoolBytes + ?Sized> TreeWalk<'_, M> {
    /// Walks the subtree at `off` (recursion depth is the height, below 32); answers
    /// the offset of its smallest key.
    fn node(&mut self, off: u64, level: u32, root: bool) -> Result<u64> {
        let g = &self.geo;
        let (size, cap) = if level == 0 {
            (to_u64(g.leaf_size), to_u64(g.leaf_cap))
        } else {
            (to_u64(g.inner_size), to_u64(g.inner_cap))
        };
        if off % to_u64(g.align) != 0 {
            return Err(corrupted("PBTreeMap node is misaligned", off));
        }
        if !self.seen.insert(off) {
            return Err(corrupted("PBTreeMap node reached twice", off));
        }
        let n = self.mem.bytes(off, size)?;
        let len = u64::from(u16_at(n, OFF_LEN));
        if u32::from(u16_at(n, OFF_LEVEL)) != level || len > cap {
            return Err(corrupted(
                "PBTreeMap node with a wrong level or length",
                off,
            ));
        }
        self.buffers.push(Buffer { offset: off, size });
        if level == 0 {
            let (prev, next) = (u64_at(n, OFF_PREV), u64_at(n, OFF_NEXT));
            let min_ok = if root {
                len >= 1
            } else {
                len >= to_u64(g.leaf_min()) || (len >= 1 && next == 0)
            };
            if !min_ok {
                return Err(corrupted("PBTreeMap leaf below its minimum occupancy", off));
            }
            if prev != self.prev_leaf {
                return Err(corrupted("PBTreeMap leaf chain out of key order", off));
            }
            if self.prev_leaf != 0
                && u64_at(self.mem.bytes(self.prev_leaf, to_u64(LEAF_HDR))?, OFF_NEXT) != off
            {
                return Err(corrupted(
                    "PBTreeMap leaf chain out of key order",
                    self.prev_leaf,
                ));
            }
            let (keys, vals, ks, vs) = (
                to_u64(g.leaf_keys),
                to_u64(g.leaf_vals),
                to_u64(g.ks),
                to_u64(g.vs),
            );
            for i in 0..len {
                self.entries.push(Entry {
                    key: off + keys + i * ks,
                    value: self.map.then_some(off + vals + i * vs),
                });
            }
            self.prev_leaf = off;
            return Ok(off + keys);
        }
        if len < if root { 1 } else { to_u64(g.inner_min()) } {
            return Err(corrupted(
                "PBTreeMap inner node below its minimum occupancy",
                off,
            ));
        }
        let (seps, ks) = (to_u64(g.inner_keys), to_u64(g.ks));
        let children: Vec<u64> = (0..=len)
            .map(|i| u64_at(n, INNER_HDR + i as usize * CHILD_SIZE))
            .collect();
        let first = self.node(children[0], level - 1, false)?;
        for (i, &child) in children.iter().enumerate().skip(1) {
            let min = self.node(child, level - 1, false)?;
            let sep = self.mem.bytes(off + seps + (i as u64 - 1) * ks, ks)?;
            if sep != self.mem.bytes(min, ks)? {
                return Err(corrupted(
                    "PBTreeMap separator is not the minimum of its right subtree",
                    off,
                ));
            }
        }
        Ok(first)
    }
}

#[cfg(test)]
mod tests;
