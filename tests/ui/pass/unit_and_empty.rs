//! Structs without fields: unit, empty braces and empty tuple.
use pmem::{Error, Persistent, Pool};

#[derive(Persistent, Default)]
#[repr(C)]
struct Unit;

#[derive(Persistent, Default)]
#[repr(C)]
struct Braces {}

#[derive(Persistent, Default)]
#[repr(C)]
struct Parens();

#[derive(Persistent, Default)]
#[repr(C)]
struct Holder {
    unit: Unit,
    braces: Braces,
    parens: Parens,
    n: u8,
}

fn main() -> Result<(), Error> {
    let mut pool = Pool::<Holder>::volatile()?;
    pool.tx(|tx| {
        let h = tx.root_mut();
        h.set_unit(Unit)?;
        h.braces_mut().update(|_| ());
        *h.n_mut() = 1;
        Ok::<_, Error>(())
    })?;
    assert_eq!(std::mem::size_of::<Unit>(), 0);
    assert_eq!(pool.read(|h| h.n)?, 1);
    Ok(())
}
