//! Model tests: `PHashSet<u64>` and `PHashSet<PString>` against
//! `std::collections::HashSet`, under random operation sequences in transactions of
//! which some are rolled back; `Pool::check` after every transaction.

use std::collections::HashSet;

use pmem_collections::{PHashSet, PString};
use pmem_core::Pool;

mod model_common;
use model_common::{Rng, TestError};

#[test]
fn phashset_of_u64_matches_hashset_under_random_ops_and_aborts() {
    let mut rng = Rng(0x7777_1111_2222_3333);
    let mut pool = Pool::<PHashSet<u64>>::volatile().unwrap();
    let mut model: HashSet<u64> = HashSet::new();
    let mut ops = 0;
    for batch in 0..1_300 {
        let range = [16u64, 256, 4096][(batch / 100) % 3];
        let abort = rng.below(4) == 0;
        let mut m = model.clone();
        let r = pool.tx(|tx| {
            let set = tx.root_mut();
            for _ in 0..8 {
                ops += 1;
                let x = rng.next() % range;
                match rng.below(14) {
                    11 => assert_eq!(set.replace(x)?, m.replace(x)),
                    12 => {
                        let d = rng.next() % 5;
                        let mut got: Vec<u64> = set.extract_if(|v| v % 5 == d).collect();
                        let mut want: Vec<u64> = m.extract_if(|v| v % 5 == d).collect();
                        got.sort_unstable();
                        want.sort_unstable();
                        assert_eq!(got, want);
                    }
                    13 if rng.below(10) == 0 => {
                        let mut got: Vec<u64> = set.drain().collect();
                        let mut want: Vec<u64> = m.drain().collect();
                        got.sort_unstable();
                        want.sort_unstable();
                        assert_eq!(got, want);
                        set.shrink_to(rng.below(30))?;
                        set.try_reserve(rng.below(30))?;
                    }
                    0..=3 => assert_eq!(set.insert(x)?, m.insert(x)),
                    4 => assert_eq!(set.remove(&x)?, m.remove(&x)),
                    5 => assert_eq!(set.take(&x)?, m.take(&x)),
                    6 => assert_eq!(set.take_with(&x, |v| v + 1)?, m.take(&x).map(|v| v + 1)),
                    7 => {
                        let d = rng.next() % 4;
                        set.retain(|v| v % 4 != d)?;
                        m.retain(|v| v % 4 != d);
                    }
                    8 if rng.below(10) == 0 => {
                        set.clear()?;
                        m.clear();
                    }
                    9 => {
                        let xs: Vec<u64> = (0..rng.below(20)).map(|_| rng.next() % range).collect();
                        set.extend(xs.iter().copied())?;
                        m.extend(xs);
                    }
                    _ => {
                        if rng.below(2) == 0 {
                            set.shrink_to_fit()?;
                        } else {
                            set.reserve(rng.below(50))?;
                        }
                        assert_eq!(set.contains(&x), m.contains(&x));
                        assert_eq!(set.get(&x), m.get(&x));
                    }
                }
                assert_eq!(set.len(), m.len());
            }
            if abort {
                Err(TestError::Abort)
            } else {
                Ok(())
            }
        });
        match r {
            Ok(()) => model = m,
            Err(TestError::Abort) => {}
            Err(TestError::Pmem(e)) => panic!("transaction failed: {e}"),
        }
        assert_eq!(
            pool.read(|s| s.iter().copied().collect::<HashSet<u64>>())
                .unwrap(),
            model
        );
        pool.check().unwrap();
    }
    assert!(ops >= 10_000, "{ops} ops");
}

#[test]
fn phashset_of_pstring_matches_hashset_of_string_and_frees_what_it_drops() {
    let mut rng = Rng(0xabcd_ef01_2345_6789);
    let mut pool = Pool::<PHashSet<PString>>::volatile().unwrap();
    let mut model: HashSet<String> = HashSet::new();
    let mut ops = 0;
    for _ in 0..1_300 {
        let abort = rng.below(4) == 0;
        let mut m = model.clone();
        let r = pool.tx(|tx| {
            let set = tx.root_mut();
            for _ in 0..8 {
                ops += 1;
                let w = format!("w{}é", rng.below(300));
                match rng.below(8) {
                    0..=2 => assert_eq!(set.insert(w.as_str())?, m.insert(w)),
                    3 => assert_eq!(set.remove(w.as_str())?, m.remove(&w)),
                    4 => assert_eq!(set.take_with(w.as_str(), ToString::to_string)?, m.take(&w)),
                    5 => {
                        let d = rng.below(3);
                        set.retain(|s| s.len() % 3 != d)?;
                        m.retain(|s| s.len() % 3 != d);
                    }
                    6 if rng.below(10) == 0 => {
                        set.clear()?;
                        m.clear();
                    }
                    _ => {
                        assert_eq!(set.contains(w.as_str()), m.contains(&w));
                        assert_eq!(
                            set.get(w.as_str()).map(ToString::to_string),
                            m.get(&w).cloned()
                        );
                    }
                }
                assert_eq!(set.len(), m.len());
            }
            if abort {
                Err(TestError::Abort)
            } else {
                Ok(())
            }
        });
        match r {
            Ok(()) => model = m,
            Err(TestError::Abort) => {}
            Err(TestError::Pmem(e)) => panic!("transaction failed: {e}"),
        }
        assert_eq!(
            pool.read(|s| s
                .iter()
                .map(ToString::to_string)
                .collect::<HashSet<String>>())
                .unwrap(),
            model
        );
        pool.check().unwrap();
    }
    assert!(ops >= 10_000, "{ops} ops");
}

/// The set operations (`union`, `intersection`, `difference`, `symmetric_difference`,
/// `is_subset`, `is_superset`, `is_disjoint`) agree with std's on random pairs of sets.
#[test]
fn phashset_operations_match_hashset() {
    use pmem_collections::PVec;
    let mut rng = Rng(0x5e75_0000_0000_0001);
    let mut pool = Pool::<PVec<PHashSet<u64>>>::volatile().unwrap();
    for round in 0..300 {
        let range = [4u64, 16, 64][round % 3];
        let a: HashSet<u64> = (0..rng.below(20)).map(|_| rng.next() % range).collect();
        let b: HashSet<u64> = (0..rng.below(20)).map(|_| rng.next() % range).collect();
        pool.tx(|tx| {
            let v = tx.root_mut();
            v.clear()?;
            v.push(a.iter().copied().collect::<Vec<_>>())?;
            v.push(b.iter().copied().collect::<Vec<_>>())
        })
        .unwrap();
        pool.read(|v| {
            let (x, y) = (&v[0], &v[1]);
            let sorted = |it: &mut dyn Iterator<Item = &u64>| {
                let mut s: Vec<u64> = it.copied().collect();
                s.sort_unstable();
                s
            };
            assert_eq!(sorted(&mut x.union(y)), sorted(&mut a.union(&b)));
            assert_eq!(
                sorted(&mut x.intersection(y)),
                sorted(&mut a.intersection(&b))
            );
            assert_eq!(sorted(&mut x.difference(y)), sorted(&mut a.difference(&b)));
            assert_eq!(
                sorted(&mut x.symmetric_difference(y)),
                sorted(&mut a.symmetric_difference(&b))
            );
            assert_eq!(x.is_subset(y), a.is_subset(&b));
            assert_eq!(x.is_superset(y), a.is_superset(&b));
            assert_eq!(x.is_disjoint(y), a.is_disjoint(&b));
        })
        .unwrap();
    }
    pool.check().unwrap();
}
