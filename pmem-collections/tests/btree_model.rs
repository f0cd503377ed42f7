//! Model tests: random operation sequences on `PBTreeMap` against
//! `std::collections::BTreeMap`, in transactions of which one in ten rolls back, with
//! `pool.check()` (which verifies the tree's structure) after batches.
//!
//! The shipped node size runs the most operations (the benchmark's 24-byte keys and
//! 150-byte values, three levels deep); tiny nodes make deep trees with few keys and
//! reach every split, share, borrow and merge path often.

#![allow(clippy::many_single_char_names)]

mod btree_common;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::ops::Bound;

use btree_common::{key24, val150, Boxed, Model, Rng, TxErr};
use pmem_collections::btree_map::Entry;
use pmem_collections::PBTreeMap;
use pmem_core::{Plain, Pool};

struct Cfg<K, V> {
    caps: Option<(usize, usize)>,
    keys: u64,
    ops: usize,
    preload: u64,
    seed: u64,
    min_height: usize,
    retain_div: u64,
    k: fn(u64) -> K,
    v: fn(u64) -> V,
}

fn map<K: Plain + Ord, V: Plain>(r: &Boxed<K, V>) -> &PBTreeMap<K, V> {
    r.as_deref().expect("set up")
}

fn bound<K>(rng: &mut Rng, k: K) -> Bound<K> {
    match rng.below(3) {
        0 => Bound::Included(k),
        1 => Bound::Excluded(k),
        _ => Bound::Unbounded,
    }
}

fn compare_all<K: Plain + Ord + Debug, V: Plain + PartialEq + Debug>(
    m: &PBTreeMap<K, V>,
    model: &BTreeMap<K, V>,
) {
    assert_eq!(m.len(), model.len());
    assert!(m.iter().eq(model.iter()), "forward iteration differs");
    assert!(
        m.iter().rev().eq(model.iter().rev()),
        "backward iteration differs"
    );
}

