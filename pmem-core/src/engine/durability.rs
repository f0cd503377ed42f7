//! The durability policy: what a returned commit promises (ARCHITECTURE §2).

use super::session::LogAccess;

/// How durable a returned commit is. See `docs/ARCHITECTURE.md` §2 for the guarantees.
///
/// Every decision the engine and the crash harness make from the mode is one of the
/// methods below, each an exhaustive `match`: a new mode is a compile error at every
/// place that has to decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// A commit that returned survives power loss: one fdatasync of the log per commit,
    /// shared by concurrent committers.
    #[default]
    Full,
    /// A commit that returned survives any crash of the process (kill -9, abort, panic).
    /// No flush system call on the commit path. After an OS crash or power loss the pool
    /// recovers to a consistent prefix of its commits.
    Process,
}

impl Durability {
    /// Whether a commit waits for a device flush of the log before it returns.
    pub(crate) fn syncs_on_commit(self) -> bool {
        match self {
            Durability::Full => true,
            Durability::Process => false,
        }
    }

    /// How the log is written: `Full` makes a system call per commit anyway (the
    /// fdatasync), and fdatasync of a range written with pwrite is cheaper than of
    /// pages dirtied through a mapping; `Process` commits with memory copies only.
    pub(crate) fn log_access(self) -> LogAccess {
        match self {
            Durability::Full => LogAccess::Pwrite,
            Durability::Process => LogAccess::Mapped,
        }
    }

    /// Whether every acknowledged commit survives power loss (otherwise a power loss
    /// may roll the pool back to any consistent prefix of its commits).
    pub fn survives_power_loss(self) -> bool {
        match self {
            Durability::Full => true,
            Durability::Process => false,
        }
    }
}
