//! The raw open-addressing table under [`PHashMap`](super::PHashMap), over pool offsets.
//!
//! # Layout
//!
//! A table is one pool allocation: `buckets` control bytes, padding to the bucket
//! alignment, then `buckets` buckets of one key-value pair each. `buckets` is a power of
//! two, at least [`GROUP`] (8). A control byte is [`EMPTY`] (`0xFF`), [`DELETED`] (`0x80`,
//! a tombstone) or, for a full bucket, `h2` — the top 7 bits of the key's hash.
//!
//! The control array is 1/17 of a `u64 → u64` table, so it stays in cache while the
//! buckets do not: a lookup of a present key costs about one cache miss (the bucket).
//! Interleaving each group's control word with its buckets (one place, one page per
//! insert) was measured too: lookups of a million `u64` keys went from 1.1–1.2× std's to
//! 1.35× while inserts did not get measurably faster, so the control array stays
//! separate (see DESIGN-NOTES-hash-vec.md §2).
//!
//! # Probing
//!
//! This is `SwissTable` (Abseil, hashbrown) with *aligned* groups: the control bytes are
//! read 8 at a time as one little-endian word (SWAR, no SIMD), and a probe visits whole
//! groups `g, g+1, g+3, g+6, ...` (triangular numbers modulo the group count, which
//! visits every group once). A lookup compares `h2` against all 8 bytes of a group at
//! once and stops at the first group holding an `EMPTY` byte. Aligned groups need no
//! mirrored control bytes at the end of the array, so setting a control byte logs one
//! byte, not two.
//!
//! # Deletion
//!
//! Removing from a group that still holds an `EMPTY` byte writes `EMPTY` (no probe
//! ever continued past this group, because it was never full); otherwise `DELETED`, so
//! probes keep walking. Invariant: a group holding an `EMPTY` byte has never been full
//! since the table was built, so no key lives beyond it on a probe path through it.
//!
//! # Growth and logging
//!
//! `growth_left` counts the `EMPTY` bytes that may still be filled while keeping the
//! load at most 7/8; tombstones use it up too. An insert that would take an `EMPTY`
//! byte with `growth_left == 0` first rebuilds the table into a *fresh* allocation (big
//! enough for the items, at least double when the table is mostly live), hashing every
//! key again. In a pool this beats an in-place rehash: fresh memory needs no undo bytes
//! (the fresh allocation is declared to the journal as one range), and the old table is
//! freed at commit. Ordinary inserts and removals log only their control byte, their
//! bucket and the header's counters — never the table.
//!
//! Everything here is non-generic: buckets are `size` bytes at `align`, and the generic
//! layer (`map.rs`, `view.rs`) supplies key comparison and hashing as closures.

use std::ptr;

use pmem_core::{raw, Result};

use crate::corrupted::{corrupted, panic_corrupted};

use super::hasher::canary;

/// Control bytes per group (one `u64`).
pub(crate) const GROUP: usize = 8;
/// Control byte of a never-used bucket.
pub(crate) const EMPTY: u8 = 0xFF;
/// Control byte of a removed bucket (tombstone).
pub(crate) const DELETED: u8 = 0x80;
const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// The control byte of a full bucket for `hash`: its top 7 bits.
#[inline]
pub(crate) fn h2(hash: u64) -> u8 {
    (hash >> 57) as u8
}

/// Eight control bytes, read as one little-endian word (byte `i` is bits `8i..8i+8`).
#[derive(Clone, Copy)]
struct Group(u64);

impl Group {
    /// # Safety
    /// - `p` is 8-byte aligned and readable for 8 bytes.
    #[inline]
    unsafe fn load(p: *const u8) -> Group {
        // SAFETY: caller's contract.
        Group(u64::from_le(unsafe { p.cast::<u64>().read() }))
    }

    /// Bytes equal to `b` (a full byte, below 0x80). May also report a full byte equal
    /// to `b ^ 1` just above a true match (the SWAR borrow); callers compare keys anyway.
    #[inline]
    fn match_byte(self, b: u8) -> BitMask {
        let x = self.0 ^ (LO * u64::from(b));
        BitMask(x.wrapping_sub(LO) & !x & HI)
    }

