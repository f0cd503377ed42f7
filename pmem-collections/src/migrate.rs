//! Automatic migration of maps and sets whose key or value type changed (ARCHITECTURE
//! §15.6): the pieces the hash tables and the B-trees share.
//!
//! An old map is read by the *stored* layout of its entries (the old key and value
//! sizes and alignments), each key and value is migrated into the new pool with
//! `Persistent::migrate_into_pool`, and the entry is inserted through the collection's
//! ordinary insert path, so the new collection is valid by construction: a hash table
//! hashes the *new* key's bytes (a widened key hashes differently), a B-tree orders by
//! the new key's `Ord`. A key is migrated into a scratch slot of the new pool first —
//! an insert must hash or compare it before it has a place — and its bytes then move
//! into the entry (a `PSafe` value holds pool offsets, never its own address, so a
//! bytewise move keeps it valid).

use std::marker::PhantomData;
use std::ptr;

use pmem_core::__private::auto::{within, OldType};
use pmem_core::{raw, Error, PInit, Persistent, Result};

use crate::hash_map::PKey;

/// Size and alignment of a stored element, checked to be usable as a layout.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OldElem {
    pub(crate) size: usize,
    pub(crate) align: usize,
}

impl OldElem {
    /// The stored layout of `ty`.
    ///
    /// # Errors
    /// [`Error::Corrupted`] for an alignment that is not a power of two (the schema
    /// record comes from file bytes).
    pub(crate) fn of(ty: OldType<'_>) -> Result<OldElem> {
        let (size, align) = (ty.size(), ty.align());
        if !align.is_power_of_two() || size % align != 0 || size > isize::MAX as usize {
            return Err(Error::Corrupted {
                what: format!(
                    "schema record: {} of {size} bytes aligned to {align}",
                    ty.name()
                ),
                offset: 0,
            });
        }
        Ok(OldElem { size, align })
    }

    /// The layout of a unit value (a set's values).
    pub(crate) const UNIT: OldElem = OldElem { size: 0, align: 1 };
}

/// The stored layout of a `repr(C)` pair `{ key, value }` (a hash map bucket): its
/// size, alignment and the value's offset.
pub(crate) fn pair_layout(k: OldElem, v: OldElem) -> (usize, usize, usize) {
    let align = k.align.max(v.align);
    let val_off = k.size.next_multiple_of(v.align);
    ((val_off + v.size).next_multiple_of(align), align, val_off)
}

/// The refusal of a second stored key equal to an earlier one once both are migrated
/// (possible only when a removed key field is dropped).
pub(crate) fn duplicate_key(part: &str) -> Error {
    within(
        Error::NotAutoMigratable {
            path: String::new(),
            change: "two stored keys are equal after the migration (a dropped key field told them apart)"
                .into(),
        },
        part,
    )
}

/// A value written into the destination by a closure (the migration of one old value).
pub(crate) struct InitWith<F>(pub(crate) F);

// SAFETY: the closures handed in call `migrate_into_pool` (or write a unit value), whose
// contract for `dst` is `init`'s, and initialise `*dst` fully on success.
unsafe impl<T: Persistent, F: FnOnce(*mut T) -> Result<()>> PInit<T> for InitWith<F> {
    unsafe fn init(self, dst: *mut T) -> Result<()> {
        (self.0)(dst)
    }
}

/// One key slot in the destination pool, allocated once per migrated collection: each
/// old key is migrated into it, looked up, then moved into its entry by [`Moved`].
pub(crate) struct Scratch<K> {
    p: *mut K,
    size: usize,
}

impl<K: Persistent> Scratch<K> {
    /// A fresh slot in the pool `anchor` lies in.
    ///
    /// # Safety
    /// - `anchor` lies in a pool whose transaction is open on this thread.
    pub(crate) unsafe fn new(anchor: *const u8) -> Result<Scratch<K>> {
        let size = size_of::<K>().max(1);
        // SAFETY: caller's contract; the fresh allocation is declared to the journal
        // (as one range, before anything is written to it), so every later write in
        // this transaction is covered.
        unsafe {
            let p = raw::alloc(anchor, size, align_of::<K>())?;
            raw::snapshot(p, size);
            Ok(Scratch { p: p.cast(), size })
        }
    }

    /// The slot, valid for writes of a `K`, aligned, in the destination pool.
    pub(crate) fn ptr(&self) -> *mut K {
        self.p
    }
}

impl<K> Drop for Scratch<K> {
    fn drop(&mut self) {
        // SAFETY: an allocation of `size` bytes made in this transaction that nothing
        // refers to (a key moved out of it is owned by its entry, and the slot's bytes
        // are never read as owning anything again).
        let _ = unsafe { raw::free(self.p.cast(), self.size) };
    }
}

/// The key in a [`Scratch`] slot, moved bytewise into the entry by `init` (the slot
/// owns nothing afterwards).
pub(crate) struct Moved<'a, K> {
    p: *mut K,
    _s: PhantomData<&'a Scratch<K>>,
}

impl<'a, K> Moved<'a, K> {
    /// The key the slot holds.
    ///
    /// # Safety
    /// - the slot holds a valid `K`, readable until the move.
    pub(crate) unsafe fn new(s: &'a Scratch<K>) -> Self {
        Moved {
            p: s.p,
            _s: PhantomData,
        }
    }
}

// SAFETY: moving the bytes of a valid `K` (a `PSafe` value: pool offsets, never its own
// address) to `dst` makes `*dst` that value; the slot's copy is not used as an owner
// again (see `Scratch`).
unsafe impl<K: Persistent> PInit<K> for Moved<'_, K> {
    unsafe fn init(self, dst: *mut K) -> Result<()> {
        // SAFETY: `dst` is writable (caller's contract); the slot holds a valid `K`
        // (`Moved::new`'s contract) and is a separate allocation.
        unsafe { ptr::copy_nonoverlapping(self.p, dst, 1) };
        Ok(())
    }
}

impl<K: Persistent> PKey<K> for Moved<'_, K> {
    type Key = K;
    fn key(&self) -> &K {
        // SAFETY: the slot holds a valid `K` until the move (`Moved::new`'s contract),
        // and the key is borrowed only for the lookup before it.
        unsafe { &*self.p }
    }
}
