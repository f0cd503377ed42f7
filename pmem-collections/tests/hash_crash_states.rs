//! Crash-state enumeration (`pmem_core::crash`) over every mutating method of
//! `PHashMap` and `PHashSet`, including the ones that rebuild the table (growth, a table
//! full of tombstones, shrinking) or free it: every crash image must
//! recover to the state before or after the transaction in flight, pass `Pool::check`,
//! and keep every acknowledged commit.

use std::collections::{BTreeMap, BTreeSet};

use pmem_collections::{hash_map, PHashMap, PHashSet, PString, PVec};
use pmem_core::{Error, Pool};

mod crash_common;

use crash_common::{run, Op};

fn observe_u64(m: &PHashMap<u64, u64>) -> BTreeMap<u64, u64> {
    m.iter().map(|(k, v)| (*k, *v)).collect()
}

#[test]
fn every_crash_image_of_every_phashmap_u64_method_recovers_to_an_allowed_state() {
    let ops: &[Op<PHashMap<u64, u64>>] = &[
        |m| m.insert(1, 10).map(drop),              // first table (seed drawn)
        |m| m.extend((2..=7).map(|k| (k, k * 10))), // fills 8 buckets to 7
        |m| m.insert(8, 80).map(drop),              // rebuild: grows to 16 buckets
        |m| m.insert(8, 81).map(drop),              // overwrite in place
        |m| m.set(9, 90).map(drop),
        |m| m.remove(&1).map(drop),
        |m| m.remove_entry(&2).map(drop),
        |m| m.remove_with(&3, |_, _| ()).map(drop),
        |m| {
            *m.get_mut(&4).unwrap() += 1;
            Ok(())
        },
        |m| m.entry(100).or_insert(1).map(drop),
        |m| m.entry(101).or_default().map(drop),
        |m| {
            m.entry(100).and_modify(|v| *v += 5).or_insert(0)?;
            Ok(())
        },
        |m| match m.entry(101) {
            hash_map::Entry::Occupied(mut o) => o.insert(7).map(drop),
            hash_map::Entry::Vacant(_) => Err(Error::ReadOnly),
        },
        |m| match m.entry(100) {
            hash_map::Entry::Occupied(o) => o.remove().map(drop),
            hash_map::Entry::Vacant(_) => Err(Error::ReadOnly),
        },
        |m| match m.entry(102) {
            hash_map::Entry::Vacant(v) => v.insert(3).map(drop),
            hash_map::Entry::Occupied(_) => Err(Error::ReadOnly),
        },
        |m| {
            m.iter_mut().for_each(|(_, v)| *v += 1);
            Ok(())
        },
        |m| {
            m.values_mut().for_each(|v| *v *= 2);
            Ok(())
        },
        |m| m.retain(|k, _| k % 2 == 0),
        |m| {
            m.retain(|k, v| {
                *v += 1; // the view logs the value
                k % 3 != 0
            })?;
            m.retain_ref(|k, _| k % 5 != 0)
        },
        |m| {
            let [Some(a), Some(b)] = m.get_disjoint_mut([&4, &8]) else {
                return Err(Error::ReadOnly);
            };
            std::mem::swap(a, b);
            let _ = m
                .extract_if(|k, v| {
                    *v += 1;
                    k % 4 == 0
                })
                .count();
            Ok(())
        },
        |m| m.reserve(40),     // rebuild: grows
        |m| m.shrink_to(20),   // rebuild: shrinks
        |m| m.shrink_to_fit(), // rebuild: shrinks
        |m| {
            Extend::extend(m, (200..205).map(|k| (k, k)));
            m.try_reserve(3)?;
            let _ = m.drain().count(); // keeps the table
            m.insert(7, 7).map(drop)
        },
        |m| {
            // Churn until the table fills with tombstones and is rebuilt at its size.
            for k in 1000..1040 {
                m.insert(k, k)?;
                m.remove(&k)?;
            }
            Ok(())
        },
        |m| m.clear(),
        |m| m.shrink_to_fit(), // frees the table
    ];
    run(
        "PHashMap<u64, u64>",
        |_: &mut Pool<PHashMap<u64, u64>>| {},
        ops,
        |m| m.extend((0..30).map(|k| (k, k))),
        observe_u64,
    );
}

