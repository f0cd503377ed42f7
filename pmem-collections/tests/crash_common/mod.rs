//! Crash-state scaffolding shared by the collections' crash tests: each operation is
//! one transaction, one aborted transaction is inserted half-way, and both durability
//! modes are enumerated.

use pmem_core::crash::{check_crash_states, CrashConfig, Step};
use pmem_core::{Durability, Error, Pool};

pub(crate) type Op<R> = fn(&mut <R as pmem_core::Persistent>::View) -> Result<(), Error>;

/// One step per operation, each its own transaction.
pub(crate) fn steps<R: pmem_core::Persistent + 'static>(ops: &[Op<R>]) -> Vec<Step<R>> {
    ops.iter()
        .map(|&op| {
            Box::new(move |p: &mut Pool<R>| p.tx(|tx| op(tx.root_mut())).unwrap()) as Step<R>
        })
        .collect()
}

/// An aborted transaction (the closure fails after changing things) as a step.
pub(crate) fn aborted<R: pmem_core::Persistent + 'static>(op: Op<R>) -> Step<R> {
    Box::new(move |p: &mut Pool<R>| {
        let r: Result<(), Error> = p.tx(|tx| {
            op(tx.root_mut())?;
            Err(Error::ReadOnly)
        });
        assert!(r.is_err());
    })
}

pub(crate) fn run<R, S>(
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
