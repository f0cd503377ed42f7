//! Crash-state enumeration (the core's harness) over every mutating method of
//! `PBTreeMap` and `PBTreeSet`: each step is one transaction, and every crash image at
//! every persistence point must recover to the state before or after the step in
//! flight, pass `pool.check()` (which verifies the tree), and keep every acknowledged
//! step. The steps are chosen so that inserts split leaves and inner nodes, share
//! entries with siblings and grow the root, and removals borrow, merge and shrink it.

mod btree_common;

use btree_common::{owned_val, BoxKey, BoxOf, Boxed, Owned};
use pmem_collections::{PBTreeMap, PBTreeMapMut, PBTreeSet, PBTreeSetMut, PBox, PVec, PVecMut};
use pmem_core::crash::{check_crash_states, CrashConfig, CrashReport, Step};
use pmem_core::{Durability, Error, Pool};

type Small = Boxed<u64, u64>;
type State = (usize, Vec<(u64, u64)>);

fn observe(r: &Small) -> State {
    r.as_deref().map_or((0, Vec::new()), |m| {
        (m.height(), m.iter().map(|(k, v)| (*k, *v)).collect())
    })
}

fn step<R: 'static>(f: impl FnOnce(&mut Pool<R>) + 'static) -> Step<R> {
    Box::new(f)
}

/// One transaction on the small-node map.
fn on_map(
    f: impl FnOnce(&mut PBTreeMapMut<u64, u64>) -> Result<(), Error> + 'static,
) -> Step<Small> {
    step(move |p: &mut Pool<Small>| p.tx(|tx| f(tx.root_mut().as_mut().unwrap())).unwrap())
}

fn setup_small(keys: impl Iterator<Item = u64> + 'static) -> impl FnOnce(&mut Pool<Small>) {
    move |p| {
        p.tx(|tx| {
            let m = tx.root_mut().insert(PBTreeMap::with_node_capacity(4, 4))?;
            for k in keys {
                m.insert(k, k * 10)?;
            }
            Ok::<_, Error>(())
        })
        .unwrap();
    }
}

/// Steps that walk a small-node tree through every structural change: growth by
/// inserts (splits, shares, new roots), point removals (borrows, merges), the
/// end-removals, retain, entry writes, clear, and a shrink back to one leaf.
fn small_steps() -> Vec<Step<Small>> {
    let mut steps = Vec::new();
    for k in [5u64, 7, 9, 11, 13, 15, 17, 19, 21, 23, 1, 3, 25, 27, 29, 31] {
        steps.push(on_map(move |m| m.insert(k, k).map(|_| ())));
    }
    steps.push(on_map(|m| m.extend((40..100).map(|k| (k, k)))));
    for k in [6u64, 8, 12, 14, 40, 41, 42, 43, 44] {
        steps.push(on_map(move |m| m.remove(&k).map(|_| ())));
    }
    steps.push(on_map(|m| m.pop_first().map(|_| ())));
    steps.push(on_map(|m| m.pop_last().map(|_| ())));
    steps.push(on_map(|m| {
        *m.entry(100).or_insert(1)? += 1;
        *m.get_mut(&5).unwrap() = 55;
        m.first_entry().unwrap().remove_with(|_, _| ())
    }));
    steps.push(on_map(|m| m.retain(|k, _| k % 3 != 0)));
    for k in [9u64, 10, 11, 13, 15, 16, 17, 18, 19, 20, 21] {
        steps.push(on_map(move |m| m.remove_with(&k, |_, _| ()).map(|_| ())));
    }
    steps.push(on_map(|m| m.retain(|k, _| *k < 30 || *k > 96)));
    for _ in 0..4 {
        steps.push(on_map(|m| m.pop_last().map(|_| ())));
    }
    steps.push(on_map(PBTreeMapMut::clear));
    steps.push(on_map(|m| m.extend((0..12).map(|k| (k, k)))));
    steps.push(on_map(|m| {
        Extend::extend(m, (40..80).map(|k| (k, k)));
        m.range_mut(50..60).for_each(|(_, v)| *v += 1);
        Ok(())
    }));
    steps.push(on_map(|m| {
        let _ = m
            .extract_if(45..75, |k, v| {
                *v += 1;
                k % 3 == 0
            })
            .count();
        // Stopped early: the rest of the range stays.
        let _ = m.extract_if(.., |_, _| true).nth(2);
        Ok(())
    }));
    steps.push(on_map(|m| m.split_off(&70).map(drop)));
    steps.push(on_map(|m| {
        m.pop_first_with(|_, _| ())?;
        m.pop_last_with(|_, _| ()).map(drop)
    }));
    steps
}

