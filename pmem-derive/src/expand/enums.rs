//! Expansion for enums with an explicit integer `repr`: `PSafe`, `Persistent`, and a
//! view through which the value is replaced whole (`set`) or, when every field is plain
//! data, changed in one go (`update`); or, for `#[pmem(plain)]`, the enum as its own
//! view and `Plain`.
//!
//! Field offsets come from the layout the `repr` guarantees (RFC 2195): with
//! `#[repr(Int)]` each variant is laid out as a `#[repr(C)]` struct of the tag followed
//! by the variant's fields; with `#[repr(C, Int)]` the tag is followed by a `#[repr(C)]`
//! union of one `#[repr(C)]` struct per variant. The expansion declares those structs
//! (`__PmemVariant_*`) and takes offsets from them, since `offset_of!` does not reach
//! into enum variants on stable Rust.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::persistent::{self, Parts};
use super::{
    as_field, field_schema, field_type, fingerprint_field, marker_path, markers, plain_checks,
    update_method, view_deref, view_struct, Params,
};
use crate::ast::{Container, Style, Variant};

pub(super) fn expand(cont: &Container<'_>, variants: &[Variant<'_>]) -> TokenStream {
    let g = Params::new(cont);
    let ident = cont.ident;
    let ty_generics = &g.ty_generics;
    let this: syn::Type = syn::parse_quote!(#ident #ty_generics);
    let plain = cont.attrs.plain.is_some();
    let typed: Vec<Vec<(TokenStream, syn::Type)>> = variants
        .iter()
        .map(|v| {
            v.fields
                .iter()
                .map(|f| (marker_path(Some(v.ident), f), field_type(f, &this)))
                .collect()
        })
        .collect();
    let all_typed: Vec<(TokenStream, syn::Type)> = typed.iter().flatten().cloned().collect();

    let groups: Vec<_> = variants
        .iter()
        .map(|v| (Some(v.ident), &v.fields[..]))
        .collect();
    let markers = markers(&groups);
    let checks = plain.then(|| plain_checks(&g, &this, &all_typed));
    let shadows = shadow_structs(cont, &g, variants, &typed);
    let persistent = persistent_impl(cont, &g, variants, &typed);
    let Params {
        impl_generics,
        where_clause,
        ..
    } = &g;

    // `for<'a>` keeps the bound from being rejected as trivially false, so that a
    // missing `Copy` is reported once, by `plain_checks`, with its own message.
    let plain_where = g.where_with(&quote!(for<'__pmem> #this: ::core::marker::Copy));
    let view_items = if plain {
        quote! {
            // SAFETY: every field of every variant is plain (asserted above): the value
            // owns nothing in the pool, and its view is itself, reached through
            // `plain_view`, which snapshots all of its bytes first.
            #[automatically_derived]
            unsafe impl #impl_generics ::pmem::Plain for #this #plain_where {}
        }
    } else {
        let deref = view_deref(cont, &g, &this);
        let update = update_method(cont, &this, &all_typed);
        let view = cont.view_ident();
        let vis = cont.vis;
        let doc = format!(
            "Replaces the whole [`{ident}`] inside the transaction: snapshots it, writes `value`, \
             and frees (when the transaction commits) what the old value owned.\n\n\
             # Errors\n\
             An error from building `value` in the pool (such as `pmem::Error::OutOfSpace`); \
             the value is then left as it was."
        );
        quote! {
            #deref
            #[allow(dead_code, clippy::all, clippy::pedantic)]
            impl #impl_generics #view #ty_generics #where_clause {
                #[doc = #doc]
                #[inline]
                #vis fn set(&mut self, value: impl ::pmem::PInit<#this>) -> ::pmem::Result<()> {
                    let p = ::core::ptr::from_mut(self).cast::<#this>();
                    // SAFETY: the view lies over a valid value in a pool whose transaction
                    // is open on this thread (views are only handed out by transactions),
                    // and `&mut self` makes the access exclusive; `replace` snapshots
                    // before writing.
                    unsafe { ::pmem::__private::replace(p, value) }
                }
                #update
            }
        }
    };
    let view_struct = (!plain).then(|| view_struct(cont, &g));

    quote! {
        #view_struct
        #[allow(non_local_definitions)]
        const _: () = {
            #markers
            #checks
            #shadows
            // SAFETY: the enum has an explicit integer `repr` and is not packed (checked by
            // the derive), so its layout is fixed; every field of every variant is
            // `Persistent`, hence `PSafe` (asserted above and required by the `Persistent`
            // impl); write paths store only valid values of the enum.
            #[automatically_derived]
            unsafe impl #impl_generics ::pmem::PSafe for #this #where_clause {}
            #persistent
            #view_items
        };
    }
}

fn shadow_ident(v: &Variant<'_>) -> syn::Ident {
    format_ident!("__PmemVariant_{}", v.ident)
}

/// The `#[repr(C)]` struct each variant is laid out as (see the module docs).
fn shadow_structs(
    cont: &Container<'_>,
    g: &Params,
    variants: &[Variant<'_>],
    typed: &[Vec<(TokenStream, syn::Type)>],
) -> TokenStream {
    let int = cont
        .attrs
        .repr
        .int
        .as_ref()
        .expect("checked: enums have an integer repr");
    let with_c = cont.attrs.repr.c.is_some();
    let Params {
        impl_generics,
        where_clause,
        phantom,
        ..
    } = g;
    let structs = variants.iter().zip(typed).map(|(v, fields)| {
        let name = shadow_ident(v);
        let tys = fields.iter().map(|(_, ty)| ty);
        let tag = (!with_c).then(|| quote!(#int,));
        let phantom = phantom.as_ref().map(|p| quote!(#p,));
        quote! {
            #[repr(C)]
            #[allow(non_camel_case_types, dead_code, clippy::all, clippy::pedantic)]
            struct #name #impl_generics (#tag #(#tys,)* #phantom) #where_clause;
        }
    });
    quote!(#(#structs)*)
}

/// The discriminant of each variant as an `i128` constant expression: the written one,
/// or one more than the previous variant's (the first defaults to 0).
fn discriminants(cont: &Container<'_>, variants: &[Variant<'_>]) -> Vec<TokenStream> {
    let int = cont
        .attrs
        .repr
        .int
        .as_ref()
        .expect("checked: enums have an integer repr");
    let mut base = quote!(0i128);
    let mut step = 0u64;
    let mut out = Vec::with_capacity(variants.len());
    for v in variants {
        if let Some(e) = v.discriminant {
            base = quote!({ let d: #int = #e; d as i128 });
            step = 0;
        }
        let s = i128::from(step);
        out.push(quote!((#base + #s)));
        step += 1;
    }
    out
}

/// The offset of field `k` of variant `v` from the start of the enum.
fn field_offset(
    cont: &Container<'_>,
    g: &Params,
    variants: &[Variant<'_>],
    v: &Variant<'_>,
    k: usize,
) -> TokenStream {
    let int = cont
        .attrs
        .repr
        .int
        .as_ref()
        .expect("checked: enums have an integer repr");
    let ty_generics = &g.ty_generics;
    let name = shadow_ident(v);
    if cont.attrs.repr.c.is_none() {
        let ix = syn::Index::from(k + 1);
        quote!(::core::mem::offset_of!(#name #ty_generics, #ix))
    } else {
        // `repr(C, Int)`: the union of variant structs starts after the tag, aligned to
        // the most aligned variant.
        let ix = syn::Index::from(k);
        let aligns = variants.iter().map(|v| {
            let n = shadow_ident(v);
            quote!(::core::mem::align_of::<#n #ty_generics>())
        });
        quote!({
            let mut a = 1usize;
            #( if #aligns > a { a = #aligns; } )*
            let tag = ::core::mem::size_of::<#int>();
            tag.next_multiple_of(a) + ::core::mem::offset_of!(#name #ty_generics, #ix)
        })
    }
}

/// A pattern binding every field of `v` as `__pmem_0`, `__pmem_1`...
fn pattern(v: &Variant<'_>) -> TokenStream {
    pattern_with(v, "__pmem_")
}

/// A pattern binding every field of `v` as `{prefix}0`, `{prefix}1`...
fn pattern_with(v: &Variant<'_>, prefix: &str) -> TokenStream {
    let vid = v.ident;
    let binds = (0..v.fields.len()).map(|k| format_ident!("{}{}", prefix, k));
    match v.style {
        Style::Unit => quote!(Self::#vid),
        Style::Tuple => quote!(Self::#vid(#(#binds),*)),
        Style::Named => {
            let names = v.fields.iter().map(|f| &f.member);
            quote!(Self::#vid { #(#names: #binds),* })
        }
    }
}

/// The `Persistent` impl.
fn persistent_impl(
    cont: &Container<'_>,
    g: &Params,
    variants: &[Variant<'_>],
    typed: &[Vec<(TokenStream, syn::Type)>],
) -> TokenStream {
    let name = cont.ident.to_string();
    let plain = cont.attrs.plain.is_some();
    let int = cont
        .attrs
        .repr
        .int
        .as_ref()
        .expect("checked: enums have an integer repr");
    let repr = if cont.attrs.repr.c.is_some() {
        format!("C, {int}")
    } else {
        int.to_string()
    };
    let discs = discriminants(cont, variants);

    let offsets = variant_offsets(cont, g, variants);

    let fp_variants =
        variants
            .iter()
            .zip(typed)
            .zip(&discs)
            .zip(&offsets)
            .map(|(((v, fields), d), offs)| {
                let vname = v.ident.to_string();
                let fs = v
                    .fields
                    .iter()
                    .zip(fields)
                    .zip(offs)
                    .map(|((f, (marker, ty)), off)| fingerprint_field(&f.name(), ty, marker, off));
                quote! {
                    let h = ::pmem::__private::fp_str(h, #vname);
                    let h = ::pmem::__private::fp_u64(h, #d as u64);
                    let h = ::pmem::__private::fp_u64(h, (#d >> 64) as u64);
                    #(#fs)*
                }
            });

    let schema_variants = variants.iter().zip(typed).zip(&discs).zip(&offsets).map(|(((v, fields), d), offs)| {
        let vname = v.ident.to_string();
        let fs = v.fields.iter().zip(fields).zip(offs).map(|((f, (marker, ty)), off)| field_schema(f, ty, marker, off));
        quote! {
            ::pmem::__private::VariantSchema { name: #vname, discriminant: #d, fields: &[#(#fs),*] }
        }
    });

    // SAFETY (of the generated impl): `view_mut` answers a view whose every write path
    // snapshots first (`set` and `update` snapshot the whole value); `visit_owned` and
    // `free_owned` cover every field of the live variant; the fingerprint mixes the repr,
    // every variant's name and discriminant, and every field's name, fingerprint and
    // offset with the enum's size and alignment.
    persistent::persistent_impl(
        cont,
        g,
        Parts {
            kind: "enum",
            fingerprint_mix: quote! {
                let h = ::pmem::__private::fp_str(h, #repr);
                #(#fp_variants)*
            },
            shape: quote! {
                ::pmem::__private::Shape::Enum { repr: #repr, variants: &[#(#schema_variants),*] }
            },
            validate: validate_fn(&name, int, variants, typed, &discs, &offsets),
            owned: {
                let owned = (!plain).then(|| owned_fns(variants, typed));
                let migrate = migrate_fn(int, variants, typed, &discs, &offsets);
                Some(quote!(#owned #migrate))
            },
        },
    )
}

/// `migrate_into_pool`: the stored tag's variant is found by name in `Self` (appended
/// variants are new names; old tags keep their meaning because the variant is matched
/// by name, not by number; a removed variant is refused). Then, exactly as for a
/// struct, each field of the new variant is migrated from the stored variant's field of
/// its name (or a `renamed_from` name), in place at its offset inside `dst`; the others
/// get their `default` function or `Default`; a stored field nobody took was removed.
/// The tag is written as the `repr` integer at offset 0, the layout the `repr`
/// guarantees (see the module docs).
fn migrate_fn(
    int: &syn::Ident,
    variants: &[Variant<'_>],
    typed: &[Vec<(TokenStream, syn::Type)>],
    discs: &[TokenStream],
    offsets: &[Vec<TokenStream>],
) -> TokenStream {
    let arms = variants
        .iter()
        .zip(typed)
        .zip(discs)
        .zip(offsets)
        .map(|(((v, fields), d), offs)| {
            let vname = v.ident.to_string();
            let vpart = format!("::{vname}");
            let steps = v.fields.iter().zip(fields).zip(offs).map(|((f, (marker, ty)), off)| {
                let pt = as_field(ty, marker);
                let name = f.name();
                let part = format!("::{vname}.{name}");
                let olds = &f.attrs.renamed_from;
                let default = match &f.attrs.default {
                    Some(path) => quote!(::core::option::Option::Some(#path())),
                    None => quote! {{
                        #[allow(unused_imports)]
                        use ::pmem::__private::{NoDefault as _, ViaDefault as _};
                        (&::pmem::__private::DefaultProbe::<#ty>::new()).probe()
                    }},
                };
                quote! {
                    let __pmem_dst = dst.cast::<u8>().add(#off).cast::<#ty>();
                    match __pmem_old.take(#name, &[#(#olds),*]) {
                        ::core::option::Option::Some((__pmem_off, __pmem_ty)) => {
                            #pt::migrate_into_pool(old.add(__pmem_off), __pmem_ty, __pmem_dst)
                                .map_err(|e| ::pmem::__private::auto::within(e, #part))?;
                        }
                        ::core::option::Option::None => match #default {
                            ::core::option::Option::Some(v) => ::core::ptr::write(__pmem_dst, v),
                            ::core::option::Option::None => {
                                return ::core::result::Result::Err(::pmem::Error::NotAutoMigratable {
                                    path: ::core::convert::Into::into(#part),
                                    change: ::core::convert::Into::into(
                                        "field added, and its type has no Default; give the field \
                                         #[pmem(default = \"path::to::fn\")]",
                                    ),
                                });
                            }
                        },
                    }
                }
            });
            quote! {
                #vname => {
                    dst.cast::<#int>().write((#d) as #int);
                    #(#steps)*
                    __pmem_old
                        .finish()
                        .map_err(|e| ::pmem::__private::auto::within(e, #vpart))?;
                }
            }
        });
    quote! {
        #[allow(
            unused_unsafe,
            unused_variables,
            unused_mut,
            clippy::cast_possible_truncation,
            clippy::cast_possible_wrap,
            clippy::cast_sign_loss,
            clippy::unnecessary_cast
        )]
        unsafe fn migrate_into_pool(
            old: *const u8,
            old_ty: ::pmem::__private::auto::OldType<'_>,
            dst: *mut Self,
        ) -> ::pmem::Result<()> {
            let __pmem_schema = <Self as ::pmem::Persistent>::SCHEMA;
            if old_ty.identical_to(__pmem_schema) {
                // SAFETY: the stored graph from `old_ty` on equals `Self`'s, so the
                // valid, aligned value at `old` is a valid `Self` (caller's contract).
                return unsafe {
                    <Self as ::pmem::Persistent>::clone_into_pool(&*old.cast::<Self>(), dst)
                };
            }
            // SAFETY: `old` is a readable value of the stored type (caller's contract).
            let (__pmem_name, mut __pmem_old) =
                unsafe { old_ty.enum_variant_fields(old, __pmem_schema)? };
            // SAFETY: `dst` is valid for writes of a `Self`, lies in the destination's
            // open transaction and owns nothing (caller's contract). Its bytes are
            // zeroed first, so the bytes no write below covers (padding, the unused
            // tail of a shorter variant) are initialised. The layout is the one the
            // integer `repr` guarantees: the tag, of the `repr` integer, at offset 0,
            // written as the new variant's discriminant; each field at the offset the
            // schema records for it (taken from the variant's `#[repr(C)]` shadow
            // struct), aligned for its type, written once: by its own migration (whose
            // `old` is the stored field, at its stored offset, checked by
            // `enum_variant_fields` to lie inside the valid old value; whose `dst` is in
            // the pool, as owning fields need) or by a default built outside the pool,
            // which owns no pool memory. With the tag and every field of the variant
            // written, `*dst` is a valid `Self`; `zero_padding_of` then zeroes what the
            // typed writes left uninitialised inside the fields.
            unsafe {
                ::core::ptr::write_bytes(dst.cast::<u8>(), 0, ::core::mem::size_of::<Self>());
                match __pmem_name {
                    #(#arms)*
                    other => {
                        return ::core::result::Result::Err(::pmem::Error::NotAutoMigratable {
                            path: ::std::format!("::{other}"),
                            change: ::core::convert::Into::into("variant removed"),
                        });
                    }
                }
                ::pmem::__private::auto::zero_padding_of(dst);
            }
            ::core::result::Result::Ok(())
        }
    }
}

/// `visit_owned` and `free_owned`: a `match` over the variants, each field of the live
/// one visited or freed.
fn owned_fns(variants: &[Variant<'_>], typed: &[Vec<(TokenStream, syn::Type)>]) -> TokenStream {
    let visit_arms = variants.iter().zip(typed).map(|(v, fields)| {
        let pat = pattern(v);
        let visits = fields.iter().enumerate().map(|(k, (marker, ty))| {
            let pt = as_field(ty, marker);
            let binding = format_ident!("__pmem_{}", k);
            let label = format!("::{}.{}", v.ident, v.fields[k].name());
            quote! {
                v.enter(#label);
                #pt::visit_owned(#binding, v)?;
                v.leave();
            }
        });
        quote!(#pat => { #(#visits)* })
    });
    let free_arms = variants.iter().zip(typed).map(|(v, fields)| {
        let pat = pattern(v);
        let frees = fields.iter().enumerate().map(|(k, (marker, ty))| {
            let pt = as_field(ty, marker);
            let b = format_ident!("__pmem_{}", k);
            quote!(#pt::free_owned(#b)?;)
        });
        quote!(#pat => {
            // SAFETY: each binding is a valid value of its field's type inside the
            // value at `ptr`, under the same contract.
            unsafe { #(#frees)* }
        })
    });
    let copy_arms = variants.iter().zip(typed).map(|(v, fields)| {
        let src = pattern(v);
        let dst = pattern_with(v, "__pmem_dst_");
        let copies = fields.iter().enumerate().map(|(k, (marker, ty))| {
            let pt = as_field(ty, marker);
            let (a, b) = (
                format_ident!("__pmem_{}", k),
                format_ident!("__pmem_dst_{}", k),
            );
            quote!(#pt::clone_into_pool(#a, ::core::ptr::from_mut(#b))?;)
        });
        quote!((#src, #dst) => { #(#copies)* })
    });
    quote! {
        fn visit_owned(&self, v: &mut ::pmem::Visitor<'_>) -> ::pmem::Result<()> {
            match self {
                #(#visit_arms)*
            }
            ::core::result::Result::Ok(())
        }
        #[allow(unused_unsafe, unreachable_patterns)]
        unsafe fn clone_into_pool(&self, dst: *mut Self) -> ::pmem::Result<()> {
            // SAFETY: `dst` is writable and lies in the destination's open transaction
            // (caller's contract). The bitwise copy makes `*dst` a valid value of the
            // same variant (its pointers still name the source pool, but are only
            // overwritten, never followed); each field is then overwritten by its own
            // relocating copy, under the same contract.
            unsafe {
                ::core::ptr::copy_nonoverlapping(self, dst, 1);
                match (self, &mut *dst) {
                    #(#copy_arms)*
                    _ => {}
                }
            }
            ::core::result::Result::Ok(())
        }
        #[allow(unused_unsafe)]
        unsafe fn free_owned(ptr: *mut Self) -> ::pmem::Result<()> {
            // SAFETY: `ptr` points to a valid value, lent exclusively (caller's contract).
            match unsafe { &mut *ptr } {
                #(#free_arms)*
            }
            ::core::result::Result::Ok(())
        }
    }
}

/// `MAY_BE_INVALID` and `validate`: the tag must be a declared discriminant, and each
/// field of that variant is validated at its offset.
fn validate_fn(
    name: &str,
    int: &syn::Ident,
    variants: &[Variant<'_>],
    typed: &[Vec<(TokenStream, syn::Type)>],
    discs: &[TokenStream],
    offsets: &[Vec<TokenStream>],
) -> TokenStream {
    let int_ty: syn::Type = syn::parse_str(&int.to_string()).expect("an integer repr is a type");
    let validate_arms =
        variants
            .iter()
            .zip(typed)
            .zip(discs)
            .zip(offsets)
            .map(|(((v, fields), d), offs)| {
                let vname = format!("::{}", v.ident);
                let checks = v.fields.iter().zip(fields).zip(offs).map(
                    |((f, (marker, ty)), off)| {
                        let pt = as_field(ty, marker);
                        let part = format!(".{}", f.name());
                        quote! {
                            if #pt::MAY_BE_INVALID {
                                // SAFETY: the variant's field lies at this offset inside the readable
                                // value (the layout its `repr` guarantees), aligned for its type.
                                unsafe { #pt::validate(ptr.cast::<u8>().add(#off).cast::<#ty>()) }
                                    .map_err(|e| e.within(#part, #off).within(#vname, 0))?;
                            }
                        }
                    },
                );
                quote! {
                    if tag == #d {
                        #(#checks)*
                        return ::core::result::Result::Ok(());
                    }
                }
            });
    quote! {
            // The tag itself can be invalid.
        const MAY_BE_INVALID: bool = true;
        #[allow(unused_unsafe, clippy::unnecessary_cast)]
        unsafe fn validate(ptr: *const Self) -> ::core::result::Result<(), ::pmem::Invalid> {
            // SAFETY: the tag is the `repr` integer at offset 0 of the readable value;
            // it is read as that integer, not as the enum.
            let tag = unsafe { ptr.cast::<#int_ty>().read() } as i128;
            #(#validate_arms)*
            ::core::result::Result::Err(::pmem::Invalid::new(
                ::std::format!("{} tag {} is not a declared discriminant", #name, tag),
                ::core::mem::size_of::<#int_ty>(),
            ))
        }
    }
}

/// The offset of every field of every variant (see `field_offset`).
fn variant_offsets(
    cont: &Container<'_>,
    g: &Params,
    variants: &[Variant<'_>],
) -> Vec<Vec<TokenStream>> {
    variants
        .iter()
        .map(|v| {
            (0..v.fields.len())
                .map(|k| field_offset(cont, g, variants, v, k))
                .collect()
        })
        .collect()
}
