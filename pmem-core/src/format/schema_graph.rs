//! The type graph of a schema record (ARCHITECTURE §3.4) as data: parsed from the
//! record a pool stored (bounded, never panicking: the record comes from file bytes), or
//! built from a compiled type's `TypeSchema`. `open` compares the two
//! (`schema_diff.rs`); tools read the stored one through `pmem_core::inspect`.

use super::schema_json as json;
use crate::format::schema::{Shape, TypeSchema};

/// The type graph a pool stored at creation (its schema record), as read by
/// [`StoredSchema::parse`]: every type the root reaches, each once, children named by
/// their index in [`types`](Self::types). Every index is checked to be in range.
///
/// # Examples
///
/// ```
/// use pmem_core::{inspect::{StoredSchema, StoredShape}, schema::to_json, Persistent};
/// let s = StoredSchema::parse(&to_json(<(u32, [u8; 2]) as Persistent>::SCHEMA)).unwrap();
/// let root = &s.types[s.root];
/// assert_eq!((root.name.as_str(), root.size), ("tuple", 8));
/// let StoredShape::Tuple(fields) = &root.shape else { panic!() };
/// assert_eq!(s.types[fields[1].ty].name, "array");
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct StoredSchema {
    /// The index of the root type.
    pub root: usize,
    /// The types, by index.
    pub types: Vec<StoredType>,
}

/// The graph `open` compares (the stored one and the program's).
pub(crate) type Graph = StoredSchema;

/// One type of a [`StoredSchema`].
///
/// # Examples
///
/// ```
/// use pmem_core::{inspect::StoredSchema, schema::to_json, Persistent};
/// let s = StoredSchema::parse(&to_json(<u64 as Persistent>::SCHEMA)).unwrap();
/// let t = &s.types[s.root];
/// assert_eq!((t.name.as_str(), t.size, t.align), ("u64", 8, 8));
/// assert_eq!(t.fingerprint.len(), 16);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct StoredType {
    /// The name the type reported (`"Account"`, `"PVec"`, `"u64"`, `"tuple"`).
    pub name: String,
    /// `size_of`.
    pub size: u64,
    /// `align_of`.
    pub align: u64,
    /// The layout fingerprint as stored (16 hex digits; empty if the record has none).
    pub fingerprint: String,
    /// What kind of type, with its children.
    pub shape: StoredShape,
}

/// A named (struct) or numbered (tuple, `"0"`, `"1"`...) field of a [`StoredType`].
///
/// # Examples
///
/// ```
/// use pmem_core::{inspect::{StoredSchema, StoredShape}, schema::to_json, Persistent};
/// let s = StoredSchema::parse(&to_json(<(u8, u32) as Persistent>::SCHEMA)).unwrap();
/// let StoredShape::Tuple(f) = &s.types[s.root].shape else { panic!() };
/// assert_eq!((f[1].name.as_str(), f[1].offset), ("1", 4));
/// assert_eq!(s.types[f[1].ty].name, "u32");
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct StoredField {
    /// The field's name.
    pub name: String,
    /// Its offset in the containing type (or variant).
    pub offset: u64,
    /// Its type, an index into [`StoredSchema::types`].
    pub ty: usize,
    /// The names the field had before (`#[pmem(renamed_from = "old")]`): filled from
    /// a compiled type's schema, always empty in a parsed record (the record does not
    /// store renames).
    pub renamed_from: Vec<String>,
}

/// One variant of an enum [`StoredShape::Enum`].
///
/// # Examples
///
/// ```
/// use pmem_core::{inspect::{StoredSchema, StoredShape}, schema::to_json, Persistent};
/// let s = StoredSchema::parse(&to_json(<Option<u32> as Persistent>::SCHEMA)).unwrap();
/// // `Option` is its own shape, not an enum: no variants to read here.
/// assert!(matches!(s.types[s.root].shape, StoredShape::Option(_)));
/// let json = r#"{"root":0,"types":[{"name":"E","size":1,"align":1,"shape":{"kind":"enum",
///     "repr":"u8","variants":[{"name":"A","discriminant":3,"fields":[]}]}}]}"#;
/// let e = StoredSchema::parse(json).unwrap();
/// let StoredShape::Enum { variants, .. } = &e.types[0].shape else { panic!() };
/// assert_eq!((variants[0].name.as_str(), variants[0].discriminant), ("A", 3));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct StoredVariant {
    /// The variant's name.
    pub name: String,
    /// Its discriminant.
    pub discriminant: i128,
    /// Its fields (offsets from the start of the enum).
    pub fields: Vec<StoredField>,
}

