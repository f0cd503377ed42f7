//! The persistent allocator (ARCHITECTURE §5).
//!
//! The heap `HEAP_START..heap_end` is tiled by blocks, each starting with a 64-byte
//! [`BlockHeader`]: *free* blocks, *large* blocks (one object, payload after the header)
//! and *runs* (a bitmap and equal cells of one size class). Every change to a header, a
//! bitmap word or `heap_end` is written through the transaction journal like any user
//! write, so allocator metadata is exactly as crash-consistent as user data, and a
//! rollback restores it byte for byte.
//!
//! The volatile [`HeapIndex`] (free blocks by size and by offset, runs with free cells
//! per class) is derived from the headers: rebuilt at open by one walk over the blocks,
//! kept in step by every operation, and rebuilt again after a rolled-back transaction
//! that touched it.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Result};
use crate::format::{
    run_geometry, BlockHeader, RootMeta, BLOCK_ALIGN, BLOCK_HEADER, CLASSES, HEAP_START, KIND_FREE,
    KIND_LARGE, KIND_RUN, MAX_ALIGN, MAX_SMALL, META_OFF,
};

/// What the allocator needs from the transaction it runs in.
pub(crate) trait HeapMem {
    /// Start of the mapped pool.
    fn base(&self) -> *mut u8;
    /// Bytes mapped; every offset the allocator touches is below this.
    fn mapped_len(&self) -> u64;
    /// The pool's maximum size.
    fn max_size(&self) -> u64;
    /// Journals the intent to write `[off, off+len)`.
    fn snapshot(&mut self, off: u64, len: u64);
    /// Journals a fresh allocation.
    fn record_fresh(&mut self, off: u64, len: u64);
    /// Grows the file and mapping to at least `len` bytes.
    fn ensure_mapped(&mut self, len: u64) -> Result<()>;
}

fn read<T: Copy>(m: &dyn HeapMem, off: u64) -> T {
    debug_assert!(off + size_of::<T>() as u64 <= m.mapped_len());
    // SAFETY: callers bounds-check `off` against heap_end <= mapped_len; every T read
    // here is a plain-old-data header valid for any bit pattern.
    unsafe { std::ptr::read_unaligned(m.base().add(off as usize).cast::<T>()) }
}

fn write<T: Copy>(m: &mut dyn HeapMem, off: u64, v: T) {
    if !crate::inject::is(crate::inject::Broken::AllocatorOutsideJournal) {
        m.snapshot(off, size_of::<T>() as u64);
    }
    // SAFETY: as in `read`; the range was journaled just above.
    unsafe { std::ptr::write_unaligned(m.base().add(off as usize).cast::<T>(), v) }
}

pub(crate) fn meta(m: &dyn HeapMem) -> RootMeta {
    read(m, META_OFF)
}

pub(crate) fn set_meta(m: &mut dyn HeapMem, meta: RootMeta) {
    write(m, META_OFF, meta);
}

/// Size class for a request, or `None` for a large block.
fn class_for(size: u64, align: u64) -> Option<usize> {
    if size > MAX_SMALL {
        return None;
    }
    CLASSES
        .iter()
        .position(|&c| c as u64 >= size && c as u64 % align.max(16) == 0)
}

/// Where an allocation lives, as the allocator sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// A cell of the run starting at `run`.
    Cell { run: u64, class: usize, index: u64 },
    /// The payload of the large block starting at `block`.
    Large { block: u64, requested: u64 },
}

/// Volatile index over the heap.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct HeapIndex {
    free_by_off: BTreeMap<u64, u64>,
    free_by_size: BTreeSet<(u64, u64)>,
    /// Every run block: start -> class.
    runs: BTreeMap<u64, usize>,
    /// Runs with at least one free cell, per class.
    with_space: Vec<BTreeSet<u64>>,
    heap_end: u64,
}

/// A summary of the heap, for `Pool::stats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct HeapCensus {
    pub(crate) heap_bytes: u64,
    pub(crate) allocated_bytes: u64,
    pub(crate) allocations: u64,
    pub(crate) free_bytes: u64,
    pub(crate) largest_free: u64,
    pub(crate) free_blocks: u64,
    pub(crate) runs: u64,
}

