//! Typed schema migration: a pool written with one root type becomes a pool of another,
//! through code the application writes, in **one atomic step on disk**
//! (`docs/MIGRATIONS.md`).
//!
//! The old definitions are kept (for example in `mod v1`), the new root implements
//! [`MigrateFrom`] for the old one, and [`migrate`] does the rest:
//!
//! 1. opens the pool read-only as the old type (recovery replays its log in memory;
//!    nothing is written to the old files);
//! 2. creates the new pool beside it as `NAME.migrating` and builds the new root from
//!    the old one in one transaction;
//! 3. closes the new pool cleanly (one file, every commit in it, synced);
//! 4. renames it over `NAME` and syncs the directory — still holding the old pool's
//!    lock, so no writer can commit to the old file meanwhile (openers lock the file
//!    the path names *after* locking, so none holds the replaced one);
//! 5. opens the new pool once and closes it, which takes over and removes the old
//!    pool's `NAME.log` under the new pool's own lock.
//!
//! A crash before the rename is durable leaves the old pool exactly as it was (and a
//! stray `NAME.migrating`, replaced by the next attempt); after it, the new pool is
//! complete. Never a mix. Chains (`v1 → v2 → v3`) are a [`Migration`] of several steps,
//! each atomic, so an interrupted chain resumes where it stopped.

use std::path::Path;

use pmem_core::__private::auto::OldGraph;
use pmem_core::inspect::Inspector;
use pmem_core::{AutoMigrate, Error, Persistent, Pool, PoolOptions, Result, Tx};

use crate::replace::replace_from;

/// How to build a root of type `Self` from a root of type `Old`: one step of a typed
/// migration.
///
/// # Examples
///
/// ```
/// use pmem::{migrate::MigrateFrom, PString, Persistent};
///
/// mod v1 {
///     #[derive(pmem::Persistent, Default)]
///     #[repr(C)]
///     pub struct Account { pub balance: i64 }
/// }
///
/// #[derive(Persistent, Default)]
/// #[repr(C)]
/// struct Account { balance: i64, owner: PString }
///
/// impl MigrateFrom<v1::Account> for Account {
///     fn migrate(old: &v1::Account, new: &mut AccountMut) -> pmem::Result<()> {
///         *new.balance_mut() = old.balance;
///         new.owner_mut().push_str("unknown")
///     }
/// }
/// ```
pub trait MigrateFrom<Old: Persistent>: Persistent + Default {
    /// Fills `new` (which starts as `Self::default()`) from `old`, inside the
    /// transaction that creates the migrated pool.
    ///
    /// # Errors
    /// Any error aborts the migration; the old pool is left as it was.
    fn migrate(old: &Old, new: &mut Self::View) -> Result<()>;
}

/// Migrates the pool at `path` from root type `Old` to `New` (see the module docs),
/// creating the new pool with `options` (its size limits, durability and mode).
///
/// # Errors
/// [`Error::TypeMismatch`] when the pool's root is not an `Old` (nothing is changed);
/// any error opening it (for example [`Error::Locked`] while a program has it open);
/// the error [`MigrateFrom::migrate`] returns; I/O errors. On every error the old pool
/// is left as it was.
///
/// # Examples
///
/// ```
/// use pmem::{migrate::{migrate, MigrateFrom}, Persistent, Pool, PoolOptions};
///
/// #[derive(Persistent, Default)]
/// #[repr(C)]
/// struct V1 { count: u32 }
///
/// #[derive(Persistent, Default)]
/// #[repr(C)]
/// struct V2 { count: u64, doubled: u64 }
///
/// impl MigrateFrom<V1> for V2 {
///     fn migrate(old: &V1, new: &mut V2Mut) -> pmem::Result<()> {
///         *new.count_mut() = u64::from(old.count);
///         *new.doubled_mut() = 2 * u64::from(old.count);
///         Ok(())
///     }
/// }
///
/// let dir = std::env::temp_dir().join(format!("pmem-doc-migrate-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("counter.pool");
/// let mut v1 = Pool::<V1>::create(&path)?;
/// v1.tx(|tx| { *tx.root_mut().count_mut() = 21; Ok::<_, pmem::Error>(()) })?;
/// drop(v1);
///
/// migrate::<V1, V2>(&path, &PoolOptions::new())?;
/// let v2 = Pool::<V2>::open(&path)?;
/// assert_eq!(v2.read(|r| (r.count, r.doubled))?, (21, 42));
/// # drop(v2); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), pmem::Error>(())
/// ```
pub fn migrate<Old, New>(path: impl AsRef<Path>, options: &PoolOptions) -> Result<()>
where
    Old: Persistent,
    New: MigrateFrom<Old>,
{
    migrate_with::<Old, New>(path, options, New::migrate)
}

