//! An opened pool with its schema: reading typed values out of raw bytes (every read
//! bounds-checked by the inspector; nothing here is `unsafe`), and following a
//! `--path` from the root.
//!
//! Layout rules used to decode values without their Rust types:
//! - integers, floats, `bool`, `char` are little-endian at their offset;
//! - an enum's tag is its `repr` integer at offset 0 (RFC 2195 layouts, which the
//!   derive requires);
//! - `Option<T>` of the same size as `T` uses a niche: it is `None` exactly when the
//!   bytes are not a valid `T` (`PBox`: 0; `bool`: not 0 or 1; `char`: not a scalar
//!   value; enums: an unknown tag); a larger `Option<T>` has its tag in byte 0 (0 or 1)
//!   and the payload at `align_of::<T>()`. These are rustc's layouts, which the tests
//!   pin (`tests/cli.rs`); a nested niche option (`Option<Option<bool>>`) may read as
//!   `Some(None)` instead of `None`.

use pmem::inspect::Inspector;
use pmem::inspect::{inspect, CollectionKind, Contents, ElemLayout};

use crate::schema::{Schema, Shape, Variant};

type R<T> = Result<T, String>;

/// Bits of a `PPtr` that hold the offset; the top 16 hold the pool's tag.
const OFF_MASK: u64 = (1 << 48) - 1;

/// The pool, read-only, and its schema.
pub(crate) struct Pool {
    pub(crate) ins: Inspector,
    pub(crate) schema: Schema,
    /// The tag `PPtr`s made in this pool carry (from its UUID).
    tag: u64,
}

/// A decoded primitive.
pub(crate) enum Prim {
    U(u128),
    I(i128),
    F(f64),
    Bool(bool),
    Char(char),
    Unit,
}

impl Pool {
    pub(crate) fn new(ins: Inspector, schema: Schema) -> Pool {
        let uuid = ins.info().uuid;
        Pool {
            ins,
            schema,
            tag: u64::from(u16::from_le_bytes([uuid[0], uuid[1]])),
        }
    }

    pub(crate) fn bytes(&self, off: u64, len: u64) -> R<&[u8]> {
        self.ins.bytes(off, len).map_err(|e| e.to_string())
    }

    pub(crate) fn u64_at(&self, off: u64) -> R<u64> {
        Ok(u64::from_le_bytes(
            self.bytes(off, 8)?.try_into().expect("8 bytes"),
        ))
    }

    /// A non-owning pointer's target offset (0 = null), or an error naming a pointer
    /// made in another pool.
    pub(crate) fn pptr(&self, off: u64) -> R<u64> {
        let raw = self.u64_at(off)?;
        if raw != 0 && raw >> 48 != self.tag {
            return Err(format!("PPtr at {off:#x} was made in another pool"));
        }
        Ok(raw & OFF_MASK)
    }

    /// The layouts of a collection's type parameters.
    pub(crate) fn layouts(&self, params: &[usize]) -> Vec<ElemLayout> {
        params
            .iter()
            .map(|&p| ElemLayout {
                size: self.schema.types[p].size,
                align: self.schema.types[p].align,
            })
            .collect()
    }

    /// The collection whose header is at `off`.
    pub(crate) fn collection(
        &self,
        off: u64,
        kind: CollectionKind,
        params: &[usize],
    ) -> R<Contents> {
        inspect(&self.ins, kind, off, &self.layouts(params)).map_err(|e| e.to_string())
    }

    /// Decodes the primitive of type `t` at `off`.
    pub(crate) fn prim(&self, off: u64, t: usize) -> R<Prim> {
        let ty = &self.schema.types[t];
        let b = self.bytes(off, ty.size)?;
        let mut wide = [0u8; 16];
        wide[..b.len().min(16)].copy_from_slice(&b[..b.len().min(16)]);
        let u = u128::from_le_bytes(wide);
        let bits = 8 * b.len() as u32;
        let signed = |u: u128| {
            if bits == 0 || bits >= 128 {
                u as i128
            } else {
                ((u << (128 - bits)) as i128) >> (128 - bits)
            }
        };
        Ok(match (ty.name.as_str(), b.len()) {
            ("u8" | "u16" | "u32" | "u64" | "u128" | "usize", 1 | 2 | 4 | 8 | 16) => Prim::U(u),
            ("i8" | "i16" | "i32" | "i64" | "i128" | "isize", 1 | 2 | 4 | 8 | 16) => {
                Prim::I(signed(u))
            }
            ("f32", 4) => Prim::F(f64::from(f32::from_bits(u as u32))),
            ("f64", 8) => Prim::F(f64::from_bits(u as u64)),
            ("bool", 1) if u < 2 => Prim::Bool(u == 1),
            ("char", 4) => Prim::Char(
                char::from_u32(u as u32)
                    .ok_or_else(|| format!("invalid char {u:#x} at {off:#x}"))?,
            ),
            ("()", 0) => Prim::Unit,
            (name, n) => return Err(format!("cannot read a {name} of {n} bytes at {off:#x}")),
        })
    }

