//! Crash-state enumeration (`pmem_core::crash`) over every mutating method of `PVec`,
//! including the ones that grow (reallocate), shrink or free: every crash image must
//! recover to the state before or after the transaction in flight, pass `Pool::check`,
//! and keep every acknowledged commit.

use pmem_collections::{PString, PVec, PVecMut};
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
        |v| {
            *v.push_mut(3)? += 1;
            *v.insert_mut(1, 4)? += 1;
            *v.first_mut().unwrap() += 1;
            *v.last_mut().unwrap() += 1;
            v[1] = 77; // IndexMut logs the slot
            v[2..4].fill(8);
            v.swap(0, 3);
            Ok(())
        },
        |v| {
            v.resize(12, 6)?; // grows
            v.resize_with(9, || 0)?; // shrinks
            v.extend_from_within(1..4)
        },
        |v| {
            v.retain_mut(|x| {
                *x += 1;
                *x % 5 != 0
            })?;
            v.dedup_by_key(|x| *x / 4)?;
            v.dedup()
        },
        |v| {
            let _ = v.drain(1..2).count();
            v.drain_with(..1, |_| ())?;
            v.splice(0..1, [5, 5, 5])?; // longer: grows
            v.splice(1..4, [9]).map(drop) // shorter
        },
        |v| {
            let _ = v.extract_if(.., |x| *x % 2 == 1).count();
            // Stopped after one: the rest of the range stays.
            let _ = v.extract_if(1.., |_| true).next();
            let _ = v.pop_if(|x| *x > 0);
            let at = v.len() / 2;
            let _ = v.split_off(at);
            Ok(())
        },
        |v| {
            Extend::extend(v, [1, 2, 3]);
            v.try_reserve(10)?;
            v.try_reserve_exact(1)?;
            v.shrink_to(4)
        },
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
        |v| {
            v.push_mut("pushed")?.push('!')?;
            v.insert_mut(0, "first")?.push('!')?;
            v.resize(6, "same") // builds strings
        },
        |v| {
            v.retain_mut(|s| s.push('?').is_ok() && s.len() % 3 != 0)?; // frees some
            v.dedup_by(|a, b| a == b)?;
            v.drain_with(1..2, |_| ()) // frees
        },
        |v| {
            v.swap(0, 1);
            v.last_mut().unwrap().push_str("last")?;
            v.first_mut().unwrap().push_str("first")?;
            v.resize_with(1, || "unused") // frees the rest
        },
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

#[test]
fn every_crash_image_of_pvec_append_recovers_to_an_allowed_state() {
    fn two(v: &mut PVecMut<PVec<PString>>) -> (&mut PVecMut<PString>, &mut PVecMut<PString>) {
        let mut it = v.iter_mut();
        (it.next().unwrap(), it.next().unwrap())
    }
    let ops: &[Op<PVec<PVec<PString>>>] = &[
        |v| {
            let (a, b) = two(v);
            a.append(b) // the strings move, nothing is freed
        },
        |v| two(v).1.extend(["x", "y", "z", "w", "v"]),
        |v| {
            let (a, b) = two(v);
            b.append(a) // grows the destination
        },
        |v| {
            let (a, b) = two(v);
            a.append(b)
        },
    ];
    run(
        "PVec<PVec<PString>>",
        |p: &mut Pool<PVec<PVec<PString>>>| {
            p.tx(|tx| tx.root_mut().extend([vec!["a", "b"], vec!["c"]]))
                .unwrap();
        },
        ops,
        |v| {
            let (a, b) = two(v);
            b.push("aborted")?;
            a.append(b)
        },
        |v: &PVec<PVec<PString>>| {
            v.iter()
                .map(|s| s.iter().map(ToString::to_string).collect::<Vec<_>>())
                .collect::<Vec<_>>()
        },
    );
}
