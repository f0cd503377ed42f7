//! `pmem compact` on pools whose root is an application type, compacted by the stored
//! schema without the application's code (`pmem::compact::compact_untyped`,
//! ARCHITECTURE §15.5): after deleting 99% of every collection the file shrinks to
//! within 1.2 × a fresh pool of the same live data, every value reads back as the model
//! says (through iteration *and* lookups, which only a valid hash table and B-tree
//! answer), `check()` passes and typed transactions keep working on every collection;
//! a damaged pool is refused with a typed error, never a panic; a chain of 100,000 boxes
//! needs no deep recursion. `PPtr`s: `compact_untyped_pptr.rs`.

use pmem::compact::compact_untyped;
use pmem::{
    Error, PBTreeMap, PBTreeSet, PBox, PHashMap, PHashSet, PString, PVec, Persistent, Pool,
    PoolOptions,
};
use pmem_collections::inspect::{inspect, CollectionKind, ElemLayout, Inspector};

mod untyped;
use untyped::{file_size, name, new_item, off, pmem_compact, serial, tags, Dir, Item, Node};

#[derive(Persistent, Default)]
#[repr(C)]
struct App {
    count: u64,
    by_id: PBTreeMap<u64, Item>,
    by_name: PHashMap<PString, u64>,
    items: PVec<Item>,
    spare: Option<PBox<Item>>,
    none_box: Option<PBox<Item>>,
    list: Option<PBox<Node>>,
    seen: PHashSet<u64>,
    order: PBTreeSet<PString>,
    never: PVec<u64>,
    emptied: PVec<u64>,
    maybe: Option<u32>,
    flag: Option<bool>,
    nothing: Option<bool>,
    unit_box: Option<PBox<()>>,
}

/// Entries per collection before the deletions. Enough that the 1% left still spans
/// several B-tree leaves: the separators of a `PBTreeSet<PString>` alias their leaf
/// keys' buffers, which the copy moves (a smaller tree has no separators).
const N: u64 = 30_000;
const LIST: u64 = 1_000;

fn kept(i: u64) -> bool {
    i % 100 == 0
}

/// Everything an `App` holds, as plain values.
#[derive(Debug, PartialEq, Clone, Default)]
struct Snapshot {
    count: u64,
    by_id: Vec<(u64, u64, String, Vec<u32>)>,
    by_name: Vec<(String, u64)>,
    items: Vec<(u64, String, Vec<u32>)>,
    spare: Option<(u64, String, Vec<u32>)>,
    none_box: bool,
    list: Vec<u64>,
    seen: Vec<u64>,
    order: Vec<String>,
    never: (usize, usize),
    emptied: Vec<u64>,
    maybe: Option<u32>,
    flag: Option<bool>,
    nothing: Option<bool>,
    unit_box: bool,
}

fn item(it: &Item) -> (u64, String, Vec<u32>) {
    (it.id, it.name.to_string(), it.tags.to_vec())
}

fn snapshot(a: &App) -> Snapshot {
    let mut by_name: Vec<_> = a.by_name.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    by_name.sort();
    let mut seen: Vec<_> = a.seen.iter().copied().collect();
    seen.sort_unstable();
    let mut list = Vec::new();
    let mut at = a.list.as_deref();
    while let Some(n) = at {
        list.push(n.value);
        at = n.next.as_deref();
    }
    Snapshot {
        count: a.count,
        by_id: a
            .by_id
            .iter()
            .map(|(k, v)| {
                let (i, n, t) = item(v);
                (*k, i, n, t)
            })
            .collect(),
        by_name,
        items: a.items.iter().map(item).collect(),
        spare: a.spare.as_deref().map(item),
        none_box: a.none_box.is_none(),
        list,
        seen,
        order: a.order.iter().map(ToString::to_string).collect(),
        never: (a.never.len(), a.never.capacity()),
        emptied: a.emptied.to_vec(),
        maybe: a.maybe,
        flag: a.flag,
        nothing: a.nothing,
        unit_box: a.unit_box.is_some(),
    }
}

