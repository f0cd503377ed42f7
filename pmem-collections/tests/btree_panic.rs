//! A panic in the middle of a multi-node B-tree change (after splits allocated and
//! linked new nodes, or after merges freed some) rolls the whole transaction back: the
//! pool is byte-for-byte as before, passes `check`, and reopens to the same contents.

mod btree_common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use btree_common::Boxed;
use pmem_collections::PBTreeMap;
use pmem_core::{Error, PInit, Pool, Result};

/// A value whose initialisation panics: the insert has already made room (split
/// nodes up to the root) when it runs.
struct Boom;

// SAFETY: never initialises anything; it panics before writing.
unsafe impl PInit<u64> for Boom {
    unsafe fn init(self, _dst: *mut u64) -> Result<()> {
        panic!("boom in the middle of an insert");
    }
}

type Root = Boxed<u64, u64>;

fn contents(p: &Pool<Root>) -> Vec<(u64, u64)> {
    p.read(|r| {
        r.as_deref()
            .unwrap()
            .iter()
            .map(|(k, v)| (*k, *v))
            .collect()
    })
    .unwrap()
}

fn height(p: &Pool<Root>) -> usize {
    p.read(|r| r.as_deref().unwrap().height()).unwrap()
}

#[test]
fn a_panic_after_splits_up_to_the_root_rolls_back_and_the_pool_reopens_intact() {
    let dir = std::env::temp_dir().join(format!("pmem-btree-panic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("split.pool");
    let _ = std::fs::remove_file(&path);
    let mut pool = Pool::<Root>::create(&path).unwrap();
    // Sequential appends leave every node on the right spine full: the next append
    // splits the last leaf, then each inner node above it, then grows a new root.
    pool.tx(|tx| {
        let m = tx.root_mut().insert(PBTreeMap::with_node_capacity(4, 4))?;
        for k in 0..400 {
            m.insert(k, k)?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    let before = contents(&pool);
    let (h, allocs) = (height(&pool), pool.stats().unwrap().allocations);
    let r = catch_unwind(AssertUnwindSafe(|| {
        pool.tx(|tx| {
            let m = tx.root_mut().as_mut().unwrap();
            for k in 400..420 {
                m.insert(k, k)?;
            }
            m.insert(1000, Boom)?;
            Ok::<_, Error>(())
        })
    }));
    assert!(r.is_err(), "the panic must propagate");
    pool.check().unwrap();
    assert_eq!(contents(&pool), before);
    assert_eq!(
        (height(&pool), pool.stats().unwrap().allocations),
        (h, allocs)
    );
    // Still usable, and the same after a reopen.
    pool.tx(|tx| tx.root_mut().as_mut().unwrap().insert(1000, 1).map(|_| ()))
        .unwrap();
    pool.close().unwrap();
    let pool = Pool::<Root>::open(&path).unwrap();
    pool.check().unwrap();
    let mut want = before;
    want.push((1000, 1));
    assert_eq!(contents(&pool), want);
    drop(pool);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_panic_in_retain_after_merges_rolls_back() {
    let mut pool = Pool::<Root>::volatile().unwrap();
    pool.tx(|tx| {
        tx.root_mut()
            .insert(PBTreeMap::with_node_capacity(4, 4))?
            .extend((0..300).map(|k| (k, k * 3)))
    })
    .unwrap();
    let before = contents(&pool);
    let allocs = pool.stats().unwrap().allocations;
    let r = catch_unwind(AssertUnwindSafe(|| {
        pool.tx(|tx| {
            let m = tx.root_mut().as_mut().unwrap();
            let mut seen = 0;
            m.retain(|_, _| {
                seen += 1;
                assert!(seen < 250, "boom in the middle of retain");
                seen % 5 == 0
            })
        })
    }));
    assert!(r.is_err());
    pool.check().unwrap();
    assert_eq!(contents(&pool), before);
    assert_eq!(pool.stats().unwrap().allocations, allocs);
}

#[test]
fn a_panic_inside_an_entry_insert_that_splits_rolls_back() {
    let mut pool = Pool::<Root>::volatile().unwrap();
    pool.tx(|tx| {
        tx.root_mut()
            .insert(PBTreeMap::with_node_capacity(4, 4))?
            .extend((0..64).map(|k| (k * 2, k)))
    })
    .unwrap();
    let before = contents(&pool);
    for k in [1u64, 33, 63, 127] {
        let r = catch_unwind(AssertUnwindSafe(|| {
            pool.tx(|tx| {
                tx.root_mut().as_mut().unwrap().entry(k).or_insert(Boom)?;
                Ok::<_, Error>(())
            })
        }));
        assert!(r.is_err());
        pool.check().unwrap();
        assert_eq!(contents(&pool), before);
    }
}
