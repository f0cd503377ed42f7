//! pmem: ordinary Rust structs and collections kept in a memory-mapped pool file and
//! edited in place inside transactions that are all-or-nothing across errors, panics,
//! process kills and power loss.
//!
//! This facade re-exports the engine ([`pmem_core`]), the persistent collections
//! ([`pmem_collections`]) and `#[derive(Persistent)]`. The guide below is a tour, each
//! stop with an example that runs (and is tested) as it is written; the API pages have
//! one on every method. `docs/ARCHITECTURE.md` is the format and the protocols, for
//! when you need to know how; `docs/MISUSE.md` lists every misuse the compiler refuses.
//!
//! # Guide
//!
//! ## 1. Pools and files
//!
//! A [`Pool<R>`](Pool) is a file holding one *root* value of type `R`; everything else
//! in the pool hangs off the root. [`Pool::open_or_create`] opens the file, or creates
//! it with `R::default()` as the root; [`Pool::open`] and [`Pool::create`] do one or the
//! other. Reads go through [`Pool::read`], a closure that gets `&R` (plain field
//! access into mapped memory); changes go through [`Pool::tx`].
//!
//! ```
//! use pmem::{Error, Pool};
//! # let dir = std::env::temp_dir().join(format!("pmem-guide-1-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("counter.pool");
//! for run in 1..=3u64 {
//!     let mut pool = Pool::<u64>::open_or_create(&path)?; // root: 0 the first time
//!     pool.tx(|tx| {
//!         *tx.root_mut() += 1;
//!         Ok::<_, Error>(())
//!     })?; // durable when `tx` returns
//!     assert_eq!(pool.read(|n| *n)?, run); // carried over from the earlier runs
//! } // dropping the last handle closes the pool: one file again, `counter.pool`
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), pmem::Error>(())
//! ```
//!
//! A pool is one file while closed and two (`NAME` and `NAME.log`) while open or after a
//! crash; copy both, or close it first (README, "A pool's files"). A pool is locked
//! while open: a second handle from elsewhere gets [`Error::Locked`]. Clone a
//! [`Pool`] to share it between threads. For options (layout name, sizes, durability,
//! read-only) use [`Pool::<R>::options()`](Pool::options), whose `open_or_create`
//! answers a `Pool<R>` without annotations, or [`PoolOptions::new()`](PoolOptions::new)
//! with the type at the call: `PoolOptions::new().open_or_create::<R>(path)`.
//!
//! ## 2. Transactions and rollback
//!
//! [`Pool::tx`] runs a closure as one transaction. `Ok` commits; `Err` (any error type
//! with `From<pmem::Error>`) rolls back; a panic rolls back and keeps unwinding. A
//! rollback leaves the pool byte for byte as it was, allocations included, and a crash
//! or power cut in the middle leaves it as of the last commit.
//!
//! ```
//! use pmem::{Error, Pool};
//! let mut pool = Pool::<(i64, i64)>::volatile()?; // in memory: handy for tests
//! pool.tx(|tx| {
//!     *tx.root_mut() = (100, 0);
//!     Ok::<_, Error>(())
//! })?;
//!
//! #[derive(Debug)]
//! enum Transfer { Insufficient, Pool(Error) }
//! impl From<Error> for Transfer {
//!     fn from(e: Error) -> Self { Transfer::Pool(e) }
//! }
//!
//! let r = pool.tx(|tx| {
//!     let accounts = tx.root_mut();
//!     accounts.1 += 150;      // credited first...
//!     accounts.0 -= 150;
//!     if accounts.0 < 0 {
//!         return Err(Transfer::Insufficient); // ...and rolled back with the rest
//!     }
//!     Ok(())
//! });
//! assert!(matches!(r, Err(Transfer::Insufficient)));
//! assert_eq!(pool.read(|a| *a)?, (100, 0));
//! # Ok::<(), pmem::Error>(())
//! ```
//!
//! The compiler keeps transactions honest: a view cannot leave its closure, and
//! `tx` takes `&mut self`, so no transaction starts inside a read or another
//! transaction on the same handle.
//!
//! ## 3. Your own types: `#[derive(Persistent)]` and views
//!
//! A `#[repr(C)]` struct (or an enum with an integer `repr`) whose fields are plain
//! data, pmem pointers or pmem collections becomes storable with
//! `#[derive(Persistent)]`. Reads see the struct itself. Inside a transaction,
//! `tx.root_mut()` answers its *view*, `NameMut`, with a method per field:
//! `field_mut()` for a view of the field (`&mut` for plain data) and `set_field(..)`
//! to replace it. Each snapshots exactly what it changes before changing it. A field
//! whose type cannot be stored is refused at compile time, naming the field and the
//! persistent type to use instead (`PString` for `String`, `PVec<T>` for `Vec<T>`,
//! `PBox<T>` for `Box<T>`).
//!
//! ```
//! use pmem::{Error, PString, Persistent, Pool};
//!
//! #[derive(Persistent, Default)]
//! #[repr(C)]
//! struct Player {
//!     name: PString,
//!     score: u64,
//!     active: bool,
//! }
//!
//! let mut pool = Pool::<Player>::volatile()?;
//! pool.tx(|tx| {
//!     let p = tx.root_mut();          // a `PlayerMut`, valid inside this closure only
//!     p.set_name("ada")?;             // allocates in the pool; frees the old string
//!     *p.score_mut() += 10;           // a plain `&mut u64`, after an 8-byte snapshot
//!     *p.active_mut() = true;
//!     Ok::<_, Error>(())
//! })?;
//! let (name, score) = pool.read(|p| (p.name.to_string(), p.score))?;
//! assert_eq!((name.as_str(), score), ("ada", 10));
//! # Ok::<(), pmem::Error>(())
//! ```
//!
//! The pool records its root type's full layout: opening it as another type, or after
//! a field changed, is [`Error::TypeMismatch`] listing each difference by path (see
//! *Migrations* below).
//!
//! ## 4. Collections
//!
//! [`PString`], [`PVec`], [`PHashMap`], [`PHashSet`], [`PBTreeMap`] and [`PBTreeSet`]
//! have `std`'s method names and meanings (`docs/PARITY.md`), with two differences:
//! methods that allocate return a `Result` (a pool can fill up: [`Error::OutOfSpace`],
//! and the transaction rolls back), and they take values that can be written into the
//! pool, so a `PHashMap<PString, u64>` takes `insert("ada", 1)`. A method that hands a
//! stored value back out (`insert` answering the old value, `remove`, `pop`) needs
//! plain data; for values that own pool memory (a `PString`, a nested collection) use
//! its twin that drops the value in place (`set`, `remove_with`, `pop_with`), as the
//! compiler's message says. [`PBox<T>`](PBox) is the
//! owning pointer (`Option<PBox<T>>` for an optional one), [`PPtr<T>`](PPtr) the
//! non-owning one.
//!
//! ```
//! use pmem::{Error, PBTreeMap, PHashMap, PString, PVec, Persistent, Pool};
//!
//! #[derive(Persistent, Default)]
//! #[repr(C)]
//! struct Library {
//!     titles: PVec<PString>,
//!     copies: PHashMap<PString, u32>,
//!     by_year: PBTreeMap<u16, PString>,
//! }
//!
//! let mut pool = Pool::<Library>::volatile()?;
//! pool.tx(|tx| {
//!     let lib = tx.root_mut();
//!     for (title, year) in [("Dune", 1965), ("Neuromancer", 1984), ("Emma", 1815)] {
//!         lib.titles_mut().push(title)?;
//!         lib.copies_mut().insert(title, 1)?;
//!         lib.by_year_mut().set(year, title)?; // `set`: the value owns pool memory
//!     }
//!     *lib.copies_mut().entry("Dune").or_default()? += 2;
//!     Ok::<_, Error>(())
//! })?;
//! pool.read(|lib| {
//!     assert_eq!(lib.titles.len(), 3);
//!     assert_eq!(lib.copies.get("Dune"), Some(&3));
//!     let modern: Vec<&str> = lib.by_year.range(1900..).map(|(_, t)| t.as_str()).collect();
//!     assert_eq!(modern, ["Dune", "Neuromancer"]);
//! })?;
//! # Ok::<(), pmem::Error>(())
//! ```
//!
//! ## 5. Durability
//!
//! What a returned commit survives is chosen per pool with
//! [`PoolOptions::durability`]:
//!
//! - [`Durability::Full`] (the default): process crash, OS crash and power loss. Each
//!   commit costs one `fdatasync` of the log, shared by concurrent committers.
//! - [`Durability::Process`]: any crash of the process (`kill -9`, abort). No flush
//!   system call per commit; after power loss the pool recovers to a consistent prefix
//!   of its commits.
//! - [`Pool::volatile`]: nothing; anonymous memory, for tests and scratch work.
//!
//! [`Pool::checkpoint`] writes committed changes into the pool file ahead of time;
//! [`Pool::close`] does so and reports errors that dropping a handle cannot.
//!
//! ```
//! use pmem::{Durability, Error, Pool};
//! # let dir = std::env::temp_dir().join(format!("pmem-guide-5-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let mut pool = Pool::<u64>::options()
//!     .durability(Durability::Process) // fast commits; a kill -9 loses none of them
//!     .open_or_create(dir.join("events.pool"))?;
//! for _ in 0..1000 {
//!     pool.tx(|tx| { *tx.root_mut() += 1; Ok::<_, Error>(()) })?;
//! }
//! assert_eq!(pool.durability(), Durability::Process);
//! pool.close()?; // every commit is in the pool file now, whatever the mode
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), pmem::Error>(())
//! ```
//!
//! ## 6. Errors, and what `open` trusts
//!
//! Every fallible call returns [`Result<T>`](Result) with [`Error`], one variant per
//! cause, each printing a message that names the file once and, where there is one, the
//! fix (a pool file you may not write suggests `PoolOptions::read_only(true)`; a
//! truncated pool says "pool file truncated"). Print them as they are.
//!
//! `open` checks everything that structures a pool: the headers, the log's identity,
//! every replayed commit's checksum, the allocator's heap walk, and the root's complete
//! type graph. It trusts the bytes *of your values* (a `bool` byte of 2 written by
//! another program is not looked at until read). [`PoolOptions::verify(true)`](PoolOptions::verify),
//! like [`Pool::check`] and `pmem check`, also validates every reachable `bool`, `char`,
//! enum tag, `Option` and box, and refuses a damaged pool with [`Error::Corrupted`]
//! naming the path (ARCHITECTURE §12.1).
//!
//! ```
//! use pmem::{Error, Pool, PoolOptions};
//! # let dir = std::env::temp_dir().join(format!("pmem-guide-6-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("flags.pool");
//! match Pool::<(bool, u32)>::open(&path) {
//!     Err(Error::Io { .. }) => {} // missing: "opening …/flags.pool: No such file or directory (os error 2)"
//!     other => panic!("{other:?}"),
//! }
//! drop(Pool::<(bool, u32)>::create(&path)?);
//! // The type is part of the pool: another one is refused, naming both.
//! assert!(matches!(Pool::<(u32, bool)>::open(&path), Err(Error::TypeMismatch { .. })));
//! // Validate every value up front, for files from elsewhere.
//! let pool = PoolOptions::new().verify(true).open::<(bool, u32)>(&path)?;
//! assert_eq!(pool.check()?.allocations, 1);
//! # drop(pool); std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), pmem::Error>(())
//! ```
//!
//! ## 7. Migrations: when your types change
//!
//! Keep the old definitions (say in `mod v1`), implement
//! [`MigrateFrom`](migrate::MigrateFrom) for the new root, and call
//! [`migrate::migrate`]: the pool is rewritten as the new type in one atomic step on
//! disk, or left as it was. [`migrate::Migration`] chains steps (`v1 → v2 → v3`);
//! `docs/MIGRATIONS.md` has the details.
//!
//! ```
//! use pmem::{migrate::{migrate, MigrateFrom}, Error, Persistent, Pool, PoolOptions};
//!
//! mod v1 {
//!     #[derive(pmem::Persistent, Default)]
//!     #[repr(C)]
//!     pub struct Counter { pub count: u32 }
//! }
//!
//! #[derive(Persistent, Default)]
//! #[repr(C)]
//! struct Counter { count: u64, resets: u64 }
//!
//! impl MigrateFrom<v1::Counter> for Counter {
//!     fn migrate(old: &v1::Counter, new: &mut CounterMut) -> pmem::Result<()> {
//!         *new.count_mut() = u64::from(old.count);
//!         Ok(())
//!     }
//! }
//!
//! # let dir = std::env::temp_dir().join(format!("pmem-guide-7-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("counter.pool");
//! let mut old = Pool::<v1::Counter>::create(&path)?;
//! old.tx(|tx| { *tx.root_mut().count_mut() = 7; Ok::<_, Error>(()) })?;
//! drop(old);
//!
//! assert!(matches!(Pool::<Counter>::open(&path), Err(Error::TypeMismatch { .. })));
//! migrate::<v1::Counter, Counter>(&path, &PoolOptions::new())?;
//! let pool = Pool::<Counter>::open(&path)?;
//! assert_eq!(pool.read(|c| (c.count, c.resets))?, (7, 0));
//! # drop(pool); std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), pmem::Error>(())
//! ```
//!
//! ## 8. Tools: the `pmem` command
//!
//! A pool stores the schema of every type reachable from its root, so the `pmem`
//! command reads any pool without the program that wrote it. It opens pools read-only
//! and never writes them. It is its own package: `cargo install --path pmem-cli`.
//!
//! ```text
//! pmem info   bank.pool                           # header, sizes, durability, log, root type
//! pmem check  bank.pool                           # allocator + type-aware walk; exit 1 on damage
//! pmem dump   bank.pool --path 'root.accounts[7]' # values as JSON
//! pmem stats  bank.pool                           # space by type
//! pmem schema bank.pool                           # the stored types as Rust declarations
//! ```
//!
//! From a program, [`Pool::check`], [`Pool::stats`] and [`Pool::info`] answer the same
//! questions for an open pool.
//!
//! # Features
//!
//! No feature is on by default. The `pmem` command-line pool inspector is its own
//! package, `pmem-cli`, so it adds nothing to a build of the library.
//!
//! - `serde`: `serde::Serialize` for every persistent type; derive `Serialize` beside
//!   `Persistent` on your own types to export a pool's contents.

