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
    /// (`pmem::migrate::auto`): a field added or moved, a size that follows from those,
    /// an enum variant added, an integer or float widened — anywhere, map keys
    /// included. It may still refuse one (a field type without `Default`, map keys
    /// made equal); it says so by path.
    pub fn looks_automatic(&self) -> bool {
        let c = self.change.as_str();
        if c.starts_with("field added")
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

    fn fields(&mut self, path: &str, fa: &[Field], fb: &[Field]) {
        for f in fa {
            match fb.iter().find(|g| g.name == f.name) {
                None => {
                    let t = self.old.describe(f.ty, 0);
                    self.report(
                        &format!("{path}.{}", f.name),
                        format!("field removed (was {t} at offset {})", f.offset),
                    );
                }
                Some(g) => {
                    if f.offset != g.offset {
                        self.report(
                            &format!("{path}.{}", f.name),
                            format!("field moved from offset {} to {}", f.offset, g.offset),
                        );
                    }
                    self.pair(format!("{path}.{}", f.name), f.ty, g.ty);
                }
            }
        }
        for g in fb {
            if !fa.iter().any(|f| f.name == g.name) {
                let t = self.new.describe(g.ty, 0);
                self.report(
                    &format!("{path}.{}", g.name),
                    format!("field added ({t} at offset {})", g.offset),
                );
            }
        }
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
}