/// What must be left after the deletions, computed without any pool.
fn model() -> Snapshot {
    let live: Vec<u64> = (0..N).filter(|&i| kept(i)).collect();
    let mut by_name: Vec<_> = live.iter().map(|&i| (name(i), i)).collect();
    by_name.sort();
    let mut order: Vec<String> = live.iter().map(|&i| name(i)).collect();
    order.sort();
    Snapshot {
        count: live.len() as u64,
        by_id: live.iter().map(|&i| (i, i, name(i), tags(i))).collect(),
        by_name,
        items: live.iter().map(|&i| (i, name(i), tags(i))).collect(),
        spare: Some((7, "spare".into(), vec![7])),
        none_box: true,
        list: (0..10).collect(),
        seen: live.clone(),
        order,
        never: (0, 0),
        emptied: Vec::new(),
        maybe: Some(5),
        flag: Some(false),
        nothing: None,
        unit_box: true,
    }
}

/// Fills the live data of the model; `full` adds the 99% that is deleted again.
fn fill(pool: &mut Pool<App>, full: bool, reserve: (usize, usize)) {
    let step = if full { 1 } else { 100 };
    pool.tx(|tx| {
        let a = tx.root_mut();
        a.by_name_mut().reserve(reserve.0)?;
        a.seen_mut().reserve(reserve.1)?;
        for i in (0..N).step_by(step) {
            new_item(i)(a.by_id_mut().entry(i).or_default()?)?;
            a.by_name_mut().set(name(i).as_str(), i)?;
            new_item(i)(a.items_mut().push_mut(Item::default())?)?;
            a.seen_mut().insert(i)?;
            a.order_mut().insert(name(i).as_str())?;
        }
        let s = a.spare_mut().insert(Item::default())?;
        *s.id_mut() = 7;
        s.name_mut().push_str("spare")?;
        s.tags_mut().push(7)?;
        let mut at = a.list_mut().insert(Node::default())?;
        for v in 1..if full { LIST } else { 10 } {
            at = at.next_mut().insert(Node {
                value: v,
                next: None,
            })?;
        }
        if full {
            a.emptied_mut().extend(0..1_000)?;
            a.none_box_mut().insert(Item::default())?;
        }
        *a.maybe_mut() = Some(5);
        *a.flag_mut() = Some(false);
        a.unit_box_mut().insert(())?;
        *a.count_mut() = N.div_ceil(step as u64);
        Ok::<_, Error>(())
    })
    .unwrap();
    if !full {
        return;
    }
    pool.tx(|tx| {
        let a = tx.root_mut();
        a.by_id_mut().retain_ref(|k, _| kept(*k))?;
        a.by_name_mut().retain_ref(|_, v| kept(*v))?;
        a.items_mut().retain(|it| kept(it.id))?;
        a.seen_mut().retain(|v| kept(*v))?;
        a.order_mut().retain(|s| kept(s[5..].parse().unwrap()))?;
        // Cut the list after ten nodes.
        let mut at = a.list_mut().as_mut().unwrap();
        for _ in 0..9 {
            at = at.next_mut().as_mut().unwrap();
        }
        at.next_mut().clear()?;
        a.emptied_mut().clear()?;
        a.none_box_mut().clear()?;
        *a.count_mut() = N / 100;
        Ok::<_, Error>(())
    })
    .unwrap();
}

/// Looks every live key up: a hash table whose buckets moved, or a B-tree whose links
/// were not rewritten, fails here even where iteration succeeds.
fn lookups(a: &App, m: &Snapshot) {
    for (k, id, _, _) in &m.by_id {
        assert_eq!(a.by_id.get(k).map(|it| it.id), Some(*id));
    }
    for (k, v) in &m.by_name {
        assert_eq!(a.by_name.get(k.as_str()), Some(v), "by_name[{k}]");
    }
    for v in &m.seen {
        assert!(a.seen.contains(v), "seen {v}");
    }
    for s in &m.order {
        assert!(a.order.contains(s.as_str()), "order {s}");
    }
    assert!(a.by_name.get("item 2").is_none());
    assert!(!a.seen.contains(&2));
    assert!(a.by_id.get(&2).is_none());
}

/// The compacted set still has inner nodes, whose separators alias leaf keys.
fn set_has_inner_nodes(path: &std::path::Path) {
    let ins = Inspector::open(path).unwrap();
    let set = ins.root_offset() + std::mem::offset_of!(App, order) as u64;
    let c = inspect(
        &ins,
        CollectionKind::BTreeSet,
        set,
        &[ElemLayout::of::<PString>()],
    )
    .unwrap();
    assert!(c.buffers.len() >= 3, "{} nodes", c.buffers.len());
}

