//! The `Visitor` of owned pointers, as far as it needs no storable type: where the walk
//! has been (every owned allocation, once), what is still to visit, and the path from the
//! root that messages name. Its methods generic over `Persistent` (`visit_later`,
//! `validate`) are in `check.rs`, beside the walk, so that this file and `psafe.rs`
//! (whose `Persistent::visit_owned` takes a `&mut Visitor`) depend one way:
//! `check` → `psafe` → `visitor`.

use std::collections::HashSet;

use crate::engine::ReadCtx;
use crate::error::{Error, Result};
use crate::heap::HeapIndex;
use crate::media::region_base;

/// Walks owned pointers for the integrity check; handed to
/// [`Persistent::visit_owned`](crate::Persistent::visit_owned).
pub struct Visitor<'a> {
    pub(super) ctx: ReadCtx<'a>,
    pub(super) heap: &'a HeapIndex,
    pub(super) seen: HashSet<u64>,
    pub(super) base: usize,
    /// Values still to visit, each with the path node that reached it.
    pub(super) queue: Vec<(*const u8, VisitFn, u32)>,
    /// Path nodes: (parent node, the path from the parent's value to this one).
    pub(super) nodes: Vec<(u32, String)>,
    /// The node of the value being visited, and the path inside it so far.
    pub(super) current: u32,
    pub(super) inside: Vec<&'static str>,
}

/// Visits the value at a type-erased address; see [`Visitor::visit_later`].
pub type VisitFn = unsafe fn(*const u8, &mut Visitor<'_>) -> Result<()>;

impl Visitor<'_> {
    /// Reports that the value being visited owns the allocation of `size` bytes at
    /// `ptr`. Answers `true` the first time, when the caller should visit the
    /// allocation's contents.
    ///
    /// # Errors
    /// [`Error::Corrupted`] when `ptr` is not a live allocation of at least `size`
    /// bytes in this pool, or is owned twice.
    pub fn owned(&mut self, ptr: *const u8, size: usize) -> Result<bool> {
        let addr = ptr as usize;
        if region_base(addr) != self.base {
            return Err(Error::corrupted("owned pointer into another pool", 0));
        }
        let off = (addr - self.base) as u64;
        self.heap.place(&self.ctx, off, size as u64)?;
        if !self.seen.insert(off) {
            return Err(Error::corrupted("allocation owned twice", off));
        }
        Ok(true)
    }

    /// Says that what is visited next lies at `part` inside the current value (`.name`
    /// for a field, `[]` for a collection element); undone by [`Visitor::leave`]. Only
    /// the paths in messages depend on it.
    pub fn enter(&mut self, part: &'static str) {
        self.inside.push(part);
    }

    /// Undoes the last [`Visitor::enter`].
    pub fn leave(&mut self) {
        self.inside.pop();
    }

    /// The path from the root to what is being visited.
    pub(super) fn path(&self) -> String {
        let mut parts = vec![self.inside.concat()];
        let mut n = self.current;
        while n != 0 && parts.len() < 32 {
            let (parent, part) = &self.nodes[n as usize];
            parts.push(part.clone());
            n = *parent;
        }
        if n != 0 {
            parts.push("…".into());
        }
        parts.push("root".into());
        parts.reverse();
        parts.concat()
    }
}
