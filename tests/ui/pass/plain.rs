//! `#[pmem(plain)]`: a `Copy` type of plain fields is its own view (`&mut` after one
//! snapshot), implements `Plain`, and so fits in arrays and `Option`s.
use pmem::{Error, Persistent, Plain, Pool};

#[derive(Persistent, Default, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
#[pmem(plain)]
struct Point {
    x: f64,
    y: f64,
}

#[derive(Persistent, Default, Clone, Copy, Debug, PartialEq)]
#[repr(u8)]
#[pmem(plain)]
enum Dir {
    #[default]
    North,
    South,
}

#[derive(Persistent, Default, Clone, Copy)]
#[repr(C)]
#[pmem(plain)]
struct Tagged<T: Plain> {
    value: T,
    dir: Dir,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Path {
    points: [Point; 3],
    last: Option<Point>,
    dir: Dir,
    tagged: Tagged<u32>,
}

fn assert_plain<T: Plain>() {}

fn main() -> Result<(), Error> {
    assert_plain::<Point>();
    assert_plain::<Dir>();
    assert_plain::<Tagged<Point>>();
    let mut pool = Pool::<Path>::volatile()?;
    pool.tx(|tx| {
        let path = tx.root_mut();
        path.points_mut()[1].x = 2.0;
        *path.last_mut() = Some(Point { x: 1.0, y: 1.0 });
        *path.dir_mut() = Dir::South;
        path.tagged_mut().value = 7;
        Ok::<_, Error>(())
    })?;
    pool.read(|p| {
        assert_eq!(p.points[1], Point { x: 2.0, y: 0.0 });
        assert_eq!(p.last, Some(Point { x: 1.0, y: 1.0 }));
        assert_eq!((p.dir, p.tagged.value), (Dir::South, 7));
    })?;
    Ok(())
}
