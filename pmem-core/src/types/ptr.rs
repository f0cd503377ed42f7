//! Persistent pointers: pool offsets instead of addresses.
//!
//! [`PPtr<T>`] is a non-owning, copyable pointer; [`PBox<T>`] owns its target, which is
//! freed with it. Following either costs a couple of loads: the pool base comes from the
//! address of the pointer itself (see `map`), never from a lookup table.

use std::fmt;
use std::marker::PhantomData;
use std::num::NonZeroU64;
use std::ops::Deref;

use crate::error::{Error, Result};
use crate::format::schema::{Shape, TypeSchema};
use crate::tx::raw;
use crate::tx::ViewTail;
use crate::types::fingerprint::{fp_str, fp_u64, FP_START};
use crate::types::Visitor;
use crate::types::{plain_view, PSafe, Persistent, Plain};

const TAG_SHIFT: u32 = crate::format::PPTR_TAG_SHIFT;
const OFF_MASK: u64 = (1 << TAG_SHIFT) - 1;

fn pool_tag(anchor: *const u8) -> Option<u64> {
    if !crate::media::in_live_pool(anchor as usize) {
        return None;
    }
    // SAFETY: in a live pool.
    let c = unsafe { crate::media::control_of(anchor as usize) };
    Some(c.tag.load(std::sync::atomic::Ordering::Acquire))
}

/// A non-owning persistent pointer to a `T` in the same pool; 0 is null.
///
/// The pool's 16-bit tag is kept in the top bits, so following a pointer stored in
/// another pool is refused with [`Error::CrossPool`] instead of reading a stranger's
/// bytes.
///
/// # Examples
///
/// ```
/// use pmem_core::{Pool, PPtr};
/// let mut pool = Pool::<(u64, PPtr<u64>)>::volatile().unwrap();
/// pool.tx(|tx| {
///     let me = PPtr::from_ref(&tx.root().0).unwrap();
///     tx.root_mut().1 = me;
///     Ok::<_, pmem_core::Error>(())
/// }).unwrap();
/// pool.read(|r| {
///     // SAFETY: the target is the root, which is never freed.
///     assert_eq!(unsafe { r.1.as_ref_in(r) }.unwrap(), Some(&0u64));
/// }).unwrap();
/// ```
#[repr(transparent)]
pub struct PPtr<T> {
    raw: u64,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for PPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for PPtr<T> {}
impl<T> PartialEq for PPtr<T> {
    fn eq(&self, o: &Self) -> bool {
        self.raw == o.raw
    }
}
impl<T> Eq for PPtr<T> {}
impl<T> Default for PPtr<T> {
    fn default() -> Self {
        PPtr {
            raw: 0,
            _t: PhantomData,
        }
    }
}
impl<T> fmt::Debug for PPtr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PPtr({:#x})", self.raw & OFF_MASK)
    }
}

impl<T: Persistent> PPtr<T> {
    /// The null pointer (also `PPtr::default()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::PPtr;
    /// let p = PPtr::<u64>::null();
    /// assert!(p.is_null());
    /// assert_eq!(p, PPtr::default());
    /// ```
    pub const fn null() -> Self {
        PPtr {
            raw: 0,
            _t: PhantomData,
        }
    }

    /// Is this null?
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{Pool, PPtr};
    /// let pool = Pool::<u64>::volatile().unwrap();
    /// assert!(PPtr::<u64>::null().is_null());
    /// pool.read(|n| assert!(!PPtr::from_ref(n).unwrap().is_null())).unwrap();
    /// ```
    pub fn is_null(&self) -> bool {
        self.raw == 0
    }

    /// The pool offset (without the tag); 0 for null.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{Pool, PPtr};
    /// let pool = Pool::<(u64, u64)>::volatile().unwrap();
    /// pool.read(|r| {
    ///     let a = PPtr::from_ref(&r.0).unwrap();
    ///     let b = PPtr::from_ref(&r.1).unwrap();
    ///     assert_eq!(b.offset() - a.offset(), 8);
    /// }).unwrap();
    /// assert_eq!(PPtr::<u64>::null().offset(), 0);
    /// ```
    pub fn offset(&self) -> u64 {
        self.raw & OFF_MASK
    }