fn report(name: &str, r: &[CrashReport]) -> u64 {
    let images: u64 = r.iter().map(|r| r.images).sum();
    println!("crash images checked ({name}): {images}");
    assert!(r.iter().all(|r| r.crash_points > 0));
    images
}

/// The heights the small-node steps go through on a volatile pool: they must grow the
/// tree to three levels and shrink it back, so the crash runs cover root changes.
#[test]
fn the_small_node_steps_grow_and_shrink_the_root() {
    let mut pool = Pool::<Small>::volatile().unwrap();
    setup_small((0..8).map(|k| k * 2))(&mut pool);
    let mut heights = vec![pool.read(|r| observe(r).0).unwrap()];
    for s in small_steps() {
        s(&mut pool);
        pool.check().unwrap();
        heights.push(pool.read(|r| observe(r).0).unwrap());
    }
    let top = *heights.iter().max().unwrap();
    assert!(top >= 3, "heights {heights:?}");
    println!("heights {heights:?}");
    assert!(
        heights.windows(2).any(|w| w[1] < w[0]) && heights.windows(2).any(|w| w[1] > w[0]),
        "heights {heights:?}"
    );
}

fn small_run(durability: Durability, seed: u64) {
    // Process mode syncs only at checkpoints, so many writes are pending at each point:
    // fewer pairs and random images keep the run within a few seconds of the Full one.
    let (max_pairs, random_images) = if durability.survives_power_loss() {
        (24, 8)
    } else {
        (4, 2)
    };
    let cfg = CrashConfig {
        durability,
        seed,
        max_pairs,
        random_images,
        checkpoint_threshold: 4 << 10,
        ..CrashConfig::default()
    };
    let r = check_crash_states(
        &cfg,
        setup_small((0..8).map(|k| k * 2)),
        small_steps(),
        observe,
    )
    .unwrap_or_else(|e| panic!("{durability:?}: {e}"));
    assert!(r.recovery_images > 0);
    let n = report(&format!("PBTreeMap, {durability:?}"), &[r]);
    assert!(n >= 300, "only {n} images");
}

#[test]
fn every_crash_image_of_small_node_map_changes_recovers_to_a_step_boundary() {
    small_run(Durability::Full, 3);
}

#[test]
fn every_crash_image_of_small_node_map_changes_recovers_to_a_step_boundary_in_process_mode() {
    small_run(Durability::Process, 5);
}

type Wide = Option<PBox<PBTreeMap<u64, [u8; 150]>>>;
type WideOp = fn(&mut PBTreeMapMut<u64, [u8; 150]>) -> Result<(), Error>;

fn observe_wide(r: &Wide) -> (usize, Vec<(u64, u8)>) {
    r.as_deref().map_or((0, Vec::new()), |m| {
        (m.height(), m.iter().map(|(k, v)| (*k, v[149])).collect())
    })
}

