//! The one constructor of the `Corrupted` error every collection layer reports.

use pmem_core::Error;

/// [`Error::Corrupted`]: `what` is wrong at pool offset `offset` (0 when unknown).
pub(crate) fn corrupted(what: impl Into<String>, offset: u64) -> Error {
    Error::Corrupted {
        what: what.into(),
        offset,
    }
}
