//! `PPtr`s under `pmem compact` of an application root (`pmem::compact::compact_untyped`,
//! ARCHITECTURE §15.5.1): one that aliases an owned value (a vector element, a boxed
//! value, a field of either, a root field, a string header) still aliases it after the
//! copy, with the new pool's tag; one whose target is not copied — in a vector's unused
//! capacity, at a freed box, made in another pool — is refused with a typed error and
//! the pool left byte for byte as it was.

use pmem::compact::compact_untyped;
use pmem::{Error, PBox, PPtr, PString, PVec, Persistent, Pool, PoolOptions};

mod untyped;
use untyped::{new_item, off, pmem_compact, serial, Dir, Item};

#[derive(Persistent, Default)]
#[repr(C)]
struct Linked {
    items: PVec<Item>,
    boxed: Option<PBox<Item>>,
    id: u64,
    to_elem: PPtr<Item>,
    to_box: PPtr<Item>,
    to_field: PPtr<u64>,
    to_root: PPtr<u64>,
    to_name: PPtr<PString>,
    null: PPtr<Item>,
}

#[test]
fn pptrs_that_alias_owned_values_keep_aliasing_them() {
    let _serial = serial();
    let d = Dir::new("alias");
    let path = d.file("l.pool");
    let mut pool = Pool::<Linked>::create(&path).unwrap();
    pool.tx(|tx| {
        let l = tx.root_mut();
        for i in 0..40 {
            new_item(i)(l.items_mut().push_mut(Item::default())?)?;
        }
        l.items_mut().truncate(10)?; // capacity stays 40: the buffer moves and shrinks
        new_item(77)(l.boxed_mut().insert(Item::default())?)?;
        *l.id_mut() = 5;
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.tx(|tx| {
        let r = tx.root();
        let (e, b, f, id, n) = (
            PPtr::from_ref(&r.items[3]).unwrap(),
            PPtr::from_ref(&**r.boxed.as_ref().unwrap()).unwrap(),
            PPtr::from_ref(&r.items[9].id).unwrap(),
            PPtr::from_ref(&r.id).unwrap(),
            PPtr::from_ref(&r.boxed.as_ref().unwrap().name).unwrap(),
        );
        let l = tx.root_mut();
        *l.to_elem_mut() = e;
        *l.to_box_mut() = b;
        *l.to_field_mut() = f;
        *l.to_root_mut() = id;
        *l.to_name_mut() = n;
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.close().unwrap();

    let r = pmem_compact(&path);
    assert_eq!(r.code, 0, "{}", r.err);
    let pool = Pool::<Linked>::open(&path).unwrap();
    pool.check().unwrap();
    pool.read(|l| {
        assert_eq!((l.items.len(), l.items.capacity()), (10, 10));
        // SAFETY: every target is owned by the root and nothing frees it while we read.
        unsafe {
            assert_eq!(l.to_elem.as_ref_in(l).unwrap().map(|i| i.id), Some(3));
            assert_eq!(l.to_box.as_ref_in(l).unwrap().map(|i| i.id), Some(77));
            assert_eq!(l.to_field.as_ref_in(l).unwrap(), Some(&9));
            assert_eq!(l.to_root.as_ref_in(l).unwrap(), Some(&5));
            assert_eq!(
                l.to_name.as_ref_in(l).unwrap().map(PString::as_str),
                Some("item 77")
            );
            assert_eq!(l.null.as_ref_in(l).unwrap().map(|i| i.id), None);
        }
        // Aliases, not copies: the very places the owners hold.
        assert_eq!(l.to_elem.offset(), off(&l.items[3]));
        assert_eq!(l.to_box.offset(), off(&**l.boxed.as_ref().unwrap()));
        assert_eq!(l.to_field.offset(), off(&l.items[9].id));
        assert_eq!(l.to_root.offset(), off(&l.id));
        assert_eq!(l.to_name.offset(), off(&l.boxed.as_ref().unwrap().name));
    })
    .unwrap();
}

/// The pool's files, byte for byte.
fn files(d: &Dir) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(&d.0)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn refused(name: &str, link: impl FnOnce(&mut Pool<Linked>)) {
    let d = Dir::new(name);
    let path = d.file("l.pool");
    let mut pool = Pool::<Linked>::create(&path).unwrap();
    pool.tx(|tx| {
        let l = tx.root_mut();
        for i in 0..10 {
            new_item(i)(l.items_mut().push_mut(Item::default())?)?;
        }
        new_item(77)(l.boxed_mut().insert(Item::default())?)?;
        Ok::<_, Error>(())
    })
    .unwrap();
    link(&mut pool);
    pool.close().unwrap();
    let before = files(&d);
    let r = pmem_compact(&path);
    assert_ne!(r.code, 0, "{name}: {}", r.out);
    assert!(!r.err.contains("panicked"), "{name}: {}", r.err);
    assert!(
        r.err.contains("root.to_elem") && r.err.contains("cannot be carried"),
        "{name}: {}",
        r.err
    );
    let e = compact_untyped(&path, &PoolOptions::new()).unwrap_err();
    assert!(
        matches!(&e, Error::NotRelocatableAt { path, .. } if path == "root.to_elem"),
        "{name}: {e:?}"
    );
    assert_eq!(
        files(&d),
        before,
        "{name}: a refused compaction changed the pool"
    );
    Pool::<Linked>::open(&path).unwrap().check().unwrap();
}

#[test]
fn a_dangling_or_foreign_pptr_is_refused_and_the_pool_left_as_it_was() {
    let _serial = serial();
    // Into a vector's unused capacity (the copy keeps only its length).
    refused("spare-capacity", |p| {
        p.tx(|tx| {
            let e = PPtr::from_ref(&tx.root().items[8]).unwrap();
            *tx.root_mut().to_elem_mut() = e;
            tx.root_mut().items_mut().truncate(5)
        })
        .unwrap();
    });
    // At a box freed since.
    refused("freed", |p| {
        p.tx(|tx| {
            let e = PPtr::from_ref(&**tx.root().boxed.as_ref().unwrap()).unwrap();
            *tx.root_mut().to_elem_mut() = e;
            tx.root_mut().boxed_mut().clear()
        })
        .unwrap();
    });
    // Made in another pool.
    refused("foreign", |p| {
        let other = Pool::<Item>::volatile().unwrap();
        let e = other.read(|i| PPtr::from_ref(i).unwrap()).unwrap();
        p.tx(|tx| {
            *tx.root_mut().to_elem_mut() = e;
            Ok::<_, Error>(())
        })
        .unwrap();
    });
}