#[test]
fn every_crash_image_of_shipped_node_map_changes_recovers_to_a_step_boundary() {
    let wide = |f: WideOp| {
        step(move |p: &mut Pool<Wide>| p.tx(|tx| f(tx.root_mut().as_mut().unwrap())).unwrap())
    };
    let setup = |p: &mut Pool<Wide>| {
        p.tx(|tx| {
            let m = tx.root_mut().insert(PBTreeMap::new())?;
            m.extend((0..60).map(|k| (k * 4, [k as u8; 150])))
        })
        .unwrap();
    };
    let steps = vec![
        // Fill the last leaf past its capacity: an append split keeps the left leaf full.
        wide(|m| m.extend((240..260).map(|k| (k, [1; 150])))),
        // Inserts into full leaves: shared with a sibling, or split.
        wide(|m| m.extend((0..30).map(|k| (k * 4 + 1, [2; 150])))),
        wide(|m| m.insert(2, [3; 150]).map(|_| ())),
        wide(|m| m.insert(6, [4; 150]).map(|_| ())),
        // Removals: borrows, merges, a separator replaced by its successor.
        wide(|m| m.retain(|k, _| k % 4 != 0)),
        wide(|m| m.remove(&1).map(|_| ())),
        wide(|m| m.pop_last().map(|_| ())),
        wide(|m| m.pop_first().map(|_| ())),
        // Shrink to one leaf, then to nothing.
        wide(|m| m.retain(|k, _| *k < 40)),
        wide(PBTreeMapMut::clear),
    ];
    let cfg = CrashConfig {
        seed: 17,
        ..CrashConfig::default()
    };
    let r = check_crash_states(&cfg, setup, steps, observe_wide).unwrap_or_else(|e| panic!("{e}"));
    report("PBTreeMap, shipped nodes", &[r]);
}

type OwnedMap = Option<PBox<PBTreeMap<BoxKey, Owned>>>;

fn observe_owned(r: &OwnedMap) -> Vec<(u64, u64)> {
    r.as_deref().map_or(Vec::new(), |m| {
        m.iter().map(|(k, v)| (k.get(), owned_val(v))).collect()
    })
}

#[test]
fn every_crash_image_of_owned_keys_and_values_recovers_without_leaks() {
    let on = |f: fn(&mut PBTreeMapMut<BoxKey, Owned>) -> Result<(), Error>| {
        step(move |p: &mut Pool<OwnedMap>| p.tx(|tx| f(tx.root_mut().as_mut().unwrap())).unwrap())
    };
    let setup = |p: &mut Pool<OwnedMap>| {
        p.tx(|tx| {
            let m = tx.root_mut().insert(PBTreeMap::with_node_capacity(4, 4))?;
            for k in 0..20u64 {
                m.set(k * 2, BoxOf(k))?;
            }
            Ok::<_, Error>(())
        })
        .unwrap();
    };
    let steps = vec![
        on(|m| m.set(5, BoxOf(50)).map(|_| ())),
        on(|m| m.set(4, BoxOf(40)).map(|_| ())),
        on(|m| m.remove_with(&0, |_, _| ()).map(|_| ())),
        on(|m| m.remove_with(&6, |_, _| ()).map(|_| ())),
        on(|m| m.entry(7).or_insert(BoxOf(70)).map(|_| ())),
        on(|m| m.retain(|k, _| k.get() % 4 != 0)),
        on(|m| m.last_entry().unwrap().set(BoxOf(1))),
        on(PBTreeMapMut::clear),
    ];
    let cfg = CrashConfig {
        seed: 23,
        ..CrashConfig::default()
    };
    let r = check_crash_states(&cfg, setup, steps, observe_owned).unwrap_or_else(|e| panic!("{e}"));
    report("PBTreeMap, owned keys and values", &[r]);
}

type Pair = PVec<PBTreeMap<BoxKey, Owned>>;

fn observe_pair(v: &Pair) -> Vec<Vec<(u64, u64)>> {
    v.iter()
        .map(|m| m.iter().map(|(k, v)| (k.get(), owned_val(v))).collect())
        .collect()
}

