//! Crash-state enumeration (`pmem_core::crash`) over every mutating method of `PVec`,
//! including the ones that grow (reallocate), shrink or free: every crash image must
//! recover to the state before or after the transaction in flight, pass `Pool::check`,
//! and keep every acknowledged commit.

use pmem_collections::{PString, PVec};
use pmem_core::{Error, Pool};

mod crash_common;

use crash_common::{run, Op};

#[test]
fn every_crash_image_of_every_pvec_u64_method_recovers_to_an_allowed_state() {
    let ops: &[Op<PVec<u64>>] = &[
        |v| v.push(1),           // first buffer
        |v| v.extend([2, 3, 4]), // fills it
        |v| v.push(5),           // grows: fresh buffer, old freed
        |v| v.insert(0, 0),      // shifts
        |v| v.pop().map(drop).ok_or(Error::ReadOnly),
        |v| {
            v.remove(1);
            Ok(())
        },
        |v| {
            v.swap_remove(0);
            Ok(())
        },
        |v| v.set(0, 9),
        |v| {
            *v.get_mut(1).unwrap() += 10;
            Ok(())
        },
        |v| {
            v.as_mut_slice().reverse();
            Ok(())
        },
        |v| {
            v.iter_mut().for_each(|x| *x *= 2);
            Ok(())
        },
        |v| v.extend_from_slice(&[7; 20]), // grows by more than double
        |v| v.retain(|x| *x != 14),
        |v| v.truncate(5),
        |v| v.reserve(100),
        |v| v.reserve_exact(3),
        |v| v.shrink_to_fit(), // shrinks into a fresh buffer
        |v| v.clear(),
        |v| v.shrink_to_fit(), // frees the buffer
    ];
    run(
        "PVec<u64>",
        |_: &mut Pool<PVec<u64>>| {},
        ops,
        |v| v.extend(0..50),
        |v: &PVec<u64>| v.to_vec(),
    );
}

#[test]
fn every_crash_image_of_every_pvec_pstring_method_recovers_to_an_allowed_state() {
    let ops: &[Op<PVec<PString>>] = &[
        |v| v.push("a"),
        |v| v.extend(["bb", "ccc", "dddd"]),
        |v| v.push(String::from("eeeee")), // grows
        |v| v.insert(1, "inserted"),
        |v| v.pop_with(|_| ()).map(drop), // frees the string
        |v| v.remove_with(0, |_| ()),
        |v| v.swap_remove_with(0, |_| ()),
        |v| v.set(0, "replaced"), // builds the new string, frees the old
        |v| v.get_mut(1).unwrap().push_str(" and more text than fits"),
        |v| {
            for s in v.iter_mut() {
                s.push('!')?;
            }
            Ok(())
        },
        |v| v.retain(|s| !s.starts_with('r')),
        |v| v.truncate(1),
        |v| v.shrink_to_fit(),
        |v| v.clear(), // frees every string
    ];
    run(
        "PVec<PString>",
        |p: &mut Pool<PVec<PString>>| p.tx(|tx| tx.root_mut().push("setup")).unwrap(),
        ops,
        |v| v.extend((0..20).map(|i| i.to_string())),
        |v: &PVec<PString>| v.iter().map(ToString::to_string).collect::<Vec<_>>(),
    );
}
