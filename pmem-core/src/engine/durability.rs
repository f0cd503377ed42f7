//! The durability policy: what a returned commit promises (ARCHITECTURE §2).

use super::session::LogAccess;

/// How durable a returned commit is. See `docs/ARCHITECTURE.md` §2 for the guarantees.
///
/// Every decision made from it is a method, each an exhaustive `match` (here, and on the
/// engine's internal `Mode`, which adds volatile pools): a new mode is a compile error
/// at every place that has to decide.
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
    /// Whether every acknowledged commit survives power loss (otherwise a power loss
    /// may roll the pool back to any consistent prefix of its commits).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::Durability;
    /// assert!(Durability::Full.survives_power_loss());
    /// assert!(!Durability::Process.survives_power_loss());
    /// ```
    pub fn survives_power_loss(self) -> bool {
        match self {
            Durability::Full => true,
            Durability::Process => false,
        }
    }
}

/// How the engine treats an open pool: the durability it was asked for, or no files at
/// all (`Pool::volatile`). Every place where the engine decides by mode asks one of the
/// methods below, each an exhaustive `match`, so a new mode is a compile error at each.
/// (No `PartialEq`: nothing compares modes.)
#[derive(Clone, Copy, Debug)]
pub(crate) enum Mode {
    /// Logged; a commit returns once its group is fdatasync'ed.
    Full,
    /// Logged; a commit returns once its group is in the page cache.
    Process,
    /// Anonymous memory: no pool file, no log.
    Volatile,
}

impl Mode {
    /// The mode of a pool opened with `durability`, in memory only when `volatile`.
    pub(crate) fn new(durability: Durability, volatile: bool) -> Mode {
        match (durability, volatile) {
            (_, true) => Mode::Volatile,
            (Durability::Full, false) => Mode::Full,
            (Durability::Process, false) => Mode::Process,
        }
    }

    /// Whether a commit waits for a device flush of the log before it returns.
    pub(crate) fn syncs_on_commit(self) -> bool {
        match self {
            Mode::Full => true,
            Mode::Process | Mode::Volatile => false,
        }
    }

    /// How the log is written (`None`: there is no log). `Full` makes a system call per
    /// commit anyway (the fdatasync), and fdatasync of a range written with pwrite is
    /// cheaper than of pages dirtied through a mapping; `Process` commits with memory
    /// copies only.
    pub(crate) fn log_access(self) -> Option<LogAccess> {
        match self {
            Mode::Full => Some(LogAccess::Pwrite),
            Mode::Process => Some(LogAccess::Mapped),
            Mode::Volatile => None,
        }
    }

    /// Whether the pool lives in files, which closing the last handle checkpoints.
    pub(crate) fn has_files(self) -> bool {
        match self {
            Mode::Full | Mode::Process => true,
            Mode::Volatile => false,
        }
    }
}
