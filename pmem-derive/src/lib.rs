//! `#[derive(Persistent)]` for [pmem](https://docs.rs/pmem): makes a `#[repr(C)]` struct
//! or an enum with an integer `repr` storable in a pool and changeable in place inside
//! transactions. Use it through the `pmem` crate (`use pmem::Persistent;`), whose
//! generated code this crate emits with `::pmem::...` paths.
//!
//! The stages follow `serde_derive`: `ast` (the input with attributes parsed),
//! `attr` (each attribute parsed once), `check` (one function per rule, every
//! violation reported), `expand` (code generation).

mod ast;
mod attr;
mod check;
mod ctxt;
mod expand;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Derives `pmem::Persistent` (and `pmem::PSafe`) for a `#[repr(C)]` struct or an enum
/// with an explicit integer `repr`, plus a *view type* through which a transaction
/// changes the value in place.
///
/// # What it generates
///
/// For `struct Account { owner: PString, balance: i64 }`:
///
/// - `unsafe impl PSafe` and `unsafe impl Persistent for Account`, with a layout
///   fingerprint (the type's name; every field's name, type fingerprint and offset; size
///   and alignment), a schema descriptor (`Account::SCHEMA`: field names, offsets and
///   types, each plain data, a pointer or a collection), and a walk over owned pool
///   memory for `pool.check()`;
/// - `pub struct AccountMut` (same visibility as the struct; rename it with
///   `#[pmem(view = Name)]`), the type of `tx.root_mut()` for an `Account` root. It
///   derefs to `&Account` for reads, and has, per field `f: F` (with the field's
///   visibility):
///   - `f_mut(&mut self) -> &mut <F as Persistent>::View`: for plain data (integers,
///     arrays...) a snapshot of exactly that field, then `&mut F`; for a nested derived
///     type or a collection, its own view, with no whole-field snapshot;
///   - `set_f(&mut self, value: impl PInit<F>) -> pmem::Result<()>`: snapshot, write,
///     and free (at commit) what the old value owned;
///   - for tuple structs these are `field_0_mut` / `set_field_0`...; rename any field's
///     accessors with `#[pmem(name = ident)]` on the field;
/// - `update(&mut self, f: impl FnOnce(&mut Account) -> R) -> R`, callable when every
///   field is plain data: one snapshot of the whole struct, then `f` gets `&mut`.
///
/// Enums (`#[repr(u8)]`, `#[repr(C, u32)]`...; fieldless or with data) get a view with
/// `set(value)` (the enum is replaced whole) and, when every field is plain, `update`.
///
/// With `#[pmem(plain)]` on a `Copy` type whose fields are all plain data, the type is
/// instead its own view (like an integer: `&mut T` after a snapshot of the whole value)
/// and implements `pmem::Plain`, so it can be used in arrays and `Option`s.
///
/// Generic parameters get a `T: Persistent` bound (`T: Plain` for plain types); add
/// stronger bounds on the type itself where a field needs them (`[T; 4]` needs
/// `T: Plain`). Lifetimes, unions, `#[repr(packed)]` and structs without `#[repr(C)]`
/// are rejected with a message saying why; so are fields whose type holds addresses of
/// the process (`Vec`, `String`, `Box`, references, `Rc`, `Cell`, `HashMap`...), and the
/// message names the persistent type to use instead.
///
/// # Limits
///
/// - The generated code implements `unsafe` traits, so a crate that denies
///   `unsafe_code` must allow it where it derives (`forbid` cannot be relaxed).
/// - An enum's view replaces the value whole (`set`, `update`); there is no view into
///   one variant's fields, so a variant holding a collection is built complete
///   (through a `PInit` of the enum) rather than changed in place.
/// - Misuse and the exact compiler messages are listed in `docs/MISUSE.md`.
///
/// # Examples
///
/// ```
/// use pmem::{Persistent, Pool};
///
/// #[derive(Persistent, Default)]
/// #[repr(C)]
/// struct Counter { hits: u64, last: i64 }
///
/// let mut pool = Pool::<Counter>::volatile()?;
/// pool.tx(|tx| {
///     let c = tx.root_mut();          // &mut CounterMut
///     *c.hits_mut() += 1;             // snapshots the 8 bytes of `hits`, then writes
///     c.set_last(-5)?;
///     c.update(|c| c.hits *= 10);     // one snapshot of the whole struct
///     Ok::<_, pmem::Error>(())
/// })?;
/// assert_eq!(pool.read(|c| (c.hits, c.last))?, (10, -5));
/// # Ok::<(), pmem::Error>(())
/// ```
///
/// A data-carrying enum, replaced whole:
///
/// ```
/// use pmem::{Persistent, Pool};
///
/// #[derive(Persistent, Default, Debug, PartialEq)]
/// #[repr(u8)]
/// enum Shape { #[default] Empty, Circle { r: f64 }, Rect(f64, f64) }
///
/// #[derive(Persistent, Default)]
/// #[repr(C)]
/// struct Canvas { shape: Shape, version: u32 }
///
/// let mut pool = Pool::<Canvas>::volatile()?;
/// pool.tx(|tx| {
///     let canvas = tx.root_mut();
///     canvas.set_shape(Shape::Rect(2.0, 3.0))?;
///     *canvas.version_mut() += 1;
///     Ok::<_, pmem::Error>(())
/// })?;
/// assert_eq!(pool.read(|c| c.shape == Shape::Rect(2.0, 3.0))?, true);
/// # Ok::<(), pmem::Error>(())
/// ```
#[proc_macro_derive(Persistent, attributes(pmem))]
pub fn derive_persistent(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
