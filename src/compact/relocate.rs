//! The relocating copy behind [`compact_untyped`](super::compact_untyped): a pool's live
//! graph moved into a fresh pool by its **stored schema** alone (ARCHITECTURE §15.5).
//!
//! [`plan`] walks the old pool from the root with an explicit work list (a chain of a
//! million boxes needs no deep recursion), reading every value through the
//! bounds-checked inspector and deciding by the stored shape what it owns:
//!
//! - a `PBox` (and the `Some` of an `Option<PBox>`) owns its target: copied whole;
//! - a `PVec`/`PString` owns its buffer: only its `len` elements are copied, and the
//!   header is rewritten with `cap = len` (an empty vector loses its buffer);
//! - a hash table and the nodes of a B-tree are copied **verbatim**: a bucket's place
//!   depends on its key's hash and the table's seed, never on addresses, so a byte copy
//!   of the table (control bytes, seed, hash canary) is still valid; the words that link
//!   a collection's own buffers (`pmem_collections::inspect::links`: the table, the
//!   root, children, the leaf chain) are rewritten;
//! - a non-owning `PPtr` is mapped through the relocation of the allocation it points
//!   into (it may point into the middle: a field, an element); one whose target is not
//!   copied is refused with [`Error::NotRelocatableAt`].
//!
//! Each kept allocation is *claimed*: it must be the start of a live allocation at least
//! as large as its owner needs, and owned once; anything else is [`Error::Corrupted`],
//! so a damaged pool is refused before the new one exists. The plan resolves every
//! rewrite to (allocation, offset inside it); [`copy`] then allocates each kept block
//! in the new pool, copies its bytes and patches the words.

use std::collections::HashSet;
use std::fmt::Write as _;

use pmem_collections::inspect::{
    inspect, links, pptr_target, Allocation, CollectionKind, ElemLayout, Elements, Inspector,
    PPtrTarget,
};
use pmem_core::__private::stored::RawTx;
use pmem_core::inspect::{StoredSchema, StoredShape};
use pmem_core::raw::PPTR_TAG_SHIFT;
use pmem_core::{Error, Result};

use super::stored_values::{self, Values};

/// An allocation of the old pool that the new one keeps.
pub(super) struct Block {
    /// Its offset in the old pool.
    old: u64,
    /// Bytes copied (and allocated, at least 1).
    len: u64,
    /// Alignment of the new allocation.
    align: u64,
}

/// A place inside a kept block: (block index, byte offset inside it).
type Place = (usize, u64);

/// One word (or header) of the copy that must be rewritten.
enum Fix {
    /// An owning or internal link: the new offset of the block it names, or 0.
    Link { at: Place, to: Option<usize> },
    /// A `PPtr`: the new place of its target, with the new pool's tag, or null.
    PPtr { at: Place, to: Option<Place> },
    /// A vector header: `off` the new buffer (or 0), `len`, `cap = len`.
    Vec {
        at: Place,
        to: Option<usize>,
        len: u64,
    },
}

/// What to copy and what to rewrite; `blocks[0]` is the root.
pub(super) struct Plan {
    blocks: Vec<Block>,
    fixes: Vec<Fix>,
    /// B-tree separators, copied again from their (rewritten) leaf keys at the end:
    /// (separator, key, bytes).
    separators: Vec<(Place, Place, u64)>,
}

/// A step of a value's path from the root, for errors.
#[derive(Clone, Copy)]
enum Seg<'a> {
    Root,
    Field(&'a str),
    Index(u64),
}

/// A `PPtr` found by the walk: where it is, its target type's size and its path.
struct Pending {
    at: u64,
    size: u64,
    path: u32,
}

struct Walk<'a> {
    ins: &'a Inspector,
    s: &'a StoredSchema,
    vals: Values<'a>,
    /// `reach[t]`: a value of type `t` can hold a pointer or a collection.
    reach: Vec<bool>,
    live: Vec<Allocation>,
    claimed: HashSet<u64>,
    blocks: Vec<Block>,
    /// Links and vector headers by old offsets, resolved to places after the walk.
    links: Vec<(u64, bool, u64)>,
    pptrs: Vec<Pending>,
    /// B-tree separators by old offsets: (separator, leaf key, key bytes).
    separators: Vec<(u64, u64, u64)>,
    paths: Vec<(u32, Seg<'a>)>,
    stack: Vec<(u64, usize, u32)>,
    uuid: [u8; 16],
}

