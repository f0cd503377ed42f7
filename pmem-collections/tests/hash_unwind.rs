//! Failures in the middle of multi-step hash-table changes (a table rebuild hashes every
//! key with user code; a `retain` closure runs per entry; the pool can run out of space
//! halfway): a panic that escapes the transaction rolls it back; a panic or error caught
//! *inside* the transaction leaves the map consistent and leak-free, so committing
//! afterwards passes `Pool::check` (like hashbrown's `tests/hasher_unwind.rs`).

use std::cell::Cell;
use std::hash::{Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};

use pmem_collections::{PHashMap, PString, PVec};
use pmem_core::fingerprint::fp_leaf;
use pmem_core::schema::{Shape, TypeSchema};
use pmem_core::{plain_view, Error, PSafe, Persistent, Plain, Pool, PoolOptions};

thread_local! {
    /// Hashes left before `Touchy::hash` panics.
    static HASHES_LEFT: Cell<u64> = const { Cell::new(u64::MAX) };
}

/// A key whose `Hash` panics once a budget is spent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(transparent)]
struct Touchy(u64);

impl Hash for Touchy {
    fn hash<H: Hasher>(&self, h: &mut H) {
        HASHES_LEFT.with(|c| {
            let n = c.get();
            assert!(n > 0, "hash exploded");
            c.set(n - 1);
        });
        self.0.hash(h);
    }
}

// SAFETY: a plain u64.
unsafe impl PSafe for Touchy {}
// SAFETY: plain data: the view snapshots all 8 bytes; owns nothing.
unsafe impl Persistent for Touchy {
    type View = Touchy;
    const TYPE_NAME: &'static str = "Touchy";
    const FINGERPRINT: u64 = fp_leaf("Touchy", 8, 8);
    const SCHEMA: &'static TypeSchema = &TypeSchema {
        name: "Touchy",
        size: 8,
        align: 8,
        fingerprint: Self::FINGERPRINT,
        shape: Shape::Primitive,
    };
    unsafe fn view_mut<'a>(ptr: *mut Self) -> &'a mut Touchy {
        // SAFETY: forwarded contract.
        unsafe { plain_view(ptr) }
    }
}
// SAFETY: owns nothing.
unsafe impl Plain for Touchy {}

fn budget(n: u64) {
    HASHES_LEFT.with(|c| c.set(n));
}

/// A map of 7 entries: its 8-bucket table is full, so the next insert rebuilds it.
fn full_map() -> Pool<PHashMap<Touchy, PString>> {
    let mut pool = Pool::<PHashMap<Touchy, PString>>::volatile().unwrap();
    budget(u64::MAX);
    pool.tx(|tx| {
        tx.root_mut()
            .extend((0..7).map(|i| (Touchy(i), format!("v{i}"))))
    })
    .unwrap();
    assert_eq!(pool.read(pmem_collections::PHashMap::capacity).unwrap(), 7);
    pool
}

fn contents(m: &PHashMap<Touchy, PString>) -> Vec<(u64, String)> {
    budget(u64::MAX);
    let mut v: Vec<_> = m.iter().map(|(k, v)| (k.0, v.to_string())).collect();
    v.sort();
    v
}

#[test]
fn a_panic_while_rebuilding_the_table_rolls_the_transaction_back() {
    let mut pool = full_map();
    let before = pool.read(contents).unwrap();
    let r = catch_unwind(AssertUnwindSafe(|| {
        let _ = pool.tx(|tx| {
            budget(1 + 3); // the new key's lookup, then 3 of the 7 rehashes
            tx.root_mut().set(Touchy(7), "new")
        });
    }));
    assert!(r.is_err(), "the hash should have panicked");
    assert_eq!(pool.read(contents).unwrap(), before);
    pool.check().unwrap();
}

#[test]
fn a_panic_caught_inside_the_transaction_leaves_the_map_consistent_and_leak_free() {
    let mut pool = full_map();
    let before = pool.read(contents).unwrap();
    pool.tx(|tx| {
        let m = tx.root_mut();
        budget(1 + 3);
        let r = catch_unwind(AssertUnwindSafe(|| m.set(Touchy(7), "new")));
        assert!(r.is_err(), "the hash should have panicked");
        budget(u64::MAX);
        // The map is as before: same entries, still found by lookup.
        assert_eq!(m.len(), 7);
        for i in 0..7 {
            assert_eq!(
                m.get(&Touchy(i)).map(ToString::to_string),
                Some(format!("v{i}"))
            );
        }
        m.set(Touchy(8), "after")?; // and usable
        Ok::<_, Error>(())
    })
    .unwrap();
    let mut after = before;
    after.push((8, "after".into()));
    assert_eq!(pool.read(contents).unwrap(), after);
    pool.check().unwrap(); // the half-built table was freed: no leak
}

#[test]
fn a_panic_in_a_retain_closure_caught_inside_the_transaction_keeps_the_map_consistent() {
    let mut pool = full_map();
    pool.tx(|tx| {
        let m = tx.root_mut();
        let mut seen = 0;
        let r = catch_unwind(AssertUnwindSafe(|| {
            m.retain(|_, _| {
                seen += 1;
                assert!(seen < 4, "closure exploded");
                false
            })
        }));
        assert!(r.is_err());
        assert_eq!(m.len(), 4); // three removed, the rest kept
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(pool.read(pmem_collections::PHashMap::len).unwrap(), 4);
    assert_eq!(pool.read(contents).unwrap().len(), 4);
    pool.check().unwrap(); // the removed entries' strings were freed
}

#[test]
fn running_out_of_space_while_growing_leaves_the_map_unchanged() {
    let mut pool = PoolOptions::new()
        .initial_size(64 << 10)
        .max_size(512 << 10)
        .volatile::<PHashMap<u64, PVec<u64>>>()
        .unwrap();
    let mut inserted = 0u64;
    let err = pool
        .tx(|tx| {
            let m = tx.root_mut();
            loop {
                let before = m.len();
                match m.set(inserted, vec![inserted; 8]) {
                    Ok(_) => inserted += 1,
                    Err(e) => {
                        // The failed insert changed nothing; the map is intact.
                        assert_eq!(m.len(), before);
                        assert!(m.get(&inserted).is_none());
                        assert_eq!(m.get(&0).map(|v| v.to_vec()), Some(vec![0; 8]));
                        return Ok::<_, Error>(e);
                    }
                }
            }
        })
        .unwrap();
    assert!(matches!(err, Error::OutOfSpace { .. }), "{err:?}");
    assert!(inserted > 100, "only {inserted} entries fit");
    pool.read(|m| {
        assert_eq!(m.len() as u64, inserted);
        assert!((0..inserted).all(|k| m.get(&k).is_some_and(|v| v[..] == [k; 8])));
    })
    .unwrap();
    pool.check().unwrap();
}
