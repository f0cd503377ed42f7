//! What a failed command prints (after `pmem: `) and its exit status.
//!
//! A message names the pool once, says what is wrong in words a newcomer can act on,
//! and, where there is one, what to do about it. Status 1 means the pool is damaged;
//! 2 means it could not be looked at (or the command line was wrong).

use std::fmt::Display;
use std::path::Path;

use pmem_core::Error;

/// A failed command.
pub(crate) struct Failure {
    /// What to print after `pmem: `.
    pub(crate) message: String,
    /// The exit status.
    pub(crate) code: u8,
}

impl Failure {
    /// A pool that could not be opened.
    pub(crate) fn open(pool: &Path, e: &Error) -> Failure {
        let p = pool.display();
        let (message, code) = match e {
            // The common case, `missing.pool: No such file or directory`, says the
            // file's name once; a failure on another file (the log) names that one too.
            Error::Io { path, source, .. } if path == pool => (format!("{p}: {}", os(source)), 2),
            Error::Io { op, path, source } => {
                (format!("{p}: {op} {}: {}", path.display(), os(source)), 2)
            }
            Error::NotAPool { .. } => (
                format!("{p} is not a pmem pool: it does not start with a pool header"),
                2,
            ),
            Error::Locked { .. } => (
                format!(
                    "{p} is open elsewhere: a program has it open for writing, and pmem reads \
                     a pool only while nothing writes it. Close that program (or wait for it to \
                     finish), then run pmem again."
                ),
                2,
            ),
            Error::UnsupportedVersion { found, supported } => (
                format!(
                    "{p} has format version {found}, and this pmem reads version {supported}: \
                     use the pmem tool of the release that wrote it"
                ),
                2,
            ),
            // These name the pool and its log themselves, and say what to do.
            Error::LogMissing { .. } | Error::LogMismatch { .. } => (e.to_string(), 2),
            Error::Corrupted { .. } => (format!("{p}: {e}"), 1),
            _ => (format!("{p}: {e}"), 2),
        };
        Failure { message, code }
    }

    /// A pool too damaged for the command (its schema, or a panic while reading it).
    pub(crate) fn damaged(pool: &Path, what: impl Display) -> Failure {
        Failure {
            message: format!("{}: {what}", pool.display()),
            code: 1,
        }
    }

    /// A command that cannot run as asked (a `--path` that names nothing).
    pub(crate) fn usage(message: String) -> Failure {
        Failure { message, code: 2 }
    }

    /// Stdout failed (other than a reader that went away).
    pub(crate) fn output(e: &std::io::Error) -> Failure {
        Failure {
            message: format!("writing the output: {}", os(e)),
            code: 2,
        }
    }
}

/// An I/O error as the system words it, without Rust's ` (os error N)` suffix.
fn os(e: &std::io::Error) -> String {
    let text = e.to_string();
    match e.raw_os_error() {
        Some(n) => text
            .strip_suffix(&format!(" (os error {n})"))
            .map_or_else(|| text.clone(), str::to_string),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::os;

    #[test]
    fn io_errors_read_as_the_system_words_them() {
        let e = std::io::Error::from_raw_os_error(2);
        assert_eq!(os(&e), "No such file or directory");
        let e = std::io::Error::other("custom");
        assert_eq!(os(&e), "custom");
    }
}