pub use pmem_collections::*;
pub use pmem_core::{
    schema, AutoMigrate, BackupReport, CheckReport, Durability, Error, Invalid, OptionPBoxMut,
    PBox, PBoxMut, PInit, PPtr, PSafe, Persistent, Plain, Pool, PoolInfo, PoolOptions, Result,
    Stats, Tx, TypeDifference, TypeIdentity,
};
// Plumbing for `#[derive(Persistent)]`, hand-written `Persistent` impls and views:
// reachable at these paths, kept off the front page.
#[doc(hidden)]
pub use pmem_collections::PHasher;
#[doc(hidden)]
pub use pmem_core::{fingerprint, plain_view, raw, view_cast, ViewTail, Visitor};
pub use pmem_derive::Persistent;

pub mod compact;
pub mod migrate;
mod replace;

/// The README's Rust blocks, compiled by `cargo test --doc` so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// Support for code generated by `#[derive(Persistent)]`; not part of the public API and
/// not covered by semantic versioning.
#[doc(hidden)]
pub mod __private {
    use core::mem::ManuallyDrop;

    pub use pmem_core::fingerprint::{fp_bytes, fp_str, fp_u64, FP_START};
    pub use pmem_core::raw;
    pub use pmem_core::schema::{FieldSchema, Shape, TypeSchema, VariantSchema};
    use pmem_core::{PInit, Persistent, Plain, Result, Visitor};

