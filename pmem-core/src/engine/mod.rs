//! The engine behind a pool: opening and recovery, commit, rollback, group commit and
//! checkpoint (ARCHITECTURE §7–§9 walk through each, failure by failure).
//!
//! The pool file is mapped copy-on-write, so nothing a transaction writes reaches the
//! file behind our back. A commit appends one redo group (every written range's new
//! bytes, checksummed) to the log; in `Full` durability one fdatasync of the log then
//! makes it durable, shared by every commit waiting at that moment (group commit). A
//! checkpoint writes the pages changed since the last one into the pool file, syncs it,
//! then publishes a new checkpoint state slot, after which the log restarts. Recovery
//! replays every complete group past the checkpoint; replay is idempotent.

mod backup;
mod checkpoint;
mod commit;
mod create;
mod durability;
mod group_commit;
mod growth;
mod journal;
mod log;
mod open;
mod page_set;
mod pin;
mod recovery;
mod session;
mod snapshot;
mod state;
mod versions;

pub(crate) use backup::write_backup;
pub(crate) use create::create_files;
pub use durability::Durability;
pub(crate) use durability::Mode;
pub(crate) use state::{Config, CreateSpec, Expect, ReadCtx, Shared, Source, State, TxCtx};
