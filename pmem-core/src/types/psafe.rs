//! The traits that make a type storable in a pool.
//!
//! - [`PSafe`]: the bytes of a value mean the same thing in another process (no
//!   addresses, no handles). `unsafe` because the compiler cannot check it.
//! - [`Persistent`]: a `PSafe` type with a fingerprint, a schema, and a *view*: the
//!   type a transaction hands out (`&mut T::View`) to change a value in place. Plain
//!   data views as itself after a snapshot of its bytes; structs and collections view
//!   as types whose methods snapshot exactly what they change.
//! - [`Plain`]: plain data that owns nothing in the pool, so it may be copied bytewise
//!   and changed through a plain `&mut` once its bytes are snapshotted.

use crate::error::{Error, Result};
use crate::format::schema::{FieldSchema, Shape, TypeSchema};
use crate::types::fingerprint::{fp_leaf, fp_str, fp_u64, FP_START};
use crate::types::visitor::Visitor;

/// Marks a type whose bytes are meaningful in another process: it may live in a pool.
///
/// Implemented for integers, floats, `bool`, `char`, `()`, arrays, tuples and `Option`
/// of plain types, pmem's pointers and collections, and every `#[derive(Persistent)]`
/// type. Not for references, raw pointers, `Box`, `Vec`, `String`, `Rc`, `Arc`, `Cell`,
/// `RefCell`, std maps or function pointers: their bytes are addresses in one process.
///
/// # Safety
/// - every bit pattern a pmem write path can store for the type must be valid after the
///   process restarts: no addresses, file descriptors or other per-process handles;
/// - the layout must be fixed (`#[repr(C)]`, `#[repr(transparent)]` or a primitive).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in a pmem pool",
    label = "`{Self}` is not PSafe: its bytes are not meaningful after a restart",
    note = "use the persistent counterpart: `PVec<T>` for `Vec<T>`, `PString` for `String`, `PBox<T>` for `Box<T>`, `PHashMap<K, V>` for `HashMap<K, V>`, `PBTreeMap<K, V>` for `BTreeMap<K, V>`, `PPtr<T>` for references and raw pointers; plain integers, floats, bool, char, arrays, tuples and `Option` of these are fine; plain `Cell`/`RefCell`/`Rc`/`Arc` have no persistent form"
)]
pub unsafe trait PSafe: Sized + 'static {}

/// A type that can be stored in a pool and changed in place inside a transaction.
///
/// # Safety
/// - `view_mut` must return a view through which every write path snapshots (via
///   [`crate::tx::raw::snapshot`]) each byte before changing it;
/// - `visit_owned` must report every allocation the value owns, and `free_owned` must
///   free exactly those;
/// - `FINGERPRINT` must change whenever the layout changes;
/// - `validate` must reject every byte pattern that is not a valid `Self` (the default
///   accepts everything: right only for types all of whose bit patterns are valid), and
///   `MAY_BE_INVALID` must be `true` whenever it can reject anything.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in a pmem pool",
    label = "`{Self}` is not Persistent",
    note = "derive it with `#[derive(Persistent)]` on a `#[repr(C)]` struct, or use a persistent type: `PVec<T>` for `Vec<T>`, `PString` for `String`, `PBox<T>` for `Box<T>`, `PHashMap<K, V>` for `HashMap<K, V>`"
)]
pub unsafe trait Persistent: PSafe {
    /// What a transaction hands out to change a value in place: `&mut Self::View`.
    type View: ?Sized;
    /// The type's name, for messages and the pool header.
    const TYPE_NAME: &'static str;
    /// Layout fingerprint: name, fields (names, types, offsets), size, alignment.
    const FINGERPRINT: u64;
    /// Layout description for tools.
    const SCHEMA: &'static TypeSchema;

    /// The view of the value at `ptr`.
    ///
    /// # Safety
    /// - `ptr` points to a valid `Self` in the mapped pool of a pool whose transaction is
    ///   open on this thread;
    /// - nothing else refers to `*ptr` (or to what it owns) for `'a`, and `'a` ends before
    ///   the transaction does.
    unsafe fn view_mut<'a>(ptr: *mut Self) -> &'a mut Self::View;

    /// Reports every allocation this value owns (transitively) to `v`.
    fn visit_owned(&self, v: &mut Visitor<'_>) -> Result<()> {
        let _ = v;
        Ok(())
    }

