//! [`PoolOptions`]: how a pool is opened or created.

use std::fmt;
use std::marker::PhantomData;

use crate::engine::{Config, CreateSpec, Durability, Mode};

/// Options for opening or creating a pool.
///
/// Two ways in, one set of options:
///
/// - [`Pool::<R>::options()`](crate::Pool::options) answers options already tied to the root
///   type `R`, so `open`, `create`, `open_or_create` and `volatile` need no turbofish
///   and the result's type is known: `Pool::<Big>::options().open_or_create(path)?`.
/// - [`PoolOptions::new()`](PoolOptions::new) answers untyped options (the default
///   type parameter, [`Untyped`]); name the root at the call:
///   `PoolOptions::new().open_or_create::<Big>(path)?`. Functions that take options
///   for any root type (such as `pmem::migrate`) take these.
///
/// # Examples
///
/// ```
/// use pmem_core::{Durability, Pool, PoolOptions};
/// let dir = std::env::temp_dir().join(format!("pmem-doc-opts-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// // Typed: the root type comes from `Pool::<u64>`.
/// let mut pool = Pool::<u64>::options()
///     .layout("counter")
///     .max_size(64 << 20)
///     .durability(Durability::Process)
///     .open_or_create(dir.join("counter.pool"))
///     .unwrap();
/// pool.tx(|tx| { *tx.root_mut() += 1; Ok::<_, pmem_core::Error>(()) }).unwrap();
/// drop(pool);
/// // Untyped: the root type is named at the call.
/// let pool = PoolOptions::new().layout("counter").open::<u64>(dir.join("counter.pool")).unwrap();
/// assert_eq!(pool.read(|n| *n).unwrap(), 1);
/// # drop(pool); std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub struct PoolOptions<R = Untyped> {
    pub(super) layout: Option<String>,
    pub(super) initial_size: u64,
    pub(super) max_size: u64,
    pub(super) durability: Durability,
    pub(super) mode: u32,
    pub(super) checkpoint_bytes: u64,
    pub(super) read_only: bool,
    pub(super) release_pages: bool,
    pub(super) verify: bool,
    _root: PhantomData<fn() -> R>,
}

/// The type parameter of [`PoolOptions`] that are not tied to a root type: their
/// `open`, `create`, `open_or_create` and `volatile` take the root type as a type
/// argument. [`Pool::options`](crate::Pool::options) answers options tied to a root type instead.
///
/// # Examples
///
/// ```
/// use pmem_core::{PoolOptions, Untyped};
/// let opts: PoolOptions<Untyped> = PoolOptions::new();
/// let pool = opts.volatile::<u32>().unwrap();
/// assert_eq!(pool.read(|n| *n).unwrap(), 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Untyped;

impl<R> Clone for PoolOptions<R> {
    fn clone(&self) -> Self {
        PoolOptions {
            layout: self.layout.clone(),
            _root: PhantomData,
            ..*self
        }
    }
}

impl<R> fmt::Debug for PoolOptions<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolOptions")
            .field("layout", &self.layout)
            .field("initial_size", &self.initial_size)
            .field("max_size", &self.max_size)
            .field("durability", &self.durability)
            .field("mode", &format_args!("{:#o}", self.mode))
            .field("checkpoint_bytes", &self.checkpoint_bytes)
            .field("read_only", &self.read_only)
            .field("verify", &self.verify)
            .finish_non_exhaustive()
    }
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            layout: None,
            initial_size: 1 << 20,
            max_size: 64 << 30,
            durability: Durability::Full,
            mode: 0o600,
            checkpoint_bytes: 64 << 20,
            read_only: false,
            release_pages: true,
            verify: false,
            _root: PhantomData,
        }
    }
}

impl PoolOptions {
    /// Default options: `Full` durability, 1 MiB initial size, 64 GiB maximum, mode 0600,
    /// not tied to a root type (see [`Pool::options`](crate::Pool::options) for options that are).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::PoolOptions;
    /// let mut pool = PoolOptions::new().volatile::<u64>().unwrap();
    /// pool.tx(|tx| { *tx.root_mut() = 7; Ok::<_, pmem_core::Error>(()) }).unwrap();
    /// assert_eq!(pool.read(|n| *n).unwrap(), 7);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }
}

impl<R> PoolOptions<R> {
    /// The same options for root type `S` (how [`Pool::options`](crate::Pool::options) ties them).
    pub(crate) fn retype<S>(self) -> PoolOptions<S> {
        PoolOptions {
            layout: self.layout,
            initial_size: self.initial_size,
            max_size: self.max_size,
            durability: self.durability,
            mode: self.mode,
            checkpoint_bytes: self.checkpoint_bytes,
            read_only: self.read_only,
            release_pages: self.release_pages,
            verify: self.verify,
            _root: PhantomData,
        }
    }

    /// The layout name: stored at creation, and required to match at open when set.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{Error, Pool};
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-layout-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("p.pool");
    /// drop(Pool::<u64>::options().layout("inventory").create(&path).unwrap());
    /// let wrong = Pool::<u64>::options().layout("payroll").open(&path);
    /// assert!(matches!(wrong, Err(Error::WrongLayout { .. })));
    /// let pool = Pool::<u64>::options().layout("inventory").open(&path).unwrap();
    /// assert_eq!(pool.info().layout, "inventory");
    /// # drop(pool); std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    #[must_use]
    pub fn layout(mut self, name: impl Into<String>) -> Self {
        self.layout = Some(name.into());
        self
    }

