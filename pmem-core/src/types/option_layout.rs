//! `Option<T>` as a storable type (`PSafe`, `Persistent`, `Plain`), and validating a
//! stored one without reading it as one.
//!
//! Rust does not specify where `Option<T>` keeps its discriminant, so this module asks
//! the compiler: it writes `None` (and, when the layout has a separate tag, a `Some`)
//! into two scratch buffers filled with different bytes, and keeps the bytes that came
//! out the same in both — the bytes the write determined, which are the tag or the
//! niche. For a niche layout (`Option<T>` no larger than `T`) a stored value is valid if
//! it is a valid `T` at offset 0 (a `Some`) or holds `None`'s bytes; for a tagged layout
//! (the payload at the end, the tag filling the bytes before it) the tag bytes must be
//! `None`'s or `Some`'s, and the payload — every bit pattern of which is valid, since
//! rustc uses a tag only when `T` has no niche — needs nothing more.

use std::mem::{size_of, MaybeUninit};

use crate::format::schema::{Shape, TypeSchema};
use crate::types::fingerprint::{fp_str, fp_u64, FP_START};
use crate::types::{plain_view, Invalid, PSafe, Persistent, Plain};

// `Option<T>` is storable here, beside the validation its tag needs.
// SAFETY: `Option` of plain data has a fixed layout (the fingerprint records its size)
// and no addresses.
unsafe impl<T: Plain> PSafe for Option<T> {}
// SAFETY: view snapshots all bytes; owns nothing.
unsafe impl<T: Plain> Persistent for Option<T> {
    type View = Option<T>;
    const TYPE_NAME: &'static str = "Option";
    const FINGERPRINT: u64 = fp_u64(
        fp_u64(fp_str(FP_START, "Option"), T::FINGERPRINT),
        size_of::<Option<T>>() as u64,
    );
    const SCHEMA: &'static TypeSchema = &TypeSchema {
        name: "Option",
        size: size_of::<Option<T>>(),
        align: align_of::<Option<T>>(),
        fingerprint: Self::FINGERPRINT,
        shape: Shape::Option(T::schema),
    };
    // Registers the typed padding zeroer the schema walk needs for an option.
    fn schema() -> &'static TypeSchema {
        super::padding::register(Self::SCHEMA, zero_padding::<T>)
    }
    // The tag (or niche) of an `Option` can itself be invalid.
    const MAY_BE_INVALID: bool = true;
    unsafe fn view_mut<'a>(ptr: *mut Self) -> &'a mut Self {
        // SAFETY: forwarded contract.
        unsafe { plain_view(ptr) }
    }
    unsafe fn validate(ptr: *const Self) -> std::result::Result<(), Invalid> {
        // SAFETY: caller's contract.
        unsafe { validate(ptr) }
    }
    /// Unchanged: copied. Otherwise `None` stays `None` and a `Some` migrates its
    /// payload (`Option<u32> → Option<u64>`, `Option<V1> → Option<V2>` for a struct
    /// or enum that changed). For an `Option` of a primitive the old value is read by
    /// this build's layout of it (the one it opens such a pool with); for any other
    /// inner type, `None` and `Some` are told apart from the stored schema alone
    /// ([`OldType::option_payload`]: a niche layout's `Some` is a valid inner value, a
    /// tagged layout's tag is 0 or 1).
    ///
    /// [`OldType::option_payload`]: crate::format::auto::OldType::option_payload
    unsafe fn migrate_into_pool(
        old: *const u8,
        old_ty: crate::format::auto::OldType<'_>,
        dst: *mut Self,
    ) -> crate::Result<()> {
        if old_ty.identical_to(Self::SCHEMA) {
            // SAFETY: identical graphs: the old value is a valid `Self`, aligned
            // (caller's contract); `dst` is writable.
            unsafe { std::ptr::copy_nonoverlapping(old.cast::<Self>(), dst, 1) };
            return Ok(());
        }
        let inner = old_ty.option_inner(Self::SCHEMA)?;
        // SAFETY: (caller) `old` is a valid, aligned stored `Option` of `inner`.
        let payload = match unsafe { old_payload(old, inner, old_ty.size()) } {
            OldOption::None => None,
            OldOption::Some(p) => Some((p, inner)),
            // SAFETY: (caller) `old` is a readable stored `Option`, aligned for it.
            OldOption::Unknown => unsafe { old_ty.option_payload(old, Self::SCHEMA)? },
        };
        let v = match payload {
            None => None,
            Some((p, inner)) => {
                let mut v = MaybeUninit::<T>::uninit();
                // SAFETY: `p` is the old payload, a valid aligned value of `inner`
                // inside the old value; `v` is a writable `T` slot. `T` is plain: its
                // migration allocates nothing and writes only `*v` (so the slot need
                // not lie in the pool), and it initialises it fully on success.
                unsafe { T::migrate_into_pool(p, inner, v.as_mut_ptr()) }?;
                // SAFETY: initialised just above.
                Some(unsafe { v.assume_init() })
            }
        };
        // SAFETY: `dst` is writable and nothing else refers to it (caller's contract);
        // the typed write leaves the bytes the value does not use (a `None`'s payload,
        // padding) uninitialised, and `zero_padding` zeroes them, keeping the value.
        unsafe {
            dst.write(v);
            zero_padding::<T>(dst.cast());
        }
        Ok(())
    }
}

