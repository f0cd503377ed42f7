//! Regression (issue 11, item 5): an allocation that failed half-way through a
//! `PBTreeMap` insert left the tree changed. On an empty map, `put` (now `set`) and
//! `entry(k).or_insert(v)` allocated the root leaf and wrote it into the header, then
//! failed to allocate the value: the header kept an empty root leaf, which
//! `Pool::check` reports as corrupt ("leaf below its minimum occupancy") once the
//! caller handled the error and committed. The same held for a full leaf: room was made
//! (a split, a spread) before the value was built, and a failure there left a leaf one
//! entry short; and a node allocation failing in the middle of a split cascade left a
//! leaf linked into the chain but not into its parent.
//!
//! An allocation error must leave the map unchanged, as every other collection does, so
//! that a caller may handle it and still commit. These tests make allocations fail with
//! a pool of a small maximum size and check the map and `Pool::check` after each commit.

mod model_common;

use std::collections::BTreeMap;

use model_common::Rng;
use pmem_collections::{btree_map::Entry, PBTreeMap, PString, PVec};
use pmem_core::{Error, Pool, PoolOptions};

type Maps = PVec<PBTreeMap<u64, PString>>;

const MAX: u64 = 256 << 10;

fn small_pool() -> Pool<Maps> {
    let mut pool = PoolOptions::new()
        .initial_size(32 << 10)
        .max_size(MAX)
        .volatile::<Maps>()
        .unwrap();
    // Map 0 is the one under test, map 1 fills the pool; both with tiny nodes, so
    // that a few keys make a deep tree.
    pool.tx(|tx| {
        tx.root_mut().push(PBTreeMap::with_node_capacity(4, 4))?;
        tx.root_mut().push(PBTreeMap::with_node_capacity(4, 4))
    })
    .unwrap();
    pool
}

fn contents(pool: &Pool<Maps>) -> BTreeMap<u64, String> {
    pool.read(|v| v[0].iter().map(|(k, s)| (*k, s.to_string())).collect())
        .unwrap()
}

/// Runs `f` on map 0 and commits whatever it answers; answers `f`'s result.
fn attempt<R>(
    pool: &mut Pool<Maps>,
    f: impl FnOnce(&mut pmem_collections::PBTreeMapMut<u64, PString>) -> Result<R, Error>,
) -> Result<R, Error> {
    pool.tx(|tx| Ok::<_, Error>(f(tx.root_mut().get_mut(0).unwrap())))
        .unwrap()
}

/// A value too large for the pool (but not larger than its maximum size, which would be
/// refused before any allocation as `UnsupportedLayout`).
fn huge() -> String {
    "x".repeat(MAX as usize - (4 << 10))
}

#[test]
fn a_failed_value_allocation_on_an_empty_map_leaves_it_empty_and_healthy() {
    let mut pool = small_pool();
    let before = pool.check().unwrap().allocations;
    let r = attempt(&mut pool, |m| m.set(1, huge().as_str()));
    assert!(matches!(r, Err(Error::OutOfSpace { .. })), "{r:?}");
    let r = attempt(&mut pool, |m| {
        m.entry(1).or_insert(huge().as_str()).map(drop)
    });
    assert!(matches!(r, Err(Error::OutOfSpace { .. })), "{r:?}");
    let r = attempt(&mut pool, |m| match m.entry(2) {
        Entry::Vacant(v) => v.insert(huge().as_str()).map(drop),
        Entry::Occupied(_) => unreachable!(),
    });
    assert!(matches!(r, Err(Error::OutOfSpace { .. })), "{r:?}");
    let report = pool.check().unwrap();
    assert_eq!(
        report.allocations, before,
        "the failed inserts left allocations"
    );
    assert!(contents(&pool).is_empty());
    assert_eq!(pool.read(|v| v[0].height()).unwrap(), 0);
    // Still usable.
    attempt(&mut pool, |m| m.set(1, "one")).unwrap();
    assert_eq!(contents(&pool), BTreeMap::from([(1, "one".into())]));
    pool.check().unwrap();
}

