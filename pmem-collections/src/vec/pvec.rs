//! The `PVec<T>` header type: reads, trait impls, `Persistent` and `PInit`.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::ops::Deref;
use std::ptr::{self, NonNull};

use pmem_core::fingerprint::{fp_str, fp_u64, FP_START};
use pmem_core::schema::{Shape, TypeSchema};
use pmem_core::{raw, view_cast, Error, PInit, PSafe, Persistent, Plain, Result, Visitor};

use super::raw::{Elem, RawVec};
use super::view::PVecMut;

/// A growable array stored in a pool: the persistent counterpart of [`Vec<T>`].
///
/// The value itself is a 24-byte header (buffer offset, length, capacity); the elements
/// live in one pool allocation that the vector owns. Reads are ordinary slice reads
/// (`PVec<T>: Deref<Target = [T]>`); changes go through [`PVecMut<T>`], the view a
/// transaction hands out, whose methods log exactly the bytes they change. A `PVec`
/// built outside a pool ([`PVec::new`], `Default`) is empty and owns nothing.
///
/// # Examples
///
/// ```
/// use pmem_collections::PVec;
/// use pmem_core::Pool;
///
/// let mut pool = Pool::<PVec<u64>>::volatile()?;
/// pool.tx(|tx| {
///     let v = tx.root_mut();
///     v.push(1)?;
///     v.extend([2, 3])?;
///     Ok::<_, pmem_core::Error>(())
/// })?;
/// pool.read(|v| {
///     assert_eq!(v.len(), 3);
///     assert_eq!(v[..], [1, 2, 3]);
///     assert_eq!(v.iter().sum::<u64>(), 6);
/// })?;
/// # Ok::<(), pmem_core::Error>(())
/// ```
#[repr(C)]
pub struct PVec<T> {
    pub(crate) raw: RawVec,
    _t: PhantomData<T>,
}

impl<T> PVec<T> {
    /// An empty vector that owns nothing (no pool memory is touched).
    ///
    /// # Examples
    ///
    /// ```
    /// let v = pmem_collections::PVec::<u64>::new();
    /// assert!(v.is_empty());
    /// assert_eq!(v.capacity(), 0);
    /// ```
    pub const fn new() -> Self {
        PVec {
            raw: RawVec::new(),
            _t: PhantomData,
        }
    }

    /// The number of elements the buffer holds without growing.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_collections::PVec;
    /// let mut pool = pmem_core::Pool::<PVec<u64>>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().reserve(10))?;
    /// assert!(pool.read(|v| v.capacity())? >= 10);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn capacity(&self) -> usize {
        self.raw.cap as usize
    }

    /// The elements as a slice (what `Deref` answers).
    ///
    /// # Panics
    /// With "pmem: corrupted pool: ..." if the header is inconsistent (only a corrupted
    /// pool file can cause this).
    ///
    /// # Examples
    ///
    /// ```
    /// let v = pmem_collections::PVec::<u8>::new();
    /// assert_eq!(v.as_slice(), &[] as &[u8]);
    /// ```
    #[track_caller]
    pub fn as_slice(&self) -> &[T] {
        match self.raw.buffer_or_panic(Elem::of::<T>()) {
            // SAFETY: `buffer` checked that the allocation holds `cap >= len` elements,
            // aligned for `T`, inside this header's pool; elements `0..len` are
            // initialised (header invariant) and are not changed while `&self` lives
            // (changes need the exclusive view).
            (Some(p), len) => unsafe { std::slice::from_raw_parts(p.cast::<T>(), len) },
            (None, _) => &[],
        }
    }

    pub(crate) fn elem_ptr(&self, i: usize) -> *mut T {
        match self.raw.buffer_or_panic(Elem::of::<T>()) {
            // SAFETY: callers pass `i <= cap`; in bounds of the allocation.
            (Some(p), _) => unsafe { p.cast::<T>().add(i) },
            (None, _) => NonNull::dangling().as_ptr(),
        }
    }
}

