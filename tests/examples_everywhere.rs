//! Every public method a user calls carries a runnable `# Examples` section that
//! asserts something (house style): those of the facade (`src/`), of every collection
//! (`pmem-collections/src/`), and of the core types a newcomer meets first — `Pool`,
//! `PoolOptions`, `Tx`, `PPtr`, `PBox`, `PBoxMut` and `OptionPBoxMut`. This reads their
//! source files and names each public method whose doc block lacks one. (It lives in
//! the facade, which sees all three packages.)

use std::path::{Path, PathBuf};

/// The core files that define the front-page types.
const CORE_FILES: &[&str] = &[
    "pmem-core/src/pool/pool.rs",
    "pmem-core/src/pool/backup.rs",
    "pmem-core/src/pool/options.rs",
    "pmem-core/src/pool/tx.rs",
    "pmem-core/src/types/ptr.rs",
];

/// The folders whose every source file is scanned (unit-test files excepted).
const WHOLE_FOLDERS: &[&str] = &["src", "pmem-collections/src"];

/// Where a file's public API ends: what follows is plumbing for generated code.
const PLUMBING: &str = "pub mod __private";

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs")
            && path.file_name().is_none_or(|n| n != "tests.rs")
        {
            out.push(path);
        }
    }
}

/// `(file, method)` for each `pub fn` / `pub unsafe fn` / `pub const fn` in `text`
/// whose preceding doc block has no `# Examples` section with an assertion in it.
fn methods_without_examples(file: &str, text: &str) -> (usize, Vec<String>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut public = 0;
    let mut missing = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        if t.starts_with(PLUMBING) {
            break;
        }
        let Some(rest) = ["pub fn ", "pub unsafe fn ", "pub const fn "]
            .iter()
            .find_map(|p| t.strip_prefix(p))
        else {
            continue;
        };
        public += 1;
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        // The doc block: the `///` lines above, skipping attributes.
        let mut doc = Vec::new();
        for above in lines[..i].iter().rev() {
            let a = above.trim_start();
            if let Some(d) = a.strip_prefix("///") {
                doc.push(d);
            } else if !a.starts_with("#[") {
                break; // attributes are skipped; anything else ends the block
            }
        }
        doc.reverse();
        let examples = doc.iter().position(|d| d.trim() == "# Examples");
        let asserts = examples.is_some_and(|at| doc[at..].iter().any(|d| d.contains("assert")));
        if !asserts {
            missing.push(format!("{file}: {name}"));
        }
    }
    (public, missing)
}

#[test]
fn every_public_method_of_the_facade_the_collections_and_the_front_page_types_has_an_example_that_asserts(
) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = CORE_FILES.iter().map(|f| root.join(f)).collect();
    for folder in WHOLE_FOLDERS {
        rust_files(&root.join(folder), &mut files);
    }
    let mut public = 0;
    let mut missing = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let name = file.strip_prefix(root).unwrap().display().to_string();
        let (n, m) = methods_without_examples(&name, &text);
        public += n;
        missing.extend(m);
    }
    assert!(
        public > 250,
        "found only {public} public methods: is the scan broken?"
    );
    assert!(
        missing.is_empty(),
        "{} of {public} public methods have no `# Examples` section that asserts:\n  {}",
        missing.len(),
        missing.join("\n  ")
    );
}

#[test]
fn the_scan_finds_a_method_without_an_example() {
    let text = "/// Does it.\n#[must_use]\npub fn bare() {}\n\
                /// Does it.\n///\n/// # Examples\n///\n/// ```\n/// assert!(true);\n/// ```\n\
                pub unsafe fn shown() {}\n\
                #[doc(hidden)]\npub mod __private {\n    pub fn plumbing() {}\n}\n";
    let (n, missing) = methods_without_examples("x.rs", text);
    assert_eq!(n, 2);
    assert_eq!(missing, ["x.rs: bare"]);
}
