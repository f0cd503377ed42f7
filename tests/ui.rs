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