impl<T> Default for PVec<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Deref for PVec<T> {
    type Target = [T];
    /// # Panics
    /// With "pmem: corrupted pool: ..." if the header is inconsistent.
    #[track_caller]
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T> AsRef<[T]> for PVec<T> {
    fn as_ref(&self) -> &[T] {
        self
    }
}

impl<T> Borrow<[T]> for PVec<T> {
    fn borrow(&self) -> &[T] {
        self
    }
}

impl<T: fmt::Debug> fmt::Debug for PVec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: PartialEq<U>, U> PartialEq<PVec<U>> for PVec<T> {
    fn eq(&self, other: &PVec<U>) -> bool {
        self[..] == other[..]
    }
}
impl<T: PartialEq<U>, U> PartialEq<[U]> for PVec<T> {
    fn eq(&self, other: &[U]) -> bool {
        self[..] == *other
    }
}
impl<T: PartialEq<U>, U> PartialEq<&[U]> for PVec<T> {
    fn eq(&self, other: &&[U]) -> bool {
        self[..] == **other
    }
}
impl<T: PartialEq<U>, U> PartialEq<Vec<U>> for PVec<T> {
    fn eq(&self, other: &Vec<U>) -> bool {
        self[..] == other[..]
    }
}
impl<T: PartialEq<U>, U, const N: usize> PartialEq<[U; N]> for PVec<T> {
    fn eq(&self, other: &[U; N]) -> bool {
        self[..] == other[..]
    }
}
impl<T: Eq> Eq for PVec<T> {}

impl<T: PartialOrd> PartialOrd for PVec<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self[..].partial_cmp(&other[..])
    }
}
impl<T: Ord> Ord for PVec<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self[..].cmp(&other[..])
    }
}

impl<T: Hash> Hash for PVec<T> {
    /// Hashes like the slice `[T]`, so a `PHashMap<PVec<T>, _>` is queried with `&[T]`.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self[..].hash(state);
    }
}

impl<'a, T> IntoIterator for &'a PVec<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Fingerprint of a collection over element types: their names, sizes and alignments
/// (not their fingerprints, so recursive types through collections stay finite — the
/// same rule as `PBox`).
pub(crate) const fn collection_fp(name: &str, params: &[(&str, usize, usize)]) -> u64 {
    let mut h = fp_str(FP_START, name);
    let mut i = 0;
    while i < params.len() {
        h = fp_u64(
            fp_u64(fp_str(h, params[i].0), params[i].1 as u64),
            params[i].2 as u64,
        );
        i += 1;
    }
    h
}

// SAFETY: the header is three pool words (an offset and two counts), no addresses;
// `repr(C)` fixes its layout.
unsafe impl<T: PSafe> PSafe for PVec<T> {}

