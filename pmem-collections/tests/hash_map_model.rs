//! Model tests: `PHashMap<u64, u64>` and `PHashMap<PString, PVec<u64>>` against
//! `std::collections::HashMap`, under random operation sequences in transactions of
//! which some are rolled back. After every transaction the pool must equal the model and
//! pass `Pool::check` (which also verifies every key is reachable by lookup and that the
//! header's counters match the table).

#![allow(clippy::too_many_lines)] // one match arm per operation

use std::collections::HashMap;

use pmem_collections::{hash_map, PHashMap, PString, PVec};
use pmem_core::Pool;

mod model_common;
use model_common::{Rng, TestError};

fn finish<T>(r: Result<(), TestError>, model: &mut T, m: T) {
    match r {
        Ok(()) => *model = m,
        Err(TestError::Abort) => {}
        Err(TestError::Pmem(e)) => panic!("transaction failed: {e}"),
    }
}

#[test]
fn phashmap_of_u64_matches_hashmap_under_random_ops_and_aborts() {
    let mut rng = Rng(0x0bad_cafe_1234_5678);
    let mut pool = Pool::<PHashMap<u64, u64>>::volatile().unwrap();
    let mut model: HashMap<u64, u64> = HashMap::new();
    let mut ops = 0;
    for batch in 0..1_400 {
        // The key range widens and narrows so the table grows, fills with tombstones,
        // rebuilds and shrinks.
        let range = [16, 64, 512, 2048][(batch / 100) % 4] as u64;
        let abort = rng.below(4) == 0;
        let mut m = model.clone();
        let r = pool.tx(|tx| {
            let map = tx.root_mut();
            for _ in 0..8 {
                ops += 1;
                let k = rng.next() % range;
                let x = rng.next();
                match rng.below(25) {
                    19 => {
                        let d = rng.next() % 7;
                        let mut got: Vec<(u64, u64)> = map
                            .extract_if(|k, v| {
                                *v = v.wrapping_add(1);
                                (*k ^ *v) % 7 == d
                            })
                            .collect();
                        let mut want: Vec<(u64, u64)> = m
                            .extract_if(|k, v| {
                                *v = v.wrapping_add(1);
                                (*k ^ *v) % 7 == d
                            })
                            .collect();
                        got.sort_unstable();
                        want.sort_unstable();
                        assert_eq!(got, want);
                    }
                    20 => {
                        let j = k ^ 1;
                        let [a, b] = map.get_disjoint_mut([&k, &j]);
                        let [c, d] = m.get_disjoint_mut([&k, &j]);
                        assert_eq!(a.is_some(), c.is_some());
                        assert_eq!(b.is_some(), d.is_some());
                        if let (Some(a), Some(b), Some(c), Some(d)) = (a, b, c, d) {
                            std::mem::swap(a, b);
                            std::mem::swap(c, d);
                        }
                    }
                    21 => {
                        let d = rng.next() % 5;
                        map.retain_ref(|k, v| (k ^ *v) % 5 != d)?;
                        m.retain(|k, v| (*k ^ *v) % 5 != d);
                    }
                    22 if rng.below(10) == 0 => {
                        let mut got: Vec<(u64, u64)> = map.drain().collect();
                        let mut want: Vec<(u64, u64)> = m.drain().collect();
                        got.sort_unstable();
                        want.sort_unstable();
                        assert_eq!(got, want);
                    }
                    23 => {
                        let n = rng.below(300);
                        map.shrink_to(n)?;
                        assert!(map.capacity() >= map.len().max(n.min(map.capacity())));
                        map.try_reserve(rng.below(20))?;
                    }
                    0..=4 => assert_eq!(map.insert(k, x)?, m.insert(k, x)),
                    5 => assert_eq!(map.set(k, x)?, m.insert(k, x).is_none()),
                    6..=7 => assert_eq!(map.remove(&k)?, m.remove(&k)),
                    8 => assert_eq!(map.remove_entry(&k)?, m.remove_entry(&k)),
                    9 => assert_eq!(
                        map.remove_with(&k, |k, v| k ^ v)?,
                        m.remove(&k).map(|v| k ^ v)
                    ),
                    10 => {
                        if let Some(v) = map.get_mut(&k) {
                            *v = v.wrapping_add(x);
                        }
                        if let Some(v) = m.get_mut(&k) {
                            *v = v.wrapping_add(x);
                        }
                    }
                    11 => {
                        *map.entry(k).and_modify(|v| *v ^= x).or_insert(x)? += 1;
                        *m.entry(k).and_modify(|v| *v ^= x).or_insert(x) += 1;
                    }
                    12 => match map.entry(k) {
                        hash_map::Entry::Occupied(mut o) => {
                            assert_eq!(*o.key(), k);
                            if x % 2 == 0 {
                                assert_eq!(o.insert(x)?, m.insert(k, x).unwrap());
                            } else {
                                assert_eq!(o.remove()?, m.remove(&k).unwrap());
                            }
                        }
                        hash_map::Entry::Vacant(v) => {
                            assert!(!m.contains_key(&k));
                            *v.insert(x)? += 0;
                            m.insert(k, x);
                        }
                    },
                    13 => {
                        let d = rng.next() % 5;
                        map.retain(|k, v| (k ^ *v) % 5 != d)?;
                        m.retain(|k, v| (*k ^ *v) % 5 != d);
                    }
                    14 if rng.below(10) == 0 => {
                        map.clear()?;
                        m.clear();
                    }
                    15 => {
                        let items: Vec<(u64, u64)> = (0..rng.below(30))
                            .map(|_| (rng.next() % range, rng.next()))
                            .collect();
                        map.extend(items.iter().copied())?;
                        m.extend(items);
                    }
                    16 => {
                        let n = rng.below(100);
                        map.reserve(n)?;
                        assert!(map.capacity() >= map.len() + n);
                    }
                    17 => {
                        map.shrink_to_fit()?;
                        assert!(map.capacity() >= map.len());
                    }
                    18 => {
                        for (k, v) in map.iter_mut() {
                            *v = v.wrapping_add(*k);
                        }
                        for (k, v) in &mut m {
                            *v = v.wrapping_add(*k);
                        }
                    }
                    _ => {
                        assert_eq!(map.get(&k), m.get(&k));
                        assert_eq!(map.contains_key(&k), m.contains_key(&k));
                    }
                }
                assert_eq!(map.len(), m.len());
            }
            if abort {
                Err(TestError::Abort)
            } else {
                Ok(())
            }
        });
        finish(r, &mut model, m);
        pool.read(|map| {
            assert_eq!(map.len(), model.len());
            for (k, v) in &model {
                assert_eq!(map.get(k), Some(v), "key {k}");
            }
            assert_eq!(map.iter().count(), model.len());
        })
        .unwrap();
        pool.check().unwrap();
    }
    assert!(ops >= 10_000, "{ops} ops");
}