/// What kind of type a [`StoredType`] is; children are indices into
/// [`StoredSchema::types`].
///
/// # Examples
///
/// ```
/// use pmem_core::{inspect::{StoredSchema, StoredShape}, schema::to_json, Persistent, PBox};
/// let s = StoredSchema::parse(&to_json(<PBox<[u16; 3]> as Persistent>::SCHEMA)).unwrap();
/// let StoredShape::Pointer { owned: true, target } = s.types[s.root].shape else { panic!() };
/// assert!(matches!(s.types[target].shape, StoredShape::Array { len: 3, .. }));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum StoredShape {
    /// A primitive (`u8`, `bool`, `char`...).
    Primitive,
    /// A struct and its fields.
    Struct(Vec<StoredField>),
    /// A tuple and its fields (`"0"`, `"1"`...).
    Tuple(Vec<StoredField>),
    /// An enum.
    Enum {
        /// The `repr` as written (`"u8"`, `"C, u32"`).
        repr: String,
        /// The variants in declaration order.
        variants: Vec<StoredVariant>,
    },
    /// `[elem; len]`.
    Array {
        /// The element type.
        elem: usize,
        /// The number of elements.
        len: u64,
    },
    /// `Option<inner>`.
    Option(usize),
    /// `PBox<target>` (`owned`) or `PPtr<target>`.
    Pointer {
        /// Whether the pointer owns its target.
        owned: bool,
        /// The target type.
        target: usize,
    },
    /// A collection (`kind` as `"PVec"`, `"PHashMap"`...) and its type parameters.
    Collection {
        /// The collection's name.
        kind: String,
        /// Its type parameters (element; or key, value).
        params: Vec<usize>,
    },
    /// A shape this build does not know (a newer pmem wrote the pool): its `kind`.
    Unknown(String),
}