// SAFETY: every `PVecMut` method snapshots the bytes it changes; `visit_owned` reports
// the buffer and recurses into `0..len`; `free_owned` frees exactly those; the
// fingerprint covers the element type's name, size and alignment.
unsafe impl<T: Persistent> Persistent for PVec<T> {
    type View = PVecMut<T>;
    const TYPE_NAME: &'static str = "PVec";
    const FINGERPRINT: u64 =
        collection_fp("PVec", &[(T::TYPE_NAME, size_of::<T>(), align_of::<T>())]);
    const SCHEMA: &'static TypeSchema = &TypeSchema {
        name: "PVec",
        size: size_of::<Self>(),
        align: align_of::<Self>(),
        fingerprint: Self::FINGERPRINT,
        shape: Shape::Collection {
            kind: "PVec",
            params: &[T::schema],
        },
    };

    unsafe fn view_mut<'a>(ptr: *mut Self) -> &'a mut PVecMut<T> {
        // SAFETY: `PVecMut<T>` ends in a `ViewTail`; the fat pointer covers the header,
        // which the caller lends exclusively for `'a`.
        unsafe { &mut *view_cast!(ptr, Self => PVecMut<T>) }
    }

    fn visit_owned(&self, v: &mut Visitor<'_>) -> Result<()> {
        let el = Elem::of::<T>();
        if el.size == 0 {
            return if self.raw.off == 0 && self.raw.cap == 0 {
                Ok(())
            } else {
                Err(Error::Corrupted {
                    what: "vector of zero-sized elements has a buffer".into(),
                    offset: self.raw.off,
                })
            };
        }
        let (Some(p), len) = self.raw.buffer(el)? else {
            return Ok(());
        };
        if v.owned(p, self.raw.alloc_bytes(el))? {
            v.enter("[]");
            for i in 0..len {
                // SAFETY: `buffer` checked the allocation holds `len` elements' bytes;
                // each is validated before it is read as a `T`.
                unsafe {
                    let e = p.cast::<T>().add(i);
                    v.validate(e)?;
                    (*e).visit_owned(v)?;
                }
            }
            v.leave();
        }
        Ok(())
    }

    unsafe fn free_owned(ptr: *mut Self) -> Result<()> {
        // SAFETY: caller's contract: a valid vector in the open transaction's pool.
        unsafe {
            let raw = ptr::addr_of_mut!((*ptr).raw);
            let (buf, len) = (*raw).buffer(Elem::of::<T>())?;
            if let Some(p) = buf {
                for i in 0..len {
                    T::free_owned(p.cast::<T>().add(i))?;
                }
            }
            RawVec::free_buffer(raw, Elem::of::<T>())
        }
    }

    /// A buffer of exactly `len` elements; elements that own nothing are copied in one
    /// go, others one by one.
    unsafe fn clone_into_pool(&self, dst: *mut Self) -> Result<()> {
        let len = self.len();
        if raw::owns_nothing(T::SCHEMA) && len > 0 {
            // SAFETY: caller's contract; `build` hands out slot 0 of a fresh, logged
            // buffer of `len` elements, and the source holds `len` initialised ones.
            return unsafe {
                build(dst, len, |i, p| {
                    if i == 0 {
                        ptr::copy_nonoverlapping(self.as_ptr(), p, len);
                    }
                    Ok(())
                })
            };
        }
        // SAFETY: caller's contract; `p` is a logged slot of the new buffer.
        unsafe { build(dst, len, |i, p| self[i].clone_into_pool(p)) }
    }

    /// A buffer of exactly the old length, each element migrated from the old buffer,
    /// read with the stored element's size and alignment.
    unsafe fn migrate_into_pool(
        old: *const u8,
        old_ty: pmem_core::__private::auto::OldType<'_>,
        dst: *mut Self,
    ) -> Result<()> {
        if old_ty.identical_to(Self::SCHEMA) {
            // SAFETY: identical graphs: the old vector is a valid `Self` (caller's
            // contract).
            return unsafe { (*old.cast::<Self>()).clone_into_pool(dst) };
        }
        let elem = old_ty.collection_param(Self::SCHEMA, 0)?;
        let el = Elem {
            size: elem.size(),
            align: elem.align(),
        };
        if el.size == 0 || !el.align.is_power_of_two() {
            return Err(Error::NotAutoMigratable {
                path: "[]".into(),
                change: format!("stored element {} has no size", elem.name()),
            });
        }
        // SAFETY: (caller) `old` is an aligned, readable vector header of the old pool;
        // the header is the same `RawVec` for every element type.
        let (buf, len) = unsafe { (*old.cast::<RawVec>()).buffer(el)? };
        let Some(buf) = buf else {
            // SAFETY: `dst` as `init` requires (caller's contract).
            return unsafe { build(dst, 0, |_, _| Ok(())) };
        };
        // SAFETY: caller's contract for `dst`; `p` is a logged slot of the new buffer;
        // element `i < len` of the old buffer lies at `i * size`, inside the checked
        // buffer, aligned (the buffer is, and `size` is a multiple of the alignment), a
        // valid value of the stored element type.
        unsafe {
            build(dst, len, |i, p| {
                T::migrate_into_pool(buf.add(i * el.size).cast_const(), elem, p)
                    .map_err(|e| pmem_core::__private::auto::within(e, "[]"))
            })
        }
    }
}

