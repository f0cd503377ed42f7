//! Enums with an explicit integer repr: fieldless, data-carrying, `repr(C, Int)`,
//! generic; replaced whole through `set` (or the parent's `set_` accessor).
use pmem::{Error, PBox, Persistent, Pool};

#[derive(Persistent, Default, Debug, PartialEq, Clone, Copy)]
#[repr(u8)]
enum Level {
    #[default]
    Low,
    Mid = 5,
    High,
}

#[derive(Persistent, Default, Debug, PartialEq)]
#[repr(u16)]
enum Shape {
    #[default]
    Empty,
    Circle { r: f64 } = 10,
    Rect(f32, f32),
}

#[derive(Persistent, Default, Debug, PartialEq)]
#[repr(C, u32)]
enum Tagged {
    #[default]
    None,
    Small(u8),
    Big { a: u64, b: u16 },
}

#[derive(Persistent, Default)]
#[repr(u8)]
enum Slot<T: Persistent> {
    #[default]
    Free,
    Used(T),
    Boxed(PBox<T>),
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Doc {
    level: Level,
    shape: Shape,
    tagged: Tagged,
    slot: Slot<u64>,
}

fn main() -> Result<(), Error> {
    let mut pool = Pool::<Doc>::volatile()?;
    pool.tx(|tx| {
        let doc = tx.root_mut();
        doc.set_level(Level::High)?;
        doc.shape_mut().set(Shape::Circle { r: 1.5 })?;
        doc.tagged_mut().update(|t| *t = Tagged::Big { a: 1, b: 2 });
        doc.set_slot(Slot::Used(4))?;
        Ok::<_, Error>(())
    })?;
    pool.read(|d| {
        assert_eq!(d.level, Level::High);
        assert_eq!(d.level as u8, 6);
        assert_eq!(d.shape, Shape::Circle { r: 1.5 });
        assert_eq!(d.tagged, Tagged::Big { a: 1, b: 2 });
        assert!(matches!(d.slot, Slot::Used(4)));
    })?;
    pool.check()?;
    Ok(())
}