impl StoredSchema {
    /// The graph of a compiled type. Nodes are keyed by the address of their static
    /// schema, so recursion terminates (finitely many statics) and no two distinct
    /// types are merged; a type that happens to appear twice is compared as one.
    pub(crate) fn of(root: &'static TypeSchema) -> StoredSchema {
        let mut types = Vec::new();
        let mut keys: Vec<*const TypeSchema> = Vec::new();
        let mut queue: Vec<&'static TypeSchema> = Vec::new();
        let mut index = |t: &'static TypeSchema, queue: &mut Vec<&'static TypeSchema>| {
            let k = std::ptr::from_ref(t);
            if let Some(i) = keys.iter().position(|x| std::ptr::eq(*x, k)) {
                return i;
            }
            keys.push(k);
            queue.push(t);
            keys.len() - 1
        };
        index(root, &mut queue);
        let mut next = 0;
        while next < queue.len() {
            let t = queue[next];
            next += 1;
            let mut fields = |fs: &'static [crate::format::schema::FieldSchema],
                              queue: &mut Vec<&'static TypeSchema>| {
                fs.iter()
                    .map(|f| StoredField {
                        name: f.name.to_string(),
                        offset: f.offset as u64,
                        ty: index((f.ty)(), queue),
                        renamed_from: f.renamed_from.iter().map(|o| (*o).to_string()).collect(),
                    })
                    .collect::<Vec<_>>()
            };
            let shape = match &t.shape {
                Shape::Primitive => StoredShape::Primitive,
                Shape::Struct(fs) => StoredShape::Struct(fields(fs, &mut queue)),
                Shape::Tuple(fs) => StoredShape::Tuple(fields(fs, &mut queue)),
                Shape::Enum { repr, variants } => StoredShape::Enum {
                    repr: (*repr).to_string(),
                    variants: variants
                        .iter()
                        .map(|v| StoredVariant {
                            name: v.name.to_string(),
                            discriminant: v.discriminant,
                            fields: fields(v.fields, &mut queue),
                        })
                        .collect(),
                },
                Shape::Array { elem, len } => StoredShape::Array {
                    elem: index(elem(), &mut queue),
                    len: *len as u64,
                },
                Shape::Option(inner) => StoredShape::Option(index(inner(), &mut queue)),
                Shape::Pointer { owned, target } => StoredShape::Pointer {
                    owned: *owned,
                    target: index(target(), &mut queue),
                },
                Shape::Collection { kind, params } => StoredShape::Collection {
                    kind: (*kind).to_string(),
                    params: params.iter().map(|p| index(p(), &mut queue)).collect(),
                },
            };
            types.push(StoredType {
                name: t.name.to_string(),
                size: t.size as u64,
                align: t.align as u64,
                fingerprint: format!("{:016x}", t.fingerprint),
                shape,
            });
        }
        StoredSchema { root: 0, types }
    }

    /// Parses a stored schema record (the JSON of [`schema::to_json`](crate::schema::to_json),
    /// as [`Inspector::schema_json`](crate::inspect::Inspector::schema_json) answers it).
    /// Bounded and never panicking: the record is data from a file. A shape this build
    /// does not know is kept as [`StoredShape::Unknown`].
    ///
    /// # Errors
    /// What is wrong, in words: `stored schema is not JSON: ...` for text that is not
    /// JSON, `stored schema: ...` for JSON that is not a schema (a missing key, a type
    /// index out of range).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{inspect::StoredSchema, schema::to_json, Persistent};
    /// let json = to_json(<[u8; 4] as Persistent>::SCHEMA);
    /// assert_eq!(StoredSchema::parse(&json).unwrap().types.len(), 2);
    /// assert!(StoredSchema::parse("X").unwrap_err().starts_with("stored schema is not JSON"));
    /// let bad = json.replace("\"elem\":1", "\"elem\":9");
    /// assert!(StoredSchema::parse(&bad).unwrap_err().contains("out of range"));
    /// ```
    pub fn parse(json: &str) -> Result<StoredSchema, String> {
        Self::read(json, false).map_err(|(syntax, e)| {
            if syntax {
                format!("stored schema is not JSON: {e}")
            } else {
                format!("stored schema: {e}")
            }
        })
    }

    /// Parses a stored schema record for `open`: as [`parse`](Self::parse), but a
    /// shape this build does not know is an error (`unknown type kind "..."`), and the
    /// messages carry no prefix.
    pub(crate) fn from_json(text: &str) -> Result<StoredSchema, String> {
        Self::read(text, true).map_err(|(_, e)| e)
    }

    /// The parser behind [`parse`](Self::parse) and `from_json`. `strict` refuses
    /// unknown shapes; an error says whether the text was not JSON at all (`true`).
    fn read(text: &str, strict: bool) -> Result<StoredSchema, (bool, String)> {
        let v = json::parse(text).map_err(|e| (true, e))?;
        Self::from_value(&v, strict).map_err(|e| (false, e))
    }

    fn from_value(v: &json::Value, strict: bool) -> Result<StoredSchema, String> {
        let root = v.get("root")?.index()?;
        let list = v.get("types")?.array()?;
        let mut types = Vec::with_capacity(list.len());
        for t in list {
            let fields = |v: &json::Value| -> Result<Vec<StoredField>, String> {
                v.array()?
                    .iter()
                    .map(|f| {
                        Ok(StoredField {
                            name: f.get("name")?.string()?.to_string(),
                            offset: f.get("offset")?.unsigned()?,
                            ty: f.get("type")?.index()?,
                            renamed_from: Vec::new(),
                        })
                    })
                    .collect()
            };
            let s = t.get("shape")?;
            let shape = match s.get("kind")?.string()? {
                "primitive" => StoredShape::Primitive,
                "struct" => StoredShape::Struct(fields(s.get("fields")?)?),
                "tuple" => StoredShape::Tuple(fields(s.get("fields")?)?),
                "enum" => StoredShape::Enum {
                    repr: s.get("repr")?.string()?.to_string(),
                    variants: s
                        .get("variants")?
                        .array()?
                        .iter()
                        .map(|v| {
                            Ok(StoredVariant {
                                name: v.get("name")?.string()?.to_string(),
                                discriminant: v.get("discriminant")?.integer()?,
                                fields: fields(v.get("fields")?)?,
                            })
                        })
                        .collect::<Result<_, String>>()?,
                },
                "array" => StoredShape::Array {
                    elem: s.get("elem")?.index()?,
                    len: s.get("len")?.unsigned()?,
                },
                "option" => StoredShape::Option(s.get("inner")?.index()?),
                "pointer" => StoredShape::Pointer {
                    owned: s.get("owned")?.boolean()?,
                    target: s.get("target")?.index()?,
                },
                "collection" => StoredShape::Collection {
                    kind: s.get("collection")?.string()?.to_string(),
                    params: s
                        .get("params")?
                        .array()?
                        .iter()
                        .map(json::Value::index)
                        .collect::<Result<_, String>>()?,
                },
                other if strict => return Err(format!("unknown type kind {other:?}")),
                other => StoredShape::Unknown(other.to_string()),
            };
            types.push(StoredType {
                name: t.get("name")?.string()?.to_string(),
                size: t.get("size")?.unsigned()?,
                align: t.get("align")?.unsigned()?,
                // Optional: only tools show it; identity is the whole graph.
                fingerprint: t
                    .get("fingerprint")
                    .and_then(json::Value::string)
                    .unwrap_or_default()
                    .to_string(),
                shape,
            });
        }
        let g = StoredSchema { root, types };
        g.check_indices()?;
        Ok(g)
    }

    fn check_indices(&self) -> Result<(), String> {
        let n = self.types.len();
        let ok = |i: usize| {
            if i < n {
                Ok(())
            } else {
                Err(format!("type index {i} out of range ({n} types)"))
            }
        };
        ok(self.root)?;
        for t in &self.types {
            match &t.shape {
                StoredShape::Primitive | StoredShape::Unknown(_) => {}
                StoredShape::Struct(fs) | StoredShape::Tuple(fs) => {
                    fs.iter().try_for_each(|f| ok(f.ty))?;
                }
                StoredShape::Enum { variants, .. } => variants
                    .iter()
                    .flat_map(|v| &v.fields)
                    .try_for_each(|f| ok(f.ty))?,
                StoredShape::Array { elem: i, .. }
                | StoredShape::Option(i)
                | StoredShape::Pointer { target: i, .. } => ok(*i)?,
                StoredShape::Collection { params, .. } => params.iter().try_for_each(|p| ok(*p))?,
            }
        }
        Ok(())
    }

    /// A short Rust-like name of type `i` (`PVec<Account>`, `[u8; 4]`, `Option<PBox<Node>>`).
    pub(crate) fn describe(&self, i: usize, depth: u32) -> String {
        let t = &self.types[i];
        if depth > 3 {
            return t.name.clone();
        }
        let d = |j: usize| self.describe(j, depth + 1);
        match &t.shape {
            StoredShape::Array { elem, len } => format!("[{}; {len}]", d(*elem)),
            StoredShape::Option(x) => format!("Option<{}>", d(*x)),
            StoredShape::Pointer { target, .. } => format!("{}<{}>", t.name, d(*target)),
            StoredShape::Collection { kind, params } if params.is_empty() => kind.clone(),
            StoredShape::Collection { kind, params } => format!(
                "{kind}<{}>",
                params.iter().map(|p| d(*p)).collect::<Vec<_>>().join(", ")
            ),
            StoredShape::Tuple(fs) => format!(
                "({}{})",
                fs.iter().map(|f| d(f.ty)).collect::<Vec<_>>().join(", "),
                if fs.len() == 1 { "," } else { "" }
            ),
            StoredShape::Primitive
            | StoredShape::Struct(_)
            | StoredShape::Enum { .. }
            | StoredShape::Unknown(_) => t.name.clone(),
        }
    }
}
