//! The error type of every fallible pmem operation.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// `Result` with [`enum@Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Identity of a stored or expected root type, as checked at open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeIdentity {
    /// The type's name as the derive or impl reported it.
    pub name: String,
    /// The layout fingerprint: name, field names and types, offsets, size, alignment.
    pub fingerprint: u64,
}

impl fmt::Display for TypeIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (fingerprint {:016x})", self.name, self.fingerprint)
    }
}

/// Everything that can go wrong in pmem, one variant per cause.
///
/// # Examples
///
/// ```
/// use pmem_core::{Error, Pool};
/// let dir = std::env::temp_dir().join(format!("pmem-doc-err-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("not-a-pool");
/// std::fs::write(&path, b"hello").unwrap();
/// match Pool::<u64>::open(&path) {
///     Err(Error::NotAPool { .. }) => {}
///     other => panic!("expected NotAPool, got {other:?}"),
/// }
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An I/O operation on a pool or log file failed.
    ///
    /// The message names the file once and reads on its own, so print it as it is (a
    /// caller that puts the path in front of it names the file twice):
    /// `opening missing.pool: No such file or directory (os error 2)`. A pool file
    /// that may not be written (its mode, or a read-only file system) fails with the
    /// operation `"opening for writing"`, and the message says how to read it anyway:
    /// open it with [`PoolOptions::read_only(true)`](crate::PoolOptions::read_only).
    /// `path` is always the file the caller named (or its log), never a temporary name
    /// pmem used on the way.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{Error, Pool};
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-io-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("missing.pool");
    /// let e = Pool::<u64>::open(&path).unwrap_err();
    /// assert!(matches!(&e, Error::Io { op: "opening", path: p, .. } if *p == path));
    /// assert_eq!(
    ///     e.to_string(),
    ///     format!("opening {}: No such file or directory (os error 2)", path.display())
    /// );
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    Io {
        /// What pmem was doing.
        op: &'static str,
        /// The file it was doing it to.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The file does not start with a pool header.
    NotAPool {
        /// The file.
        path: PathBuf,
    },
    /// The pool was created with another layout name.
    WrongLayout {
        /// The layout name the caller asked for.
        expected: String,
        /// The layout name stored in the pool.
        found: String,
    },
    /// The pool's type graph differs from the one asked for: another root type, or a
    /// changed layout anywhere in the graph (inside boxes, options, arrays, tuples,
    /// enums and collections too).
    TypeMismatch {
        /// The root type the caller asked for.
        expected: TypeIdentity,
        /// The root type stored in the pool.
        found: TypeIdentity,
        /// Each difference, by path from the root (empty when the pool stores no
        /// schema record to compare, and only the root's fingerprint differs).
        differences: Vec<crate::TypeDifference>,
    },
    /// An automatic migration (`pmem::migrate::auto`) met a change that would lose data
    /// or that it cannot make (a narrowed integer, a removed field without
    /// `drop_removed_fields`, a retyped field, a changed collection element type it
    /// cannot convert). Nothing was changed; write a typed migration
    /// (`pmem::migrate::migrate_with`) for it.
    NotAutoMigratable {
        /// Where, from the root: `root.accounts[].balance`.
        path: String,
        /// What changed, in words: `u64 → u32 (narrowing)`.
        change: String,
    },
    /// The pool was written by a format version this build does not read.
    UnsupportedVersion {
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// The pool or log contents are inconsistent.
    Corrupted {
        /// What is wrong.
        what: String,
        /// Where: a byte offset in the pool file (or the log file, when `what` says so).
        offset: u64,
    },
    /// Another handle, in this process or another, has the pool open.
    Locked {
        /// The pool file.
        path: PathBuf,
    },
    /// `create` found a file already there.
    AlreadyExists {
        /// The file.
        path: PathBuf,
    },
    /// The pool reached its maximum size, or one request is larger than the maximum
    /// size; the transaction was rolled back.
    OutOfSpace {
        /// Bytes asked for.
        requested: u64,
        /// The pool's maximum size.
        max_size: u64,
    },
    /// An allocation asked for an alignment above 64 bytes or a zero size.
    UnsupportedLayout {
        /// Bytes asked for.
        size: u64,
        /// Alignment asked for.
        align: u64,
    },
    /// A flush failed earlier; the pool refuses all work until it is reopened.
    Poisoned,
    /// The call would deadlock: this thread is inside a transaction of the same pool
    /// (through another handle), whose lock the call needs.
    WouldDeadlock,
    /// A pointer into one pool was about to be stored into another.
    CrossPool,
    /// A value cannot be copied into another pool (by compaction or an automatic
    /// migration): its type holds a non-owning [`crate::PPtr`], whose target would have
    /// to be found again in the copy, or implements `Persistent` by hand without saying
    /// how to copy what it owns.
    NotRelocatable {
        /// The type that cannot be copied.
        type_name: &'static str,
    },
    /// A compaction driven by the stored schema (`pmem::compact::compact_untyped`, the
    /// `pmem compact` command) met a value it cannot carry into the new pool: a
    /// non-owning [`crate::PPtr`] whose target is not part of the copied graph (it
    /// dangles, points into the unused capacity of a vector or at the schema record, or
    /// was made in another pool), or a shape this build does not know. The pool is left
    /// as it was.
    NotRelocatableAt {
        /// Where the value is, from the root (`root.items[3].link`).
        path: String,
        /// Why it cannot be copied.
        why: String,
    },
    /// Another pool open in this process stamps the same 16-bit tag into its pointers —
    /// it is a byte copy of this one (`cp`, [`backup_to`](crate::Pool::backup_to), a
    /// restored backup) or, for distinct pools, a 1-in-65,536 collision — and one of
    /// the two would be writable: a `PPtr` taken from one could then be stored into the
    /// other and followed there. Open only one of them, or both read-only.
    SameTag {
        /// The pool being opened.
        pool: PathBuf,
        /// The pool already open with the same tag.
        other: PathBuf,
    },
    /// The options are not usable (for example a maximum size below the initial size).
    InvalidOptions(String),
    /// The pool was opened read-only.
    ReadOnly,
    /// The pool file says its log may hold commits that are not in the pool file yet,
    /// and the log is not there: the pool was copied or restored without `NAME.log`.
    /// Opening it anyway would silently drop those commits.
    LogMissing {
        /// The pool file.
        pool: PathBuf,
        /// The log file it needs.
        log: PathBuf,
    },
    /// The log beside the pool file is not the one the pool file names: it belongs to
    /// another pool, or to an earlier session of this one (a stale copy).
    LogMismatch {
        /// The pool file.
        pool: PathBuf,
        /// The log file found beside it.
        log: PathBuf,
        /// Which of the two it is.
        reason: &'static str,
    },
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }
    pub(crate) fn corrupted(what: impl Into<String>, offset: u64) -> Self {
        Error::Corrupted {
            what: what.into(),
            offset,
        }
    }
}

