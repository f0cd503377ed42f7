//! How an enum's tag is stored: its integer type, named by the `repr` in the schema
//! record (§3.4), and its value. The one definition for every reader of pool data
//! without its Rust type: the validity rules (`validity.rs`), compaction of untyped
//! roots and the `pmem` command.

/// The integer type of an enum's stored tag (`#[repr(u8)]`, `#[repr(C, i32)]`...).
///
/// # Examples
///
/// ```
/// use pmem_core::inspect::EnumTag;
/// let tag = EnumTag::of_repr("C, i16").unwrap();
/// assert_eq!(tag, EnumTag { size: 2, signed: true });
/// assert_eq!(tag.read(&[0xfe, 0xff, 7]), Some(-2));
/// assert_eq!(EnumTag::of_repr("u8").unwrap().read(&[0xfe]), Some(254));
/// assert_eq!(tag.read(&[1]), None); // shorter than the tag
/// assert_eq!(EnumTag::of_repr("C"), None); // no integer named
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnumTag {
    /// Bytes of the tag, at the start of the enum.
    pub size: usize,
    /// Whether the tag is a signed integer.
    pub signed: bool,
}

impl EnumTag {
    /// The tag of an enum whose schema record names `repr` (`"u8"`, `"i32"`,
    /// `"C, u16"`...: `repr(C, Int)` keeps its tag where `repr(Int)` does, first, as
    /// that integer); `None` when `repr` names no integer type (`usize` and `isize`
    /// are 8 bytes: pools exist on 64-bit targets only).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::inspect::EnumTag;
    /// assert_eq!(EnumTag::of_repr("u128"), Some(EnumTag { size: 16, signed: false }));
    /// assert_eq!(EnumTag::of_repr("C, u8"), EnumTag::of_repr("u8"));
    /// assert_eq!(EnumTag::of_repr("f32"), None);
    /// ```
    pub fn of_repr(repr: &str) -> Option<EnumTag> {
        let int = repr.strip_prefix("C, ").unwrap_or(repr);
        let (size, signed) = match int {
            "u8" => (1, false),
            "i8" => (1, true),
            "u16" => (2, false),
            "i16" => (2, true),
            "u32" => (4, false),
            "i32" => (4, true),
            "u64" | "usize" => (8, false),
            "i64" | "isize" => (8, true),
            "u128" => (16, false),
            "i128" => (16, true),
            _ => return None,
        };
        Some(EnumTag { size, signed })
    }

    /// The discriminant at the start of `bytes` (little-endian; sign-extended for a
    /// signed tag; a `u128` above `i128::MAX` wraps, as the schema record stores it),
    /// or `None` when `bytes` is shorter than the tag.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::inspect::EnumTag;
    /// let i128_tag = EnumTag { size: 16, signed: true };
    /// assert_eq!(i128_tag.read(&(-(1i128 << 100)).to_le_bytes()), Some(-(1 << 100)));
    /// let u32_tag = EnumTag { size: 4, signed: false };
    /// assert_eq!(u32_tag.read(&[0xff; 4]), Some(0xffff_ffff));
    /// ```
    pub fn read(self, bytes: &[u8]) -> Option<i128> {
        let b = bytes.get(..self.size.min(16))?;
        let mut wide = [0u8; 16];
        wide[..b.len()].copy_from_slice(b);
        let u = u128::from_le_bytes(wide);
        let bits = 8 * b.len() as u32;
        Some(if self.signed && bits < 128 {
            ((u << (128 - bits)) as i128) >> (128 - bits)
        } else {
            u as i128
        })
    }
}
