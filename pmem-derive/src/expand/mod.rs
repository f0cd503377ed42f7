//! Code generation. Everything is emitted with fully qualified paths (`::pmem::...`,
//! `::core::...`) inside `const _: () = { ... };`, except the view type, which users
//! may name. Uses of a field's type are spanned to that type, so that whatever the
//! compiler has to say about a field points at it.

mod enums;
mod persistent;
mod structs;

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;

use crate::ast::{Container, Data, Field};
use crate::check;
use crate::ctxt::Ctxt;

/// Parses, checks and expands `#[derive(Persistent)]`.
pub(crate) fn derive(input: &syn::DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::default();
    let cont = Container::from_ast(&cx, input);
    check::check(&cx, &cont);
    cx.check()?;
    Ok(match &cont.data {
        Data::Struct(_, fields) => structs::expand(&cont, fields),
        Data::Enum(variants) => enums::expand(&cont, variants),
        Data::Union(_) => unreachable!("rejected by check::no_unions"),
    })
}

/// The pieces of the input's generics that every generated impl needs.
struct Params {
    /// `<T: Bound, const N: usize>` for `impl` and generated functions.
    impl_generics: TokenStream,
    /// `<T, N>` after a type name.
    ty_generics: TokenStream,
    /// The input's where clause plus one `T: Persistent` (or `T: Plain`) per type parameter.
    where_clause: TokenStream,
    /// The predicates of `where_clause`.
    predicates: Vec<syn::WherePredicate>,
    /// The parameters of the view type: no bounds, defaults kept.
    view_decl: TokenStream,
    /// `PhantomData<fn() -> (T, U)>` over the type parameters, if there are any.
    phantom: Option<TokenStream>,
}

