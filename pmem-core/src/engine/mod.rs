//! The engine behind a pool: opening and recovery, commit, rollback, group commit and
//! checkpoint (ARCHITECTURE §7–§9).

mod group_commit;
mod journal;
mod log;
mod open;
mod session;

pub use open::Durability;
pub(crate) use open::{
    create_files, random_uuid, Config, CreateSpec, Expect, ReadCtx, Shared, Source, State, TxCtx,
};
