//! Reading a stored `Option` of a changed type by the stored schema alone: which of
//! `None` and `Some` it holds, without knowing how the build that wrote it laid it out
//! (a child of `auto`: it uses `OldType`'s private accessors).

use super::{refuse, NodeShape, OldType};
use crate::error::{Error, Result};
use crate::format::schema::TypeSchema;
use crate::format::schema_diff::int_class;

impl<'a> OldType<'a> {
    /// The payload of the stored `Option` at `old`: `None`, or `Some` with the address
    /// of the old inner value and its stored type. Decided from the stored schema
    /// alone, without knowing how the build that wrote it laid the option out:
    /// - niche layout (the option no larger than its inner type): the payload is at
    ///   offset 0, and the value is `Some` exactly when its bytes are a valid value of
    ///   the stored inner type ([`Self::holds_valid`]) — a `None` puts a value invalid
    ///   for it into the niche scalar, so it never validates;
    /// - tagged layout: the payload at the end (offset = option size − inner size), the
    ///   tag in the first byte: rustc's discriminant, 0 for `None`, 1 for `Some`.
    ///
    /// # Errors
    /// [`Error::NotAutoMigratable`] when the stored type is not an `Option`, for a
    /// tag other than 0 or 1, or when the inner type holds a type whose valid values
    /// the stored schema does not describe (so a niche cannot be told from a value);
    /// [`Error::Corrupted`] for an inner type that does not fit the option.
    ///
    /// # Safety
    /// - `old` points to a readable value of the stored type, aligned for it.
    pub unsafe fn option_payload(
        &self,
        old: *const u8,
        new: &'static TypeSchema,
    ) -> Result<Option<(*const u8, OldType<'a>)>> {
        let inner = self.option_inner(new)?;
        let (size, isize) = (self.node().size, inner.node().size);
        let at = size.checked_sub(isize).ok_or_else(|| {
            Error::corrupted(
                format!("schema record: Option of {} does not fit", inner.name()),
                0,
            )
        })?;
        let at = usize::try_from(at).unwrap_or(usize::MAX);
        if !inner.align().is_power_of_two()
            || at % inner.align() != 0
            || self.align() % inner.align() != 0
        {
            return Err(Error::corrupted(
                format!("schema record: Option of {} misaligned", inner.name()),
                0,
            ));
        }
        if at == 0 {
            // SAFETY: the inner value's bytes are the option's (same size), readable
            // (caller's contract).
            let some = unsafe { inner.holds_valid(old, 0)? };
            return Ok(some.then_some((old, inner)));
        }
        // SAFETY: the option is larger than its payload, so its first byte (the tag)
        // lies inside the readable value (caller's contract).
        match unsafe { old.read() } {
            0 => Ok(None),
            // SAFETY: `at` + the inner size is the option's size: the payload lies
            // inside the readable value; it is aligned for the inner type, since the
            // option is aligned for its own alignment (caller's contract), a multiple
            // of the inner one, and `at` is a multiple of the inner one (both
            // checked above).
            1 => Ok(Some((unsafe { old.add(at) }, inner))),
            tag => Err(refuse(format!(
                "Option tag {tag} is neither None (0) nor Some (1)"
            ))),
        }
    }

    /// Whether the bytes at `p` are a valid value of this stored type: every `bool`
    /// is 0 or 1, every `char` a scalar value, every enum tag declared (and its
    /// variant's fields valid), every owning pointer nonzero. Reads only inside the
    /// value (field, element and variant positions are checked against the stored
    /// sizes first), each scalar unaligned.
    ///
    /// # Errors
    /// [`Error::NotAutoMigratable`] for a type whose valid values the schema does not
    /// describe (a nested `Option`, a collection, an unknown primitive);
    /// [`Error::Corrupted`] for a part outside its type or a schema nested too deep.
    ///
    /// # Safety
    /// - `p` points to `self.size()` readable bytes.
    pub unsafe fn holds_valid(&self, p: *const u8, depth: usize) -> Result<bool> {
        if depth > 64 {
            return Err(Error::corrupted(
                format!("schema record: {} nested too deep", self.name()),
                0,
            ));
        }
        let size = self.node().size;
        // SAFETY (of each closure call): `off` + the part's size fits `size` (checked
        // by `fits`), so the part lies inside the readable value at `p`.
        let fits = |off: u64, t: OldType<'a>| -> Result<()> {
            if off.checked_add(t.node().size).is_none_or(|e| e > size) {
                return Err(Error::corrupted(
                    format!("schema record: a part of {} does not fit it", self.name()),
                    0,
                ));
            }
            Ok(())
        };
        let all = |parts: &mut dyn Iterator<Item = (u64, usize)>| -> Result<bool> {
            for (off, t) in parts {
                let t = self.at(t);
                fits(off, t)?;
                // SAFETY: the part lies inside the value (checked just above), and
                // `off` fits `usize` (it is below the value's size, which is mapped).
                if !unsafe { t.holds_valid(p.add(off as usize), depth + 1)? } {
                    return Ok(false);
                }
            }
            Ok(true)
        };
        match &self.node().shape {
            NodeShape::Primitive => match self.name() {
                "bool" if size == 1 => {
                    // SAFETY: one readable byte (the value's size).
                    Ok(unsafe { p.read() } <= 1)
                }
                "char" if size == 4 => {
                    // SAFETY: four readable bytes (the value's size), read unaligned.
                    let c = unsafe { p.cast::<u32>().read_unaligned() };
                    Ok(char::from_u32(c).is_some())
                }
                "f32" | "f64" | "()" => Ok(true),
                n if int_class(n).is_some() => Ok(true),
                n => Err(refuse(format!(
                    "Option of a type holding {n}, whose valid values are unknown"
                ))),
            },
            NodeShape::Struct(fields) | NodeShape::Tuple(fields) => {
                all(&mut fields.iter().map(|f| (f.offset, f.ty)))
            }
            NodeShape::Array { elem, len } => {
                let e = self.at(*elem);
                let n = e.node().size;
                if n.checked_mul(*len).is_none_or(|b| b > size) {
                    return Err(Error::corrupted(
                        format!("schema record: array of {len} {} does not fit", e.name()),
                        0,
                    ));
                }
                all(&mut (0..*len).map(|i| (i * n, *elem)))
            }
            NodeShape::Enum { repr, variants } => {
                let repr = repr.strip_prefix("C, ").unwrap_or(repr);
                // SAFETY: the value is readable (caller's contract); `tag_at` checks
                // that the tag fits it.
                let tag = unsafe { self.tag_at(p, repr)? };
                match variants.iter().find(|v| v.discriminant == tag) {
                    None => Ok(false),
                    Some(v) => all(&mut v.fields.iter().map(|f| (f.offset, f.ty))),
                }
            }
            NodeShape::Pointer { owned: true, .. } if size == 8 => {
                // SAFETY: eight readable bytes (the value's size), read unaligned.
                Ok(unsafe { p.cast::<u64>().read_unaligned() } != 0)
            }
            _ => Err(refuse(format!(
                "Option of a type holding {}, whose valid values are unknown",
                self.name()
            ))),
        }
    }
}