    /// `EMPTY` bytes (both top bits set).
    #[inline]
    fn match_empty(self) -> BitMask {
        BitMask(self.0 & (self.0 << 1) & HI)
    }

    /// `EMPTY` or `DELETED` bytes (top bit set).
    #[inline]
    fn match_empty_or_deleted(self) -> BitMask {
        BitMask(self.0 & HI)
    }

    /// Full bytes (top bit clear).
    #[inline]
    fn match_full(self) -> BitMask {
        BitMask(!self.0 & HI)
    }
}

/// The top bit of each selected byte of a group.
#[derive(Clone)]
pub(crate) struct BitMask(u64);

impl BitMask {
    #[inline]
    fn any(&self) -> bool {
        self.0 != 0
    }
    #[inline]
    fn lowest(&self) -> Option<usize> {
        (self.0 != 0).then(|| self.0.trailing_zeros() as usize / 8)
    }
}

impl Iterator for BitMask {
    type Item = usize;
    #[inline]
    fn next(&mut self) -> Option<usize> {
        let i = self.lowest()?;
        self.0 &= self.0 - 1;
        Some(i)
    }
}

/// The in-pool header of a [`PHashMap`](super::PHashMap) (48 bytes).
///
/// Invariants (checked by [`Table::resolve`] and by `visit_owned`):
/// - `table == 0` exactly when there is no table; then `bucket_mask`, `items` and
///   `growth_left` are 0;
/// - otherwise `bucket_mask + 1` is a power of two `>= GROUP`, and `table` is the pool
///   offset of one live allocation of [`Layout::alloc_size`] bytes;
/// - `items` counts full control bytes, and `growth_left + items + tombstones ==
///   bucket_capacity(bucket_mask)`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Header {
    /// Pool offset of the table allocation, 0 when none.
    pub(crate) table: u64,
    /// Buckets minus one.
    pub(crate) bucket_mask: u64,
    /// Full buckets.
    pub(crate) items: u64,
    /// `EMPTY` buckets that may still be filled before the table must be rebuilt.
    pub(crate) growth_left: u64,
    /// The hash seed, drawn when the first table is allocated.
    pub(crate) seed: u64,
    /// The hash canary of the build that last (re)built the table (see `hasher`).
    pub(crate) hash_check: u64,
}

const _: () = assert!(size_of::<Header>() == 48);

/// Buckets usable at the maximum load of 7/8.
pub(crate) fn bucket_capacity(bucket_mask: usize) -> usize {
    (bucket_mask + 1) / 8 * 7
}

/// The bucket count for `cap` items, or `None` on overflow.
pub(crate) fn capacity_to_buckets(cap: usize) -> Option<usize> {
    if cap < GROUP {
        return Some(GROUP);
    }
    let adjusted = cap.checked_mul(8)? / 7;
    adjusted.checked_next_power_of_two()
}

/// Size and alignment of one bucket.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    pub(crate) size: usize,
    pub(crate) align: usize,
}

impl Layout {
    /// Offset of bucket 0: the control bytes, padded to the bucket alignment.
    ///
    /// Every lookup computes it, so a power-of-two alignment (every Rust type's; only
    /// a layout read from a damaged schema can be otherwise) rounds with a mask: a
    /// division here sat on the path to the bucket's address.
    #[inline]
    pub(crate) const fn slots_offset(self, buckets: usize) -> usize {
        if self.align.is_power_of_two() {
            (buckets + (self.align - 1)) & !(self.align - 1)
        } else {
            buckets.next_multiple_of(self.align)
        }
    }

    /// Bytes of a table of `buckets` buckets, or `None` on overflow.
    #[inline]
    pub(crate) fn alloc_size(self, buckets: usize) -> Option<usize> {
        self.slots_offset(buckets)
            .checked_add(buckets.checked_mul(self.size)?)
            .filter(|&n| isize::try_from(n).is_ok())
    }