#[test]
fn an_application_root_of_every_collection_99_percent_deleted_compacts_to_its_live_data() {
    let _serial = serial();
    let d = Dir::new("app");
    let path = d.file("app.pool");
    let mut pool = Pool::<App>::create(&path).unwrap();
    fill(&mut pool, true, (0, 0));
    let want = model();
    assert_eq!(pool.read(snapshot).unwrap(), want);
    let caps = pool
        .read(|a| (a.by_name.capacity(), a.seen.capacity()))
        .unwrap();
    pool.close().unwrap();
    let before = file_size(&path);

    let r = pmem_compact(&path);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains("root App"), "{}", r.out);
    let after = file_size(&path);
    assert!(!d.file("app.pool.compacting").exists());

    // The same live data bulk-loaded into a fresh pool, its hash tables reserved to the
    // bucket counts the compaction keeps (it copies tables verbatim).
    let reference = d.file("reference.pool");
    let mut fresh = Pool::<App>::create(&reference).unwrap();
    fill(&mut fresh, false, caps);
    assert_eq!(fresh.read(snapshot).unwrap(), want);
    assert_eq!(
        fresh
            .read(|a| (a.by_name.capacity(), a.seen.capacity()))
            .unwrap(),
        caps
    );
    let ref_live = fresh.stats().unwrap().allocated_bytes;
    fresh.close().unwrap();
    let ref_file = file_size(&reference);

    set_has_inner_nodes(&path);
    let mut pool = Pool::<App>::open(&path).unwrap();
    let live = pool.stats().unwrap().allocated_bytes;
    println!(
        "untyped compaction of App ({N} entries per collection, 99% deleted): file {before} -> {after} bytes \
         (fresh pool of the same live data: {ref_file}); allocated {live} bytes (fresh: {ref_live})"
    );
    assert!(
        before > ref_file * 12 / 10,
        "the uncompacted file already meets the bound"
    );
    assert!(after <= ref_file * 12 / 10, "{after} > 1.2 × {ref_file}");
    assert!(live <= ref_live * 12 / 10, "{live} > 1.2 × {ref_live}");

    pool.check().unwrap();
    assert_eq!(pool.read(snapshot).unwrap(), want);
    pool.read(|a| lookups(a, &want)).unwrap();
    assert_eq!(
        pool.read(|a| (a.items.len(), a.items.capacity())).unwrap(),
        (N as usize / 100, N as usize / 100),
        "a vector's capacity is cut to its length"
    );
    assert_eq!(pool.read(|a| a.by_name.capacity()).unwrap(), caps.0);

    // Typed transactions on every collection of the compacted pool.
    pool.tx(|tx| {
        let a = tx.root_mut();
        new_item(1)(a.by_id_mut().entry(1).or_default()?)?;
        a.by_id_mut().remove_with(&0, |_, _| ())?;
        a.by_name_mut().set("new", 1)?;
        a.by_name_mut().remove("item 100")?;
        new_item(1)(a.items_mut().push_mut(Item::default())?)?;
        a.items_mut().remove_with(0, |_| ())?;
        a.seen_mut().insert(1)?;
        a.seen_mut().remove(&0)?;
        a.order_mut().insert("new")?;
        a.order_mut().remove("item 0")?;
        a.spare_mut().as_mut().unwrap().name_mut().push_str("!")?;
        *a.list_mut().as_mut().unwrap().value_mut() = 99;
        a.never_mut().push(1)?;
        a.emptied_mut().push(2)?;
        Ok::<_, Error>(())
    })
    .unwrap();
    let mut m = want;
    m.by_id.remove(0);
    m.by_id.insert(0, (1, 1, name(1), tags(1)));
    m.by_name.retain(|(k, _)| k != "item 100");
    m.by_name.push(("new".into(), 1));
    m.by_name.sort();
    m.items.remove(0);
    m.items.push((1, name(1), tags(1)));
    m.seen.retain(|&v| v != 0);
    m.seen.insert(0, 1);
    m.order.retain(|s| s != "item 0");
    m.order.push("new".into());
    m.order.sort();
    m.spare.as_mut().unwrap().1.push('!');
    m.list[0] = 99;
    m.never = (1, pool.read(|a| a.never.capacity()).unwrap());
    m.emptied = vec![2];
    drop(pool);
    let pool = Pool::<App>::open(&path).unwrap();
    pool.check().unwrap();
    assert_eq!(pool.read(snapshot).unwrap(), m);
    pool.read(|a| lookups(a, &m)).unwrap();
}

