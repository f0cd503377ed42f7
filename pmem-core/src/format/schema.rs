//! Schema descriptors: a description of a persistent type's layout that a pool can store
//! and a tool can read without the application's code (field names, type names, offsets,
//! and whether each is plain data, a pointer or a collection).

use std::fmt::Write as _;

/// A function answering a type's schema; used for fields so recursive types work.
pub type SchemaFn = fn() -> &'static TypeSchema;

/// The layout of one persistent type.
#[derive(Debug)]
pub struct TypeSchema {
    /// The type's name.
    pub name: &'static str,
    /// `size_of`.
    pub size: usize,
    /// `align_of`.
    pub align: usize,
    /// The layout fingerprint.
    pub fingerprint: u64,
    /// What kind of type it is.
    pub shape: Shape,
}

/// One named (or numbered) field.
#[derive(Debug)]
pub struct FieldSchema {
    /// Field name (`"0"`, `"1"`... for tuple fields).
    pub name: &'static str,
    /// Byte offset in the containing type.
    pub offset: usize,
    /// The field's type.
    pub ty: SchemaFn,
    /// The names this field had before, from `#[pmem(renamed_from = "old")]`, in the
    /// order declared. Code only: not in the schema record, not in the fingerprint; the
    /// diagnosis at open (`TypeMismatch`) reads it to show a rename as one.
    pub renamed_from: &'static [&'static str],
}

/// One enum variant.
#[derive(Debug)]
pub struct VariantSchema {
    /// Variant name.
    pub name: &'static str,
    /// Discriminant value.
    pub discriminant: i128,
    /// Fields, with offsets from the start of the enum.
    pub fields: &'static [FieldSchema],
}

/// The kind of a persistent type.
#[derive(Debug)]
#[non_exhaustive]
pub enum Shape {
    /// An integer, float, `bool`, `char` or `()`: the name says which.
    Primitive,
    /// A struct (named or tuple fields).
    Struct(&'static [FieldSchema]),
    /// An enum with an explicit `repr`.
    Enum {
        /// The `repr` integer type.
        repr: &'static str,
        /// The variants.
        variants: &'static [VariantSchema],
    },
    /// `[T; len]`.
    Array {
        /// Element type.
        elem: SchemaFn,
        /// Length.
        len: usize,
    },
    /// A tuple.
    Tuple(&'static [FieldSchema]),
    /// `Option<T>`.
    Option(SchemaFn),
    /// A pool offset to a `T` (8 bytes, 0 = null).
    Pointer {
        /// Whether the pointer owns its target.
        owned: bool,
        /// Target type.
        target: SchemaFn,
    },
    /// A persistent collection; `kind` names it (`"PVec"`, `"PHashMap"`...).
    Collection {
        /// Collection name.
        kind: &'static str,
        /// Type parameters.
        params: &'static [SchemaFn],
    },
}

/// Encodes the type graph reachable from `root` as JSON: the self-description a pool
/// stores at creation, so that tools can walk it without the application's code.
///
/// ```text
/// {"root":0,"types":[{"name":"Bank","size":16,"align":8,"fingerprint":"00ab..",
///   "shape":{"kind":"struct","fields":[{"name":"total","offset":8,"type":1}]}}, ...]}
/// ```
///
/// # Examples
///
/// ```
/// use pmem_core::{schema::to_json, Persistent};
/// let j = to_json(<(u32, u64) as Persistent>::SCHEMA);
/// assert!(j.starts_with("{\"root\":0,\"types\":["));
/// assert!(j.contains("\"name\":\"u64\""));
/// ```
#[allow(clippy::too_many_lines)] // one writer: a queue and one arm per shape
pub fn to_json(root: &'static TypeSchema) -> String {
    let mut types: Vec<&'static TypeSchema> = Vec::new();
    let mut queue = vec![root];
    let index = |types: &mut Vec<&'static TypeSchema>,
                 queue: &mut Vec<&'static TypeSchema>,
                 t: &'static TypeSchema| {
        // Identity by address only: fingerprints are shallow (a box mixes in its
        // target's name and size), so two distinct types may share one; the set of
        // static schemas is finite, so recursion still terminates.
        if let Some(i) = types
            .iter()
            .chain(queue.iter())
            .position(|x| std::ptr::eq(*x, t))
        {
            // Position in types ++ queue equals the index it will get.
            return i;
        }
        queue.push(t);
        types.len() + queue.len() - 1
    };
    let mut out = String::from("{\"root\":0,\"types\":[");
    while !queue.is_empty() {
        let t = queue.remove(0);
        types.push(t);
        if types.len() > 1 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"name\":{},\"size\":{},\"align\":{},\"fingerprint\":\"{:016x}\",\"shape\":",
            json_str(t.name),
            t.size,
            t.align,
            t.fingerprint
        );
        let field_list = |fields: &'static [FieldSchema],
                          out: &mut String,
                          types: &mut Vec<&'static TypeSchema>,
                          queue: &mut Vec<&'static TypeSchema>| {
            out.push('[');
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let ti = index(types, queue, (f.ty)());
                let _ = write!(
                    out,
                    "{{\"name\":{},\"offset\":{},\"type\":{ti}}}",
                    json_str(f.name),
                    f.offset
                );
            }
            out.push(']');
        };
        match &t.shape {
            Shape::Primitive => out.push_str("{\"kind\":\"primitive\"}"),
            Shape::Struct(fields) => {
                out.push_str("{\"kind\":\"struct\",\"fields\":");
                field_list(fields, &mut out, &mut types, &mut queue);
                out.push('}');
            }
            Shape::Tuple(fields) => {
                out.push_str("{\"kind\":\"tuple\",\"fields\":");
                field_list(fields, &mut out, &mut types, &mut queue);
                out.push('}');
            }
            Shape::Enum { repr, variants } => {
                let _ = write!(
                    out,
                    "{{\"kind\":\"enum\",\"repr\":{},\"variants\":[",
                    json_str(repr)
                );
                for (i, v) in variants.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(
                        out,
                        "{{\"name\":{},\"discriminant\":{},\"fields\":",
                        json_str(v.name),
                        v.discriminant
                    );
                    field_list(v.fields, &mut out, &mut types, &mut queue);
                    out.push('}');
                }
                out.push_str("]}");
            }
            Shape::Array { elem, len } => {
                let ti = index(&mut types, &mut queue, elem());
                let _ = write!(out, "{{\"kind\":\"array\",\"elem\":{ti},\"len\":{len}}}");
            }
            Shape::Option(inner) => {
                let ti = index(&mut types, &mut queue, inner());
                let _ = write!(out, "{{\"kind\":\"option\",\"inner\":{ti}}}");
            }
            Shape::Pointer { owned, target } => {
                let ti = index(&mut types, &mut queue, target());
                let _ = write!(
                    out,
                    "{{\"kind\":\"pointer\",\"owned\":{owned},\"target\":{ti}}}"
                );
            }
            Shape::Collection { kind, params } => {
                let _ = write!(
                    out,
                    "{{\"kind\":\"collection\",\"collection\":{},\"params\":[",
                    json_str(kind)
                );
                for (i, p) in params.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let ti = index(&mut types, &mut queue, p());
                    out.push_str(&ti.to_string());
                }
                out.push_str("]}");
            }
        }
        out.push('}');
    }
    out.push_str("]}");
    out
}

fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}
