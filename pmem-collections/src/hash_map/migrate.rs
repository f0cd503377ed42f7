//! Automatic migration of a hash table whose key or value type changed (see
//! `crate::migrate`): the old table is walked by its stored bucket layout and every
//! entry is inserted — rehashed with the new key's bytes — into a fresh table.

use std::hash::Hash;
use std::ptr;

use pmem_core::__private::auto::{within, OldType};
use pmem_core::{Persistent, Result};

use super::map::PHashMap;
use super::raw::{Header, Layout, Table};
use crate::migrate::{duplicate_key, pair_layout, InitWith, Moved, OldElem, Scratch};

/// Builds at `dst` the map migrated from the old one at `old`, whose keys are of the
/// stored type `key` and whose values are laid out as `val`; `value(old_value, slot)`
/// migrates one value. `key_part` names the keys in error paths (`{key}` for a map,
/// `[]` for a set).
///
/// # Errors
/// A key's or value's refusal, with its path; a refusal of two old keys that became
/// equal; [`pmem_core::Error::Corrupted`] for an old table that does not resolve. On an
/// error the caller rolls the transaction back.
///
/// # Safety
/// - `dst` as for `Persistent::migrate_into_pool`;
/// - `old` is an aligned, readable map header of the old pool whose buckets hold valid
///   values of the stored key type `key` and of the stored value type `value` reads.
pub(crate) unsafe fn migrate_table<K: Persistent + Hash + Eq, V: Persistent>(
    old: *const u8,
    key: OldType<'_>,
    key_part: &str,
    val: OldElem,
    dst: *mut PHashMap<K, V>,
    mut value: impl FnMut(*const u8, *mut V) -> Result<()>,
) -> Result<()> {
    let (size, align, val_off) = pair_layout(OldElem::of(key)?, val);
    // SAFETY: `dst` is writable and logged (caller's contract); an empty map owns nothing.
    unsafe { ptr::write(dst, PHashMap::new()) };
    if size == 0 {
        // No stored map of zero-sized entries exists (`PHashMapMut` refuses them).
        return Ok(());
    }
    // The old header is the same `Header` for every key and value type; `resolve`
    // checks the table's bounds and alignment in the old pool.
    let Some(t) = Table::resolve(old.cast::<Header>(), Layout { size, align })? else {
        return Ok(());
    };
    // SAFETY: `dst` now holds a valid empty map in the open transaction's pool, lent
    // to this view for the rest of the call.
    let view = unsafe { PHashMap::<K, V>::view_mut(dst) };
    view.reserve(t.full_buckets().count())?;
    // SAFETY: `dst` lies in the destination pool, whose transaction is open.
    let scratch = unsafe { Scratch::<K>::new(dst.cast_const().cast())? };
    for i in t.full_buckets() {
        let b = t.bucket(i).cast_const();
        // SAFETY: a full old bucket holds a valid key of the stored type at its start
        // (the bucket is `repr(C)`, key first), aligned (buckets are `size` apart from an
        // `align`-aligned start, and `size` is a multiple of `align`); the scratch slot
        // is a writable, logged `K` slot of the destination that owns nothing.
        unsafe { K::migrate_into_pool(b, key, scratch.ptr()) }.map_err(|e| within(e, key_part))?;
        // SAFETY: the slot now holds a valid `K`.
        if view.contains_key(unsafe { &*scratch.ptr() }) {
            // SAFETY: the slot's key is not moved anywhere; free what it owns.
            let _ = unsafe { K::free_owned(scratch.ptr()) };
            return Err(duplicate_key(key_part));
        }
        // SAFETY: the old value lies `val_off` into the bucket (the `repr(C)` pair's
        // layout), inside it, aligned for the stored value type.
        let v = unsafe { b.add(val_off) };
        // SAFETY: the slot holds the valid key just migrated, read only until the
        // insert moves it into its bucket.
        let k = unsafe { Moved::new(&scratch) };
        view.insert_new(k, InitWith(|p| value(v, p)))?;
    }
    Ok(())
}