    pub(crate) const fn alloc_align(self) -> usize {
        if self.align > GROUP {
            self.align
        } else {
            GROUP
        }
    }
}

/// A resolved table: where its control bytes and buckets are.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Table {
    /// Start of the allocation: the control bytes.
    ctrl: *mut u8,
    /// Bucket 0.
    slots: *mut u8,
    /// Buckets minus one.
    mask: usize,
    /// Bytes per bucket.
    size: usize,
}

impl Table {
    /// The table of the header at `hdr` (`None` when it has none), checked: bucket
    /// count, bounds and alignment inside `hdr`'s pool.
    #[inline]
    pub(crate) fn resolve(hdr: *const Header, lay: Layout) -> Result<Option<Table>> {
        // SAFETY: callers pass a header they can read.
        let h = unsafe { &*hdr };
        if h.table == 0 {
            if h.bucket_mask != 0 || h.items != 0 || h.growth_left != 0 {
                return Err(corrupted("hash map without a table has entries", 0));
            }
            return Ok(None);
        }
        let buckets = (h.bucket_mask as usize).wrapping_add(1);
        if !buckets.is_power_of_two() || buckets < GROUP {
            return Err(corrupted(
                "hash map bucket count is not a power of two",
                h.table,
            ));
        }
        let size = lay
            .alloc_size(buckets)
            .ok_or_else(|| corrupted("hash map table size overflows", h.table))?;
        let p = raw::resolve(hdr.cast(), h.table, size, lay.alloc_align())?;
        Ok(Some(Table::at(p, buckets, lay)))
    }

    /// [`Table::resolve`], panicking with the documented message on corruption.
    #[inline]
    #[track_caller]
    pub(crate) fn resolve_or_panic(hdr: *const Header, lay: Layout) -> Option<Table> {
        match Table::resolve(hdr, lay) {
            Ok(t) => t,
            Err(e) => panic_corrupted(&e),
        }
    }

    /// The table of `buckets` buckets at `p` (an allocation of `lay.alloc_size(buckets)`
    /// bytes).
    fn at(p: *mut u8, buckets: usize, lay: Layout) -> Table {
        // SAFETY: `slots_offset(buckets) < alloc_size(buckets)`, inside the allocation.
        let slots = unsafe { p.add(lay.slots_offset(buckets)) };
        Table {
            ctrl: p,
            slots,
            mask: buckets - 1,
            size: lay.size,
        }
    }

    pub(crate) fn buckets(self) -> usize {
        self.mask + 1
    }

    /// The address of the table allocation.
    pub(crate) fn start(self) -> *mut u8 {
        self.ctrl
    }

    /// Bucket `i`'s address.
    #[inline]
    pub(crate) fn bucket(self, i: usize) -> *mut u8 {
        debug_assert!(i <= self.mask);
        // SAFETY: `i < buckets`, inside the allocation.
        unsafe { self.slots.add(i * self.size) }
    }

    /// Control byte `i`'s address.
    #[inline]
    pub(crate) fn ctrl_ptr(self, i: usize) -> *mut u8 {
        debug_assert!(i <= self.mask);
        // SAFETY: `i < buckets`, inside the allocation.
        unsafe { self.ctrl.add(i) }
    }

    /// Control byte `i`.
    #[inline]
    pub(crate) fn ctrl(self, i: usize) -> u8 {
        // SAFETY: inside the allocation (see `ctrl_ptr`).
        unsafe { *self.ctrl_ptr(i) }
    }

    #[inline]
    fn group(self, g: usize) -> Group {
        debug_assert!(g <= self.mask / GROUP);
        // SAFETY: `g < buckets / GROUP`; the allocation is at least 8-aligned.
        unsafe { Group::load(self.ctrl.add(g * GROUP)) }
    }

    /// Finds the full bucket for which `eq` holds, probing from `hash`.
    #[inline]
    pub(crate) fn find(self, hash: u64, mut eq: impl FnMut(*mut u8) -> bool) -> Option<usize> {
        let gmask = self.mask / GROUP;
        let mut g = hash as usize & gmask;
        let tag = h2(hash);
        let mut stride = 0;
        loop {
            let grp = self.group(g);
            for bit in grp.match_byte(tag) {
                let i = g * GROUP + bit;
                if eq(self.bucket(i)) {
                    return Some(i);
                }
            }
            if grp.match_empty().any() || stride == gmask {
                return None;
            }
            stride += 1;
            g = (g + stride) & gmask;
        }
    }

