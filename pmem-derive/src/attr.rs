//! Attributes, each parsed once: `#[repr(...)]` (which decides the layout the derive
//! relies on) and `#[pmem(...)]` (the derive's own options). Unknown and duplicated
//! `pmem` options are errors spanned to the option.
//!
//! Container options:
//! - `#[pmem(view = Name)]`: the name of the generated view type (default `{Type}Mut`);
//! - `#[pmem(plain)]`: the type is plain data (`Copy`, every field plain): it becomes its
//!   own view, like an integer, and implements `pmem::Plain`.
//!
//! Field options:
//! - `#[pmem(name = ident)]`: accessors are `ident_mut` and `set_ident` instead of being
//!   named after the field (tuple fields default to `field_0_mut` / `set_field_0`);
//! - `#[pmem(renamed_from = "old")]` (repeatable): an automatic migration fills the
//!   field from a stored field of that name when none has the field's own name;
//! - `#[pmem(default = "path::to::fn")]`: an automatic migration fills the field, when
//!   the stored type lacks it, with `path::to::fn()` instead of `Default::default()`.

use proc_macro2::Span;
use syn::spanned::Spanned;

use crate::ctxt::Ctxt;

/// One option that may be given at most once, with the span of its first occurrence.
struct Once<T> {
    name: &'static str,
    value: Option<(Span, T)>,
}

impl<T> Once<T> {
    fn new(name: &'static str) -> Self {
        Once { name, value: None }
    }

    fn set(&mut self, cx: &Ctxt, span: Span, value: T) {
        if self.value.is_some() {
            cx.syn_error(syn::Error::new(
                span,
                format!("duplicate pmem option `{}`", self.name),
            ));
        } else {
            self.value = Some((span, value));
        }
    }

    fn get(self) -> Option<(Span, T)> {
        self.value
    }
}

/// What `#[repr(...)]` says; every present item keeps its span for error messages.
#[derive(Default)]
pub(crate) struct Repr {
    /// `C`.
    pub(crate) c: Option<Span>,
    /// `transparent`.
    pub(crate) transparent: Option<Span>,
    /// `packed` or `packed(N)`.
    pub(crate) packed: Option<Span>,
    /// `align(N)`, with N.
    pub(crate) align: Option<(Span, u64)>,
    /// An integer type (`u8`, `i32`...), the tag type of an enum.
    pub(crate) int: Option<syn::Ident>,
}

const INT_REPRS: &[&str] = &[
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
];

impl Repr {
    fn parse(cx: &Ctxt, attrs: &[syn::Attribute]) -> Repr {
        let mut repr = Repr::default();
        for attr in attrs.iter().filter(|a| a.path().is_ident("repr")) {
            let r = attr.parse_nested_meta(|meta| {
                let span = meta.path.span();
                if meta.path.is_ident("C") {
                    repr.c = Some(span);
                } else if meta.path.is_ident("transparent") {
                    repr.transparent = Some(span);
                } else if meta.path.is_ident("packed") {
                    if meta.input.peek(syn::token::Paren) {
                        let content;
                        syn::parenthesized!(content in meta.input);
                        content.parse::<syn::LitInt>()?;
                    }
                    repr.packed = Some(span);
                } else if meta.path.is_ident("align") {
                    let content;
                    syn::parenthesized!(content in meta.input);
                    let n: syn::LitInt = content.parse()?;
                    repr.align = Some((span, n.base10_parse()?));
                } else if let Some(id) = meta
                    .path
                    .get_ident()
                    .filter(|id| INT_REPRS.iter().any(|t| id == t))
                {
                    repr.int = Some(id.clone());
                } else if meta.input.peek(syn::token::Paren) {
                    // Some other repr with arguments: skip them, rustc judges it.
                    let content;
                    syn::parenthesized!(content in meta.input);
                    content.parse::<proc_macro2::TokenStream>()?;
                }
                Ok(())
            });
            if let Err(e) = r {
                cx.syn_error(e);
            }
        }
        repr
    }
}

/// Options on the struct or enum.
pub(crate) struct Container {
    /// The layout attribute.
    pub(crate) repr: Repr,
    /// `#[pmem(view = Name)]`.
    pub(crate) view: Option<syn::Ident>,
    /// `#[pmem(plain)]`, with its span.
    pub(crate) plain: Option<Span>,
}

