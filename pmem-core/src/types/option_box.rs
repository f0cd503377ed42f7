//! `Option<PBox<T>>`: an optional owning pointer, 8 bytes through the box's nonzero
//! niche (0 is `None`), and its view [`OptionPBoxMut`].

use std::marker::PhantomData;
use std::num::NonZeroU64;
use std::ops::Deref;

use super::ptr::{box_fp, PBox};
use crate::error::Result;
use crate::format::schema::{Shape, TypeSchema};
use crate::tx::raw;
use crate::tx::ViewTail;
use crate::types::Visitor;
use crate::types::{PSafe, Persistent};

// SAFETY: `Option<PBox<T>>` is 8 bytes (the NonZero niche); 0 is `None`.
unsafe impl<T: Persistent> PSafe for Option<PBox<T>> {}
// SAFETY: the view's methods snapshot what they write; visit/free cover the target.
unsafe impl<T: Persistent> Persistent for Option<PBox<T>> {
    type View = OptionPBoxMut<T>;
    const TYPE_NAME: &'static str = "Option<PBox>";
    const FINGERPRINT: u64 = box_fp(
        "Option<PBox>",
        T::TYPE_NAME,
        size_of::<T>(),
        align_of::<T>(),
    );
    const SCHEMA: &'static TypeSchema = &TypeSchema {
        name: "Option<PBox>",
        size: 8,
        align: 8,
        fingerprint: Self::FINGERPRINT,
        shape: Shape::Option(<PBox<T> as Persistent>::schema),
    };
    unsafe fn view_mut<'a>(ptr: *mut Self) -> &'a mut OptionPBoxMut<T> {
        // SAFETY: `OptionPBoxMut<T>` ends in a ViewTail; the fat pointer covers the option.
        unsafe { &mut *crate::view_cast!(ptr, Self => OptionPBoxMut<T>) }
    }
    fn visit_owned(&self, v: &mut Visitor<'_>) -> Result<()> {
        match self {
            Some(b) => b.visit_owned(v),
            None => Ok(()),
        }
    }
    unsafe fn free_owned(ptr: *mut Self) -> Result<()> {
        // SAFETY: caller's contract; a `Some` holds a valid box at the same address.
        unsafe {
            match &mut *ptr {
                Some(b) => PBox::free_owned(b),
                None => Ok(()),
            }
        }
    }
    unsafe fn clone_into_pool(&self, dst: *mut Self) -> Result<()> {
        // SAFETY: caller's contract; `Some(b)` is stored as `b`'s bytes (the niche), so
        // a box written at `dst` is `Some` of it.
        unsafe {
            match self {
                Some(b) => b.clone_into_pool(dst.cast::<PBox<T>>()),
                None => {
                    dst.write(None);
                    Ok(())
                }
            }
        }
    }
    unsafe fn migrate_into_pool(
        old: *const u8,
        old_ty: crate::format::auto::OldType<'_>,
        dst: *mut Self,
    ) -> Result<()> {
        if old_ty.identical_to(Self::SCHEMA) {
            // SAFETY: identical graphs: the old value is a valid `Self` (caller's contract).
            return unsafe { (*old.cast::<Self>()).clone_into_pool(dst) };
        }
        let inner = old_ty.option_inner(Self::SCHEMA)?;
        // SAFETY: (caller) an aligned, readable `Option<PBox<_>>` of the old pool: eight
        // bytes, zero for `None` (the niche), else a box's offset.
        if unsafe { old.cast::<u64>().read() } == 0 {
            // SAFETY: `dst` is writable (caller's contract).
            unsafe { dst.write(None) };
            return Ok(());
        }
        // SAFETY: a `Some` is stored as its box's bytes, and a box written at `dst` is
        // `Some` of it; the rest is the caller's contract.
        unsafe { PBox::<T>::migrate_into_pool(old, inner, dst.cast::<PBox<T>>()) }
    }
}

const _: () = assert!(size_of::<Option<PBox<u64>>>() == 8);

/// The view of an `Option<PBox<T>>` inside a transaction.
pub struct OptionPBoxMut<T: Persistent> {
    _t: PhantomData<T>,
    _tail: ViewTail,
}

