//! Automatic migration (`pmem::migrate::auto`): changes that lose nothing — fields
//! added, reordered, renamed by attribute, integers and floats widened, enum variants
//! appended — at the root and inside `Option<PBox>`, `PVec` and recursive types; a
//! removed field only when asked; everything else refused with a typed error that
//! names the path, leaving the old pool exactly as it was.

mod common;
use common::Dir;

use pmem::migrate::auto;
use pmem::{AutoMigrate, Error, PBox, PHashMap, PString, PVec, Persistent, Pool, PoolOptions};

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
fn a_changed_map_value_type_is_refused() {
    let d = Dir::new("auto", "map");
    let path = d.path("p.pool");
    let mut p = Pool::<PHashMap<u64, u32>>::create(&path).unwrap();
    p.tx(|tx| tx.root_mut().insert(1, 2).map(drop)).unwrap();
    drop(p);
    let e = auto::<PHashMap<u64, u64>>(&path, &PoolOptions::new(), AutoMigrate::new()).unwrap_err();
    assert!(
        matches!(&e, Error::NotAutoMigratable { path, .. } if path.starts_with("root")),
        "{e:?}"
    );
    assert_eq!(
        Pool::<PHashMap<u64, u32>>::open(&path)
            .unwrap()
            .read(|m| m.get(&1).copied())
            .unwrap(),
        Some(2)
    );
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
