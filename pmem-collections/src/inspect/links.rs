//! Where a collection keeps pool offsets of its own buffers: what a relocating copy
//! (`pmem::compact::compact_untyped`, ARCHITECTURE §15.5) rewrites when it moves them.

use std::mem::offset_of;

use pmem_core::Result;

use super::{geo, u16_at, u64_at, CollectionKind, Contents, ElemLayout, PoolBytes};
use crate::btree::{
    BTreeHeader, CHILD_SIZE, INNER_HDR, LEAF_HDR, MAX_HEIGHT, OFF_LEN, OFF_LEVEL, OFF_NEXT,
    OFF_PREV,
};
use crate::corrupted::corrupted;
use crate::hash_map::{HashHeader, GROUP};
use crate::vec::RawVec;

/// The internal links of one collection (see [`links`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Links {
    /// Pool offsets of every 8-byte word, in the header or in the collection's own
    /// buffers, that holds the offset of one of its buffers (or 0): a vector's `off`, a
    /// hash map's `table`, a B-tree's `root`, each inner node's children and each
    /// leaf's `prev` and `next`.
    pub words: Vec<u64>,
    /// The alignment every buffer of the collection is allocated with.
    pub align: u64,
    /// B-tree separators: (offset of a separator key in an inner node, offset of the
    /// leaf key it is a byte copy of — the smallest of its right subtree). A key that
    /// holds pool offsets (a `PString`'s buffer) is aliased by its separator, so a copy
    /// that rewrites the leaf key must copy it over the separator again.
    pub separators: Vec<(u64, u64)>,
    /// Bytes of a key (what each separator copies).
    pub key_size: u64,
}

/// The internal links of the collection whose header is at `header` and whose
/// [`inspect`](super::inspect) answered `contents` (with the same `params`).
///
/// # Errors
/// [`Error::Corrupted`](pmem_core::Error::Corrupted) when a node cannot be read or the
/// parameters are impossible.
///
/// # Examples
///
/// ```
/// use pmem_collections::inspect::{inspect, links, CollectionKind, ElemLayout, Inspector};
/// use pmem_collections::PBTreeMap;
/// # let dir = std::env::temp_dir().join(format!("pmem-doc-coll-links-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let path = dir.join("m.pool");
/// let mut pool = pmem_core::Pool::<PBTreeMap<u64, u64>>::create(&path)?;
/// pool.tx(|tx| tx.root_mut().extend((0..1000).map(|i| (i, i))))?;
/// drop(pool);
/// let ins = Inspector::open(&path)?;
/// let p = [ElemLayout::of::<u64>(), ElemLayout::of::<u64>()];
/// let c = inspect(&ins, CollectionKind::BTreeMap, ins.root_offset(), &p)?;
/// let l = links(&ins, &c, ins.root_offset(), &p)?;
/// assert_eq!(l.words[0], ins.root_offset()); // the header's `root`
/// assert!(l.words.len() > c.buffers.len()); // children, prev and next besides
/// # drop(ins); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), pmem_core::Error>(())
/// ```
pub fn links<M: PoolBytes + ?Sized>(
    mem: &M,
    contents: &Contents,
    header: u64,
    params: &[ElemLayout],
) -> Result<Links> {
    let unit = ElemLayout::UNIT;
    let (k, v) = match contents.kind {
        CollectionKind::String => (ElemLayout::BYTE, unit),
        CollectionKind::Vec | CollectionKind::HashSet | CollectionKind::BTreeSet => {
            (params.first().copied().unwrap_or(unit), unit)
        }
        CollectionKind::HashMap | CollectionKind::BTreeMap => (
            params.first().copied().unwrap_or(unit),
            params.get(1).copied().unwrap_or(unit),
        ),
    };
    match contents.kind {
        CollectionKind::Vec | CollectionKind::String => Ok(Links {
            words: vec![header + offset_of!(RawVec, off) as u64],
            align: k.align,
            separators: Vec::new(),
            key_size: k.size,
        }),
        CollectionKind::HashMap | CollectionKind::HashSet => Ok(Links {
            words: vec![header + offset_of!(HashHeader, table) as u64],
            align: k.align.max(v.align).max(GROUP as u64),
            separators: Vec::new(),
            key_size: k.size,
        }),
        CollectionKind::BTreeMap | CollectionKind::BTreeSet => {
            let h = mem.bytes(header, size_of::<BTreeHeader>() as u64)?;
            let caps = |at: usize| u64::from(u16_at(h, at));
            let g = geo(
                k,
                v,
                caps(offset_of!(BTreeHeader, leaf_cap)),
                caps(offset_of!(BTreeHeader, inner_cap)),
            )
            .ok_or_else(|| corrupted("PBTreeMap header with impossible capacities", header))?;
            let mut words = vec![header + offset_of!(BTreeHeader, root) as u64];
            let mut separators = Vec::new();
            let child = |node: u64, i: u64| -> Result<u64> {
                let at = node + INNER_HDR as u64 + CHILD_SIZE as u64 * i;
                Ok(u64_at(mem.bytes(at, 8)?, 0))
            };
            for b in &contents.buffers {
                let n = mem.bytes(b.offset, LEAF_HDR as u64)?;
                if u16_at(n, OFF_LEVEL) == 0 {
                    words.push(b.offset + OFF_PREV as u64);
                    words.push(b.offset + OFF_NEXT as u64);
                    continue;
                }
                let keys = u64::from(u16_at(n, OFF_LEN));
                words.extend(
                    (0..=keys).map(|i| b.offset + INNER_HDR as u64 + CHILD_SIZE as u64 * i),
                );
                for i in 0..keys {
                    // The smallest key right of separator `i`: the leftmost leaf of
                    // child `i + 1` (depth below `MAX_HEIGHT`, checked by `inspect`).
                    let mut node = child(b.offset, i + 1)?;
                    for _ in 0..MAX_HEIGHT {
                        if u16_at(mem.bytes(node, LEAF_HDR as u64)?, OFF_LEVEL) == 0 {
                            break;
                        }
                        node = child(node, 0)?;
                    }
                    let sep = b.offset + (g.inner_keys + g.ks * i as usize) as u64;
                    separators.push((sep, node + g.leaf_keys as u64));
                }
            }
            Ok(Links {
                words,
                align: g.align as u64,
                separators,
                key_size: k.size,
            })
        }
    }
}
