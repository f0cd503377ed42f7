//! The modules of `pmem-core` depend on each other without cycles, at two levels
//! (ARCHITECTURE §15):
//!
//! - the top-level modules (`src/NAME.rs` or `src/NAME/`): each layer builds only on the
//!   ones below it;
//! - inside every folder module (`src/F/`, `src/F/G/`, …), its files and subfolders: a
//!   file names a sibling as `crate::F::NAME` or, directly in the folder, `super::NAME`,
//!   where `NAME` is the sibling itself or an item the folder's `mod.rs` re-exports from
//!   it (`pub use check::Visitor` makes `crate::types::Visitor` a reference to
//!   `check.rs`).
//!
//! The test reads the sources, finds those paths outside comments (in `use` lines and
//! inline paths alike, `{a, b}` groups included, across lines), and fails naming the
//! cycle when a graph has one. `mod.rs` and `lib.rs` only declare and re-export, so
//! they are not nodes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a line, without its `//` comment (doc comments included).
fn code(line: &str) -> &str {
    match line.find("//") {
        Some(i) => &line[..i],
        None => line,
    }
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The text without `//` comments (doc comments included), lines kept.
fn strip_comments(text: &str) -> String {
    text.lines().map(|l| code(l).to_string() + "\n").collect()
}

/// The first segment of every path that follows `prefix` in `text` (comments already
/// stripped): `prefix a::B`, and each entry of a group `prefix {a, b::{c, d}}`, which
/// may span lines.
fn paths_after(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find(prefix) {
        // Only where `prefix` starts a path (`xsuper::` or `a::crate::` are not ours).
        let before = rest[..i].chars().next_back();
        let after = &rest[i + prefix.len()..];
        rest = after;
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        if let Some(group) = after.strip_prefix('{') {
            // Split the group's top-level entries at commas outside nested braces.
            let (mut depth, mut start) = (0usize, 0usize);
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        out.insert(ident_at(group[start..j].trim()).to_string());
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.insert(ident_at(group[start..j].trim()).to_string());
                        start = j + 1;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident_at(after).to_string());
        }
    }
    out.remove("");
    out
}

/// Every top-level module named after `crate::` in `text`.
fn referenced(text: &str) -> BTreeSet<String> {
    paths_after(&strip_comments(text), "crate::")
}

/// The graph of top-level modules of the crate whose sources are in `src`.
fn module_graph(src: &Path) -> Graph {
    folder_graph(src, "crate::", |_| BTreeMap::new())
}

/// The graph of the children (files `NAME.rs`, folders `NAME/`) of the module whose
/// sources are in `dir` and whose path is `prefix` (`crate::`, `crate::types::`).
/// `reexports` maps a name the folder's `mod.rs` re-exports to the child it comes from.
fn folder_graph(
    dir: &Path,
    prefix: &str,
    reexports: impl Fn(&Path) -> BTreeMap<String, String>,
) -> Graph {
    let mut files = Vec::new();
    rust_files(dir, &mut files);
    let child_of = |p: &Path| -> Option<String> {
        let rel = p.strip_prefix(dir).unwrap();
        let first = rel.components().next()?.as_os_str().to_str()?.to_string();
        if first == "lib.rs" || first == "mod.rs" {
            return None; // the module's own root only declares and re-exports
        }
        Some(first.trim_end_matches(".rs").to_string())
    };
    let names = reexports(dir);
    let mut graph = Graph::new();
    for f in &files {
        if let Some(m) = child_of(f) {
            graph.entry(m).or_default();
        }
    }
    for f in &files {
        let Some(from) = child_of(f) else { continue };
        let text = strip_comments(&std::fs::read_to_string(f).unwrap());
        let mut refs = paths_after(&text, prefix);
        // `super::` from a file directly in the folder names a sibling.
        if prefix != "crate::" && f.parent() == Some(dir) {
            refs.extend(paths_after(&text, "super::"));
        }
        for name in refs {
            let to = if graph.contains_key(&name) {
                name
            } else if let Some(child) = names.get(&name) {
                child.clone()
            } else {
                continue;
            };
            if to != from {
                graph.get_mut(&from).unwrap().insert(to);
            }
        }
    }
    graph
}

/// The names `dir/mod.rs` re-exports (`pub use child::{A, B}`, `pub(crate) use
/// child::C;`), each mapped to the child it comes from.
fn mod_reexports(dir: &Path) -> BTreeMap<String, String> {
    let text = strip_comments(&std::fs::read_to_string(dir.join("mod.rs")).unwrap_or_default());
    let mut out = BTreeMap::new();
    for stmt in text.split(';') {
        let stmt = stmt.trim();
        let Some(i) = stmt.find("use ") else { continue };
        if !stmt[..i].trim_start().starts_with("pub") {
            continue;
        }
        let path = stmt[i + 4..].trim();
        let child = ident_at(path);
        let Some(tail) = path[child.len()..].strip_prefix("::") else {
            continue;
        };
        let items: Vec<&str> = match tail.strip_prefix('{') {
            Some(g) => g.trim_end_matches('}').split(',').collect(),
            None => vec![tail],
        };
        for item in items {
            // `a::b::C` re-exports `C`; `X as Y` re-exports `Y`.
            let item = item.trim();
            let name = match item.rsplit_once(" as ") {
                Some((_, alias)) => alias.trim(),
                None => item.rsplit("::").next().unwrap_or("").trim(),
            };
            if !name.is_empty() {
                out.insert(name.to_string(), child.to_string());
            }
        }
    }
    out
}