fn snapshot(map: &PHashMap<PString, PVec<u64>>) -> HashMap<String, Vec<u64>> {
    map.iter()
        .map(|(k, v)| (k.to_string(), v.to_vec()))
        .collect()
}

#[test]
fn nested_phashmap_of_pstring_to_pvec_matches_hashmap_and_frees_what_it_drops() {
    let mut rng = Rng(0x5151_7272_9393_a4a4);
    let mut pool = Pool::<PHashMap<PString, PVec<u64>>>::volatile().unwrap();
    let mut model: HashMap<String, Vec<u64>> = HashMap::new();
    let mut ops = 0;
    for batch in 0..1_300 {
        let range = [8, 40, 200][(batch / 150) % 3];
        let abort = rng.below(4) == 0;
        let mut m = model.clone();
        let r = pool.tx(|tx| {
            let map = tx.root_mut();
            for _ in 0..8 {
                ops += 1;
                let k = format!("key-{}", rng.below(range));
                let xs: Vec<u64> = (0..rng.below(5)).map(|_| rng.next() % 1000).collect();
                match rng.below(14) {
                    12 => {
                        let n = rng.below(4);
                        map.retain(|_, v| v.push(7).is_ok() && v.len() != n)?;
                        m.retain(|_, v| {
                            v.push(7);
                            v.len() != n
                        });
                    }
                    13 => {
                        let j = format!("key-{}", rng.below(range));
                        if j != k {
                            let [a, b] = map.get_disjoint_mut([k.as_str(), j.as_str()]);
                            let [c, d] = m.get_disjoint_mut([k.as_str(), j.as_str()]);
                            assert_eq!((a.is_some(), b.is_some()), (c.is_some(), d.is_some()));
                            if let (Some(a), Some(b), Some(c), Some(d)) = (a, b, c, d) {
                                a.append(b)?;
                                c.append(d);
                            }
                        }
                    }
                    0..=2 => {
                        assert_eq!(map.set(k.as_str(), xs.clone())?, m.insert(k, xs).is_none());
                    }
                    3..=4 => {
                        let got =
                            map.remove_with(k.as_str(), |k, v| (k.to_string(), v.to_vec()))?;
                        assert_eq!(got, m.remove_entry(&k));
                    }
                    5..=6 => {
                        let v = map.entry(k.as_str()).or_default()?;
                        v.extend(xs.iter().copied())?;
                        m.entry(k).or_default().extend(xs);
                    }
                    7 => {
                        if let Some(v) = map.get_mut(k.as_str()) {
                            v.truncate(1)?;
                        }
                        if let Some(v) = m.get_mut(&k) {
                            v.truncate(1);
                        }
                    }
                    8 => {
                        let n = rng.below(4);
                        map.retain(|_, v| v.len() != n)?;
                        m.retain(|_, v| v.len() != n);
                    }
                    9 if rng.below(8) == 0 => {
                        map.clear()?;
                        m.clear();
                    }
                    10 => {
                        if let hash_map::Entry::Occupied(mut o) = map.entry(k.clone()) {
                            o.set(xs.clone())?;
                            m.insert(k, xs);
                        }
                    }
                    _ => {
                        for v in map.values_mut() {
                            v.push(1)?;
                        }
                        for v in m.values_mut() {
                            v.push(1);
                        }
                    }
                }
                assert_eq!(map.len(), m.len());
            }
            if abort {
                Err(TestError::Abort)
            } else {
                Ok(())
            }
        });
        finish(r, &mut model, m);
        assert_eq!(pool.read(snapshot).unwrap(), model);
        pool.check().unwrap();
    }
    assert!(ops >= 10_000, "{ops} ops");
}