/// A stored `Option` as read by [`old_payload`].
enum OldOption {
    /// Its inner type is not a primitive this build knows at that size: read by the
    /// stored schema instead.
    Unknown,
    /// `None`.
    None,
    /// `Some`, the payload's address.
    Some(*const u8),
}

/// The stored `Option` at `old` whose inner type is the primitive `inner` and whose
/// size is `size`.
///
/// # Safety
/// - `old` is a valid, aligned stored `Option` of `inner`, `size` bytes.
unsafe fn old_payload(
    old: *const u8,
    inner: crate::format::auto::OldType<'_>,
    size: usize,
) -> OldOption {
    /// Reads `old` as this build's `Option<P>` when the sizes agree.
    ///
    /// # Safety
    /// - as for `old_payload`, the stored type being `Option<P>`.
    unsafe fn read<P>(old: *const u8, size: usize, inner: usize) -> OldOption {
        if size != size_of::<Option<P>>() || inner != size_of::<P>() {
            return OldOption::Unknown;
        }
        // SAFETY: the stored value is an `Option<P>` written by a build whose layout
        // of it has this size — the layout this build reads such a pool with when it
        // opens it as `Option<P>` (the fingerprint records the size); aligned and valid
        // (caller's contract).
        match unsafe { (*old.cast::<Option<P>>()).as_ref() } {
            Some(p) => OldOption::Some(std::ptr::from_ref(p).cast()),
            None => OldOption::None,
        }
    }
    let n = inner.size();
    // SAFETY: forwarded contract, each arm reading the primitive the stored type names.
    unsafe {
        match inner.name() {
            "u8" => read::<u8>(old, size, n),
            "u16" => read::<u16>(old, size, n),
            "u32" => read::<u32>(old, size, n),
            "u64" => read::<u64>(old, size, n),
            "u128" => read::<u128>(old, size, n),
            "usize" => read::<usize>(old, size, n),
            "i8" => read::<i8>(old, size, n),
            "i16" => read::<i16>(old, size, n),
            "i32" => read::<i32>(old, size, n),
            "i64" => read::<i64>(old, size, n),
            "i128" => read::<i128>(old, size, n),
            "isize" => read::<isize>(old, size, n),
            "f32" => read::<f32>(old, size, n),
            "f64" => read::<f64>(old, size, n),
            "bool" => read::<bool>(old, size, n),
            "char" => read::<char>(old, size, n),
            _ => OldOption::Unknown,
        }
    }
}
// SAFETY: plain payload.
unsafe impl<T: Plain> Plain for Option<T> {}

