//! Compaction (`pmem::compact`): after deleting 99% of a large map the compacted file
//! is within 1.2 × (live data + fixed overhead), the contents of every shape of graph
//! (boxes, options, vectors, strings, maps, sets, enums, a recursive list) survive the
//! copy exactly and `check()` passes, and what cannot be compacted (a graph holding a
//! non-owning `PPtr`, a pool open elsewhere) is refused with a typed error, leaving the
//! pool as it was. Crash states of a compaction are enumerated in `tests/power_loss.rs`.

mod common;
use common::Dir;

use pmem::compact::{compact, compact_pool, compact_untyped};
use pmem::{
    Error, PBTreeMap, PBTreeSet, PBox, PHashMap, PHashSet, PPtr, PString, PVec, Persistent, Pool,
    PoolOptions,
};

fn dir(name: &str) -> Dir {
    Dir::new("compact", name)
}

/// Small pools start small, so that the fixed overhead does not hide what compaction
/// leaves behind.
fn opts() -> PoolOptions {
    PoolOptions::new().initial_size(64 << 10)
}

fn file_size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

/// The live data of `keep` entries: the bytes a pool built fresh with exactly them
/// (reserved up front, no deletion ever) has allocated, and the fixed overhead: the
/// file size of an empty pool of the same type, closed.
fn live_and_fixed<R: Persistent + Default>(
    d: &Dir,
    fill: impl FnOnce(&mut Pool<R>) -> pmem::Result<()>,
) -> (u64, u64) {
    let empty = d.path("empty.pool");
    opts().create::<R>(&empty).unwrap().close().unwrap();
    let fixed = file_size(&empty);
    let reference = d.path("reference.pool");
    let mut p = opts().create::<R>(&reference).unwrap();
    fill(&mut p).unwrap();
    let live = p.stats().unwrap().allocated_bytes;
    p.close().unwrap();
    (live, fixed)
}

fn a_99_percent_deleted_hash_map_compacts_to_its_live_data(n: u64) {
    let d = dir(&format!("hash-{n}"));
    let path = d.path("m.pool");
    let mut pool = opts().create::<PHashMap<u64, u64>>(&path).unwrap();
    for chunk in (0..n).collect::<Vec<_>>().chunks(100_000) {
        pool.tx(|tx| {
            chunk
                .iter()
                .try_for_each(|&i| tx.root_mut().insert(i, !i).map(drop))
        })
        .unwrap();
    }
    pool.tx(|tx| tx.root_mut().retain(|k, _| k % 100 == 0))
        .unwrap();
    pool.close().unwrap();
    let before = file_size(&path);

    let report = compact::<PHashMap<u64, u64>>(&path, &opts()).unwrap();
    assert_eq!(report.bytes_before, before);
    assert_eq!(report.bytes_after, file_size(&path));

    let (live, fixed) = live_and_fixed::<PHashMap<u64, u64>>(&d, |p| {
        p.tx(|tx| {
            tx.root_mut().reserve((n / 100) as usize)?;
            (0..n)
                .step_by(100)
                .try_for_each(|i| tx.root_mut().insert(i, !i).map(drop))
        })
    });
    let bound = (live + fixed) * 12 / 10;
    println!(
        "compacted {n}-entry map, 99% deleted: {before} -> {} bytes (live {live} + fixed {fixed}, bound {bound})",
        report.bytes_after
    );
    assert!(
        before > bound,
        "the uncompacted file already meets the bound"
    );
    assert!(
        report.bytes_after <= bound,
        "compacted file {} > 1.2 × (live {live} + fixed {fixed})",
        report.bytes_after
    );

    let pool = Pool::<PHashMap<u64, u64>>::open(&path).unwrap();
    pool.check().unwrap();
    pool.read(|m| {
        assert_eq!(m.len() as u64, n.div_ceil(100));
        for i in (0..n).step_by(100) {
            assert_eq!(m.get(&i), Some(&!i), "key {i}");
        }
        assert_eq!(m.get(&1), None);
    })
    .unwrap();
}

