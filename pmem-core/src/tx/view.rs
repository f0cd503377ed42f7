//! View types: what a transaction hands out (as `&mut View`) to change a persistent
//! value in place.
//!
//! A view type is an *unsized* struct ending in [`ViewTail`], laid over the bytes of the
//! value it views (`&mut View` is a fat pointer whose length is the value's size). Being
//! unsized, a view cannot be moved, swapped or replaced (`std::mem::swap` needs `Sized`),
//! so every change goes through the view's methods, which snapshot first. The tail also
//! makes views `!Send` and `!Sync`: they belong to the transaction's thread.
//!
//! A view type is declared as
//!
//! ```
//! # use core::marker::PhantomData;
//! # struct Bank;
//! pub struct BankMut { _tail: pmem_core::ViewTail }
//! ```
//!
//! and made from a pointer to the value with [`crate::view_cast!`].

use std::marker::PhantomData;

/// The unsized, opaque tail of every view type (see the module docs).
pub struct ViewTail {
    _not_send: PhantomData<*mut ()>,
    _bytes: [u8],
}

/// Turns `*mut T` into `*mut View` for a view type whose last field is a
/// [`ViewTail`]: a fat pointer covering `size_of::<T>()` bytes.
///
/// # Examples
///
/// ```
/// use pmem_core::{view_cast, ViewTail};
/// pub struct U64Mut { _tail: ViewTail }
/// let mut x = 5u64;
/// let v: *mut U64Mut = view_cast!(&mut x as *mut u64, u64 => U64Mut);
/// assert_eq!(std::mem::size_of_val(unsafe { &*v }), 8);
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! view_cast {
    ($ptr:expr, $t:ty => $v:ty) => {
        ::core::ptr::slice_from_raw_parts_mut(($ptr).cast::<u8>(), ::core::mem::size_of::<$t>())
            as *mut $v
    };
}
