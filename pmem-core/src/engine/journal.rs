//! The per-transaction journal: which byte ranges a transaction wrote, the old bytes of
//! each (for rollback, kept in DRAM), which ranges it allocated fresh (no old bytes
//! needed), and which allocations it frees at commit.
//!
//! Ranges are kept as disjoint, sorted `[start, end)` intervals. A write to a range that
//! is already covered costs one lookup and copies nothing (a range is never snapshotted
//! twice). Small transactions keep their intervals in a short sorted vector; past
//! `SMALL` intervals they move to a `BTreeMap`, so bulk transactions stay O(n log n).

use std::collections::BTreeMap;

use super::page_set::PageSet;

/// Undo position meaning "fresh memory: nothing to restore".
const FRESH: u64 = u64::MAX;
/// Line-mode undo position meaning "the pool file holds this page's old bytes": the page
/// was not changed since the last checkpoint, so the private mapping shows the file's
/// bytes (free space aside, which nothing reads), and a rollback drops the private copy
/// instead of copying saved bytes back (ARCHITECTURE §5.1).
const IN_FILE: u64 = u64::MAX - 1;
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
        RangeSet {
            ranges: Ranges::Small(Vec::new()),
        }
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
                    || (prev.undo != FRESH
                        && span.undo != FRESH
                        && prev.undo + (prev.end - s) == span.undo))
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
    /// Hint: the last interval hit, to make repeated writes to one field O(1).
    last: (u64, u64),
    /// The interval hit before `last` (transactions often alternate between two places,
    /// such as a node and a collection header).
    prev: (u64, u64),
    /// Line mode (large transactions): per page, a mask of written 64-byte lines.
    lines: Vec<u64>,
    /// Line mode: pages with written lines, and where each page's old bytes are in
    /// `undo` (`FRESH`: the whole page was fresh memory).
    touched: Vec<(u64, u64)>,
    line_mode: bool,
    /// The mapping is the pool file mapped privately, so a page unchanged since the last
    /// checkpoint can be restored from the file (`IN_FILE`). Set once at open.
    file_backed: bool,
}

/// Past this many written intervals a transaction switches to line mode: each write
/// then costs a bit test instead of an ordered-map lookup.
const LINE_MODE_AT: usize = 1024;
const LINE: u64 = 64;
const PAGE: u64 = crate::format::PAGE;

impl Journal {
    /// An empty journal; `file_backed`: see the field.
    pub(crate) fn new(file_backed: bool) -> Self {
        Journal {
            file_backed,
            ..Journal::default()
        }
    }

