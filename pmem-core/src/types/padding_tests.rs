//! Unit tests of `padding.rs` (a separate file: they need `Persistent`, which
//! `psafe.rs` defines on top of `padding.rs`).

use super::padding::zero_padding;
use crate::types::Persistent;

/// The bytes at `p` after `write` over 0xAA and `zero_padding`.
fn bytes_after<T: Persistent>(v: T) -> Vec<u8> {
    let mut buf = vec![0u64; size_of::<T>().div_ceil(8)];
    let p = buf.as_mut_ptr().cast::<u8>();
    // SAFETY: `buf` is 8-aligned and holds `size_of::<T>()` bytes; filled first, then
    // a value written over it, its padding zeroed, and its bytes read volatile (the
    // fill is still there at the machine level wherever the write left a byte alone).
    unsafe {
        p.write_bytes(0xAA, size_of::<T>());
        p.cast::<T>().write(v);
        zero_padding(T::schema(), p);
        (0..size_of::<T>())
            .map(|i| p.add(i).read_volatile())
            .collect()
    }
}

#[test]
fn tuple_and_array_padding_is_zeroed_and_fields_kept() {
    // (u8, u64): byte 0 and bytes 8..16 are the fields, 1..8 padding.
    let b = bytes_after::<(u8, u64)>((0x11, u64::MAX));
    let (at_u8, at_u64) = {
        let v = (0u8, 0u64);
        let base = std::ptr::from_ref(&v) as usize;
        (
            std::ptr::from_ref(&v.0) as usize - base,
            std::ptr::from_ref(&v.1) as usize - base,
        )
    };
    for (i, &x) in b.iter().enumerate() {
        if i == at_u8 {
            assert_eq!(x, 0x11);
        } else if (at_u64..at_u64 + 8).contains(&i) {
            assert_eq!(x, 0xFF);
        } else {
            assert_eq!(x, 0, "padding byte {i} of (u8, u64)");
        }
    }
    let b = bytes_after::<[(u32, u16); 2]>([(1, 2), (3, 4)]);
    assert!(!b.contains(&0xAA), "{b:?}");
}
