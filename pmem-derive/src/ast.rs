//! The derive's view of its input: the `syn` tree with attributes parsed, keeping the
//! original nodes so that every error can be spanned to the item it is about.

use proc_macro2::Span;
use quote::format_ident;
use syn::ext::IdentExt;

use crate::attr;
use crate::ctxt::Ctxt;

/// The struct, enum or union the derive was put on.
pub(crate) struct Container<'a> {
    /// The type's name.
    pub(crate) ident: &'a syn::Ident,
    /// Its `repr` and `pmem` attributes.
    pub(crate) attrs: attr::Container,
    /// Fields or variants.
    pub(crate) data: Data<'a>,
    /// Generic parameters, as written.
    pub(crate) generics: &'a syn::Generics,
    /// Visibility, given to the view type.
    pub(crate) vis: &'a syn::Visibility,
}

/// The body of the input.
pub(crate) enum Data<'a> {
    /// A struct with named, tuple or no fields.
    Struct(Style, Vec<Field<'a>>),
    /// An enum.
    Enum(Vec<Variant<'a>>),
    /// A union (always rejected; kept so its error joins the others).
    Union(&'a syn::DataUnion),
}

/// How a struct or variant writes its fields.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// `{ a: A }`
    Named,
    /// `(A)`
    Tuple,
    /// no fields
    Unit,
}

/// One field of a struct or variant.
pub(crate) struct Field<'a> {
    /// `a` or `0`.
    pub(crate) member: syn::Member,
    /// Its `pmem` options.
    pub(crate) attrs: attr::Field,
    /// Its type.
    pub(crate) ty: &'a syn::Type,
    /// Its visibility, given to its accessors.
    pub(crate) vis: &'a syn::Visibility,
    /// The original node (for spans).
    pub(crate) original: &'a syn::Field,
}

/// One enum variant.
pub(crate) struct Variant<'a> {
    /// Its name.
    pub(crate) ident: &'a syn::Ident,
    /// How it writes its fields.
    pub(crate) style: Style,
    /// Its fields.
    pub(crate) fields: Vec<Field<'a>>,
    /// `= expr`, if written.
    pub(crate) discriminant: Option<&'a syn::Expr>,
}

impl<'a> Container<'a> {
    pub(crate) fn from_ast(cx: &Ctxt, item: &'a syn::DeriveInput) -> Container<'a> {
        let data = match &item.data {
            syn::Data::Struct(s) => {
                let (style, fields) = fields_from_ast(cx, &s.fields);
                Data::Struct(style, fields)
            }
            syn::Data::Enum(e) => Data::Enum(
                e.variants
                    .iter()
                    .map(|v| {
                        attr::no_variant_options(cx, v);
                        let (style, fields) = fields_from_ast(cx, &v.fields);
                        Variant {
                            ident: &v.ident,
                            style,
                            fields,
                            discriminant: v.discriminant.as_ref().map(|(_, e)| e),
                        }
                    })
                    .collect(),
            ),
            syn::Data::Union(u) => Data::Union(u),
        };
        Container {
            ident: &item.ident,
            attrs: attr::Container::parse(cx, item),
            data,
            generics: &item.generics,
            vis: &item.vis,
        }
    }

    /// Every field of the struct, or of every variant of the enum.
    pub(crate) fn all_fields(&self) -> impl Iterator<Item = &Field<'a>> {
        let (s, e): (&[Field<'a>], &[Variant<'a>]) = match &self.data {
            Data::Struct(_, f) => (f, &[]),
            Data::Enum(v) => (&[], v),
            Data::Union(_) => (&[], &[]),
        };
        s.iter().chain(e.iter().flat_map(|v| v.fields.iter()))
    }

    /// The name of the view type.
    pub(crate) fn view_ident(&self) -> syn::Ident {
        self.attrs
            .view
            .clone()
            .unwrap_or_else(|| format_ident!("{}Mut", self.ident.unraw(), span = self.ident.span()))
    }
}

fn fields_from_ast<'a>(cx: &Ctxt, fields: &'a syn::Fields) -> (Style, Vec<Field<'a>>) {
    let style = match fields {
        syn::Fields::Named(_) => Style::Named,
        syn::Fields::Unnamed(_) => Style::Tuple,
        syn::Fields::Unit => Style::Unit,
    };
    let fields = fields
        .iter()
        .enumerate()
        .map(|(i, f)| Field {
            member: match &f.ident {
                Some(id) => syn::Member::Named(id.clone()),
                None => syn::Member::Unnamed(syn::Index {
                    index: i as u32,
                    span: Span::call_site(),
                }),
            },
            attrs: attr::Field::parse(cx, f),
            ty: &f.ty,
            vis: &f.vis,
            original: f,
        })
        .collect();
    (style, fields)
}

impl Field<'_> {
    /// The field's name as data: `"balance"`, or `"0"` for a tuple field.
    pub(crate) fn name(&self) -> String {
        match &self.member {
            syn::Member::Named(id) => id.unraw().to_string(),
            syn::Member::Unnamed(ix) => ix.index.to_string(),
        }
    }

    /// What accessors are named after: `balance` (`balance_mut`, `set_balance`), or
    /// `field_0` for a tuple field, unless `#[pmem(name = ...)]` says otherwise.
    pub(crate) fn accessor_base(&self) -> syn::Ident {
        if let Some(n) = &self.attrs.name {
            return n.unraw();
        }
        match &self.member {
            syn::Member::Named(id) => id.unraw(),
            syn::Member::Unnamed(ix) => format_ident!("field_{}", ix.index),
        }
    }

    /// The marker type whose name the compiler prints in "field `x` has type ..." errors.
    pub(crate) fn marker(&self) -> syn::Ident {
        let span = syn::spanned::Spanned::span(&self.original);
        match &self.member {
            // Keeps `r#`: a marker named `type` would not parse.
            syn::Member::Named(id) => {
                let mut id = id.clone();
                id.set_span(span);
                id
            }
            syn::Member::Unnamed(ix) => format_ident!("_{}", ix.index, span = span),
        }
    }
}