#[test]
fn a_damaged_pool_is_refused_with_a_typed_error_never_a_panic() {
    let _serial = serial();
    let d = Dir::new("damaged");
    let good = d.file("good.pool");
    let mut pool = Pool::<App>::create(&good).unwrap();
    pool.tx(|tx| {
        let a = tx.root_mut();
        for i in 0..50 {
            new_item(i)(a.by_id_mut().entry(i).or_default()?)?;
            a.by_name_mut().set(name(i).as_str(), i)?;
            new_item(i)(a.items_mut().push_mut(Item::default())?)?;
            a.seen_mut().insert(i)?;
            a.order_mut().insert(name(i).as_str())?;
        }
        a.spare_mut().insert(Item::default())?;
        a.list_mut()
            .insert(Node::default())?
            .next_mut()
            .insert(Node::default())?;
        Ok::<_, Error>(())
    })
    .unwrap();
    let root = pool.read(off).unwrap();
    pool.close().unwrap();
    let image = std::fs::read(&good).unwrap();
    let path = d.file("bad.pool");
    let (mut refused, mut compacted) = (0, 0);
    // Every word of the root, each pointer and count in it among them, overwritten
    // with values that point nowhere, out of bounds or at the wrong place.
    for word in 0..(size_of::<App>() / 8) as u64 {
        for bad in [u64::MAX, 1 << 40, 0x2001, 8192, root] {
            let mut img = image.clone();
            let at = (root + word * 8) as usize;
            img[at..at + 8].copy_from_slice(&bad.to_le_bytes());
            std::fs::write(&path, &img).unwrap();
            match compact_untyped(&path, &PoolOptions::new()) {
                Ok(_) => compacted += 1,
                Err(Error::Corrupted { .. } | Error::NotRelocatableAt { .. }) => {
                    refused += 1;
                    assert_eq!(std::fs::read(&path).unwrap(), img, "word {word} = {bad:#x}");
                }
                Err(e) => panic!("word {word} = {bad:#x}: {e:?}"),
            }
        }
    }
    println!("damaged roots: {refused} refused with a typed error, {compacted} compacted");
    assert!(refused > 20, "{refused}");
    // A schema record whose field lies outside its struct (same length, so the record
    // still parses): refused before anything is read at that offset.
    let key = b"\"offset\":";
    let at = (0..image.len() - 12)
        .find(|&i| {
            image[i..].starts_with(key) && image[i + 9..i + 12].iter().all(u8::is_ascii_digit)
        })
        .expect("a field at a 3-digit offset");
    let mut img = image.clone();
    img[at + 9..at + 12].copy_from_slice(b"999");
    std::fs::write(&path, &img).unwrap();
    let e = compact_untyped(&path, &PoolOptions::new()).unwrap_err();
    assert!(
        matches!(&e, Error::Corrupted { what, .. } if what.contains("schema record")),
        "{e:?}"
    );
    // Through the binary: status 1 (damaged), a message, no panic.
    let mut img = image.clone();
    let at = (root + std::mem::offset_of!(App, spare) as u64) as usize;
    img[at..at + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    std::fs::write(&path, &img).unwrap();
    let r = pmem_compact(&path);
    assert_eq!(r.code, 1, "{}", r.err);
    assert!(
        r.err.contains("root.spare") && !r.err.contains("panicked"),
        "{}",
        r.err
    );
    assert_eq!(std::fs::read(&path).unwrap(), img);
}

#[test]
fn a_chain_of_100k_boxes_is_compacted_without_deep_recursion() {
    let _serial = serial();
    let d = Dir::new("deep");
    let path = d.file("n.pool");
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
    // On this test's own thread (2 MiB of stack): the walk is a loop.
    compact_untyped(&path, &PoolOptions::new()).unwrap();
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
