//! Tuple structs: accessors are `field_N_mut` / `set_field_N`, or named with
//! `#[pmem(name = ...)]`.
use pmem::{Error, Persistent, Pool};

#[derive(Persistent, Default)]
#[repr(C)]
struct Pair(u32, i64);

#[derive(Persistent, Default)]
#[repr(C)]
struct Span(#[pmem(name = start)] u64, #[pmem(name = end)] u64);

#[derive(Persistent, Default)]
#[repr(C)]
struct Both {
    pair: Pair,
    span: Span,
}

fn main() -> Result<(), Error> {
    let mut pool = Pool::<Both>::volatile()?;
    pool.tx(|tx| {
        let both = tx.root_mut();
        *both.pair_mut().field_0_mut() = 4;
        both.pair_mut().set_field_1(-4)?;
        *both.span_mut().start_mut() = 10;
        both.span_mut().set_end(20)?;
        Ok::<_, Error>(())
    })?;
    assert_eq!(pool.read(|b| (b.pair.0, b.pair.1, b.span.0, b.span.1))?, (4, -4, 10, 20));
    Ok(())
}