/// Walks the pool `ins` (whose parsed schema record is `s`) and plans the copy.
///
/// # Errors
/// [`Error::Corrupted`] for a damaged graph (a pointer out of bounds or to no live
/// allocation, an allocation owned twice, an unknown enum tag...);
/// [`Error::NotRelocatableAt`] for a `PPtr` whose target is not copied or a shape this
/// build does not know.
pub(super) fn plan(ins: &Inspector, s: &StoredSchema) -> Result<Plan> {
    let mut live = ins.check_heap()?;
    live.sort_unstable_by_key(|a| a.offset);
    let mut w = Walk {
        ins,
        s,
        vals: Values { ins, s },
        reach: stored_values::reach(s),
        live,
        claimed: HashSet::new(),
        blocks: Vec::new(),
        links: Vec::new(),
        pptrs: Vec::new(),
        separators: Vec::new(),
        paths: vec![(0, Seg::Root)],
        stack: Vec::new(),
        uuid: ins.info().uuid,
    };
    stored_values::check_schema(s, ins.schema_offset())?;
    let root = &s.types[s.root];
    if root.size != ins.root_size() || root.align != ins.root_align() {
        return Err(corrupted(
            format!(
                "the stored schema describes a root of {} bytes (align {}), the header one of {} (align {})",
                root.size,
                root.align,
                ins.root_size(),
                ins.root_align()
            ),
            ins.schema_offset(),
        ));
    }
    let root_off = ins.root_offset();
    if root_off == 0 {
        return Err(corrupted("the pool has no root object", 0));
    }
    w.claim(root_off, root.size.max(1), root.size, root.align, 0)?;
    w.stack.push((root_off, s.root, 0));
    while let Some((off, t, path)) = w.stack.pop() {
        w.visit(off, t, path)?;
    }
    w.resolve()
}

fn corrupted(what: impl Into<String>, offset: u64) -> Error {
    Error::Corrupted {
        what: what.into(),
        offset,
    }
}

impl<'a> Walk<'a> {
    fn u64_at(&self, off: u64) -> Result<u64> {
        self.vals.u64_at(off)
    }

    fn path(&mut self, parent: u32, seg: Seg<'a>) -> u32 {
        self.paths.push((parent, seg));
        (self.paths.len() - 1) as u32
    }