/// `append` moves owned keys and values between two maps of one pool: entry by entry
/// (overwriting and freeing on equal keys), or the whole tree into an empty map.
#[test]
fn every_crash_image_of_append_recovers_without_leaks() {
    fn two(
        v: &mut PVecMut<PBTreeMap<BoxKey, Owned>>,
    ) -> (
        &mut PBTreeMapMut<BoxKey, Owned>,
        &mut PBTreeMapMut<BoxKey, Owned>,
    ) {
        let mut it = v.iter_mut();
        (it.next().unwrap(), it.next().unwrap())
    }
    type Maps = PVecMut<PBTreeMap<BoxKey, Owned>>;
    let on = |f: fn(&mut Maps) -> Result<(), Error>| {
        step(move |p: &mut Pool<Pair>| p.tx(|tx| f(tx.root_mut())).unwrap())
    };
    let setup = |p: &mut Pool<Pair>| {
        p.tx(|tx| {
            let v = tx.root_mut();
            v.push(PBTreeMap::with_node_capacity(4, 4))?;
            v.push(PBTreeMap::with_node_capacity(4, 4))?;
            let (a, b) = two(v);
            for k in 0..12u64 {
                a.set(k * 2, BoxOf(k))?;
                b.set(k * 3, BoxOf(100 + k))?;
            }
            Ok::<_, Error>(())
        })
        .unwrap();
    };
    let steps = vec![
        on(|v| {
            let (a, b) = two(v);
            a.append(b) // entry by entry; equal keys take b's value
        }),
        on(|v| {
            let (a, b) = two(v);
            b.append(a) // into an empty map: the whole tree moves
        }),
        on(|v| {
            let (a, b) = two(v);
            a.set(1000, BoxOf(7))?;
            b.append(a)
        }),
    ];
    let cfg = CrashConfig {
        seed: 31,
        ..CrashConfig::default()
    };
    let r = check_crash_states(&cfg, setup, steps, observe_pair).unwrap_or_else(|e| panic!("{e}"));
    report("PBTreeMap::append", &[r]);
}

type SmallSet = Option<PBox<PBTreeSet<u32>>>;

#[test]
fn every_crash_image_of_set_changes_recovers_to_a_step_boundary() {
    let on = |f: fn(&mut PBTreeSetMut<u32>) -> Result<(), Error>| {
        step(move |p: &mut Pool<SmallSet>| p.tx(|tx| f(tx.root_mut().as_mut().unwrap())).unwrap())
    };
    let setup = |p: &mut Pool<SmallSet>| {
        p.tx(|tx| {
            tx.root_mut()
                .insert(PBTreeSet::with_node_capacity(4, 4))?
                .extend((0..30).map(|k| k * 3))
        })
        .unwrap();
    };
    let steps = vec![
        on(|s| s.extend([1, 4, 7, 10, 13])),
        on(|s| s.insert(2).map(|_| ())),
        on(|s| s.remove(&3).map(|_| ())),
        on(|s| s.take(&6).map(|_| ())),
        on(|s| s.pop_first().map(|_| ())),
        on(|s| s.pop_last().map(|_| ())),
        on(|s| s.retain(|x| x % 2 == 0)),
        on(|s| {
            s.replace(12)?;
            s.take_with(&18, |_| ())?;
            let _ = s.extract_if(20..60, |x| x % 4 == 0).count();
            s.split_off(&70).map(drop)
        }),
        on(|s| {
            Extend::extend(s, [1, 3, 5]);
            Ok(())
        }),
        on(PBTreeSetMut::clear),
    ];
    let cfg = CrashConfig {
        seed: 29,
        ..CrashConfig::default()
    };
    let observe = |r: &SmallSet| {
        r.as_deref()
            .map_or(Vec::new(), |s| s.iter().copied().collect::<Vec<u32>>())
    };
    let r = check_crash_states(&cfg, setup, steps, observe).unwrap_or_else(|e| panic!("{e}"));
    report("PBTreeSet", &[r]);
}