impl Params {
    fn new(cont: &Container<'_>) -> Params {
        let mut g = cont.generics.clone();
        let bound = if cont.attrs.plain.is_some() {
            quote!(::pmem::Plain)
        } else {
            quote!(::pmem::Persistent)
        };
        let types: Vec<syn::Ident> = g.type_params().map(|t| t.ident.clone()).collect();
        {
            let wc = g.make_where_clause();
            for t in &types {
                wc.predicates.push(syn::parse_quote!(#t: #bound));
            }
        }
        let predicates = g
            .where_clause
            .as_ref()
            .map(|w| w.predicates.iter().cloned().collect())
            .unwrap_or_default();
        let (impl_generics, ty_generics, where_clause) = g.split_for_impl();
        let view_decl: Vec<TokenStream> = cont
            .generics
            .params
            .iter()
            .map(|p| match p {
                syn::GenericParam::Type(t) => {
                    let id = &t.ident;
                    if let Some(d) = &t.default {
                        quote!(#id = #d)
                    } else {
                        quote!(#id)
                    }
                }
                syn::GenericParam::Const(c) => {
                    let syn::ConstParam {
                        ident, ty, default, ..
                    } = c;
                    if let Some(d) = default {
                        quote!(const #ident: #ty = #d)
                    } else {
                        quote!(const #ident: #ty)
                    }
                }
                syn::GenericParam::Lifetime(l) => {
                    let l = &l.lifetime;
                    quote!(#l)
                }
            })
            .collect();
        Params {
            impl_generics: quote!(#impl_generics),
            ty_generics: quote!(#ty_generics),
            where_clause: quote!(#where_clause),
            predicates,
            view_decl: if view_decl.is_empty() {
                quote!()
            } else {
                quote!(<#(#view_decl),*>)
            },
            phantom: (!types.is_empty())
                .then(|| quote!(::core::marker::PhantomData<fn() -> (#(#types,)*)>)),
        }
    }
}

impl Params {
    /// The where clause with one more predicate.
    fn where_with(&self, extra: &TokenStream) -> TokenStream {
        let preds = &self.predicates;
        quote!(where #(#preds,)* #extra)
    }
}

/// Replaces `Self` in a field's type with the type's own name, so the type can be
/// written outside the type's own impls (in the view's accessors, say).
struct ReplaceSelf<'a>(&'a syn::Type);

impl VisitMut for ReplaceSelf<'_> {
    fn visit_type_mut(&mut self, ty: &mut syn::Type) {
        if let syn::Type::Path(p) = ty {
            if p.qself.is_none() && p.path.is_ident("Self") {
                *ty = self.0.clone();
                return;
            }
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }

    fn visit_type_path_mut(&mut self, tp: &mut syn::TypePath) {
        // `Self::Assoc` keeps its meaning only inside the type's impls; write it as
        // `<Type>::Assoc`.
        if tp.qself.is_none() && tp.path.segments.len() > 1 && tp.path.segments[0].ident == "Self" {
            let rest: Vec<_> = tp.path.segments.iter().skip(1).cloned().collect();
            let me = self.0.clone();
            *tp = syn::parse_quote!(<#me>::#(#rest)::*);
        }
        syn::visit_mut::visit_type_path_mut(self, tp);
    }
}

/// A field's type with `Self` replaced by `this`.
fn field_type(f: &Field<'_>, this: &syn::Type) -> syn::Type {
    let mut ty = f.ty.clone();
    ReplaceSelf(this).visit_type_mut(&mut ty);
    ty
}

/// `<F as ::pmem::Persistent>`, spanned to the field's type.
fn as_persistent(ty: &syn::Type) -> TokenStream {
    quote_spanned!(ty.span()=> <#ty as ::pmem::Persistent>)
}

/// `<F as ::pmem::__private::PersistentField<marker>>`, spanned to the field's type:
/// how the `Persistent` impl reaches a field's items, so that a field whose type is not
/// `Persistent` gets one error that names it.
fn as_field(ty: &syn::Type, marker: &TokenStream) -> TokenStream {
    quote_spanned!(ty.span()=> <#ty as ::pmem::__private::PersistentField<#marker>>)
}

/// `let h = ...;` lines mixing one field into a fingerprint: its name, its type's
/// fingerprint and its offset (`offset` is an expression of type `usize`).
fn fingerprint_field(
    name: &str,
    ty: &syn::Type,
    marker: &TokenStream,
    offset: &TokenStream,
) -> TokenStream {
    let p = as_field(ty, marker);
    quote! {
        let h = ::pmem::__private::fp_str(h, #name);
        let h = ::pmem::__private::fp_u64(h, #p::FINGERPRINT);
        let h = ::pmem::__private::fp_u64(h, (#offset) as u64);
    }
}

/// The fingerprint's closing lines: size and alignment, after checking the alignment
/// fits the pool allocator.
fn fingerprint_end(name: &str) -> TokenStream {
    let msg = format!(
        "pmem: `{name}` needs alignment above 64 bytes, more than the pool allocator provides"
    );
    quote! {
        ::core::assert!(::core::mem::align_of::<Self>() <= 64, #msg);
        let h = ::pmem::__private::fp_u64(h, ::core::mem::size_of::<Self>() as u64);
        ::pmem::__private::fp_u64(h, ::core::mem::align_of::<Self>() as u64)
    }
}

/// `FieldSchema { ... }` for one field.
fn field_schema(
    f: &Field<'_>,
    ty: &syn::Type,
    marker: &TokenStream,
    offset: &TokenStream,
) -> TokenStream {
    let p = as_field(ty, marker);
    let name = f.name();
    let olds = &f.attrs.renamed_from;
    quote! {
        ::pmem::__private::FieldSchema {
            name: #name,
            offset: #offset,
            ty: #p::schema,
            renamed_from: &[#(#olds),*],
        }
    }
}

/// A module of marker types, one per field, named after the field; the compiler
/// prints the marker's name in "field `x` has type ..." errors. `groups` are
/// `(submodule, fields)`: enums put each variant's markers in a module of its own.
fn markers(groups: &[(Option<&syn::Ident>, &[Field<'_>])]) -> TokenStream {
    let groups = groups.iter().map(|(module, fields)| {
        let marks = fields.iter().map(|f| {
            let m = f.marker();
            quote!(pub struct #m;)
        });
        if let Some(m) = module {
            quote!(pub mod #m { #(#marks)* })
        } else {
            quote!(#(#marks)*)
        }
    });
    quote! {
        #[allow(non_camel_case_types, non_snake_case, dead_code, unreachable_pub, clippy::all, clippy::pedantic)]
        mod __pmem_field {
            #(#groups)*
        }
    }
}

/// The path of a field's marker type (see [`markers`]).
fn marker_path(module: Option<&syn::Ident>, f: &Field<'_>) -> TokenStream {
    let m = f.marker();
    if let Some(v) = module {
        quote!(__pmem_field::#v::#m)
    } else {
        quote!(__pmem_field::#m)
    }
}

/// For a `#[pmem(plain)]` type: a never-called function whose body asserts that the
/// type is `Copy` and every field plain, each assertion spanned to the field's type.
/// (Whether a field is `Persistent` at all is checked where the `Persistent` impl uses
/// it; see [`as_field`].) `fields` are `(marker path, type)`.
fn plain_checks(g: &Params, this: &syn::Type, fields: &[(TokenStream, syn::Type)]) -> TokenStream {
    let Params {
        impl_generics,
        where_clause,
        ..
    } = g;
    let asserts = fields
        .iter()
        .map(|(marker, ty)| quote_spanned!(ty.span()=> ::pmem::__private::assert_plain_field::<#ty, #marker>();));
    let copy = quote!(::pmem::__private::assert_copy::<#this>(););
    quote! {
        #[allow(dead_code, clippy::all, clippy::pedantic)]
        fn __pmem_check_fields #impl_generics () #where_clause {
            #copy
            #(#asserts)*
        }
    }
}

/// The view type's declaration (outside the `const _` block, so users can name it).
fn view_struct(cont: &Container<'_>, g: &Params) -> TokenStream {
    let vis = cont.vis;
    let view = cont.view_ident();
    let name = cont.ident;
    let params = &g.view_decl;
    let phantom = g.phantom.as_ref().map(|p| quote!(_marker: #p,));
    let doc = format!(
        "The view of a [`{name}`] inside a transaction: what `tx.root_mut()` (or the accessor \
         of a field of type `{name}`) hands out as `&mut`.\n\n\
         Reads go through `Deref<Target = {name}>`; every change goes through a method that \
         snapshots exactly what it changes first, so the transaction can roll it back. A view \
         cannot outlive its transaction, be moved or be sent to another thread."
    );
    quote! {
        #[doc = #doc]
        #[allow(dead_code)]
        #vis struct #view #params {
            #phantom
            _tail: ::pmem::ViewTail,
        }
    }
}

/// `Deref` from the view to the value.
fn view_deref(cont: &Container<'_>, g: &Params, this: &syn::Type) -> TokenStream {
    let view = cont.view_ident();
    let Params {
        impl_generics,
        ty_generics,
        where_clause,
        ..
    } = g;
    quote! {
        #[automatically_derived]
        impl #impl_generics ::core::ops::Deref for #view #ty_generics #where_clause {
            type Target = #this;
            #[inline]
            fn deref(&self) -> &#this {
                // SAFETY: a view is made only by `Persistent::view_mut`, over a valid value
                // of the viewed type, and borrows it for as long as the view lives.
                unsafe { &*::core::ptr::from_ref(self).cast::<#this>() }
            }
        }
    }
}

/// The bounds of a whole-value `update`: every field plain (`for<'a>` keeps a
/// bound on a concrete type from being rejected as trivially false).
fn update_bounds(fields: &[(TokenStream, syn::Type)]) -> TokenStream {
    let preds = fields
        .iter()
        .map(|(marker, ty)| quote!(for<'__pmem> #ty: ::pmem::__private::PlainField<#marker>));
    quote!(#(#preds,)*)
}

/// The whole-value `update` method of a view.
fn update_method(
    cont: &Container<'_>,
    this: &syn::Type,
    fields: &[(TokenStream, syn::Type)],
) -> TokenStream {
    let vis = cont.vis;
    let bounds = update_bounds(fields);
    let name = cont.ident;
    let doc = format!(
        "Changes the whole [`{name}`] in one go: one snapshot of all of its bytes, then `f` \
         gets `&mut {name}`.\n\n\
         Available when every field is plain data (it owns no pool memory), so that \
         overwriting a field cannot leak; change an owning field through its own accessor.\n\n\
         Answers what `f` answers."
    );
    let r = format_ident!("__PmemR");
    quote! {
        #[doc = #doc]
        #[inline]
        #vis fn update<#r>(&mut self, f: impl ::core::ops::FnOnce(&mut #this) -> #r) -> #r
        where
            #bounds
        {
            let p = ::core::ptr::from_mut(self).cast::<#this>();
            // SAFETY: the view lies over a valid value in a pool whose transaction is open
            // on this thread (views are only handed out by transactions). All its bytes
            // are snapshotted before `f` may change them, and every field is plain data
            // (the bounds), so no byte pattern `f` writes through `&mut` can leak or
            // dangle. The borrow of `f`'s argument ends before `self`'s.
            unsafe {
                ::pmem::__private::raw::snapshot_plain(p);
                f(&mut *p)
            }
        }
    }
}
