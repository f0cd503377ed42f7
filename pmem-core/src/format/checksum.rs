//! The one checksum of the format: CRC-32C (Castagnoli), hardware-accelerated where the
//! CPU has it. Used for the pool header, state slots, the log header and log groups.
//!
//! Long inputs go to the `crc32c` crate (three interleaved streams, table-combined).
//! Short ones — the log group of a small transaction is a few hundred bytes, checksummed
//! once per commit — take a plain loop of the SSE4.2 `crc32` instruction: the crate's
//! stream splitting cost about 280 instructions for such a group, the loop a third of
//! that. Both compute the same function (`short_inputs_match_the_crate` below).

/// Inputs up to this many bytes take the plain loop.
const SHORT: usize = 1024;

pub(crate) fn crc32c(bytes: &[u8]) -> u32 {
    crc32c_append(0, bytes)
}

pub(crate) fn crc32c_append(crc: u32, bytes: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if bytes.len() <= SHORT && std::arch::is_x86_feature_detected!("sse4.2") {
        // SAFETY: the CPU has SSE4.2 (detected just now).
        return unsafe { crc32c_short(crc, bytes) };
    }
    ::crc32c::crc32c_append(crc, bytes)
}

/// CRC-32C of `bytes` continuing from `crc`, eight bytes per instruction.
///
/// # Safety
/// - the CPU supports SSE4.2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.2")]
unsafe fn crc32c_short(crc: u32, bytes: &[u8]) -> u32 {
    use std::arch::x86_64::{_mm_crc32_u64, _mm_crc32_u8};
    let mut c = u64::from(!crc);
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        c = _mm_crc32_u64(c, u64::from_le_bytes(w.try_into().expect("8 bytes")));
    }
    let mut c = c as u32;
    for &b in words.remainder() {
        c = _mm_crc32_u8(c, b);
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::{crc32c, crc32c_append, SHORT};

    /// The checksum is part of the file format: the short path must agree with the crate
    /// for every length around its word size and its cut-over, at every start alignment,
    /// from any running value.
    #[test]
    fn short_inputs_match_the_crate() {
        let data: Vec<u8> = (0..SHORT + 64)
            .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3])
            .collect();
        for start in 0..8 {
            for len in (0..80).chain([SHORT - 1, SHORT, SHORT + 1, SHORT + 63 - start]) {
                let b = &data[start..start + len];
                assert_eq!(crc32c(b), ::crc32c::crc32c(b), "start {start}, len {len}");
                for seed in [0, 1, 0xdead_beef, u32::MAX] {
                    assert_eq!(
                        crc32c_append(seed, b),
                        ::crc32c::crc32c_append(seed, b),
                        "start {start}, len {len}, seed {seed:#x}"
                    );
                }
            }
        }
        // The standard check value of CRC-32C.
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    }
}
