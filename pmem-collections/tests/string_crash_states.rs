//! Crash-state enumeration (`pmem_core::crash`) over every mutating method of `PString`,
//! including the ones that grow (reallocate), shrink or free: every crash image must
//! recover to the state before or after the transaction in flight, pass `Pool::check`,
//! and keep every acknowledged commit.

use pmem_collections::PString;
use pmem_core::crash::{check_crash_states, CrashConfig, Step};
use pmem_core::{Durability, Error, Pool};

type Op<R> = fn(&mut <R as pmem_core::Persistent>::View) -> Result<(), Error>;

/// One step per operation, each its own transaction.
fn steps<R: pmem_core::Persistent + 'static>(ops: &[Op<R>]) -> Vec<Step<R>> {
    ops.iter()
        .map(|&op| {
            Box::new(move |p: &mut Pool<R>| p.tx(|tx| op(tx.root_mut())).unwrap()) as Step<R>
        })
        .collect()
}

/// An aborted transaction (the closure fails after changing things) as a step.
fn aborted<R: pmem_core::Persistent + 'static>(op: Op<R>) -> Step<R> {
    Box::new(move |p: &mut Pool<R>| {
        let r: Result<(), Error> = p.tx(|tx| {
            op(tx.root_mut())?;
            Err(Error::ReadOnly)
        });
        assert!(r.is_err());
    })
}

fn run<R, S>(
    name: &str,
    setup: impl Fn(&mut Pool<R>) + Clone,
    ops: &[Op<R>],
    abort: Op<R>,
    observe: impl Fn(&R) -> S + Clone,
) where
    R: pmem_core::Persistent + Default + 'static,
    S: PartialEq + std::fmt::Debug + Clone,
{
    let mut total = 0;
    for durability in [Durability::Full, Durability::Process] {
        let cfg = CrashConfig {
            durability,
            ..CrashConfig::default()
        };
        let mut s = steps(ops);
        s.insert(s.len() / 2, aborted(abort));
        let report = check_crash_states(&cfg, setup.clone(), s, observe.clone())
            .unwrap_or_else(|e| panic!("{name} {durability:?}: {e}"));
        total += report.images;
    }
    println!("crash images checked ({name}): {total}");
    assert!(
        total > 100 * ops.len() as u64,
        "{name}: only {total} images"
    );
}

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
        |s| s.replace("hi"), // fits: rewrites in place
        |s| s.replace("a replacement longer than the buffer ever was"), // fresh buffer
        |s| s.reserve(100),
        |s| s.reserve_exact(7),
        |s| s.shrink_to_fit(),
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
