//! The integrity check (`Pool::check`): the allocator's own walk (headers tile the heap,
//! bitmaps fit their runs), then a walk from the root through every owned pointer:
//! each must name a live allocation, no allocation may be owned twice, and every live
//! allocation must be reached (else it leaked). Every value on the way whose type has
//! invalid bit patterns is validated before it is read as its type
//! ([`Persistent::validate`]), and a bad one is reported with its path from the root.

use std::collections::HashSet;

use super::psafe::Persistent;
use super::visitor::Visitor;
use crate::engine::{ReadCtx, Shared};
use crate::error::{Error, Result};
use crate::heap::{self, HeapIndex};

/// What [`crate::Pool::check`] found in a healthy pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckReport {
    /// Live allocations, all reachable from the root.
    pub allocations: u64,
    /// Bytes in live allocations.
    pub allocated_bytes: u64,
}

/// [`VisitFn`](crate::VisitFn) for a `T`.
///
/// # Safety
/// - `p` must point to a valid `T`.
pub unsafe fn visit_erased<T: Persistent>(p: *const u8, v: &mut Visitor<'_>) -> Result<()> {
    // SAFETY: caller's contract (the bytes are readable); validated before the
    // reference below is formed.
    unsafe { v.validate(p.cast::<T>())? };
    // SAFETY: caller's contract; the value was just validated.
    unsafe { (*p.cast::<T>()).visit_owned(v) }
}

impl Visitor<'_> {
    /// Queues the value of type `T` at `ptr` (an allocation just reported with
    /// [`Visitor::owned`]) to be visited after the current value, so that long chains
    /// (lists, deep trees) are walked without recursion.
    ///
    /// # Safety
    /// - `ptr` must point to a valid `T` in the pool being checked.
    pub unsafe fn visit_later<T: Persistent>(&mut self, ptr: *const T) {
        let node = self.nodes.len() as u32;
        self.nodes.push((self.current, self.inside.concat()));
        self.queue.push((ptr.cast(), visit_erased::<T>, node));
    }

    /// Checks that the bytes at `ptr` are a valid `T` ([`Persistent::validate`]) before
    /// anything reads them as a `T`; collections call it on each element.
    ///
    /// # Errors
    /// [`Error::Corrupted`] naming the path from the root and what is wrong.
    ///
    /// # Safety
    /// - `ptr` is aligned and `size_of::<T>()` bytes there are readable.
    pub unsafe fn validate<T: Persistent>(&self, ptr: *const T) -> Result<()> {
        if !T::MAY_BE_INVALID {
            return Ok(());
        }
        // SAFETY: caller's contract.
        unsafe { T::validate(ptr) }.map_err(|e| {
            Error::corrupted(
                format!("invalid value at {}{}: {}", self.path(), e.path(), e.what()),
                (ptr as usize).wrapping_sub(self.base) as u64,
            )
        })
    }
}

pub(crate) fn check_pool<R: Persistent>(
    sh: &Shared,
    heap_ix: &HeapIndex,
    root: *const R,
) -> Result<CheckReport> {
    let ctx = ReadCtx(sh);
    let fresh = HeapIndex::rebuild(&ctx)?;
    if fresh != *heap_ix {
        return Err(Error::corrupted(
            "allocator index disagrees with the heap",
            crate::format::HEAP_START,
        ));
    }
    let meta = heap::meta(&ctx);
    let mut v = Visitor {
        ctx: ReadCtx(sh),
        heap: heap_ix,
        seen: HashSet::new(),
        base: sh.region.base() as usize,
        queue: Vec::new(),
        nodes: vec![(0, String::new())],
        current: 0,
        inside: Vec::new(),
    };
    v.seen.insert(meta.root_off);
    if meta.schema_off != 0 {
        v.seen.insert(meta.schema_off);
    }
    // SAFETY: the root is a live allocation of `size_of::<R>()` bytes, aligned
    // (validated at open); it is validated before the reference is formed.
    unsafe {
        v.validate(root)?;
        (*root).visit_owned(&mut v)?;
    }
    while let Some((p, f, node)) = v.queue.pop() {
        v.current = node;
        v.inside.clear();
        // SAFETY: queued by `visit_later`, whose caller promised a `T` there.
        unsafe { f(p, &mut v)? };
    }
    let mut report = CheckReport {
        allocations: 0,
        allocated_bytes: 0,
    };
    let mut leak = None;
    heap::census(&ctx, |off, size| {
        if off == meta.schema_off {
            return; // the pool's own schema record is not user data
        }
        report.allocations += 1;
        report.allocated_bytes += size;
        if leak.is_none() && !v.seen.contains(&off) {
            leak = Some(off);
        }
    })?;
    if let Some(off) = leak {
        return Err(Error::corrupted(
            "leaked allocation (not reachable from the root)",
            off,
        ));
    }
    Ok(report)
}