    fn spell(&self, mut id: u32) -> String {
        let mut segs = Vec::new();
        while id != 0 {
            segs.push(self.paths[id as usize].1);
            id = self.paths[id as usize].0;
        }
        segs.reverse();
        let text = |s: &Seg<'_>| match s {
            Seg::Root => String::new(),
            Seg::Field(f) => format!(".{f}"),
            Seg::Index(i) => format!("[{i}]"),
        };
        let mut out = String::from("root");
        if segs.len() > 40 {
            out.extend(segs[..20].iter().map(text));
            let _ = write!(out, "…({} more)…", segs.len() - 40);
            out.extend(segs[segs.len() - 20..].iter().map(text));
        } else {
            out.extend(segs.iter().map(text));
        }
        out
    }

    fn refuse(&self, path: u32, why: impl Into<String>) -> Error {
        Error::NotRelocatableAt {
            path: self.spell(path),
            why: why.into(),
        }
    }

    fn push(&mut self, off: u64, t: usize, path: u32) {
        if self.reach[t] {
            self.stack.push((off, t, path));
        }
    }

    /// Keeps the allocation at `off` (for a value at `path` that needs `need` bytes of
    /// it): copies `len` bytes, allocated with `align`.
    fn claim(&mut self, off: u64, need: u64, len: u64, align: u64, path: u32) -> Result<()> {
        let Ok(i) = self.live.binary_search_by_key(&off, |a| a.offset) else {
            let at = self.spell(path);
            return Err(corrupted(
                format!("{at} owns {off:#x}, which is not a live allocation"),
                off,
            ));
        };
        if self.live[i].size < need {
            let at = self.spell(path);
            return Err(corrupted(
                format!(
                    "{at} owns {off:#x} of {} bytes, but needs {need}",
                    self.live[i].size
                ),
                off,
            ));
        }
        if off == self.ins.schema_offset() || !self.claimed.insert(off) {
            let at = self.spell(path);
            return Err(corrupted(
                format!("{at} owns {off:#x}, which is owned twice"),
                off,
            ));
        }
        self.blocks.push(Block {
            old: off,
            len,
            align: align.max(1),
        });
        Ok(())
    }

    fn visit(&mut self, off: u64, t: usize, path: u32) -> Result<()> {
        let s = self.s;
        match &s.types[t].shape {
            StoredShape::Primitive => {}
            StoredShape::Struct(fields) | StoredShape::Tuple(fields) => {
                for f in fields.iter().rev() {
                    if !self.reach[f.ty] {
                        continue;
                    }
                    let p = self.path(path, Seg::Field(&f.name));
                    self.push(off + f.offset, f.ty, p);
                }
            }
            StoredShape::Enum { .. } => {
                let v = self.vals.variant(off, t).map_err(|e| corrupted(e, off))?;
                for f in v.iter().rev() {
                    if !self.reach[f.ty] {
                        continue;
                    }
                    let p = self.path(path, Seg::Field(&f.name));
                    self.push(off + f.offset, f.ty, p);
                }
            }
            StoredShape::Array { elem, len } => {
                let size = s.types[*elem].size;
                for i in (0..*len).rev() {
                    let p = self.path(path, Seg::Index(i));
                    self.push(off + i * size, *elem, p);
                }
            }
            StoredShape::Option(inner) => {
                if let Some(at) = self.vals.option(off, t, *inner)? {
                    self.push(at, *inner, path);
                }
            }
            StoredShape::Pointer {
                owned: true,
                target,
            } => {
                let to = self.u64_at(off)?;
                if to == 0 {
                    return Err(corrupted(
                        format!("{}: a PBox is null", self.spell(path)),
                        off,
                    ));
                }
                let ty = &s.types[*target];
                self.claim(to, ty.size.max(1), ty.size, ty.align, path)?;
                self.links.push((off, false, 0));
                self.push(to, *target, path);
            }
            StoredShape::Pointer {
                owned: false,
                target,
            } => self.pptrs.push(Pending {
                at: off,
                size: s.types[*target].size,
                path,
            }),
            StoredShape::Collection { kind, params } => {
                let Some(kind) = CollectionKind::from_name(kind) else {
                    return Err(self.refuse(path, format!("unknown collection {kind}")));
                };
                self.collection(off, kind, params, path)?;
            }
            StoredShape::Unknown(what) => {
                return Err(self.refuse(path, format!("a value of unknown shape {what}")))
            }
            _ => return Err(self.refuse(path, "a shape this build does not know")),
        }
        Ok(())
    }

    fn collection(
        &mut self,
        off: u64,
        kind: CollectionKind,
        params: &[usize],
        path: u32,
    ) -> Result<()> {
        let s = self.s;
        let lay: Vec<ElemLayout> = params
            .iter()
            .map(|&p| ElemLayout {
                size: s.types[p].size,
                align: s.types[p].align,
            })
            .collect();
        let c = inspect(self.ins, kind, off, &lay)?;
        match (&c.elements, kind) {
            (
                Elements::Contiguous {
                    offset,
                    count,
                    stride,
                },
                CollectionKind::Vec | CollectionKind::String,
            ) => {
                if let Some(b) = c.buffers.first() {
                    let align = lay.first().map_or(1, |l| l.align);
                    if *count > 0 {
                        self.claim(*offset, b.size, count * stride, align, path)?;
                    }
                    self.links.push((off, true, *count));
                }
            }
            _ => {
                let l = links(self.ins, &c, off, &lay)?;
                for b in &c.buffers {
                    self.claim(b.offset, b.size, b.size, l.align, path)?;
                }
                self.links.extend(l.words.iter().map(|&w| (w, false, 0)));
                if l.key_size > 0 {
                    let ks = l.key_size;
                    self.separators
                        .extend(l.separators.iter().map(|&(sep, key)| (sep, key, ks)));
                }
            }
        }
        let (k, v) = (params.first().copied(), params.get(1).copied());
        let walk_k = k.is_some_and(|k| self.reach[k]);
        let walk_v = v.is_some_and(|v| self.reach[v]);
        if !walk_k && !walk_v {
            return Ok(());
        }
        let entries: Vec<_> = c.entries().collect();
        for (i, e) in entries.iter().enumerate().rev() {
            let p = self.path(path, Seg::Index(i as u64));
            if let (true, Some(k)) = (walk_k, k) {
                self.push(e.key, k, p);
            }
            if let (true, Some(v), Some(at)) = (walk_v, v, e.value) {
                self.push(at, v, p);
            }
        }
        Ok(())
    }

    /// The kept block holding `at..at + len`, and the offset inside it.
    fn place(&self, order: &[usize], at: u64, len: u64) -> Option<Place> {
        let i = order.partition_point(|&b| self.blocks[b].old <= at);
        let b = *order.get(i.checked_sub(1)?)?;
        let blk = &self.blocks[b];
        (at + len <= blk.old + blk.len).then_some((b, at - blk.old))
    }

    /// Resolves every rewrite to places in kept blocks.
    fn resolve(self) -> Result<Plan> {
        let mut order: Vec<usize> = (0..self.blocks.len()).collect();
        order.sort_unstable_by_key(|&b| self.blocks[b].old);
        let start = |old: u64| {
            order
                .binary_search_by_key(&old, |&b| self.blocks[b].old)
                .ok()
                .map(|i| order[i])
        };
        let mut fixes = Vec::with_capacity(self.links.len() + self.pptrs.len());
        for &(at, vec, len) in &self.links {
            let size = if vec { 24 } else { 8 };
            let place = self
                .place(&order, at, size)
                .ok_or_else(|| corrupted("a link outside every copied allocation", at))?;
            let word = self.u64_at(at)?;
            let to = match (word, vec && len == 0) {
                (0, _) | (_, true) => None,
                (w, _) => Some(
                    start(w).ok_or_else(|| corrupted("a link to an allocation not copied", at))?,
                ),
            };
            fixes.push(if vec {
                Fix::Vec { at: place, to, len }
            } else {
                Fix::Link { at: place, to }
            });
        }
        for p in &self.pptrs {
            let place = self
                .place(&order, p.at, 8)
                .ok_or_else(|| corrupted("a PPtr outside every copied allocation", p.at))?;
            let to = match pptr_target(self.u64_at(p.at)?, &self.uuid) {
                PPtrTarget::Null => None,
                PPtrTarget::Foreign => return Err(self.refuse(p.path, "a PPtr made in another pool")),
                PPtrTarget::At(o) => Some(self.place(&order, o, p.size).ok_or_else(|| {
                    self.refuse(
                        p.path,
                        format!("its PPtr points to {o:#x}, which is not inside a value the compaction copies (dangling, or outside the live graph)"),
                    )
                })?),
            };
            fixes.push(Fix::PPtr { at: place, to });
        }
        let mut separators = Vec::with_capacity(self.separators.len());
        for &(sep, key, len) in &self.separators {
            let (Some(s), Some(k)) = (self.place(&order, sep, len), self.place(&order, key, len))
            else {
                return Err(corrupted(
                    "a B-tree separator outside the copied nodes",
                    sep,
                ));
            };
            separators.push((s, k, len));
        }
        Ok(Plan {
            blocks: self.blocks,
            fixes,
            separators,
        })
    }
}