/// [`migrate`] with the conversion given as a closure instead of a [`MigrateFrom`]
/// impl.
///
/// # Errors
/// As [`migrate`].
///
/// # Examples
///
/// ```
/// # use pmem::{migrate::migrate_with, Pool, PoolOptions};
/// # let dir = std::env::temp_dir().join(format!("pmem-doc-migrate-with-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let path = dir.join("n.pool");
/// # drop(Pool::<u32>::create(&path)?);
/// // A root of `u32` becomes a root of `(u32, bool)`.
/// migrate_with::<u32, (u32, bool)>(&path, &PoolOptions::new(), |old, new| {
///     *new = (*old, true);
///     Ok(())
/// })?;
/// assert_eq!(Pool::<(u32, bool)>::open(&path)?.read(|r| r.1)?, true);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), pmem::Error>(())
/// ```
pub fn migrate_with<Old, New>(
    path: impl AsRef<Path>,
    options: &PoolOptions,
    convert: impl FnOnce(&Old, &mut New::View) -> Result<()>,
) -> Result<()>
where
    Old: Persistent,
    New: Persistent + Default,
{
    replace_with::<Old, New>(path.as_ref(), options, MIGRATING, |old, tx| {
        convert(old, tx.root_mut())
    })
}

/// The Rust blocks of `docs/MIGRATIONS.md` run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/MIGRATIONS.md")]
struct MigrationsDoc;

/// The suffix of the temporary file a migration builds.
const MIGRATING: &str = ".migrating";

