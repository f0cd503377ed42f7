//! Every public method of the types a newcomer meets first — `Pool`, `PoolOptions`,
//! `Tx`, `PPtr`, `PBox`, `PBoxMut` and `OptionPBoxMut` — carries a runnable
//! `# Examples` section that asserts something (house style). This reads their source
//! files and names each public method whose doc block lacks one.

use std::path::Path;

/// The files that define those types.
const FILES: &[&str] = &[
    "src/pool/pool.rs",
    "src/pool/backup.rs",
    "src/pool/options.rs",
    "src/pool/tx.rs",
    "src/types/ptr.rs",
];

/// `(file, method)` for each `pub fn` / `pub unsafe fn` / `pub const fn` in `text`
/// whose preceding doc block has no `# Examples` section with an assertion in it.
fn methods_without_examples(file: &str, text: &str) -> (usize, Vec<String>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut public = 0;
    let mut missing = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
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
fn every_public_method_of_the_front_page_types_has_an_example_that_asserts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut public = 0;
    let mut missing = Vec::new();
    for file in FILES {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let (n, m) = methods_without_examples(file, &text);
        public += n;
        missing.extend(m);
    }
    assert!(
        public > 40,
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
                pub unsafe fn shown() {}\n";
    let (n, missing) = methods_without_examples("x.rs", text);
    assert_eq!(n, 2);
    assert_eq!(missing, ["x.rs: bare"]);
}
