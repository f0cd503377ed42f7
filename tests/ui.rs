//! Compile-time tests of `#[derive(Persistent)]` and of the transaction API (trybuild):
//! every form the derive supports compiles (`ui/pass`), and every misuse listed in
//! `docs/MISUSE.md` fails with the message recorded next to its case (`ui/<category>`).
//!
//! After a deliberate change to a message, regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test --test ui` and review the diff.

#[test]
fn every_supported_form_of_the_derive_compiles() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
}

#[test]
fn every_listed_misuse_fails_to_compile_with_its_recorded_message() {
    let t = trybuild::TestCases::new();
    for category in ["field", "layout", "attr", "tx", "collection"] {
        t.compile_fail(format!("tests/ui/{category}/*.rs"));
    }
}

/// The compile-fail categories, in the order `docs/MISUSE.md` lists them.
const CATEGORIES: [&str; 5] = ["field", "layout", "attr", "tx", "collection"];

/// Every compile-fail case as `category/name`, sorted.
fn cases() -> Vec<String> {
    let mut out = Vec::new();
    for category in CATEGORIES {
        for entry in std::fs::read_dir(format!("tests/ui/{category}")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                out.push(format!(
                    "{category}/{}",
                    path.file_stem().unwrap().to_str().unwrap()
                ));
            }
        }
    }
    out.sort();
    out
}

/// What the doc quotes for a case, between `<!-- case: X -->` and `<!-- end -->`: the
/// case's source and the compiler's message.
fn quoted(case: &str) -> String {
    let src = std::fs::read_to_string(format!("tests/ui/{case}.rs")).unwrap();
    let stderr = std::fs::read_to_string(format!("tests/ui/{case}.stderr")).unwrap();
    format!(
        "```rust\n{}\n```\n\n```text\n{}\n```\n",
        src.trim_end(),
        stderr.trim_end()
    )
}

/// `docs/MISUSE.md` quotes every compile-fail case: between a
/// `<!-- case: category/name -->` line and an `<!-- end -->` line, the case's source
/// and its recorded compiler message, verbatim. Set `PMEM_BLESS_MISUSE=1` to rewrite
/// the quoted parts from the cases (the prose around them is left alone).
#[test]
fn the_misuse_doc_quotes_every_case_and_its_current_message() {
    const OPEN: &str = "<!-- case: ";
    const CLOSE: &str = "<!-- end -->";
    let path = "docs/MISUSE.md";
    let doc = std::fs::read_to_string(path).unwrap();
    let bless = std::env::var_os("PMEM_BLESS_MISUSE").is_some();
    let mut out = String::with_capacity(doc.len());
    let mut rest = doc.as_str();
    let (mut seen, mut stale) = (Vec::new(), Vec::new());
    while let Some(at) = rest.find(OPEN) {
        let line_end = at + rest[at..].find('\n').expect("the marker line ends");
        let case = rest[at + OPEN.len()..line_end]
            .trim()
            .trim_end_matches("-->")
            .trim()
            .to_string();
        out.push_str(&rest[..=line_end]);
        rest = &rest[line_end + 1..];
        let end = rest
            .find(CLOSE)
            .unwrap_or_else(|| panic!("no {CLOSE} after the quote of {case}"));
        let want = quoted(&case);
        if rest[..end] != want {
            stale.push(case.clone());
        }
        out.push_str(if bless { &want } else { &rest[..end] });
        rest = &rest[end..];
        seen.push(case);
    }
    out.push_str(rest);
    if bless {
        std::fs::write(path, &out).unwrap();
        return;
    }
    let missing: Vec<_> = cases().into_iter().filter(|c| !seen.contains(c)).collect();
    assert!(
        missing.is_empty(),
        "docs/MISUSE.md does not quote these cases: {missing:?}"
    );
    assert!(stale.is_empty(), "docs/MISUSE.md quotes these cases out of date (PMEM_BLESS_MISUSE=1 rewrites them): {stale:?}");
}
