//! The schema a pool stored at creation (`pmem_core::schema::to_json`), read by core's
//! bounded reader (`pmem_core::inspect::StoredSchema`, the one `open` uses) and checked
//! further so that the walk can trust it: every type index in range, every field inside
//! its container, no type containing itself inline. A pool's schema is data from a
//! file like any other, so each of these is an error, never a panic.

use pmem_collections::inspect::CollectionKind;
use pmem_core::inspect::{EnumTag, StoredSchema, StoredShape};

/// The type table, with what the walk derives from it.
pub(crate) struct Schema {
    /// Index of the root type.
    pub(crate) root: usize,
    /// The types, by index.
    pub(crate) types: Vec<Ty>,
    /// `reach[t]`: a value of type `t` holds pointers or collections, directly or
    /// inline; the walk skips values that do not.
    pub(crate) reach: Vec<bool>,
    /// Readable names (`PVec<i64>`, `(u8, u64)`, `Option<PBox<Node>>`).
    pub(crate) names: Vec<String>,
    /// The schema as core's reader gave it (same indices as `types`), for the rules
    /// core owns: which bytes are a valid value of a type (`StoredSchema::holds_valid`).
    pub(crate) stored: StoredSchema,
}

/// One type.
pub(crate) struct Ty {
    /// The name the type reported (`"Account"`, `"PVec"`, `"u64"`, `"tuple"`).
    pub(crate) name: String,
    /// `size_of`.
    pub(crate) size: u64,
    /// `align_of`.
    pub(crate) align: u64,
    /// The layout fingerprint, as stored (hex).
    pub(crate) fingerprint: String,
    /// What kind of type.
    pub(crate) shape: Shape,
}

/// A named or numbered field, as core's reader gives it (`name`, `offset`, `ty`).
pub(crate) use pmem_core::inspect::StoredField as Field;
/// An enum variant, as core's reader gives it (`name`, `discriminant`, `fields`).
pub(crate) use pmem_core::inspect::StoredVariant as Variant;

/// The shapes of `pmem_core::schema::Shape`.
pub(crate) enum Shape {
    Primitive,
    Struct(Vec<Field>),
    Tuple(Vec<Field>),
    Enum {
        /// The `repr` as written (`u8`, `C, u32`).
        repr: String,
        /// The tag's integer type.
        tag: EnumTag,
        variants: Vec<Variant>,
    },
    Array {
        elem: usize,
        len: u64,
    },
    Option(usize),
    Pointer {
        owned: bool,
        target: usize,
    },
    Collection {
        kind: CollectionKind,
        params: Vec<usize>,
    },
    /// A shape or collection this build does not know (a newer pmem wrote the pool).
    Unknown(String),
}

type R<T> = Result<T, String>;

/// The walk's view of a stored shape: enum tags decoded, collections known by kind.
fn shape(stored: StoredShape, at: &str) -> R<Shape> {
    Ok(match stored {
        StoredShape::Primitive => Shape::Primitive,
        StoredShape::Struct(f) => Shape::Struct(f),
        StoredShape::Tuple(f) => Shape::Tuple(f),
        StoredShape::Enum { repr, variants } => {
            let tag = EnumTag::of_repr(&repr)
                .ok_or_else(|| format!("{at}: unknown enum repr {repr:?}"))?;
            Shape::Enum {
                repr,
                tag,
                variants,
            }
        }
        StoredShape::Array { elem, len } => Shape::Array { elem, len },
        StoredShape::Option(inner) => Shape::Option(inner),
        StoredShape::Pointer { owned, target } => Shape::Pointer { owned, target },
        StoredShape::Collection { kind: name, params } => match CollectionKind::from_name(&name) {
            Some(kind) if kind.param_count() == params.len() => Shape::Collection { kind, params },
            Some(_) => {
                return Err(format!(
                    "{at}: {name} with {} type parameters",
                    params.len()
                ))
            }
            None => Shape::Unknown(format!("collection {name}")),
        },
        StoredShape::Unknown(kind) => Shape::Unknown(format!("shape {kind}")),
        other => Shape::Unknown(format!("shape {other:?}")),
    })
}