#[allow(clippy::too_many_lines)]
fn run<K, V>(cfg: &Cfg<K, V>) -> usize
where
    K: Plain + Ord + Debug,
    V: Plain + PartialEq + Debug,
{
    let mut pool = Pool::<Boxed<K, V>>::volatile().unwrap();
    let caps = cfg.caps;
    pool.tx(|tx| {
        let m = tx.root_mut().insert(
            caps.map_or_else(PBTreeMap::new, |(l, i)| PBTreeMap::with_node_capacity(l, i)),
        )?;
        for n in 0..cfg.preload {
            m.insert((cfg.k)(n * 7 % cfg.keys), (cfg.v)(n))?;
        }
        Ok::<_, pmem_core::Error>(())
    })
    .unwrap();
    let mut model = Model::new();
    for n in 0..cfg.preload {
        model.insert((cfg.k)(n * 7 % cfg.keys), (cfg.v)(n));
    }
    model.commit();
    let mut rng = Rng(cfg.seed);
    let (mut done, mut batches, mut aborts, mut max_height) = (0, 0, 0, 0);
    while done < cfg.ops {
        let n_ops = 1 + rng.below(30) as usize;
        let abort = rng.chance(10);
        let r = pool.tx(|tx| {
            let m = tx.root_mut().as_mut().unwrap();
            for _ in 0..n_ops {
                let (kn, vn) = (rng.below(cfg.keys), rng.next());
                let (k, v) = ((cfg.k)(kn), (cfg.v)(vn));
                match rng.below(100) {
                    0..=24 => assert_eq!(m.insert(k, v)?, model.insert(k, v)),
                    25..=29 => assert_eq!(m.set(k, v)?, model.insert(k, v).is_none()),
                    30..=39 => assert_eq!(m.remove(&k)?, model.remove(&k)),
                    40..=44 => assert_eq!(
                        m.remove_with(&k, |_, _| ())?.is_some(),
                        model.remove(&k).is_some()
                    ),
                    45..=54 => match (m.entry(k), rng.below(4)) {
                        (Entry::Occupied(mut o), 0) => {
                            assert_eq!(o.insert(v)?, model.insert(k, v).unwrap());
                        }
                        (Entry::Occupied(o), 1) => {
                            assert_eq!(o.remove_entry()?, (k, model.remove(&k).unwrap()));
                        }
                        (Entry::Occupied(o), _) => {
                            let w = *o.into_mut();
                            assert_eq!(Some(&w), model.map.get(&k));
                        }
                        (Entry::Vacant(e), _) => {
                            assert!(!model.map.contains_key(&k));
                            assert_eq!(*e.insert(v)?, v);
                            model.insert(k, v);
                        }
                    },
                    55..=59 => {
                        let e = m.entry(k).and_modify(|x| *x = v);
                        let got = *e.or_insert(v)?;
                        model.insert(k, v);
                        assert_eq!(got, v);
                    }
                    60..=66 => match m.get_mut(&k) {
                        Some(x) => {
                            *x = v;
                            model.insert(k, v).expect("present in the model");
                        }
                        None => assert!(!model.map.contains_key(&k)),
                    },
                    67..=68 => {
                        let want = model.map.first_key_value().map(|(a, b)| (*a, *b));
                        if let Some((a, _)) = want {
                            model.remove(&a);
                        }
                        assert_eq!(m.pop_first()?, want);
                    }
                    69..=70 => {
                        let want = model.map.last_key_value().map(|(a, b)| (*a, *b));
                        if let Some((a, _)) = want {
                            model.remove(&a);
                        }
                        assert_eq!(m.pop_last()?, want);
                    }
                    71 => {
                        let want = model.map.keys().next().copied();
                        match m.first_entry() {
                            Some(o) => {
                                assert_eq!(Some(*o.key()), want);
                                o.remove_with(|_, _| ())?;
                                model.remove(&want.unwrap());
                            }
                            None => assert_eq!(want, None),
                        }
                    }
                    72 => {
                        let want = model.map.keys().next_back().copied();
                        if let Some(mut o) = m.last_entry() {
                            assert_eq!(Some(*o.key()), want);
                            o.set(v)?;
                            model.insert(want.unwrap(), v);
                        }
                    }
                    73 if rng.chance(20) => {
                        // Retain drops one entry in `retain_div` (trees stay deep).
                        let salt = rng.next();
                        let keep = |i: u64| (i ^ salt) % cfg.retain_div != 0;
                        let mut seen = 0u64;
                        let mut dropped = Vec::new();
                        m.retain(|key, _| {
                            seen += 1;
                            let kk = keep(seen);
                            if !kk {
                                dropped.push(*key);
                            }
                            kk
                        })?;
                        assert_eq!(seen as usize, model.map.len());
                        for d in dropped {
                            model.remove(&d).expect("retained key in the model");
                        }
                    }
                    74 => {
                        let extra: Vec<(K, V)> = (0..rng.below(20))
                            .map(|_| ((cfg.k)(rng.below(cfg.keys)), (cfg.v)(rng.next())))
                            .collect();
                        for (a, b) in &extra {
                            model.insert(*a, *b);
                        }
                        m.extend(extra)?;
                    }
                    75 if rng.chance(5) => {
                        // Clear, then refill in the same transaction (a bulk load).
                        m.clear()?;
                        let all: Vec<K> = model.map.keys().copied().collect();
                        for a in all {
                            model.remove(&a);
                        }
                        for i in 0..cfg.keys / 2 {
                            let (a, b) = ((cfg.k)(i * 2), (cfg.v)(i));
                            m.insert(a, b)?;
                            model.insert(a, b);
                        }
                    }
                    81 => {
                        let b = (cfg.k)(rng.below(cfg.keys));
                        let (lo, hi) = if k <= b { (k, b) } else { (b, k) };
                        let keys: Vec<K> = model.map.range(lo..=hi).map(|(a, _)| *a).collect();
                        let mut seen = Vec::new();
                        for (key, val) in m.range_mut(lo..=hi) {
                            *val = v;
                            seen.push(*key);
                        }
                        assert_eq!(seen, keys);
                        for a in keys {
                            model.insert(a, v);
                        }
                    }
                    82 => {
                        let b = (cfg.k)(rng.below(cfg.keys));
                        let (lo, hi) = if k <= b { (k, b) } else { (b, k) };
                        let salt = rng.next();
                        let pick = |i: usize| (i as u64 ^ salt) % 3 == 0;
                        let stop = rng.below(8) as usize;
                        let mut want = Vec::new();
                        for (i, (a, b)) in model.map.range(lo..hi).enumerate() {
                            if want.len() == stop {
                                break;
                            }
                            if pick(i) {
                                want.push((*a, *b));
                            }
                        }
                        let mut i = 0;
                        let got: Vec<(K, V)> = m
                            .extract_if(lo..hi, |_, _| {
                                i += 1;
                                pick(i - 1)
                            })
                            .take(stop)
                            .collect();
                        assert_eq!(got, want);
                        for (a, _) in got {
                            model.remove(&a);
                        }
                    }
                    83 if rng.chance(10) => {
                        let want: Vec<(K, V)> =
                            model.map.range(k..).map(|(a, b)| (*a, *b)).collect();
                        let got: Vec<(K, V)> = m.split_off(&k)?.into_iter().collect();
                        assert_eq!(got, want);
                        for (a, _) in got {
                            model.remove(&a);
                        }
                    }
                    84 => {
                        let want = if rng.chance(50) {
                            let w = model.map.first_key_value().map(|(a, b)| (*a, *b));
                            assert_eq!(m.pop_first_with(|a, b| (*a, *b))?, w);
                            w
                        } else {
                            let w = model.map.last_key_value().map(|(a, b)| (*a, *b));
                            assert_eq!(m.pop_last_with(|a, b| (*a, *b))?, w);
                            w
                        };
                        if let Some((a, _)) = want {
                            model.remove(&a);
                        }
                    }
                    76..=80 => {
                        assert_eq!(m.get(&k), model.map.get(&k));
                        assert_eq!(m.contains_key(&k), model.map.contains_key(&k));
                        assert_eq!(m.get_key_value(&k), model.map.get_key_value(&k));
                    }
                    85..=93 => {
                        let b = (cfg.k)(rng.below(cfg.keys));
                        let (lo, hi) = if k <= b { (k, b) } else { (b, k) };
                        let (lo, hi) = (bound(&mut rng, lo), bound(&mut rng, hi));
                        if matches!((lo, hi), (Bound::Excluded(x), Bound::Excluded(y)) if x == y) {
                            continue;
                        }
                        let mut ours = m.range((lo, hi));
                        let mut theirs = model.map.range((lo, hi));
                        for _ in 0..24 {
                            if rng.chance(50) {
                                assert_eq!(ours.next(), theirs.next());
                            } else {
                                assert_eq!(ours.next_back(), theirs.next_back());
                            }
                        }
                    }
                    94..=95 => {
                        let mut ours = m.iter();
                        let mut theirs = model.map.iter();
                        assert_eq!(ours.len(), theirs.len());
                        loop {
                            let (a, b) = if rng.chance(50) {
                                (ours.next(), theirs.next())
                            } else {
                                (ours.next_back(), theirs.next_back())
                            };
                            assert_eq!(a, b);
                            assert_eq!(ours.len(), theirs.len());
                            if a.is_none() {
                                break;
                            }
                        }
                    }
                    96 => {
                        let front = rng.chance(50);
                        let want: Vec<K> = if front {
                            model.map.keys().take(20).copied().collect()
                        } else {
                            model.map.keys().rev().take(20).copied().collect()
                        };
                        let mut touched = Vec::new();
                        let it = m.iter_mut();
                        let it: Box<dyn Iterator<Item = (&K, &mut V)>> = if front {
                            Box::new(it)
                        } else {
                            Box::new(it.rev())
                        };
                        for (key, val) in it.take(20) {
                            *val = v;
                            touched.push(*key);
                        }
                        assert_eq!(touched, want);
                        for key in touched {
                            model.insert(key, v);
                        }
                    }
                    _ => {
                        assert_eq!(m.first_key_value(), model.map.first_key_value());
                        assert_eq!(m.last_key_value(), model.map.last_key_value());
                        assert_eq!(m.keys().next_back(), model.map.keys().next_back());
                        assert_eq!(m.values().next(), model.map.values().next());
                    }
                }
            }
            if abort {
                return Err(TxErr::Abort);
            }
            Ok(())
        });
        match r {
            Ok(()) => model.commit(),
            Err(TxErr::Abort) => {
                model.abort();
                aborts += 1;
            }
            Err(TxErr::Pmem(e)) => panic!("pmem error: {e}"),
        }
        done += n_ops;
        batches += 1;
        if batches % 32 == 0 {
            pool.read(|r| compare_all(map(r), &model.map)).unwrap();
            max_height = max_height.max(pool.read(|r| map(r).height()).unwrap());
        }
        if batches % 64 == 0 {
            pool.check().unwrap();
        }
    }
    pool.read(|r| compare_all(map(r), &model.map)).unwrap();
    pool.check().unwrap();
    assert!(aborts > 0);
    let height = pool.read(|r| map(r).height()).unwrap();
    assert!(
        max_height >= cfg.min_height,
        "the tree never grew to {} inner levels",
        cfg.min_height
    );
    println!("{done} ops in {batches} transactions ({aborts} rolled back), height up to {max_height}, final {height} with {} entries", model.map.len());
    done
}