/// Whether `e` refuses writing the file (its mode, its flags, or a read-only file
/// system) rather than reaching it at all.
pub(crate) fn is_write_refusal(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied
        || matches!(
            e.raw_os_error(),
            Some(libc::EROFS | libc::EACCES | libc::EPERM)
        )
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { op, path, source } => {
                write!(f, "{op} {}: {source}", path.display())?;
                if *op == "opening for writing" && is_write_refusal(source) {
                    f.write_str(
                        "; to read it without writing, open it with PoolOptions::read_only(true)",
                    )?;
                }
                Ok(())
            }
            Error::NotAPool { path } => write!(f, "{} is not a pmem pool", path.display()),
            Error::WrongLayout { expected, found } => {
                write!(f, "pool layout is {found:?}, expected {expected:?}")
            }
            Error::TypeMismatch {
                expected,
                found,
                differences,
            } => type_mismatch(f, expected, found, differences),
            Error::NotAutoMigratable { path, change } => write!(
                f,
                "automatic migration refused at {path}: {change}; write a typed migration \
                 for it (pmem::migrate::migrate_with)"
            ),
            Error::UnsupportedVersion { found, supported } => {
                write!(
                    f,
                    "pool format version {found} is not supported (this build reads {supported})"
                )
            }
            Error::Corrupted { what, offset } => {
                write!(f, "corrupted pool: {what} at offset {offset:#x}")
            }
            Error::Locked { path } => {
                write!(f, "{} is open in another handle or process", path.display())
            }
            Error::AlreadyExists { path } => write!(f, "{} already exists", path.display()),
            Error::OutOfSpace {
                requested,
                max_size,
            } => {
                write!(
                    f,
                    "out of space: {requested} bytes requested, pool maximum is {max_size} bytes"
                )
            }
            Error::UnsupportedLayout { size, align } => {
                write!(
                    f,
                    "unsupported allocation: size {size}, alignment {align} (maximum 64)"
                )
            }
            Error::Poisoned => {
                f.write_str("pool is poisoned by an earlier flush failure; reopen it")
            }
            Error::WouldDeadlock => f.write_str(
                "this thread is inside a transaction of the same pool (through another handle)",
            ),
            Error::CrossPool => f.write_str("a pointer into one pool cannot be stored in another"),
            Error::NotRelocatable { type_name } => write!(
                f,
                "a {type_name} cannot be copied into another pool (it holds a non-owning \
                 PPtr, or its Persistent impl has no clone_into_pool); use a typed migration"
            ),
            Error::NotRelocatableAt { path, why } => {
                write!(f, "{path} cannot be carried into the compacted pool: {why}")
            }
            Error::SameTag { pool, other } => write!(
                f,
                "pool {} stamps the same pointer tag as {}, which is open in this process \
                 (a copy of it, or a tag collision): open one of them only, or both read-only",
                pool.display(),
                other.display()
            ),
            Error::InvalidOptions(why) => write!(f, "invalid pool options: {why}"),
            Error::ReadOnly => f.write_str("the pool is open read-only"),
            Error::LogMissing { pool, log } => write!(
                f,
                "{} needs its log {} (it may hold commits not yet in the pool file), \
                 and the log is missing; copy a pool with its log, or close it first",
                pool.display(),
                log.display()
            ),
            Error::LogMismatch { pool, log, reason } => write!(
                f,
                "{} is not the log of {}: {reason}",
                log.display(),
                pool.display()
            ),
        }
    }
}

/// `TypeMismatch`'s message: the two types, each difference on its own line, and a hint
/// when an automatic migration would handle all of them.
fn type_mismatch(
    f: &mut fmt::Formatter<'_>,
    expected: &TypeIdentity,
    found: &TypeIdentity,
    differences: &[crate::TypeDifference],
) -> fmt::Result {
    write!(f, "pool root type is {found}, expected {expected}")?;
    for d in differences {
        write!(f, "\n  {d}")?;
    }
    if !differences.is_empty()
        && differences
            .iter()
            .all(crate::TypeDifference::looks_automatic)
    {
        write!(
            f,
            "\n  automatic migration can handle these: pmem::migrate::auto"
        )?;
    }
    Ok(())
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
