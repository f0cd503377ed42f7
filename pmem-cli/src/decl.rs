//! `pmem schema`: the stored schema as Rust declarations, one per struct and enum
//! reachable from the root, root first, then in the order a breadth-first walk of the
//! field types meets them. Field types use the schema's readable names
//! (`PHashMap<u64, Account>`, `Option<PBox<Node>>`); comments give each type's size and
//! alignment and each field's offset, which is what a pool's bytes are read by.

use std::collections::VecDeque;
use std::fmt::Write as _;

use crate::pool::numbered;
use crate::schema::{Field, Schema, Shape};

/// The declarations of every struct and enum reachable from the root.
pub(crate) fn declarations(s: &Schema) -> String {
    let mut out = String::new();
    let user = |t: usize| matches!(s.types[t].shape, Shape::Struct(_) | Shape::Enum { .. });
    if !user(s.root) {
        let ty = &s.types[s.root];
        let _ = writeln!(
            out,
            "type Root = {}; // {} bytes, align {}",
            s.names[s.root], ty.size, ty.align
        );
    }
    let mut seen = vec![false; s.types.len()];
    let mut queue = VecDeque::from([s.root]);
    seen[s.root] = true;
    let mut first = out.is_empty();
    while let Some(t) = queue.pop_front() {
        for (_, k) in s.inline_children(t).into_iter().chain(referenced(s, t)) {
            if !seen[k] {
                seen[k] = true;
                queue.push_back(k);
            }
        }
        if user(t) {
            if !first {
                out.push('\n');
            }
            first = false;
            declare(s, t, &mut out);
        }
    }
    out
}

/// Types a value of type `t` reaches other than inline: pointer targets and
/// collection parameters.
fn referenced(s: &Schema, t: usize) -> Vec<(u64, usize)> {
    match &s.types[t].shape {
        Shape::Pointer { target, .. } => vec![(0, *target)],
        Shape::Collection { params, .. } => params.iter().map(|&p| (0, p)).collect(),
        _ => Vec::new(),
    }
}

fn declare(s: &Schema, t: usize, out: &mut String) {
    let ty = &s.types[t];
    let same_name = s
        .types
        .iter()
        .filter(|o| o.name == ty.name && matches!(o.shape, Shape::Struct(_) | Shape::Enum { .. }))
        .count();
    // Two layouts of one name (a generic type used twice) are told apart by fingerprint.
    let fp = if same_name > 1 {
        format!(", fingerprint {}", ty.fingerprint)
    } else {
        String::new()
    };
    let root = if t == s.root { "root, " } else { "" };
    let bytes = if ty.size == 1 { "byte" } else { "bytes" };
    let head = format!("// {root}{} {bytes}, align {}{fp}\n", ty.size, ty.align);
    match &ty.shape {
        Shape::Struct(fields) => {
            out.push_str(&head);
            out.push_str("#[repr(C)]\n");
            let _ = write!(out, "struct {}", ty.name);
            if fields.is_empty() {
                out.push_str(";\n");
            } else if numbered(fields) {
                out.push_str("(\n");
                field_lines(s, fields, false, out);
                out.push_str(");\n");
            } else {
                out.push_str(" {\n");
                field_lines(s, fields, true, out);
                out.push_str("}\n");
            }
        }
        Shape::Enum { repr, variants, .. } => {
            out.push_str(&head);
            let _ = writeln!(out, "#[repr({repr})]");
            let _ = writeln!(out, "enum {} {{", ty.name);
            for v in variants {
                let fields = if v.fields.is_empty() {
                    String::new()
                } else if numbered(&v.fields) {
                    let parts: Vec<&str> =
                        v.fields.iter().map(|f| s.names[f.ty].as_str()).collect();
                    format!("({})", parts.join(", "))
                } else {
                    let parts: Vec<String> = v
                        .fields
                        .iter()
                        .map(|f| format!("{}: {}", f.name, s.names[f.ty]))
                        .collect();
                    format!(" {{ {} }}", parts.join(", "))
                };
                let _ = writeln!(out, "    {}{fields} = {},", v.name, v.discriminant);
            }
            out.push_str("}\n");
        }
        _ => {}
    }
}

/// `    name: Type, // offset N`, the comments aligned.
fn field_lines(s: &Schema, fields: &[Field], named: bool, out: &mut String) {
    let code: Vec<String> = fields
        .iter()
        .map(|f| {
            if named {
                format!("    {}: {},", f.name, s.names[f.ty])
            } else {
                format!("    {},", s.names[f.ty])
            }
        })
        .collect();
    let width = code.iter().map(|c| c.chars().count()).max().unwrap_or(0);
    for (c, f) in code.iter().zip(fields) {
        let pad = width - c.chars().count();
        let _ = writeln!(out, "{c}{} // offset {}", " ".repeat(pad), f.offset);
    }
}
