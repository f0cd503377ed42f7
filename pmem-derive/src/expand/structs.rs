//! Expansion for structs: `PSafe`, `Persistent` (fingerprint, schema, visit, free), and
//! either a view type with an accessor pair per field and a whole-value `update`, or,
//! for `#[pmem(plain)]`, the struct as its own view and `Plain`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::persistent::{self, Parts};
use super::{
    as_field, as_persistent, field_schema, field_type, fingerprint_field, marker_path, markers,
    plain_checks, update_method, view_deref, view_struct, Params,
};
use crate::ast::{Container, Field};

pub(super) fn expand(cont: &Container<'_>, fields: &[Field<'_>]) -> TokenStream {
    let g = Params::new(cont);
    let ident = cont.ident;
    let ty_generics = &g.ty_generics;
    let this: syn::Type = syn::parse_quote!(#ident #ty_generics);
    let plain = cont.attrs.plain.is_some();
    let typed: Vec<(TokenStream, syn::Type)> = fields
        .iter()
        .map(|f| (marker_path(None, f), field_type(f, &this)))
        .collect();

    let markers = markers(&[(None, fields)]);
    let checks = plain.then(|| plain_checks(&g, &this, &typed));
    let persistent = persistent_impl(cont, &g, fields, &typed);
    let Params {
        impl_generics,
        where_clause,
        ..
    } = &g;
    let name = ident.to_string();

    // `for<'a>` keeps the bound from being rejected as trivially false, so that a
    // missing `Copy` is reported once, by `plain_checks`, with its own message.
    let plain_where = g.where_with(&quote!(for<'__pmem> #this: ::core::marker::Copy));
    let view_items = if plain {
        quote! {
            // SAFETY: every field is plain (asserted field by field above): the value owns
            // nothing in the pool, and its view is itself, reached through `plain_view`,
            // which snapshots all of its bytes first.
            #[automatically_derived]
            unsafe impl #impl_generics ::pmem::Plain for #this #plain_where {}
        }
    } else {
        let deref = view_deref(cont, &g, &this);
        let accessors = fields
            .iter()
            .zip(&typed)
            .map(|(f, (_, ty))| accessors(&name, &this, f, ty));
        let update = update_method(cont, &this, &typed);
        let view = cont.view_ident();
        quote! {
            #deref
            // Accessor names are `{field}_mut` and `set_{field}` exactly, even when that
            // doubles an underscore (`_pad` -> `set__pad`): predictable beats pretty.
            #[allow(dead_code, non_snake_case, clippy::all, clippy::pedantic)]
            impl #impl_generics #view #ty_generics #where_clause {
                #(#accessors)*
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
            // SAFETY: the struct is `#[repr(C)]` (or `transparent`), not packed (both
            // checked by the derive), and every field is `Persistent`, hence `PSafe`
            // (asserted field by field above and required by the `Persistent` impl):
            // no byte of it is an address of this process.
            #[automatically_derived]
            unsafe impl #impl_generics ::pmem::PSafe for #this #where_clause {}
            #persistent
            #view_items
        };
    }
}

/// The `Persistent` impl.
fn persistent_impl(
    cont: &Container<'_>,
    g: &Params,
    fields: &[Field<'_>],
    typed: &[(TokenStream, syn::Type)],
) -> TokenStream {
    let plain = cont.attrs.plain.is_some();

    let offset = |f: &Field<'_>| {
        let m = &f.member;
        quote!(::core::mem::offset_of!(Self, #m))
    };
    let fp_fields = fields
        .iter()
        .zip(typed)
        .map(|(f, (marker, ty))| fingerprint_field(&f.name(), ty, marker, &offset(f)));
    let schemas = fields
        .iter()
        .zip(typed)
        .map(|(f, (marker, ty))| field_schema(f, ty, marker, &offset(f)));

    let owned = (!plain).then(|| {
        let visits = fields.iter().zip(typed).map(|(f, (marker, ty))| {
            let pt = as_field(ty, marker);
            let m = &f.member;
            let part = format!(".{}", f.name());
            quote! {
                v.enter(#part);
                #pt::visit_owned(&self.#m, v)?;
                v.leave();
            }
        });
        let frees = fields.iter().zip(typed).map(|(f, (marker, ty))| {
            let pt = as_field(ty, marker);
            let m = &f.member;
            quote!(#pt::free_owned(::core::ptr::addr_of_mut!((*ptr).#m))?;)
        });
        let copies = fields.iter().zip(typed).map(|(f, (marker, ty))| {
            let pt = as_field(ty, marker);
            let m = &f.member;
            quote!(#pt::clone_into_pool(&self.#m, ::core::ptr::addr_of_mut!((*dst).#m))?;)
        });
        quote! {
            fn visit_owned(&self, v: &mut ::pmem::Visitor<'_>) -> ::pmem::Result<()> {
                #(#visits)*
                ::core::result::Result::Ok(())
            }
            #[allow(unused_unsafe)]
            unsafe fn clone_into_pool(&self, dst: *mut Self) -> ::pmem::Result<()> {
                // SAFETY: `dst` is writable and lies in the destination's open
                // transaction (caller's contract): the bitwise copy sets every byte,
                // then each field is overwritten by its own relocating copy, under the
                // same contract.
                unsafe {
                    ::core::ptr::copy_nonoverlapping(self, dst, 1);
                    #(#copies)*
                }
                ::core::result::Result::Ok(())
            }
            #[allow(unused_unsafe)]
            unsafe fn free_owned(ptr: *mut Self) -> ::pmem::Result<()> {
                // SAFETY: `ptr` points to a valid value (caller's contract), so each field
                // is a valid value of its type at its offset, with the same contract.
                unsafe {
                    #(#frees)*
                }
                ::core::result::Result::Ok(())
            }
        }
    });

    let migrate = migrate_fn(fields, typed);

    // SAFETY (of the generated impl): `view_mut` answers a view whose every write path
    // snapshots first (field accessors go through each field's own view, `set_` and
    // `update` snapshot before writing); `visit_owned` and `free_owned` cover every
    // field; `validate` checks every field that can hold an invalid pattern; the
    // fingerprint mixes every field's name, fingerprint and offset with the struct's size
    // and alignment.
    persistent::persistent_impl(
        cont,
        g,
        Parts {
            kind: "struct",
            fingerprint_mix: quote!(#(#fp_fields)*),
            shape: quote!(::pmem::__private::Shape::Struct(&[#(#schemas),*])),
            validate: validate_fn(fields, typed),
            owned: Some(quote!(#owned #migrate)),
        },
    )
}

/// `migrate_into_pool`: each field found among the stored struct's fields (by its name,
/// then by its `renamed_from` names) is migrated from there; the others are filled with
/// their `default` function or `Default`; a stored field nobody took was removed.
fn migrate_fn(fields: &[Field<'_>], typed: &[(TokenStream, syn::Type)]) -> TokenStream {
    let steps = fields.iter().zip(typed).map(|(f, (marker, ty))| {
        let pt = as_field(ty, marker);
        let m = &f.member;
        let name = f.name();
        let part = format!(".{name}");
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
            let __pmem_dst = ::core::ptr::addr_of_mut!((*dst).#m);
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
        #[allow(unused_unsafe, unused_variables)]
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
            let mut __pmem_old = old_ty.struct_fields(__pmem_schema)?;
            // SAFETY: `dst` is writable and lies in the destination's open transaction
            // (caller's contract): each field is written once, by its own migration
            // (whose `old` is the stored field, at its stored offset inside the valid
            // old value) or by a default built outside the pool, which owns no pool
            // memory.
            unsafe {
                #(#steps)*
            }
            __pmem_old.finish()
        }
    }
}

/// `f_mut` and `set_f` for one field.
fn accessors(type_name: &str, this: &syn::Type, f: &Field<'_>, ty: &syn::Type) -> TokenStream {
    let base = f.accessor_base();
    let get = format_ident!("{}_mut", base, span = base.span());
    let set = format_ident!("set_{}", base, span = base.span());
    let vis = f.vis;
    let m = &f.member;
    let pt = as_persistent(ty);
    let field = f.name();
    let get_doc = format!(
        "The view of field `{field}` of [`{type_name}`], for changing it inside the transaction.\n\n\
         For plain data (an integer, say) this snapshots the field's bytes and answers `&mut` \
         to them; for a nested persistent type or a collection it answers that type's own \
         view, whose methods snapshot only what each change touches."
    );
    let set_doc = format!(
        "Replaces field `{field}` of [`{type_name}`] inside the transaction: snapshots the \
         field, writes `value`, and frees (when the transaction commits) what the old value \
         owned.\n\n\
         # Errors\n\
         An error from building `value` in the pool (such as `pmem::Error::OutOfSpace`); \
         the field then keeps its old value."
    );
    quote! {
        #[doc = #get_doc]
        #[inline]
        #vis fn #get(&mut self) -> &mut #pt::View
        where
            for<'__pmem> #ty: ::pmem::Persistent,
        {
            let p = ::core::ptr::from_mut(self).cast::<#this>();
            // SAFETY: the view lies over a valid value in a pool whose transaction is open
            // on this thread (views are only handed out by transactions); the field's view
            // borrows `self` exclusively and so cannot outlive it.
            unsafe { #pt::view_mut(::core::ptr::addr_of_mut!((*p).#m)) }
        }

        #[doc = #set_doc]
        #[inline]
        #vis fn #set(&mut self, value: impl ::pmem::PInit<#ty>) -> ::pmem::Result<()>
        where
            for<'__pmem> #ty: ::pmem::Persistent,
        {
            let p = ::core::ptr::from_mut(self).cast::<#this>();
            // SAFETY: as for the accessor above; `replace` snapshots before writing.
            unsafe { ::pmem::__private::replace(::core::ptr::addr_of_mut!((*p).#m), value) }
        }
    }
}

/// `MAY_BE_INVALID` and `validate`: every field whose type can hold an invalid pattern
/// is validated at its offset, and a failure names the field.
fn validate_fn(fields: &[Field<'_>], typed: &[(TokenStream, syn::Type)]) -> TokenStream {
    let may_be_invalid = typed.iter().map(|(marker, ty)| {
        let pt = as_field(ty, marker);
        quote!(|| #pt::MAY_BE_INVALID)
    });
    let validations = fields.iter().zip(typed).map(|(f, (marker, ty))| {
        let pt = as_field(ty, marker);
        let m = &f.member;
        let part = format!(".{}", f.name());
        quote! {
            if #pt::MAY_BE_INVALID {
                let field = ::core::ptr::addr_of!((*ptr).#m);
                // SAFETY: the field lies inside the readable value at `ptr`, aligned.
                unsafe { #pt::validate(field) }
                    .map_err(|e| e.within(#part, field as usize - ptr as usize))?;
            }
        }
    });
    quote! {
        const MAY_BE_INVALID: bool = false #(#may_be_invalid)*;
        #[allow(unused_unsafe)]
        unsafe fn validate(ptr: *const Self) -> ::core::result::Result<(), ::pmem::Invalid> {
            #(#validations)*
            let _ = ptr;
            ::core::result::Result::Ok(())
        }
    }
}
