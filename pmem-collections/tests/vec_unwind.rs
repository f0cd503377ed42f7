//! Failures in the middle of multi-step vector changes: a `retain` closure panicking
//! halfway through compaction, an element that fails to be written, running out of pool
//! space while growing. A panic that escapes the transaction rolls it back; a panic or
//! error caught inside it leaves the vector consistent and leak-free.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pmem_collections::{PString, PVec};
use pmem_core::{Error, Pool, PoolOptions};

fn strings(v: &PVec<PString>) -> Vec<String> {
    v.iter().map(ToString::to_string).collect()
}

fn setup() -> Pool<PVec<PString>> {
    let mut pool = Pool::<PVec<PString>>::volatile().unwrap();
    pool.tx(|tx| tx.root_mut().extend((0..10).map(|i| format!("s{i}"))))
        .unwrap();
    pool
}

#[test]
fn a_panic_in_retain_rolls_the_transaction_back() {
    let mut pool = setup();
    let before = pool.read(strings).unwrap();
    let r = catch_unwind(AssertUnwindSafe(|| {
        let _ = pool.tx(|tx| {
            let mut n = 0;
            tx.root_mut().retain(|_| {
                n += 1;
                assert!(n < 6, "closure exploded");
                n % 2 == 0
            })
        });
    }));
    assert!(r.is_err());
    assert_eq!(pool.read(strings).unwrap(), before);
    pool.check().unwrap();
}

#[test]
fn a_panic_in_retain_caught_inside_the_transaction_keeps_unvisited_elements() {
    let mut pool = setup();
    pool.tx(|tx| {
        let v = tx.root_mut();
        let mut n = 0;
        let r = catch_unwind(AssertUnwindSafe(|| {
            v.retain(|_| {
                n += 1;
                assert!(n < 6, "closure exploded");
                n % 2 == 0 // drops s0, s2, s4
            })
        }));
        assert!(r.is_err());
        // s0..s4 were visited (s1, s3 kept); s5 panicked and s5..s9 are kept as they were.
        assert_eq!(strings(v), ["s1", "s3", "s5", "s6", "s7", "s8", "s9"]);
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(
        pool.read(strings).unwrap(),
        ["s1", "s3", "s5", "s6", "s7", "s8", "s9"]
    );
    pool.check().unwrap(); // the dropped strings were freed exactly once
}

#[test]
fn a_failing_element_leaves_the_vector_unchanged() {
    // A nested vector whose element fails to be written: the push changes nothing.
    let mut pool = PoolOptions::new()
        .initial_size(64 << 10)
        .max_size(256 << 10)
        .volatile::<PVec<PVec<u64>>>()
        .unwrap();
    pool.tx(|tx| tx.root_mut().push(vec![1, 2, 3])).unwrap();
    let r = pool.tx(|tx| {
        let v = tx.root_mut();
        let e = v.push(vec![0u64; 30_000]).unwrap_err(); // 240 KiB: more than the pool has free
        assert!(matches!(e, Error::OutOfSpace { .. }), "{e:?}");
        let e = v.insert(0, vec![0u64; 30_000]).unwrap_err();
        assert!(matches!(e, Error::OutOfSpace { .. }), "{e:?}");
        let e = v.set(0, vec![0u64; 30_000]).unwrap_err();
        assert!(matches!(e, Error::OutOfSpace { .. }), "{e:?}");
        assert_eq!(v.len(), 1);
        assert_eq!(v[0][..], [1, 2, 3]);
        Ok::<_, Error>(())
    });
    r.unwrap();
    assert_eq!(pool.read(|v| v[0].to_vec()).unwrap(), [1, 2, 3]);
    pool.check().unwrap();
}

#[test]
fn running_out_of_space_while_growing_leaves_the_vector_unchanged() {
    let mut pool = PoolOptions::new()
        .initial_size(64 << 10)
        .max_size(512 << 10)
        .volatile::<PVec<u64>>()
        .unwrap();
    let pushed = pool
        .tx(|tx| {
            let v = tx.root_mut();
            let mut n = 0u64;
            loop {
                if let Err(e) = v.push(n) {
                    assert!(matches!(e, Error::OutOfSpace { .. }), "{e:?}");
                    assert_eq!(v.len() as u64, n);
                    return Ok::<_, Error>(n);
                }
                n += 1;
            }
        })
        .unwrap();
    assert!(pushed > 1000);
    assert!(pool.read(|v| v.iter().copied().eq(0..pushed)).unwrap());
    pool.check().unwrap();
}