    /// The active variant of the enum of type `t` at `off`.
    pub(crate) fn variant(&self, off: u64, t: usize) -> R<&Variant> {
        let Shape::Enum {
            tag_size,
            signed,
            variants,
        } = &self.schema.types[t].shape
        else {
            return Err("not an enum".into());
        };
        let b = self.bytes(off, *tag_size)?;
        let mut wide = [0u8; 16];
        wide[..b.len()].copy_from_slice(b);
        let u = u128::from_le_bytes(wide);
        let bits = 8 * *tag_size as u32;
        let d = if *signed && bits < 128 {
            ((u << (128 - bits)) as i128) >> (128 - bits)
        } else {
            u as i128
        };
        variants
            .iter()
            .find(|v| v.discriminant == d)
            .ok_or_else(|| {
                format!(
                    "{} at {off:#x} has no variant with tag {d}",
                    self.schema.types[t].name
                )
            })
    }

    /// Where the payload of the `Option` of type `t` at `off` lies, if it is `Some`.
    pub(crate) fn option(&self, off: u64, t: usize) -> R<Option<u64>> {
        let Shape::Option(inner) = self.schema.types[t].shape else {
            return Err("not an Option".into());
        };
        let (size, isize_, ialign) = (
            self.schema.types[t].size,
            self.schema.types[inner].size,
            self.schema.types[inner].align,
        );
        if size == isize_ {
            return Ok(self.valid(off, inner, 0)?.then_some(off));
        }
        match self.bytes(off, 1)?[0] {
            0 => Ok(None),
            1 => Ok(Some(off + ialign.max(1))),
            tag => Err(format!("Option at {off:#x} has tag {tag}")),
        }
    }

    /// Whether the bytes at `off` are a valid value of type `t` (for niche options).
    fn valid(&self, off: u64, t: usize, depth: usize) -> R<bool> {
        let ty = &self.schema.types[t];
        if depth > 64 {
            return Ok(true);
        }
        Ok(match &ty.shape {
            Shape::Primitive => self.prim(off, t).is_ok(),
            Shape::Pointer { owned: true, .. } => self.u64_at(off)? != 0,
            Shape::Enum { .. } => match self.variant(off, t) {
                Ok(v) => {
                    let fields: Vec<(u64, usize)> =
                        v.fields.iter().map(|f| (f.offset, f.ty)).collect();
                    self.all_valid(off, &fields, depth)?
                }
                Err(_) => false,
            },
            Shape::Struct(f) | Shape::Tuple(f) => {
                let fields: Vec<(u64, usize)> = f.iter().map(|f| (f.offset, f.ty)).collect();
                self.all_valid(off, &fields, depth)?
            }
            Shape::Array { elem, len } => {
                let size = self.schema.types[*elem].size;
                let fields: Vec<(u64, usize)> = (0..*len).map(|i| (i * size, *elem)).collect();
                self.all_valid(off, &fields, depth)?
            }
            _ => true,
        })
    }

