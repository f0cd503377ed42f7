//! Model tests for `PBTreeSet` against `std::collections::BTreeSet`, and for a map whose
//! keys and values own pool allocations (every removal, overwrite, retain and clear
//! must free exactly what it owned: `pool.check()` finds leaks and double frees).

#![allow(clippy::many_single_char_names)]

mod btree_common;

use std::collections::BTreeSet;
use std::ops::Bound;

use btree_common::{owned_val, BoxKey, BoxOf, Model, Owned, Rng, TxErr};
use pmem_collections::{PBTreeMap, PBTreeSet, PBox};
use pmem_core::Pool;

type SetRoot = Option<PBox<PBTreeSet<u32>>>;

#[allow(clippy::too_many_lines)] // one arm per operation of the model
fn run_set(caps: Option<(usize, usize)>, keys: u64, ops: usize, seed: u64) -> usize {
    let mut pool = Pool::<SetRoot>::volatile().unwrap();
    pool.tx(|tx| {
        tx.root_mut()
            .insert(caps.map_or_else(PBTreeSet::new, |(l, i)| PBTreeSet::with_node_capacity(l, i)))
            .map(|_| ())
    })
    .unwrap();
    let mut model: BTreeSet<u32> = BTreeSet::new();
    let mut rng = Rng(seed);
    let (mut done, mut batches) = (0, 0);
    while done < ops {
        let n_ops = 1 + rng.below(30) as usize;
        let abort = rng.chance(10);
        let mut m2 = model.clone();
        let r = pool.tx(|tx| {
            let s = tx.root_mut().as_mut().unwrap();
            for _ in 0..n_ops {
                let x = rng.below(keys) as u32;
                match rng.below(100) {
                    0..=34 => assert_eq!(s.insert(x)?, m2.insert(x)),
                    35..=49 => assert_eq!(s.remove(&x)?, m2.remove(&x)),
                    50..=54 => assert_eq!(s.take(&x)?, m2.take(&x)),
                    55..=57 => assert_eq!(s.pop_first()?, m2.pop_first()),
                    58..=60 => assert_eq!(s.pop_last()?, m2.pop_last()),
                    61 => {
                        let salt = rng.below(7) as u32 + 2;
                        s.retain(|v| v % salt != 0)?;
                        m2.retain(|v| v % salt != 0);
                    }
                    62..=64 => {
                        let more: Vec<u32> =
                            (0..rng.below(10)).map(|_| rng.below(keys) as u32).collect();
                        m2.extend(more.iter().copied());
                        s.extend(more)?;
                    }
                    65 if rng.chance(5) => {
                        s.clear()?;
                        m2.clear();
                    }
                    75 => assert_eq!(s.replace(x)?, m2.replace(x)),
                    76 => {
                        let y = rng.below(keys) as u32;
                        let (lo, hi) = (x.min(y), x.max(y));
                        let salt = rng.below(3) as u32 + 2;
                        let stop = rng.below(6) as usize;
                        let got: Vec<u32> = s
                            .extract_if(lo..=hi, |v| v % salt == 0)
                            .take(stop)
                            .collect();
                        // std's `extract_if` is newer than the MSRV: the model
                        // removes the same elements by hand.
                        let want: Vec<u32> = m2
                            .range(lo..=hi)
                            .filter(|&&v| v % salt == 0)
                            .take(stop)
                            .copied()
                            .collect();
                        for v in &want {
                            m2.remove(v);
                        }
                        assert_eq!(got, want);
                    }
                    77 if rng.chance(10) => {
                        assert_eq!(s.split_off(&x)?, m2.split_off(&x));
                    }
                    78 => assert_eq!(s.take_with(&x, |v| v + 1)?, m2.take(&x).map(|v| v + 1)),
                    79 => {
                        Extend::extend(s, [x, x / 2]);
                        m2.extend([x, x / 2]);
                    }
                    66..=74 => {
                        assert_eq!(s.contains(&x), m2.contains(&x));
                        assert_eq!(s.get(&x), m2.get(&x));
                        assert_eq!((s.first(), s.last()), (m2.first(), m2.last()));
                    }
                    80..=94 => {
                        let y = rng.below(keys) as u32;
                        let (lo, hi) = (x.min(y), x.max(y));
                        let b = |r: &mut Rng, v: u32| match r.below(3) {
                            0 => Bound::Included(v),
                            1 => Bound::Excluded(v),
                            _ => Bound::Unbounded,
                        };
                        let (lo, hi) = (b(&mut rng, lo), b(&mut rng, hi));
                        if matches!((lo, hi), (Bound::Excluded(p), Bound::Excluded(q)) if p == q) {
                            continue;
                        }
                        let (mut a, mut e) = (s.range((lo, hi)), m2.range((lo, hi)));
                        for _ in 0..16 {
                            if rng.chance(50) {
                                assert_eq!(a.next(), e.next());
                            } else {
                                assert_eq!(a.next_back(), e.next_back());
                            }
                        }
                    }
                    _ => {
                        assert_eq!(s.len(), m2.len());
                        assert!(s.iter().rev().take(30).eq(m2.iter().rev().take(30)));
                    }
                }
            }
            if abort {
                return Err(TxErr::Abort);
            }
            Ok(())
        });
        match r {
            Ok(()) => model = m2,
            Err(TxErr::Abort) => {}
            Err(TxErr::Pmem(e)) => panic!("pmem error: {e}"),
        }
        done += n_ops;
        batches += 1;
        if batches % 16 == 0 {
            pool.read(|r| assert!(r.as_deref().unwrap().iter().eq(model.iter())))
                .unwrap();
            pool.check().unwrap();
        }
    }
    pool.read(|r| assert!(r.as_deref().unwrap().iter().eq(model.iter())))
        .unwrap();
    pool.check().unwrap();
    done
}