impl<T: Persistent> OptionPBoxMut<T> {
    fn ptr(&mut self) -> *mut Option<PBox<T>> {
        std::ptr::from_mut(self).cast()
    }

    /// The target's view, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{PBox, Pool};
    /// let mut pool = Pool::<Option<PBox<u64>>>::volatile().unwrap();
    /// pool.tx(|tx| {
    ///     assert!(tx.root_mut().as_mut().is_none());
    ///     tx.root_mut().insert(1)?;
    ///     *tx.root_mut().as_mut().unwrap() += 1;
    ///     Ok::<_, pmem_core::Error>(())
    /// }).unwrap();
    /// assert_eq!(pool.read(|r| r.as_deref().copied()).unwrap(), Some(2));
    /// ```
    pub fn as_mut(&mut self) -> Option<&mut T::View> {
        let p = self.ptr();
        // SAFETY: the view lies over a valid option; a `Some` box is exclusively ours.
        unsafe {
            (*p).is_some()
                .then(|| PBox::view_mut(p.cast::<PBox<T>>()).get_mut())
        }
    }

    /// Allocates a new box holding `value` (freeing the old one and what it owned) and
    /// answers the new target's view.
    ///
    /// # Errors
    /// [`Error::OutOfSpace`] when the pool is full (the option is unchanged); errors of
    /// freeing the old box.
    ///
    /// # Panics
    /// Only on an engine bug (the new allocation not lying in this pool).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{PBox, Pool};
    /// let mut pool = Pool::<Option<PBox<u64>>>::volatile().unwrap();
    /// pool.tx(|tx| { *tx.root_mut().insert(3)? *= 2; Ok::<_, pmem_core::Error>(()) }).unwrap();
    /// pool.tx(|tx| tx.root_mut().insert(10).map(drop)).unwrap(); // frees the box holding 6
    /// assert_eq!(pool.read(|r| r.as_deref().copied()).unwrap(), Some(10));
    /// assert_eq!(pool.check().unwrap().allocations, 2); // the root and one box
    /// ```
    pub fn insert(&mut self, value: T) -> Result<&mut T::View> {
        let p = self.ptr();
        // SAFETY: the view lies over a valid option in a pool with an open transaction.
        unsafe {
            let t = raw::alloc(p.cast(), size_of::<T>().max(1), align_of::<T>())?.cast::<T>();
            raw::snapshot_value(t);
            std::ptr::write(t, value);
            crate::types::padding::zero_padding(T::schema(), t.cast());
            Self::free_old(p)?;
            raw::snapshot_value(p);
            let off = raw::offset_of(t.cast()).expect("allocated in this pool");
            std::ptr::write(
                p,
                Some(PBox::at_offset(
                    NonZeroU64::new(off).expect("heap offsets are nonzero"),
                )),
            );
            Ok(T::view_mut(t))
        }
    }

    /// Frees the box (and what its value owned) and sets `None`.
    ///
    /// # Errors
    /// [`Error::Corrupted`] if the box's offset is corrupted.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{PBox, Pool};
    /// let mut pool = Pool::<Option<PBox<u64>>>::volatile().unwrap();
    /// pool.tx(|tx| tx.root_mut().insert(1).map(drop)).unwrap();
    /// pool.tx(|tx| tx.root_mut().clear()).unwrap();
    /// assert!(pool.read(|r| r.is_none()).unwrap());
    /// assert_eq!(pool.check().unwrap().allocations, 1); // only the root
    /// ```
    pub fn clear(&mut self) -> Result<()> {
        let p = self.ptr();
        // SAFETY: as in `insert`.
        unsafe {
            Self::free_old(p)?;
            raw::snapshot_value(p);
            std::ptr::write(p, None);
        }
        Ok(())
    }

    unsafe fn free_old(p: *mut Option<PBox<T>>) -> Result<()> {
        // SAFETY: caller's contract.
        unsafe { <Option<PBox<T>> as Persistent>::free_owned(p) }
    }
}

impl<T: Persistent> Deref for OptionPBoxMut<T> {
    type Target = Option<PBox<T>>;
    fn deref(&self) -> &Option<PBox<T>> {
        // SAFETY: a view lies over a valid option.
        unsafe { &*std::ptr::from_ref(self).cast::<Option<PBox<T>>>() }
    }
}
