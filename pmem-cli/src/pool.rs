//! An opened pool with its schema: reading typed values out of raw bytes (every read
//! bounds-checked by the inspector; nothing here is `unsafe`), and following a
//! `--path` from the root (its syntax is in `path`).
//!
//! Layout rules used to decode values without their Rust types:
//! - integers, floats, `bool`, `char` are little-endian at their offset;
//! - an enum's tag is its `repr` integer at offset 0 (RFC 2195 layouts, which the
//!   derive requires);
//! - `Option<T>` of the same size as `T` uses a niche: it is `None` exactly when the
//!   bytes are not a valid `T` (`PBox`: 0; `bool`: not 0 or 1; `char`: not a scalar
//!   value; enums: an unknown tag) — core's rules, `StoredSchema::holds_valid`, the
//!   same automatic migration reads a stored `Option` by; a larger `Option<T>` has its tag in byte 0 (0 or 1)
//!   and the payload at `align_of::<T>()`. These are rustc's layouts, which the tests
//!   pin (`pmem-cli/tests/cli.rs`); a nested niche option (`Option<Option<bool>>`) may read as
//!   `Some(None)` instead of `None`.

use pmem_collections::inspect::{
    inspect, pptr_target, CollectionKind, Contents, ElemLayout, Inspector, PPtrTarget,
};
use pmem_core::inspect::ValidityError;

use crate::path::{Key, Step};
use crate::schema::{Field, Schema, Shape, Variant};

type R<T> = Result<T, String>;

