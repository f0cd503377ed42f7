//! The `unsafe impl Persistent` block, shared by structs and enums: they differ only in
//! what the fingerprint mixes, the schema's shape and the bodies of the per-field
//! methods, so each generated method is written here once. The `// SAFETY:` reason of
//! each impl stays at the call site, beside the code that makes it true (`quote!` drops
//! comments, and a `#[doc]` on the impl would show up in the user's documentation).

use proc_macro2::TokenStream;
use quote::quote;

use super::Params;
use crate::ast::Container;

/// What a struct's or an enum's `Persistent` impl has of its own.
pub(super) struct Parts {
    /// `"struct"` or `"enum"`: the first word the fingerprint mixes.
    pub(super) kind: &'static str,
    /// Statements rebinding `h` after the kind and the name are mixed in.
    pub(super) fingerprint_mix: TokenStream,
    /// The `::pmem::__private::Shape` of the schema.
    pub(super) shape: TokenStream,
    /// `MAY_BE_INVALID` and `validate`.
    pub(super) validate: TokenStream,
    /// `visit_owned` and `free_owned`, absent for plain types (the defaults fit them).
    pub(super) owned: Option<TokenStream>,
}

/// The `unsafe impl Persistent` block for `cont`.
pub(super) fn persistent_impl(cont: &Container<'_>, g: &Params, parts: Parts) -> TokenStream {
    let ident = cont.ident;
    let name = ident.to_string();
    let Params {
        impl_generics,
        ty_generics,
        where_clause,
        ..
    } = g;
    let this = quote!(#ident #ty_generics);
    let Parts {
        kind,
        fingerprint_mix,
        shape,
        validate,
        owned,
    } = parts;
    let (view_ty, view_mut) = if cont.attrs.plain.is_some() {
        (
            quote!(Self),
            quote! {
                // SAFETY: forwarded contract; a plain value is its own view.
                unsafe { ::pmem::plain_view(ptr) }
            },
        )
    } else {
        let view = cont.view_ident();
        (
            quote!(#view #ty_generics),
            quote! {
                // SAFETY: the view type ends in a `ViewTail`; the fat pointer covers the
                // `size_of::<Self>()` bytes of the valid value at `ptr`, which the caller
                // lends exclusively for `'a`.
                unsafe { &mut *::pmem::view_cast!(ptr, Self => #view #ty_generics) }
            },
        )
    };
    let fp_end = super::fingerprint_end(&name);
    quote! {
        #[automatically_derived]
        unsafe impl #impl_generics ::pmem::Persistent for #this #where_clause {
            type View = #view_ty;
            const TYPE_NAME: &'static str = #name;
            const FINGERPRINT: u64 = {
                let h = ::pmem::__private::fp_str(::pmem::__private::FP_START, #kind);
                let h = ::pmem::__private::fp_str(h, #name);
                #fingerprint_mix
                #fp_end
            };
            const SCHEMA: &'static ::pmem::__private::TypeSchema = &::pmem::__private::TypeSchema {
                name: #name,
                size: ::core::mem::size_of::<Self>(),
                align: ::core::mem::align_of::<Self>(),
                fingerprint: <Self as ::pmem::Persistent>::FINGERPRINT,
                shape: #shape,
            };
            #[inline]
            unsafe fn view_mut<'a>(ptr: *mut Self) -> &'a mut Self::View {
                #view_mut
            }
            #validate
            #owned
        }
    }
}