/// The bytes (offset, value) below `upto` that writing `v()` determines in an
/// `Option<T>`. Only bytes the value initialises may be read: for a tagged layout,
/// the tag before the payload (`upto` = the payload's offset); for a niche layout's
/// `None`, every byte but the niche is uninitialised (valgrind reports these reads; see
/// ARCHITECTURE §12.1).
fn signature<T>(upto: usize, v: impl Fn() -> Option<T>) -> Vec<(usize, u8)> {
    let size = size_of::<Option<T>>();
    let mut probes = [0x00u8, 0xFF].map(|fill| {
        let mut buf = MaybeUninit::<Option<T>>::uninit();
        let p = buf.as_mut_ptr();
        // SAFETY: `p` is valid for writes of an `Option<T>`; filling its bytes first
        // and then writing a value over them is plain initialisation.
        unsafe {
            p.cast::<u8>().write_bytes(fill, size);
            p.write(v());
        }
        (0..upto.min(size))
            // SAFETY: in bounds of the buffer; a volatile byte read keeps the compiler
            // from assuming anything about bytes the typed write left alone (they
            // still hold the fill at the machine level).
            .map(|i| unsafe { p.cast::<u8>().add(i).read_volatile() })
            .collect::<Vec<u8>>()
    });
    let high = probes[1].split_off(0);
    probes[0]
        .iter()
        .zip(&high)
        .enumerate()
        .filter(|(_, (a, b))| a == b)
        .map(|(i, (a, _))| (i, *a))
        .collect()
}

/// The byte range of `T`'s niche: the scalar that `T::validate` rejects in `None`'s
/// bytes written over zeroes (zero is valid for every other scalar of a plain type:
/// `bool`, `char` and integers; an enum without a zero discriminant inside `T` would be
/// rejected first — then `None` is recognised only when that field is zero too, which
/// errs towards refusing, never towards accepting an invalid value).
fn niche_of<T: Persistent>(none: &[(usize, u8)]) -> std::ops::Range<usize> {
    let mut buf = MaybeUninit::<Option<T>>::zeroed();
    let p = buf.as_mut_ptr().cast::<u8>();
    for &(i, b) in none {
        // SAFETY: `i` is inside the buffer of `size_of::<Option<T>>()` bytes.
        unsafe { p.add(i).write(b) };
    }
    // SAFETY: the buffer is aligned for `Option<T>`, hence for `T` at offset 0 (niche
    // layout), and holds `size_of::<T>()` initialised bytes.
    match unsafe { T::validate(p.cast::<T>()) } {
        Err(e) => e.bytes(),
        Ok(()) => 0..0,
    }
}

/// Whether the bytes at `ptr` hold `sig`.
///
/// # Safety
/// - every offset of `sig` is readable from `ptr`.
unsafe fn holds(ptr: *const u8, sig: &[(usize, u8)]) -> bool {
    // SAFETY: caller's contract.
    sig.iter().all(|&(i, b)| unsafe { ptr.add(i).read() } == b)
}

/// Zeroes the bytes of the `Option<T>` at `p` that its value leaves uninitialised.
/// Tagged layout (the payload at the end): a `None` uses only the tag, so the payload's
/// bytes are zeroed; a `Some`, the payload's own padding. The bytes before the payload
/// are the tag (rustc widens the tag to the payload's alignment) and are left alone.
/// Niche layout: a `Some` gets the payload's padding zeroed; a `None` initialises only
/// its niche, so every byte but the nonzero bytes of `None`'s [`signature`] is zeroed.
///
/// # Safety
/// - `p` points to a valid `Option<T>`, writable, that nothing else refers to.
pub(crate) unsafe fn zero_padding<T: Persistent>(p: *mut u8) {
    let size = size_of::<Option<T>>();
    let payload = size - size_of::<T>();
    // SAFETY: a valid option (caller); reading its discriminant reads no padding.
    match unsafe { &mut *p.cast::<Option<T>>() } {
        // SAFETY: the payload bytes lie inside the option; a `None` does not use them.
        None if payload > 0 => unsafe { p.add(payload).write_bytes(0, size - payload) },
        None => {
            // The bytes a `None` write determines (its signature) include the niche;
            // the compiler may also write others (a whole constant, zeroes for the
            // unused bytes), so the niche cannot be told apart from them. Writing 0
            // where the signature is absent or 0 leaves every niche byte as `None`
            // has it, and initialises the rest (ARCHITECTURE §12.1).
            let none = signature::<T>(size, || None);
            let keep = |i: usize| none.iter().any(|&(n, b)| n == i && b != 0);
            for i in (0..size).filter(|&i| !keep(i)) {
                // SAFETY: `i` is inside the option; it is not a niche byte, or the
                // niche byte is 0 in `None` already, so the value stays a valid
                // `None` (the compiler reads only the niche to tell it from `Some`);
                // nothing else refers to it (caller).
                unsafe { p.add(i).write(0) };
            }
        }
        Some(v) => {
            let v = std::ptr::from_mut(v).cast::<u8>();
            // SAFETY: the payload is a valid `T` inside the option.
            unsafe { super::padding::zero_padding(T::schema(), v) };
        }
    }
}

