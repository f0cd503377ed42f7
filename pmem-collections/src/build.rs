//! Building a collection in place for `PInit`, all or nothing.

use std::ptr;

use pmem_core::{Persistent, Result};

/// Builds a collection at `dst`: writes `empty()`, then fills it through its own view
/// (which logs what it writes). On an error, frees what was built and leaves an empty
/// collection again.
///
/// # Safety
/// - as for [`PInit::init`](pmem_core::PInit::init): `dst` is writable and logged, in
///   an open transaction's pool.
pub(crate) unsafe fn build_in<C: Persistent>(
    dst: *mut C,
    empty: impl Fn() -> C,
    fill: impl FnOnce(&mut C::View) -> Result<()>,
) -> Result<()> {
    // SAFETY: `dst` is writable and logged (the caller's `PInit` contract); after the
    // first write it holds a valid collection, so its view and `free_owned` apply.
    unsafe {
        ptr::write(dst, empty());
        if let Err(e) = fill(C::view_mut(dst)) {
            let _ = C::free_owned(dst);
            ptr::write(dst, empty());
            return Err(e);
        }
    }
    Ok(())
}