    /// Frees, at commit, every allocation the value at `ptr` owns (transitively).
    ///
    /// # Safety
    /// - as for [`Persistent::view_mut`]; the value must not be used through its owned
    ///   pointers after this call.
    unsafe fn free_owned(ptr: *mut Self) -> Result<()> {
        let _ = ptr;
        Ok(())
    }

    /// Whether some byte patterns of the size of `Self` are not valid values (a
    /// `bool`, `char`, enum tag, `PBox` or a type containing one): such types are checked
    /// value by value by [`Persistent::validate`]; others are skipped.
    const MAY_BE_INVALID: bool = false;

    /// Checks that the bytes at `ptr` form a valid `Self` — every `bool` 0 or 1, every
    /// `char` a Unicode scalar value, every enum tag a declared discriminant, every
    /// `PBox` nonzero — reading them as integers, never as `Self`. Allocations the value
    /// owns are checked when the walk of [`crate::Pool::check`] reaches them.
    ///
    /// # Errors
    /// [`Invalid`] naming the path inside the value and what is wrong.
    ///
    /// # Safety
    /// - `ptr` is aligned for `Self` and `size_of::<Self>()` bytes there are readable.
    unsafe fn validate(ptr: *const Self) -> std::result::Result<(), Invalid> {
        let _ = ptr;
        Ok(())
    }

    /// `Self::SCHEMA`, as a function (for [`crate::format::schema::SchemaFn`]).
    fn schema() -> &'static TypeSchema {
        Self::SCHEMA
    }

    /// Writes a copy of `self` — a value of another pool, or of this one — into `dst`,
    /// allocating what the copy owns in the pool `dst` lies in, inside its open
    /// transaction: the relocating deep copy that compaction is built on. Collections
    /// are rebuilt tight (a vector's capacity is its length, a hash table is sized for
    /// its entries).
    ///
    /// The default copies bytewise when the type owns nothing and holds no pointer (its
    /// schema says so); otherwise it refuses with [`Error::NotRelocatable`]. Every type
    /// that owns allocations overrides it (the derive does, for each field).
    ///
    /// # Errors
    /// [`Error::NotRelocatable`] for a type holding a [`crate::PPtr`]; allocation errors
    /// such as [`Error::OutOfSpace`]. On an error `*dst` may hold a partial copy, and
    /// the caller must roll the transaction back (which frees what the copy allocated).
    ///
    /// # Safety
    /// - as for [`PInit::init`]: `dst` is valid for writes of a `Self`, lies in a pool
    ///   whose transaction is open on this thread, and was snapshotted (or freshly
    ///   allocated); the old value at `dst` owns nothing;
    /// - `self` is a valid value, readable for the whole call.
    #[doc(hidden)]
    unsafe fn clone_into_pool(&self, dst: *mut Self) -> Result<()> {
        if !owns_nothing(Self::SCHEMA) {
            return Err(Error::NotRelocatable {
                type_name: Self::TYPE_NAME,
            });
        }
        // SAFETY: `dst` is writable (caller's contract); a type that owns nothing and
        // holds no pointer means the same bytes in any pool.
        unsafe { std::ptr::copy_nonoverlapping(self, dst, 1) };
        Ok(())
    }

    /// Reads the value at `old`, laid out as the *stored* type `old_ty` of the pool
    /// being migrated, and writes the corresponding `Self` into `dst`, allocating what
    /// it owns in the pool `dst` lies in: the step of an automatic migration
    /// (ARCHITECTURE §15.6). The default copies with [`Persistent::clone_into_pool`]
    /// when the stored graph from `old_ty` on equals `Self`'s, and refuses otherwise;
    /// primitives widen, derived structs and enums, boxes, vectors and options convert.
    ///
    /// # Errors
    /// [`Error::NotAutoMigratable`] for a change that is not automatic (its path is
    /// relative to this value); as [`Persistent::clone_into_pool`]. On an error the
    /// caller must roll the transaction back.
    ///
    /// # Safety
    /// - as for [`Persistent::clone_into_pool`] for `dst`;
    /// - `old` points to a valid value of the stored type `old_ty` describes, aligned
    ///   for it, in an open pool, readable for the whole call.
    #[doc(hidden)]
    unsafe fn migrate_into_pool(
        old: *const u8,
        old_ty: crate::format::auto::OldType<'_>,
        dst: *mut Self,
    ) -> Result<()> {
        if old_ty.identical_to(Self::SCHEMA) {
            // SAFETY: the stored graph from `old_ty` on equals `Self`'s, so the valid,
            // aligned value at `old` (caller's contract) is a valid `Self`; `dst` as
            // `clone_into_pool` requires (caller's contract).
            unsafe { (*old.cast::<Self>()).clone_into_pool(dst) }
        } else {
            Err(old_ty.mismatch(Self::SCHEMA))
        }
    }
}

