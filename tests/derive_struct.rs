//! End-to-end tests of `#[derive(Persistent)]` on structs: accessors write through
//! snapshots (so errors and panics roll them back), `set_` frees what the old value
//! owned, `update` changes a plain struct in one go, and the fingerprint tells layouts
//! apart.

use pmem::{Error, PBox, PPtr, Persistent, Pool};

#[derive(Persistent, Default, Debug, Clone, PartialEq)]
#[repr(C)]
struct Point {
    x: i64,
    y: i64,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Scene {
    origin: Point,
    count: u32,
    tags: [u16; 4],
    label: Option<u64>,
    boxed: Option<PBox<Point>>,
    link: PPtr<u64>,
}

#[test]
fn accessor_writes_commit() {
    let mut pool = Pool::<Scene>::volatile().unwrap();
    pool.tx(|tx| {
        let s = tx.root_mut();
        *s.count_mut() += 3;
        *s.origin_mut().x_mut() = 7;
        s.origin_mut().set_y(-2)?;
        s.tags_mut()[1] = 9;
        *s.label_mut() = Some(5);
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.read(|s| {
        assert_eq!(s.count, 3);
        assert_eq!(s.origin, Point { x: 7, y: -2 });
        assert_eq!(s.tags, [0, 9, 0, 0]);
        assert_eq!(s.label, Some(5));
    })
    .unwrap();
}
