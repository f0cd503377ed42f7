//! The per-transaction journal: which byte ranges a transaction wrote, the old bytes of
//! each (for rollback, kept in DRAM), which ranges it allocated fresh (no old bytes
//! needed), and which allocations it frees at commit.
//!
//! Ranges are kept as disjoint, sorted `[start, end)` intervals. A write to a range that
//! is already covered costs one lookup and copies nothing (a range is never snapshotted
//! twice). Small transactions keep their intervals in a short sorted vector; past
//! `SMALL` intervals they move to a `BTreeMap`, so bulk transactions stay O(n log n).

use std::collections::BTreeMap;

/// Undo position meaning "fresh memory: nothing to restore".
const FRESH: u64 = u64::MAX;
const SMALL: usize = 32;

/// A written interval: `end` and where its old bytes sit in `Journal::undo` (or `FRESH`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) end: u64,
    pub(crate) undo: u64,
}

#[derive(Debug)]
enum Ranges {
    Small(Vec<(u64, Span)>),
    Large(BTreeMap<u64, Span>),
}

/// Disjoint intervals keyed by start.
#[derive(Debug)]
pub(crate) struct RangeSet {
    ranges: Ranges,
}

impl Default for RangeSet {
    fn default() -> Self {
        RangeSet { ranges: Ranges::Small(Vec::new()) }
    }
}

impl RangeSet {
    pub(crate) fn is_empty(&self) -> bool {
        match &self.ranges {
            Ranges::Small(v) => v.is_empty(),
            Ranges::Large(m) => m.is_empty(),
        }
    }

    pub(crate) fn clear(&mut self) {
        match &mut self.ranges {
            Ranges::Small(v) => v.clear(),
            Ranges::Large(_) => self.ranges = Ranges::Small(Vec::new()),
        }
    }

    /// The interval with the greatest start `<= at`, if any.
    fn floor(&self, at: u64) -> Option<(u64, Span)> {
        match &self.ranges {
            Ranges::Small(v) => {
                let i = v.partition_point(|(s, _)| *s <= at);
                (i > 0).then(|| v[i - 1])
            }
            Ranges::Large(m) => m.range(..=at).next_back().map(|(s, sp)| (*s, *sp)),
        }
    }

    /// The first interval with start `> at`, if any.
    fn next_after(&self, at: u64) -> Option<(u64, Span)> {
        match &self.ranges {
            Ranges::Small(v) => {
                let i = v.partition_point(|(s, _)| *s <= at);
                v.get(i).copied()
            }
            Ranges::Large(m) => m.range(at + 1..).next().map(|(s, sp)| (*s, *sp)),
        }
    }

    /// Inserts `[start, span.end)` (which must not overlap any interval), extending the
    /// interval just before it instead when the two touch and their old bytes are
    /// contiguous in the undo buffer (or both fresh): consecutive fields snapshotted
    /// one after the other stay one interval.
    fn insert(&mut self, start: u64, span: Span) {
        let joins = |s: u64, prev: &Span| {
            prev.end == start
                && ((prev.undo == FRESH && span.undo == FRESH)
                    || (prev.undo != FRESH && span.undo != FRESH && prev.undo + (prev.end - s) == span.undo))
        };
        match &mut self.ranges {
            Ranges::Small(v) => {
                let i = v.partition_point(|(s, _)| *s < start);
                if i > 0 && joins(v[i - 1].0, &v[i - 1].1) {
                    v[i - 1].1.end = span.end;
                    return;
                }
                v.insert(i, (start, span));
                if v.len() > SMALL {
                    let m: BTreeMap<u64, Span> = v.drain(..).collect();
                    self.ranges = Ranges::Large(m);
                }
            }
            Ranges::Large(m) => {
                if let Some((s, prev)) = m.range_mut(..start).next_back() {
                    if joins(*s, prev) {
                        prev.end = span.end;
                        return;
                    }
                }
                m.insert(start, span);
            }
        }
    }

    /// Is `[start, end)` entirely inside one interval?
    pub(crate) fn covers(&self, start: u64, end: u64) -> bool {
        matches!(self.floor(start), Some((_, sp)) if sp.end >= end)
    }

