//! The one checksum of the format: CRC-32C (Castagnoli), hardware-accelerated where the
//! CPU has it. Used for the pool header, state slots, the log header and log groups.

pub(crate) fn crc32c(bytes: &[u8]) -> u32 {
    ::crc32c::crc32c(bytes)
}

pub(crate) fn crc32c_append(crc: u32, bytes: &[u8]) -> u32 {
    ::crc32c::crc32c_append(crc, bytes)
}
