//! Freeing deep structures without deep recursion.

use crate::error::Result;
use crate::types::Persistent;

type FreeFn = unsafe fn(*mut u8) -> Result<()>;

unsafe fn free_erased<T: Persistent>(p: *mut u8) -> Result<()> {
    // SAFETY: queued by `free_owned_later::<T>` with a valid `T`.
    unsafe { T::free_owned(p.cast()) }
}

thread_local! {
    static FREEING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static FREE_QUEUE: std::cell::RefCell<Vec<(*mut u8, FreeFn)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Calls `T::free_owned(ptr)` without growing the stack with the depth of the
/// structure: nested calls (a list node freeing the next node) are queued and run by the
/// outermost call, so freeing a million-node list needs no deep recursion.
///
/// # Safety
/// - as for [`Persistent::free_owned`].
pub unsafe fn free_owned_later<T: Persistent>(ptr: *mut T) -> Result<()> {
    /// Leaves the thread ready for the next free even when a free panics: without it a
    /// panic left `FREEING` set, and every later free on the thread was queued forever.
    struct Done;
    impl Drop for Done {
        fn drop(&mut self) {
            FREE_QUEUE.with(|q| q.borrow_mut().clear());
            FREEING.with(|f| f.set(false));
        }
    }
    if FREEING.with(std::cell::Cell::get) {
        FREE_QUEUE.with(|q| {
            q.borrow_mut()
                .push((ptr.cast(), free_erased::<T> as FreeFn));
        });
        return Ok(());
    }
    FREEING.with(|f| f.set(true));
    let _done = Done;
    // SAFETY: caller's contract; queued entries carry their own.
    let mut r = unsafe { T::free_owned(ptr) };
    while r.is_ok() {
        let Some((p, f)) = FREE_QUEUE.with(|q| q.borrow_mut().pop()) else {
            break;
        };
        // SAFETY: see above.
        r = unsafe { f(p) };
    }
    r
}