    /// Calls `gap` for each maximal sub-range of `[start, end)` not yet covered, then
    /// covers it with the span `gap` returns.
    pub(crate) fn fill_gaps(&mut self, start: u64, end: u64, mut gap: impl FnMut(u64, u64) -> u64) {
        let mut at = start;
        loop {
            // Skip every interval covering `at` (intervals may touch end to start).
            while at < end {
                match self.floor(at) {
                    Some((_, sp)) if sp.end > at => at = sp.end,
                    _ => break,
                }
            }
            if at >= end {
                return;
            }
            // No interval starts at `at`, so the next one starts strictly after it.
            let gap_end = self.next_after(at).map_or(end, |(n, _)| n.min(end));
            let undo = gap(at, gap_end);
            self.insert(at, Span { end: gap_end, undo });
            at = gap_end;
        }
    }

    /// All intervals in ascending order.
    pub(crate) fn for_each(&self, mut f: impl FnMut(u64, Span)) {
        match &self.ranges {
            Ranges::Small(v) => v.iter().for_each(|(s, sp)| f(*s, *sp)),
            Ranges::Large(m) => m.iter().for_each(|(s, sp)| f(*s, *sp)),
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        match &self.ranges {
            Ranges::Small(v) => v.len(),
            Ranges::Large(m) => m.len(),
        }
    }
}

/// Everything one transaction has done, in DRAM.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    /// Written intervals (pool offsets).
    pub(crate) written: RangeSet,
    /// Intervals allocated by this transaction: writes there need no old bytes.
    pub(crate) fresh: RangeSet,
    /// Old bytes of every non-fresh written interval, back to back.
    pub(crate) undo: Vec<u8>,
    /// Allocations to free at commit: (offset, size).
    pub(crate) frees: Vec<(u64, u64)>,
    /// Offsets in `frees`, to refuse a double free in O(1).
    pub(crate) freed: std::collections::HashSet<u64>,
    /// The allocator's volatile index must be rebuilt if this transaction rolls back.
    pub(crate) heap_touched: bool,
    /// A nested transaction failed: the whole transaction must roll back.
    pub(crate) doomed: bool,
    /// Hint: the last interval hit, to make repeated writes to one field O(1).
    last: (u64, u64),
}

impl Journal {
    /// Records the intent to write `[off, off+len)`; saves old bytes read from `base`.
    ///
    /// # Safety
    /// - `base + off .. base + off + len` must be mapped and readable.
    #[inline]
    pub(crate) unsafe fn snapshot(&mut self, base: *const u8, off: u64, len: u64) {
        let end = off + len;
        if off >= self.last.0 && end <= self.last.1 {
            return;
        }
        // Fast path for small transactions: the range is covered by, or extends, the
        // interval that starts at or before it (consecutive fields of one struct).
        if let Ranges::Small(v) = &mut self.written.ranges {
            let i = v.partition_point(|(s, _)| *s <= off);
            if i > 0 {
                let next_start = v.get(i).map_or(u64::MAX, |(n, _)| *n);
                let (s, sp) = &mut v[i - 1];
                if sp.end >= end {
                    self.last = (*s, sp.end);
                    return;
                }
                if sp.end >= off
                    && next_start >= end
                    && sp.undo != FRESH
                    && sp.undo + (sp.end - *s) == self.undo.len() as u64
                    && self.fresh.is_empty()
                    && !crate::fault::is(crate::fault::Broken::SkipUndo)
                {
                    // SAFETY: `sp.end..end` is inside `off..end`, readable by the caller's
                    // promise.
                    let old = unsafe { std::slice::from_raw_parts(base.add(sp.end as usize), (end - sp.end) as usize) };
                    self.undo.extend_from_slice(old);
                    sp.end = end;
                    self.last = (*s, end);
                    return;
                }
            }
        }
        let undo = &mut self.undo;
        let fresh = &self.fresh;
        self.written.fill_gaps(off, end, |a, b| {
            if fresh.covers(a, b) || crate::fault::is(crate::fault::Broken::SkipUndo) {
                return FRESH;
            }
            let pos = undo.len() as u64;
            // SAFETY: `a..b` is inside `off..end`, readable by the caller's promise.
            let old = unsafe { std::slice::from_raw_parts(base.add(a as usize), (b - a) as usize) };
            undo.extend_from_slice(old);
            pos
        });
        if let Some((s, sp)) = self.written.floor(off) {
            if sp.end >= end {
                self.last = (s, sp.end);
            }
        }
    }

