//! Issue 11 item 5: `raw::free_owned_later` set a thread-local "freeing" flag that was
//! cleared only on a normal return, so after a panic inside a free every later free on
//! that thread was queued forever (owned memory leaked silently). A guard now resets it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

use pmem_core::schema::{Shape, TypeSchema};
use pmem_core::{PSafe, Persistent};

static FREED: AtomicBool = AtomicBool::new(false);

macro_rules! leaf {
    ($name:ident, $free:expr) => {
        struct $name;
        // SAFETY: a zero-sized marker; no bytes to interpret.
        unsafe impl PSafe for $name {}
        // SAFETY: owns nothing in any pool; its view is itself.
        unsafe impl Persistent for $name {
            type View = $name;
            const TYPE_NAME: &'static str = stringify!($name);
            const FINGERPRINT: u64 = 1;
            const SCHEMA: &'static TypeSchema = &TypeSchema {
                name: stringify!($name),
                size: 0,
                align: 1,
                fingerprint: 1,
                shape: Shape::Primitive,
            };
            unsafe fn view_mut<'a>(ptr: *mut Self) -> &'a mut Self {
                // SAFETY: caller's contract.
                unsafe { &mut *ptr }
            }
            #[allow(unreachable_code)] // `Panics` never returns
            unsafe fn free_owned(_: *mut Self) -> pmem_core::Result<()> {
                $free;
                Ok(())
            }
        }
    };
}

leaf!(Panics, panic!("a free that panics"));
leaf!(Records, FREED.store(true, Ordering::SeqCst));

#[test]
fn a_panic_inside_a_free_does_not_queue_every_later_free_forever() {
    let mut p = Panics;
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `p` is a live value that owns nothing.
        let _ = unsafe { pmem_core::raw::free_owned_later(std::ptr::addr_of_mut!(p)) };
    }));
    assert!(r.is_err(), "the free panicked");
    let mut q = Records;
    // SAFETY: as above.
    unsafe { pmem_core::raw::free_owned_later(std::ptr::addr_of_mut!(q)) }.unwrap();
    assert!(
        FREED.load(Ordering::SeqCst),
        "the next free on this thread must run, not be queued"
    );
}