impl Schema {
    /// Parses (with core's reader, [`StoredSchema::parse`]) and checks the stored
    /// schema.
    pub(crate) fn parse(json: &str) -> R<Schema> {
        let stored = StoredSchema::parse(json)?;
        let n = stored.types.len();
        let root = stored.root;
        let types = stored
            .types
            .clone()
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                let at = format!("schema type {i}");
                if !t.align.is_power_of_two() || t.align > 4096 {
                    return Err(format!("{at}: alignment {}", t.align));
                }
                Ok(Ty {
                    shape: shape(t.shape, &at)?,
                    name: t.name,
                    size: t.size,
                    align: t.align,
                    fingerprint: t.fingerprint,
                })
            })
            .collect::<R<Vec<_>>>()?;
        let mut s = Schema {
            root,
            types,
            reach: Vec::new(),
            names: Vec::new(),
            stored,
        };
        s.check_layout()?;
        s.check_no_inline_cycle()?;
        s.reach = s.compute_reach();
        s.names = (0..n).map(|t| s.name_of(t, 0)).collect();
        Ok(s)
    }

    /// The types a value of type `t` holds inline, with their offsets.
    pub(crate) fn inline_children(&self, t: usize) -> Vec<(u64, usize)> {
        match &self.types[t].shape {
            Shape::Struct(f) | Shape::Tuple(f) => f.iter().map(|f| (f.offset, f.ty)).collect(),
            Shape::Enum { variants, .. } => variants
                .iter()
                .flat_map(|v| v.fields.iter().map(|f| (f.offset, f.ty)))
                .collect(),
            Shape::Array { elem, len } => (*len > 0).then_some((0, *elem)).into_iter().collect(),
            Shape::Option(inner) => vec![(0, *inner)],
            _ => Vec::new(),
        }
    }

    fn check_layout(&self) -> R<()> {
        for (i, t) in self.types.iter().enumerate() {
            let inside = |off: u64, ty: usize, what: &str| {
                if !matches!(off.checked_add(self.types[ty].size), Some(end) if end <= t.size) {
                    return Err(format!(
                        "schema: {what} of type {i} ({}) lies outside it",
                        t.name
                    ));
                }
                Ok(())
            };
            match &t.shape {
                Shape::Struct(f) | Shape::Tuple(f) => f
                    .iter()
                    .try_for_each(|f| inside(f.offset, f.ty, "a field"))?,
                Shape::Enum { tag, variants, .. } => {
                    if tag.size as u64 > t.size {
                        return Err(format!(
                            "schema: the tag of enum {} lies outside it",
                            t.name
                        ));
                    }
                    variants
                        .iter()
                        .flat_map(|v| &v.fields)
                        .try_for_each(|f| inside(f.offset, f.ty, "a variant field"))?;
                }
                Shape::Array { elem, len } if !matches!(self.types[*elem].size.checked_mul(*len), Some(b) if b <= t.size) =>
                {
                    return Err(format!(
                        "schema: array type {i} is smaller than its elements"
                    ));
                }
                Shape::Option(inner) => inside(0, *inner, "the payload")?,
                Shape::Pointer { .. } if t.size != 8 => {
                    return Err(format!("schema: pointer type {i} is not 8 bytes"))
                }
                Shape::Collection { kind, .. } if t.size != kind.header_size() => {
                    return Err(format!(
                        "schema: {} is {} bytes, its header {}",
                        kind.name(),
                        t.size,
                        kind.header_size()
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// A type that contains itself inline has no finite size; only a damaged schema
    /// says so, and the walk would loop on it.
    fn check_no_inline_cycle(&self) -> R<()> {
        // 0 = unseen, 1 = on the stack, 2 = done.
        let mut state = vec![0u8; self.types.len()];
        for start in 0..self.types.len() {
            if state[start] != 0 {
                continue;
            }
            let mut stack = vec![(start, 0usize)];
            state[start] = 1;
            while let Some(&mut (t, ref mut next)) = stack.last_mut() {
                let kids = self.inline_children(t);
                if let Some(&(_, k)) = kids.get(*next) {
                    *next += 1;
                    match state[k] {
                        0 => {
                            state[k] = 1;
                            stack.push((k, 0));
                        }
                        1 => {
                            return Err(format!(
                                "schema: type {k} ({}) contains itself",
                                self.types[k].name
                            ))
                        }
                        _ => {}
                    }
                } else {
                    state[t] = 2;
                    stack.pop();
                }
            }
        }
        Ok(())
    }

    fn compute_reach(&self) -> Vec<bool> {
        let mut owns: Vec<bool> = self
            .types
            .iter()
            .map(|t| {
                matches!(
                    t.shape,
                    Shape::Pointer { .. } | Shape::Collection { .. } | Shape::Unknown(_)
                )
            })
            .collect();
        loop {
            let mut changed = false;
            for t in 0..self.types.len() {
                if !owns[t] && self.inline_children(t).iter().any(|&(_, k)| owns[k]) {
                    owns[t] = true;
                    changed = true;
                }
            }
            if !changed {
                return owns;
            }
        }
    }

    fn name_of(&self, t: usize, depth: usize) -> String {
        let ty = &self.types[t];
        if depth > 8 {
            return "..".into();
        }
        let name = |k: usize| self.name_of(k, depth + 1);
        match &ty.shape {
            Shape::Tuple(f) => {
                let parts: Vec<String> = f.iter().map(|f| name(f.ty)).collect();
                if parts.len() == 1 {
                    format!("({},)", parts[0])
                } else {
                    format!("({})", parts.join(", "))
                }
            }
            Shape::Array { elem, len } => format!("[{}; {len}]", name(*elem)),
            Shape::Option(inner) => format!("Option<{}>", name(*inner)),
            Shape::Pointer { owned, target } => format!(
                "{}<{}>",
                if *owned { "PBox" } else { "PPtr" },
                name(*target)
            ),
            Shape::Collection { kind, params } if !params.is_empty() => {
                format!(
                    "{}<{}>",
                    kind.name(),
                    params
                        .iter()
                        .map(|&p| name(p))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
            _ => ty.name.clone(),
        }
    }
}
