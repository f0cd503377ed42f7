//! The rules a type must follow to be derived, one function per rule, each saying why
//! the rule exists. Every violation is reported (spanned to the offending token) before
//! any code is generated; a type that passes all of them gets the full expansion.

use quote::ToTokens;
use syn::spanned::Spanned;

use crate::ast::{Container, Data, Field, Style, Variant};
use crate::ctxt::Ctxt;

/// Runs every rule.
pub(crate) fn check(cx: &Ctxt, cont: &Container<'_>) {
    no_unions(cx, cont);
    no_lifetimes(cx, cont);
    struct_has_stable_layout(cx, cont);
    no_packed(cx, cont);
    alignment_fits_the_allocator(cx, cont);
    enum_has_integer_repr(cx, cont);
    enum_has_variants(cx, cont);
    field_types_can_persist(cx, cont);
    options_fit_the_item(cx, cont);
    accessor_names_are_unique(cx, cont);
}

/// A union does not say which field is live, so the derive could not know what to
/// snapshot, what the value owns (for the integrity check) or what to free.
fn no_unions(cx: &Ctxt, cont: &Container<'_>) {
    if let Data::Union(u) = &cont.data {
        cx.error_spanned_by(
            u.union_token,
            "#[derive(Persistent)] does not support unions: pmem could not tell which field is live, so it \
             could not snapshot, check or free it; use an enum with an explicit `#[repr(u8)]`",
        );
    }
}

/// A lifetime parameter means the type borrows something: an address that is
/// meaningless once the process exits. `PSafe` also requires `'static`.
fn no_lifetimes(cx: &Ctxt, cont: &Container<'_>) {
    for lt in cont.generics.lifetimes() {
        cx.error_spanned_by(
            &lt.lifetime,
            format!(
                "a persistent type cannot have lifetime parameters: `{}` means `{}` borrows memory of this \
                 process, which is gone when it exits; use `PPtr<T>` to link to a value in the pool, or own it",
                lt.lifetime, cont.ident
            ),
        );
    }
}

/// The default (`repr(Rust)`) layout may change between compiler versions and even
/// between builds; a pool file written by one build must be readable by the next.
fn struct_has_stable_layout(cx: &Ctxt, cont: &Container<'_>) {
    if let Data::Struct(..) = cont.data {
        let r = &cont.attrs.repr;
        if r.c.is_none() && r.transparent.is_none() {
            cx.error_spanned_by(
                cont.ident,
                format!(
                    "#[derive(Persistent)] needs `#[repr(C)]` on `{}`: the default layout may change between \
                     compiler versions, which would make existing pool files unreadable",
                    cont.ident
                ),
            );
        }
    }
}

/// A view hands out `&mut` to fields, and a reference to a field of a packed type may
/// be misaligned (undefined behaviour).
fn no_packed(cx: &Ctxt, cont: &Container<'_>) {
    if let Some(span) = cont.attrs.repr.packed {
        cx.syn_error(syn::Error::new(
            span,
            "#[derive(Persistent)] does not support `#[repr(packed)]`: a transaction hands out `&mut` to \
             fields, which must be aligned; remove `packed` (`#[repr(C)]` alone keeps the layout stable)",
        ));
    }
}

/// The pool allocator aligns to at most 64 bytes.
fn alignment_fits_the_allocator(cx: &Ctxt, cont: &Container<'_>) {
    if let Some((span, n)) = cont.attrs.repr.align {
        if n > 64 {
            cx.syn_error(syn::Error::new(
                span,
                format!("`align({n})` is more than the pool allocator provides (at most 64 bytes)"),
            ));
        }
    }
}

/// Without an integer `repr` the tag's size and the variants' layout are the compiler's
/// choice, which may change between builds.
fn enum_has_integer_repr(cx: &Ctxt, cont: &Container<'_>) {
    if let Data::Enum(_) = cont.data {
        if cont.attrs.repr.int.is_none() {
            cx.error_spanned_by(
                cont.ident,
                format!(
                    "#[derive(Persistent)] needs an explicit integer representation on enum `{}`, such as \
                     `#[repr(u8)]` or `#[repr(C, u32)]`: it fixes the tag's size and every variant's layout",
                    cont.ident
                ),
            );
        }
    }
}