/// Validates the `Option<T>` at `ptr`.
///
/// # Safety
/// - `ptr` is aligned and `size_of::<Option<T>>()` bytes there are readable.
pub(crate) unsafe fn validate<T: Persistent>(ptr: *const Option<T>) -> Result<(), Invalid> {
    let bytes = ptr.cast::<u8>();
    let payload = size_of::<Option<T>>() - size_of::<T>();
    if payload == 0 {
        // Niche layout: a valid `T` at offset 0 is a `Some`; otherwise the value must
        // be `None`, whose mark is the niche: the scalar of `T` that `None` fills with a
        // value invalid for it. The compiler may write other bytes along with `None`
        // (zeroes, say) and other code paths may not, so only the niche is compared.
        // SAFETY: a `T` is readable at offset 0 (same size, alignment divides).
        let some = unsafe { T::validate(ptr.cast::<T>()) };
        if some.is_ok() {
            return Ok(());
        }
        let none = signature::<T>(size_of::<T>(), || None);
        let niche = niche_of::<T>(&none);
        let mark: Vec<(usize, u8)> = none
            .into_iter()
            .filter(|(i, _)| niche.contains(i))
            .collect();
        // SAFETY: the mark's offsets lie inside the `Option<T>`.
        if !mark.is_empty() && unsafe { holds(bytes, &mark) } {
            return Ok(());
        }
        return some;
    }
    // Tagged layout: the tag fills the bytes before the payload (which sits at the
    // end); only those bytes are compared — the compiler may write the payload too.
    let tag_of = |sig: Vec<(usize, u8)>| -> Vec<(usize, u8)> {
        sig.into_iter().filter(|&(i, _)| i < payload).collect()
    };
    let none = tag_of(signature::<T>(payload, || None));
    // SAFETY: the tag bytes lie inside the `Option<T>`.
    if unsafe { holds(bytes, &none) } {
        return Ok(());
    }
    if !T::MAY_BE_INVALID {
        // Every bit pattern of `T` is valid: `Some` of zeroes is a valid value to learn
        // `Some`'s tag from, and the payload needs no check.
        let some = tag_of(signature::<T>(payload, || {
            // SAFETY: `T` accepts every bit pattern (`MAY_BE_INVALID` is false), zero too.
            Some(unsafe { MaybeUninit::<T>::zeroed().assume_init() })
        }));
        // SAFETY: as above.
        if unsafe { holds(bytes, &some) } {
            return Ok(());
        }
        return Err(Invalid::new("Option tag is neither None nor Some", payload));
    }
    // A tagged layout over a type with invalid patterns is not one rustc produces
    // (such a type has a niche); validate the payload where a tagged layout keeps it.
    // SAFETY: the payload lies at the end of the readable `Option<T>`, aligned for `T`.
    unsafe { T::validate(bytes.add(payload).cast::<T>()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<T: Persistent>(bytes: &[u8]) -> Result<(), Invalid> {
        assert_eq!(bytes.len(), size_of::<Option<T>>());
        let mut buf = vec![0u64; bytes.len().div_ceil(8)];
        let p = buf.as_mut_ptr().cast::<u8>();
        // SAFETY: `buf` holds at least `bytes.len()` bytes, 8-aligned.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
            validate::<T>(p.cast())
        }
    }

    #[allow(clippy::ref_option)] // the bytes of the `Option` itself are wanted
    fn bytes_of<T>(v: &Option<T>) -> Vec<u8> {
        // SAFETY: reads the bytes of a live value; used on types without padding only.
        unsafe {
            std::slice::from_raw_parts(std::ptr::from_ref(v).cast::<u8>(), size_of::<Option<T>>())
        }
        .to_vec()
    }

    #[test]
    fn every_valid_option_of_bool_passes_and_other_bytes_fail() {
        for v in [None, Some(false), Some(true)] {
            check::<bool>(&bytes_of(&v)).unwrap();
        }
        let bad = (0..=255u8)
            .filter(|&b| check::<bool>(&[b]).is_err())
            .count();
        assert_eq!(
            bad, 253,
            "exactly three byte values are a valid Option<bool>"
        );
    }

    #[test]
    fn a_char_payload_is_checked_and_none_passes() {
        check::<char>(&bytes_of(&None::<char>)).unwrap();
        check::<char>(&bytes_of(&Some('é'))).unwrap();
        assert!(check::<char>(&0xD800u32.to_le_bytes()).is_err());
    }

    #[test]
    fn a_tagged_option_accepts_its_two_tags_only() {
        check::<u32>(&bytes_of(&None::<u32>)).unwrap();
        check::<u32>(&bytes_of(&Some(7u32))).unwrap();
        let mut bad = bytes_of(&Some(7u32));
        let tag_at = signature::<u32>(4, || None)[0].0;
        bad[tag_at] = 9;
        assert!(check::<u32>(&bad).is_err());
    }

    #[test]
    fn options_of_wide_and_compound_types_accept_every_valid_value() {
        check::<u64>(&bytes_of(&Some(12u64))).unwrap();
        check::<u64>(&bytes_of(&None::<u64>)).unwrap();
        check::<(bool, u64)>(&bytes_of(&None::<(bool, u64)>)).unwrap();
        check::<[bool; 3]>(&bytes_of(&None::<[bool; 3]>)).unwrap();
        let mut some = vec![0u8; 16];
        some[0] = 1;
        some[8..].copy_from_slice(&u64::MAX.to_le_bytes());
        check::<(bool, u64)>(&some).unwrap();
        some[0] = 7;
        assert!(check::<(bool, u64)>(&some).is_err());
        // A `None` written by another code path may leave other bytes as they were:
        // only the niche marks it.
        check::<[bool; 3]>(&[2, 0x77, 0x99]).unwrap();
        let mut none = vec![0x5Au8; 16];
        none[0] = 2;
        check::<(bool, u64)>(&none).unwrap();
    }

    #[test]
    fn the_payload_of_a_tagged_option_sits_at_its_end() {
        let v = Some(0x1122_3344_5566_7788u64);
        let at = std::ptr::from_ref(v.as_ref().unwrap()) as usize - std::ptr::from_ref(&v) as usize;
        assert_eq!(at, size_of::<Option<u64>>() - size_of::<u64>());
        let w = Some([1u8, 2, 3]);
        let at = std::ptr::from_ref(w.as_ref().unwrap()) as usize - std::ptr::from_ref(&w) as usize;
        assert_eq!(at, size_of::<Option<[u8; 3]>>() - 3);
    }

    /// A `None` of a niche layout left over other bytes (as a move from a fresh stack
    /// frame leaves them) comes out of the zeroer still `None`, with every byte but
    /// its niche zero.
    fn zeroed_none_of<T: Persistent>() -> Vec<u8> {
        let size = size_of::<Option<T>>();
        assert_eq!(size, size_of::<T>(), "a niche layout");
        let mut buf = vec![0u64; size.div_ceil(8)];
        let p = buf.as_mut_ptr().cast::<u8>();
        // SAFETY: `buf` holds `size` bytes, 8-aligned (enough for these types); the
        // typed `None` is written over initialised bytes and then zeroed around its
        // niche; the result is read back as an `Option<T>` only after validation.
        unsafe {
            p.write_bytes(0xA5, size);
            p.cast::<Option<T>>().write(None);
            zero_padding::<T>(p);
            validate::<T>(p.cast()).unwrap();
            assert!((*p.cast::<Option<T>>()).is_none());
            std::slice::from_raw_parts(p, size).to_vec()
        }
    }

    #[test]
    fn a_niche_none_is_zeroed_around_its_niche_and_stays_none() {
        assert_eq!(zeroed_none_of::<(bool, u64)>()[1..], [0; 15]);
        assert_eq!(zeroed_none_of::<(u64, bool)>()[..8], [0; 8]);
        let c = zeroed_none_of::<(u32, char)>();
        assert_eq!(c[..4], [0; 4]);
        assert_eq!(u32::from_le_bytes(c[4..].try_into().unwrap()), 0x11_0000);
        assert_eq!(zeroed_none_of::<[bool; 3]>(), [2, 0, 0]);
    }
}