/// Whether values of the type `s` describes own nothing and hold no pool offset, so that
/// their bytes mean the same in any pool. Terminates: a type can only contain itself
/// through a pointer or a collection, where the walk stops.
#[doc(hidden)]
pub fn owns_nothing(s: &'static TypeSchema) -> bool {
    match &s.shape {
        Shape::Primitive => true,
        Shape::Struct(fields) | Shape::Tuple(fields) => {
            fields.iter().all(|f| owns_nothing((f.ty)()))
        }
        Shape::Enum { variants, .. } => variants
            .iter()
            .all(|v| v.fields.iter().all(|f| owns_nothing((f.ty)()))),
        Shape::Array { elem, .. } | Shape::Option(elem) => owns_nothing(elem()),
        Shape::Pointer { .. } | Shape::Collection { .. } => false,
    }
}

/// A value of another pool (or of this one), written into the destination by
/// [`Persistent::clone_into_pool`]: how collections hand a deep copy of an element to
/// their insert paths.
#[doc(hidden)]
pub struct CopyOf<'a, T>(pub &'a T);

// SAFETY: `clone_into_pool` has `init`'s contract and initialises `*dst` fully.
unsafe impl<T: Persistent> PInit<T> for CopyOf<'_, T> {
    #[inline]
    unsafe fn init(self, dst: *mut T) -> Result<()> {
        // SAFETY: forwarded contract; `self.0` is a live reference.
        unsafe { self.0.clone_into_pool(dst) }
    }
}

/// [`snapshot_value`](crate::raw::snapshot_value) of a value about to be handed out as
/// `&mut T` (safe code may assign it whole): its padding is also zeroed just before the
/// commit reads it (ARCHITECTURE §12.1, "Padding"). What [`plain_view`] does; for
/// generated code that hands out `&mut Self` itself (a derived `update`).
///
/// # Safety
/// - as for [`snapshot`](crate::raw::snapshot); the value keeps its address and type
///   until the commit.
#[inline]
pub unsafe fn snapshot_plain<T: Persistent>(ptr: *mut T) {
    // SAFETY: forwarded contract.
    unsafe { crate::tx::raw::snapshot(ptr.cast(), size_of::<T>()) };
    zero_before_commit::<T>(ptr.cast());
}

/// Plain data: owns nothing in the pool; copied bytewise and changed through `&mut` once
/// snapshotted whole.
///
/// # Safety
/// - `Persistent::free_owned` and `visit_owned` do nothing for the type, and its view is
///   itself, reached after snapshotting all of its bytes.
pub unsafe trait Plain: Persistent<View = Self> + Copy {}

/// The view of plain data: snapshot all of it, then hand out `&mut`.
///
/// # Safety
/// - as for [`Persistent::view_mut`].
#[inline]
pub unsafe fn plain_view<'a, T: Persistent>(ptr: *mut T) -> &'a mut T {
    // SAFETY: the caller promises `ptr` is in an open pool with an active transaction.
    unsafe {
        crate::tx::raw::snapshot(ptr.cast::<u8>(), size_of::<T>());
        // Whatever safe code assigns through the `&mut` leaves padding uninitialised:
        // zeroed before the commit reads the bytes (ARCHITECTURE §12.1, "Padding").
        zero_before_commit::<T>(ptr.cast());
        &mut *ptr
    }
}

/// Zeroes the padding of the `T` at `p` (the typed zeroer `padding::remember` keeps).
///
/// # Safety
/// As `padding::Zero`: `p` holds a valid `T`, writable.
unsafe fn zero_typed<T: Persistent>(p: *mut u8) {
    // SAFETY: forwarded contract.
    unsafe { super::padding::zero_padding(T::schema(), p) }
}

