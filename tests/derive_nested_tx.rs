//! Nesting through a second handle. Through one handle a nested `tx` (or a `tx` inside
//! `read`) is a compile error (`ui/tx/nested_tx.rs`, `ui/tx/read_held_across_tx.rs`); a
//! cloned handle hides the nesting from the borrow checker, so the engine refuses a
//! nested transaction at run time with `Error::WouldDeadlock`. Nothing is flattened:
//! the outer transaction's own writes still commit or roll back as one. A `tx` inside
//! a `read` through a clone works (reads run on a snapshot and hold no lock), and the
//! read keeps seeing its snapshot.

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
fn a_transaction_inside_a_read_through_a_cloned_handle_commits_and_the_read_keeps_its_snapshot() {
    let pool = Pool::<Counter>::volatile().unwrap();
    let mut clone = pool.clone();
    let (inner, seen) = pool
        .read(|c| {
            let inner = clone.tx(|tx| {
                tx.root_mut().set_hits(5)?;
                Ok::<_, Error>(())
            });
            (inner, c.hits)
        })
        .unwrap();
    assert!(inner.is_ok(), "got {inner:?}");
    assert_eq!(seen, 0);
    assert_eq!(pool.read(|c| c.hits).unwrap(), 5);
}