    /// Records a fresh allocation `[off, off+len)`.
    pub(crate) fn record_fresh(&mut self, off: u64, len: u64) {
        self.fresh.fill_gaps(off, off + len, |_, _| FRESH);
    }

    /// Copies every saved old range back into the mapping at `base`.
    ///
    /// # Safety
    /// - every written range must still be mapped writable at `base`.
    pub(crate) unsafe fn roll_back(&self, base: *mut u8) {
        self.written.for_each(|start, sp| {
            if sp.undo != FRESH {
                let len = (sp.end - start) as usize;
                let src = &self.undo[sp.undo as usize..sp.undo as usize + len];
                // SAFETY: the range was readable when snapshotted and mappings never
                // shrink while the pool is open.
                unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), base.add(start as usize), len) };
            }
        });
    }

    pub(crate) fn clear(&mut self) {
        self.written.clear();
        self.fresh.clear();
        self.undo.clear();
        self.frees.clear();
        self.freed.clear();
        self.heap_touched = false;
        self.doomed = false;
        self.last = (0, 0);
        if self.undo.capacity() > 64 << 20 {
            self.undo = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_is_snapshotted_once_and_rolled_back_exactly() {
        let mut mem: Vec<u8> = (0..=255).collect();
        let mut j = Journal::default();
        // SAFETY: all ranges are inside `mem`.
        unsafe {
            j.snapshot(mem.as_ptr(), 10, 8);
            j.snapshot(mem.as_ptr(), 12, 2);
            j.snapshot(mem.as_ptr(), 14, 10); // overlaps the tail: only 18..24 is new
        }
        assert_eq!(j.undo.len(), 8 + 6);
        for b in &mut mem[10..24] {
            *b = 0xEE;
        }
        // SAFETY: as above.
        unsafe { j.roll_back(mem.as_mut_ptr()) };
        assert_eq!(mem, (0..=255).collect::<Vec<u8>>());
    }

    #[test]
    fn a_snapshot_spanning_touching_unmerged_intervals_saves_each_byte_once() {
        // Regression (found by the PVec model test): intervals that touch but whose old
        // bytes are not contiguous stay separate; a later snapshot across both must not
        // save the second one again (it would save already-changed bytes).
        let mut mem: Vec<u8> = (0..=255).collect();
        let orig = mem.clone();
        let mut j = Journal::default();
        for &(off, len) in &[(100u64, 10u64), (50, 3), (110, 10), (105, 20), (130, 4)] {
            // SAFETY: inside `mem`.
            unsafe { j.snapshot(mem.as_ptr(), off, len) };
            for b in &mut mem[off as usize..(off + len) as usize] {
                *b = 0xEE;
            }
        }
        assert_eq!(j.undo.len(), 10 + 3 + 10 + 5 + 4);
        // SAFETY: inside `mem`.
        unsafe { j.roll_back(mem.as_mut_ptr()) };
        assert_eq!(mem, orig);
    }

    #[test]
    fn writes_inside_fresh_allocations_save_no_old_bytes() {
        let mem = vec![0u8; 1024];
        let mut j = Journal::default();
        j.record_fresh(100, 200);
        // SAFETY: inside `mem`.
        unsafe { j.snapshot(mem.as_ptr(), 150, 50) };
        assert!(j.undo.is_empty());
        assert!(j.written.covers(150, 200));
        // SAFETY: inside `mem`.
        unsafe { j.snapshot(mem.as_ptr(), 290, 20) }; // 290..300 fresh, 300..310 old
        assert_eq!(j.undo.len(), 20);
    }

    #[test]
    fn many_disjoint_ranges_switch_to_the_tree_and_stay_sorted() {
        let mem = vec![0u8; 100_000];
        let mut j = Journal::default();
        for i in (0..1000u64).rev() {
            // SAFETY: inside `mem`.
            unsafe { j.snapshot(mem.as_ptr(), i * 64, 8) };
        }
        assert_eq!(j.written.len(), 1000);
        let mut prev = None;
        j.written.for_each(|s, sp| {
            assert!(prev.is_none_or(|p| p <= s));
            assert_eq!(sp.end, s + 8);
            prev = Some(sp.end);
        });
    }
}
