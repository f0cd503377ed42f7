//! Reading a stored `Option` of a changed type by the stored schema alone: which of
//! `None` and `Some` it holds, without knowing how the build that wrote it laid it out
//! (a child of `auto`: it uses `OldType`'s private accessors).

use super::{refuse, OldType};
use crate::error::{Error, Result};
use crate::format::schema::TypeSchema;
use crate::format::validity::ValidityError;

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
            let some = unsafe { inner.holds_valid(old)? };
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

    /// Whether the bytes at `p` are a valid value of this stored type, by the one
    /// definition of the rules, [`StoredSchema::holds_valid`](crate::inspect::StoredSchema::holds_valid)
    /// (`format/validity.rs`): every `bool` 0 or 1, every `char` a scalar value, every
    /// enum tag declared (and its variant's fields valid), every owning pointer
    /// nonzero. Reads only inside the value.
    ///
    /// # Errors
    /// [`Error::NotAutoMigratable`] for a type whose valid values the schema does not
    /// describe (a nested `Option`, a collection, an unknown primitive);
    /// [`Error::Corrupted`] for a part outside its type or a schema nested too deep.
    ///
    /// # Safety
    /// - `p` points to `self.size()` readable bytes.
    pub unsafe fn holds_valid(&self, p: *const u8) -> Result<bool> {
        // SAFETY: `self.size()` bytes at `p` are readable (caller's contract) and
        // initialised (pool memory: mapped file bytes), and nothing writes them while
        // the old pool is read (it is open read-only for the migration).
        let bytes = unsafe { std::slice::from_raw_parts(p, self.size()) };
        self.g
            .graph
            .holds_valid(self.ix, bytes)
            .map_err(|e| match e {
                ValidityError::Unknown(w) => refuse(format!("Option of {w}")),
                ValidityError::Malformed(w) => Error::corrupted(w, 0),
            })
    }
}
