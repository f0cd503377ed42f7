//! Crash-state enumeration (`pmem_core::crash`) over every mutating method of `PString`,
//! including the ones that grow (reallocate), shrink or free: every crash image must
//! recover to the state before or after the transaction in flight, pass `Pool::check`,
//! and keep every acknowledged commit.

use pmem_collections::PString;
use pmem_core::{Error, Pool};

mod crash_common;

use crash_common::{run, Op};

#[test]
fn every_crash_image_of_every_pstring_method_recovers_to_an_allowed_state() {
    let ops: &[Op<PString>] = &[
        |s| s.push_str("hello"), // first buffer
        |s| s.push(' '),
        |s| s.push_str("wörld, and a longer tail"), // grows
        |s| s.pop().map(drop).ok_or(Error::ReadOnly),
        |s| {
            s.truncate(5);
            Ok(())
        },
        |s| s.set("hi"), // fits: rewrites in place
        |s| s.set("a replacement longer than the buffer ever was"), // fresh buffer
        |s| s.reserve(100),
        |s| s.reserve_exact(7),
        |s| s.shrink_to_fit(),
        |s| {
            s.insert(0, 'é')?; // grows
            s.insert_str(2, "ins")?;
            s.remove(0);
            s.replace_range(1..3, "RANGE")?;
            s.extend_from_within(..4)
        },
        |s| {
            s.retain(|c| c != 'N');
            let _ = s.drain(2..4).count();
            let _ = s.split_off(6);
            s.as_mut_str().make_ascii_uppercase();
            Ok(())
        },
        |s| {
            use std::fmt::Write;
            *s += " plus";
            write!(s, " {}", 42).map_err(|_| Error::ReadOnly)?;
            s.extend(['!', '?']);
            s.try_reserve(64)?;
            s.try_reserve_exact(1)?;
            s.shrink_to(20)
        },
        |s| {
            s.clear();
            Ok(())
        },
        |s| s.shrink_to_fit(), // frees the buffer
    ];
    run(
        "PString",
        |_: &mut Pool<PString>| {},
        ops,
        |s| s.push_str("aborted text"),
        |s: &PString| s.to_string(),
    );
}