#[test]
fn a_hash_map_of_100k_entries_99_percent_deleted_compacts_to_within_1_2_of_its_live_data() {
    a_99_percent_deleted_hash_map_compacts_to_its_live_data(100_000);
}

#[test]
#[cfg_attr(debug_assertions, ignore = "1M entries: run with --release")]
fn a_hash_map_of_1m_entries_99_percent_deleted_compacts_to_within_1_2_of_its_live_data() {
    a_99_percent_deleted_hash_map_compacts_to_its_live_data(1_000_000);
}

#[test]
fn a_b_tree_of_100k_entries_99_percent_deleted_compacts_to_within_1_2_of_its_live_data() {
    let n = 100_000u64;
    let d = dir("btree");
    let path = d.path("t.pool");
    let mut pool = opts().create::<PBTreeMap<u64, u64>>(&path).unwrap();
    pool.tx(|tx| (0..n).try_for_each(|i| tx.root_mut().insert(i * 7919 % n, i).map(drop)))
        .unwrap();
    pool.tx(|tx| tx.root_mut().retain_ref(|k, _| k % 100 == 0))
        .unwrap();
    pool.close().unwrap();
    let before = file_size(&path);
    let report = compact::<PBTreeMap<u64, u64>>(&path, &opts()).unwrap();
    let (live, fixed) = live_and_fixed::<PBTreeMap<u64, u64>>(&d, |p| {
        p.tx(|tx| {
            (0..n)
                .step_by(100)
                .try_for_each(|i| tx.root_mut().insert(i, i).map(drop))
        })
    });
    let bound = (live + fixed) * 12 / 10;
    println!(
        "compacted {n}-entry B-tree, 99% deleted: {before} -> {} bytes (live {live} + fixed {fixed}, bound {bound})",
        report.bytes_after
    );
    assert!(
        before > bound,
        "the uncompacted file already meets the bound"
    );
    assert!(report.bytes_after <= bound);
    let pool = Pool::<PBTreeMap<u64, u64>>::open(&path).unwrap();
    pool.check().unwrap();
    pool.read(|m| {
        assert_eq!(m.len() as u64, n / 100);
        assert!(m.keys().copied().eq((0..n).step_by(100)));
    })
    .unwrap();
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Node {
    value: u32,
    next: Option<PBox<Node>>,
}

#[derive(Persistent, Default)]
#[repr(u8)]
enum Shape {
    #[default]
    Empty,
    Named(PString),
    Pair {
        a: u64,
        b: PVec<u16>,
    },
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Everything {
    id: u64,
    name: PString,
    boxed: Option<PBox<PVec<PString>>>,
    by_name: PHashMap<PString, PVec<u32>>,
    ordered: PBTreeMap<u64, PString>,
    tags: PHashSet<PString>,
    seen: PBTreeSet<u32>,
    shapes: PVec<Shape>,
    list: Option<PBox<Node>>,
    flag: bool,
}

/// The contents of an `Everything` as plain values.
fn contents(e: &Everything) -> String {
    let mut by_name: Vec<_> = e
        .by_name
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_vec()))
        .collect();
    by_name.sort();
    let mut tags: Vec<_> = e.tags.iter().map(ToString::to_string).collect();
    tags.sort();
    let shapes: Vec<String> = e
        .shapes
        .iter()
        .map(|s| match s {
            Shape::Empty => "empty".into(),
            Shape::Named(n) => format!("named {n}"),
            Shape::Pair { a, b } => format!("pair {a} {:?}", b.to_vec()),
        })
        .collect();
    let mut list = Vec::new();
    let mut at = e.list.as_deref();
    while let Some(n) = at {
        list.push(n.value);
        at = n.next.as_deref();
    }
    format!(
        "{} {} {:?} {by_name:?} {:?} {tags:?} {:?} {shapes:?} {list:?} {}",
        e.id,
        e.name,
        e.boxed
            .as_deref()
            .map(|v| v.iter().map(ToString::to_string).collect::<Vec<_>>()),
        e.ordered
            .iter()
            .map(|(k, v)| (*k, v.to_string()))
            .collect::<Vec<_>>(),
        e.seen.iter().collect::<Vec<_>>(),
        e.flag
    )
}

