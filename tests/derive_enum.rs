//! End-to-end tests of `#[derive(Persistent)]` on enums with an explicit integer repr:
//! fieldless and data-carrying enums are replaced whole through `set` (or the parent's
//! `set_` accessor), roll back with their transaction, free what the old variant owned,
//! and are walked by the integrity check; `repr(C, Int)` offsets match the real layout.

use std::num::NonZeroU64;

use pmem::schema::Shape;
use pmem::{Error, PBox, PInit, Persistent, Pool};

#[derive(Persistent, Default, Debug, Clone, Copy, PartialEq)]
#[repr(u8)]
enum Status {
    #[default]
    Open,
    Frozen = 10,
    Closed,
}

#[derive(Persistent, Default, Debug, PartialEq)]
#[repr(u32)]
enum Event {
    #[default]
    None,
    Deposit(u64),
    Transfer {
        to: u64,
        amount: i64,
    },
}

#[derive(Persistent, Default)]
#[repr(u8)]
enum Slot {
    #[default]
    Empty,
    Inline(u64),
    Boxed(PBox<u64>),
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Account {
    status: Status,
    last: Event,
    slot: Slot,
}

#[test]
fn enums_are_replaced_whole_and_read_back() {
    let mut pool = Pool::<Account>::volatile().unwrap();
    pool.tx(|tx| {
        let a = tx.root_mut();
        a.set_status(Status::Frozen)?;
        a.last_mut().set(Event::Transfer { to: 7, amount: -3 })?;
        a.slot_mut().set(Slot::Inline(4))?;
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.read(|a| {
        assert_eq!(a.status, Status::Frozen);
        assert_eq!(a.status as u8, 10);
        assert_eq!(a.last, Event::Transfer { to: 7, amount: -3 });
        assert!(matches!(a.slot, Slot::Inline(4)));
    })
    .unwrap();
}

#[test]
fn an_enum_change_rolls_back_with_its_transaction() {
    let mut pool = Pool::<Account>::volatile().unwrap();
    pool.tx(|tx| tx.root_mut().set_last(Event::Deposit(5)))
        .unwrap();
    let before = pool.heap_image();
    let r: Result<(), Error> = pool.tx(|tx| {
        let a = tx.root_mut();
        a.set_status(Status::Closed)?;
        a.last_mut().set(Event::None)?;
        Err(Error::ReadOnly)
    });
    assert!(r.is_err());
    assert!(pool.heap_image() == before);
    assert_eq!(
        pool.read(|a| (a.status, a.last == Event::Deposit(5)))
            .unwrap(),
        (Status::Open, true)
    );
}

/// Builds `Slot::Boxed(value)` in the pool, as a collection's `PInit` would: allocate
/// the target in the destination's pool, write it, then write the enum.
struct NewBoxed(u64);

// SAFETY: allocates only in the pool `dst` lies in and fully initialises `dst`.
unsafe impl PInit<Slot> for NewBoxed {
    unsafe fn init(self, dst: *mut Slot) -> pmem::Result<()> {
        // SAFETY: `dst` lies in a pool with an open transaction (the trait's contract);
        // the allocation is fresh, 8 bytes, aligned for u64; `PBox<u64>` is a
        // `repr(transparent)` non-zero pool offset.
        unsafe {
            let p = pmem::raw::alloc(dst.cast(), 8, 8)?;
            pmem::raw::snapshot(p, 8);
            p.cast::<u64>().write(self.0);
            let off =
                NonZeroU64::new(pmem::raw::offset_of(p).expect("in the pool")).expect("nonzero");
            dst.write(Slot::Boxed(std::mem::transmute::<NonZeroU64, PBox<u64>>(
                off,
            )));
        }
        Ok(())
    }
}

#[test]
fn replacing_a_variant_frees_what_the_old_one_owned() {
    let mut pool = Pool::<Account>::volatile().unwrap();
    pool.tx(|tx| tx.root_mut().set_slot(NewBoxed(42))).unwrap();
    assert_eq!(
        pool.check().unwrap().allocations,
        2,
        "the check walks into the live variant"
    );
    assert_eq!(
        pool.read(|a| if let Slot::Boxed(b) = &a.slot { **b } else { 0 })
            .unwrap(),
        42
    );

    pool.tx(|tx| tx.root_mut().slot_mut().set(NewBoxed(43)))
        .unwrap();
    assert_eq!(
        pool.check().unwrap().allocations,
        2,
        "the first box was freed"
    );

    let r: Result<(), Error> = pool.tx(|tx| {
        tx.root_mut().set_slot(Slot::Empty)?;
        Err(Error::ReadOnly)
    });
    assert!(r.is_err());
    assert_eq!(
        pool.check().unwrap().allocations,
        2,
        "the rolled-back free did not happen"
    );

    pool.tx(|tx| tx.root_mut().set_slot(Slot::Inline(1)))
        .unwrap();
    assert_eq!(pool.check().unwrap().allocations, 1);
}

#[derive(Persistent, Default)]
#[repr(C, u16)]
enum Mixed {
    #[default]
    A,
    B(u8, u64),
    C {
        x: u32,
        y: [u8; 3],
    },
}

fn field_offsets(variant: &str) -> Vec<usize> {
    let Shape::Enum { variants, .. } = &Mixed::SCHEMA.shape else {
        panic!("not an enum schema")
    };
    variants
        .iter()
        .find(|v| v.name == variant)
        .unwrap()
        .fields
        .iter()
        .map(|f| f.offset)
        .collect()
}

fn offset_in(value: &Mixed, field: *const u8) -> usize {
    field as usize - std::ptr::from_ref(value) as usize
}

#[test]
fn variant_field_offsets_in_the_schema_match_the_real_layout() {
    let b = Mixed::B(1, 2);
    let Mixed::B(b0, b1) = &b else { unreachable!() };
    assert_eq!(
        field_offsets("B"),
        [
            offset_in(&b, std::ptr::from_ref(b0).cast()),
            offset_in(&b, std::ptr::from_ref(b1).cast())
        ]
    );
    let c = Mixed::C { x: 1, y: [2; 3] };
    let Mixed::C { x, y } = &c else {
        unreachable!()
    };
    assert_eq!(
        field_offsets("C"),
        [
            offset_in(&c, std::ptr::from_ref(x).cast()),
            offset_in(&c, y.as_ptr())
        ]
    );

    let e = Event::Transfer { to: 1, amount: 2 };
    let Event::Transfer { to, amount } = &e else {
        unreachable!()
    };
    let Shape::Enum { variants, repr } = &Event::SCHEMA.shape else {
        panic!()
    };
    assert_eq!(*repr, "u32");
    let offs: Vec<usize> = variants[2].fields.iter().map(|f| f.offset).collect();
    let real = |p: *const u8| p as usize - std::ptr::from_ref(&e) as usize;
    assert_eq!(
        offs,
        [
            real(std::ptr::from_ref(to).cast()),
            real(std::ptr::from_ref(amount).cast())
        ]
    );
}

#[test]
fn the_schema_records_each_discriminant() {
    let Shape::Enum { variants, .. } = &Status::SCHEMA.shape else {
        panic!()
    };
    let discs: Vec<(&str, i128)> = variants.iter().map(|v| (v.name, v.discriminant)).collect();
    assert_eq!(discs, [("Open", 0), ("Frozen", 10), ("Closed", 11)]);
}
