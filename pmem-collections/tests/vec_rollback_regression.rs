//! Regression: a rolled-back transaction must restore every byte it snapshotted, however
//! the snapshotted ranges overlap.
//!
//! Found by `vec_model` (a rolled-back `PVec<PString>` kept some appended characters).
//! Cause, in `pmem-core`'s journal (`RangeSet::fill_gaps`): when a snapshot starts inside
//! an interval A and runs past its end, and another interval B starts exactly at A's end
//! (adjacent intervals whose undo bytes are not contiguous, so not merged), the gap search
//! starts at `A.end` and asks for the first interval starting *after* it, missing B. The
//! range B covers is then saved a second time, with bytes the transaction has already
//! changed, and rollback writes those back. The same happens when the loop jumps to the
//! end of an interval that another one directly follows.
//!
//! Any write path can hit it: adjacent, unmerged intervals arise whenever two neighbouring
//! ranges are logged with something else logged in between (a slot, then a length word,
//! then the next slot).

use pmem_core::{Error, Pool};

type Root = ([u64; 32], [u64; 32]);

fn bytes(r: &Root) -> Vec<u8> {
    r.0.iter()
        .chain(r.1.iter())
        .flat_map(|w| w.to_le_bytes())
        .collect()
}

#[test]
fn rollback_restores_bytes_after_a_snapshot_spanning_two_adjacent_intervals() {
    let mut pool = Pool::<Root>::volatile().unwrap();
    pool.tx(|tx| {
        let r = tx.root_mut();
        for i in 0..32 {
            r.0[i] = i as u64 * 0x0101_0101_0101_0101;
            r.1[i] = !(i as u64);
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    let before = pool.read(bytes).unwrap();
    // The minimal sequence the model test shrank to: ranges of the root (offset, len).
    let ranges = [
        (387usize, 15usize),
        (254, 3),
        (391, 24),
        (401, 18),
        (417, 7),
    ];
    let r: Result<(), Error> = pool.tx(|tx| {
        let p = std::ptr::from_ref(tx.root()).cast_mut().cast::<u8>();
        for &(off, len) in &ranges {
            // SAFETY: every range lies inside the 512-byte root, in the pool whose
            // transaction is open; each is logged before it is written.
            unsafe {
                pmem_core::raw::snapshot(p.add(off), len);
                std::ptr::write_bytes(p.add(off), 0xEE, len);
            }
        }
        Err(Error::ReadOnly) // roll back
    });
    assert!(r.is_err());
    assert_eq!(
        pool.read(bytes).unwrap(),
        before,
        "rollback left changed bytes behind"
    );
}
