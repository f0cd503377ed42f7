//! Values with padding written through every path safe code has: the root's initial
//! value, `set`/`push`/`insert`, a plain `&mut` assignment, `Option`s (`None` leaves
//! the payload unused) and enums (a short variant leaves the long one's bytes unused).
//! A commit reads every written byte as `u8`, so any byte left uninitialised is
//! undefined behaviour; `scripts/probes.sh` runs this under valgrind memcheck, which
//! reports it. Each probe also reads its values back.

use pmem::{Error, PBox, PVec, Persistent, Pool};

use crate::common::Dir;

#[derive(Persistent, Default, Clone, Copy, PartialEq, Debug)]
#[repr(C)]
#[pmem(plain)]
struct Padded {
    a: u8,
    b: u64,
    c: u16,
}

#[derive(Persistent, Default, Debug, PartialEq)]
#[repr(u8)]
enum Event {
    #[default]
    Nothing,
    Small(u8),
    Wide {
        to: u64,
        amount: u16,
    },
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Root {
    flag: bool,
    padded: Padded,
    maybe: Option<u64>,
    maybe_padded: Option<Padded>,
    event: Event,
    list: PVec<Padded>,
    boxed: Option<PBox<Padded>>,
    pairs: PVec<(u8, u32)>,
}

/// A value built at run time (a constant's padding would be zero bytes in the binary,
/// which valgrind counts as initialised).
fn padded(a: u8) -> Padded {
    let a = std::hint::black_box(a);
    Padded {
        a,
        b: u64::from(a) + 1,
        c: u16::from(a) + 2,
    }
}

#[test]
fn a_padded_root_assigned_through_mut_commits_only_initialised_bytes() {
    // A file pool: its commits go through the log (copied and checksummed).
    let d = Dir::new("probe-padding", "root");
    let mut pool = Pool::<Padded>::create(d.path("p.pool")).unwrap();
    pool.tx(|tx| {
        *tx.root_mut() = padded(1);
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.tx(|tx| {
        tx.root_mut().c = 9;
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(pool.read(|r| *r).unwrap(), Padded { c: 9, ..padded(1) });
}

#[test]
fn padded_fields_options_enums_and_elements_commit_only_initialised_bytes() {
    let d = Dir::new("probe-padding", "fields");
    let mut pool = Pool::<Root>::create(d.path("p.pool")).unwrap();
    pool.tx(|tx| {
        let r = tx.root_mut();
        r.set_flag(true)?;
        *r.padded_mut() = padded(1);
        r.set_maybe(None)?;
        *r.maybe_padded_mut() = Some(padded(1));
        r.event_mut().set(Event::Small(std::hint::black_box(4)))?;
        r.list_mut().push(padded(1))?;
        r.boxed_mut().insert(padded(1))?;
        r.pairs_mut().push(std::hint::black_box((1, 2)))?;
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.tx(|tx| {
        let r = tx.root_mut();
        *r.maybe_mut() = Some(5);
        *r.maybe_padded_mut() = None;
        r.event_mut().set(Event::Wide {
            to: std::hint::black_box(6),
            amount: 7,
        })?;
        if let Some(first) = r.list_mut().get_mut(0) {
            *first = Padded { a: 8, ..padded(1) };
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.read(|r| {
        assert!(r.flag);
        assert_eq!(r.padded, padded(1));
        assert_eq!(r.maybe, Some(5));
        assert_eq!(r.maybe_padded, None);
        assert_eq!(r.event, Event::Wide { to: 6, amount: 7 });
        assert_eq!(r.list.first(), Some(&Padded { a: 8, ..padded(1) }));
        assert_eq!(r.boxed.as_deref(), Some(&padded(1)));
        assert_eq!(r.pairs.first(), Some(&(1, 2)));
    })
    .unwrap();
    pool.check().unwrap();
}

/// A derived (non-plain) struct whose fields are all plain: its view's `update` hands
/// out `&mut Self`.
#[derive(Persistent, Default)]
#[repr(C)]
struct Account {
    frozen: bool,
    balance: u64,
    // Three fields: a (bool, u64) pair would be moved field by field, not as bytes.
    branch: u16,
}

/// Built at run time and moved whole (see `padded`).
fn account(balance: u64) -> Account {
    std::hint::black_box(Account {
        frozen: std::hint::black_box(balance) > 1,
        balance,
        branch: 3,
    })
}

#[test]
fn a_whole_struct_assigned_inside_update_commits_only_initialised_bytes() {
    let d = Dir::new("probe-padding", "update");
    let mut pool = Pool::<Account>::create(d.path("p.pool")).unwrap();
    pool.tx(|tx| {
        tx.root_mut().update(|a| *a = account(7));
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(pool.read(|r| (r.frozen, r.balance)).unwrap(), (true, 7));
}

/// A niche-layout option (`Option<T>` no larger than `T`: rustc keeps `None` in an
/// invalid value of one of `T`'s scalars, here the `bool`): `None` initialises only
/// that scalar, so a `None` moved into the pool carries every other byte uninitialised.
#[derive(Persistent, Default, Clone, Copy, PartialEq, Debug)]
#[repr(C)]
#[pmem(plain)]
struct Flagged {
    on: bool,
    count: u64,
}

/// A `None` built at run time in a fresh frame (a constant `None` is copied from the
/// binary, whose unused bytes are zeroes valgrind counts as initialised).
#[inline(never)]
fn made_at_run_time(some: bool) -> Option<Flagged> {
    if some {
        Some(Flagged { on: true, count: 1 })
    } else {
        None
    }
}

#[test]
fn a_niche_none_pushed_or_assigned_commits_only_initialised_bytes() {
    assert_eq!(
        std::mem::size_of::<Option<Flagged>>(),
        std::mem::size_of::<Flagged>(),
        "the probe needs a niche layout"
    );
    let d = Dir::new("probe-padding", "niche");
    let mut pool = Pool::<PVec<Option<Flagged>>>::create(d.path("p.pool")).unwrap();
    let none = || made_at_run_time(std::hint::black_box(false));
    pool.tx(|tx| {
        let v = tx.root_mut();
        v.push(none())?;
        v.push(Some(Flagged {
            on: std::hint::black_box(true),
            count: 3,
        }))?;
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.tx(|tx| {
        if let Some(slot) = tx.root_mut().get_mut(1) {
            *slot = none();
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(pool.read(|v| v.to_vec()).unwrap(), vec![None, None]);
    pool.check().unwrap();
}

#[test]
fn a_padded_element_assigned_then_moved_by_an_insert_commits_only_initialised_bytes() {
    let d = Dir::new("probe-padding", "moved");
    let mut pool = Pool::<PVec<Padded>>::create(d.path("p.pool")).unwrap();
    pool.tx(|tx| {
        let v = tx.root_mut();
        v.push(padded(1))?;
        if let Some(first) = v.get_mut(0) {
            *first = padded(2);
        }
        // The assigned element moves (to index 1, and into a grown buffer) before
        // the commit zeroes its padding.
        v.insert(0, padded(3))?;
        for i in 0..8 {
            v.push(padded(i))?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(pool.read(|v| v[1]).unwrap(), padded(2));
}

#[test]
fn padded_values_assigned_then_moved_by_splits_and_resizes_commit_only_initialised_bytes() {
    use pmem::{PBTreeMap, PHashMap};
    let d = Dir::new("probe-padding", "splits");
    let mut tree = Pool::<PBTreeMap<u32, Padded>>::create(d.path("t.pool")).unwrap();
    let mut table = Pool::<PHashMap<u32, Padded>>::create(d.path("h.pool")).unwrap();
    tree.tx(|tx| {
        let m = tx.root_mut();
        m.insert(5000, padded(1))?;
        if let Some(v) = m.get_mut(&5000) {
            *v = padded(2);
        }
        // Entries inserted before it shift it, and leaves split under it.
        for k in 0..400 {
            m.insert(k, padded(3))?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    table
        .tx(|tx| {
            let m = tx.root_mut();
            m.insert(0, padded(1))?;
            if let Some(v) = m.get_mut(&0) {
                *v = padded(2);
            }
            // The table grows: every bucket moves.
            for k in 1..400 {
                m.insert(k, padded(3))?;
            }
            Ok::<_, Error>(())
        })
        .unwrap();
    assert_eq!(
        tree.read(|m| m.get(&5000).copied()).unwrap(),
        Some(padded(2))
    );
    assert_eq!(table.read(|m| m.get(&0).copied()).unwrap(), Some(padded(2)));
}
