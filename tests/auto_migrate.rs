//! Automatic migration (`pmem::migrate::auto`): changes that lose nothing — fields
//! added, reordered, renamed by attribute, integers and floats widened, enum variants
//! appended — at the root and inside `Option<PBox>`, `PVec`, hash maps and sets,
//! B-tree maps and sets (keys and values) and recursive types; a
//! removed field only when asked; everything else refused with a typed error that
//! names the path, leaving the old pool exactly as it was.

mod common;
use common::Dir;

use pmem::migrate::auto;
use pmem::{
    AutoMigrate, Error, PBTreeMap, PBTreeSet, PBox, PHashMap, PHashSet, PString, PVec, Persistent,
    Pool, PoolOptions,
};

mod v1 {
    use pmem::{PBox, PHashMap, PString, PVec, Persistent};

    #[derive(Persistent, Default, Clone, Copy)]
    #[pmem(plain)]
    #[repr(C)]
    pub(crate) struct Rec {
        pub(crate) a: u8,
        pub(crate) b: i16,
        pub(crate) c: f32,
        pub(crate) id: u32,
    }

    #[derive(Persistent, Default, Clone, Copy, PartialEq, Debug)]
    #[pmem(plain)]
    #[repr(u8)]
    pub(crate) enum Color {
        #[default]
        Red,
        Green,
    }

    #[derive(Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Node {
        pub(crate) val: u32,
        pub(crate) next: Option<PBox<Node>>,
    }

    #[derive(Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Root {
        pub(crate) rec: Rec,
        pub(crate) boxed: Option<PBox<Rec>>,
        pub(crate) list: PVec<Rec>,
        pub(crate) color: Color,
        pub(crate) colors: PVec<Color>,
        pub(crate) chain: Option<PBox<Node>>,
        pub(crate) names: PHashMap<u64, PString>,
        pub(crate) total: u64,
    }
}

#[derive(Persistent, Default, Clone, Copy, PartialEq, Debug)]
#[pmem(plain)]
#[repr(C)]
struct Rec {
    c: f64,
    #[pmem(default = "seven")]
    added: u32,
    b: i64,
    a: u16,
    #[pmem(renamed_from = "id")]
    key: u64,
}

fn seven() -> u32 {
    7
}

#[derive(Persistent, Default, Clone, Copy, PartialEq, Debug)]
#[pmem(plain)]
#[repr(u8)]
enum Color {
    #[default]
    Red,
    Green,
    Blue,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Node {
    next: Option<PBox<Node>>,
    val: u64,
    flag: bool,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Root {
    total: u64,
    names: PHashMap<u64, PString>,
    rec: Rec,
    list: PVec<Rec>,
    boxed: Option<PBox<Rec>>,
    colors: PVec<Color>,
    color: Color,
    chain: Option<PBox<Node>>,
    note: PString,
}

fn old_rec(i: u8) -> v1::Rec {
    v1::Rec {
        a: 200 + i,
        b: -300 - i16::from(i),
        c: 1.5 + f32::from(i),
        id: 1_000_000 + u32::from(i),
    }
}

fn new_rec(i: u8) -> Rec {
    let o = old_rec(i);
    Rec {
        c: f64::from(o.c),
        added: 7,
        b: i64::from(o.b),
        a: u16::from(o.a),
        key: u64::from(o.id),
    }
}

/// A v1 pool with something in every place a change can hide.
fn make_v1(path: &std::path::Path) {
    let mut p = Pool::<v1::Root>::create(path).unwrap();
    p.tx(|tx| {
        let r = tx.root_mut();
        r.set_rec(old_rec(0))?;
        r.boxed_mut().insert(old_rec(1))?;
        for i in 2..5 {
            r.list_mut().push(old_rec(i))?;
        }
        r.set_color(v1::Color::Green)?;
        r.colors_mut().push(v1::Color::Red)?;
        r.colors_mut().push(v1::Color::Green)?;
        // A chain of three nodes: 10 -> 11 -> 12.
        let n = r.chain_mut().insert(v1::Node {
            val: 10,
            next: None,
        })?;
        let n = n.next_mut().insert(v1::Node {
            val: 11,
            next: None,
        })?;
        n.next_mut().insert(v1::Node {
            val: 12,
            next: None,
        })?;
        r.names_mut().set(1, "ada")?;
        r.names_mut().set(2, "grace")?;
        *r.total_mut() = 99;
        Ok::<_, Error>(())
    })
    .unwrap();
}

#[test]
fn every_lossless_change_migrates_at_the_root_and_inside_boxes_vectors_and_recursion() {
    let d = Dir::new("auto", "everything");
    let path = d.path("p.pool");
    make_v1(&path);
    assert!(auto::<Root>(&path, &PoolOptions::new(), AutoMigrate::new()).unwrap());
    let pool = Pool::<Root>::open(&path).unwrap();
    pool.check().unwrap();
    pool.read(|r| {
        assert_eq!(r.total, 99);
        assert_eq!(r.rec, new_rec(0));
        assert_eq!(**r.boxed.as_ref().unwrap(), new_rec(1));
        assert_eq!(r.list.len(), 3);
        for (i, rec) in (2..5).zip(r.list.iter()) {
            assert_eq!(*rec, new_rec(i));
        }
        assert_eq!(r.color, Color::Green);
        assert_eq!(
            r.colors.iter().copied().collect::<Vec<_>>(),
            [Color::Red, Color::Green]
        );
        let mut vals = Vec::new();
        let mut n = r.chain.as_deref();
        while let Some(node) = n {
            assert!(!node.flag);
            vals.push(node.val);
            n = node.next.as_deref();
        }
        assert_eq!(vals, [10, 11, 12]);
        assert_eq!(r.names.len(), 2);
        assert_eq!(
            r.names.get(&2).map(|s| s.as_str().to_owned()),
            Some("grace".into())
        );
        assert_eq!(r.note.as_str(), "");
    })
    .unwrap();
    drop(pool);
    // Already current: nothing to do.
    assert!(!auto::<Root>(&path, &PoolOptions::new(), AutoMigrate::new()).unwrap());
}

#[test]
fn an_appended_enum_variant_is_usable_after_the_migration() {
    let d = Dir::new("auto", "enum");
    let path = d.path("p.pool");
    let mut p = Pool::<PVec<v1::Color>>::create(&path).unwrap();
    p.tx(|tx| tx.root_mut().extend([v1::Color::Green, v1::Color::Red]))
        .unwrap();
    drop(p);
    assert!(auto::<PVec<Color>>(&path, &PoolOptions::new(), AutoMigrate::new()).unwrap());
    let mut p = Pool::<PVec<Color>>::open(&path).unwrap();
    p.tx(|tx| tx.root_mut().push(Color::Blue)).unwrap();
    assert_eq!(
        p.read(|v| v.iter().copied().collect::<Vec<_>>()).unwrap(),
        [Color::Green, Color::Red, Color::Blue]
    );
    p.check().unwrap();
}

mod removed {
    #[derive(pmem::Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Rec {
        pub(crate) keep: u32,
        pub(crate) gone: u64,
    }
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Rec2 {
    keep: u32,
}

mod rec2 {
    #[derive(pmem::Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Rec {
        pub(crate) keep: u32,
    }
}

#[test]
fn a_removed_field_is_refused_by_path_unless_dropping_is_asked_for() {
    let d = Dir::new("auto", "removed");
    let path = d.path("p.pool");
    let mut p = Pool::<PVec<removed::Rec>>::create(&path).unwrap();
    p.tx(|tx| {
        tx.root_mut().push(removed::Rec { keep: 1, gone: 2 })?;
        tx.root_mut().push(removed::Rec { keep: 3, gone: 4 })
    })
    .unwrap();
    drop(p);
    let before = std::fs::read(&path).unwrap();
    let e = auto::<PVec<rec2::Rec>>(&path, &PoolOptions::new(), AutoMigrate::new()).unwrap_err();
    match &e {
        Error::NotAutoMigratable { path, change } => {
            assert_eq!(path, "root[].gone");
            assert!(change.contains("field removed"), "{change}");
        }
        other => panic!("expected NotAutoMigratable, got {other:?}"),
    }
    assert!(e.to_string().contains("pmem::migrate::migrate_with"), "{e}");
    // The old pool is untouched and still opens as the old type.
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert!(!d.path("p.pool.migrating").exists());
    assert_eq!(
        Pool::<PVec<removed::Rec>>::open(&path)
            .unwrap()
            .read(|v| v[1].gone)
            .unwrap(),
        4
    );

    let lossy = AutoMigrate::new().drop_removed_fields(true);
    assert!(auto::<PVec<rec2::Rec>>(&path, &PoolOptions::new(), lossy).unwrap());
    let p = Pool::<PVec<rec2::Rec>>::open(&path).unwrap();
    assert_eq!(p.read(|v| (v[0].keep, v[1].keep)).unwrap(), (1, 3));
    p.check().unwrap();
    let _ = Rec2::default().keep;
}

mod wide {
    #[derive(pmem::Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Rec {
        pub(crate) n: u64,
    }
}

