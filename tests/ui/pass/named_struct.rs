//! A struct with named fields of every kind: plain data, a nested derived struct, owning
//! and non-owning pointers; each field's accessor pair, and `update` on the plain one.
use pmem::{Error, PBox, PPtr, Persistent, Pool};

#[derive(Persistent, Default, Debug, PartialEq)]
#[repr(C)]
pub struct Point {
    pub x: i64,
    pub y: i64,
}

#[derive(Persistent, Default)]
#[repr(C)]
pub struct Scene {
    pub origin: Point,
    pub count: u32,
    pub flags: (u8, bool),
    pub tags: [u16; 4],
    pub label: Option<u64>,
    pub boxed: Option<PBox<Point>>,
    pub link: PPtr<u64>,
}

fn main() -> Result<(), Error> {
    let mut pool = Pool::<Scene>::volatile()?;
    pool.tx(|tx| {
        let scene: &mut SceneMut = tx.root_mut();
        *scene.count_mut() += 1;
        scene.flags_mut().1 = true;
        scene.tags_mut()[3] = 7;
        scene.set_label(Some(9))?;
        let origin: &mut PointMut = scene.origin_mut();
        *origin.x_mut() = 3;
        origin.update(|p| p.y = p.x * 2);
        scene.boxed_mut().insert(Point { x: 1, y: 1 })?;
        scene.set_link(PPtr::null())?;
        Ok::<_, Error>(())
    })?;
    pool.read(|s| {
        assert_eq!(s.origin, Point { x: 3, y: 6 });
        assert_eq!((s.count, s.flags, s.tags, s.label), (1, (0, true), [0, 0, 0, 7], Some(9)));
        assert_eq!(s.boxed.as_deref(), Some(&Point { x: 1, y: 1 }));
    })?;
    pool.check()?;
    Ok(())
}