/// An enum without variants has no value, so no pool could hold one.
fn enum_has_variants(cx: &Ctxt, cont: &Container<'_>) {
    if let Data::Enum(v) = &cont.data {
        if v.is_empty() {
            cx.error_spanned_by(
                cont.ident,
                format!(
                    "enum `{}` has no variants, so no value of it can be stored",
                    cont.ident
                ),
            );
        }
    }
}

/// Types whose bytes are addresses or handles of this process, recognised by their
/// syntax (references, pointers, trait objects) or their well-known std names. Any
/// other type is left to the compiler, which reports a missing `Persistent` impl at
/// the field. A type of your own that happens to share a std name (a `Cell<T>` of your
/// own, say) is not taken for std's when written with a path (`self::Cell<T>`).
fn field_types_can_persist(cx: &Ctxt, cont: &Container<'_>) {
    let (fields, variants): (&[Field<'_>], &[Variant<'_>]) = match &cont.data {
        Data::Struct(_, f) => (f, &[]),
        Data::Enum(v) => (&[], v),
        Data::Union(_) => return,
    };
    let in_variants = variants
        .iter()
        .flat_map(|v| v.fields.iter().map(move |f| (Some(v.ident), f)));
    for (variant, f) in fields.iter().map(|f| (None, f)).chain(in_variants) {
        if let Some(advice) = non_persistent(f.ty) {
            let whose = variant
                .map(|v| format!(" of variant `{v}`"))
                .unwrap_or_default();
            cx.error_spanned_by(
                f.ty,
                format!(
                    "field `{}`{whose} has type `{}`, which cannot be stored in a pmem pool: {advice}",
                    f.name(),
                    type_string(f.ty)
                ),
            );
        }
    }
}

/// Options that only make sense on some items.
fn options_fit_the_item(cx: &Ctxt, cont: &Container<'_>) {
    if let (Some(_), Some(view)) = (cont.attrs.plain, &cont.attrs.view) {
        cx.error_spanned_by(
            view,
            "a `#[pmem(plain)]` type is its own view, so it has no view type to name",
        );
    }
    if let Data::Union(_) = cont.data {
        return;
    }
    let accessors = matches!(cont.data, Data::Struct(..)) && cont.attrs.plain.is_none();
    if !accessors {
        for f in cont.all_fields() {
            if let Some(n) = &f.attrs.name {
                let why = if cont.attrs.plain.is_some() {
                    "a `#[pmem(plain)]` type has no accessors (its view is a plain `&mut`)"
                } else {
                    "enum variant fields have no accessors (an enum is replaced whole)"
                };
                cx.error_spanned_by(
                    n,
                    format!("`#[pmem(name = ...)]` has no effect here: {why}"),
                );
            }
        }
    }
}

/// Two fields renamed to the same accessor name would generate clashing methods.
fn accessor_names_are_unique(cx: &Ctxt, cont: &Container<'_>) {
    let Data::Struct(style, fields) = &cont.data else {
        return;
    };
    if *style == Style::Unit || cont.attrs.plain.is_some() {
        return;
    }
    let mut seen: Vec<syn::Ident> = Vec::new();
    for f in fields {
        let base = f.accessor_base();
        if seen.contains(&base) {
            let span = f
                .attrs
                .name
                .as_ref()
                .map_or_else(|| f.original.span(), syn::Ident::span);
            cx.syn_error(syn::Error::new(
                span,
                format!("two fields would both get the accessors `{base}_mut` and `set_{base}`; rename one with `#[pmem(name = ...)]`"),
            ));
        } else {
            seen.push(base);
        }
    }
}

/// Why `ty` cannot persist and what to use instead, when its syntax tells.
fn non_persistent(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Reference(r) => Some(format!(
            "a reference is an address in this process; use `PPtr<{}>` to link to a value in the same pool, or own the value",
            type_string(&r.elem)
        )),
        syn::Type::Ptr(p) => Some(format!(
            "a raw pointer is an address in this process; use `PPtr<{}>` (a pool offset)",
            type_string(&p.elem)
        )),
        syn::Type::BareFn(_) => Some(
            "a function pointer is an address in this process; store a tag (an integer or enum) and map it to the function when you read it"
                .to_string(),
        ),
        syn::Type::TraitObject(_) | syn::Type::ImplTrait(_) => Some(
            "a trait object's vtable is an address in this process; use an enum with one variant per implementation".to_string(),
        ),
        syn::Type::Slice(s) => Some(format!("a slice has no fixed size; use `PVec<{}>`", type_string(&s.elem))),
        syn::Type::Array(a) => non_persistent(&a.elem),
        syn::Type::Paren(p) => non_persistent(&p.elem),
        syn::Type::Group(g) => non_persistent(&g.elem),
        syn::Type::Tuple(t) => t.elems.iter().find_map(non_persistent),
        syn::Type::Path(p) if p.qself.is_none() => std_type(&p.path),
        _ => None,
    }
}