fn fill_everything(pool: &mut Pool<Everything>) {
    pool.tx(|tx| {
        let r = tx.root_mut();
        *r.id_mut() = 42;
        r.name_mut().push_str("everything")?;
        let b = r.boxed_mut().insert(PVec::new())?;
        for i in 0..50 {
            b.push(format!("boxed {i}"))?;
        }
        for i in 0..300u32 {
            let name = format!("key {i}");
            r.by_name_mut()
                .set(name.as_str(), (0..i % 7).collect::<Vec<u32>>())?;
            r.ordered_mut().set(u64::from(i) * 3, format!("v{i}"))?;
            r.tags_mut().insert(format!("tag {}", i % 40))?;
            r.seen_mut().insert(i * 11 % 97)?;
        }
        r.shapes_mut().push(Shape::Empty)?;
        r.shapes_mut().push(Shape::Named(PString::new()))?;
        for i in 0..20u16 {
            r.shapes_mut().push(Shape::Pair {
                a: u64::from(i),
                b: PVec::new(),
            })?;
        }
        *r.flag_mut() = true;
        // A recursive list of 200 nodes.
        let mut at = r.list_mut().insert(Node::default())?;
        for v in 1..200 {
            at = at.next_mut().insert(Node {
                value: v,
                next: None,
            })?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    // Garbage: delete most of it again.
    pool.tx(|tx| {
        let r = tx.root_mut();
        r.by_name_mut().retain(|_, v| v.len() % 2 == 0)?;
        r.ordered_mut().retain_ref(|k, _| k % 2 == 0)?;
        r.boxed_mut().as_mut().unwrap().truncate(5)?;
        Ok::<_, Error>(())
    })
    .unwrap();
}

#[test]
fn a_compacted_graph_of_every_shape_holds_the_same_contents() {
    let d = dir("everything");
    let path = d.path("e.pool");
    let mut pool = Pool::<Everything>::create(&path).unwrap();
    fill_everything(&mut pool);
    let want = pool.read(contents).unwrap();
    let before = pool.check().unwrap();

    let pool = compact_pool(pool, &PoolOptions::new()).unwrap();
    assert_eq!(pool.read(contents).unwrap(), want);
    let after = pool.check().unwrap();
    // B-tree nodes refilled in key order and buffers cut to length: never more.
    assert!(after.allocations <= before.allocations);
    assert!(after.allocated_bytes <= before.allocated_bytes);
    // Tight: the truncated vector's capacity is its length.
    pool.read(|e| {
        let v = e.boxed.as_deref().unwrap();
        assert_eq!((v.len(), v.capacity()), (5, 5));
    })
    .unwrap();
    drop(pool);
    // Compacting a compacted pool changes nothing it holds.
    compact::<Everything>(&path, &PoolOptions::new()).unwrap();
    let pool = Pool::<Everything>::open(&path).unwrap();
    assert_eq!(pool.read(contents).unwrap(), want);
    pool.check().unwrap();
}

/// The same graph compacted by its stored schema alone (`compact_untyped`, what
/// `pmem compact` runs): enums with owned fields, boxed vectors of strings, maps with
/// vector values and a recursive list come out equal, with vectors cut to length.
#[test]
fn the_untyped_compaction_of_a_graph_of_every_shape_holds_the_same_contents() {
    let d = dir("everything-untyped");
    let path = d.path("e.pool");
    let mut pool = Pool::<Everything>::create(&path).unwrap();
    fill_everything(&mut pool);
    let want = pool.read(contents).unwrap();
    let before = pool.check().unwrap();
    pool.close().unwrap();
    compact_untyped(&path, &PoolOptions::new()).unwrap();
    let pool = Pool::<Everything>::open(&path).unwrap();
    assert_eq!(pool.read(contents).unwrap(), want);
    let after = pool.check().unwrap();
    assert_eq!(after.allocations, before.allocations);
    assert!(after.allocated_bytes < before.allocated_bytes);
    pool.read(|e| {
        let v = e.boxed.as_deref().unwrap();
        assert_eq!((v.len(), v.capacity()), (5, 5));
        assert_eq!(e.by_name.get("key 2").map(|v| v.to_vec()), Some(vec![0, 1]));
    })
    .unwrap();
}

#[derive(Persistent, Default)]
#[repr(C)]
struct WithPointer {
    items: PVec<u64>,
    first: PPtr<u64>,
}

#[test]
fn a_graph_holding_a_non_owning_pointer_is_refused_and_left_as_it_was() {
    let d = dir("pptr");
    let path = d.path("p.pool");
    let mut pool = Pool::<WithPointer>::create(&path).unwrap();
    pool.tx(|tx| {
        tx.root_mut().items_mut().extend([1, 2, 3])?;
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.close().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let e = compact::<WithPointer>(&path, &PoolOptions::new()).unwrap_err();
    assert!(
        matches!(e, Error::NotRelocatable { type_name: "PPtr" }),
        "{e:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert!(!d.path("p.pool.compacting").exists());
    let pool = Pool::<WithPointer>::open(&path).unwrap();
    assert_eq!(pool.read(|r| r.items.to_vec()).unwrap(), [1, 2, 3]);
}

#[test]
fn a_pool_open_elsewhere_is_not_compacted() {
    let d = dir("locked");
    let path = d.path("l.pool");
    let mut pool = Pool::<PVec<u64>>::create(&path).unwrap();
    pool.tx(|tx| tx.root_mut().extend(0..100)).unwrap();
    let other = pool.clone();
    let e = compact_pool(pool, &PoolOptions::new()).unwrap_err();
    assert!(matches!(e, Error::Locked { .. }), "{e:?}");
    assert_eq!(other.read(|v| v.len()).unwrap(), 100);
    let e = compact::<PVec<u64>>(&path, &PoolOptions::new()).unwrap_err();
    assert!(matches!(e, Error::Locked { .. }), "{e:?}");
}

#[test]
fn compacting_as_the_wrong_type_changes_nothing() {
    let d = dir("wrong");
    let path = d.path("w.pool");
    Pool::<u64>::create(&path).unwrap().close().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let e = compact::<u32>(&path, &PoolOptions::new()).unwrap_err();
    assert!(matches!(e, Error::TypeMismatch { .. }), "{e:?}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn a_list_of_100k_boxes_is_compacted_without_running_out_of_stack() {
    let d = dir("deep");
    let path = d.path("l.pool");
    let mut pool = Pool::<Node>::create(&path).unwrap();
    pool.tx(|tx| {
        let mut at = tx.root_mut().next_mut().insert(Node::default())?;
        for v in 1..100_000 {
            at = at.next_mut().insert(Node {
                value: v,
                next: None,
            })?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.close().unwrap();
    compact::<Node>(&path, &PoolOptions::new()).unwrap();
    let pool = Pool::<Node>::open(&path).unwrap();
    pool.check().unwrap();
    let (count, last) = pool
        .read(|n| {
            let (mut count, mut last, mut at) = (0u32, 0, n.next.as_deref());
            while let Some(n) = at {
                count += 1;
                last = n.value;
                at = n.next.as_deref();
            }
            (count, last)
        })
        .unwrap();
    assert_eq!((count, last), (100_000, 99_999));
}
