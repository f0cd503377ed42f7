//! End-to-end tests of `#[derive(Persistent)]` on structs, on volatile pools: accessor
//! writes commit, and roll back (byte for byte) on `Err` and on panic; `set_` frees
//! what the old value owned and keeps the old value when the new one fails to build;
//! `update` changes a plain struct in one go; a field accessor logs only its field;
//! generic and tuple structs work the same way.

mod common;
use common::Dir;

use std::panic::{catch_unwind, AssertUnwindSafe};

use pmem::{Durability, Error, PBox, PInit, PPtr, Persistent, Pool, PoolOptions};

#[derive(Persistent, Default, Debug, Clone, PartialEq)]
#[repr(C)]
struct Point {
    x: i64,
    y: i64,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Leaf {
    value: u64,
    child: Option<PBox<u64>>,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Scene {
    origin: Point,
    count: u32,
    tags: [u16; 4],
    label: Option<u64>,
    leaf: Leaf,
    boxed: Option<PBox<Leaf>>,
    link: PPtr<u64>,
}

/// Fills every kind of field of the scene (two boxes: `boxed` and its child).
fn fill(pool: &mut Pool<Scene>) {
    pool.tx(|tx| {
        let s = tx.root_mut();
        *s.count_mut() = 1;
        s.origin_mut().set_x(10)?;
        s.tags_mut()[0] = 1;
        let boxed = s.boxed_mut().insert(Leaf {
            value: 5,
            child: None,
        })?;
        boxed.child_mut().insert(6)?;
        Ok::<_, Error>(())
    })
    .unwrap();
}

/// Every kind of write a transaction can make through the generated accessors.
fn write_everything(s: &mut SceneMut) -> Result<(), Error> {
    *s.count_mut() += 100;
    *s.origin_mut().x_mut() = -1;
    s.origin_mut().update(|p| p.y = 99);
    s.set_origin(Point { x: 1, y: 2 })?;
    s.tags_mut()[3] = 7;
    s.set_label(Some(3))?;
    *s.leaf_mut().value_mut() = 8;
    s.leaf_mut().child_mut().insert(9)?;
    s.set_boxed(None)?;
    s.set_link(PPtr::null())?;
    Ok(())
}

#[test]
fn accessor_writes_commit_and_read_back_as_plain_fields() {
    let mut pool = Pool::<Scene>::volatile().unwrap();
    fill(&mut pool);
    pool.tx(|tx| write_everything(tx.root_mut())).unwrap();
    pool.read(|s| {
        assert_eq!(s.origin, Point { x: 1, y: 2 });
        assert_eq!((s.count, s.tags, s.label), (101, [1, 0, 0, 7], Some(3)));
        assert_eq!((s.leaf.value, s.leaf.child.as_deref()), (8, Some(&9)));
        assert!(s.boxed.is_none());
    })
    .unwrap();
    // The old `boxed` and its child were freed; the new leaf child was allocated.
    assert_eq!(pool.check().unwrap().allocations, 2);
}

#[test]
fn an_error_rolls_back_every_accessor_write_byte_for_byte() {
    let mut pool = Pool::<Scene>::volatile().unwrap();
    fill(&mut pool);
    let before = pool.heap_image();
    let r: Result<(), Error> = pool.tx(|tx| {
        write_everything(tx.root_mut())?;
        Err(Error::ReadOnly)
    });
    assert!(matches!(r, Err(Error::ReadOnly)));
    assert!(
        pool.heap_image() == before,
        "the heap changed after a rolled-back transaction"
    );
    assert_eq!(pool.check().unwrap().allocations, 3);
}

#[test]
fn a_panic_rolls_back_every_accessor_write_byte_for_byte() {
    let mut pool = Pool::<Scene>::volatile().unwrap();
    fill(&mut pool);
    let before = pool.heap_image();
    let r = catch_unwind(AssertUnwindSafe(|| {
        pool.tx(|tx| {
            write_everything(tx.root_mut())?;
            panic!("in the middle of a transaction");
            #[allow(unreachable_code)]
            Ok::<_, Error>(())
        })
    }));
    assert!(r.is_err());
    assert!(
        pool.heap_image() == before,
        "the heap changed after a panicking transaction"
    );
    pool.read(|s| assert_eq!((s.count, s.boxed.as_ref().map(|b| b.value)), (1, Some(5))))
        .unwrap();
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Holder {
    leaf: Leaf,
    other: Option<PBox<Leaf>>,
}

#[test]
fn set_frees_everything_the_old_value_owned() {
    let mut pool = Pool::<Holder>::volatile().unwrap();
    pool.tx(|tx| {
        let h = tx.root_mut();
        h.leaf_mut().child_mut().insert(1)?;
        h.other_mut()
            .insert(Leaf::default())?
            .child_mut()
            .insert(2)?;
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(pool.check().unwrap().allocations, 4);
    pool.tx(|tx| {
        let h = tx.root_mut();
        h.set_leaf(Leaf {
            value: 3,
            child: None,
        })?; // frees the leaf's child
        h.set_other(None)?; // frees the box and, through it, its child
        Ok::<_, Error>(())
    })
    .unwrap();
    // `check` walks every owned pointer from the root: no leak, nothing dangling.
    assert_eq!(pool.check().unwrap().allocations, 1);
    assert_eq!(pool.read(|h| h.leaf.value).unwrap(), 3);
}

#[test]
fn set_twice_in_one_transaction_frees_each_old_value_once() {
    let mut pool = Pool::<Holder>::volatile().unwrap();
    pool.tx(|tx| tx.root_mut().leaf_mut().child_mut().insert(1).map(|_| ()))
        .unwrap();
    pool.tx(|tx| {
        let h = tx.root_mut();
        h.set_leaf(Leaf::default())?;
        h.leaf_mut().child_mut().insert(2)?;
        h.set_leaf(Leaf::default())?; // frees the child allocated just above
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(pool.check().unwrap().allocations, 1);
}

/// A value that writes garbage and then fails, like a collection running out of space
/// half-way through building itself.
struct FailsHalfway;

// SAFETY: never leaves `dst` to be used as initialised: it answers an error.
unsafe impl PInit<u64> for FailsHalfway {
    unsafe fn init(self, dst: *mut u64) -> pmem::Result<()> {
        // SAFETY: `dst` is valid for writes (the trait's contract).
        unsafe { dst.write(0xdead) };
        Err(Error::OutOfSpace {
            requested: 1 << 40,
            max_size: 1 << 30,
        })
    }
}

#[test]
fn set_keeps_the_old_value_when_the_new_one_fails_to_build() {
    let mut pool = Pool::<Leaf>::volatile().unwrap();
    pool.tx(|tx| {
        let leaf = tx.root_mut();
        leaf.set_value(7)?;
        let r = leaf.set_value(FailsHalfway);
        assert!(matches!(r, Err(Error::OutOfSpace { .. })));
        assert_eq!(leaf.value, 7);
        Ok::<_, Error>(()) // the caller handled the error and commits
    })
    .unwrap();
    assert_eq!(pool.read(|l| l.value).unwrap(), 7);
}

#[derive(Persistent)]
#[repr(C)]
struct Wide {
    counter: u64,
    payload: [u64; 512],
}

impl Default for Wide {
    fn default() -> Self {
        Wide {
            counter: 0,
            payload: [0; 512],
        }
    }
}

fn log_growth(pool: &mut Pool<Wide>, f: impl FnOnce(&mut WideMut)) -> u64 {
    let before = pool.stats().unwrap().log_bytes;
    pool.tx(|tx| {
        f(tx.root_mut());
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.stats().unwrap().log_bytes - before
}

#[test]
fn a_field_accessor_logs_only_its_field_and_update_logs_the_whole_struct() {
    let dir = Dir::new("derive", "log");
    let mut pool = PoolOptions::new()
        .durability(Durability::Process)
        .create::<Wide>(dir.path("wide.pool"))
        .unwrap();
    let field = log_growth(&mut pool, |w| *w.counter_mut() += 1);
    let whole = log_growth(&mut pool, |w| w.update(|w| w.counter += 1));
    assert!(field < 512, "one u64 field logged {field} bytes");
    assert!(
        whole >= 8 * 512,
        "the whole struct logged only {whole} bytes"
    );
    drop(pool);
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Pair<A, B = u64> {
    a: A,
    b: B,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Generic<T: Persistent + Default> {
    pair: Pair<T>,
    boxed: Option<PBox<T>>,
}

#[test]
fn generic_structs_get_accessors_for_their_instantiated_field_types() {
    let mut pool = Pool::<Generic<Point>>::volatile().unwrap();
    pool.tx(|tx| {
        let g = tx.root_mut();
        *g.pair_mut().a_mut().x_mut() = 4; // `a: Point` has Point's view
        g.pair_mut().set_b(5)?;
        g.boxed_mut().insert(Point { x: 1, y: 1 })?.set_y(6)?;
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.read(|g| {
        assert_eq!((g.pair.a.x, g.pair.b), (4, 5));
        assert_eq!(g.boxed.as_deref(), Some(&Point { x: 1, y: 6 }));
    })
    .unwrap();
    assert_eq!(pool.check().unwrap().allocations, 2);
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Rgb(u8, u8, #[pmem(name = blue)] u8);

#[test]
fn tuple_struct_accessors_are_numbered_or_named() {
    let mut pool = Pool::<Rgb>::volatile().unwrap();
    pool.tx(|tx| {
        let c = tx.root_mut();
        *c.field_0_mut() = 10;
        c.set_field_1(20)?;
        *c.blue_mut() = 30;
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(pool.read(|c| (c.0, c.1, c.2)).unwrap(), (10, 20, 30));
    let r: Result<(), Error> = pool.tx(|tx| {
        tx.root_mut().set_blue(0)?;
        Err(Error::ReadOnly)
    });
    assert!(r.is_err());
    assert_eq!(pool.read(|c| c.2).unwrap(), 30);
}