impl HeapIndex {
    /// Walks every block from `HEAP_START` to `heap_end`, validating headers and bitmaps.
    pub(crate) fn rebuild(m: &dyn HeapMem) -> Result<HeapIndex> {
        let mut ix = HeapIndex {
            with_space: vec![BTreeSet::new(); CLASSES.len()],
            ..Default::default()
        };
        let meta = meta(m);
        ix.heap_end = meta.heap_end;
        walk(m, |off, h| {
            match h.kind() {
                Some(KIND_FREE) => ix.insert_free(off, h.size),
                Some(KIND_RUN) => {
                    let class = h.class as usize;
                    ix.runs.insert(off, class);
                    if run_has_space(m, off, class) {
                        ix.with_space[class].insert(off);
                    }
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(ix)
    }

    fn insert_free(&mut self, off: u64, size: u64) {
        self.free_by_off.insert(off, size);
        self.free_by_size.insert((size, off));
    }

    fn remove_free(&mut self, off: u64, size: u64) {
        self.free_by_off.remove(&off);
        self.free_by_size.remove(&(size, off));
    }

    /// Allocates `size` bytes aligned to `align`; answers the pool offset.
    pub(crate) fn alloc(&mut self, m: &mut dyn HeapMem, size: u64, align: u64) -> Result<u64> {
        if size == 0 || !align.is_power_of_two() || align > MAX_ALIGN as u64 {
            return Err(Error::UnsupportedLayout { size, align });
        }
        // More than the pool can ever hold is a matter of space, not of layout.
        if size > m.max_size() {
            return Err(Error::OutOfSpace {
                requested: size,
                max_size: m.max_size(),
            });
        }
        let off = match class_for(size, align) {
            Some(class) => self.alloc_cell(m, class)?,
            None => {
                let payload = size.div_ceil(BLOCK_ALIGN) * BLOCK_ALIGN;
                let block = self.alloc_block(m, payload + BLOCK_HEADER)?;
                let total = read::<BlockHeader>(m, block).size;
                write(m, block, BlockHeader::new(KIND_LARGE, 0, total, size));
                block + BLOCK_HEADER
            }
        };
        m.record_fresh(off, size);
        Ok(off)
    }

    fn alloc_cell(&mut self, m: &mut dyn HeapMem, class: usize) -> Result<u64> {
        let g = run_geometry(class);
        let run = match self.with_space[class].first() {
            Some(&r) => r,
            None => {
                let run = self.alloc_block(m, g.block_size)?;
                let total = read::<BlockHeader>(m, run).size;
                write(m, run, BlockHeader::new(KIND_RUN, class as u32, total, 0));
                for w in 0..g.bitmap_words {
                    write(m, run + g.bitmap_off + w * 8, 0u64);
                }
                self.runs.insert(run, class);
                self.with_space[class].insert(run);
                run
            }
        };
        for w in 0..g.bitmap_words {
            let woff = run + g.bitmap_off + w * 8;
            let word: u64 = read(m, woff);
            let valid = valid_mask(g.cells, w);
            let free = !word & valid;
            if free != 0 {
                let bit = free.trailing_zeros() as u64;
                write(m, woff, word | (1 << bit));
                if (word | (1 << bit)) & valid == valid && !run_has_space(m, run, class) {
                    self.with_space[class].remove(&run);
                }
                return Ok(run + g.data_off + (w * 64 + bit) * g.cell_size);
            }
        }
        // The index said the run had space but its bitmap is full: the index is stale,
        // which is a bug, not a property of the file.
        unreachable!("run {run:#x} listed with free cells has none");
    }

    /// Finds (or makes, by growing the heap) a block of at least `need` bytes, splits
    /// off the rest, and answers its offset. The caller writes its header.
    fn alloc_block(&mut self, m: &mut dyn HeapMem, need: u64) -> Result<u64> {
        loop {
            if let Some(&(size, off)) = self.free_by_size.range((need, 0)..).next() {
                self.remove_free(off, size);
                if size > need {
                    write(
                        m,
                        off + need,
                        BlockHeader::new(KIND_FREE, 0, size - need, 0),
                    );
                    self.insert_free(off + need, size - need);
                }
                write(m, off, BlockHeader::new(KIND_FREE, 0, need, 0));
                return Ok(off);
            }
            self.grow(m, need)?;
        }
    }

    /// Extends the heap by at least `need` bytes: by an eighth of its size, between
    /// 256 KiB and 4 MiB (a larger step would leave big pools with tens of MiB of unused
    /// file; a smaller one would make growth frequent).
    fn grow(&mut self, m: &mut dyn HeapMem, need: u64) -> Result<()> {
        let old_end = self.heap_end;
        let max = m.max_size();
        let step = (old_end / 8).clamp(256 << 10, 4 << 20).max(need);
        let mut new_end = (old_end + step).div_ceil(crate::format::PAGE) * crate::format::PAGE;
        if new_end > max {
            new_end = max - max % crate::format::PAGE;
        }
        // The tail block may be free: growing extends it instead of adding a new block.
        let tail = self
            .free_by_off
            .range(..old_end)
            .next_back()
            .map(|(o, s)| (*o, *s));
        let (start, have) = match tail {
            Some((o, s)) if o + s == old_end => (o, s),
            _ => (old_end, 0),
        };
        if new_end <= old_end || new_end - old_end + have < need {
            return Err(Error::OutOfSpace {
                requested: need,
                max_size: max,
            });
        }
        m.ensure_mapped(new_end)?;
        // Nothing before this transaction lived in `old_end..new_end` and a rollback
        // restores `heap_end`, after which no walk reads past it: the grown range needs no
        // old bytes. Declaring it fresh keeps the block headers carved from it out of the
        // undo buffer, so a bulk transaction's pages are saved neither whole (line mode)
        // nor header by header (ARCHITECTURE §5.1).
        m.record_fresh(old_end, new_end - old_end);
        if have > 0 {
            self.remove_free(start, have);
        }
        let size = new_end - start;
        write(m, start, BlockHeader::new(KIND_FREE, 0, size, 0));
        self.insert_free(start, size);
        let mut meta = meta(m);
        meta.heap_end = new_end;
        set_meta(m, meta);
        self.heap_end = new_end;
        Ok(())
    }

    /// Locates the allocation at `off` of `size` bytes, or says why it is not one.
    pub(crate) fn place(&self, m: &dyn HeapMem, off: u64, size: u64) -> Result<Place> {
        let bad = |what: &str| Err(Error::corrupted(format!("{what} ({size} bytes)"), off));
        if off < HEAP_START + BLOCK_HEADER || off >= self.heap_end || off % 16 != 0 {
            return bad("pointer outside the heap");
        }
        if let Some((&run, &class)) = self.runs.range(..=off).next_back() {
            let g = run_geometry(class);
            if off < run + g.block_size {
                if off < run + g.data_off || (off - run - g.data_off) % g.cell_size != 0 {
                    return bad("pointer into the middle of a cell");
                }
                let index = (off - run - g.data_off) / g.cell_size;
                if index >= g.cells || size > g.cell_size {
                    return bad("pointer past a run's cells");
                }
                let word: u64 = read(m, run + g.bitmap_off + index / 64 * 8);
                if word & (1 << (index % 64)) == 0 {
                    return bad("pointer to a free cell");
                }
                return Ok(Place::Cell { run, class, index });
            }
        }
        let block = off - BLOCK_HEADER;
        if block + BLOCK_HEADER > self.heap_end || self.free_by_off.contains_key(&block) {
            return bad("pointer to a free block");
        }
        let h: BlockHeader = read(m, block);
        if h.kind() != Some(KIND_LARGE) || h.requested < size || block + h.size > self.heap_end {
            return bad("pointer to no allocation");
        }
        Ok(Place::Large {
            block,
            requested: h.requested,
        })
    }

    /// Frees the allocation at `off` (`size` as allocated). Runs at commit.
    pub(crate) fn free(&mut self, m: &mut dyn HeapMem, off: u64, size: u64) -> Result<()> {
        match self.place(m, off, size)? {
            Place::Cell { run, class, index } => {
                let g = run_geometry(class);
                let woff = run + g.bitmap_off + index / 64 * 8;
                let word: u64 = read(m, woff);
                write(m, woff, word & !(1 << (index % 64)));
                if run_is_empty(m, run, class) {
                    self.runs.remove(&run);
                    self.with_space[class].remove(&run);
                    self.release_block(m, run, g.block_size);
                } else {
                    self.with_space[class].insert(run);
                }
            }
            Place::Large { block, .. } => {
                let h: BlockHeader = read(m, block);
                self.release_block(m, block, h.size);
            }
        }
        Ok(())
    }

    /// Turns a used block into free space, merging with free neighbours.
    fn release_block(&mut self, m: &mut dyn HeapMem, mut start: u64, mut size: u64) {
        if let Some(&next) = self.free_by_off.get(&(start + size)) {
            self.remove_free(start + size, next);
            size += next;
        }
        if let Some((&p, &ps)) = self.free_by_off.range(..start).next_back() {
            if p + ps == start {
                self.remove_free(p, ps);
                start = p;
                size += ps;
            }
        }
        write(m, start, BlockHeader::new(KIND_FREE, 0, size, 0));
        self.insert_free(start, size);
    }

    #[cfg(test)]
    pub(crate) fn heap_end(&self) -> u64 {
        self.heap_end
    }
}

fn valid_mask(cells: u64, word: u64) -> u64 {
    let first = word * 64;
    if cells >= first + 64 {
        u64::MAX
    } else {
        (1u64 << (cells - first)) - 1
    }
}

fn run_has_space(m: &dyn HeapMem, run: u64, class: usize) -> bool {
    let g = run_geometry(class);
    (0..g.bitmap_words)
        .any(|w| !read::<u64>(m, run + g.bitmap_off + w * 8) & valid_mask(g.cells, w) != 0)
}

fn run_is_empty(m: &dyn HeapMem, run: u64, class: usize) -> bool {
    let g = run_geometry(class);
    (0..g.bitmap_words).all(|w| read::<u64>(m, run + g.bitmap_off + w * 8) == 0)
}

/// Visits every block header in address order, validating the tiling, each header, and
/// each run's bitmap. Any inconsistency is `Error::Corrupted` naming the offset.
pub(crate) fn walk(
    m: &dyn HeapMem,
    mut f: impl FnMut(u64, &BlockHeader) -> Result<()>,
) -> Result<()> {
    let meta = meta(m);
    let end = meta.heap_end;
    if end < HEAP_START || end > m.mapped_len() || end % crate::format::PAGE != 0 {
        return Err(Error::corrupted(
            format!("heap end {end:#x} outside the mapped pool"),
            META_OFF,
        ));
    }
    let mut off = HEAP_START;
    while off < end {
        if off + BLOCK_HEADER > end {
            return Err(Error::corrupted("block header past the heap end", off));
        }
        let h: BlockHeader = read(m, off);
        let kind = h
            .kind()
            .ok_or_else(|| Error::corrupted("bad block header magic", off))?;
        if h.size < BLOCK_HEADER || h.size % BLOCK_ALIGN != 0 || h.size > end - off {
            return Err(Error::corrupted(format!("bad block size {}", h.size), off));
        }
        match kind {
            KIND_RUN => {
                let class = h.class as usize;
                if class >= CLASSES.len() {
                    return Err(Error::corrupted(format!("bad size class {class}"), off));
                }
                let g = run_geometry(class);
                if h.size != g.block_size {
                    return Err(Error::corrupted("run block of the wrong size", off));
                }
                let last = g.bitmap_words - 1;
                let word: u64 = read(m, off + g.bitmap_off + last * 8);
                if word & !valid_mask(g.cells, last) != 0 {
                    return Err(Error::corrupted("run bitmap marks cells past the end", off));
                }
            }
            KIND_LARGE if h.requested == 0 || h.requested > h.size - BLOCK_HEADER => {
                return Err(Error::corrupted("large block with a bad payload size", off));
            }
            _ => {}
        }
        f(off, &h)?;
        off += h.size;
    }
    Ok(())
}

/// Counts the heap for `stats`; calls `each` for every live allocation (offset, size).
pub(crate) fn census(m: &dyn HeapMem, mut each: impl FnMut(u64, u64)) -> Result<HeapCensus> {
    let mut c = HeapCensus {
        heap_bytes: meta(m).heap_end - HEAP_START,
        ..Default::default()
    };
    walk(m, |off, h| {
        match h.kind() {
            Some(KIND_FREE) => {
                c.free_bytes += h.size;
                c.free_blocks += 1;
                c.largest_free = c.largest_free.max(h.size);
            }
            Some(KIND_LARGE) => {
                c.allocated_bytes += h.requested;
                c.allocations += 1;
                each(off + BLOCK_HEADER, h.requested);
            }
            Some(KIND_RUN) => {
                c.runs += 1;
                let g = run_geometry(h.class as usize);
                for w in 0..g.bitmap_words {
                    let word: u64 = read(m, off + g.bitmap_off + w * 8);
                    let used = u64::from(word.count_ones());
                    c.allocated_bytes += used * g.cell_size;
                    c.allocations += used;
                    c.free_bytes +=
                        (u64::from((!word & valid_mask(g.cells, w)).count_ones())) * g.cell_size;
                    let mut bits = word;
                    while bits != 0 {
                        let b = bits.trailing_zeros() as u64;
                        bits &= bits - 1;
                        each(off + g.data_off + (w * 64 + b) * g.cell_size, g.cell_size);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(c)
}

/// Zeroes the contents of free space in `img` (a copy of the pool from offset `start`):
/// free blocks past their header and free cells of runs. What remains is the allocator
/// metadata and every live allocation, which a rollback restores byte for byte.
pub(crate) fn mask_free_space(m: &dyn HeapMem, img: &mut [u8], start: u64) -> Result<()> {
    let mut zero = |off: u64, len: u64| {
        let a = (off - start) as usize;
        img[a..a + len as usize].fill(0);
    };
    walk(m, |off, h| {
        match h.kind() {
            Some(KIND_FREE) => zero(off + BLOCK_HEADER, h.size - BLOCK_HEADER),
            Some(KIND_RUN) => {
                let g = run_geometry(h.class as usize);
                for i in 0..g.cells {
                    let word: u64 = read(m, off + g.bitmap_off + i / 64 * 8);
                    if word & (1 << (i % 64)) == 0 {
                        zero(off + g.data_off + i * g.cell_size, g.cell_size);
                    }
                }
                let tail = g.data_off + g.cells * g.cell_size;
                zero(off + tail, g.block_size - tail);
            }
            _ => {}
        }
        Ok(())
    })
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