/// Carries out `plan` inside the new pool's transaction `tx`: allocates every kept
/// block, copies its bytes from `ins`, rewrites the links and `PPtr`s (with the new
/// pool's `tag`). Answers the new root's offset.
///
/// # Errors
/// Allocation errors of the new pool; read errors of the old one.
pub(super) fn copy(ins: &Inspector, plan: &Plan, tx: &mut RawTx<'_>, tag: u64) -> Result<u64> {
    let mut new = Vec::with_capacity(plan.blocks.len());
    for b in &plan.blocks {
        let off = tx.alloc(b.len.max(1), b.align)?;
        if b.len > 0 {
            tx.write(off, ins.bytes(b.old, b.len)?)?;
        }
        new.push(off);
    }
    let at = |(b, d): Place| new[b] + d;
    for f in &plan.fixes {
        match *f {
            Fix::Link { at: p, to } => {
                tx.write(at(p), &to.map_or(0, |b| new[b]).to_le_bytes())?;
            }
            Fix::PPtr { at: p, to } => {
                let word = to.map_or(0, |t| (tag << PPTR_TAG_SHIFT) | at(t));
                tx.write(at(p), &word.to_le_bytes())?;
            }
            Fix::Vec { at: p, to, len } => {
                let (off, len) = to.map_or((0, 0), |b| (new[b], len));
                let mut h = [0u8; 24];
                h[..8].copy_from_slice(&off.to_le_bytes());
                h[8..16].copy_from_slice(&len.to_le_bytes());
                h[16..].copy_from_slice(&len.to_le_bytes());
                tx.write(at(p), &h)?;
            }
        }
    }
    // A separator is a byte copy of a leaf key, which the fixes above may have
    // rewritten (a `PString` key's buffer moved).
    for &(sep, key, len) in &plan.separators {
        tx.copy(at(key), at(sep), len)?;
    }
    Ok(new[0])
}
