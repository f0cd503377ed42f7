//! `#[derive(Persistent)]` (being written).
use proc_macro::TokenStream;

/// Derives `pmem::Persistent` (placeholder until the derive lands).
#[proc_macro_derive(Persistent, attributes(pmem))]
pub fn derive_persistent(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
