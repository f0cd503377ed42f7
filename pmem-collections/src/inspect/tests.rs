//! The type-erased reading of every collection against the typed API: real collections
//! are built in a pool file, their typed element and buffer offsets recorded, and the
//! pool reopened with an [`Inspector`]; what [`inspect`] reads must match, and every
//! buffer must be a live allocation. Damaged copies of the headers must be refused.

use std::path::{Path, PathBuf};

use pmem_core::inspect::{Allocation, Inspector};
use pmem_core::raw::offset_of;
use pmem_core::{Error, PPtr, Persistent, Pool};

use super::{
    inspect, pptr_target, CollectionKind, Contents, ElemLayout, Elements, Entry, PPtrTarget,
};
use crate::{PBTreeMap, PBTreeSet, PBox, PHashMap, PHashSet, PString, PVec};

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d =
            std::env::temp_dir().join(format!("pmem-coll-inspect-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn pool(&self) -> PathBuf {
        self.0.join("p.pool")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn off<T>(r: &T) -> u64 {
    offset_of(std::ptr::from_ref(r).cast()).expect("in the pool")
}

/// Builds a pool whose root is `R`, fills it with `fill`, records `typed` (offsets read
/// through the typed API) and answers it with an inspector on the reopened pool.
fn build<R: Persistent + Default, T>(
    path: &Path,
    fill: impl FnOnce(&mut Pool<R>) -> Result<(), Error>,
    typed: impl FnOnce(&R) -> T,
) -> (Inspector, T) {
    let mut pool = Pool::<R>::create(path).unwrap();
    fill(&mut pool).unwrap();
    pool.check().unwrap();
    let t = pool.read(typed).unwrap();
    pool.close().unwrap();
    (Inspector::open(path).unwrap(), t)
}

/// Every buffer is a live allocation of at least its size, and, with the root and the
/// schema record, they are all the live allocations there are (for roots whose
/// elements own nothing).
fn buffers_are_exactly_the_live_allocations(ins: &Inspector, c: &Contents) {
    buffers_and_these_are_the_live_allocations(ins, c, &[]);
}

fn buffers_and_these_are_the_live_allocations(ins: &Inspector, c: &Contents, others: &[u64]) {
    let live: Vec<Allocation> = ins.check_heap().unwrap();
    for b in &c.buffers {
        let a = live
            .iter()
            .find(|a| a.offset == b.offset)
            .unwrap_or_else(|| panic!("buffer {b:?} is not an allocation"));
        assert!(
            a.size >= b.size,
            "buffer {b:?} larger than its allocation {a:?}"
        );
    }
    let mut expected: Vec<u64> = c.buffers.iter().map(|b| b.offset).collect();
    expected.extend([ins.root_offset(), ins.schema_offset()]);
    expected.extend(others);
    expected.sort_unstable();
    let mut found: Vec<u64> = live.iter().map(|a| a.offset).collect();
    found.sort_unstable();
    assert_eq!(found, expected);
}

fn entries(c: &Contents) -> Vec<Entry> {
    c.entries().collect()
}

#[test]
fn a_vector_reads_as_its_buffer_and_its_element_offsets() {
    let d = Dir::new("vec");
    let (ins, (buf, elems)) = build::<PVec<u64>, _>(
        &d.pool(),
        |p| p.tx(|tx| tx.root_mut().extend(0..100u64)),
        |v| (off(&v[0]), v.iter().map(off).collect::<Vec<_>>()),
    );
    let c = inspect(
        &ins,
        CollectionKind::Vec,
        ins.root_offset(),
        &[ElemLayout::of::<u64>()],
    )
    .unwrap();
    assert_eq!(c.len, 100);
    assert_eq!(c.buffers[0].offset, buf);
    assert!(c.buffers[0].size >= 800);
    assert_eq!(entries(&c).iter().map(|e| e.key).collect::<Vec<_>>(), elems);
    assert!(entries(&c).iter().all(|e| e.value.is_none()));
    assert_eq!(ins.bytes(elems[42], 8).unwrap(), &42u64.to_le_bytes());
    buffers_are_exactly_the_live_allocations(&ins, &c);
}

fn create<R: Persistent + Default>(path: &Path) {
    drop(Pool::<R>::create(path).unwrap());
}

#[test]
fn empty_collections_own_nothing() {
    let d = Dir::new("empty");
    for (kind, params) in [
        (CollectionKind::Vec, vec![ElemLayout::of::<u32>()]),
        (CollectionKind::String, vec![]),
        (
            CollectionKind::HashMap,
            vec![ElemLayout::of::<u64>(), ElemLayout::of::<u64>()],
        ),
        (CollectionKind::HashSet, vec![ElemLayout::of::<u64>()]),
        (
            CollectionKind::BTreeMap,
            vec![ElemLayout::of::<u64>(), ElemLayout::of::<u64>()],
        ),
        (CollectionKind::BTreeSet, vec![ElemLayout::of::<u64>()]),
    ] {
        // A header of zeros is every empty collection except a B-tree, whose header
        // stores its node capacities; build a real one of each.
        let path = d.0.join(format!("{}.pool", kind.name()));
        match kind {
            CollectionKind::Vec => create::<PVec<u32>>(&path),
            CollectionKind::String => create::<PString>(&path),
            CollectionKind::HashMap => create::<PHashMap<u64, u64>>(&path),
            CollectionKind::HashSet => create::<PHashSet<u64>>(&path),
            CollectionKind::BTreeMap => create::<PBTreeMap<u64, u64>>(&path),
            _ => create::<PBTreeSet<u64>>(&path),
        }
        let ins = Inspector::open(&path).unwrap();
        let c = inspect(&ins, kind, ins.root_offset(), &params).unwrap();
        assert_eq!(
            (c.len, c.buffers.len(), c.entries().count()),
            (0, 0, 0),
            "{kind:?}"
        );
    }
}

#[test]
fn a_string_reads_as_its_utf8_bytes() {
    let d = Dir::new("string");
    let text = "héllo, wörld — stored in a pool";
    let (ins, buf) = build::<PString, _>(
        &d.pool(),
        |p| p.tx(|tx| tx.root_mut().push_str(text)),
        |s| off(&s.as_bytes()[0]),
    );
    let c = inspect(&ins, CollectionKind::String, ins.root_offset(), &[]).unwrap();
    let Elements::Contiguous {
        offset,
        count,
        stride,
    } = c.elements
    else {
        panic!("strings are contiguous")
    };
    assert_eq!((offset, count, stride), (buf, text.len() as u64, 1));
    assert_eq!(ins.bytes(offset, count).unwrap(), text.as_bytes());
    buffers_are_exactly_the_live_allocations(&ins, &c);
}

#[test]
fn a_hash_map_reads_as_its_table_and_every_key_and_value_offset() {
    let d = Dir::new("hash");
    // A value type with its own alignment and padding: buckets are `{ key, value }`.
    let (ins, (table_len, typed)) = build::<PHashMap<u32, (u8, u64)>, _>(
        &d.pool(),
        |p| {
            p.tx(|tx| {
                let m = tx.root_mut();
                for i in 0..300u32 {
                    m.insert(i, (i as u8, u64::from(i) * 3))?;
                }
                for i in (0..300u32).step_by(3) {
                    m.remove(&i)?; // tombstones and empties both
                }
                Ok::<_, Error>(())
            })
        },
        |m| {
            (
                m.len(),
                m.iter().map(|(k, v)| (off(k), off(v))).collect::<Vec<_>>(),
            )
        },
    );
    let c = inspect(
        &ins,
        CollectionKind::HashMap,
        ins.root_offset(),
        &[ElemLayout::of::<u32>(), ElemLayout::of::<(u8, u64)>()],
    )
    .unwrap();
    assert_eq!(c.len, table_len as u64);
    let mut found: Vec<(u64, u64)> = c
        .entries()
        .map(|e| (e.key, e.value.expect("maps have values")))
        .collect();
    let mut typed = typed;
    found.sort_unstable();
    typed.sort_unstable();
    assert_eq!(found, typed);
    for e in c.entries() {
        let k = u32::from_le_bytes(ins.bytes(e.key, 4).unwrap().try_into().unwrap());
        let v = u64::from_le_bytes(
            ins.bytes(e.value.unwrap() + 8, 8)
                .unwrap()
                .try_into()
                .unwrap(),
        );
        assert_eq!(v, u64::from(k) * 3);
    }
    buffers_are_exactly_the_live_allocations(&ins, &c);
}

#[test]
fn a_hash_set_reads_as_its_elements_without_values() {
    let d = Dir::new("hashset");
    let (ins, typed) = build::<PHashSet<[u8; 3]>, _>(
        &d.pool(),
        |p| p.tx(|tx| tx.root_mut().extend((0..50u8).map(|i| [i, i, i]))),
        |s| s.iter().map(off).collect::<Vec<_>>(),
    );
    let c = inspect(
        &ins,
        CollectionKind::HashSet,
        ins.root_offset(),
        &[ElemLayout::of::<[u8; 3]>()],
    )
    .unwrap();
    let mut found: Vec<u64> = c.entries().map(|e| e.key).collect();
    assert!(c.entries().all(|e| e.value.is_none()));
    let mut typed = typed;
    found.sort_unstable();
    typed.sort_unstable();
    assert_eq!((c.len, found), (50, typed));
    buffers_are_exactly_the_live_allocations(&ins, &c);
}

/// The offset of the target of the `Option<PBox<_>>` root.
fn boxed_root(ins: &Inspector) -> u64 {
    u64::from_le_bytes(ins.bytes(ins.root_offset(), 8).unwrap().try_into().unwrap())
}

#[test]
fn a_deep_btree_reads_as_its_nodes_and_its_entries_in_key_order() {
    let d = Dir::new("btree");
    // Tiny nodes reach a deep tree with few keys; the map lives in a box so that it can
    // be built with them.
    let (ins, (height, typed)) = build::<Option<PBox<PBTreeMap<u64, u32>>>, _>(
        &d.pool(),
        |p| {
            p.tx(|tx| {
                let m = tx.root_mut().insert(PBTreeMap::with_node_capacity(4, 4))?;
                for i in 0..600u64 {
                    m.insert((i * 7919) % 1000, i as u32)?;
                }
                for i in (0..1000u64).step_by(5) {
                    m.remove(&i)?;
                }
                Ok::<_, Error>(())
            })
        },
        |r| {
            let m = r.as_deref().expect("built");
            (
                m.height(),
                m.iter().map(|(k, v)| (off(k), off(v))).collect::<Vec<_>>(),
            )
        },
    );
    assert!(height >= 3, "the tree is deep");
    let hdr = boxed_root(&ins);
    let c = inspect(
        &ins,
        CollectionKind::BTreeMap,
        hdr,
        &[ElemLayout::of::<u64>(), ElemLayout::of::<u32>()],
    )
    .unwrap();
    let found: Vec<(u64, u64)> = c.entries().map(|e| (e.key, e.value.unwrap())).collect();
    assert_eq!(found, typed, "entries in key order, at the typed offsets");
    assert_eq!(c.len, typed.len() as u64);
    buffers_and_these_are_the_live_allocations(&ins, &c, &[hdr]);
}

#[test]
fn a_btree_set_reads_as_its_elements_in_order_at_any_alignment() {
    let d = Dir::new("btree-set");
    let (ins, typed) = build::<Option<PBox<PBTreeSet<[u8; 3]>>>, _>(
        &d.pool(),
        |p| {
            p.tx(|tx| {
                tx.root_mut()
                    .insert(PBTreeSet::with_node_capacity(5, 4))?
                    .extend((0..=255u8).rev().map(|i| [i, 255 - i, 7]))
            })
        },
        |r| {
            r.as_deref()
                .expect("built")
                .iter()
                .map(off)
                .collect::<Vec<_>>()
        },
    );
    let hdr = boxed_root(&ins);
    let c = inspect(
        &ins,
        CollectionKind::BTreeSet,
        hdr,
        &[ElemLayout::of::<[u8; 3]>()],
    )
    .unwrap();
    assert_eq!(c.entries().map(|e| e.key).collect::<Vec<_>>(), typed);
    assert!(c.entries().all(|e| e.value.is_none()));
    assert!(
        c.buffers.len() > 50,
        "256 elements in nodes of 5 make a deep tree"
    );
    buffers_and_these_are_the_live_allocations(&ins, &c, &[hdr]);
}

#[test]
fn a_btree_with_default_nodes_reads_as_one_leaf() {
    let d = Dir::new("btree-default");
    let (ins, typed) = build::<PBTreeMap<u64, u64>, _>(
        &d.pool(),
        |p| p.tx(|tx| tx.root_mut().extend((0..100u64).map(|i| (i, i * i)))),
        |m| m.iter().map(|(k, _)| off(k)).collect::<Vec<_>>(),
    );
    let c = inspect(
        &ins,
        CollectionKind::BTreeMap,
        ins.root_offset(),
        &[ElemLayout::of::<u64>(), ElemLayout::of::<u64>()],
    )
    .unwrap();
    assert_eq!(c.entries().map(|e| e.key).collect::<Vec<_>>(), typed);
    assert_eq!(c.buffers.len(), 1, "100 entries fit one default leaf");
    buffers_are_exactly_the_live_allocations(&ins, &c);
}

/// A copy of the whole pool, to damage.
fn image(ins: &Inspector) -> Vec<u8> {
    let len = ins.stats().unwrap().file_bytes;
    let mut img = vec![0u8; len as usize];
    img[4096..].copy_from_slice(ins.bytes(4096, len - 4096).unwrap());
    img
}

fn put(img: &mut [u8], at: u64, v: u64) {
    img[at as usize..at as usize + 8].copy_from_slice(&v.to_le_bytes());
}

fn refused(img: &[u8], kind: CollectionKind, at: u64, params: &[ElemLayout], what: &str) {
    match inspect(img, kind, at, params) {
        Err(Error::Corrupted { what: w, .. }) => {
            assert!(w.contains(what), "expected {what:?}, got {w:?}");
        }
        other => panic!("expected a corruption error containing {what:?}, got {other:?}"),
    }
}

#[test]
#[allow(clippy::too_many_lines)] // one damaged header after another, each with its message
fn damaged_headers_are_refused_with_what_is_wrong() {
    let d = Dir::new("damaged");
    let u64s = [ElemLayout::of::<u64>(), ElemLayout::of::<u64>()];

    let p = d.0.join("v.pool");
    let (ins, ()) =
        build::<PVec<u64>, _>(&p, |p| p.tx(|tx| tx.root_mut().extend(0..10u64)), |_| ());
    let (img, root) = (image(&ins), ins.root_offset());
    assert!(
        inspect(&img[..], CollectionKind::Vec, root, &u64s[..1]).is_ok(),
        "the image reads like the pool"
    );
    let mut bad = img.clone();
    put(&mut bad, root + 8, 1_000); // len > cap
    refused(
        &bad,
        CollectionKind::Vec,
        root,
        &u64s[..1],
        "length exceeds its capacity",
    );
    let mut bad = img.clone();
    put(&mut bad, root + 16, u64::MAX / 4); // cap: bytes overflow
    refused(
        &bad,
        CollectionKind::Vec,
        root,
        &u64s[..1],
        "capacity overflows",
    );
    let mut bad = img.clone();
    put(&mut bad, root + 16, 1 << 40); // cap far past the pool
    refused(
        &bad,
        CollectionKind::Vec,
        root,
        &u64s[..1],
        "outside the pool",
    );
    let mut bad = img.clone();
    put(&mut bad, root, 0); // no buffer, but a length
    refused(
        &bad,
        CollectionKind::Vec,
        root,
        &u64s[..1],
        "without a buffer",
    );
    refused(&img, CollectionKind::Vec, root, &u64s, "type parameters");

    let p = d.0.join("s.pool");
    let (ins, buf) = build::<PString, _>(
        &p,
        |p| p.tx(|tx| tx.root_mut().push_str("abc")),
        |s| off(&s.as_bytes()[0]),
    );
    let mut bad = image(&ins);
    bad[buf as usize + 1] = 0xFF;
    refused(
        &bad,
        CollectionKind::String,
        ins.root_offset(),
        &[],
        "not UTF-8",
    );

    let p = d.0.join("h.pool");
    let (ins, ()) = build::<PHashMap<u64, u64>, _>(
        &p,
        |p| p.tx(|tx| tx.root_mut().extend((0..20u64).map(|i| (i, i)))),
        |_| (),
    );
    let (img, root) = (image(&ins), ins.root_offset());
    let mut bad = img.clone();
    put(&mut bad, root + 16, 19); // items
    refused(
        &bad,
        CollectionKind::HashMap,
        root,
        &u64s,
        "length disagrees",
    );
    let mut bad = img.clone();
    put(&mut bad, root + 24, 0); // growth_left
    refused(&bad, CollectionKind::HashMap, root, &u64s, "growth counter");
    let mut bad = img.clone();
    put(&mut bad, root + 8, 12); // bucket_mask + 1 not a power of two
    refused(&bad, CollectionKind::HashMap, root, &u64s, "power of two");

    let p = d.0.join("b.pool");
    let (ins, ()) = build::<PBTreeMap<u64, u64>, _>(
        &p,
        |p| p.tx(|tx| tx.root_mut().extend((0..20u64).map(|i| (i, i)))),
        |_| (),
    );
    let (img, root) = (image(&ins), ins.root_offset());
    let mut bad = img.clone();
    put(&mut bad, root + 8, 21); // len
    refused(&bad, CollectionKind::BTreeMap, root, &u64s, "entry count");
    let mut bad = img.clone();
    bad[root as usize + 20..root as usize + 22].copy_from_slice(&1u16.to_le_bytes()); // leaf_cap
    refused(
        &bad,
        CollectionKind::BTreeMap,
        root,
        &u64s,
        "impossible capacities",
    );
    let node = u64::from_le_bytes(img[root as usize..root as usize + 8].try_into().unwrap());
    let mut bad = img;
    bad[node as usize + 2] = 3; // the root leaf claims level 3
    refused(&bad, CollectionKind::BTreeMap, root, &u64s, "wrong level");
}

#[test]
fn kinds_round_trip_through_their_schema_names() {
    for k in [
        CollectionKind::Vec,
        CollectionKind::String,
        CollectionKind::HashMap,
        CollectionKind::HashSet,
        CollectionKind::BTreeMap,
        CollectionKind::BTreeSet,
    ] {
        assert_eq!(CollectionKind::from_name(k.name()), Some(k));
    }
    // The names and header sizes are the ones the collections' schemas report.
    let schemas = [
        (<PVec<u8> as Persistent>::SCHEMA, CollectionKind::Vec),
        (<PString as Persistent>::SCHEMA, CollectionKind::String),
        (
            <PHashMap<u8, u8> as Persistent>::SCHEMA,
            CollectionKind::HashMap,
        ),
        (
            <PHashSet<u8> as Persistent>::SCHEMA,
            CollectionKind::HashSet,
        ),
        (
            <PBTreeMap<u8, u8> as Persistent>::SCHEMA,
            CollectionKind::BTreeMap,
        ),
        (
            <PBTreeSet<u8> as Persistent>::SCHEMA,
            CollectionKind::BTreeSet,
        ),
    ];
    for (s, k) in schemas {
        let pmem_core::schema::Shape::Collection { kind, params } = s.shape else {
            panic!("{} is a collection", s.name)
        };
        assert_eq!(
            (CollectionKind::from_name(kind), s.size as u64, params.len()),
            (Some(k), k.header_size(), k.param_count())
        );
    }
}

#[test]
fn pptrs_decode_as_the_typed_api_reads_them() {
    let d = Dir::new("pptr");
    let (ins, (at, target)) = build::<(u64, PPtr<u64>, PPtr<u64>), _>(
        &d.pool(),
        |p| {
            p.tx(|tx| {
                let me = PPtr::from_ref(&tx.root().0).expect("in the pool");
                tx.root_mut().1 = me;
                Ok(())
            })
        },
        |r| ((off(&r.1), off(&r.2)), r.1.offset()),
    );
    let uuid = ins.info().uuid;
    let word = |o: u64| u64::from_le_bytes(ins.bytes(o, 8).unwrap().try_into().unwrap());
    assert_eq!(pptr_target(word(at.0), &uuid), PPtrTarget::At(target));
    assert_eq!(
        target,
        ins.root_offset(),
        "it points at the root's first field"
    );
    assert_eq!(pptr_target(word(at.1), &uuid), PPtrTarget::Null);
    let mut other = uuid;
    other[0] ^= 1;
    assert_eq!(pptr_target(word(at.0), &other), PPtrTarget::Foreign);
}