#[test]
fn a_failed_value_allocation_into_full_and_spare_leaves_changes_nothing() {
    let mut pool = small_pool();
    let mut rng = Rng(0xfa11_0001);
    let mut keys: Vec<u64> = (0..200).collect();
    for i in (1..keys.len()).rev() {
        keys.swap(i, rng.below(i + 1));
    }
    // Each key: an insert that fails (into whatever leaf the key falls in: with a spare
    // slot, or full, which must be split, shared or spread), then one that succeeds.
    let mut full_leaf_failures = 0;
    for k in keys {
        let want = contents(&pool);
        let before = pool.check().unwrap().allocations;
        let r = attempt(&mut pool, |m| m.set(k, huge().as_str()));
        assert!(matches!(r, Err(Error::OutOfSpace { .. })), "key {k}: {r:?}");
        let r = attempt(&mut pool, |m| {
            m.entry(k).or_insert(huge().as_str()).map(drop)
        });
        assert!(matches!(r, Err(Error::OutOfSpace { .. })), "key {k}: {r:?}");
        assert_eq!(contents(&pool), want, "key {k}");
        let report = pool
            .check()
            .unwrap_or_else(|e| panic!("key {k}: check: {e}"));
        assert_eq!(
            report.allocations, before,
            "key {k}: allocations left behind"
        );
        // Whether that leaf was full shows in the insert that succeeds: it adds a node
        // besides the value's string.
        attempt(&mut pool, |m| m.set(k, k.to_string().as_str())).unwrap();
        if pool.check().unwrap().allocations > before + 1 {
            full_leaf_failures += 1;
        }
    }
    assert!(pool.read(|v| v[0].height()).unwrap() >= 3);
    assert!(
        full_leaf_failures >= 10,
        "only {full_leaf_failures} failures into full leaves"
    );
}

#[test]
fn inserts_into_a_full_pool_fail_cleanly_wherever_the_allocation_fails() {
    let mut pool = small_pool();
    let mut rng = Rng(0x5eed_0011);
    let mut model = BTreeMap::new();
    let (mut failures, mut successes) = (0, 0);
    let mut filler = 0u64;
    for round in 0..4 {
        // Fill the pool through map 1, with entries of shrinking size, until nothing
        // fits.
        for len in [512, 64, 8, 0] {
            loop {
                let r = pool.tx(|tx| {
                    tx.root_mut()
                        .get_mut(1)
                        .unwrap()
                        .set(filler, "f".repeat(len).as_str())
                });
                match r {
                    Ok(_) => filler += 1,
                    Err(Error::OutOfSpace { .. }) => break,
                    Err(e) => panic!("{e}"),
                }
            }
        }
        // Insert into map 0 until many attempts failed, freeing a little filler now and
        // then so that allocations fail at different points of an insert.
        for i in 0..150 {
            let k = rng.below(2_000) as u64;
            let most = if rng.below(4) == 0 { 200 } else { 12 };
            let v = "v".repeat(rng.below(most));
            let use_set = rng.below(2) == 0;
            let r = attempt(&mut pool, |m| {
                if use_set {
                    m.set(k, v.as_str()).map(drop)
                } else {
                    m.entry(k).or_insert(v.as_str()).map(drop)
                }
            });
            match r {
                Ok(()) => {
                    successes += 1;
                    model.entry(k).or_insert(v.clone());
                    // `set` overwrites, `or_insert` keeps: read the truth back.
                    let now = pool.read(|m| m[0][&k].to_string()).unwrap();
                    model.insert(k, now);
                }
                Err(Error::OutOfSpace { .. }) => failures += 1,
                Err(e) => panic!("round {round}, attempt {i}: {e}"),
            }
            if i % 25 == 24 {
                pool.tx(|tx| {
                    let f = tx.root_mut().get_mut(1).unwrap();
                    for _ in 0..8 {
                        f.pop_first_with(|_, _| ())?;
                    }
                    Ok::<_, Error>(())
                })
                .unwrap();
            }
            assert_eq!(contents(&pool), model, "round {round}, attempt {i}");
            pool.check()
                .unwrap_or_else(|e| panic!("round {round}, attempt {i}: check: {e}"));
        }
    }
    println!("{successes} inserts, {failures} failed cleanly");
    assert!(failures > 50 && successes > 50, "{successes} / {failures}");
}