mod narrow {
    #[derive(pmem::Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Rec {
        pub(crate) n: u32,
    }
}

#[test]
fn narrowing_is_refused_with_a_typed_error_and_the_pool_is_left_as_it_was() {
    let d = Dir::new("auto", "narrow");
    let path = d.path("p.pool");
    let mut p = Pool::<Option<PBox<wide::Rec>>>::create(&path).unwrap();
    p.tx(|tx| tx.root_mut().insert(wide::Rec { n: 5 }).map(drop))
        .unwrap();
    drop(p);
    let before = std::fs::read(&path).unwrap();
    let e = auto::<Option<PBox<narrow::Rec>>>(&path, &PoolOptions::new(), AutoMigrate::new())
        .unwrap_err();
    match &e {
        Error::NotAutoMigratable { path, change } => {
            assert_eq!(path, "root.n");
            assert!(change.contains("u64 → u32"), "{change}");
        }
        other => panic!("expected NotAutoMigratable, got {other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let p = Pool::<Option<PBox<wide::Rec>>>::open(&path).unwrap();
    assert_eq!(p.read(|r| r.as_ref().unwrap().n).unwrap(), 5);
}

#[test]
fn a_scalar_root_widens() {
    let d = Dir::new("auto", "scalar");
    let path = d.path("p.pool");
    let mut p = Pool::<i8>::create(&path).unwrap();
    p.tx(|tx| {
        *tx.root_mut() = -3;
        Ok::<_, Error>(())
    })
    .unwrap();
    drop(p);
    assert!(auto::<i64>(&path, &PoolOptions::new(), AutoMigrate::new()).unwrap());
    assert_eq!(Pool::<i64>::open(&path).unwrap().read(|r| *r).unwrap(), -3);
    // i64 -> u64 is a sign change, refused.
    let e = auto::<u64>(&path, &PoolOptions::new(), AutoMigrate::new()).unwrap_err();
    assert!(matches!(e, Error::NotAutoMigratable { .. }), "{e:?}");
}

#[test]
fn type_mismatch_says_when_an_automatic_migration_can_handle_every_difference() {
    let d = Dir::new("auto", "hint");
    let path = d.path("p.pool");
    drop(Pool::<PVec<narrow::Rec>>::create(&path).unwrap());
    let e = Pool::<PVec<wide::Rec>>::open(&path).err().unwrap();
    assert!(matches!(e, Error::TypeMismatch { .. }), "{e:?}");
    assert!(
        e.to_string()
            .ends_with("automatic migration can handle these: pmem::migrate::auto"),
        "{e}"
    );
    // A widened map key is automatic too now.
    let kpath = d.path("k.pool");
    drop(Pool::<PHashMap<u32, u8>>::create(&kpath).unwrap());
    let e = Pool::<PHashMap<u64, u8>>::open(&kpath).err().unwrap();
    assert!(e.to_string().ends_with("pmem::migrate::auto"), "{e}");
    // Narrowing: no such hint.
    drop(std::fs::remove_file(&path));
    drop(Pool::<PVec<wide::Rec>>::create(&path).unwrap());
    let e = Pool::<PVec<narrow::Rec>>::open(&path).err().unwrap();
    assert!(!e.to_string().contains("pmem::migrate::auto"), "{e}");
}

mod no_default {
    #[derive(pmem::Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Holder {
        pub(crate) n: u64,
    }
}

mod with_box {
    use pmem::PBox;

    #[derive(pmem::Persistent)]
    #[repr(C)]
    pub(crate) struct Holder {
        pub(crate) n: u64,
        pub(crate) b: PBox<u64>,
    }

    impl Default for Holder {
        fn default() -> Self {
            unreachable!("never the root of a created pool in this test")
        }
    }
}

#[test]
fn an_added_field_without_a_default_is_refused_by_path() {
    let d = Dir::new("auto", "nodefault");
    let path = d.path("p.pool");
    drop(Pool::<PVec<no_default::Holder>>::create(&path).unwrap());
    let mut p = Pool::<PVec<no_default::Holder>>::open(&path).unwrap();
    p.tx(|tx| tx.root_mut().push(no_default::Holder { n: 1 }))
        .unwrap();
    drop(p);
    let e =
        auto::<PVec<with_box::Holder>>(&path, &PoolOptions::new(), AutoMigrate::new()).unwrap_err();
    match &e {
        Error::NotAutoMigratable { path, change } => {
            assert_eq!(path, "root[].b");
            assert!(change.contains("no Default"), "{change}");
        }
        other => panic!("expected NotAutoMigratable, got {other:?}"),
    }
    assert_eq!(
        Pool::<PVec<no_default::Holder>>::open(&path)
            .unwrap()
            .read(|v| v[0].n)
            .unwrap(),
        1
    );
}

// ---- maps and sets whose key or value type changed ----

mod acct1 {
    #[derive(pmem::Persistent, Default, Clone, Copy)]
    #[pmem(plain)]
    #[repr(C)]
    pub(crate) struct Acct {
        pub(crate) balance: i32,
        pub(crate) id: u32,
    }
}

#[derive(Persistent, Default, Clone, Copy, PartialEq, Debug)]
#[pmem(plain)]
#[repr(C)]
struct Acct {
    id: u64,
    balance: i64,
    #[pmem(default = "eur")]
    currency: [u8; 3],
}

fn eur() -> [u8; 3] {
    *b"EUR"
}

fn acct1(i: u32) -> acct1::Acct {
    acct1::Acct {
        balance: -(i as i32) * 3,
        id: i + 1_000,
    }
}

fn acct(i: u32) -> Acct {
    Acct {
        id: u64::from(i) + 1_000,
        balance: -i64::from(i) * 3,
        currency: eur(),
    }
}

/// Migrates the pool at `path` to `New` and asserts it rewrote it.
fn migrate_to<New: Persistent + Default>(path: &std::path::Path) {
    assert!(auto::<New>(path, &PoolOptions::new(), AutoMigrate::new()).unwrap());
}

#[test]
fn a_hash_map_value_struct_that_gained_a_field_and_widened_migrates() {
    let d = Dir::new("auto", "hmap-value");
    let path = d.path("p.pool");
    let mut p = Pool::<PHashMap<u64, acct1::Acct>>::create(&path).unwrap();
    p.tx(|tx| {
        for i in 0..300 {
            tx.root_mut().set(u64::from(i) * 7, acct1(i))?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    drop(p);
    migrate_to::<PHashMap<u64, Acct>>(&path);
    let mut p = Pool::<PHashMap<u64, Acct>>::open(&path).unwrap();
    p.check().unwrap();
    p.read(|m| {
        assert_eq!(m.len(), 300);
        for i in 0..300 {
            assert_eq!(m.get(&(u64::from(i) * 7)), Some(&acct(i)), "key {}", i * 7);
        }
        assert_eq!(m.get(&1), None);
    })
    .unwrap();
    // Usable for writes afterwards.
    p.tx(|tx| tx.root_mut().set(1, acct(9)).map(drop)).unwrap();
    assert_eq!(p.read(|m| m.get(&1).copied()).unwrap(), Some(acct(9)));
    p.check().unwrap();
}

#[test]
fn a_widened_hash_map_key_is_rehashed_and_every_entry_found() {
    let d = Dir::new("auto", "hmap-key");
    let path = d.path("p.pool");
    let mut p = Pool::<PHashMap<u32, PString>>::create(&path).unwrap();
    p.tx(|tx| {
        for i in 0..500u32 {
            tx.root_mut().set(i * 31 + 1, format!("n{i}"))?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    drop(p);
    migrate_to::<PHashMap<u64, PString>>(&path);
    let p = Pool::<PHashMap<u64, PString>>::open(&path).unwrap();
    p.check().unwrap();
    p.read(|m| {
        assert_eq!(m.len(), 500);
        for i in 0..500u32 {
            let k = u64::from(i * 31 + 1);
            assert_eq!(m.get(&k).map(PString::as_str), Some(&*format!("n{i}")));
        }
        assert!(!m.contains_key(&0));
    })
    .unwrap();
}

mod key1 {
    #[derive(pmem::Persistent, Default, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    #[pmem(plain)]
    #[repr(C)]
    pub(crate) struct Key {
        pub(crate) a: u32,
        pub(crate) b: u16,
    }
}

#[derive(Persistent, Default, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[pmem(plain)]
#[repr(C)]
struct Key {
    a: u64,
    b: u16,
    #[pmem(default = "one")]
    c: u8,
}

fn one() -> u8 {
    1
}

#[test]
fn a_hash_map_key_struct_that_gained_a_field_migrates() {
    let d = Dir::new("auto", "hmap-struct-key");
    let path = d.path("p.pool");
    let mut p = Pool::<PHashMap<key1::Key, u32>>::create(&path).unwrap();
    p.tx(|tx| {
        for i in 0..50u16 {
            let k = key1::Key {
                a: u32::from(i) << 20,
                b: i,
            };
            tx.root_mut().set(k, u32::from(i) * 2)?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    drop(p);
    migrate_to::<PHashMap<Key, u64>>(&path);
    let p = Pool::<PHashMap<Key, u64>>::open(&path).unwrap();
    p.check().unwrap();
    p.read(|m| {
        assert_eq!(m.len(), 50);
        for i in 0..50u16 {
            let k = Key {
                a: u64::from(i) << 20,
                b: i,
                c: 1,
            };
            assert_eq!(m.get(&k), Some(&(u64::from(i) * 2)));
        }
    })
    .unwrap();
}

#[test]
fn a_hash_set_whose_element_widened_migrates() {
    let d = Dir::new("auto", "hset");
    let path = d.path("p.pool");
    let mut p = Pool::<PHashSet<i16>>::create(&path).unwrap();
    p.tx(|tx| tx.root_mut().extend((-100..100).map(|i| i * 3)))
        .unwrap();
    drop(p);
    migrate_to::<PHashSet<i64>>(&path);
    let p = Pool::<PHashSet<i64>>::open(&path).unwrap();
    p.check().unwrap();
    p.read(|s| {
        assert_eq!(s.len(), 200);
        for i in -100..100i64 {
            assert!(s.contains(&(i * 3)));
            assert!(!s.contains(&(i * 3 + 1)));
        }
    })
    .unwrap();
}

#[test]
fn a_btree_map_whose_key_widened_and_value_changed_stays_ordered() {
    const N: u32 = 4_000;
    let d = Dir::new("auto", "btree-map");
    let path = d.path("p.pool");
    let mut p = Pool::<PBTreeMap<i32, acct1::Acct>>::create(&path).unwrap();
    // Enough entries for a tree of many leaves under an inner node.
    p.tx(|tx| {
        // Inserted out of order, negative keys included.
        for i in 0..N {
            let k = ((i * 7919) % N) as i32 - 2_000;
            tx.root_mut().set(k, acct1(i))?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    let expect: Vec<(i64, Acct)> = {
        let mut v: Vec<_> = (0..N)
            .map(|i| ((((i * 7919) % N) as i32 - 2_000).into(), acct(i)))
            .collect();
        v.sort_by_key(|e| e.0);
        v
    };
    drop(p);
    migrate_to::<PBTreeMap<i64, Acct>>(&path);
    let mut p = Pool::<PBTreeMap<i64, Acct>>::open(&path).unwrap();
    p.check().unwrap();
    p.read(|m| {
        assert_eq!(m.len(), N as usize);
        let all: Vec<(i64, Acct)> = m.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(all, expect);
        let r: Vec<i64> = m.range(-3i64..4).map(|(k, _)| *k).collect();
        assert_eq!(r, [-3, -2, -1, 0, 1, 2, 3]);
        assert_eq!(m.range(1_990i64..).count(), 10);
        assert_eq!(m.first_key_value().map(|(k, _)| *k), Some(-2_000));
        assert_eq!(m.get(&-5), Some(&expect[1_995].1));
    })
    .unwrap();
    p.tx(|tx| tx.root_mut().set(1_000, acct(1)).map(drop))
        .unwrap();
    p.check().unwrap();
}

#[test]
fn a_btree_set_whose_element_widened_migrates_in_order() {
    let d = Dir::new("auto", "btree-set");
    let path = d.path("p.pool");
    let mut p = Pool::<PBTreeSet<u16>>::create(&path).unwrap();
    p.tx(|tx| tx.root_mut().extend((0..1000u16).rev().map(|i| i * 5)))
        .unwrap();
    drop(p);
    migrate_to::<PBTreeSet<u64>>(&path);
    let p = Pool::<PBTreeSet<u64>>::open(&path).unwrap();
    p.check().unwrap();
    p.read(|s| {
        assert_eq!(s.len(), 1000);
        assert!(s.iter().copied().eq((0..1000u64).map(|i| i * 5)));
        assert_eq!(
            s.range(12u64..=25).copied().collect::<Vec<_>>(),
            [15, 20, 25]
        );
    })
    .unwrap();
}

mod nest1 {
    use pmem::{PBTreeMap, PHashMap, PString, PVec};

    #[derive(pmem::Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Holder {
        pub(crate) n: u32,
        pub(crate) recs: PVec<super::v1::Rec>,
    }

    #[derive(pmem::Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Root {
        pub(crate) by_name: PHashMap<PString, Holder>,
        pub(crate) by_id: PBTreeMap<u32, Holder>,
    }
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Holder {
    recs: PVec<Rec>,
    n: u64,
}

mod nest2 {
    use pmem::{PBTreeMap, PHashMap, PString};
    #[derive(pmem::Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Root {
        pub(crate) by_id: PBTreeMap<u64, super::Holder>,
        pub(crate) by_name: PHashMap<PString, super::Holder>,
    }
}

#[test]
fn a_map_of_structs_holding_a_vector_of_changed_structs_migrates() {
    let d = Dir::new("auto", "nested");
    let path = d.path("p.pool");
    let mut p = Pool::<nest1::Root>::create(&path).unwrap();
    p.tx(|tx| {
        let r = tx.root_mut();
        for i in 0..20u8 {
            let recs: Vec<v1::Rec> = (0..i % 4).map(|j| old_rec(i + j)).collect();
            r.by_name_mut().set(
                format!("h{i}"),
                nest1::Holder {
                    n: u32::from(i),
                    recs: PVec::new(),
                },
            )?;
            r.by_name_mut()
                .get_mut(&*format!("h{i}"))
                .unwrap()
                .recs_mut()
                .extend(recs.iter().copied())?;
            r.by_id_mut().set(
                u32::from(i) * 10,
                nest1::Holder {
                    n: u32::from(i),
                    recs: PVec::new(),
                },
            )?;
            r.by_id_mut()
                .get_mut(&(u32::from(i) * 10))
                .unwrap()
                .recs_mut()
                .extend(recs)?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    drop(p);
    migrate_to::<nest2::Root>(&path);
    let p = Pool::<nest2::Root>::open(&path).unwrap();
    p.check().unwrap();
    p.read(|r| {
        assert_eq!((r.by_name.len(), r.by_id.len()), (20, 20));
        for i in 0..20u8 {
            let want: Vec<Rec> = (0..i % 4).map(|j| new_rec(i + j)).collect();
            let h = r.by_name.get(&*format!("h{i}")).unwrap();
            assert_eq!(h.n, u64::from(i));
            assert_eq!(h.recs.iter().copied().collect::<Vec<_>>(), want);
            let h = r.by_id.get(&(u64::from(i) * 10)).unwrap();
            assert_eq!(h.n, u64::from(i));
            assert_eq!(h.recs.iter().copied().collect::<Vec<_>>(), want);
        }
    })
    .unwrap();
}

mod nwide {
    use pmem::{PBTreeMap, PHashMap};
    #[derive(pmem::Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Root {
        pub(crate) m: PHashMap<u64, super::wide::Rec>,
        pub(crate) t: PBTreeMap<u64, u8>,
    }
}

mod nnarrow_value {
    use pmem::{PBTreeMap, PHashMap};
    #[derive(pmem::Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Root {
        pub(crate) m: PHashMap<u64, super::narrow::Rec>,
        pub(crate) t: PBTreeMap<u64, u8>,
    }
}

mod nnarrow_key {
    use pmem::{PBTreeMap, PHashMap};
    #[derive(pmem::Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Root {
        pub(crate) m: PHashMap<u64, super::wide::Rec>,
        pub(crate) t: PBTreeMap<u32, u8>,
    }
}

#[test]
fn a_narrowing_inside_a_map_is_refused_by_path_and_the_pool_is_byte_identical() {
    let d = Dir::new("auto", "map-narrow");
    let path = d.path("p.pool");
    let mut p = Pool::<nwide::Root>::create(&path).unwrap();
    p.tx(|tx| {
        for i in 0..10 {
            tx.root_mut().m_mut().set(i, wide::Rec { n: i * 2 })?;
            tx.root_mut().t_mut().set(i, 1)?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    drop(p);
    let before = std::fs::read(&path).unwrap();
    let e =
        auto::<nnarrow_value::Root>(&path, &PoolOptions::new(), AutoMigrate::new()).unwrap_err();
    match &e {
        Error::NotAutoMigratable { path, change } => {
            assert_eq!(path, "root.m[].n");
            assert!(change.contains("u64 → u32"), "{change}");
        }
        other => panic!("expected NotAutoMigratable, got {other:?}"),
    }
    let e = auto::<nnarrow_key::Root>(&path, &PoolOptions::new(), AutoMigrate::new()).unwrap_err();
    match &e {
        Error::NotAutoMigratable { path, change } => {
            assert_eq!(path, "root.t{key}");
            assert!(change.contains("u64 → u32"), "{change}");
        }
        other => panic!("expected NotAutoMigratable, got {other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert!(!d.path("p.pool.migrating").exists());
    let p = Pool::<nwide::Root>::open(&path).unwrap();
    assert_eq!(p.read(|r| r.m.get(&3).unwrap().n).unwrap(), 6);
    p.check().unwrap();
}

mod dup1 {
    #[derive(pmem::Persistent, Default, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    #[pmem(plain)]
    #[repr(C)]
    pub(crate) struct Key {
        pub(crate) a: u32,
        pub(crate) gone: u32,
    }
}

mod dup2 {
    #[derive(pmem::Persistent, Default, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    #[pmem(plain)]
    #[repr(C)]
    pub(crate) struct Key {
        pub(crate) a: u32,
    }
}

#[test]
fn keys_made_equal_by_a_dropped_field_are_refused() {
    let d = Dir::new("auto", "dup");
    let path = d.path("p.pool");
    let mut p = Pool::<PHashMap<dup1::Key, u8>>::create(&path).unwrap();
    p.tx(|tx| {
        tx.root_mut().set(dup1::Key { a: 1, gone: 1 }, 1)?;
        tx.root_mut().set(dup1::Key { a: 1, gone: 2 }, 2)?;
        Ok::<_, Error>(())
    })
    .unwrap();
    drop(p);
    let before = std::fs::read(&path).unwrap();
    let lossy = AutoMigrate::new().drop_removed_fields(true);
    let e = auto::<PHashMap<dup2::Key, u8>>(&path, &PoolOptions::new(), lossy).unwrap_err();
    match &e {
        Error::NotAutoMigratable { path, change } => {
            assert_eq!(path, "root{key}");
            assert!(change.contains("equal"), "{change}");
        }
        other => panic!("expected NotAutoMigratable, got {other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // Without duplicates the same change goes through.
    let mut p = Pool::<PBTreeMap<dup1::Key, u8>>::create(d.path("q.pool")).unwrap();
    p.tx(|tx| tx.root_mut().set(dup1::Key { a: 1, gone: 9 }, 1).map(drop))
        .unwrap();
    drop(p);
    assert!(
        auto::<PBTreeMap<dup2::Key, u8>>(d.path("q.pool"), &PoolOptions::new(), lossy).unwrap()
    );
    let p = Pool::<PBTreeMap<dup2::Key, u8>>::open(d.path("q.pool")).unwrap();
    assert_eq!(
        p.read(|m| m.get(&dup2::Key { a: 1 }).copied()).unwrap(),
        Some(1)
    );
    p.check().unwrap();
}

mod same1 {
    use pmem::{PBTreeSet, PHashMap, PString};
    #[derive(pmem::Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Root {
        pub(crate) n: u32,
        pub(crate) names: PHashMap<PString, PString>,
        pub(crate) words: PBTreeSet<PString>,
        pub(crate) note: PString,
    }
}

mod same2 {
    use pmem::{PBTreeSet, PHashMap, PString};
    #[derive(pmem::Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Root {
        pub(crate) n: u64,
        pub(crate) names: PHashMap<PString, PString>,
        pub(crate) words: PBTreeSet<PString>,
        pub(crate) note: PString,
    }
}

#[test]
fn unchanged_maps_sets_and_strings_beside_a_change_are_copied() {
    let d = Dir::new("auto", "same-map");
    let path = d.path("p.pool");
    let mut p = Pool::<same1::Root>::create(&path).unwrap();
    p.tx(|tx| {
        let r = tx.root_mut();
        *r.n_mut() = 5;
        r.names_mut().set("ada", "lovelace")?;
        r.names_mut().set("grace", "hopper")?;
        r.words_mut().extend(["b", "a", "c"])?;
        r.note_mut().push_str("hello")?;
        Ok::<_, Error>(())
    })
    .unwrap();
    drop(p);
    migrate_to::<same2::Root>(&path);
    let p = Pool::<same2::Root>::open(&path).unwrap();
    p.check().unwrap();
    p.read(|r| {
        assert_eq!(r.n, 5);
        assert_eq!(r.names.get("grace").map(PString::as_str), Some("hopper"));
        assert_eq!(r.names.len(), 2);
        assert!(r.words.iter().map(PString::as_str).eq(["a", "b", "c"]));
        assert_eq!(r.note.as_str(), "hello");
    })
    .unwrap();
}

// ---- plain compound shapes: Option of a primitive, arrays, tuples ----

mod shapes1 {
    #[derive(pmem::Persistent, Default, Clone, Copy)]
    #[pmem(plain)]
    #[repr(C)]
    pub(crate) struct Shapes {
        pub(crate) some: Option<u32>,
        pub(crate) none: Option<i16>,
        pub(crate) arr: [u32; 4],
        pub(crate) pair: (u8, i16),
        pub(crate) recs: [super::v1::Rec; 2],
    }
}

mod shapes2 {
    #[derive(pmem::Persistent, Default, Clone, Copy, PartialEq, Debug)]
    #[pmem(plain)]
    #[repr(C)]
    pub(crate) struct Shapes {
        pub(crate) some: Option<u64>,
        pub(crate) none: Option<i64>,
        pub(crate) arr: [u64; 4],
        pub(crate) pair: (u16, i32),
        pub(crate) recs: [super::Rec; 2],
    }
}

mod shapes_bad {
    #[derive(pmem::Persistent, Default, Clone, Copy)]
    #[pmem(plain)]
    #[repr(C)]
    pub(crate) struct Shapes {
        pub(crate) some: Option<u64>,
        pub(crate) none: Option<i64>,
        pub(crate) arr: [u64; 5],
        pub(crate) pair: (u16, i32),
        pub(crate) recs: [super::Rec; 2],
    }
}

#[test]
fn options_of_primitives_arrays_and_tuples_widen_element_wise() {
    let d = Dir::new("auto", "shapes");
    let path = d.path("p.pool");
    let mut p = Pool::<PVec<shapes1::Shapes>>::create(&path).unwrap();
    p.tx(|tx| {
        tx.root_mut().push(shapes1::Shapes {
            some: Some(4_000_000_000),
            none: None,
            arr: [1, 2, 3, u32::MAX],
            pair: (250, -7),
            recs: [old_rec(1), old_rec(2)],
        })?;
        tx.root_mut().push(shapes1::Shapes {
            some: None,
            none: Some(-3),
            ..Default::default()
        })
    })
    .unwrap();
    drop(p);
    let before = std::fs::read(&path).unwrap();
    // An array whose length changed is refused.
    let e = auto::<PVec<shapes_bad::Shapes>>(&path, &PoolOptions::new(), AutoMigrate::new())
        .unwrap_err();
    match &e {
        Error::NotAutoMigratable { path, .. } => assert_eq!(path, "root[].arr"),
        other => panic!("expected NotAutoMigratable, got {other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    migrate_to::<PVec<shapes2::Shapes>>(&path);
    let p = Pool::<PVec<shapes2::Shapes>>::open(&path).unwrap();
    p.check().unwrap();
    p.read(|v| {
        assert_eq!(
            v[0],
            shapes2::Shapes {
                some: Some(4_000_000_000),
                none: None,
                arr: [1, 2, 3, u64::from(u32::MAX)],
                pair: (250, -7),
                recs: [new_rec(1), new_rec(2)],
            }
        );
        assert_eq!((v[1].some, v[1].none), (None, Some(-3)));
        assert_eq!(v[1].arr, [0; 4]);
    })
    .unwrap();
}

// ---- opt-in migration on open ----

fn inode(path: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).unwrap().ino()
}

#[test]
fn open_auto_migrates_an_old_pool_then_opens_a_current_one_without_rewriting_it() {
    let d = Dir::new("auto", "open-auto");
    let path = d.path("p.pool");
    let mut p = Pool::<PBTreeMap<u32, acct1::Acct>>::create(&path).unwrap();
    p.tx(|tx| {
        for i in 0..50 {
            tx.root_mut().set(i, acct1(i))?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    drop(p);
    let old_inode = inode(&path);
    let opts = PoolOptions::new();
    let p =
        pmem::migrate::open_auto::<PBTreeMap<u64, Acct>>(&path, &opts, AutoMigrate::new()).unwrap();
    p.check().unwrap();
    assert_eq!(p.read(|m| m.get(&49).copied()).unwrap(), Some(acct(49)));
    assert_eq!(p.read(PBTreeMap::len).unwrap(), 50);
    drop(p);
    // The migration replaced the file (a new one renamed over the old).
    let migrated_inode = inode(&path);
    assert_ne!(migrated_inode, old_inode);
    // Current now: opened in place, not rewritten.
    let before = std::fs::read(&path).unwrap();
    let p =
        pmem::migrate::open_auto::<PBTreeMap<u64, Acct>>(&path, &opts, AutoMigrate::new()).unwrap();
    assert_eq!(p.read(|m| m.get(&0).copied()).unwrap(), Some(acct(0)));
    drop(p);
    // Same file (not replaced), same length, and past the header page — whose open
    // bookkeeping every open updates — not a byte changed.
    assert_eq!(inode(&path), migrated_inode);
    let after = std::fs::read(&path).unwrap();
    assert_eq!(after.len(), before.len());
    assert!(after[4096..] == before[4096..], "pool contents changed");
    assert!(!d.path("p.pool.migrating").exists());
}

#[test]
fn open_auto_refuses_a_lossy_change_and_leaves_the_file_untouched() {
    let d = Dir::new("auto", "open-auto-lossy");
    let path = d.path("p.pool");
    let mut p = Pool::<PHashSet<u64>>::create(&path).unwrap();
    p.tx(|tx| tx.root_mut().extend([1u64, 2, 3])).unwrap();
    drop(p);
    let before = std::fs::read(&path).unwrap();
    let old_inode = inode(&path);
    let e =
        pmem::migrate::open_auto::<PHashSet<u32>>(&path, &PoolOptions::new(), AutoMigrate::new())
            .err()
            .unwrap();
    match &e {
        Error::NotAutoMigratable { path, change } => {
            assert_eq!(path, "root[]");
            assert!(change.contains("u64 → u32"), "{change}");
        }
        other => panic!("expected NotAutoMigratable, got {other:?}"),
    }
    assert!(
        std::fs::read(&path).unwrap() == before,
        "file bytes changed"
    );
    assert_eq!(inode(&path), old_inode);
    let p = Pool::<PHashSet<u64>>::open(&path).unwrap();
    assert!(p.read(|s| s.contains(&3)).unwrap());
    // A missing file is the open's own error, not a migration's.
    let e = pmem::migrate::open_auto::<PHashSet<u64>>(
        d.path("none.pool"),
        &PoolOptions::new(),
        AutoMigrate::new(),
    )
    .err()
    .unwrap();
    assert!(matches!(e, Error::Io { .. }), "{e:?}");
}

// ---- enums whose variants hold fields ----

mod ev1 {
    #[derive(pmem::Persistent, Default, Clone, Copy, PartialEq, Debug)]
    #[pmem(plain)]
    #[repr(u8)]
    pub(crate) enum Event {
        #[default]
        Idle,
        Wide {
            to: u32,
            amount: i16,
        },
        Pair(u8, u16),
    }

    #[derive(pmem::Persistent, Default)]
    #[repr(C)]
    pub(crate) struct EvRoot {
        pub(crate) ev: Event,
        pub(crate) evs: pmem::PVec<Event>,
    }
}

fn memo() -> u16 {
    0xBEEF
}

#[derive(Persistent, Default, Clone, Copy, PartialEq, Debug)]
#[pmem(plain)]
#[repr(u8)]
enum Event {
    #[default]
    Idle,
    Wide {
        to: u64,
        #[pmem(renamed_from = "amount")]
        sum: i32,
        #[pmem(default = "memo")]
        memo: u16,
    },
    Pair(u16, u32),
    Later {
        n: u8,
    },
}

#[derive(Persistent, Default)]
#[repr(C)]
struct EvRoot {
    evs: PVec<Event>,
    ev: Event,
}

#[test]
fn an_enum_whose_variants_hold_fields_migrates_by_variant_and_field_name() {
    let d = Dir::new("auto", "enum-fields");
    let path = d.path("p.pool");
    let mut p = Pool::<ev1::EvRoot>::create(&path).unwrap();
    p.tx(|tx| {
        let r = tx.root_mut();
        r.set_ev(ev1::Event::Wide {
            to: u32::MAX,
            amount: -5,
        })?;
        r.evs_mut().push(ev1::Event::Pair(200, 60_000))?;
        r.evs_mut().push(ev1::Event::Idle)?;
        r.evs_mut().push(ev1::Event::Wide { to: 7, amount: 300 })
    })
    .unwrap();
    drop(p);
    migrate_to::<EvRoot>(&path);
    let mut p = Pool::<EvRoot>::open(&path).unwrap();
    p.check().unwrap();
    p.read(|r| {
        assert_eq!(
            r.ev,
            Event::Wide {
                to: u64::from(u32::MAX),
                sum: -5,
                memo: 0xBEEF
            }
        );
        assert_eq!(
            r.evs.iter().copied().collect::<Vec<_>>(),
            [
                Event::Pair(200, 60_000),
                Event::Idle,
                Event::Wide {
                    to: 7,
                    sum: 300,
                    memo: 0xBEEF
                }
            ]
        );
    })
    .unwrap();
    p.tx(|tx| tx.root_mut().evs_mut().push(Event::Later { n: 3 }))
        .unwrap();
    assert_eq!(p.read(|r| r.evs[3]).unwrap(), Event::Later { n: 3 });
    p.check().unwrap();
}

mod ev_dropped {
    #[derive(pmem::Persistent, Default, Clone, Copy, PartialEq, Debug)]
    #[pmem(plain)]
    #[repr(u8)]
    pub(crate) enum Event {
        #[default]
        Idle,
        Wide {
            to: u32,
        },
        Pair(u8, u16),
    }
}

mod ev_no_pair {
    #[allow(dead_code)] // only the migration's refusal is tested
    #[derive(pmem::Persistent, Default, Clone, Copy, PartialEq, Debug)]
    #[pmem(plain)]
    #[repr(u8)]
    pub(crate) enum Event {
        #[default]
        Idle,
        Wide {
            to: u32,
            amount: i16,
        },
    }
}

#[test]
fn a_removed_variant_field_is_refused_unless_dropping_is_asked_for_and_a_removed_variant_always() {
    let d = Dir::new("auto", "enum-removed");
    let path = d.path("p.pool");
    let mut p = Pool::<PVec<ev1::Event>>::create(&path).unwrap();
    p.tx(|tx| {
        tx.root_mut().push(ev1::Event::Wide { to: 9, amount: 4 })?;
        tx.root_mut().push(ev1::Event::Pair(1, 2))
    })
    .unwrap();
    drop(p);
    let before = std::fs::read(&path).unwrap();
    let e = auto::<PVec<ev_dropped::Event>>(&path, &PoolOptions::new(), AutoMigrate::new())
        .unwrap_err();
    match &e {
        Error::NotAutoMigratable { path, change } => {
            assert_eq!(path, "root[]::Wide.amount");
            assert!(change.contains("field removed"), "{change}");
        }
        other => panic!("expected NotAutoMigratable, got {other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // A removed variant is refused, even when dropping fields is allowed.
    let lossy = AutoMigrate::new().drop_removed_fields(true);
    let e = auto::<PVec<ev_no_pair::Event>>(&path, &PoolOptions::new(), lossy).unwrap_err();
    match &e {
        Error::NotAutoMigratable { path, change } => {
            assert_eq!(path, "root[]::Pair");
            assert!(change.contains("variant removed"), "{change}");
        }
        other => panic!("expected NotAutoMigratable, got {other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(
        Pool::<PVec<ev1::Event>>::open(&path)
            .unwrap()
            .read(|v| v[0])
            .unwrap(),
        ev1::Event::Wide { to: 9, amount: 4 }
    );

    assert!(auto::<PVec<ev_dropped::Event>>(&path, &PoolOptions::new(), lossy).unwrap());
    let p = Pool::<PVec<ev_dropped::Event>>::open(&path).unwrap();
    p.check().unwrap();
    assert_eq!(
        p.read(|v| (v[0], v[1])).unwrap(),
        (
            ev_dropped::Event::Wide { to: 9 },
            ev_dropped::Event::Pair(1, 2)
        )
    );
}

mod doc1 {
    #[derive(pmem::Persistent, Default)]
    #[repr(u8)]
    pub(crate) enum Doc {
        #[default]
        Empty,
        Note(pmem::PVec<super::v1::Rec>),
    }
}

#[allow(dead_code)] // only built by the migration
#[derive(Persistent, Default)]
#[repr(u8)]
enum Doc {
    #[default]
    Empty,
    Note(PVec<Rec>),
}

/// Builds `doc1::Doc::Note` holding `recs` in the pool: the variant with an empty
/// vector first, then the vector's own `PInit` over it.
struct NoteOf(Vec<v1::Rec>);

// SAFETY: `init` writes a whole valid `Doc::Note` with an empty vector (owning
// nothing), then initialises the vector in place with its own `PInit`, under the
// same contract for `dst`.
unsafe impl pmem::PInit<doc1::Doc> for NoteOf {
    unsafe fn init(self, dst: *mut doc1::Doc) -> pmem::Result<()> {
        // SAFETY: forwarded contract; the vector slot lies inside `*dst`.
        unsafe {
            pmem::PInit::init(doc1::Doc::Note(PVec::default()), dst)?;
            match &mut *dst {
                doc1::Doc::Note(v) => pmem::PInit::init(self.0, std::ptr::from_mut(v)),
                doc1::Doc::Empty => unreachable!(),
            }
        }
    }
}

#[test]
fn an_enum_variant_owning_a_vector_of_changed_structs_migrates() {
    let d = Dir::new("auto", "enum-owning");
    let path = d.path("p.pool");
    let mut p = Pool::<PVec<doc1::Doc>>::create(&path).unwrap();
    p.tx(|tx| {
        tx.root_mut().push(NoteOf(vec![old_rec(1), old_rec(2)]))?;
        tx.root_mut().push(doc1::Doc::Empty)?;
        tx.root_mut().push(NoteOf(vec![old_rec(3)]))
    })
    .unwrap();
    drop(p);
    migrate_to::<PVec<Doc>>(&path);
    let p = Pool::<PVec<Doc>>::open(&path).unwrap();
    p.check().unwrap();
    p.read(|v| {
        let recs = |d: &Doc| match d {
            Doc::Note(r) => Some(r.iter().copied().collect::<Vec<_>>()),
            Doc::Empty => None,
        };
        assert_eq!(recs(&v[0]), Some(vec![new_rec(1), new_rec(2)]));
        assert_eq!(recs(&v[1]), None);
        assert_eq!(recs(&v[2]), Some(vec![new_rec(3)]));
    })
    .unwrap();
}

// ---- Option of a struct that changed ----

mod opt1 {
    /// `Option<Flagged>` has a niche (the bool).
    #[derive(pmem::Persistent, Default, Clone, Copy)]
    #[pmem(plain)]
    #[repr(C)]
    pub(crate) struct Flagged {
        pub(crate) on: bool,
        pub(crate) n: u32,
    }

    /// `Option<Ints>` is tagged (every bit pattern of the integers is valid).
    #[derive(pmem::Persistent, Default, Clone, Copy)]
    #[pmem(plain)]
    #[repr(C)]
    pub(crate) struct Ints {
        pub(crate) a: u32,
        pub(crate) b: u16,
    }

    #[derive(pmem::Persistent, Default, Clone, Copy)]
    #[pmem(plain)]
    #[repr(C)]
    pub(crate) struct Opts {
        pub(crate) f: Option<Flagged>,
        pub(crate) i: Option<Ints>,
    }
}

mod opt2 {
    #[derive(pmem::Persistent, Default, Clone, Copy, PartialEq, Debug)]
    #[pmem(plain)]
    #[repr(C)]
    pub(crate) struct Flagged {
        pub(crate) n: u64,
        pub(crate) on: bool,
        pub(crate) extra: u16,
    }

    #[derive(pmem::Persistent, Default, Clone, Copy, PartialEq, Debug)]
    #[pmem(plain)]
    #[repr(C)]
    pub(crate) struct Ints {
        pub(crate) a: u64,
        pub(crate) b: u32,
        pub(crate) c: u8,
    }

    #[derive(pmem::Persistent, Default, Clone, Copy, PartialEq, Debug)]
    #[pmem(plain)]
    #[repr(C)]
    pub(crate) struct Opts {
        pub(crate) f: Option<Flagged>,
        pub(crate) i: Option<Ints>,
    }
}

#[test]
fn an_option_of_a_changed_struct_migrates_with_a_niche_or_a_tag() {
    use std::mem::size_of;
    assert_eq!(
        size_of::<Option<opt1::Flagged>>(),
        size_of::<opt1::Flagged>()
    );
    assert!(size_of::<Option<opt1::Ints>>() > size_of::<opt1::Ints>());
    let d = Dir::new("auto", "option-struct");
    let path = d.path("p.pool");
    let mut p = Pool::<PVec<opt1::Opts>>::create(&path).unwrap();
    p.tx(|tx| {
        tx.root_mut().push(opt1::Opts {
            f: Some(opt1::Flagged { on: true, n: 41 }),
            i: None,
        })?;
        tx.root_mut().push(opt1::Opts {
            f: None,
            i: Some(opt1::Ints { a: u32::MAX, b: 9 }),
        })?;
        tx.root_mut().push(opt1::Opts {
            f: Some(opt1::Flagged { on: false, n: 0 }),
            i: Some(opt1::Ints { a: 0, b: 0 }),
        })
    })
    .unwrap();
    drop(p);
    migrate_to::<PVec<opt2::Opts>>(&path);
    let p = Pool::<PVec<opt2::Opts>>::open(&path).unwrap();
    p.check().unwrap();
    let f = |n, on| opt2::Flagged { n, on, extra: 0 };
    let i = |a, b| opt2::Ints { a, b, c: 0 };
    assert_eq!(
        p.read(|v| v.iter().copied().collect::<Vec<_>>()).unwrap(),
        [
            opt2::Opts {
                f: Some(f(41, true)),
                i: None
            },
            opt2::Opts {
                f: None,
                i: Some(i(u64::from(u32::MAX), 9))
            },
            opt2::Opts {
                f: Some(f(0, false)),
                i: Some(i(0, 0))
            },
        ]
    );
}

// ---- a `repr(C, u8)` enum: its tag is read where `repr(u8)` keeps it ----

mod cev1 {
    #[derive(pmem::Persistent, Default, Clone, Copy, PartialEq, Debug)]
    #[pmem(plain)]
    #[repr(C, u8)]
    pub(crate) enum Shape {
        #[default]
        Dot,
        Circle {
            r: u16,
        },
        Rect(u8, u8),
    }
}

#[derive(Persistent, Default, Clone, Copy, PartialEq, Debug)]
#[pmem(plain)]
#[repr(C, u8)]
enum Shape {
    #[default]
    Dot,
    Circle {
        r: u32,
        filled: bool,
    },
    Rect(u16, u16),
}

#[test]
fn a_repr_c_enum_with_fields_migrates() {
    let d = Dir::new("auto", "repr-c-enum");
    let path = d.path("p.pool");
    let mut p = Pool::<PVec<cev1::Shape>>::create(&path).unwrap();
    p.tx(|tx| {
        let v = tx.root_mut();
        v.push(cev1::Shape::Rect(3, 250))?;
        v.push(cev1::Shape::Circle { r: 40_000 })?;
        v.push(cev1::Shape::Dot)
    })
    .unwrap();
    drop(p);
    migrate_to::<PVec<Shape>>(&path);
    let p = Pool::<PVec<Shape>>::open(&path).unwrap();
    p.check().unwrap();
    assert_eq!(
        p.read(|v| v.iter().copied().collect::<Vec<_>>()).unwrap(),
        [
            Shape::Rect(3, 250),
            Shape::Circle {
                r: 40_000,
                filled: false
            },
            Shape::Dot
        ]
    );
}

// ---- 128-bit enum tags (the derive accepts them; every reader decodes them alike) ----

mod wv1 {
    #[derive(pmem::Persistent, Default, Clone, Copy, PartialEq, Debug)]
    #[pmem(plain)]
    #[repr(i128)]
    pub(crate) enum Wide {
        #[default]
        Low = -(1 << 100),
        High = 1 << 90,
    }

    #[derive(pmem::Persistent, Default)]
    #[repr(C)]
    pub(crate) struct WRoot {
        pub(crate) w: Wide,
        pub(crate) ws: pmem::PVec<Wide>,
    }
}

#[derive(Persistent, Default, Clone, Copy, PartialEq, Debug)]
#[pmem(plain)]
#[repr(i128)]
enum Wide {
    #[default]
    Low = -(1 << 100),
    High = 1 << 90,
    Later = 3,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct WRoot {
    w: Wide,
    ws: PVec<Wide>,
    count: u32,
}

/// A `repr(i128)` tag is 16 bytes, sign-extended: the migration, the validity check and
/// the `pmem` command read it through one definition (`inspect::EnumTag`); before it,
/// automatic migration refused `repr(i128)` as unsupported.
#[test]
fn an_enum_with_a_128_bit_tag_migrates_with_its_negative_discriminants() {
    let d = Dir::new("auto", "enum-i128");
    let path = d.path("p.pool");
    let mut p = Pool::<wv1::WRoot>::create(&path).unwrap();
    p.tx(|tx| {
        let r = tx.root_mut();
        r.set_w(wv1::Wide::High)?;
        r.ws_mut().push(wv1::Wide::Low)?;
        r.ws_mut().push(wv1::Wide::High)
    })
    .unwrap();
    drop(p);
    migrate_to::<WRoot>(&path);
    let mut p = Pool::<WRoot>::open(&path).unwrap();
    p.check().unwrap();
    p.tx(|tx| tx.root_mut().ws_mut().push(Wide::Later)).unwrap();
    p.read(|r| {
        assert_eq!(r.w, Wide::High);
        assert_eq!(
            r.ws.iter().copied().collect::<Vec<_>>(),
            [Wide::Low, Wide::High, Wide::Later]
        );
        assert_eq!(r.count, 0);
    })
    .unwrap();
}