    /// Finds the full bucket for which `eq` holds by visiting every bucket (used when
    /// the table was hashed by a build whose hashes differ, see `hasher`).
    pub(crate) fn find_linear(self, mut eq: impl FnMut(*mut u8) -> bool) -> Option<usize> {
        self.full_buckets().find(|&i| eq(self.bucket(i)))
    }

    /// The first `EMPTY` or `DELETED` bucket on `hash`'s probe path.
    ///
    /// # Errors
    /// [`Error::Corrupted`](pmem_core::Error::Corrupted) when there is none (the header promised room).
    pub(crate) fn find_insert_slot(self, hash: u64) -> Result<usize> {
        let gmask = self.mask / GROUP;
        let mut g = hash as usize & gmask;
        for stride in 1..=gmask + 1 {
            if let Some(bit) = self.group(g).match_empty_or_deleted().lowest() {
                return Ok(g * GROUP + bit);
            }
            g = (g + stride) & gmask;
        }
        Err(corrupted("hash map table has no free bucket", 0))
    }

    /// Indices of the full buckets, in bucket order.
    pub(crate) fn full_buckets(self) -> FullBuckets {
        FullBuckets {
            table: self,
            group: 0,
            bits: BitMask(0),
        }
    }

    /// Writes control byte `i`, logging it first.
    ///
    /// # Safety
    /// - the table lies in a pool whose transaction is open on this thread.
    unsafe fn set_ctrl(self, i: usize, v: u8) {
        // SAFETY: caller's contract; `i < buckets`.
        unsafe {
            let p = self.ctrl_ptr(i);
            raw::snapshot(p, 1);
            p.write(v);
        }
    }

    /// Is there an `EMPTY` byte in bucket `i`'s group?
    fn group_has_empty(self, i: usize) -> bool {
        self.group(i / GROUP).match_empty().any()
    }

    /// Counts full and deleted control bytes.
    pub(crate) fn census(self) -> (usize, usize) {
        let (mut full, mut deleted) = (0, 0);
        for g in 0..self.buckets() / GROUP {
            let grp = self.group(g);
            full += grp.match_full().count();
            deleted += grp.match_empty_or_deleted().count() - grp.match_empty().count();
        }
        (full, deleted)
    }

    /// Is bucket `i` reachable by a lookup for `hash`: is its control byte `h2(hash)`
    /// and does no group before it on the probe path hold an `EMPTY` byte?
    pub(crate) fn reachable(self, i: usize, hash: u64) -> bool {
        if self.ctrl(i) != h2(hash) {
            return false;
        }
        let gmask = self.mask / GROUP;
        let mut g = hash as usize & gmask;
        for stride in 1..=gmask + 1 {
            if g == i / GROUP {
                return true;
            }
            if self.group(g).match_empty().any() {
                return false;
            }
            g = (g + stride) & gmask;
        }
        false
    }
}

/// Iterator over full bucket indices.
#[derive(Clone)]
pub(crate) struct FullBuckets {
    table: Table,
    group: usize,
    bits: BitMask,
}

impl Iterator for FullBuckets {
    type Item = usize;
    #[inline]
    fn next(&mut self) -> Option<usize> {
        loop {
            if let Some(b) = self.bits.next() {
                return Some((self.group - 1) * GROUP + b);
            }
            if self.group * GROUP > self.table.mask {
                return None;
            }
            self.bits = self.table.group(self.group).match_full();
            self.group += 1;
        }
    }
}

/// Logs the header and applies `f` to it.
///
/// # Safety
/// - `hdr` is a valid header in a pool whose transaction is open on this thread.
unsafe fn update(hdr: *mut Header, f: impl FnOnce(&mut Header)) {
    // SAFETY: caller's contract; the header is logged before it changes.
    unsafe {
        raw::snapshot_value(hdr);
        f(&mut *hdr);
    }
}