#[test]
fn the_shipped_node_size_matches_std_under_random_operations_with_aborts() {
    let cfg = Cfg {
        caps: None,
        keys: 20_000,
        ops: 60_000,
        preload: 12_000,
        seed: 0x1234_5678,
        min_height: 2,
        retain_div: 500,
        k: key24,
        v: val150,
    };
    let ops = run(&cfg);
    println!("ops checked (PBTreeMap, shipped nodes): {ops}");
}

#[test]
fn tiny_nodes_match_std_under_random_operations_with_aborts() {
    let mut total = 0;
    for (seed, caps) in [(7u64, (4, 4)), (11, (5, 4)), (13, (4, 7))] {
        let cfg = Cfg {
            caps: Some(caps),
            keys: 500,
            ops: 20_000,
            preload: 300,
            seed,
            min_height: 3,
            retain_div: 8,
            k: |n| n,
            v: |n| n,
        };
        total += run(&cfg);
    }
    println!("ops checked (PBTreeMap, tiny nodes): {total}");
}

#[test]
fn small_values_and_a_dense_key_space_match_std() {
    let cfg = Cfg {
        caps: Some((6, 5)),
        keys: 60,
        ops: 4000,
        preload: 0,
        seed: 99,
        min_height: 1,
        retain_div: 8,
        k: |n| n as u16,
        v: |n| n as u8,
    };
    run(&cfg);
}