    fn all_valid(&self, off: u64, fields: &[(u64, usize)], depth: usize) -> R<bool> {
        for &(o, t) in fields {
            if !self.valid(off + o, t, depth + 1)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The text of a key a path or a JSON object can name it by: integers, `bool`,
    /// `char` and strings; `None` for other types.
    pub(crate) fn key_text(&self, off: u64, t: usize) -> Option<String> {
        match &self.schema.types[t].shape {
            Shape::Primitive => match self.prim(off, t).ok()? {
                Prim::U(u) => Some(u.to_string()),
                Prim::I(i) => Some(i.to_string()),
                Prim::Bool(b) => Some(b.to_string()),
                Prim::Char(c) => Some(c.to_string()),
                Prim::F(_) | Prim::Unit => None,
            },
            Shape::Collection {
                kind: CollectionKind::String,
                ..
            } => self.string(off).ok(),
            _ => None,
        }
    }

    /// The `PString` whose header is at `off`.
    pub(crate) fn string(&self, off: u64) -> R<String> {
        let c = self.collection(off, CollectionKind::String, &[])?;
        let e = c.entries().next().map_or(0, |e| e.key);
        let b = if c.len == 0 {
            &[][..]
        } else {
            self.bytes(e, c.len)?
        };
        String::from_utf8(b.to_vec()).map_err(|e| e.to_string())
    }

    /// Follows pointers and options from the value at `off` to a value that is neither.
    pub(crate) fn through(&self, mut off: u64, mut t: usize) -> R<(u64, usize)> {
        for _ in 0..64 {
            match &self.schema.types[t].shape {
                Shape::Pointer { owned, target } => {
                    off = if *owned {
                        self.u64_at(off)?
                    } else {
                        self.pptr(off)?
                    };
                    if off == 0 {
                        return Err("null pointer".into());
                    }
                    t = *target;
                }
                Shape::Option(inner) => {
                    off = self.option(off, t)?.ok_or("None")?;
                    t = *inner;
                }
                _ => return Ok((off, t)),
            }
        }
        Err("too many pointers in a row".into())
    }

    /// The value `path` names (`root`, `root.accounts`, `root.accounts[7].owner`,
    /// `root.items.0`, `root.names["ada"]`).
    pub(crate) fn resolve(&self, path: &str) -> R<(u64, usize)> {
        let segs = split_path(path)?;
        let mut at = (self.ins.root_offset(), self.schema.root);
        let mut walked = String::from("root");
        for seg in segs
            .iter()
            .skip(usize::from(segs.first().is_some_and(|s| s == "root")))
        {
            at = self.step(at, seg).map_err(|e| format!("{walked}: {e}"))?;
            walked.push('.');
            walked.push_str(seg);
        }
        Ok(at)
    }

    fn step(&self, at: (u64, usize), seg: &str) -> R<(u64, usize)> {
        let (off, t) = self.through(at.0, at.1)?;
        let ty = &self.schema.types[t];
        let field = |fields: &[crate::schema::Field]| {
            fields
                .iter()
                .find(|f| f.name == seg)
                .map(|f| (off + f.offset, f.ty))
                .ok_or_else(|| format!("{} has no field {seg:?}", self.schema.names[t]))
        };
        let index = |len: u64| {
            seg.parse::<u64>()
                .ok()
                .filter(|&i| i < len)
                .ok_or_else(|| format!("no index {seg:?} in {} of {len}", self.schema.names[t]))
        };
        match &ty.shape {
            Shape::Struct(f) | Shape::Tuple(f) => field(f),
            Shape::Enum { .. } => field(&self.variant(off, t)?.fields),
            Shape::Array { elem, len } => {
                Ok((off + index(*len)? * self.schema.types[*elem].size, *elem))
            }
            Shape::Collection { kind, params } if *kind != CollectionKind::String => {
                let c = self.collection(off, *kind, params)?;
                if kind.is_map() {
                    let e = c
                        .entries()
                        .find(|e| self.key_text(e.key, params[0]).is_some_and(|k| k == seg));
                    let e =
                        e.ok_or_else(|| format!("{} has no key {seg:?}", self.schema.names[t]))?;
                    Ok((e.value.expect("map entries have values"), params[1]))
                } else {
                    let i = index(c.len)?;
                    Ok((
                        c.entries().nth(i as usize).expect("index below len").key,
                        params[0],
                    ))
                }
            }
            _ => Err(format!(
                "{} has no parts to name with {seg:?}",
                self.schema.names[t]
            )),
        }
    }
}

/// Splits `a.b[3]["x.y"]` into `a`, `b`, `3`, `x.y`.
fn split_path(path: &str) -> R<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => out.push(std::mem::take(&mut cur)),
            '[' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                let quoted = chars.peek() == Some(&'"');
                if quoted {
                    chars.next();
                }
                let mut seg = String::new();
                loop {
                    match chars.next() {
                        Some('"') if quoted => {
                            if chars.next() != Some(']') {
                                return Err(format!(
                                    "path {path:?}: expected ] after a quoted key"
                                ));
                            }
                            break;
                        }
                        Some(']') if !quoted => break,
                        Some(c) => seg.push(c),
                        None => return Err(format!("path {path:?}: unclosed [")),
                    }
                }
                out.push(seg);
                if chars.peek() == Some(&'.') {
                    chars.next();
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(cur);
    }
    if out.iter().any(String::is_empty) {
        return Err(format!("path {path:?} has an empty part"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::split_path;

    #[test]
    fn paths_split_on_dots_and_brackets() {
        assert_eq!(
            split_path("root.accounts[7].owner").unwrap(),
            ["root", "accounts", "7", "owner"]
        );
        assert_eq!(
            split_path("root.names[\"a.b]\"].x").unwrap(),
            ["root", "names", "a.b]", "x"]
        );
        assert_eq!(split_path("root").unwrap(), ["root"]);
        assert!(split_path("root..x").is_err());
        assert!(split_path("root[3").is_err());
    }
}