    /// Size of a new pool file (rounded up to a page; at least 12 KiB).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::Pool;
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-init-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("p.pool");
    /// drop(Pool::<u64>::options().initial_size(100_000).create(&path).unwrap());
    /// let len = std::fs::metadata(&path).unwrap().len();
    /// assert_eq!(len % 4096, 0);
    /// assert!(len >= 100_000);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    #[must_use]
    pub fn initial_size(mut self, bytes: u64) -> Self {
        self.initial_size = bytes;
        self
    }

    /// Largest size the pool may grow to (at most 128 GiB). Fixed at creation; a
    /// transaction that needs more fails with [`Error::OutOfSpace`](crate::Error::OutOfSpace) and rolls back.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{Error, Pool};
    /// let mut pool = Pool::<u64>::options().max_size(1 << 20).volatile().unwrap();
    /// assert_eq!(pool.info().max_size, 1 << 20);
    /// let r = pool.tx(|tx| tx.alloc_raw(2 << 20, 8));
    /// assert!(matches!(r, Err(Error::OutOfSpace { .. })));
    /// ```
    #[must_use]
    pub fn max_size(mut self, bytes: u64) -> Self {
        self.max_size = bytes;
        self
    }

    /// Durability of commits (see [`Durability`]; the default is `Full`).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{Durability, Pool};
    /// let pool = Pool::<u64>::options().durability(Durability::Process).volatile().unwrap();
    /// assert_eq!(pool.durability(), Durability::Process);
    /// ```
    #[must_use]
    pub fn durability(mut self, d: Durability) -> Self {
        self.durability = d;
        self
    }

    /// File mode of new pool and log files (default 0600).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::fs::PermissionsExt;
    /// use pmem_core::Pool;
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-mode-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("p.pool");
    /// drop(Pool::<u64>::options().mode(0o640).create(&path).unwrap());
    /// let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    /// assert_eq!(mode & 0o777 & !0o640, 0); // no bit beyond those asked for (the umask may clear some)
    /// assert_eq!(mode & 0o600, 0o600);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    #[must_use]
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = mode;
        self
    }

    /// Log size that triggers a checkpoint (default 64 MiB; at least 1 byte).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::Pool;
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-ckpt-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// // A tiny threshold checkpoints after every commit.
    /// let mut pool = Pool::<u64>::options()
    ///     .checkpoint_threshold(1)
    ///     .create(dir.join("p.pool"))
    ///     .unwrap();
    /// let before = pool.stats().unwrap().checkpoints;
    /// pool.tx(|tx| { *tx.root_mut() = 1; Ok::<_, pmem_core::Error>(()) }).unwrap();
    /// assert!(pool.stats().unwrap().checkpoints > before);
    /// # drop(pool); std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    #[must_use]
    pub fn checkpoint_threshold(mut self, bytes: u64) -> Self {
        self.checkpoint_bytes = bytes.max(1);
        self
    }

    /// Opens without writing anything: recovery replays into memory only, and
    /// transactions fail with [`Error::ReadOnly`](crate::Error::ReadOnly). Other read-only openers may share it.
    /// This is also how to read a pool file you may not write (a file of another user,
    /// or on a read-only file system).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{Error, Pool};
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-ro-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("p.pool");
    /// drop(Pool::<u64>::create(&path).unwrap());
    /// let mut a = Pool::<u64>::options().read_only(true).open(&path).unwrap();
    /// let b = Pool::<u64>::options().read_only(true).open(&path).unwrap(); // shared
    /// assert_eq!(b.read(|n| *n).unwrap(), 0);
    /// let r = a.tx(|tx| { *tx.root_mut() = 1; Ok::<_, Error>(()) });
    /// assert!(matches!(r, Err(Error::ReadOnly)));
    /// # drop((a, b)); std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    #[must_use]
    pub fn read_only(mut self, yes: bool) -> Self {
        self.read_only = yes;
        self
    }

    /// Validates the whole pool before `open` returns: the allocator walk, every owned
    /// pointer, and every reachable value of a type with invalid bit patterns (`bool`,
    /// `char`, enum tags, `PBox`, `Option` tags, strings' UTF-8) — what
    /// [`Pool::check`](crate::Pool::check) does. A pool that fails is refused with [`Error::Corrupted`](crate::Error::Corrupted)
    /// naming the path. Without it, `open` trusts the file's plain data (see the trust
    /// model in ARCHITECTURE §12.1); with it, opening costs one walk of the pool.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{Pool, PoolOptions};
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-verify-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("p.pool");
    /// drop(Pool::<(bool, char)>::create(&path).unwrap());
    /// let pool = PoolOptions::new().verify(true).open::<(bool, char)>(&path).unwrap();
    /// assert_eq!(pool.read(|r| *r).unwrap(), (false, '\0'));
    /// # drop(pool); std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    #[must_use]
    pub fn verify(mut self, yes: bool) -> Self {
        self.verify = yes;
        self
    }

    pub(super) fn config(&self, volatile: bool) -> Config {
        Config {
            durability: self.durability,
            mode: Mode::new(self.durability, volatile),
            read_only: self.read_only,
            checkpoint_bytes: self.checkpoint_bytes,
            release_pages: self.release_pages,
            verify: self.verify,
        }
    }

    pub(super) fn spec(&self) -> CreateSpec {
        CreateSpec {
            layout: self.layout.clone().unwrap_or_default(),
            initial_size: self.initial_size,
            max_size: self.max_size,
            mode: self.mode,
        }
    }
}