/// Sets the two counters, logging just those 16 bytes of the header.
///
/// # Safety
/// - `hdr` is a valid header in a pool whose transaction is open on this thread.
unsafe fn set_counts(hdr: *mut Header, items: u64, growth_left: u64) {
    // SAFETY: caller's contract; `items` and `growth_left` are adjacent `u64`s
    // (`repr(C)`), logged before they change.
    unsafe {
        let p = ptr::addr_of_mut!((*hdr).items);
        raw::snapshot(p.cast::<u8>(), 16);
        p.write(items);
        ptr::addr_of_mut!((*hdr).growth_left).write(growth_left);
    }
}

/// Marks bucket `i` full with `tag`, counting it: logs the control byte (unless the
/// caller already logged it, `ctrl_logged`) and the header's counters.
///
/// # Safety
/// - `t` is `hdr`'s table in an open transaction's pool; bucket `i` is `EMPTY` or
///   `DELETED` and now holds an initialised entry; if it is `EMPTY`, `growth_left > 0`;
/// - if `ctrl_logged`, control byte `i` was snapshotted in this transaction.
pub(crate) unsafe fn record_insert(
    hdr: *mut Header,
    t: Table,
    i: usize,
    tag: u8,
    ctrl_logged: bool,
) {
    let was_empty = t.ctrl(i) == EMPTY;
    // SAFETY: caller's contract.
    unsafe {
        if ctrl_logged {
            t.ctrl_ptr(i).write(tag);
        } else {
            t.set_ctrl(i, tag);
        }
        let h = *hdr;
        set_counts(hdr, h.items + 1, h.growth_left - u64::from(was_empty));
    }
}

/// Marks full bucket `i` removed (its entry already dropped): logs the control byte and
/// the header's counters.
///
/// # Safety
/// - `t` is `hdr`'s table in an open transaction's pool; bucket `i` is full.
pub(crate) unsafe fn erase(hdr: *mut Header, t: Table, i: usize) {
    let empty = t.group_has_empty(i);
    // SAFETY: caller's contract.
    unsafe {
        t.set_ctrl(i, if empty { EMPTY } else { DELETED });
        let h = *hdr;
        set_counts(hdr, h.items - 1, h.growth_left + u64::from(empty));
    }
}

/// Marks every bucket `EMPTY` (entries already dropped): logs the control bytes (one
/// range) and the header's counters.
///
/// # Safety
/// - `t` is `hdr`'s table in an open transaction's pool.
pub(crate) unsafe fn clear_no_drop(hdr: *mut Header, t: Table) {
    // SAFETY: caller's contract; the control bytes are logged before being written.
    unsafe {
        raw::snapshot(t.ctrl, t.buckets());
        ptr::write_bytes(t.ctrl, EMPTY, t.buckets());
        set_counts(hdr, 0, bucket_capacity(t.mask) as u64);
    }
}

/// Frees the table at commit and leaves the header without one (entries already
/// dropped). Keeps the seed.
///
/// # Safety
/// - `hdr` is a valid header in an open transaction's pool.
pub(crate) unsafe fn free_table(hdr: *mut Header, lay: Layout) -> Result<()> {
    if let Some(t) = Table::resolve(hdr, lay)? {
        let size = lay.alloc_size(t.buckets()).unwrap_or(0);
        // SAFETY: caller's contract; the allocation is the header's own table.
        unsafe {
            raw::free(t.start(), size)?;
            update(hdr, |h| {
                h.table = 0;
                h.bucket_mask = 0;
                h.items = 0;
                h.growth_left = 0;
            });
        }
    }
    Ok(())
}

/// Frees a table allocation if dropped before `disarm`.
struct FreeOnDrop {
    p: *mut u8,
    size: usize,
}

impl Drop for FreeOnDrop {
    fn drop(&mut self) {
        // SAFETY: an allocation made in this transaction, referenced by nothing.
        let _ = unsafe { raw::free(self.p, self.size) };
    }
}