    /// Records the intent to write `[off, off+len)`; saves old bytes read from `base`.
    /// `dirty` is the set of pages changed since the last checkpoint (the others read
    /// the pool file's bytes when the journal is `file_backed`).
    ///
    /// # Safety
    /// - `base + off .. base + off + len` must be mapped and readable.
    #[inline]
    pub(crate) unsafe fn snapshot(&mut self, base: *const u8, off: u64, len: u64, dirty: &PageSet) {
        if self.line_mode {
            // SAFETY: forwarded contract.
            unsafe { self.snapshot_lines(base, off, len, dirty) };
            return;
        }
        let end = off + len;
        if off >= self.last.0 && end <= self.last.1 {
            return;
        }
        if off >= self.prev.0 && end <= self.prev.1 {
            std::mem::swap(&mut self.last, &mut self.prev);
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
                    self.prev = self.last;
                    self.last = (*s, sp.end);
                    return;
                }
                if sp.end >= off
                    && next_start >= end
                    && sp.undo != FRESH
                    && sp.undo + (sp.end - *s) == self.undo.len() as u64
                    && self.fresh.is_empty()
                    && !crate::inject::is(crate::inject::Broken::SkipUndo)
                {
                    // SAFETY: `sp.end..end` is inside `off..end`, readable by the caller's
                    // promise.
                    let old = unsafe {
                        std::slice::from_raw_parts(
                            base.add(sp.end as usize),
                            (end - sp.end) as usize,
                        )
                    };
                    self.undo.extend_from_slice(old);
                    sp.end = end;
                    if self.last.0 == *s {
                        self.last.1 = end;
                    } else {
                        self.prev = self.last;
                        self.last = (*s, end);
                    }
                    if self.prev.0 == *s {
                        self.prev.1 = end;
                    }
                    return;
                }
            }
        }
        let undo = &mut self.undo;
        let fresh = &self.fresh;
        self.written.fill_gaps(off, end, |a, b| {
            if fresh.covers(a, b) || crate::inject::is(crate::inject::Broken::SkipUndo) {
                return FRESH;
            }
            let pos = undo.len() as u64;
            // SAFETY: `a..b` is inside `off..end`, readable by the caller's promise.
            let old = unsafe { std::slice::from_raw_parts(base.add(a as usize), (b - a) as usize) };
            undo.extend_from_slice(old);
            pos
        });
        // Intervals may have merged: drop hints that could be stale, keep the new one.
        self.prev = (0, 0);
        if let Some((s, sp)) = self.written.floor(off) {
            if sp.end >= end {
                self.last = (s, sp.end);
            }
        }
        if self.written.len() >= LINE_MODE_AT {
            // SAFETY: every written interval is readable (it was when snapshotted).
            unsafe { self.enter_line_mode(base, dirty) };
        }
    }

    /// Line mode's snapshot: mark the 64-byte lines; on a page's first write, save the
    /// whole page (unless it is all fresh memory).
    ///
    /// # Safety
    /// - as for `snapshot`; whole pages around the range must be mapped (mappings are
    ///   page-granular).
    unsafe fn snapshot_lines(&mut self, base: *const u8, off: u64, len: u64, dirty: &PageSet) {
        if len == 0 {
            return;
        }
        let (first, last) = (off / PAGE, (off + len - 1) / PAGE);
        for page in first..=last {
            let lo = if page == first { off % PAGE / LINE } else { 0 };
            let hi = if page == last {
                (off + len - 1) % PAGE / LINE
            } else {
                PAGE / LINE - 1
            };
            let mask = (u64::MAX >> (63 - hi)) & (u64::MAX << lo);
            let p = page as usize;
            if p >= self.lines.len() {
                self.lines.resize(p + 1, 0);
            }
            if self.lines[p] == 0 {
                // SAFETY: the page is mapped (page-granular mappings).
                unsafe { self.save_page(base, page, dirty) };
            }
            self.lines[p] |= mask;
        }
    }

    /// Records `page`'s old bytes (first write to it in line mode).
    ///
    /// # Safety
    /// - the page must be mapped; its bytes are saved as they are now (see
    ///   `enter_line_mode` for pages already written in interval mode).
    unsafe fn save_page(&mut self, base: *const u8, page: u64, dirty: &PageSet) {
        let start = page * PAGE;
        if self.fresh.covers(start, start + PAGE)
            || crate::inject::is(crate::inject::Broken::SkipUndo)
        {
            self.touched.push((page, FRESH));
            return;
        }
        if self.file_backed && !dirty.contains(page) {
            // A bulk transaction rewriting pages it did not allocate (remove half of a
            // big map) would otherwise hold a second copy of each in DRAM.
            self.touched.push((page, IN_FILE));
            return;
        }
        let pos = self.undo.len() as u64;
        // SAFETY: caller's contract.
        let bytes = unsafe { std::slice::from_raw_parts(base.add(start as usize), PAGE as usize) };
        self.undo.extend_from_slice(bytes);
        self.touched.push((page, pos));
    }

    /// Moves every written interval into line mode: pages get their old bytes (the
    /// current page with each interval's saved old bytes laid back over it).
    ///
    /// # Safety
    /// - every written interval's pages must be mapped.
    unsafe fn enter_line_mode(&mut self, base: *const u8, dirty: &PageSet) {
        let mut spans = Vec::with_capacity(self.written.len());
        self.written.for_each(|s, sp| spans.push((s, sp)));
        self.line_mode = true;
        for &(s, sp) in &spans {
            // SAFETY: caller's contract.
            unsafe { self.snapshot_lines(base, s, sp.end - s, dirty) };
        }
        // The pages saved above hold the *current* bytes of intervals written before the
        // switch; put those intervals' old bytes back into the saved pages.
        let page_pos: std::collections::HashMap<u64, u64> = self.touched.iter().copied().collect();
        for &(s, sp) in &spans {
            if sp.undo == FRESH {
                continue;
            }
            let mut at = s;
            while at < sp.end {
                let page = at / PAGE;
                let stop = ((page + 1) * PAGE).min(sp.end);
                if let Some(&pos) = page_pos.get(&page) {
                    if pos != FRESH && pos != IN_FILE {
                        let from = (sp.undo + (at - s)) as usize;
                        let to = (pos + at % PAGE) as usize;
                        let n = (stop - at) as usize;
                        self.undo.copy_within(from..from + n, to);
                    }
                }
                at = stop;
            }
        }
        self.written.clear();
        self.last = (0, 0);
        self.prev = (0, 0);
    }

    /// Does the transaction write anything?
    pub(crate) fn has_writes(&self) -> bool {
        !self.written.is_empty() || !self.touched.is_empty()
    }

    /// The written byte ranges, ascending and coalesced, for the redo log.
    pub(crate) fn redo_ranges(&mut self, out: &mut Vec<(u64, u64)>) {
        out.clear();
        let mut push = |start: u64, len: u64| match out.last_mut() {
            Some((s, l)) if *s + *l == start => *l += len,
            _ => out.push((start, len)),
        };
        if self.line_mode {
            self.touched.sort_unstable_by_key(|t| t.0);
            for &(page, _) in &self.touched {
                let mut mask = self.lines[page as usize];
                while mask != 0 {
                    let lo = u64::from(mask.trailing_zeros());
                    let run = u64::from((mask >> lo).trailing_ones());
                    push(page * PAGE + lo * LINE, run * LINE);
                    mask &= if lo + run >= 64 {
                        0
                    } else {
                        !((u64::MAX >> (64 - run)) << lo)
                    };
                }
            }
        } else {
            self.written
                .for_each(|start, sp| push(start, sp.end - start));
        }
    }

    /// Records a fresh allocation `[off, off+len)`.
    pub(crate) fn record_fresh(&mut self, off: u64, len: u64) {
        self.fresh.fill_gaps(off, off + len, |_, _| FRESH);
    }

    /// Copies every saved old range back into the mapping at `base`; pages whose old
    /// bytes are the pool file's go to `restore_from_file(offset, len)`, which drops their
    /// private copies.
    ///
    /// # Safety
    /// - every written range must still be mapped writable at `base`.
    pub(crate) unsafe fn roll_back(
        &self,
        base: *mut u8,
        mut restore_from_file: impl FnMut(u64, u64),
    ) {
        self.written.for_each(|start, sp| {
            if sp.undo != FRESH {
                let len = (sp.end - start) as usize;
                let src = &self.undo[sp.undo as usize..sp.undo as usize + len];
                // SAFETY: the range was readable when snapshotted and mappings never
                // shrink while the pool is open.
                unsafe {
                    std::ptr::copy_nonoverlapping(src.as_ptr(), base.add(start as usize), len);
                };
            }
        });
        for &(page, pos) in &self.touched {
            if pos == IN_FILE {
                restore_from_file(page * PAGE, PAGE);
            } else if pos != FRESH {
                let src = &self.undo[pos as usize..(pos + PAGE) as usize];
                // SAFETY: the page was mapped when saved and mappings only grow.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        src.as_ptr(),
                        base.add((page * PAGE) as usize),
                        PAGE as usize,
                    );
                };
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.written.clear();
        self.fresh.clear();
        self.undo.clear();
        self.frees.clear();
        self.freed.clear();
        for &(page, _) in &self.touched {
            self.lines[page as usize] = 0;
        }
        self.touched.clear();
        self.line_mode = false;
        if self.lines.len() > 1 << 20 {
            self.lines = Vec::new();
        }
        self.heap_touched = false;
        self.last = (0, 0);
        self.prev = (0, 0);
        if self.undo.capacity() > 64 << 20 {
            self.undo = Vec::new();
        }
    }
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod tests;