/// Writes 0 into the padding of the value at `p` (the bytes its typed writes left
/// uninitialised), as every typed write into a pool must be followed by (the commit
/// reads every byte).
///
/// # Safety
/// - `p` points to a valid `T` (apart from its padding), writable, that nothing else
///   refers to.
#[doc(hidden)]
pub unsafe fn zero_padding_of<T: Persistent>(p: *mut T) {
    // SAFETY: caller's contract.
    unsafe { zero_typed::<T>(p.cast()) }
}

/// Remembers that the `T` at `p` (snapshotted, in the transaction open on this thread)
/// is handed out as `&mut T`: its padding is zeroed at commit. Scalars and pointers
/// have none.
fn zero_before_commit<T: Persistent>(p: *mut u8) {
    if !matches!(T::SCHEMA.shape, Shape::Primitive | Shape::Pointer { .. }) {
        super::padding::remember(p, zero_typed::<T>);
    }
}

/// Why the bytes of a stored value are not a valid value of its type; answered by
/// [`Persistent::validate`] and reported by [`crate::Pool::check`] with the path from
/// the root.
///
/// # Examples
///
/// ```
/// use pmem_core::Persistent;
/// let byte = 2u8;
/// // SAFETY: one readable, aligned byte.
/// let e = unsafe { <bool as Persistent>::validate(std::ptr::from_ref(&byte).cast()) }
///     .unwrap_err();
/// assert_eq!(e.to_string(), ": bool byte 0x02 (must be 0 or 1)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    path: String,
    what: String,
    /// Where the invalid scalar lies, in bytes from the start of the value.
    offset: usize,
    /// How many bytes it has.
    len: usize,
}

impl Invalid {
    /// A problem with the scalar of `len` bytes that starts the value.
    pub fn new(what: impl Into<String>, len: usize) -> Self {
        Invalid {
            path: String::new(),
            what: what.into(),
            offset: 0,
            len,
        }
    }

    /// The same problem, seen from the value containing this one, which holds it at
    /// `part` (`.field`, `[3]`, `::Variant`) starting `offset` bytes in.
    #[must_use]
    pub fn within(mut self, part: &str, offset: usize) -> Self {
        self.path.insert_str(0, part);
        self.offset += offset;
        self
    }

    /// The byte range of the invalid scalar inside the outermost value.
    pub fn bytes(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.len
    }

    /// The path inside the value (`.tag`, `[3].flag`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong.
    pub fn what(&self) -> &str {
        &self.what
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.what)
    }
}

macro_rules! primitive {
    ($($t:ty $(=> $check:expr)?),*) => {$(
        // SAFETY: every bit pattern a write path can store is a valid value; no addresses.
        unsafe impl PSafe for $t {}
        // SAFETY: the view snapshots all bytes; owns nothing; fingerprint covers size.
        unsafe impl Persistent for $t {
            type View = $t;
            const TYPE_NAME: &'static str = stringify!($t);
            const FINGERPRINT: u64 = fp_leaf(stringify!($t), size_of::<$t>(), align_of::<$t>());
            const SCHEMA: &'static TypeSchema = &TypeSchema {
                name: stringify!($t),
                size: size_of::<$t>(),
                align: align_of::<$t>(),
                fingerprint: Self::FINGERPRINT,
                shape: Shape::Primitive,
            };
            #[inline]
            unsafe fn view_mut<'a>(ptr: *mut Self) -> &'a mut Self {
                // SAFETY: forwarded contract.
                unsafe { plain_view(ptr) }
            }
            unsafe fn migrate_into_pool(
                old: *const u8,
                old_ty: crate::format::auto::OldType<'_>,
                dst: *mut Self,
            ) -> Result<()> {
                // SAFETY: forwarded contract: `old` is a readable, aligned value of
                // `old_ty`; `dst` takes a `$t`, which `Self::SCHEMA` names.
                unsafe { crate::format::auto::widen(old, old_ty, Self::SCHEMA, dst.cast()) }
            }
            $(
            const MAY_BE_INVALID: bool = true;
            unsafe fn validate(ptr: *const Self) -> std::result::Result<(), Invalid> {
                // The closure reads through `ptr` under this function's contract: the
                // bytes are readable and aligned.
                $check(ptr)
            }
            )?
        }
        // SAFETY: owns nothing; view is itself.
        unsafe impl Plain for $t {}
    )*};
}