type Nested = PHashMap<PString, PVec<u64>>;

fn observe_nested(m: &Nested) -> BTreeMap<String, Vec<u64>> {
    m.iter().map(|(k, v)| (k.to_string(), v.to_vec())).collect()
}

#[test]
fn every_crash_image_of_a_nested_phashmap_recovers_to_an_allowed_state_and_leaks_nothing() {
    let ops: &[Op<Nested>] = &[
        |m| m.set("ada", vec![1, 2]).map(drop),
        |m| m.entry("bob").or_default()?.push(3),
        |m| m.get_mut("ada").unwrap().push(4),
        |m| m.set("ada", vec![9]).map(drop), // frees the old vector
        |m| m.extend((0..8).map(|i| (format!("k{i}"), vec![i]))), // rebuild
        |m| m.remove_with("bob", |_, _| ()).map(drop), // frees key and vector
        |m| match m.entry("k1") {
            hash_map::Entry::Occupied(mut o) => o.set(vec![5, 5]),
            hash_map::Entry::Vacant(_) => Err(Error::ReadOnly),
        },
        |m| match m.entry("k2") {
            hash_map::Entry::Occupied(o) => o.remove_with(|_, _| ()),
            hash_map::Entry::Vacant(_) => Err(Error::ReadOnly),
        },
        |m| {
            let [Some(a), Some(b)] = m.get_disjoint_mut(["k3", "k4"]) else {
                return Err(Error::ReadOnly);
            };
            a.append(b)?; // moves b's elements into a
            m.retain(|k, v| v.push(1).is_ok() && k.as_str() != "k5")
        },
        |m| m.retain(|k, _| k.len() > 2),
        |m| m.clear(),
    ];
    run(
        "PHashMap<PString, PVec<u64>>",
        |_: &mut Pool<Nested>| {},
        ops,
        |m| m.set("aborted", vec![1]).map(drop),
        observe_nested,
    );
}

fn observe_set(s: &PHashSet<PString>) -> BTreeSet<String> {
    s.iter().map(ToString::to_string).collect()
}

#[test]
fn every_crash_image_of_every_phashset_method_recovers_to_an_allowed_state() {
    let ops: &[Op<PHashSet<PString>>] = &[
        |s| s.insert("a").map(drop),
        |s| s.extend(["b", "c", "d", "e", "f", "g", "h", "i"]), // rebuild
        |s| s.remove("a").map(drop),
        |s| s.take_with("b", |_| ()).map(drop),
        |s| s.retain(|x| x.as_str() != "c"),
        |s| s.reserve(50),
        |s| s.shrink_to(20),
        |s| {
            Extend::extend(s, ["x", "y"]);
            s.try_reserve(4)
        },
        |s| s.shrink_to_fit(),
        |s| s.clear(),
        |s| s.shrink_to_fit(),
    ];
    run(
        "PHashSet<PString>",
        |_: &mut Pool<PHashSet<PString>>| {},
        ops,
        |s| s.insert("aborted").map(drop),
        observe_set,
    );
}

#[test]
fn every_crash_image_of_phashset_take_recovers_to_an_allowed_state() {
    let ops: &[Op<PHashSet<u64>>] = &[
        |s| s.extend(0..10),
        |s| s.take(&3).map(drop),
        |s| s.insert(3).map(drop),
        |s| s.replace(3).map(drop),
        |s| {
            let _ = s.extract_if(|x| x % 3 == 0).count();
            Ok(())
        },
        |s| {
            let _ = s.drain().count();
            Ok(())
        },
    ];
    run(
        "PHashSet<u64>",
        |_: &mut Pool<PHashSet<u64>>| {},
        ops,
        |s| s.extend(10..20),
        |s: &PHashSet<u64>| s.iter().copied().collect::<BTreeSet<u64>>(),
    );
}
