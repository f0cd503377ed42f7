//! Which bytes are a valid value of a stored type, decided by the stored schema alone
//! (ARCHITECTURE §15.6): the one definition of the validity rules for data read
//! without its Rust type. Automatic migration uses it to tell a niche `Option`'s `None`
//! from a `Some` (`auto/stored_option.rs`), and the `pmem` command to decode one
//! (`pmem_core::inspect`).
//!
//! The rules: a `bool` is 0 or 1; a `char` a Unicode scalar value (not a surrogate,
//! at most `0x10FFFF`); integers, floats and `()` any bytes; an enum's tag, its `repr`
//! integer at offset 0, a declared discriminant, and the fields of that variant valid;
//! structs, tuples and arrays valid field by field, element by element; an owning
//! pointer (`PBox`) nonzero. Anything else — a nested `Option`, a collection, a
//! `PPtr`, an unknown primitive — has valid values the schema does not describe.
//!
//! Works on a byte slice: every part is checked to lie inside it before it is read, so
//! a hostile schema or file is an error, never a panic or an out-of-bounds read.

use std::fmt;

use super::schema_diff::int_class;
use super::schema_graph::{StoredSchema, StoredShape};

/// Why [`StoredSchema::holds_valid`] cannot answer.
///
/// # Examples
///
/// ```
/// use pmem_core::{inspect::{StoredSchema, ValidityError}, schema::to_json, Persistent};
/// let s = StoredSchema::parse(&to_json(<Option<bool> as Persistent>::SCHEMA)).unwrap();
/// let e = s.holds_valid(s.root, &[1]).unwrap_err();
/// assert!(matches!(e, ValidityError::Unknown(_)), "{e}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValidityError {
    /// The type holds something whose valid values the schema does not describe (a
    /// nested `Option`, a collection, a `PPtr`, an unknown primitive or enum `repr`).
    Unknown(String),
    /// The schema contradicts itself or the bytes: a part outside its type, fewer
    /// bytes than the type's size, a type nested too deep.
    Malformed(String),
}

impl fmt::Display for ValidityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValidityError::Unknown(w) | ValidityError::Malformed(w) => f.write_str(w),
        }
    }
}

impl std::error::Error for ValidityError {}

type R<T> = Result<T, ValidityError>;

/// The tag of an enum of `repr` (`"u8"`, `"C, u32"`...) at the start of `bytes`.
fn enum_tag(bytes: &[u8], repr: &str, name: &str) -> R<i128> {
    let Some(tag) = super::EnumTag::of_repr(repr) else {
        return Err(ValidityError::Unknown(format!(
            "enum repr {repr} is not supported"
        )));
    };
    tag.read(bytes).ok_or_else(|| {
        ValidityError::Malformed(format!(
            "schema record: enum {name} smaller than its {repr} tag"
        ))
    })
}

impl StoredSchema {
    /// Whether `bytes` — at least the size of type `t`, from its first byte — are a
    /// valid value of type `t`, by the rules of the module docs: the one definition of
    /// them for data read without its Rust type (automatic migration and the `pmem`
    /// command use it to tell a niche `Option`'s `None` from a `Some`).
    ///
    /// # Errors
    /// [`ValidityError::Unknown`] when the type holds something whose valid values
    /// the schema does not describe; [`ValidityError::Malformed`] when a part lies
    /// outside its type, `bytes` is shorter than the type, or the nesting is deeper
    /// than 64.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{inspect::StoredSchema, schema::to_json, Persistent};
    /// let s = StoredSchema::parse(&to_json(<(bool, char) as Persistent>::SCHEMA)).unwrap();
    /// let mut v = [0u8; 8];
    /// v[4..].copy_from_slice(&u32::from('é').to_le_bytes());
    /// assert_eq!(s.holds_valid(s.root, &v), Ok(true));
    /// v[0] = 2; // a bool of 2
    /// assert_eq!(s.holds_valid(s.root, &v), Ok(false));
    /// v[0] = 1;
    /// v[4..].copy_from_slice(&0xD800u32.to_le_bytes()); // a surrogate
    /// assert_eq!(s.holds_valid(s.root, &v), Ok(false));
    /// assert!(s.holds_valid(s.root, &v[..3]).is_err());
    /// ```
    pub fn holds_valid(&self, t: usize, bytes: &[u8]) -> Result<bool, ValidityError> {
        self.valid_at(t, bytes, 0)
    }

    fn valid_at(&self, t: usize, bytes: &[u8], depth: usize) -> R<bool> {
        let ty = self
            .types
            .get(t)
            .ok_or_else(|| ValidityError::Malformed(format!("type index {t} out of range")))?;
        if depth > 64 {
            return Err(ValidityError::Malformed(format!(
                "schema record: {} nested too deep",
                ty.name
            )));
        }
        let size = usize::try_from(ty.size).unwrap_or(usize::MAX);
        let Some(v) = bytes.get(..size) else {
            return Err(ValidityError::Malformed(format!(
                "{} bytes are not a {} of {size}",
                bytes.len(),
                ty.name
            )));
        };
        // Each part (offset, type) must lie inside the value.
        let all = |parts: &mut dyn Iterator<Item = (u64, usize)>| -> R<bool> {
            for (off, p) in parts {
                let psize = self.types.get(p).map_or(u64::MAX, |x| x.size);
                let inside = off.checked_add(psize).is_some_and(|e| e <= ty.size);
                if !inside {
                    return Err(ValidityError::Malformed(format!(
                        "schema record: a part of {} does not fit it",
                        ty.name
                    )));
                }
                if !self.valid_at(p, &v[off as usize..], depth + 1)? {
                    return Ok(false);
                }
            }
            Ok(true)
        };
        match &ty.shape {
            StoredShape::Primitive => match (ty.name.as_str(), v) {
                ("bool", [b]) => Ok(*b <= 1),
                ("char", &[a, b, c, d]) => {
                    Ok(char::from_u32(u32::from_le_bytes([a, b, c, d])).is_some())
                }
                ("f32" | "f64" | "()", _) => Ok(true),
                (n, _) if int_class(n).is_some() => Ok(true),
                (n, _) => Err(ValidityError::Unknown(format!(
                    "a type holding {n}, whose valid values are unknown"
                ))),
            },
            StoredShape::Struct(fields) | StoredShape::Tuple(fields) => {
                all(&mut fields.iter().map(|f| (f.offset, f.ty)))
            }
            StoredShape::Array { elem, len } => {
                let n = self.types.get(*elem).map_or(u64::MAX, |e| e.size);
                if n.checked_mul(*len).is_none_or(|b| b > ty.size) {
                    return Err(ValidityError::Malformed(format!(
                        "schema record: array of {len} does not fit {}",
                        ty.name
                    )));
                }
                all(&mut (0..*len).map(|i| (i * n, *elem)))
            }
            StoredShape::Enum { repr, variants } => {
                let tag = enum_tag(v, repr, &ty.name)?;
                match variants.iter().find(|x| x.discriminant == tag) {
                    None => Ok(false),
                    Some(x) => all(&mut x.fields.iter().map(|f| (f.offset, f.ty))),
                }
            }
            StoredShape::Pointer { owned: true, .. } if size == 8 => Ok(v.iter().any(|b| *b != 0)),
            _ => Err(ValidityError::Unknown(format!(
                "a type holding {}, whose valid values are unknown",
                ty.name
            ))),
        }
    }
}