/// Leaf fill (entries per leaf over capacity) after building a tree in `order`.
fn fill(keys: impl Iterator<Item = u64>) -> f64 {
    let mut pool = Pool::<PBTreeMap<u64, [u8; 150]>>::volatile().unwrap();
    let mut n = 0u64;
    pool.tx(|tx| {
        let m = tx.root_mut();
        for k in keys {
            m.insert(k, val150(k))?;
            n += 1;
        }
        Ok::<_, pmem_core::Error>(())
    })
    .unwrap();
    pool.check().unwrap();
    // Allocations: the root, the leaves and a few inner nodes (one per ~100 leaves).
    let nodes = pool.stats().unwrap().allocations - 1;
    let leaves = nodes as f64 * 0.99;
    n as f64 / (leaves * 25.0) // 25 entries of 8 + 150 bytes fit a 4 KiB leaf
}

#[test]
fn random_inserts_fill_leaves_to_at_least_85_percent_and_sequential_ones_to_95() {
    let mut rng = Rng(5);
    let random = fill((0..30_000).map(|_| rng.next()));
    let sequential = fill(0..30_000);
    let descending = fill((0..30_000).rev());
    println!(
        "leaf fill: random {random:.3}, ascending {sequential:.3}, descending {descending:.3}"
    );
    assert!(random >= 0.85, "random inserts fill {random:.3}");
    assert!(sequential >= 0.95, "ascending inserts fill {sequential:.3}");
    assert!(
        descending >= 0.70,
        "descending inserts fill {descending:.3}"
    );
}