/// Rebuilds the table into a fresh allocation with room for `capacity` items (at least
/// the current ones), hashing each key with `hasher(bucket)`. Draws a seed first when
/// the map has no table yet. On an error or a panic in `hasher` the map is unchanged.
///
/// # Safety
/// - `hdr` is a valid header in a pool whose transaction is open on this thread, whose
///   buckets are `lay`; `hasher` reads only the bucket it is given.
pub(crate) unsafe fn resize(
    hdr: *mut Header,
    lay: Layout,
    capacity: usize,
    hasher: &mut dyn FnMut(*mut u8, u64) -> u64,
) -> Result<()> {
    let old = Table::resolve(hdr, lay)?;
    // SAFETY: caller's contract.
    let h = unsafe { *hdr };
    let items = h.items as usize;
    let buckets =
        capacity_to_buckets(capacity.max(items)).unwrap_or_else(|| crate::vec::capacity_overflow());
    let size = lay
        .alloc_size(buckets)
        .unwrap_or_else(|| crate::vec::capacity_overflow());
    let seed = if old.is_none() {
        raw::random_seed()
    } else {
        h.seed
    };
    // SAFETY: `hdr` lies in the open transaction's pool.
    let p = unsafe { raw::alloc(hdr.cast_const().cast(), size, lay.alloc_align())? };
    let guard = FreeOnDrop { p, size };
    let new = Table::at(p, buckets, lay);
    // SAFETY: fresh memory, declared (as one range: no old bytes are saved for it, and
    // one interval is cheaper to log than one per moved bucket) before it is written.
    unsafe {
        raw::snapshot(p, size);
        ptr::write_bytes(p, EMPTY, buckets);
    }
    if let Some(old) = old {
        // SAFETY: the old table's buckets, whose value views have ended (the map is
        // borrowed mutably): padding assigned through them is zeroed before it moves.
        unsafe {
            raw::settle_padding(
                old.start().cast_const(),
                lay.alloc_size(old.buckets()).unwrap_or(0),
            );
        }
        for i in old.full_buckets() {
            let src = old.bucket(i);
            let hash = hasher(src, seed);
            let j = new.find_insert_slot(hash)?;
            let dst = new.bucket(j);
            // SAFETY: `dst` is a fresh bucket and `new.ctrl_ptr(j)` its control byte,
            // both declared above; `src` is a full old bucket. Moving the bytes of a PSafe
            // entry keeps it valid (offsets, never self-addresses).
            unsafe {
                ptr::copy_nonoverlapping(src, dst, lay.size);
                *new.ctrl_ptr(j) = h2(hash);
            }
        }
        let old_size = lay.alloc_size(old.buckets()).unwrap_or(0);
        // SAFETY: the old table, replaced below; nothing refers to it after commit.
        // (Not `free_fresh`: a value view handed out earlier in the transaction has its
        // padding zeroer remembered at its old address until the commit.)
        unsafe { raw::free(old.start(), old_size)? };
    }
    std::mem::forget(guard);
    let off = raw::offset_of(p).expect("allocated in this pool");
    // SAFETY: caller's contract.
    unsafe {
        update(hdr, |h| {
            h.table = off;
            h.bucket_mask = (buckets - 1) as u64;
            h.growth_left = (bucket_capacity(buckets - 1) - items) as u64;
            h.seed = seed;
            h.hash_check = canary();
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Layout;

    /// The mask in `slots_offset` is a stored-format decision: it must place bucket 0
    /// exactly where the rounding it replaced did, for every alignment a table can have.
    #[test]
    fn slots_offset_by_mask_equals_rounding_up_by_division() {
        for align in [1, 2, 4, 8, 16, 32, 64, 4096, 3, 24] {
            for buckets in (3..40).map(|s| 1usize << (s % 20)).chain([8, 9, 100, 4095]) {
                let lay = Layout { size: align, align };
                assert_eq!(
                    lay.slots_offset(buckets),
                    buckets.next_multiple_of(align),
                    "align {align}, buckets {buckets}"
                );
            }
        }
    }
}