impl Container {
    pub(crate) fn parse(cx: &Ctxt, item: &syn::DeriveInput) -> Container {
        let mut view = Once::new("view");
        let mut plain = Once::new("plain");
        for attr in item.attrs.iter().filter(|a| a.path().is_ident("pmem")) {
            let r = attr.parse_nested_meta(|meta| {
                let span = meta.path.span();
                if meta.path.is_ident("view") {
                    let id: syn::Ident = meta.value()?.parse()?;
                    view.set(cx, span, id);
                } else if meta.path.is_ident("plain") {
                    plain.set(cx, span, ());
                } else {
                    return Err(meta.error(format!(
                        "unknown pmem option `{}`; expected `view = Name` or `plain`",
                        meta.path.to_token_stream_string()
                    )));
                }
                Ok(())
            });
            if let Err(e) = r {
                cx.syn_error(e);
            }
        }
        Container {
            repr: Repr::parse(cx, &item.attrs),
            view: view.get().map(|(_, v)| v),
            plain: plain.get().map(|(s, ())| s),
        }
    }
}

/// Options on a field.
pub(crate) struct Field {
    /// `#[pmem(name = ident)]`.
    pub(crate) name: Option<syn::Ident>,
    /// `#[pmem(renamed_from = "old")]`, each given name.
    pub(crate) renamed_from: Vec<String>,
    /// `#[pmem(default = "path::to::fn")]`.
    pub(crate) default: Option<syn::ExprPath>,
}

impl Field {
    pub(crate) fn parse(cx: &Ctxt, field: &syn::Field) -> Field {
        let mut name = Once::new("name");
        let mut default = Once::new("default");
        let mut renamed_from = Vec::new();
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("pmem")) {
            let r = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("name") {
                    let id: syn::Ident = meta.value()?.parse()?;
                    name.set(cx, meta.path.span(), id);
                    Ok(())
                } else if meta.path.is_ident("renamed_from") {
                    let lit: syn::LitStr = meta.value()?.parse().map_err(|e| {
                        syn::Error::new(
                            e.span(),
                            "expected `renamed_from = \"old_name\"` (a string literal)",
                        )
                    })?;
                    let old = lit.value();
                    if syn::parse_str::<syn::Ident>(&old).is_err() && old.parse::<usize>().is_err()
                    {
                        return Err(syn::Error::new(
                            lit.span(),
                            format!("`renamed_from` names a field; {old:?} is not a field name"),
                        ));
                    }
                    renamed_from.push(old);
                    Ok(())
                } else if meta.path.is_ident("default") {
                    let lit: syn::LitStr = meta.value()?.parse().map_err(|e| {
                        syn::Error::new(
                            e.span(),
                            "expected `default = \"path::to::fn\"` (a string literal)",
                        )
                    })?;
                    let path: syn::ExprPath = lit.parse().map_err(|_| {
                        syn::Error::new(
                            lit.span(),
                            format!(
                                "`default` takes the path of a function; {:?} is not a path",
                                lit.value()
                            ),
                        )
                    })?;
                    default.set(cx, meta.path.span(), path);
                    Ok(())
                } else {
                    Err(meta.error(format!(
                        "unknown pmem field option `{}`; expected `name = ident`, \
                         `renamed_from = \"old\"` or `default = \"path::to::fn\"`",
                        meta.path.to_token_stream_string()
                    )))
                }
            });
            if let Err(e) = r {
                cx.syn_error(e);
            }
        }
        Field {
            name: name.get().map(|(_, n)| n),
            renamed_from,
            default: default.get().map(|(_, d)| d),
        }
    }
}

/// Rejects `#[pmem]` on enum variants, which take no options.
pub(crate) fn no_variant_options(cx: &Ctxt, variant: &syn::Variant) {
    for attr in variant.attrs.iter().filter(|a| a.path().is_ident("pmem")) {
        cx.error_spanned_by(attr, "enum variants take no pmem options");
    }
}

trait PathString {
    fn to_token_stream_string(&self) -> String;
}

impl PathString for syn::Path {
    fn to_token_stream_string(&self) -> String {
        quote::ToTokens::to_token_stream(self)
            .to_string()
            .replace(' ', "")
    }
}
