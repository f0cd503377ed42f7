//! Type fingerprints: a stable 64-bit FNV-1a hash over a type's name, its fields' names,
//! fingerprints and offsets, its size and its alignment, computed at compile time.
//! The root's fingerprint is stored in the pool header and checked at open.

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// The fingerprint of nothing; start every fingerprint here.
pub const FP_START: u64 = OFFSET;

/// Mixes a string (with its length, so `("ab","c")` differs from `("a","bc")`).
///
/// # Examples
///
/// ```
/// use pmem_core::fingerprint::{fp_str, FP_START};
/// assert_ne!(fp_str(FP_START, "a"), fp_str(FP_START, "b"));
/// ```
pub const fn fp_str(h: u64, s: &str) -> u64 {
    fp_bytes(fp_u64(h, s.len() as u64), s.as_bytes())
}

/// Mixes raw bytes.
pub const fn fp_bytes(mut h: u64, b: &[u8]) -> u64 {
    let mut i = 0;
    while i < b.len() {
        h ^= b[i] as u64;
        h = h.wrapping_mul(PRIME);
        i += 1;
    }
    h
}

/// Mixes a number.
pub const fn fp_u64(h: u64, v: u64) -> u64 {
    fp_bytes(h, &v.to_le_bytes())
}

/// Fingerprint of a leaf type given its name, size and alignment.
pub const fn fp_leaf(name: &str, size: usize, align: usize) -> u64 {
    fp_u64(fp_u64(fp_str(FP_START, name), size as u64), align as u64)
}
