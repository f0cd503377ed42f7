//! B-trees holding other collections, and held by them: `PString` keys inserted and
//! looked up as `&str`, `PVec` and `PString` values edited through their views, a
//! `PBTreeMap` inside a `PHashMap`. Every removal or overwrite frees what it owned
//! (`pool.check()` counts allocations), and rolled-back transactions leave nothing.

use pmem_collections::{PBTreeMap, PBTreeSet, PHashMap, PString, PVec};
use std::ops::Bound;

use pmem_core::{Error, Pool};

#[test]
fn string_keys_are_inserted_and_found_as_str() {
    let mut pool = Pool::<PBTreeMap<PString, u64>>::volatile().unwrap();
    pool.tx(|tx| {
        let m = tx.root_mut();
        for (i, w) in ["pear", "apple", "fig", "kiwi", "banana", "cherry"]
            .iter()
            .enumerate()
        {
            assert_eq!(m.insert(*w, i as u64)?, None);
        }
        assert_eq!(m.insert("fig", 10)?, Some(2));
        *m.entry("date").or_insert(0)? += 7;
        *m.get_mut("apple").unwrap() += 100;
        assert!(m.remove_with("pear", |_, _| ())?.is_some());
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.read(|m| {
        let keys: Vec<&str> = m.keys().map(PString::as_str).collect();
        assert_eq!(keys, ["apple", "banana", "cherry", "date", "fig", "kiwi"]);
        assert_eq!(m.get("apple"), Some(&101));
        let (lo, hi) = (Bound::Included("banana"), Bound::Excluded("fig"));
        assert_eq!(m.range::<str, _>((lo, hi)).count(), 3);
    })
    .unwrap();
    // Root, nodes and one allocation per key string.
    let before = pool.check().unwrap().allocations;
    pool.tx(|tx| tx.root_mut().retain_ref(|k, _| k.len() > 4))
        .unwrap();
    assert_eq!(
        pool.check().unwrap().allocations,
        before - 3,
        "fig, kiwi and date are freed"
    );
    pool.tx(|tx| tx.root_mut().clear()).unwrap();
    assert_eq!(pool.check().unwrap().allocations, 1);
}

#[test]
fn vector_and_string_values_change_in_place_and_are_freed() {
    let mut pool = Pool::<PBTreeMap<u64, PVec<u64>>>::volatile().unwrap();
    pool.tx(|tx| {
        let m = tx.root_mut();
        for i in 0..200u64 {
            m.entry(i % 20).or_default()?.push(i)?;
        }
        m.get_mut(&3).unwrap().retain(|x| x % 2 == 1)?;
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.read(|m| {
        assert_eq!(m.len(), 20);
        assert_eq!(
            m.get(&3).unwrap().as_slice(),
            [3, 23, 43, 63, 83, 103, 123, 143, 163, 183]
        );
    })
    .unwrap();
    let r: Result<(), Error> = pool.tx(|tx| {
        let m = tx.root_mut();
        m.set(3, vec![1u64, 2, 3])?;
        m.remove_with(&4, |_, _| ())?;
        Err(Error::ReadOnly)
    });
    assert!(r.is_err());
    pool.read(|m| assert_eq!(m.get(&3).unwrap().len(), 10))
        .unwrap();
    pool.tx(|tx| tx.root_mut().set(3, vec![7u64]).map(|_| ()))
        .unwrap();
    pool.read(|m| assert_eq!(m.get(&3).unwrap().as_slice(), [7]))
        .unwrap();
    pool.check().unwrap();
    pool.tx(|tx| tx.root_mut().clear()).unwrap();
    assert_eq!(pool.check().unwrap().allocations, 1);

    let mut pool = Pool::<PBTreeMap<u64, PString>>::volatile().unwrap();
    pool.tx(|tx| {
        let m = tx.root_mut();
        m.set(1, "ada")?;
        m.get_mut(&1).unwrap().push_str(" lovelace")?;
        m.entry(2).or_insert("grace")?;
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.read(|m| assert_eq!(m.get(&1).map(PString::as_str), Some("ada lovelace")))
        .unwrap();
    pool.tx(|tx| tx.root_mut().first_entry().unwrap().remove_with(|_, _| ()))
        .unwrap();
    assert_eq!(
        pool.check().unwrap().allocations,
        3,
        "root, one leaf, one string"
    );
}

#[test]
fn a_btree_inside_a_hash_map_and_a_set_of_strings() {
    let mut pool = Pool::<PHashMap<u64, PBTreeMap<u64, u64>>>::volatile().unwrap();
    pool.tx(|tx| {
        let h = tx.root_mut();
        for i in 0..500u64 {
            h.entry(i % 7).or_default()?.insert(i, i * i)?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.read(|h| {
        let t = h.get(&3).unwrap();
        assert_eq!(t.len(), 71);
        assert_eq!(
            t.range(100..120).map(|(k, _)| *k).collect::<Vec<_>>(),
            [101, 108, 115]
        );
    })
    .unwrap();
    pool.check().unwrap();

    let mut pool = Pool::<PBTreeSet<PString>>::volatile().unwrap();
    pool.tx(|tx| tx.root_mut().extend(["b", "a", "c", "a"]))
        .unwrap();
    pool.read(|s| {
        assert_eq!(
            s.iter().map(PString::as_str).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
    })
    .unwrap();
    pool.tx(|tx| tx.root_mut().remove("b").map(|_| ())).unwrap();
    assert!(pool.read(|s| s.contains("a") && !s.contains("b")).unwrap());
    pool.check().unwrap();
}
