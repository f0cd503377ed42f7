//! The one constructor of the `Corrupted` error every collection layer reports.

use pmem_core::Error;

/// [`Error::Corrupted`]: `what` is wrong at pool offset `offset` (0 when unknown).
pub(crate) fn corrupted(what: impl Into<String>, offset: u64) -> Error {
    Error::Corrupted {
        what: what.into(),
        offset,
    }
}

/// The documented "pmem: corrupted pool: ..." panic of the APIs that cannot return an
/// error (`Deref`, `Index`, lookups answering `Option`). Out of line and cold, so the
/// paths that check a pointer before following it stay small enough to inline.
#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn panic_corrupted(e: &Error) -> ! {
    panic!("pmem: {e}")
}