/// Builds a vector of `len` elements at `dst`, writing element `i` with `write(i, p)`.
/// On an error, frees what was built and leaves `*dst` an empty vector.
///
/// # Safety
/// - as for [`PInit::init`].
unsafe fn build<T: Persistent>(
    dst: *mut PVec<T>,
    len: usize,
    mut write: impl FnMut(usize, *mut T) -> Result<()>,
) -> Result<()> {
    // SAFETY: `dst` is writable and logged (the `PInit` contract).
    unsafe { ptr::write(dst, PVec::new()) };
    if len == 0 {
        return Ok(());
    }
    let raw = dst.cast::<RawVec>();
    // SAFETY: `dst` now holds a valid empty vector in the open transaction's pool.
    unsafe { RawVec::reserve(raw, len, Elem::of::<T>(), true)? };
    // SAFETY: the buffer was just allocated with room for `len` elements.
    let base = unsafe { (*dst).elem_ptr(0) };
    // SAFETY: fresh memory, declared before it is written.
    unsafe { raw::snapshot(base.cast_const().cast(), len * size_of::<T>()) };
    for i in 0..len {
        // SAFETY: slot `i < cap`, logged above.
        if let Err(e) = write(i, unsafe { base.add(i) }) {
            // SAFETY: elements `0..i` were written; undo them and the buffer.
            unsafe {
                RawVec::set_len(raw, i);
                let _ = PVec::free_owned(dst);
                ptr::write(dst, PVec::new());
            }
            return Err(e);
        }
    }
    // SAFETY: all `len` elements are initialised.
    unsafe { RawVec::set_len(raw, len) };
    Ok(())
}

// SAFETY: `build` initialises `*dst` fully (or leaves an empty vector on error), and
// allocates only in the pool `dst` lies in.
unsafe impl<T: Persistent, I: PInit<T>> PInit<PVec<T>> for Vec<I> {
    /// Allocates a buffer of exactly `len` elements in the destination pool.
    unsafe fn init(self, dst: *mut PVec<T>) -> Result<()> {
        let len = self.len();
        let mut items = self.into_iter();
        // SAFETY: caller's contract.
        unsafe {
            build(dst, len, |_, p| match items.next() {
                Some(x) => x.init(p),
                None => unreachable!("a Vec yields exactly len items"),
            })
        }
    }
}

// SAFETY: as for `Vec<I>`; plain elements are copied bytewise.
unsafe impl<T: Plain> PInit<PVec<T>> for &[T] {
    unsafe fn init(self, dst: *mut PVec<T>) -> Result<()> {
        // SAFETY: caller's contract; `p` is a logged slot of the new buffer.
        unsafe {
            build(dst, self.len(), |i, p| {
                p.write(self[i]);
                Ok(())
            })
        }
    }
}

// SAFETY: as for `Vec<I>`.
unsafe impl<T: Persistent, I: PInit<T>, const N: usize> PInit<PVec<T>> for [I; N] {
    unsafe fn init(self, dst: *mut PVec<T>) -> Result<()> {
        let mut items = self.into_iter();
        // SAFETY: caller's contract.
        unsafe {
            build(dst, N, |_, p| match items.next() {
                Some(x) => x.init(p),
                None => unreachable!("an array yields exactly N items"),
            })
        }
    }
}

/// Serialises as a sequence, as serde does for `Vec<T>`.
#[cfg(feature = "serde")]
impl<T: serde::Serialize> serde::Serialize for PVec<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}
