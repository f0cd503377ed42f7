//! Validating a stored `Option<T>` without reading it as one.
//!
//! Rust does not specify where `Option<T>` keeps its discriminant, so this module asks
//! the compiler: it writes `None` (and, when the layout has a separate tag, a `Some`)
//! into two scratch buffers filled with different bytes, and keeps the bytes that came
//! out the same in both — the bytes the write determined, which are the tag or the
//! niche. A stored value whose bytes there equal `None`'s is `None`; otherwise it must
//! be a valid `Some`: for a niche layout (`Option<T>` no larger than `T`) the payload
//! is a `T` at offset 0 and is validated as one; for a tagged layout the tag must equal
//! `Some`'s and the payload (a `T` at the end, every bit pattern of which is valid —
//! rustc uses a tag only when `T` has no niche) needs nothing more.

use std::mem::{size_of, MaybeUninit};

use crate::psafe::{Invalid, Persistent};

/// The bytes (offset, value) that writing `v()` determines in an `Option<T>`.
fn signature<T>(v: impl Fn() -> Option<T>) -> Vec<(usize, u8)> {
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
        (0..size)
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

/// Whether the bytes at `ptr` hold `sig`.
///
/// # Safety
/// - every offset of `sig` is readable from `ptr`.
unsafe fn holds(ptr: *const u8, sig: &[(usize, u8)]) -> bool {
    // SAFETY: caller's contract.
    sig.iter().all(|&(i, b)| unsafe { ptr.add(i).read() } == b)
}

/// Validates the `Option<T>` at `ptr`.
///
/// # Safety
/// - `ptr` is aligned and `size_of::<Option<T>>()` bytes there are readable.
pub(crate) unsafe fn validate<T: Persistent>(ptr: *const Option<T>) -> Result<(), Invalid> {
    let none = signature::<T>(|| None);
    let bytes = ptr.cast::<u8>();
    // SAFETY: the signature's offsets lie inside the `Option<T>` (caller's contract).
    if unsafe { holds(bytes, &none) } {
        return Ok(());
    }
    let payload = size_of::<Option<T>>() - size_of::<T>();
    if payload == 0 {
        // Niche layout: anything but `None` is `Some(T)` with `T` at offset 0.
        // SAFETY: a `T` is readable at offset 0 (same size, alignment divides).
        return unsafe { T::validate(ptr.cast::<T>()) };
    }
    if !T::MAY_BE_INVALID {
        // Tagged layout over a `T` whose every bit pattern is valid: `Some` of zeroes
        // is a valid value to learn `Some`'s tag from.
        // SAFETY: `T` accepts every bit pattern (`MAY_BE_INVALID` is false), zero too.
        let some = signature::<T>(|| Some(unsafe { MaybeUninit::<T>::zeroed().assume_init() }));
        let tag: Vec<(usize, u8)> = some
            .into_iter()
            .filter(|(i, _)| none.iter().any(|(j, _)| j == i))
            .collect();
        // SAFETY: as above.
        if unsafe { holds(bytes, &tag) } {
            return Ok(());
        }
        return Err(Invalid::new("Option tag is neither None nor Some"));
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
        let tag_at = signature::<u32>(|| None)[0].0;
        bad[tag_at] = 9;
        assert!(check::<u32>(&bad).is_err());
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
}