/// Advice for the std types that hold addresses, when `path` names one (bare, or
/// through `std`/`alloc`/`core`).
fn std_type(path: &syn::Path) -> Option<String> {
    let segs: Vec<_> = path.segments.iter().collect();
    let last = segs.last()?;
    let from_std = segs.len() == 1
        || ["std", "alloc", "core"]
            .iter()
            .any(|root| segs[0].ident == root);
    if !from_std {
        return None;
    }
    let args: Vec<&syn::Type> = match &last.arguments {
        syn::PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|g| {
                if let syn::GenericArgument::Type(t) = g {
                    Some(t)
                } else {
                    None
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    let arg = |i: usize| {
        args.get(i)
            .map_or_else(|| "T".to_string(), |t| type_string(t))
    };
    let name = last.ident.to_string();
    let n = args.len();
    let advice = match (name.as_str(), n) {
        ("Option", 1) => return non_persistent(args[0]),
        ("Vec", 1) => format!("it holds an address in this process's heap; use `PVec<{}>`", arg(0)),
        ("VecDeque" | "LinkedList" | "BinaryHeap", 1) => {
            format!("it holds addresses in this process's heap; use `PVec<{}>`", arg(0))
        }
        ("String", 0) => "it holds an address in this process's heap; use `PString`".to_string(),
        ("PathBuf" | "OsString" | "CString", 0) => {
            "it holds an address in this process's heap; use `PString`".to_string()
        }
        ("Box", 1) => format!("it holds an address in this process's heap; use `PBox<{}>`", arg(0)),
        ("Rc" | "Arc", 1) => format!(
            "it holds an address and a reference count of this process; use `PBox<{0}>` to own the value, or `PPtr<{0}>` to link to one",
            arg(0)
        ),
        ("Weak", 1) => format!("it holds an address in this process; use `PPtr<{}>`", arg(0)),
        ("Cell" | "RefCell" | "UnsafeCell" | "Mutex" | "RwLock", 1) => format!(
            "interior mutability would change pool memory outside a transaction; store the `{}` itself and change it through the view a transaction hands out",
            arg(0)
        ),
        ("HashMap", 2 | 3) => format!(
            "it holds addresses in this process's heap; use `PHashMap<{}, {}>`",
            arg(0),
            arg(1)
        ),
        ("HashSet", 1 | 2) => format!("it holds addresses in this process's heap; use `PHashSet<{}>`", arg(0)),
        ("BTreeMap", 2) => format!(
            "it holds addresses in this process's heap; use `PBTreeMap<{}, {}>`",
            arg(0),
            arg(1)
        ),
        ("BTreeSet", 1) => format!("it holds addresses in this process's heap; use `PBTreeSet<{}>`", arg(0)),
        ("str", 0) => "a `str` has no fixed size; use `PString`".to_string(),
        _ => return None,
    };
    Some(advice)
}

/// `ty` as a person would write it (`Vec<u8>`, not `Vec < u8 >`).
pub(crate) fn type_string(ty: &syn::Type) -> String {
    let s = ty.to_token_stream().to_string();
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ' ' {
            let prev = out.chars().last();
            let next = chars.peek().copied();
            let glue_after = matches!(prev, Some('<' | '&' | ':' | '(' | '[' | '*' | ',' | ';'));
            let glue_before = matches!(next, Some('<' | '>' | ',' | ':' | ')' | ']' | ';'));
            let keep_for_keyword = out.ends_with("dyn")
                || out.ends_with("impl")
                || out.ends_with("mut")
                || out.ends_with("const");
            if glue_before || (glue_after && !keep_for_keyword) {
                continue;
            }
        }
        out.push(c);
    }
    out.replace(',', ", ").replace(';', "; ")
}