    /// A pointer to `r`, which must live in an open pool (else `None`).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{Pool, PPtr};
    /// let pool = Pool::<u64>::volatile().unwrap();
    /// assert!(pool.read(|n| PPtr::from_ref(n).is_some()).unwrap());
    /// assert!(PPtr::from_ref(&5u64).is_none()); // on the stack, not in a pool
    /// ```
    pub fn from_ref(r: &T) -> Option<Self> {
        let p = std::ptr::from_ref(r).cast::<u8>();
        let off = raw::offset_of(p)?;
        let tag = pool_tag(p)?;
        Some(PPtr {
            raw: off | (tag << TAG_SHIFT),
            _t: PhantomData,
        })
    }

    /// Follows the pointer within the pool that `anchor` lives in.
    ///
    /// # Errors
    /// [`Error::CrossPool`] if the pointer was made in another pool;
    /// [`Error::Corrupted`] if it points outside the pool or is misaligned.
    ///
    /// # Safety
    /// - the target must still be allocated (a `PPtr` does not keep it alive).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{Error, Pool, PPtr};
    /// let mut a = Pool::<(u64, PPtr<u64>)>::volatile().unwrap();
    /// let b = Pool::<u64>::volatile().unwrap();
    /// a.tx(|tx| {
    ///     tx.root_mut().0 = 42;
    ///     tx.root_mut().1 = PPtr::from_ref(&tx.root().0).unwrap();
    ///     Ok::<_, Error>(())
    /// }).unwrap();
    /// a.read(|r| {
    ///     // SAFETY: the target is part of the root, which is never freed.
    ///     assert_eq!(unsafe { r.1.as_ref_in(r) }.unwrap(), Some(&42));
    ///     // SAFETY: as above; the anchor is in another pool, which is refused.
    ///     b.read(|other| assert!(matches!(unsafe { r.1.as_ref_in(other) }, Err(Error::CrossPool))))
    ///         .unwrap();
    ///     // SAFETY: null has no target.
    ///     assert_eq!(unsafe { PPtr::<u64>::null().as_ref_in(r) }.unwrap(), None);
    /// }).unwrap();
    /// ```
    pub unsafe fn as_ref_in<'a, A>(&self, anchor: &'a A) -> Result<Option<&'a T>> {
        if self.is_null() {
            return Ok(None);
        }
        let a = std::ptr::from_ref(anchor).cast::<u8>();
        if pool_tag(a) != Some(self.raw >> TAG_SHIFT) {
            return Err(Error::CrossPool);
        }
        let p = raw::resolve(a, self.offset(), size_of::<T>(), align_of::<T>())?;
        // SAFETY: in bounds and aligned in the anchor's pool; allocated by the caller's
        // promise; the borrow is bounded by the anchor's.
        Ok(Some(unsafe { &*p.cast::<T>() }))
    }
}

// SAFETY: an offset, not an address.
unsafe impl<T: Persistent> PSafe for PPtr<T> {}
// SAFETY: plain 8 bytes; owns nothing.
unsafe impl<T: Persistent> Persistent for PPtr<T> {
    type View = Self;
    const TYPE_NAME: &'static str = "PPtr";
    const FINGERPRINT: u64 = fp_str(fp_str(FP_START, "PPtr"), T::TYPE_NAME);
    const SCHEMA: &'static TypeSchema = &TypeSchema {
        name: "PPtr",
        size: 8,
        align: 8,
        fingerprint: Self::FINGERPRINT,
        shape: Shape::Pointer {
            owned: false,
            target: T::schema,
        },
    };
    unsafe fn view_mut<'a>(ptr: *mut Self) -> &'a mut Self {
        // SAFETY: forwarded contract.
        unsafe { plain_view(ptr) }
    }
}
// SAFETY: owns nothing.
unsafe impl<T: Persistent> Plain for PPtr<T> {}

/// An owning persistent pointer: the `T` it points to lives in the same pool and is
/// freed (in the same transaction) when the box is dropped from the structure holding
/// it. Never null: use `Option<PBox<T>>` for an optional one.
///
/// # Examples
///
/// ```
/// use pmem_core::{Pool, PBox};
/// let mut pool = Pool::<Option<PBox<u64>>>::volatile().unwrap();
/// pool.tx(|tx| {
///     *tx.root_mut().insert(5)? += 1;
///     Ok::<_, pmem_core::Error>(())
/// }).unwrap();
/// assert_eq!(pool.read(|r| r.as_deref().copied()).unwrap(), Some(6));
/// pool.tx(|tx| tx.root_mut().clear()).unwrap();
/// assert_eq!(pool.check().unwrap().allocations, 1); // only the root is left
/// ```
#[repr(transparent)]
pub struct PBox<T: Persistent> {
    off: NonZeroU64,
    _t: PhantomData<T>,
}