    /// Every `Persistent` type's items, seen as a field named by the marker type `Field`.
    ///
    /// Generated impls reach a field's fingerprint, schema, visit and free through this
    /// trait, so that a field whose type is not `Persistent` yields one error (all uses
    /// give the same diagnostic, which the compiler shows once), spanned to the field,
    /// whose message names the field.
    #[diagnostic::on_unimplemented(
        message = "field `{Field}` has type `{Self}`, which cannot be stored in a pmem pool",
        label = "`{Self}` is not `Persistent`",
        note = "a field must be plain data (integers, floats, bool, char, and arrays, tuples and `Option`s of these), a pmem pointer or collection (`PBox<T>` for `Box<T>`, `PPtr<T>` for `&T`, `PVec<T>` for `Vec<T>`, `PString` for `String`, `PHashMap<K, V>` for `HashMap<K, V>`, `PBTreeMap<K, V>` for `BTreeMap<K, V>`), or a type with `#[derive(Persistent)]`"
    )]
    pub trait PersistentField<Field> {
        /// `Persistent::FINGERPRINT`.
        const FINGERPRINT: u64;
        /// `Persistent::schema`.
        fn schema() -> &'static TypeSchema;
        /// `Persistent::visit_owned`.
        ///
        /// # Errors
        /// As `Persistent::visit_owned`.
        fn visit_owned(&self, v: &mut Visitor<'_>) -> Result<()>;
        /// `Persistent::free_owned`.
        ///
        /// # Errors
        /// As `Persistent::free_owned`.
        ///
        /// # Safety
        /// As `Persistent::free_owned`.
        unsafe fn free_owned(ptr: *mut Self) -> Result<()>;
        /// `Persistent::MAY_BE_INVALID`.
        const MAY_BE_INVALID: bool;
        /// `Persistent::validate`.
        ///
        /// # Errors
        /// As `Persistent::validate`.
        ///
        /// # Safety
        /// As `Persistent::validate`.
        unsafe fn validate(ptr: *const Self) -> core::result::Result<(), crate::Invalid>;
        /// `Persistent::clone_into_pool`.
        ///
        /// # Errors
        /// As `Persistent::clone_into_pool`.
        ///
        /// # Safety
        /// As `Persistent::clone_into_pool`.
        unsafe fn clone_into_pool(&self, dst: *mut Self) -> Result<()>;
        /// `Persistent::migrate_into_pool`.
        ///
        /// # Errors
        /// As `Persistent::migrate_into_pool`.
        ///
        /// # Safety
        /// As `Persistent::migrate_into_pool`.
        unsafe fn migrate_into_pool(
            old: *const u8,
            old_ty: auto::OldType<'_>,
            dst: *mut Self,
        ) -> Result<()>;
    }

    impl<T: Persistent, Field> PersistentField<Field> for T {
        const FINGERPRINT: u64 = T::FINGERPRINT;
        #[inline]
        fn schema() -> &'static TypeSchema {
            T::schema()
        }
        #[inline]
        fn visit_owned(&self, v: &mut Visitor<'_>) -> Result<()> {
            Persistent::visit_owned(self, v)
        }
        #[inline]
        unsafe fn free_owned(ptr: *mut Self) -> Result<()> {
            // SAFETY: forwarded contract.
            unsafe { T::free_owned(ptr) }
        }
        const MAY_BE_INVALID: bool = T::MAY_BE_INVALID;
        #[inline]
        unsafe fn validate(ptr: *const Self) -> core::result::Result<(), crate::Invalid> {
            // SAFETY: forwarded contract.
            unsafe { T::validate(ptr) }
        }
        #[inline]
        unsafe fn clone_into_pool(&self, dst: *mut Self) -> Result<()> {
            // SAFETY: forwarded contract.
            unsafe { Persistent::clone_into_pool(self, dst) }
        }
        #[inline]
        unsafe fn migrate_into_pool(
            old: *const u8,
            old_ty: auto::OldType<'_>,
            dst: *mut Self,
        ) -> Result<()> {
            // SAFETY: forwarded contract.
            unsafe { T::migrate_into_pool(old, old_ty, dst) }
        }
    }

    pub use pmem_core::__private::auto;

    /// The default of a field an automatic migration adds, when its type has one:
    /// `(&DefaultProbe::<T>::new()).probe()` is `Some(T::default())` for `T: Default`
    /// and `None` otherwise (method resolution tries `ViaDefault` on the value before
    /// `NoDefault` on its reference).
    pub struct DefaultProbe<T>(core::marker::PhantomData<T>);

    impl<T> DefaultProbe<T> {
        /// The probe.
        #[allow(clippy::new_without_default)]
        pub fn new() -> Self {
            DefaultProbe(core::marker::PhantomData)
        }
    }

    /// The probe's answer for types with a `Default`.
    pub trait ViaDefault<T> {
        /// `Some(T::default())`.
        fn probe(&self) -> Option<T>;
    }

    impl<T: Default> ViaDefault<T> for DefaultProbe<T> {
        fn probe(&self) -> Option<T> {
            Some(T::default())
        }
    }

    /// The probe's answer for types without one.
    pub trait NoDefault<T> {
        /// `None`.
        fn probe(&self) -> Option<T>;
    }

    impl<T> NoDefault<T> for &DefaultProbe<T> {
        fn probe(&self) -> Option<T> {
            None
        }
    }

    /// Holds for plain data; bounds the whole-value `update` of a derived view, so that
    /// calling it on a type with an owning field names that field.
    #[diagnostic::on_unimplemented(
        message = "`update` needs every field to be plain data, but field `{Field}` has type `{Self}`",
        label = "`{Self}` is not plain data",
        note = "`update` hands out `&mut` to the whole value, which would let a field that owns pool memory be overwritten without freeing it; change that field through its own accessor (`..._mut()` or `set_...()`); a nested `#[derive(Persistent)]` type counts as plain data only when marked `#[pmem(plain)]`"
    )]
    pub trait PlainField<Field> {}
    impl<T: Plain, Field> PlainField<Field> for T {}

    /// Holds for plain data; a `#[pmem(plain)]` type asserts it for each field.
    #[diagnostic::on_unimplemented(
        message = "field `{Field}` of a `#[pmem(plain)]` type has type `{Self}`, which is not plain data",
        label = "`{Self}` is not `Plain`",
        note = "a plain type is changed through a plain `&mut`, so its fields must own no pool memory: integers, floats, bool, char, `PPtr<T>`, other `#[pmem(plain)]` types, and arrays, tuples and `Option`s of these; remove `#[pmem(plain)]` to get a view with an accessor per field"
    )]
    pub trait PlainTypeField<Field> {}
    impl<T: Plain, Field> PlainTypeField<Field> for T {}

    /// Holds for `Copy` types; a `#[pmem(plain)]` type asserts it for itself.
    #[diagnostic::on_unimplemented(
        message = "a `#[pmem(plain)]` type must be `Copy`, but `{Self}` is not",
        label = "`{Self}` is not `Copy`",
        note = "add `#[derive(Clone, Copy)]`, or remove `#[pmem(plain)]` to get a view with an accessor per field"
    )]
    pub trait PlainIsCopy {}
    impl<T: Copy> PlainIsCopy for T {}

    /// Compiles only when `T` may be a field of a plain type (see [`PlainTypeField`]).
    #[inline(always)]
    pub const fn assert_plain_field<T: PlainTypeField<Field>, Field>() {}

    /// Compiles only when `T` is `Copy` (see [`PlainIsCopy`]).
    #[inline(always)]
    pub const fn assert_copy<T: PlainIsCopy>() {}

    /// Replaces the value at `dst` with `value` inside the open transaction: snapshots
    /// `dst`, writes the new value and frees (at commit) what the old value owned.
    ///
    /// When `value` fails to initialise, `dst` keeps its old value and owns what it
    /// owned, so a caller that handles the error and commits loses nothing.
    ///
    /// # Errors
    /// The error of `value`'s initialisation, or of freeing the old value.
    ///
    /// # Safety
    /// - `dst` points to a valid `T` in the mapped part of a pool whose transaction is
    ///   open on this thread, and nothing else refers to it or to what it owns.
    pub unsafe fn replace<T: Persistent, V: PInit<T>>(dst: *mut T, value: V) -> Result<()> {
        // SAFETY: `dst` lies in a pool with an open transaction (caller's contract).
        unsafe { raw::snapshot_value(dst) };
        // Values are position independent (pool offsets, never addresses), so moving
        // the bytes aside and back is a plain copy. `ManuallyDrop` keeps the copies from
        // being dropped: each is written back exactly once.
        // SAFETY: `dst` is valid for reads of a `T`.
        let old = ManuallyDrop::new(unsafe { core::ptr::read(dst) });
        // SAFETY: `dst` is snapshotted and valid for writes; the old value is kept in
        // `old`, so `init` may overwrite it.
        if let Err(e) = unsafe { value.init(dst) } {
            // SAFETY: puts the untouched old value back; `dst` was snapshotted.
            unsafe { core::ptr::write(dst, ManuallyDrop::into_inner(old)) };
            return Err(e);
        }
        // `free_owned` finds the pool from the value's address, so the old value is
        // freed in place: swap it back in, free, then install the new value.
        // SAFETY: `dst` holds the freshly initialised value; every write below stays in
        // the snapshotted bytes of `dst`.
        unsafe {
            let new = ManuallyDrop::new(core::ptr::read(dst));
            core::ptr::write(dst, ManuallyDrop::into_inner(old));
            let freed = T::free_owned(dst);
            core::ptr::write(dst, ManuallyDrop::into_inner(new));
            freed
        }
    }
}
