//! Nesting through a second handle. Through one handle a nested `tx` (or a `tx` inside
//! `read`) is a compile error (`ui/tx/nested_tx.rs`, `ui/tx/read_held_across_tx.rs`); a
//! cloned handle hides the nesting from the borrow checker, so the engine refuses it at
//! run time with `Error::WouldDeadlock`. Nothing is flattened: the outer transaction's
//! own writes still commit or roll back as one.

use pmem::{Error, Persistent, Pool};

#[derive(Persistent, Default)]
#[repr(C)]
struct Counter {
    hits: u64,
}

#[test]
fn a_transaction_nested_through_a_cloned_handle_is_refused_not_flattened() {
    let mut pool = Pool::<Counter>::volatile().unwrap();
    let mut clone = pool.clone();
    pool.tx(|tx| {
        *tx.root_mut().hits_mut() += 1;
        let inner = clone.tx(|tx| {
            *tx.root_mut().hits_mut() += 100;
            Ok::<_, Error>(())
        });
        assert!(matches!(inner, Err(Error::WouldDeadlock)), "got {inner:?}");
        assert!(matches!(clone.read(|c| c.hits), Err(Error::WouldDeadlock)));
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(pool.read(|c| c.hits).unwrap(), 1);
}

#[test]
fn a_transaction_inside_a_read_through_a_cloned_handle_is_refused() {
    let pool = Pool::<Counter>::volatile().unwrap();
    let mut clone = pool.clone();
    let inner = pool
        .read(|_| {
            clone.tx(|tx| {
                tx.root_mut().set_hits(5)?;
                Ok::<_, Error>(())
            })
        })
        .unwrap();
    assert!(matches!(inner, Err(Error::WouldDeadlock)), "got {inner:?}");
    assert_eq!(pool.read(|c| c.hits).unwrap(), 0);
}
