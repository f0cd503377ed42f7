//! The top-level modules of `pmem-core` (`src/NAME.rs` or `src/NAME/`) depend on each
//! other without cycles: each layer builds only on the ones below it (ARCHITECTURE §15).
//!
//! The test reads the sources, finds every `crate::NAME` path outside comments (in `use`
//! lines and inline paths alike, `crate::{a, b}` groups included), and fails naming the
//! cycle when the graph has one.

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

/// Every top-level module named after `crate::` in `text`.
fn referenced(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let line = code(line);
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            if let Some(group) = after.strip_prefix('{') {
                // `crate::{a, b::c}`: the first segment of each entry (on this line).
                let inner = group.split('}').next().unwrap_or("");
                for part in inner.split(',') {
                    let id = ident_at(part.trim());
                    if !id.is_empty() {
                        out.insert(id.to_string());
                    }
                }
            } else {
                let id = ident_at(after);
                if !id.is_empty() {
                    out.insert(id.to_string());
                }
            }
            rest = after;
        }
    }
    out
}

/// The graph of top-level modules of the crate whose sources are in `src`.
fn module_graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let module_of = |p: &Path| -> Option<String> {
        let rel = p.strip_prefix(src).unwrap();
        let first = rel.components().next()?.as_os_str().to_str()?.to_string();
        if first == "lib.rs" {
            return None; // the root re-exports everything
        }
        Some(first.trim_end_matches(".rs").to_string())
    };
    let mut graph = Graph::new();
    for f in &files {
        if let Some(m) = module_of(f) {
            graph.entry(m).or_default();
        }
    }
    for f in &files {
        let Some(from) = module_of(f) else { continue };
        for to in referenced(&std::fs::read_to_string(f).unwrap()) {
            if to != from && graph.contains_key(&to) {
                graph.get_mut(&from).unwrap().insert(to);
            }
        }
    }
    graph
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
    let cycle = find_cycle(&graph).expect("a -> b -> c -> a");
    assert_eq!(cycle.first(), cycle.last());
    assert_eq!(cycle.len(), 4);
    graph.get_mut("c").unwrap().remove("a");
    assert_eq!(find_cycle(&graph), None);
}