impl<T: Persistent> PBox<T> {
    fn target(&self) -> Result<*mut T> {
        let p = raw::resolve(
            std::ptr::from_ref(self).cast(),
            self.off.get(),
            size_of::<T>(),
            align_of::<T>(),
        )?;
        Ok(p.cast())
    }

    /// The pool offset of the target.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{PBox, Pool, PPtr};
    /// let mut pool = Pool::<Option<PBox<u64>>>::volatile().unwrap();
    /// pool.tx(|tx| tx.root_mut().insert(1).map(drop)).unwrap();
    /// pool.read(|r| {
    ///     let b = r.as_ref().unwrap();
    ///     assert_eq!(b.offset(), PPtr::from_ref(&**b).unwrap().offset());
    /// }).unwrap();
    /// ```
    pub fn offset(&self) -> u64 {
        self.off.get()
    }
}

impl<T: Persistent> Deref for PBox<T> {
    type Target = T;
    /// # Panics
    /// With "pmem: corrupted pool: ..." if the stored offset is outside the pool or
    /// misaligned (only a corrupted file can cause this).
    fn deref(&self) -> &T {
        let p = raw::resolve_or_panic(
            std::ptr::from_ref(self).cast(),
            self.off.get(),
            size_of::<T>(),
            align_of::<T>(),
        );
        // SAFETY: in bounds and aligned; owned by this box, so allocated and initialised.
        unsafe { &*p.cast::<T>() }
    }
}

impl<T: Persistent + fmt::Debug> fmt::Debug for PBox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

pub(super) const fn box_fp(name: &str, target: &str, size: usize, align: usize) -> u64 {
    fp_u64(
        fp_u64(fp_str(fp_str(FP_START, name), target), size as u64),
        align as u64,
    )
}

// SAFETY: an offset, not an address.
unsafe impl<T: Persistent> PSafe for PBox<T> {}
// SAFETY: the view's methods snapshot what they write; visit/free cover the target.
unsafe impl<T: Persistent> Persistent for PBox<T> {
    type View = PBoxMut<T>;
    const TYPE_NAME: &'static str = "PBox";
    // The target contributes its name, size and alignment (not its fingerprint), so
    // recursive types (a node owning a box of node) have finite fingerprints.
    const FINGERPRINT: u64 = box_fp("PBox", T::TYPE_NAME, size_of::<T>(), align_of::<T>());
    const SCHEMA: &'static TypeSchema = &TypeSchema {
        name: "PBox",
        size: 8,
        align: 8,
        fingerprint: Self::FINGERPRINT,
        shape: Shape::Pointer {
            owned: true,
            target: T::schema,
        },
    };
    unsafe fn view_mut<'a>(ptr: *mut Self) -> &'a mut PBoxMut<T> {
        // SAFETY: `PBoxMut<T>` ends in a ViewTail; the fat pointer covers the box.
        unsafe { &mut *crate::view_cast!(ptr, Self => PBoxMut<T>) }
    }
    // A box's offset is `NonZeroU64`: zero bytes are not a valid box.
    const MAY_BE_INVALID: bool = true;
    unsafe fn validate(ptr: *const Self) -> std::result::Result<(), crate::types::Invalid> {
        // SAFETY: (caller) eight readable, aligned bytes; read as `u64`.
        if unsafe { ptr.cast::<u64>().read() } == 0 {
            return Err(crate::types::Invalid::new("PBox offset is zero", 8));
        }
        Ok(())
    }
    fn visit_owned(&self, v: &mut Visitor<'_>) -> Result<()> {
        let p = self.target()?;
        if v.owned(p.cast(), size_of::<T>().max(1))? {
            // SAFETY: a live allocation owned by this box.
            unsafe { v.visit_later(p) };
        }
        Ok(())
    }
    unsafe fn free_owned(ptr: *mut Self) -> Result<()> {
        // SAFETY: `ptr` is a valid box in the pool (caller's contract).
        let p = unsafe { (*ptr).target()? };
        // SAFETY: the target is owned by the box, in the same transaction's pool.
        unsafe {
            raw::free(p.cast(), size_of::<T>().max(1))?;
            crate::types::free_owned_later(p)
        }
    }
    unsafe fn clone_into_pool(&self, dst: *mut Self) -> Result<()> {
        // SAFETY: caller's contract for `dst`; the target's copy fills the fresh `T`.
        unsafe { PBox::write_new(dst, |p| (**self).clone_into_pool(p)) }
    }
    unsafe fn migrate_into_pool(
        old: *const u8,
        old_ty: crate::format::auto::OldType<'_>,
        dst: *mut Self,
    ) -> Result<()> {
        if old_ty.identical_to(Self::SCHEMA) {
            // SAFETY: identical graphs: the old box is a valid `Self` (caller's contract).
            return unsafe { (*old.cast::<Self>()).clone_into_pool(dst) };
        }
        let target = old_ty.owned_target(Self::SCHEMA)?;
        // SAFETY: (caller) `old` is an aligned, readable box of the old pool: its eight
        // bytes are the target's offset.
        let off = unsafe { old.cast::<u64>().read() };
        let src = raw::resolve(old, off, target.size().max(1), target.align())?;
        // SAFETY: caller's contract for `dst`; `src` is the old target, resolved and
        // bounds-checked in the old pool, a valid value of `target` (the old box owns it).
        unsafe { PBox::write_new(dst, |p| T::migrate_into_pool(src, target, p)) }
    }
}

