//! Reading values of a pool by its stored schema alone, for the untyped compaction
//! (`relocate`): which types can own anything, an enum's live variant, an `Option`'s
//! payload — rustc's layouts, as `pmem-cli/src/pool.rs` reads them for `pmem dump`.
//! Every read goes through the bounds-checked inspector.

use pmem_core::inspect::{EnumTag, Inspector, StoredField, StoredSchema, StoredShape};
use pmem_core::{Error, Result};

/// A pool and its parsed schema record.
#[derive(Clone, Copy)]
pub(super) struct Values<'a> {
    pub(super) ins: &'a Inspector,
    pub(super) s: &'a StoredSchema,
}

fn corrupted(what: impl Into<String>, offset: u64) -> Error {
    Error::Corrupted {
        what: what.into(),
        offset,
    }
}

/// Checks that every part of every type lies inside it (fields and variant fields at
/// their offsets, array elements, an option's payload), so that the walk's offset
/// arithmetic stays inside the value it reads: the record is file bytes.
///
/// # Errors
/// [`Error::Corrupted`] naming the first type that does not fit.
pub(super) fn check_schema(s: &StoredSchema, at: u64) -> Result<()> {
    let fits = |off: u64, ty: usize, size: u64| {
        off.checked_add(s.types[ty].size)
            .is_some_and(|end| end <= size)
    };
    for t in &s.types {
        let ok = match &t.shape {
            StoredShape::Struct(f) | StoredShape::Tuple(f) => {
                f.iter().all(|f| fits(f.offset, f.ty, t.size))
            }
            StoredShape::Enum { variants, .. } => variants
                .iter()
                .flat_map(|v| &v.fields)
                .all(|f| fits(f.offset, f.ty, t.size)),
            StoredShape::Array { elem, len } => s.types[*elem]
                .size
                .checked_mul(*len)
                .is_some_and(|b| b <= t.size),
            // Niche (same size) or tagged (payload at the payload's alignment).
            StoredShape::Option(inner) => {
                let i = &s.types[*inner];
                i.size == t.size || fits(i.align.max(1), *inner, t.size)
            }
            _ => true,
        };
        if !ok {
            return Err(corrupted(
                format!(
                    "schema record: a part of {} lies outside its {} bytes",
                    t.name, t.size
                ),
                at,
            ));
        }
    }
    Ok(())
}

/// Which types can hold pointers or collections (a fixed point over the graph).
pub(super) fn reach(s: &StoredSchema) -> Vec<bool> {
    let mut r = vec![false; s.types.len()];
    loop {
        let mut changed = false;
        for (i, t) in s.types.iter().enumerate() {
            if r[i] {
                continue;
            }
            let now = match &t.shape {
                StoredShape::Pointer { .. }
                | StoredShape::Collection { .. }
                | StoredShape::Unknown(_) => true,
                StoredShape::Struct(f) | StoredShape::Tuple(f) => f.iter().any(|f| r[f.ty]),
                StoredShape::Enum { variants, .. } => {
                    variants.iter().flat_map(|v| &v.fields).any(|f| r[f.ty])
                }
                StoredShape::Array { elem, .. } | StoredShape::Option(elem) => r[*elem],
                _ => false,
            };
            if now {
                r[i] = true;
                changed = true;
            }
        }
        if !changed {
            return r;
        }
    }
}

impl<'a> Values<'a> {
    pub(super) fn u64_at(&self, off: u64) -> Result<u64> {
        let b = self.ins.bytes(off, 8)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    /// The fields of the active variant of the enum of type `t` at `off`.
    pub(super) fn variant(
        &self,
        off: u64,
        t: usize,
    ) -> std::result::Result<&'a [StoredField], String> {
        let ty = &self.s.types[t];
        let StoredShape::Enum { repr, variants } = &ty.shape else {
            return Err("not an enum".into());
        };
        let tag =
            EnumTag::of_repr(repr).ok_or_else(|| format!("enum {} has repr {repr}", ty.name))?;
        let b = self
            .ins
            .bytes(off, tag.size as u64)
            .map_err(|e| e.to_string())?;
        let d = tag.read(b).expect("read as many bytes as the tag");
        variants
            .iter()
            .find(|v| v.discriminant == d)
            .map(|v| v.fields.as_slice())
            .ok_or_else(|| format!("{} at {off:#x} has no variant with tag {d}", ty.name))
    }

    /// Where the payload of the `Option` of type `t` at `off` lies, if it is `Some`
    /// (rustc's layouts, as `pmem-cli/src/pool.rs` reads them: a niche option is `None`
    /// exactly when its bytes are not a valid payload; a tagged one has 0 or 1 in byte
    /// 0 and the payload at the payload's alignment).
    pub(super) fn option(&self, off: u64, t: usize, inner: usize) -> Result<Option<u64>> {
        let (size, it) = (self.s.types[t].size, &self.s.types[inner]);
        if size == it.size {
            return Ok(self.valid(off, inner, 0)?.then_some(off));
        }
        match self.ins.bytes(off, 1)?[0] {
            0 => Ok(None),
            1 => Ok(Some(off + it.align.max(1))),
            tag => Err(corrupted(format!("Option with tag {tag}"), off)),
        }
    }

    /// Whether the bytes at `off` are a valid value of type `t` (for niche options).
    fn valid(&self, off: u64, t: usize, depth: usize) -> Result<bool> {
        let ty = &self.s.types[t];
        if depth > 64 {
            return Ok(true);
        }
        let all = |fields: &mut dyn Iterator<Item = (u64, usize)>| -> Result<bool> {
            for (o, t) in fields {
                if !self.valid(off + o, t, depth + 1)? {
                    return Ok(false);
                }
            }
            Ok(true)
        };
        Ok(match &ty.shape {
            StoredShape::Primitive => {
                let b = self.ins.bytes(off, ty.size)?;
                match ty.name.as_str() {
                    "bool" => b.first().is_some_and(|&x| x < 2),
                    "char" => {
                        b.len() == 4
                            && char::from_u32(u32::from_le_bytes(b.try_into().expect("4")))
                                .is_some()
                    }
                    _ => true,
                }
            }
            StoredShape::Pointer { owned: true, .. } => self.u64_at(off)? != 0,
            StoredShape::Enum { .. } => match self.variant(off, t) {
                Ok(v) => all(&mut v.iter().map(|f| (f.offset, f.ty)))?,
                Err(_) => false,
            },
            StoredShape::Struct(f) | StoredShape::Tuple(f) => {
                all(&mut f.iter().map(|f| (f.offset, f.ty)))?
            }
            StoredShape::Array { elem, len } => {
                let size = self.s.types[*elem].size;
                all(&mut (0..*len).map(|i| (i * size, *elem)))?
            }
            _ => true,
        })
    }
}
