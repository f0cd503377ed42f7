//! Full-depth type identity: the type graph stored in a pool (its schema record,
//! ARCHITECTURE §3.4) compared with the graph of the type a program opens it as.
//!
//! A header fingerprint covers only the root's own layout; a pointer or collection
//! field mixes in its element's name and size, not its element's fields. Opening a
//! pool of `PVec<[u8; 4]>` as `PVec<[bool; 4]>` would then hand safe code `bool`s of 2.
//! So `open` compares the *whole* graph, through boxes, pointers, options, arrays,
//! tuples, enums and collection parameters, recursive types included: both graphs are
//! walked in step from their roots, a pair of nodes already being compared counts as
//! equal (that is what makes recursion terminate: the comparison is a bisimulation),
//! and every difference is reported with the path that reaches it
//! (`root.accounts[].tag: u8 → bool`).
//!
//! The stored graph comes from file bytes: its parser (`schema_graph.rs`) bounds every
//! index and never panics (a damaged record is `Error::Corrupted`).

use std::collections::HashSet;
use std::fmt;

use super::schema_graph::{
    Graph, StoredField as Field, StoredShape as NodeShape, StoredType as Node,
    StoredVariant as Variant,
};

/// One way a stored type differs from the type a program opens it as.
///
/// # Examples
///
/// ```
/// # fn demo(e: pmem_core::Error) {
/// if let pmem_core::Error::TypeMismatch { differences, .. } = e {
///     for d in &differences {
///         println!("{}: {}", d.path, d.change);
///     }
/// }
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeDifference {
    /// Where, from the root: `root.accounts[].tag`.
    pub path: String,
    /// What changed, in words: `u8 → bool`, `field added (i64 at offset 16)`.
    pub change: String,
}

impl fmt::Display for TypeDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.change)
    }
}

impl TypeDifference {
    /// Whether this is a change of a kind an automatic migration makes
    /// (`pmem::migrate::auto`): a field added, moved or renamed by
    /// `#[pmem(renamed_from)]`, a size that follows from those, an enum variant added,
    /// an integer or float widened — anywhere, map keys included. It may still refuse
    /// one (a field type without `Default`, map keys made equal); it says so by path.
    /// A `renamed?` guess (a field removed and one of the same type added, no rename
    /// declared) is not: undeclared, it migrates as a removal.
    pub fn looks_automatic(&self) -> bool {
        let c = self.change.as_str();
        if c.starts_with("renamed `")
            || c.starts_with("field added")
            || c.starts_with("field moved")
            || c.starts_with("size/alignment")
            || c.starts_with("variant added")
        {
            return true;
        }
        let Some((from, to)) = c.split_once(" → ") else {
            return false;
        };
        widens(from, to)
    }
}

/// Whether the primitive named `from` widens losslessly into `to`: an integer into a
/// wider unsigned or signed one (unsigned into wider signed too), `f32` into `f64`.
pub(super) fn widens(from: &str, to: &str) -> bool {
    match (int_class(from), int_class(to)) {
        (Some((fs, fb)), Some((ts, tb))) => tb > fb && (ts || !fs),
        _ => from == "f32" && to == "f64",
    }
}

/// The width class of a primitive: (signed, bits) for integers, `None` otherwise.
pub(super) fn int_class(name: &str) -> Option<(bool, u32)> {
    Some(match name {
        "u8" => (false, 8),
        "u16" => (false, 16),
        "u32" => (false, 32),
        "u64" | "usize" => (false, 64),
        "u128" => (false, 128),
        "i8" => (true, 8),
        "i16" => (true, 16),
        "i32" => (true, 32),
        "i64" | "isize" => (true, 64),
        "i128" => (true, 128),
        _ => return None,
    })
}

/// Every difference between the stored graph `old` and the compiled graph `new`, by
/// path from the root; empty when a program may read the pool as `new`.
pub(crate) fn diff(old: &Graph, new: &Graph) -> Vec<TypeDifference> {
    let mut cx = Diff {
        old,
        new,
        seen: HashSet::new(),
        out: Vec::new(),
    };
    cx.pair("root".to_string(), old.root, new.root);
    cx.out
}

/// The differences between stored type `a` of `old` and the root of `new`.
pub(super) fn diff_at(old: &Graph, a: usize, new: &Graph) -> Vec<TypeDifference> {
    let mut cx = Diff {
        old,
        new,
        seen: HashSet::new(),
        out: Vec::new(),
    };
    cx.pair(String::new(), a, new.root);
    cx.out
}

struct Diff<'a> {
    old: &'a Graph,
    new: &'a Graph,
    seen: HashSet<(usize, usize)>,
    out: Vec<TypeDifference>,
}