#[test]
fn the_set_matches_std_with_shipped_and_tiny_nodes() {
    let shipped = run_set(None, 20_000, 20_000, 41);
    let tiny = run_set(Some((4, 4)), 400, 10_000, 43);
    println!("ops checked (PBTreeSet): {}", shipped + tiny);
}

type OwnedRoot = Option<PBox<PBTreeMap<BoxKey, Owned>>>;

#[test]
fn owned_keys_and_values_are_freed_exactly_once_under_random_operations() {
    let mut pool = Pool::<OwnedRoot>::volatile().unwrap();
    pool.tx(|tx| {
        tx.root_mut()
            .insert(PBTreeMap::with_node_capacity(4, 5))
            .map(|_| ())
    })
    .unwrap();
    let mut model: Model<u64, u64> = Model::new();
    let mut rng = Rng(47);
    for batch in 0..400 {
        let abort = rng.chance(10);
        let r = pool.tx(|tx| {
            let m = tx.root_mut().as_mut().unwrap();
            for _ in 0..=rng.below(20) {
                let (k, v) = (rng.below(300), rng.below(1000));
                match rng.below(10) {
                    0..=3 => assert_eq!(m.set(k, BoxOf(v))?, model.insert(k, v).is_none()),
                    4..=5 => assert_eq!(
                        m.remove_with(&k, |_, _| ())?.is_some(),
                        model.remove(&k).is_some()
                    ),
                    6 => {
                        let got = m.entry(k).or_insert(BoxOf(v))?.as_mut().map(|b| *b);
                        let want = *model.map.get(&k).unwrap_or(&v);
                        model.insert(k, want);
                        assert_eq!(got, Some(want));
                    }
                    7 => {
                        if let Some(mut o) = m.last_entry() {
                            let key = o.key().get();
                            o.set(BoxOf(v))?;
                            model.insert(key, v);
                        }
                    }
                    8 if rng.chance(20) => {
                        let mut dropped = Vec::new();
                        m.retain_ref(|key, val| {
                            let keep = owned_val(val) % 3 != 0;
                            if !keep {
                                dropped.push(key.get());
                            }
                            keep
                        })?;
                        for d in dropped {
                            model.remove(&d);
                        }
                    }
                    _ => assert_eq!(m.get(&k).map(owned_val), model.map.get(&k).copied()),
                }
            }
            if abort {
                return Err(TxErr::Abort);
            }
            Ok(())
        });
        match r {
            Ok(()) => model.commit(),
            Err(TxErr::Abort) => model.abort(),
            Err(TxErr::Pmem(e)) => panic!("pmem error: {e}"),
        }
        if batch % 20 == 0 {
            pool.check().unwrap();
        }
        let got: Vec<(u64, u64)> = pool
            .read(|r| {
                r.as_deref()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.get(), owned_val(v)))
                    .collect()
            })
            .unwrap();
        assert!(
            got.iter()
                .copied()
                .eq(model.map.iter().map(|(k, v)| (*k, *v))),
            "batch {batch}"
        );
    }
    // Every entry owns two allocations (key box, value box); plus nodes, the map's box and the root.
    let report = pool.check().unwrap();
    assert!(report.allocations >= 2 * model.map.len() as u64 + 2);
    pool.tx(|tx| tx.root_mut().as_mut().unwrap().clear())
        .unwrap();
    assert_eq!(
        pool.check().unwrap().allocations,
        2,
        "clear frees every key, value and node"
    );
}

/// The set operations (`union`, `intersection`, `difference`, `symmetric_difference`,
/// `is_subset`, `is_superset`, `is_disjoint`), `append` and the orderings agree with
/// std's on random pairs of small-node sets.
#[test]
fn pbtreeset_operations_match_btreeset() {
    use pmem_collections::PVec;
    let mut rng = Rng(0x5e75_0000_0000_0002);
    let mut pool = Pool::<PVec<PBTreeSet<u32>>>::volatile().unwrap();
    for round in 0..200 {
        let range = [4u64, 16, 64, 256][round % 4];
        let a: BTreeSet<u32> = (0..rng.below(40))
            .map(|_| rng.below(range) as u32)
            .collect();
        let b: BTreeSet<u32> = (0..rng.below(40))
            .map(|_| rng.below(range) as u32)
            .collect();
        pool.tx(|tx| {
            let v = tx.root_mut();
            v.clear()?;
            for set in [&a, &b] {
                let s = v.push_mut(PBTreeSet::with_node_capacity(4, 4))?;
                s.extend(set.iter().copied())?;
            }
            Ok::<_, pmem_core::Error>(())
        })
        .unwrap();
        pool.read(|v| {
            let (x, y) = (&v[0], &v[1]);
            assert!(x.union(y).eq(a.union(&b)));
            assert!(x.intersection(y).eq(a.intersection(&b)));
            assert!(x.difference(y).eq(a.difference(&b)));
            assert!(x.symmetric_difference(y).eq(a.symmetric_difference(&b)));
            assert_eq!(x.is_subset(y), a.is_subset(&b));
            assert_eq!(x.is_superset(y), a.is_superset(&b));
            assert_eq!(x.is_disjoint(y), a.is_disjoint(&b));
            assert_eq!(x.cmp(y), a.cmp(&b));
        })
        .unwrap();
        pool.tx(|tx| {
            let mut it = tx.root_mut().iter_mut();
            let (x, y) = (it.next().unwrap(), it.next().unwrap());
            x.append(y)
        })
        .unwrap();
        let mut all = a.clone();
        all.extend(&b);
        pool.read(|v| {
            assert!(v[0].iter().eq(all.iter()));
            assert!(v[1].is_empty());
        })
        .unwrap();
        pool.check().unwrap();
    }
}
