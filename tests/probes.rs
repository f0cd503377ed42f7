//! The adversarial probe suite: programs in **safe code only** (no `unsafe` anywhere in
//! this binary) that try to make pmem produce undefined behaviour, hang, or lose data,
//! organised by what each tries to break. Every probe asserts the typed error or the
//! intact state it must get. `scripts/probes.sh` runs this binary under valgrind
//! memcheck. When a hole is found, its probe goes here first.
//!
//! Elsewhere, by the same rule: compile-time probes (views, transactions, `free_raw`
//! without `unsafe`) are trybuild cases in `tests/ui/` (`docs/MISUSE.md` quotes them);
//! re-entrant calls that used to hang are `pmem-core/tests/reentrancy.rs`; damaged
//! files by the hundred thousand are `pmem-core/tests/corrupt_files.rs`; real power
//! loss is `tests/power_loss.rs`.
#![forbid(unsafe_code)]

mod common;

/// Open a pool as another type anywhere in its graph (through boxes, options,
/// arrays, tuples, enums, collections, recursive types).
#[path = "probes/type_confusion.rs"]
mod type_confusion;

/// Write invalid bit patterns into a closed pool's values (bool 2, char 0xD800, an
/// enum tag out of range, an Option tag) and read them back through safe code.
#[path = "probes/hostile_bytes.rs"]
mod hostile_bytes;

/// Hand pmem files that are truncated, swapped, stale or foreign.
#[path = "probes/hostile_files.rs"]
mod hostile_files;

/// Open a byte copy of a pool (or a pool whose pointer tag collides) beside it, so that
/// a pointer of one could be stored into the other.
#[path = "probes/copied_pools.rs"]
mod copied_pools;

/// Write values with padding (structs, options, enums, elements) through every path
/// and let the commit read them (valgrind reports a byte left uninitialised).
#[path = "probes/padding.rs"]
mod padding;