impl Diff<'_> {
    fn report(&mut self, path: &str, change: String) {
        // A runaway graph (hostile file) is bounded: the first differences suffice.
        if self.out.len() < 64 {
            self.out.push(TypeDifference {
                path: path.to_string(),
                change,
            });
        }
    }

    fn retyped(&mut self, path: &str, a: usize, b: usize) {
        let change = format!("{} → {}", self.old.describe(a, 0), self.new.describe(b, 0));
        self.report(path, change);
    }

    /// Compares stored type `a` with compiled type `b`, reached by `path`.
    fn pair(&mut self, path: String, a: usize, b: usize) {
        if !self.seen.insert((a, b)) {
            return; // already compared (or being compared, for recursive types)
        }
        let (x, y) = (&self.old.types[a], &self.new.types[b]);
        match (&x.shape, &y.shape) {
            (NodeShape::Primitive, NodeShape::Primitive) => {
                if x.name != y.name || x.size != y.size || x.align != y.align {
                    self.retyped(&path, a, b);
                }
            }
            (NodeShape::Struct(fa), NodeShape::Struct(fb)) => {
                if x.name != y.name {
                    self.retyped(&path, a, b);
                    return;
                }
                self.layout(&path, x, y);
                self.fields(&path, fa, fb);
            }
            (NodeShape::Tuple(fa), NodeShape::Tuple(fb)) => {
                if fa.len() != fb.len() {
                    self.retyped(&path, a, b);
                    return;
                }
                self.layout(&path, x, y);
                self.fields(&path, fa, fb);
            }
            (
                NodeShape::Enum {
                    repr: ra,
                    variants: va,
                },
                NodeShape::Enum {
                    repr: rb,
                    variants: vb,
                },
            ) => {
                if x.name != y.name {
                    self.retyped(&path, a, b);
                    return;
                }
                if ra != rb {
                    self.report(&path, format!("enum repr {ra} → {rb}"));
                }
                self.layout(&path, x, y);
                self.variants(&path, va, vb);
            }
            (NodeShape::Array { elem: ea, len: la }, NodeShape::Array { elem: eb, len: lb }) => {
                if la != lb {
                    self.retyped(&path, a, b);
                    return;
                }
                self.pair(format!("{path}[]"), *ea, *eb);
            }
            (NodeShape::Option(ia), NodeShape::Option(ib)) => {
                self.layout(&path, x, y);
                self.pair(path, *ia, *ib);
            }
            (
                NodeShape::Pointer {
                    owned: oa,
                    target: ta,
                },
                NodeShape::Pointer {
                    owned: ob,
                    target: tb,
                },
            ) => {
                if oa != ob || x.name != y.name {
                    self.retyped(&path, a, b);
                    return;
                }
                self.pair(path, *ta, *tb);
            }
            (
                NodeShape::Collection {
                    kind: ka,
                    params: pa,
                },
                NodeShape::Collection {
                    kind: kb,
                    params: pb,
                },
            ) => {
                if ka != kb || pa.len() != pb.len() || x.size != y.size {
                    self.retyped(&path, a, b);
                    return;
                }
                let maps = pa.len() == 2;
                for (i, (pa, pb)) in pa.iter().zip(pb).enumerate() {
                    let p = match (maps, i) {
                        (true, 0) => format!("{path}{{key}}"),
                        _ => format!("{path}[]"),
                    };
                    self.pair(p, *pa, *pb);
                }
            }
            _ => self.retyped(&path, a, b),
        }
    }

    fn layout(&mut self, path: &str, x: &Node, y: &Node) {
        if x.size != y.size || x.align != y.align {
            self.report(
                path,
                format!(
                    "size/alignment {}/{} → {}/{}",
                    x.size, x.align, y.size, y.align
                ),
            );
        }
    }

    /// Compares the fields of a struct, tuple or variant. Each new field is matched
    /// as an automatic migration matches it (`FieldMatcher::take`): the stored field of
    /// its name, else of one of its `renamed_from` names, a declared rename. A stored
    /// field nobody takes and a new field that takes none, of the same type, are shown
    /// as one line, `renamed?`, with the attribute that would declare the rename.
    fn fields(&mut self, path: &str, fa: &[Field], fb: &[Field]) {
        let source: Vec<Option<usize>> = fb
            .iter()
            .map(|g| {
                fa.iter().position(|f| f.name == g.name).or_else(|| {
                    g.renamed_from
                        .iter()
                        .find_map(|o| fa.iter().position(|f| f.name == *o))
                })
            })
            .collect();
        // A removed field's likely new name: the first added field of the same type.
        let mut guess: Vec<Option<usize>> = vec![None; fa.len()];
        let mut guessed = vec![false; fb.len()];
        for (i, f) in fa.iter().enumerate() {
            if source.contains(&Some(i)) {
                continue;
            }
            let same = (0..fb.len())
                .find(|&j| source[j].is_none() && !guessed[j] && self.same_type(f.ty, fb[j].ty));
            if let Some(j) = same {
                guessed[j] = true;
                guess[i] = Some(j);
            }
        }
        // The new field that takes stored field `i`: the one of its name, else the first
        // that names it in `renamed_from`. Another that names it too gets a copy.
        let taker = |i: usize| {
            (0..fb.len())
                .find(|&j| source[j] == Some(i) && fb[j].name == fa[i].name)
                .or_else(|| source.iter().position(|s| *s == Some(i)))
        };
        for (i, f) in fa.iter().enumerate() {
            if let Some(j) = taker(i) {
                let g = &fb[j];
                let p = format!("{path}.{}", g.name);
                if g.name != f.name {
                    self.report(&p, format!("renamed `{}` → `{}`", f.name, g.name));
                }
                if f.offset != g.offset {
                    self.report(
                        &p,
                        format!("field moved from offset {} to {}", f.offset, g.offset),
                    );
                }
                self.pair(p, f.ty, g.ty);
            } else if let Some(j) = guess[i] {
                let g = &fb[j];
                let t = self.old.describe(f.ty, 0);
                self.report(
                    &format!("{path}.{}", g.name),
                    format!(
                        "renamed? `{old}` ({t} at offset {}) → `{new}` (at offset {}): if it \
                         is a rename, add #[pmem(renamed_from = \"{old}\")] to `{new}`; \
                         otherwise `{old}` was removed and `{new}` added",
                        f.offset,
                        g.offset,
                        old = f.name,
                        new = g.name,
                    ),
                );
            } else {
                let t = self.old.describe(f.ty, 0);
                self.report(
                    &format!("{path}.{}", f.name),
                    format!("field removed (was {t} at offset {})", f.offset),
                );
            }
        }
        for (j, g) in fb.iter().enumerate() {
            if let Some(i) = source[j].filter(|&i| taker(i) != Some(j)) {
                self.report(
                    &format!("{path}.{}", g.name),
                    format!(
                        "field added, a copy of `{}` (named by its renamed_from, and taken \
                         by another field too)",
                        fa[i].name
                    ),
                );
                continue;
            }
            if source[j].is_none() && !guessed[j] {
                let t = self.new.describe(g.ty, 0);
                self.report(
                    &format!("{path}.{}", g.name),
                    format!("field added ({t} at offset {})", g.offset),
                );
            }
        }
    }

    /// Whether stored type `a` and compiled type `b` are the same type (no difference
    /// anywhere below them): a comparison of its own, whose findings are not reported.
    fn same_type(&self, a: usize, b: usize) -> bool {
        let mut cx = Diff {
            old: self.old,
            new: self.new,
            seen: HashSet::new(),
            out: Vec::new(),
        };
        cx.pair(String::new(), a, b);
        cx.out.is_empty()
    }

    fn variants(&mut self, path: &str, va: &[Variant], vb: &[Variant]) {
        for (i, v) in va.iter().enumerate() {
            let p = format!("{path}::{}", v.name);
            match vb.iter().position(|w| w.name == v.name) {
                None => self.report(&p, "variant removed".to_string()),
                Some(j) => {
                    let w = &vb[j];
                    if v.discriminant != w.discriminant {
                        self.report(
                            &p,
                            format!(
                                "discriminant {} → {}{}",
                                v.discriminant,
                                w.discriminant,
                                if i == j { "" } else { " (variants reordered)" }
                            ),
                        );
                    }
                    self.fields(&p, &v.fields, &w.fields);
                }
            }
        }
        for w in vb {
            if !va.iter().any(|v| v.name == w.name) {
                self.report(
                    &format!("{path}::{}", w.name),
                    format!("variant added (discriminant {})", w.discriminant),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::schema::{FieldSchema, Shape, TypeSchema};
    use crate::Persistent;

    fn stored<T: Persistent>() -> Graph {
        Graph::from_json(&crate::format::schema::to_json(T::SCHEMA)).unwrap()
    }

    #[test]
    fn identical_types_have_no_differences() {
        type T = (u32, [Option<u64>; 3], bool);
        assert!(diff(&stored::<T>(), &Graph::of(T::SCHEMA)).is_empty());
    }

    #[test]
    fn an_array_element_change_is_reported_by_path() {
        let d = diff(&stored::<[u8; 4]>(), &Graph::of(<[bool; 4]>::SCHEMA));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].path, "root[]");
        assert_eq!(d[0].change, "u8 → bool");
    }

    #[test]
    fn widening_and_added_fields_look_automatic_narrowing_does_not() {
        let d = diff(&stored::<(u8, i16)>(), &Graph::of(<(u16, i64)>::SCHEMA));
        assert!(
            !d.is_empty() && d.iter().all(TypeDifference::looks_automatic),
            "{d:?}"
        );
        let d = diff(&stored::<(u64, u8)>(), &Graph::of(<(u32, u8)>::SCHEMA));
        assert!(d.iter().any(|x| !x.looks_automatic()), "{d:?}");
    }

    #[test]
    fn a_damaged_record_is_an_error_not_a_panic() {
        let good = crate::format::schema::to_json(<(u32, u64) as Persistent>::SCHEMA);
        for cut in 0..good.len() {
            let _ = Graph::from_json(&good[..cut]);
        }
        assert!(Graph::from_json(&good.replace("\"type\":1", "\"type\":99")).is_err());
        assert!(Graph::from_json(&"[".repeat(10_000)).is_err());
    }

    /// A struct `S` (8 bytes) of `fields`, as a compiled schema.
    fn struct_s(fields: Vec<FieldSchema>) -> &'static TypeSchema {
        Box::leak(Box::new(TypeSchema {
            name: "S",
            size: 8,
            align: 4,
            fingerprint: 0,
            shape: Shape::Struct(Box::leak(fields.into_boxed_slice())),
        }))
    }

    fn field(
        name: &'static str,
        renamed_from: &'static [&'static str],
        offset: usize,
        ty: crate::format::schema::SchemaFn,
    ) -> FieldSchema {
        FieldSchema {
            name,
            offset,
            ty,
            renamed_from,
        }
    }

    /// The differences of a pool stored as `old` opened as `new`.
    fn diffs(old: &'static TypeSchema, new: &'static TypeSchema) -> Vec<TypeDifference> {
        let stored = Graph::from_json(&crate::format::schema::to_json(old)).unwrap();
        diff(&stored, &Graph::of(new))
    }

    fn lines(d: &[TypeDifference]) -> Vec<String> {
        d.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_declared_rename_is_one_automatic_line_and_its_type_change_follows_it() {
        let old = struct_s(vec![
            field("id", &[], 0, <u32 as Persistent>::schema),
            field("n", &[], 4, <u8 as Persistent>::schema),
        ]);
        let new = struct_s(vec![
            field("n", &[], 0, <u8 as Persistent>::schema),
            field("number", &["key", "id"], 4, <u64 as Persistent>::schema),
        ]);
        let d = diffs(old, new);
        assert_eq!(
            lines(&d),
            [
                "root.number: renamed `id` → `number`",
                "root.number: field moved from offset 0 to 4",
                "root.number: u32 → u64",
                "root.n: field moved from offset 4 to 0",
            ],
        );
        assert!(d.iter().all(TypeDifference::looks_automatic), "{d:?}");
    }

    #[test]
    fn a_removed_and_an_added_field_of_the_same_type_are_a_rename_guess() {
        let old = struct_s(vec![
            field("owner", &[], 0, <u32 as Persistent>::schema),
            field("gone", &[], 4, <u16 as Persistent>::schema),
        ]);
        let new = struct_s(vec![
            field("holder", &[], 0, <u32 as Persistent>::schema),
            field("fresh", &[], 4, <i16 as Persistent>::schema),
        ]);
        let d = diffs(old, new);
        assert_eq!(
            lines(&d),
            [
                "root.holder: renamed? `owner` (u32 at offset 0) → `holder` (at offset 0): if it \
                 is a rename, add #[pmem(renamed_from = \"owner\")] to `holder`; otherwise \
                 `owner` was removed and `holder` added",
                "root.gone: field removed (was u16 at offset 4)",
                "root.fresh: field added (i16 at offset 4)",
            ],
        );
        assert!(!d[0].looks_automatic(), "{d:?}");
    }

    #[test]
    fn a_stored_field_named_by_two_new_fields_is_taken_by_its_namesake_and_copied_by_the_other() {
        let old = struct_s(vec![field("id", &[], 0, <u32 as Persistent>::schema)]);
        let new = struct_s(vec![
            field("copy", &["id"], 0, <u32 as Persistent>::schema),
            field("id", &[], 4, <u32 as Persistent>::schema),
        ]);
        assert_eq!(
            lines(&diffs(old, new)),
            [
                "root.id: field moved from offset 0 to 4",
                "root.copy: field added, a copy of `id` (named by its renamed_from, and taken \
                 by another field too)",
            ],
        );
    }
}