impl<T: Persistent> PBox<T> {
    /// The box owning the allocation at pool offset `off` (`Option<PBox>`'s view).
    pub(super) fn at_offset(off: NonZeroU64) -> Self {
        PBox {
            off,
            _t: PhantomData,
        }
    }

    /// Writes at `dst` a box owning a fresh `T` that `fill` initialises; the
    /// allocation is freed again if `fill` fails (a deep copy's and a migration's box).
    ///
    /// # Safety
    /// - `dst` is writable and lies in a pool whose transaction is open on this thread;
    /// - `fill` fully initialises the `T` it is given (fresh, logged pool memory).
    unsafe fn write_new(dst: *mut Self, fill: impl FnOnce(*mut T) -> Result<()>) -> Result<()> {
        let size = size_of::<T>().max(1);
        // SAFETY: caller's contract; the fresh allocation is declared before it is
        // written, and freed again if `fill` fails.
        unsafe {
            let p = raw::alloc(dst.cast(), size, align_of::<T>())?;
            raw::snapshot(p, size);
            if let Err(e) = fill(p.cast()) {
                raw::free(p, size)?;
                return Err(e);
            }
            let off = raw::offset_of(p)
                .and_then(NonZeroU64::new)
                .ok_or(Error::CrossPool)?;
            dst.write(PBox::at_offset(off));
        }
        Ok(())
    }
}

/// The view of a [`PBox<T>`] inside a transaction.
pub struct PBoxMut<T: Persistent> {
    _t: PhantomData<T>,
    _tail: ViewTail,
}

impl<T: Persistent> PBoxMut<T> {
    fn boxed(&self) -> &PBox<T> {
        // SAFETY: a view lies over a valid `PBox<T>`.
        unsafe { &*std::ptr::from_ref(self).cast::<PBox<T>>() }
    }

