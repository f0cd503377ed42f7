//! Damaged trees: `pool.check()` names each broken invariant (`Error::Corrupted`),
//! reads panic with the documented "pmem: corrupted pool" message instead of reading
//! outside a node, and writes answer the error. The damage is written through the raw
//! API inside a committed transaction, as a bad disk or a bug elsewhere would leave it.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pmem_collections::PBTreeMap;
use pmem_core::{raw, Error, Pool};

type Map = PBTreeMap<u64, u64>;

/// A pool holding a three-level tree of 0, 2, 4, ... with tiny nodes.
fn pool() -> Pool<Option<pmem_core::PBox<Map>>> {
    let mut p = Pool::<Option<pmem_core::PBox<Map>>>::volatile().unwrap();
    p.tx(|tx| {
        tx.root_mut()
            .insert(Map::with_node_capacity(4, 4))?
            .extend((0..60u64).map(|k| (k * 2, k)))
    })
    .unwrap();
    p.check().unwrap();
    p
}

/// Overwrites `bytes` at `at` bytes into the node `hops` links away from the first leaf
/// (`None`: into the map header), in a committed transaction.
fn damage(
    p: &mut Pool<Option<pmem_core::PBox<Map>>>,
    target: Option<usize>,
    at: usize,
    bytes: &[u8],
) {
    p.tx(|tx| {
        let m: &Map = tx.root().as_deref().unwrap();
        let hdr = std::ptr::from_ref(m).cast::<u8>().cast_mut();
        let base = hdr as usize - raw::offset_of(hdr).unwrap() as usize;
        // SAFETY: every address is inside the pool (header, or a node found from the
        // header's root and the leaves' links); each write is snapshotted first.
        unsafe {
            let dst = match target {
                None => hdr,
                Some(hops) => {
                    // Walk down the leftmost path: root, then child 0 at each level.
                    let height = m.height();
                    let mut off = hdr.cast::<u64>().read();
                    for _ in 0..height {
                        off = ((base + off as usize + 8) as *const u64).read();
                    }
                    for _ in 0..hops {
                        off = ((base + off as usize + 16) as *const u64).read();
                    }
                    std::ptr::with_exposed_provenance_mut::<u8>(base + off as usize)
                }
            };
            raw::snapshot(dst.add(at), bytes.len());
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst.add(at), bytes.len());
        }
        Ok::<_, Error>(())
    })
    .unwrap();
}

fn check_fails(p: &Pool<Option<pmem_core::PBox<Map>>>, what: &str) {
    match p.check() {
        Err(Error::Corrupted { what: w, .. }) => {
            assert!(w.contains(what), "check said {w:?}, expected {what:?}");
        }
        other => panic!("check answered {other:?}, expected a corruption naming {what:?}"),
    }
}

fn read_panics(p: &Pool<Option<pmem_core::PBox<Map>>>, f: impl Fn(&Map) + Copy) {
    let r = catch_unwind(AssertUnwindSafe(|| {
        p.read(|r| f(r.as_deref().unwrap())).unwrap();
    }));
    let msg = r.expect_err("the read must panic");
    let msg = msg.downcast_ref::<String>().map_or("", String::as_str);
    assert!(
        msg.starts_with("pmem: corrupted pool"),
        "panic message {msg:?}"
    );
}

#[test]
fn a_root_offset_outside_the_pool_is_reported_and_never_followed() {
    let mut p = pool();
    damage(&mut p, None, 0, &(1u64 << 40).to_le_bytes());
    check_fails(&p, "pointer outside the pool");
    read_panics(&p, |m| {
        m.get(&4);
    });
    read_panics(&p, |m| {
        m.iter().count();
    });
    let r = p.tx(|tx| tx.root_mut().as_mut().unwrap().insert(1, 1).map(|_| ()));
    assert!(matches!(r, Err(Error::Corrupted { .. })), "{r:?}");
}

#[test]
fn impossible_capacities_and_heights_are_reported() {
    let mut p = pool();
    damage(&mut p, None, 20, &60_000u16.to_le_bytes());
    check_fails(&p, "impossible capacities");
    read_panics(&p, |m| {
        m.get(&4);
    });
    let mut p = pool();
    damage(&mut p, None, 16, &40u32.to_le_bytes());
    check_fails(&p, "impossible capacities or height");
}

#[test]
fn a_leaf_length_above_its_capacity_is_reported_before_any_access() {
    let mut p = pool();
    damage(&mut p, Some(2), 0, &999u16.to_le_bytes());
    check_fails(&p, "wrong level or length");
    read_panics(&p, |m| {
        m.iter().count();
    });
}

#[test]
fn keys_out_of_order_a_stale_separator_and_a_broken_chain_are_reported() {
    // Swap the first key of the first leaf with a huge one.
    let mut p = pool();
    damage(&mut p, Some(0), 24, &u64::MAX.to_le_bytes());
    check_fails(&p, "out of order");
    // The second leaf's first key differs from the separator that copies it.
    let mut p = pool();
    damage(&mut p, Some(1), 24, &5u64.to_le_bytes());
    check_fails(&p, "separator is not the minimum");
    // A leaf whose `prev` link is wrong.
    let mut p = pool();
    damage(&mut p, Some(3), 8, &0u64.to_le_bytes());
    check_fails(&p, "leaf chain");
    // A stored length that disagrees with the entries.
    let mut p = pool();
    damage(&mut p, None, 8, &7u64.to_le_bytes());
    check_fails(&p, "entry count");
}

#[test]
fn a_node_owned_twice_is_reported() {
    // Point the second leaf's slot in the parent at the first leaf: owned twice.
    let mut p = pool();
    let first = p
        .read(|r| {
            let m = r.as_deref().unwrap();
            let hdr = std::ptr::from_ref(m).cast::<u8>();
            let base = hdr as usize - raw::offset_of(hdr).unwrap() as usize;
            // SAFETY: reading the tree's own nodes, found from its header.
            unsafe {
                let mut off = hdr.cast::<u64>().read();
                let mut parent = 0;
                for _ in 0..m.height() {
                    parent = off;
                    off = ((base + off as usize + 8) as *const u64).read();
                }
                (parent, off)
            }
        })
        .unwrap();
    p.tx(|tx| {
        let m: &Map = tx.root().as_deref().unwrap();
        let hdr = std::ptr::from_ref(m).cast::<u8>();
        let base = hdr as usize - raw::offset_of(hdr).unwrap() as usize;
        let slot = std::ptr::with_exposed_provenance_mut::<u8>(base + first.0 as usize + 16);
        // SAFETY: child slot 1 of the first leaf's parent; snapshotted before written.
        unsafe {
            raw::snapshot(slot, 8);
            slot.cast::<u64>().write(first.1);
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    check_fails(&p, "owned twice");
}