/// The pool, read-only, and its schema.
pub(crate) struct Pool {
    pub(crate) ins: Inspector,
    pub(crate) schema: Schema,
    /// The pool's UUID, which the `PPtr`s made in it carry a tag of.
    uuid: [u8; 16],
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
        Pool { ins, schema, uuid }
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
        match pptr_target(self.u64_at(off)?, &self.uuid) {
            PPtrTarget::Null => Ok(0),
            PPtrTarget::At(to) => Ok(to),
            PPtrTarget::Foreign => Err(format!("PPtr at {off:#x} was made in another pool")),
        }
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
        let Shape::Enum { tag, variants, .. } = &self.schema.types[t].shape else {
            return Err("not an enum".into());
        };
        let b = self.bytes(off, tag.size as u64)?;
        let d = tag.read(b).expect("read as many bytes as the tag");
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
            // Core's one definition of which bytes are a valid value (a `None` puts an
            // invalid one into the niche).
            return match self
                .schema
                .stored
                .holds_valid(inner, self.bytes(off, size)?)
            {
                Ok(some) => Ok(some.then_some(off)),
                // A niche inside something whose valid values the schema does not
                // describe (a nested `Option`): read as `Some`, see the module docs.
                Err(ValidityError::Unknown(_)) => Ok(Some(off)),
                Err(e) => Err(format!("Option at {off:#x}: {e}")),
            };
        }
        match self.bytes(off, 1)?[0] {
            0 => Ok(None),
            1 => Ok(Some(off + ialign.max(1))),
            tag => Err(format!("Option at {off:#x} has tag {tag}")),
        }
    }

    /// The key of type `t` at `off` as a path names it (`7`, `"ada"`, `(187, 27)`,
    /// `High`); `None` for types a path cannot name.
    pub(crate) fn key(&self, off: u64, t: usize) -> Option<Key> {
        self.key_at(off, t, 0)
    }

    fn key_at(&self, off: u64, t: usize, depth: usize) -> Option<Key> {
        let tuple = |fields: &[Field]| {
            let parts = fields
                .iter()
                .map(|f| self.key_at(off + f.offset, f.ty, depth + 1))
                .collect::<Option<Vec<_>>>()?;
            Some(Key::Tuple(parts))
        };
        if depth > 8 {
            return None;
        }
        match &self.schema.types[t].shape {
            Shape::Primitive => match self.prim(off, t).ok()? {
                Prim::U(u) => Some(Key::Num(u.to_string())),
                Prim::I(i) => Some(Key::Num(i.to_string())),
                Prim::Bool(b) => Some(Key::Bool(b)),
                Prim::Char(c) => Some(Key::Char(c)),
                Prim::F(_) | Prim::Unit => None,
            },
            Shape::Collection {
                kind: CollectionKind::String,
                ..
            } => self.string(off).ok().map(Key::Str),
            Shape::Tuple(f) => tuple(f),
            Shape::Struct(f) if numbered(f) => tuple(f),
            Shape::Enum { .. } => {
                let v = self.variant(off, t).ok()?;
                v.fields.is_empty().then(|| Key::Word(v.name.clone()))
            }
            _ => None,
        }
    }

    /// The text a JSON object names a key by: integers, `bool`, `char` and strings;
    /// `None` for other types.
    pub(crate) fn key_text(&self, off: u64, t: usize) -> Option<String> {
        match self.key(off, t)? {
            Key::Num(n) => Some(n),
            Key::Bool(b) => Some(b.to_string()),
            Key::Char(c) => Some(c.to_string()),
            Key::Str(s) => Some(s),
            Key::Tuple(_) | Key::Word(_) => None,
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

    /// Follows pointers and options from the value at `off` to a value that is neither;
    /// the error says what stood in the way ("None", "a null pointer").
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
                        return Err("a null pointer".into());
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
        Err("more than 64 pointers in a row".into())
    }

    /// The value `path` names (`root`, `root.accounts`, `root.accounts[7].owner`,
    /// `root.items.0`, `root.names["ada"]`, `root.by_score[(187, 27)]`).
    pub(crate) fn resolve(&self, path: &str) -> R<(u64, usize)> {
        let mut at = (self.ins.root_offset(), self.schema.root);
        let mut walked = String::from("root");
        for step in crate::path::split(path)? {
            at = self.step(at, &step, &walked)?;
            walked.push_str(&step.to_string());
        }
        Ok(at)
    }

    /// One step from the value `walked` at `at`.
    fn step(&self, at: (u64, usize), step: &Step, walked: &str) -> R<(u64, usize)> {
        let (off, t) = self.through(at.0, at.1).map_err(|e| match e.as_str() {
            "None" | "a null pointer" => format!("{walked} is {e}"),
            _ => format!("{walked}: {e}"),
        })?;
        let ty = &self.schema.types[t];
        let what = format!("{walked} ({})", self.schema.names[t]);
        // A field named after a dot, or in brackets as a number or a string.
        let field = |fields: &[Field], of: &str| {
            let name = match step {
                Step::Name(n) => n.clone(),
                Step::Bracket(b) => match Key::parse(b) {
                    Ok(Key::Num(n) | Key::Str(n) | Key::Word(n)) => n,
                    _ => b.clone(),
                },
            };
            if let Some(f) = fields.iter().find(|f| f.name == name) {
                return Ok((off + f.offset, f.ty));
            }
            let list: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            Err(if list.is_empty() {
                format!("{of} has no field {name:?}; it has no fields")
            } else {
                format!(
                    "{of} has no field {name:?}; its fields are {}",
                    list.join(", ")
                )
            })
        };
        let index = |len: u64, unit: &str| {
            let text = match step {
                Step::Name(n) | Step::Bracket(n) => n.trim(),
            };
            match text.parse::<u64>() {
                Ok(i) if i < len => Ok(i),
                Ok(i) => Err(format!(
                    "{what} has no index {i}: it has {len} {unit}{}",
                    if len == 1 { "" } else { "s" }
                )),
                Err(_) => Err(format!(
                    "{what} has elements, numbered from 0, not {text:?}"
                )),
            }
        };
        match &ty.shape {
            Shape::Struct(f) | Shape::Tuple(f) => field(f, &what),
            Shape::Enum { .. } => {
                let v = self.variant(off, t)?;
                field(
                    &v.fields,
                    &format!("{walked} ({}::{})", self.schema.names[t], v.name),
                )
            }
            Shape::Array { elem, len } => Ok((
                off + index(*len, "element")? * self.schema.types[*elem].size,
                *elem,
            )),
            Shape::Collection { kind, params } if *kind != CollectionKind::String => {
                let c = self.collection(off, *kind, params)?;
                if !kind.is_map() {
                    let i = index(c.len, "element")?;
                    let e = c.entries().nth(i as usize);
                    return Ok((e.ok_or("fewer elements than its length")?.key, params[0]));
                }
                let want = match step {
                    Step::Name(n) => Key::Word(n.clone()),
                    Step::Bracket(b) => Key::parse(b)?,
                };
                let found = c
                    .entries()
                    .find(|e| self.key(e.key, params[0]).is_some_and(|k| want.names(&k)));
                match found {
                    Some(e) => Ok((e.value.ok_or("a map entry without a value")?, params[1])),
                    None => {
                        let shown = match &want {
                            Key::Word(w) => format!("{w:?}"),
                            k => k.to_string(),
                        };
                        let n = c.len;
                        Err(format!(
                            "{what} has no key {shown}: it has {n} entr{}",
                            if n == 1 { "y" } else { "ies" }
                        ))
                    }
                }
            }
            _ => Err(format!("{what} has no parts to name with {step}")),
        }
    }
}

/// Whether `fields` are a tuple struct's (`0`, `1`, ...).
pub(crate) fn numbered(fields: &[Field]) -> bool {
    !fields.is_empty()
        && fields
            .iter()
            .enumerate()
            .all(|(i, f)| f.name == i.to_string())
}