/// The atomic replacement both migration and compaction are made of (see the module
/// docs): opens `path` read-only as `Old`, builds a new pool of `New` at `path` +
/// `suffix` in one transaction with `fill`, closes it, renames it over `path` and syncs
/// the directory, then takes over the old log.
pub(crate) fn replace_with<Old, New>(
    path: &Path,
    options: &PoolOptions,
    suffix: &str,
    fill: impl FnOnce(&Old, &mut Tx<'_, New>) -> Result<()>,
) -> Result<()>
where
    Old: Persistent,
    New: Persistent + Default,
{
    let old = options.clone().read_only(true).open::<Old>(path)?;
    replace_from(path, options, suffix, old, |old, new| {
        old.read(|o| new.tx(|tx| fill(o, tx)))?
    })
}

/// Stack of the thread an automatic migration runs on: 1 GiB of address space, enough
/// for chains of millions of boxes (the conversion recurses once per box).
const MIGRATE_STACK: usize = 1 << 30;

/// Migrates the pool at `path` to root type `New` **automatically**, for changes that
/// lose nothing, anywhere in the graph (inside boxes, `Option<PBox>`, vectors, hash
/// and B-tree maps and sets — keys and values —, arrays, tuples, `Option`s of
/// primitives, recursive types); the new pool is created with `options`. To migrate
/// when needed and then open, use [`open_auto`]. The pool must not be
/// open anywhere. Answers `false` when the pool already is a `New` (nothing is
/// written), `true` when it was migrated.
///
/// What is automatic (see `docs/MIGRATIONS.md`):
/// - a field added: filled with `Default::default()` of its type, or with the function
///   its `#[pmem(default = "path::to::fn")]` names;
/// - fields reordered; a field renamed with `#[pmem(renamed_from = "old")]`;
/// - integers widened (`u8 → u16 → u32 → u64 → u128`, `i8 → … → i128`, unsigned to a
///   wider signed), `f32 → f64`;
/// - variants appended to an enum (matched by name, so old tags keep their meaning);
///   the fields of an enum's variants change by the struct rules above (matched by
///   name or `renamed_from`, added from their default), each migrated in place;
/// - a field removed (of a struct or an enum variant), only with
///   [`AutoMigrate::drop_removed_fields`]. A removed variant is always refused.
///
/// The element types of a `PVec`, of hash and B-tree maps (key and value) and sets,
/// of an array (same length) and of a tuple (same arity) may change in any of these
/// ways: maps and sets are rebuilt, rehashed by the new key or ordered by its `Ord`.
/// An `Option` of a primitive, or of a plain struct or enum that changed, migrates its
/// payload (`None` and `Some` told apart from the stored schema); a string migrates
/// only unchanged.
///
/// # Errors
/// [`Error::NotAutoMigratable`] naming the path and the change for anything else (a
/// narrowing, a removed field, a retyped field, map keys made equal by a dropped
/// field, an array whose length changed...): write a typed
/// migration ([`migrate_with`]) for it. [`Error::Locked`] while the pool is open;
/// I/O errors. On every error the old pool is left as it was.
///
/// # Examples
///
/// ```
/// use pmem::{migrate, AutoMigrate, PVec, Persistent, Pool, PoolOptions};
///
/// mod v1 {
///     #[derive(pmem::Persistent, Default)]
///     #[repr(C)]
///     pub struct Account { pub id: u32, pub balance: i32 }
/// }
///
/// #[derive(Persistent, Default)]
/// #[repr(C)]
/// struct Account {
///     #[pmem(default = "default_currency")]
///     currency: [u8; 3],
///     balance: i64,          // widened from i32
///     #[pmem(renamed_from = "id")]
///     number: u64,           // renamed and widened
/// }
/// fn default_currency() -> [u8; 3] { *b"EUR" }
///
/// let dir = std::env::temp_dir().join(format!("pmem-doc-auto-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("bank.pool");
/// let mut old = Pool::<PVec<v1::Account>>::create(&path)?;
/// old.tx(|tx| tx.root_mut().push(v1::Account { id: 7, balance: -5 }))?;
/// drop(old);
///
/// assert!(migrate::auto::<PVec<Account>>(&path, &PoolOptions::new(), AutoMigrate::new())?);
/// let pool = Pool::<PVec<Account>>::open(&path)?;
/// assert_eq!(pool.read(|v| (v[0].number, v[0].balance, v[0].currency))?, (7, -5, *b"EUR"));
/// pool.check()?;
/// # drop(pool); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), pmem::Error>(())
/// ```
pub fn auto<New>(path: impl AsRef<Path>, options: &PoolOptions, how: AutoMigrate) -> Result<bool>
where
    New: Persistent + Default,
{
    let path = path.as_ref();
    let run = || -> Result<bool> {
        // Read-only and type-agnostic: recovery replays the old log in memory only, and the
        // shared lock keeps writers out until the rename is durable.
        let old = Inspector::open(path)?;
        let graph = OldGraph::parse(&old.schema_json()?, how)?;
        if graph.same_as(New::SCHEMA) {
            return Ok(false);
        }
        let root_off = old.root_offset();
        let root = old.bytes(root_off, graph.root().size() as u64)?.as_ptr();
        if root.align_offset(graph.root().align().max(1)) != 0 {
            return Err(Error::Corrupted {
                what: "stored root is missing or misaligned".into(),
                offset: root_off,
            });
        }
        replace_from::<_, New>(path, options, MIGRATING, old, |_, new| {
            new.tx(|tx| {
                let dst = std::ptr::from_mut(tx.root_mut()).cast::<New>();
                // SAFETY: `dst` is the new pool's root, in the transaction open on
                // this thread, snapshotted before it is written; it holds
                // `New::default()`, built outside the pool, which owns no pool memory.
                // `root` is the old root, a valid value of the stored root type
                // (the pool wrote it under that schema), aligned (checked above), in
                // the inspector's mapping, which nothing writes and which lives until
                // `replace_from` drops it after this transaction.
                unsafe {
                    pmem_core::raw::snapshot_value(dst);
                    New::migrate_into_pool(root, graph.root(), dst)
                }
                .map_err(|e| pmem_core::__private::auto::within(e, "root"))
            })
        })?;
        Ok(true)
    };
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("pmem-migrate".into())
            .stack_size(MIGRATE_STACK)
            .spawn_scoped(s, run)
            .map_err(|source| Error::Io {
                op: "starting the migration thread for",
                path: path.to_path_buf(),
                source,
            })?
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// Opens the pool at `path` as `New`, first migrating it automatically ([`auto`]) when
/// its stored type differs from `New` in lossless ways: the opt-in "migrate on open".
///
/// The stored type is compared first, read-only (the type-agnostic reader [`auto`]
/// uses, which writes nothing); a pool that already is a `New` is then opened in place,
/// never rewritten, at the cost of that one extra read-only look at its schema record.
/// A pool that differs is migrated first (one atomic replacement of the file, exactly
/// as [`auto`] does), then opened. `options` serve both the open and the pool the
/// migration builds.
///
/// # Errors
/// As [`auto`] (a missing file, a lock held elsewhere, a damaged pool; in particular
/// [`Error::NotAutoMigratable`] for a change that is not lossless — the file is then
/// left byte for byte as it was and still opens as its old type); then as
/// [`PoolOptions::open`].
///
/// # Examples
///
/// ```
/// use pmem::{migrate, AutoMigrate, PHashMap, Persistent, Pool, PoolOptions};
///
/// mod v1 {
///     #[derive(pmem::Persistent, Default, Clone, Copy)]
///     #[pmem(plain)]
///     #[repr(C)]
///     pub struct Account { pub balance: i32 }
/// }
///
/// #[derive(Persistent, Default, Clone, Copy)]
/// #[pmem(plain)]
/// #[repr(C)]
/// struct Account { balance: i64, overdraft: u32 } // widened, and a field added
///
/// let dir = std::env::temp_dir().join(format!("pmem-doc-open-auto-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("bank.pool");
/// let mut old = Pool::<PHashMap<u32, v1::Account>>::create(&path)?;
/// old.tx(|tx| tx.root_mut().set(7, v1::Account { balance: -5 }).map(drop))?;
/// drop(old);
///
/// // Keys widened too: u32 → u64. Migrated on the first open, opened as is afterwards.
/// let opts = PoolOptions::new();
/// let pool = migrate::open_auto::<PHashMap<u64, Account>>(&path, &opts, AutoMigrate::new())?;
/// assert_eq!(pool.read(|m| m.get(&7).map(|a| (a.balance, a.overdraft)))?, Some((-5, 0)));
/// drop(pool);
/// let pool = migrate::open_auto::<PHashMap<u64, Account>>(&path, &opts, AutoMigrate::new())?;
/// pool.check()?;
/// # drop(pool); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), pmem::Error>(())
/// ```
pub fn open_auto<New>(
    path: impl AsRef<Path>,
    options: &PoolOptions,
    how: AutoMigrate,
) -> Result<Pool<New>>
where
    New: Persistent + Default,
{
    let path = path.as_ref();
    // Decided on the read-only inspector, not on a failed open: an open writes to the
    // file (recovery, the header's open state) even when it then refuses the type, and
    // a refused migration must leave the file exactly as it was.
    auto::<New>(path, options, how)?;
    options.open::<New>(path)
}

type Step = Box<dyn Fn(&Path, &PoolOptions) -> Result<bool>>;
type Check = Box<dyn Fn(&Path, &PoolOptions) -> Result<()>>;

/// A chain of typed migrations (`v1 → v2 → v3`), each step atomic: whatever version
/// the pool is at, [`Migration::run`] applies the steps from there on, so a chain
/// interrupted by a crash resumes where it stopped.
///
/// # Examples
///
/// ```
/// use pmem::{migrate::Migration, Pool, PoolOptions};
/// # let dir = std::env::temp_dir().join(format!("pmem-doc-chain-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let path = dir.join("c.pool");
/// let mut p = Pool::<u8>::create(&path)?;
/// p.tx(|tx| { *tx.root_mut() = 7; Ok::<_, pmem::Error>(()) })?;
/// drop(p);
/// let steps = Migration::new()
///     .step_with::<u8, u16>(|old, new| { *new = u16::from(*old) * 100; Ok(()) })
///     .step_with::<u16, (u16, u16)>(|old, new| { *new = (*old, *old + 1); Ok(()) });
/// assert_eq!(steps.run(&path, &PoolOptions::new())?, 2); // both steps applied
/// assert_eq!(steps.run(&path, &PoolOptions::new())?, 0); // already current
/// assert_eq!(Pool::<(u16, u16)>::open(&path)?.read(|r| *r)?, (700, 701));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), pmem::Error>(())
/// ```
#[derive(Default)]
pub struct Migration {
    steps: Vec<Step>,
    /// Checks that the pool opens as the last step's new type.
    current: Option<Check>,
}

impl Migration {
    /// An empty chain.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem::{migrate::Migration, Pool, PoolOptions};
    /// # let dir = std::env::temp_dir().join(format!("pmem-doc-chain-new-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let path = dir.join("n.pool");
    /// drop(Pool::<u8>::create(&path)?);
    /// // No steps: nothing to run, and nothing to check the pool against.
    /// assert_eq!(Migration::new().run(&path, &PoolOptions::new())?, 0);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), pmem::Error>(())
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the step `Old → New` given by `New`'s [`MigrateFrom`] impl.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem::{migrate::{MigrateFrom, Migration}, Persistent, Pool, PoolOptions};
    ///
    /// #[derive(Persistent, Default)]
    /// #[repr(C)]
    /// struct V1 { count: u32 }
    /// #[derive(Persistent, Default)]
    /// #[repr(C)]
    /// struct V2 { count: u64, limit: u64 }
    ///
    /// impl MigrateFrom<V1> for V2 {
    ///     fn migrate(old: &V1, new: &mut V2Mut) -> pmem::Result<()> {
    ///         *new.count_mut() = u64::from(old.count);
    ///         *new.limit_mut() = 100;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # let dir = std::env::temp_dir().join(format!("pmem-doc-chain-step-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let path = dir.join("s.pool");
    /// let mut p = Pool::<V1>::create(&path)?;
    /// p.tx(|tx| { *tx.root_mut().count_mut() = 3; Ok::<_, pmem::Error>(()) })?;
    /// drop(p);
    /// assert_eq!(Migration::new().step::<V1, V2>().run(&path, &PoolOptions::new())?, 1);
    /// assert_eq!(Pool::<V2>::open(&path)?.read(|r| (r.count, r.limit))?, (3, 100));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), pmem::Error>(())
    /// ```
    #[must_use]
    pub fn step<Old, New>(self) -> Self
    where
        Old: Persistent,
        New: MigrateFrom<Old>,
    {
        self.step_with::<Old, New>(New::migrate)
    }

    /// Appends the step `Old → New` done by `convert`.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem::{migrate::Migration, Pool, PoolOptions};
    /// # let dir = std::env::temp_dir().join(format!("pmem-doc-chain-with-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let path = dir.join("w.pool");
    /// let mut p = Pool::<u16>::create(&path)?;
    /// p.tx(|tx| { *tx.root_mut() = 5; Ok::<_, pmem::Error>(()) })?;
    /// drop(p);
    /// let chain = Migration::new().step_with::<u16, u64>(|old, new| {
    ///     *new = u64::from(*old) << 32;
    ///     Ok(())
    /// });
    /// assert_eq!(chain.run(&path, &PoolOptions::new())?, 1);
    /// assert_eq!(Pool::<u64>::open(&path)?.read(|r| *r)?, 5 << 32);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), pmem::Error>(())
    /// ```
    #[must_use]
    pub fn step_with<Old, New>(
        mut self,
        convert: impl Fn(&Old, &mut New::View) -> Result<()> + Clone + 'static,
    ) -> Self
    where
        Old: Persistent,
        New: Persistent + Default,
    {
        self.steps.push(Box::new(move |path, options| {
            match migrate_with::<Old, New>(path, options, convert.clone()) {
                Ok(()) => Ok(true),
                Err(Error::TypeMismatch { .. }) => Ok(false),
                Err(e) => Err(e),
            }
        }));
        self.current = Some(Box::new(|path, options| {
            options.clone().read_only(true).open::<New>(path).map(drop)
        }));
        self
    }

    /// Applies every step from the pool's current version on; answers how many ran.
    /// A pool already at the last version is left alone.
    ///
    /// # Errors
    /// As [`migrate`]. A step whose old type is not the pool's is skipped; when no step
    /// ran, the pool must already be at the last version, else its
    /// [`Error::TypeMismatch`] against that version is returned.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem::{migrate::Migration, Error, Pool, PoolOptions};
    /// # let dir = std::env::temp_dir().join(format!("pmem-doc-chain-run-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let (path, other) = (dir.join("r.pool"), dir.join("o.pool"));
    /// drop(Pool::<u8>::create(&path)?);
    /// let chain = Migration::new().step_with::<u8, u32>(|old, new| {
    ///     *new = u32::from(*old);
    ///     Ok(())
    /// });
    /// assert_eq!(chain.run(&path, &PoolOptions::new())?, 1); // u8 → u32
    /// assert_eq!(chain.run(&path, &PoolOptions::new())?, 0); // already u32
    /// // A pool of neither version is refused, and left as it was.
    /// drop(Pool::<i64>::create(&other)?);
    /// let e = chain.run(&other, &PoolOptions::new()).unwrap_err();
    /// assert!(matches!(e, Error::TypeMismatch { .. }));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), pmem::Error>(())
    /// ```
    pub fn run(&self, path: impl AsRef<Path>, options: &PoolOptions) -> Result<usize> {
        let path = path.as_ref();
        let mut ran = 0;
        for step in &self.steps {
            if step(path, options)? {
                ran += 1;
            } else if ran > 0 {
                // A later version than this step's old type, yet an earlier step ran:
                // the chain's types do not line up.
                return Err(Error::InvalidOptions(
                    "a migration step's old type is not the previous step's new type".into(),
                ));
            }
        }
        if ran == 0 {
            if let Some(current) = &self.current {
                current(path, options)?;
            }
        }
        Ok(ran)
    }
}