/// Every folder module below `src` (a folder with a `mod.rs`), as `(dir, path prefix)`.
fn folder_modules(src: &Path) -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && path.join("mod.rs").exists() {
                let name = path.file_name().unwrap().to_str().unwrap().to_string();
                let p = format!("{prefix}{name}::");
                out.push((path.clone(), p.clone()));
                walk(&path, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(src, "crate::", &mut out);
    out.sort();
    out
}

/// A cycle of `graph` as a path `a -> b -> ... -> a`, if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    fn visit(
        n: &str,
        graph: &Graph,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(n.to_string(), Mark::Active);
        stack.push(n.to_string());
        for m in &graph[n] {
            match marks[m.as_str()] {
                Mark::Active => {
                    let start = stack.iter().position(|s| s == m).unwrap();
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(c) = visit(m, graph, marks, stack) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(n.to_string(), Mark::Done);
        None
    }
    let mut marks: BTreeMap<String, Mark> = graph.keys().map(|k| (k.clone(), Mark::New)).collect();
    for n in graph.keys() {
        if marks[n.as_str()] == Mark::New {
            if let Some(c) = visit(n, graph, &mut marks, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn top_level_modules_depend_on_each_other_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = module_graph(&src);
    // The parse found the layers (a broken parse must not pass as "no cycles").
    for (from, to) in [("engine", "heap"), ("engine", "media"), ("pool", "engine")] {
        assert!(
            graph[from].contains(to),
            "expected {from} -> {to} in {graph:?}"
        );
    }
    eprintln!("{graph:#?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle between modules: {}", cycle.join(" -> "));
    }
}

/// File-level cycles known and not yet broken, each as the one edge `(folder, from, to)`
/// whose removal breaks it. The test fails on any other cycle, and when one of these
/// edges is gone (then delete it here: the list only shrinks). None is left.
const KNOWN_CYCLE_EDGES: &[(&str, &str, &str)] = &[];

#[test]
fn the_files_of_each_folder_module_depend_on_each_other_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let folders = folder_modules(&src);
    let mut found = Vec::new();
    for (dir, prefix) in &folders {
        let mut graph = folder_graph(dir, prefix, mod_reexports);
        eprintln!("{prefix} {graph:#?}");
        for &(folder, from, to) in KNOWN_CYCLE_EDGES {
            if folder == prefix {
                assert!(
                    graph.get_mut(from).is_some_and(|e| e.remove(to)),
                    "the known edge {folder}{from} -> {to} is gone: delete it from KNOWN_CYCLE_EDGES"
                );
            }
        }
        if let Some(cycle) = find_cycle(&graph) {
            found.push(format!("{prefix}: {}", cycle.join(" -> ")));
        }
        if prefix == "crate::engine::" {
            // The parse found the engine's files (a broken parse must not pass).
            assert!(graph["commit"].contains("state"), "{graph:?}");
        }
        if prefix == "crate::types::" {
            // Through a re-export: `crate::types::Persistent` is `psafe.rs`.
            assert!(graph["free"].contains("psafe"), "{graph:?}");
        }
    }
    assert!(folders.len() >= 8, "{folders:?}");
    assert!(
        found.is_empty(),
        "import cycles inside folders:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let text = "use crate::b::X;\nlet y = crate::{c, d::E};\n// crate::e is a comment";
    assert_eq!(
        referenced(text),
        ["b", "c", "d"].map(String::from).into_iter().collect()
    );
    let mut graph = Graph::new();
    for (a, b) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        graph.entry(a.into()).or_default().insert(b.into());
        graph.entry(b.into()).or_default();
    }
    let text = "use super::{a::X,\n    b::{Y, Z}};\nuse crate::t::{c, d as e};\nsuper::f::g();";
    assert_eq!(
        paths_after(&strip_comments(text), "super::"),
        ["a", "b", "f"].map(String::from).into_iter().collect()
    );
    assert_eq!(
        paths_after(&strip_comments(text), "crate::t::"),
        ["c", "d"].map(String::from).into_iter().collect()
    );
    let cycle = find_cycle(&graph).expect("a -> b -> c -> a");
    assert_eq!(cycle.first(), cycle.last());
    assert_eq!(cycle.len(), 4);
    graph.get_mut("c").unwrap().remove("a");
    assert_eq!(find_cycle(&graph), None);
}
