//! Linking values across pools. A non-owning `PPtr` is plain data, so one made in pool
//! A can be stored in pool B; following it there is refused with `Error::CrossPool`
//! (the pointer carries its pool's tag), never answered with B's bytes at that offset.
//! Owning values cannot cross at all: reads hand out `&`, so a `PBox` cannot be moved
//! out of A (the compile-fail case `ui/tx/owned_value_moved_between_pools.rs`), and a
//! value built outside any pool owns no pool memory. `docs/MISUSE.md` says why the
//! first case is refused at run time rather than at compile time.

use pmem::{Error, PBox, PPtr, Persistent, Pool};

#[derive(Persistent, Default)]
#[repr(C)]
struct Linked {
    value: u64,
    target: PPtr<u64>,
    owned: Option<PBox<u64>>,
}

#[test]
fn a_pointer_made_in_one_pool_is_refused_when_followed_in_another() {
    let mut a = Pool::<Linked>::volatile().unwrap();
    let mut b = Pool::<Linked>::volatile().unwrap();
    let ptr = a
        .tx(|tx| {
            let root = tx.root_mut();
            *root.value_mut() = 7;
            let ptr = PPtr::from_ref(&root.value).expect("the root is in the pool");
            root.set_target(ptr)?;
            Ok::<_, Error>(ptr)
        })
        .unwrap();
    let target = a
        .read(|r| {
            // SAFETY: the target is the root's `value`, which is never freed.
            unsafe { r.target.as_ref_in(r) }.map(Option::<&u64>::copied)
        })
        .unwrap()
        .unwrap();
    assert_eq!(target, Some(7));

    b.tx(|tx| tx.root_mut().set_target(ptr)).unwrap();
    // SAFETY: as above; following the pointer is refused before any read of it.
    let followed = b
        .read(|r| unsafe { r.target.as_ref_in(r) }.map(Option::<&u64>::copied))
        .unwrap();
    assert!(
        matches!(followed, Err(Error::CrossPool)),
        "got {followed:?}"
    );
}

#[test]
fn a_value_built_outside_any_pool_owns_nothing_and_moves_in_cleanly() {
    let mut a = Pool::<Linked>::volatile().unwrap();
    let fresh = Linked {
        value: 1,
        target: PPtr::null(),
        owned: None,
    };
    a.tx(|tx| {
        let root = tx.root_mut();
        root.owned_mut().insert(5)?;
        root.set_value(fresh.value)?;
        root.set_owned(fresh.owned)?; // frees the box just inserted
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(a.check().unwrap().allocations, 1);
}