primitive!(
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    bool => |p: *const bool| {
        // SAFETY: (caller) one readable byte; read as an integer, not as `bool`.
        let b = unsafe { p.cast::<u8>().read() };
        if b <= 1 { Ok(()) } else { Err(Invalid::new(format!("bool byte {b:#04x} (must be 0 or 1)"), 1)) }
    },
    char => |p: *const char| {
        // SAFETY: (caller) four readable, aligned bytes; read as `u32`, not as `char`.
        let c = unsafe { p.cast::<u32>().read() };
        if char::from_u32(c).is_some() { Ok(()) } else { Err(Invalid::new(format!("char {c:#x} is not a Unicode scalar value"), 4)) }
    },
    ()
);

// SAFETY: an array of PSafe elements has a fixed layout and no addresses.
unsafe impl<T: Plain, const N: usize> PSafe for [T; N] {}
// SAFETY: view snapshots all bytes; elements own nothing.
unsafe impl<T: Plain, const N: usize> Persistent for [T; N] {
    type View = [T; N];
    const TYPE_NAME: &'static str = "array";
    const FINGERPRINT: u64 = fp_u64(fp_u64(fp_str(FP_START, "array"), T::FINGERPRINT), N as u64);
    const SCHEMA: &'static TypeSchema = &TypeSchema {
        name: "array",
        size: size_of::<[T; N]>(),
        align: align_of::<[T; N]>(),
        fingerprint: Self::FINGERPRINT,
        shape: Shape::Array {
            elem: T::schema,
            len: N,
        },
    };
    const MAY_BE_INVALID: bool = T::MAY_BE_INVALID;
    unsafe fn view_mut<'a>(ptr: *mut Self) -> &'a mut Self {
        // SAFETY: forwarded contract.
        unsafe { plain_view(ptr) }
    }
    /// Element by element, read with the stored element size (same length only).
    unsafe fn migrate_into_pool(
        old: *const u8,
        old_ty: crate::format::auto::OldType<'_>,
        dst: *mut Self,
    ) -> Result<()> {
        if old_ty.identical_to(Self::SCHEMA) {
            // SAFETY: identical graphs: the old value is a valid `Self`, aligned
            // (caller's contract); `dst` is writable.
            unsafe { std::ptr::copy_nonoverlapping(old.cast::<Self>(), dst, 1) };
            return Ok(());
        }
        let elem = old_ty.array_elem(Self::SCHEMA, N)?;
        for i in 0..N {
            // SAFETY: `array_elem` checked that `N` stored elements of `elem.size()`
            // bytes fit the old array, so element `i` lies inside it, aligned (the
            // array is, and the size is a multiple of the alignment); `dst` holds `N`
            // writable `T` slots (caller's contract).
            unsafe { T::migrate_into_pool(old.add(i * elem.size()), elem, dst.cast::<T>().add(i)) }
                .map_err(|e| crate::format::auto::within(e, "[]"))?;
        }
        Ok(())
    }
    unsafe fn validate(ptr: *const Self) -> std::result::Result<(), Invalid> {
        if T::MAY_BE_INVALID {
            for i in 0..N {
                // SAFETY: element `i` of the readable array at `ptr`.
                unsafe { T::validate(ptr.cast::<T>().add(i)) }
                    .map_err(|e| e.within(&format!("[{i}]"), i * size_of::<T>()))?;
            }
        }
        Ok(())
    }
}
// SAFETY: elements are plain.
unsafe impl<T: Plain, const N: usize> Plain for [T; N] {}