    /// The target's view.
    ///
    /// # Panics
    /// If the box's offset is corrupted.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_core::{PBox, Pool, Tx};
    /// # type Root = Option<PBox<PBox<u64>>>;
    /// # // A `PBoxMut` is the view of a `PBox` field (of a derived struct, say); here a
    /// # // box is made by hand and put inside another.
    /// # fn new_box(tx: &mut Tx<'_, Root>, v: u64) -> pmem_core::Result<PBox<u64>> {
    /// #     let off = tx.alloc_raw(8, 8)?;
    /// #     let p = tx.addr_of(off, 8)?;
    /// #     // SAFETY: a fresh, aligned allocation of 8 bytes in this transaction's pool,
    /// #     // declared before it is written; the box made from it is its only owner.
    /// #     unsafe {
    /// #         pmem_core::raw::snapshot(p, 8);
    /// #         p.cast::<u64>().write(v);
    /// #         Ok(std::mem::transmute::<std::num::NonZeroU64, PBox<u64>>(
    /// #             std::num::NonZeroU64::new(off).unwrap(),
    /// #         ))
    /// #     }
    /// # }
    /// let mut pool = Pool::<Root>::volatile().unwrap();
    /// pool.tx(|tx| {
    /// #   let b = new_box(tx, 1)?;
    /// #   tx.root_mut().insert(b)?;
    ///     let boxed: &mut pmem_core::PBoxMut<u64> = tx.root_mut().as_mut().unwrap();
    ///     *boxed.get_mut() += 41;
    ///     Ok::<_, pmem_core::Error>(())
    /// }).unwrap();
    /// assert_eq!(pool.read(|r| r.as_ref().map(|b| ***b)).unwrap(), Some(42));
    /// ```
    pub fn get_mut(&mut self) -> &mut T::View {
        let p = raw::resolve_or_panic(
            std::ptr::from_ref(self).cast(),
            self.boxed().off.get(),
            size_of::<T>(),
            align_of::<T>(),
        );
        // SAFETY: the target is owned by this box, which this view borrows exclusively.
        unsafe { T::view_mut(p.cast()) }
    }

    /// Replaces the target's value, freeing what the old value owned.
    ///
    /// # Errors
    /// [`Error::Corrupted`] if the box's offset is corrupted, or freeing the old value
    /// fails.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pmem_core::{PBox, Pool, Tx};
    /// # type Root = Option<PBox<PBox<u64>>>;
    /// # // A `PBoxMut` is the view of a `PBox` field (of a derived struct, say); here a
    /// # // box is made by hand and put inside another.
    /// # fn new_box(tx: &mut Tx<'_, Root>, v: u64) -> pmem_core::Result<PBox<u64>> {
    /// #     let off = tx.alloc_raw(8, 8)?;
    /// #     let p = tx.addr_of(off, 8)?;
    /// #     // SAFETY: a fresh, aligned allocation of 8 bytes in this transaction's pool,
    /// #     // declared before it is written; the box made from it is its only owner.
    /// #     unsafe {
    /// #         pmem_core::raw::snapshot(p, 8);
    /// #         p.cast::<u64>().write(v);
    /// #         Ok(std::mem::transmute::<std::num::NonZeroU64, PBox<u64>>(
    /// #             std::num::NonZeroU64::new(off).unwrap(),
    /// #         ))
    /// #     }
    /// # }
    /// let mut pool = Pool::<Root>::volatile().unwrap();
    /// pool.tx(|tx| {
    /// #   let b = new_box(tx, 1)?;
    /// #   tx.root_mut().insert(b)?;
    ///     let boxed: &mut pmem_core::PBoxMut<u64> = tx.root_mut().as_mut().unwrap();
    ///     boxed.set(7)?;
    ///     assert_eq!(**boxed, 7);
    ///     Ok::<_, pmem_core::Error>(())
    /// }).unwrap();
    /// assert_eq!(pool.read(|r| r.as_ref().map(|b| ***b)).unwrap(), Some(7));
    /// assert_eq!(pool.check().unwrap().allocations, 3); // the root and two boxes
    /// ```
    pub fn set(&mut self, value: T) -> Result<()> {
        let p = self.boxed().target()?;
        // SAFETY: the target is owned by the box and exclusively borrowed through `self`.
        unsafe {
            T::free_owned(p)?;
            raw::snapshot_value(p);
            std::ptr::write(p, value);
            crate::types::padding::zero_padding(T::schema(), p.cast());
        }
        Ok(())
    }
}

impl<T: Persistent> Deref for PBoxMut<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.boxed()
    }
}

/// Serialises the box's target, as serde does for `Box<T>`.
#[cfg(feature = "serde")]
impl<T: Persistent + serde::Serialize> serde::Serialize for PBox<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        (**self).serialize(s)
    }
}

/// Serialises the pointer's pool offset, or `None` when it is null: a `PPtr` does not
/// own its target, which is serialised where it is owned.
#[cfg(feature = "serde")]
impl<T: Persistent> serde::Serialize for PPtr<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if self.is_null() {
            s.serialize_none()
        } else {
            s.serialize_some(&self.offset())
        }
    }
}
