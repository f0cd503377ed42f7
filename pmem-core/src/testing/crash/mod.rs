//! The crash-state harness (DESIGN §9, ARCHITECTURE §10).
//!
//! A workload runs on the simulated medium (`sim`), which records every write, growth
//! and sync of the pool file and the log in one trace, with a marker after each step
//! (one transaction) returns. The harness then walks the trace and, at every
//! *persistence point* — just before each sync takes effect, at each marker, and at the
//! end — builds the disk images a crash could leave:
//!
//! - the *process-crash* image: every write issued so far (the page cache survives);
//! - *power-loss* images: each write not yet covered by a sync applied, dropped, or torn
//!   at 512-byte sectors. All combinations when there are few such writes; otherwise
//!   every single and pairwise deviation from "all applied" and "all dropped" (pairs
//!   sampled when there are many) plus seeded random combinations.
//!
//! Each image is opened (recovery runs), must pass `Pool::check`, and its logical state
//! (`observe`) must equal the state before or after the step in flight, with every
//! acknowledged step present. In `Durability::Process` a power-loss image may also be
//! any earlier state (a consistent prefix), since that mode does not promise power-loss
//! durability. Some images are also crashed *during recovery*: the recovery's own trace
//! is enumerated the same way and every result must equal the completed recovery's.

mod check;
mod config;
mod images;

pub use check::{check_crash_states, check_create_crash_states};
pub use config::{CrashConfig, CrashReport, Step};