macro_rules! tuple {
    ($(($($n:tt $t:ident),+)),*) => {$(
        // SAFETY: tuples of plain data have no addresses; the fingerprint records the
        // offsets the compiler chose, so a layout change is caught at open.
        unsafe impl<$($t: Plain),+> PSafe for ($($t,)+) {}
        // SAFETY: view snapshots all bytes; owns nothing.
        unsafe impl<$($t: Plain),+> Persistent for ($($t,)+) {
            type View = Self;
            const TYPE_NAME: &'static str = "tuple";
            const FINGERPRINT: u64 = {
                let mut h = fp_str(FP_START, "tuple");
                $( h = fp_u64(fp_u64(h, $t::FINGERPRINT), core::mem::offset_of!(Self, $n) as u64); )+
                fp_u64(h, size_of::<Self>() as u64)
            };
            const SCHEMA: &'static TypeSchema = &TypeSchema {
                name: "tuple",
                size: size_of::<Self>(),
                align: align_of::<Self>(),
                fingerprint: Self::FINGERPRINT,
                shape: Shape::Tuple(&[$(FieldSchema {
                    name: stringify!($n),
                    offset: core::mem::offset_of!(Self, $n),
                    ty: $t::schema,
                    renamed_from: &[],
                }),+]),
            };
            const MAY_BE_INVALID: bool = false $(|| $t::MAY_BE_INVALID)+;
            /// Field by field, each read at its stored offset (same arity only).
            unsafe fn migrate_into_pool(
                old: *const u8,
                old_ty: crate::format::auto::OldType<'_>,
                dst: *mut Self,
            ) -> Result<()> {
                if old_ty.identical_to(Self::SCHEMA) {
                    // SAFETY: identical graphs: the old value is a valid `Self`,
                    // aligned (caller's contract); `dst` is writable.
                    unsafe { std::ptr::copy_nonoverlapping(old.cast::<Self>(), dst, 1) };
                    return Ok(());
                }
                let mut m = old_ty.tuple_fields(Self::SCHEMA)?;
                $(
                let (off, ty) = m
                    .take(stringify!($n), &[])
                    .ok_or_else(|| old_ty.mismatch(Self::SCHEMA))?;
                // SAFETY: `tuple_fields` checked that the stored field lies inside the
                // old tuple at `off`, aligned for its stored type; field `$n` of `dst`
                // is writable (caller's contract).
                unsafe { $t::migrate_into_pool(old.add(off), ty, std::ptr::addr_of_mut!((*dst).$n)) }
                    .map_err(|e| crate::format::auto::within(e, concat!(".", stringify!($n))))?;
                )+
                m.finish()
            }
            unsafe fn view_mut<'a>(ptr: *mut Self) -> &'a mut Self {
                // SAFETY: forwarded contract.
                unsafe { plain_view(ptr) }
            }
            unsafe fn validate(ptr: *const Self) -> std::result::Result<(), Invalid> {
                $(
                // SAFETY: field `$n` of the readable tuple at `ptr`.
                unsafe { $t::validate(std::ptr::addr_of!((*ptr).$n)) }
                    .map_err(|e| e.within(concat!(".", stringify!($n)), core::mem::offset_of!(Self, $n)))?;
                )+
                Ok(())
            }
        }
        // SAFETY: plain elements.
        unsafe impl<$($t: Plain),+> Plain for ($($t,)+) {}
    )*};
}

tuple!((0 A), (0 A, 1 B), (0 A, 1 B, 2 C), (0 A, 1 B, 2 C, 3 D), (0 A, 1 B, 2 C, 3 D, 4 E));

/// A value that can be written into pool memory as a `T`, allocating in the destination
/// pool whatever `T` owns. Insert and set methods take `impl PInit<T>`, so a
/// `PHashMap<PString, u64>` takes `map.insert("ada", 5)`.
///
/// Every `T: Persistent` is `PInit<T>` (moved in as is): values built outside a pool own
/// no pool memory (collections built outside a pool are empty), so moving one in is safe.
///
/// # Safety
/// - `init` must fully initialise `*dst`, allocating only in the pool `dst` lies in.
pub unsafe trait PInit<T: Persistent> {
    /// Writes `self` into `dst`.
    ///
    /// # Safety
    /// - `dst` is valid for writes of a `T`, lies in a pool whose transaction is open on
    ///   this thread, and its bytes were already snapshotted (or freshly allocated);
    /// - the old value at `dst`, if any, owns nothing any more.
    unsafe fn init(self, dst: *mut T) -> Result<()>;
}

// SAFETY: a `T` outside the pool owns no pool memory; moving it in initialises `dst`.
unsafe impl<T: Persistent> PInit<T> for T {
    #[inline]
    unsafe fn init(self, dst: *mut T) -> Result<()> {
        // SAFETY: caller's contract; then the padding the typed write left
        // uninitialised is zeroed (the commit reads every byte).
        unsafe {
            std::ptr::write(dst, self);
            super::padding::zero_padding(T::schema(), dst.cast());
        }
        Ok(())
    }
}
