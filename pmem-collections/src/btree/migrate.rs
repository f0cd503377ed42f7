//! Automatic migration of a B-tree whose key or value type changed (see
//! `crate::migrate`): the old tree's leaves are walked in key order by the stored
//! element layout, and every entry is inserted into a fresh tree, ordered by the new
//! key type's `Ord`.

use std::ptr;

use pmem_core::__private::auto::{within, OldType};
use pmem_core::{Persistent, Result};

use super::map::PBTreeMap;
use super::node::{self, corrupted, Elems, Geo};
use super::tree::Header;
use crate::migrate::{duplicate_key, InitWith, Moved, OldElem, Scratch};

/// Calls `f(key, value)` for every entry of the tree at `hdr` (of geometry `geo`), in
/// the leaf chain's order: the descent of `iter::end_leaf` and the link hop of
/// `iter::step`, but answering [`pmem_core::Error::Corrupted`] instead of panicking
/// (the old pool of a migration is read before anything is decided).
fn for_each_entry(
    hdr: &Header,
    geo: &Geo,
    mut f: impl FnMut(*mut u8, *mut u8) -> Result<()>,
) -> Result<()> {
    if hdr.root == 0 {
        return Ok(());
    }
    let anchor = ptr::from_ref(hdr).cast::<u8>();
    let mut off = hdr.root;
    for level in (1..=hdr.height as usize).rev() {
        let n = geo.node_at(anchor, off, level)?;
        // SAFETY: a checked inner node has at least one child.
        off = unsafe { Geo::child(n, 0) };
    }
    let mut leaf = geo.node_at(anchor, off, 0)?;
    let mut seen = 0u64;
    loop {
        // SAFETY: `node_at` checked the leaf: mapped, aligned, its length within its
        // capacity.
        let n = unsafe { node::len(leaf) };
        for i in 0..n {
            seen += 1;
            if seen > hdr.len {
                return Err(corrupted(
                    "PBTreeMap: more entries than its length",
                    node::off(leaf),
                ));
            }
            // SAFETY: `i < len <= leaf_cap`: inside the leaf's key and value arrays.
            f(unsafe { geo.key(leaf, i) }, unsafe { geo.val(leaf, i) })?;
        }
        // SAFETY: a checked leaf.
        let next = unsafe { node::next(leaf) };
        if next == 0 {
            break;
        }
        leaf = geo.node_at(leaf, next, 0)?;
    }
    if seen != hdr.len {
        return Err(corrupted(
            "PBTreeMap: entry count differs from the stored length",
            node::off(leaf),
        ));
    }
    Ok(())
}

/// Builds at `dst` the tree migrated from the old one at `old`, whose keys are of the
/// stored type `key` and whose values are laid out as `val`; `value(old_value, slot)`
/// migrates one value. `key_part` names the keys in error paths (`{key}` for a map,
/// `[]` for a set).
///
/// # Errors
/// A key's or value's refusal, with its path; a refusal of two old keys that became
/// equal; [`pmem_core::Error::Corrupted`] for an old tree that does not resolve. On an
/// error the caller rolls the transaction back.
///
/// # Safety
/// - `dst` as for `Persistent::migrate_into_pool`;
/// - `old` is an aligned, readable tree header of the old pool whose entries are valid
///   values of the stored key type `key` and of the stored value type `value` reads.
pub(crate) unsafe fn migrate_tree<K: Persistent + Ord, V: Persistent>(
    old: *const u8,
    key: OldType<'_>,
    key_part: &str,
    val: OldElem,
    dst: *mut PBTreeMap<K, V>,
    mut value: impl FnMut(*const u8, *mut V) -> Result<()>,
) -> Result<()> {
    let k = OldElem::of(key)?;
    if k.align > 64 || val.align > 64 {
        return Err(corrupted(
            "schema record: B-tree element aligned above 64",
            0,
        ));
    }
    let e = Elems {
        ks: k.size,
        ka: k.align,
        vs: val.size,
        va: val.align,
    };
    // SAFETY: (caller) `old` is an aligned, readable tree header — the same `Header`
    // for every key and value type.
    let hdr = unsafe { &*old.cast::<Header>() };
    let geo = hdr.geo(e)?;
    // SAFETY: `dst` is writable and logged (caller's contract); an empty map owns
    // nothing.
    unsafe { ptr::write(dst, PBTreeMap::new()) };
    if hdr.root == 0 {
        return Ok(());
    }
    // SAFETY: `dst` holds a valid empty map in the open transaction's pool, lent to
    // this view for the rest of the call.
    let view = unsafe { PBTreeMap::<K, V>::view_mut(dst) };
    // SAFETY: `dst` lies in the destination pool, whose transaction is open.
    let scratch = unsafe { Scratch::<K>::new(dst.cast_const().cast())? };
    for_each_entry(hdr, &geo, |kp, vp| {
        // SAFETY: an entry of the old tree: a valid stored key at `kp`, aligned (the key
        // array is aligned to the key and its slots are `ks` apart, a multiple of
        // the alignment); the scratch slot is a writable, logged `K` slot of the
        // destination that owns nothing.
        unsafe { K::migrate_into_pool(kp, key, scratch.ptr()) }.map_err(|e| within(e, key_part))?;
        // SAFETY: the slot now holds a valid `K`.
        if view.contains_key(unsafe { &*scratch.ptr() }) {
            // SAFETY: the slot's key is not moved anywhere; free what it owns.
            let _ = unsafe { K::free_owned(scratch.ptr()) };
            return Err(duplicate_key(key_part));
        }
        // SAFETY: the slot holds the valid key just migrated, read only until the
        // insert moves it into its leaf.
        let k = unsafe { Moved::new(&scratch) };
        view.set(k, InitWith(|p| value(vp.cast_const(), p)))
            .map(drop)
    })
}
