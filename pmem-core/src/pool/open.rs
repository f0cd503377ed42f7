//! Opening and creating pools: the methods of [`PoolOptions`] that answer a [`Pool`],
//! untyped (root named at the call) and typed (root named by `Pool::<R>::options()`),
//! and `Pool`'s shortcuts with default options.

use std::path::Path;

use super::options::PoolOptions;
use super::pool::Pool;
use crate::engine::{self, Expect, Shared, Source};
use crate::error::{Error, Result, TypeIdentity};
use crate::types::Persistent;

impl PoolOptions {
    /// Opens an existing pool whose root has type `R`.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be opened (missing, or not writable: see
    /// [`read_only`](Self::read_only)); [`Error::NotAPool`], [`Error::WrongLayout`],
    /// [`Error::TypeMismatch`], [`Error::UnsupportedVersion`]; [`Error::Corrupted`] for a
    /// damaged pool (checked before the type); [`Error::Locked`] when another handle has
    /// it open; [`Error::LogMissing`] and [`Error::LogMismatch`] when its log is not the
    /// right one.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{Error, Pool, PoolOptions};
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-open-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("p.pool");
    /// assert!(matches!(PoolOptions::new().open::<u64>(&path), Err(Error::Io { .. })));
    /// drop(Pool::<u64>::create(&path).unwrap());
    /// let pool = PoolOptions::new().open::<u64>(&path).unwrap();
    /// assert_eq!(pool.read(|n| *n).unwrap(), 0);
    /// # drop(pool); std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn open<R: Persistent>(&self, path: impl AsRef<Path>) -> Result<Pool<R>> {
        self.open_as(path.as_ref())
    }

    /// Creates a new pool with `R::default()` as its root.
    ///
    /// # Errors
    /// [`Error::AlreadyExists`] if the file exists; [`Error::InvalidOptions`] for a
    /// maximum size below the initial size (or above 128 GiB) or a bad layout name;
    /// [`Error::Io`] naming `path` when the file cannot be made.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{Error, PoolOptions};
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-create-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("p.pool");
    /// let pool = PoolOptions::new().layout("demo").create::<(u8, u8)>(&path).unwrap();
    /// assert_eq!(pool.info().layout, "demo");
    /// drop(pool);
    /// let again = PoolOptions::new().create::<(u8, u8)>(&path);
    /// assert!(matches!(again, Err(Error::AlreadyExists { .. })));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn create<R: Persistent + Default>(&self, path: impl AsRef<Path>) -> Result<Pool<R>> {
        self.create_as(path.as_ref())
    }

    /// Opens the pool at `path`, creating it (with `R::default()` as root) if missing.
    ///
    /// # Errors
    /// As [`open`](Self::open) and [`create`](Self::create).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::PoolOptions;
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-ooc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("p.pool");
    /// for expected in 1..=2u64 {
    ///     let mut pool = PoolOptions::new().open_or_create::<u64>(&path).unwrap();
    ///     pool.tx(|tx| { *tx.root_mut() += 1; Ok::<_, pmem_core::Error>(()) }).unwrap();
    ///     assert_eq!(pool.read(|n| *n).unwrap(), expected);
    /// }
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn open_or_create<R: Persistent + Default>(
        &self,
        path: impl AsRef<Path>,
    ) -> Result<Pool<R>> {
        self.open_or_create_as(path.as_ref())
    }

    /// A pool in anonymous memory: transactional, never written to disk. For tests and
    /// scratch work.
    ///
    /// # Errors
    /// [`Error::InvalidOptions`] as for [`create`](Self::create); [`Error::Io`] when
    /// the memory cannot be mapped.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::PoolOptions;
    /// let pool = PoolOptions::new().initial_size(1 << 16).volatile::<[u8; 3]>().unwrap();
    /// assert_eq!(pool.read(|r| *r).unwrap(), [0; 3]);
    /// assert!(pool.path().to_string_lossy().contains("volatile"));
    /// ```
    pub fn volatile<R: Persistent + Default>(&self) -> Result<Pool<R>> {
        self.volatile_as()
    }

    /// Creates a pool on a simulated disk (crash-state harness).
    ///
    /// # Errors
    /// As [`create`](Self::create).
    ///
    /// # Examples
    ///
    /// ```
    /// let disk = pmem_core::sim::SimDisk::new();
    /// let pool = pmem_core::PoolOptions::new().create_sim::<u64>(&disk).unwrap();
    /// assert_eq!(pool.read(|n| *n).unwrap(), 0);
    /// ```
    #[cfg(feature = "testing")]
    pub fn create_sim<R: Persistent + Default>(
        &self,
        disk: &crate::media::sim::SimDisk,
    ) -> Result<Pool<R>> {
        let ex = expect::<R>(self.layout.as_ref());
        let sh = Shared::open(
            Source::Sim(disk.clone()),
            self.config(false),
            &ex,
            Some(&self.spec()),
        )?;
        Pool::from_shared(sh, Some(R::default))
    }

    /// Opens (and recovers) a pool on a simulated disk.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::PoolOptions;
    /// let disk = pmem_core::sim::SimDisk::new();
    /// let mut pool = PoolOptions::new().create_sim::<u64>(&disk).unwrap();
    /// pool.tx(|tx| { *tx.root_mut() = 9; Ok::<_, pmem_core::Error>(()) }).unwrap();
    /// drop(pool);
    /// let pool = PoolOptions::new().open_sim::<u64>(&disk).unwrap();
    /// assert_eq!(pool.read(|n| *n).unwrap(), 9);
    /// ```
    #[cfg(feature = "testing")]
    pub fn open_sim<R: Persistent>(&self, disk: &crate::media::sim::SimDisk) -> Result<Pool<R>> {
        let ex = expect::<R>(self.layout.as_ref());
        let sh = Shared::open(Source::Sim(disk.clone()), self.config(false), &ex, None)?;
        Pool::from_shared(sh, None)
    }
}

impl<R> PoolOptions<R> {
    fn open_as<T: Persistent>(&self, path: &Path) -> Result<Pool<T>> {
        let sh = Shared::open(
            Source::File {
                path: path.to_path_buf(),
            },
            self.config(false),
            &expect::<T>(self.layout.as_ref()),
            None,
        )?;
        Pool::from_shared(sh, None)
    }

    fn create_as<T: Persistent + Default>(&self, path: &Path) -> Result<Pool<T>> {
        let ex = expect::<T>(self.layout.as_ref());
        engine::create_files(path, &self.spec(), &ex)?;
        let src = Source::File {
            path: path.to_path_buf(),
        };
        let sh = Shared::open(src, self.config(false), &ex, None)?;
        Pool::from_shared(sh, Some(T::default))
    }

    fn open_or_create_as<T: Persistent + Default>(&self, path: &Path) -> Result<Pool<T>> {
        let ex = expect::<T>(self.layout.as_ref());
        if !path.exists() {
            match engine::create_files(path, &self.spec(), &ex) {
                Ok(()) | Err(Error::AlreadyExists { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let src = Source::File {
            path: path.to_path_buf(),
        };
        let sh = Shared::open(src, self.config(false), &ex, None)?;
        Pool::from_shared(sh, Some(T::default))
    }

    fn volatile_as<T: Persistent + Default>(&self) -> Result<Pool<T>> {
        let ex = expect::<T>(self.layout.as_ref());
        let sh = Shared::open(Source::Volatile, self.config(true), &ex, Some(&self.spec()))?;
        Pool::from_shared(sh, Some(T::default))
    }
}

impl<R: Persistent> PoolOptions<R> {
    /// Opens an existing pool of the root type these options were made for
    /// ([`Pool::<R>::options()`](Pool::options)).
    ///
    /// # Errors
    /// As [`PoolOptions::open`](PoolOptions::<Untyped>::open).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::Pool;
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-topen-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("p.pool");
    /// drop(Pool::<u64>::create(&path).unwrap());
    /// let pool = Pool::<u64>::options().verify(true).open(&path).unwrap();
    /// assert_eq!(pool.read(|n| *n).unwrap(), 0);
    /// # drop(pool); std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn open(&self, path: impl AsRef<Path>) -> Result<Pool<R>> {
        self.open_as(path.as_ref())
    }
}

impl<R: Persistent + Default> PoolOptions<R> {
    /// Creates a new pool with `R::default()` as its root.
    ///
    /// # Errors
    /// As [`PoolOptions::create`](PoolOptions::<Untyped>::create).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::Pool;
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-tcreate-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let pool = Pool::<[u16; 4]>::options().create(dir.join("p.pool")).unwrap();
    /// assert_eq!(pool.read(|r| *r).unwrap(), [0; 4]);
    /// # drop(pool); std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn create(&self, path: impl AsRef<Path>) -> Result<Pool<R>> {
        self.create_as(path.as_ref())
    }

    /// Opens the pool at `path`, creating it (with `R::default()` as root) if missing.
    ///
    /// # Errors
    /// As [`PoolOptions::open_or_create`](PoolOptions::<Untyped>::open_or_create).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{Durability, Pool};
    /// #[derive(Default, Clone, Copy)]
    /// # #[repr(C)]
    /// struct Big([u64; 32]);
    /// # // SAFETY: plain integers.
    /// # unsafe impl pmem_core::PSafe for Big {}
    /// # // SAFETY: plain data without invalid bit patterns or owned memory.
    /// # unsafe impl pmem_core::Persistent for Big {
    /// #     type View = Self;
    /// #     const TYPE_NAME: &'static str = "Big";
    /// #     const FINGERPRINT: u64 = 0xb16;
    /// #     const SCHEMA: &'static pmem_core::schema::TypeSchema = <[u64; 32] as pmem_core::Persistent>::SCHEMA;
    /// #     unsafe fn view_mut<'a>(p: *mut Self) -> &'a mut Self {
    /// #         // SAFETY: forwarded contract.
    /// #         unsafe { pmem_core::plain_view(p) }
    /// #     }
    /// # }
    /// # // SAFETY: owns nothing.
    /// # unsafe impl pmem_core::Plain for Big {}
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-tooc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// // The root type comes from `Pool::<Big>`: no annotation is needed.
    /// let mut pool = Pool::<Big>::options()
    ///     .durability(Durability::Process)
    ///     .open_or_create(dir.join("big.pool"))
    ///     .unwrap();
    /// pool.tx(|tx| { tx.root_mut().0[31] = 5; Ok::<_, pmem_core::Error>(()) }).unwrap();
    /// assert_eq!(pool.read(|b| b.0[31]).unwrap(), 5);
    /// # drop(pool); std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn open_or_create(&self, path: impl AsRef<Path>) -> Result<Pool<R>> {
        self.open_or_create_as(path.as_ref())
    }

    /// A pool in anonymous memory: transactional, never written to disk.
    ///
    /// # Errors
    /// As [`PoolOptions::volatile`](PoolOptions::<Untyped>::volatile).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::Pool;
    /// let mut pool = Pool::<(u32, u32)>::options().volatile().unwrap();
    /// pool.tx(|tx| { tx.root_mut().1 = 2; Ok::<_, pmem_core::Error>(()) }).unwrap();
    /// assert_eq!(pool.read(|r| *r).unwrap(), (0, 2));
    /// ```
    pub fn volatile(&self) -> Result<Pool<R>> {
        self.volatile_as()
    }
}

fn expect<R: Persistent>(layout: Option<&String>) -> Expect {
    Expect {
        layout: layout.cloned(),
        root: TypeIdentity {
            name: R::TYPE_NAME.to_string(),
            fingerprint: R::FINGERPRINT,
        },
        root_size: size_of::<R>() as u64,
        root_align: align_of::<R>() as u64,
    }
}

/// The ways in: opening and creating a pool with default options, or getting its
/// options (here, beside the options they delegate to).
impl<R: Persistent> Pool<R> {
    /// Opens an existing pool with default options.
    ///
    /// # Errors
    /// As [`PoolOptions::open`]: [`Error::Io`] for a missing or unwritable file (its
    /// message names the file once), [`Error::TypeMismatch`] for another root type,
    /// [`Error::Corrupted`] for a damaged pool, [`Error::Locked`] while another handle
    /// has it open.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{Error, Pool};
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-pool-open-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("p.pool");
    /// drop(Pool::<u64>::create(&path).unwrap());
    /// let pool = Pool::<u64>::open(&path).unwrap();
    /// assert_eq!(pool.read(|n| *n).unwrap(), 0);
    /// // While `pool` lives, other handles are refused rather than kept waiting.
    /// assert!(matches!(Pool::<u64>::open(&path), Err(Error::Locked { .. })));
    /// // Another root type is refused, naming both.
    /// drop(pool);
    /// assert!(matches!(Pool::<u32>::open(&path), Err(Error::TypeMismatch { .. })));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        PoolOptions::new().open(path)
    }

    /// Options for opening or creating a pool with root type `R`: their `open`,
    /// `create`, `open_or_create` and `volatile` answer a `Pool<R>` without a type
    /// annotation. (`PoolOptions::new()` answers options for any root type, named at
    /// the call: `PoolOptions::new().open::<R>(path)`.)
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::Pool;
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-options-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let pool = Pool::<u64>::options()
    ///     .max_size(1 << 30)
    ///     .open_or_create(dir.join("p.pool"))?; // a `Pool<u64>`, inferred
    /// assert_eq!(pool.info().max_size, 1 << 30);
    /// # drop(pool); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn options() -> PoolOptions<R> {
        PoolOptions::new().retype()
    }
}

impl<R: Persistent + Default> Pool<R> {
    /// Creates a new pool at `path` with default options and `R::default()` as root.
    ///
    /// # Errors
    /// [`Error::AlreadyExists`] if the file exists; [`Error::Io`] naming `path` when it
    /// cannot be made (a missing directory, say).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{Error, Pool};
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-pool-create-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("p.pool");
    /// let pool = Pool::<(u32, bool)>::create(&path).unwrap();
    /// assert_eq!(pool.read(|r| *r).unwrap(), (0, false));
    /// drop(pool);
    /// assert!(matches!(Pool::<(u32, bool)>::create(&path), Err(Error::AlreadyExists { .. })));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn create(path: impl AsRef<std::path::Path>) -> Result<Self> {
        PoolOptions::new().create(path)
    }

    /// Opens the pool at `path`, creating it with default options if it is missing.
    ///
    /// # Errors
    /// As [`open`](Self::open) and [`create`](Self::create).
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::Pool;
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-pool-ooc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("visits.pool");
    /// for visit in 1..=3u64 {
    ///     let mut pool = Pool::<u64>::open_or_create(&path).unwrap();
    ///     pool.tx(|tx| { *tx.root_mut() += 1; Ok::<_, pmem_core::Error>(()) }).unwrap();
    ///     assert_eq!(pool.read(|n| *n).unwrap(), visit);
    /// }
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn open_or_create(path: impl AsRef<std::path::Path>) -> Result<Self> {
        PoolOptions::new().open_or_create(path)
    }

    /// A pool in anonymous memory (see [`PoolOptions::volatile`]): transactional,
    /// never written to disk.
    ///
    /// # Errors
    /// [`Error::Io`] when the memory cannot be mapped.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<[u8; 2]>::volatile().unwrap();
    /// pool.tx(|tx| { tx.root_mut()[1] = 9; Ok::<_, pmem_core::Error>(()) }).unwrap();
    /// assert_eq!(pool.read(|r| *r).unwrap(), [0, 9]);
    /// ```
    pub fn volatile() -> Result<Self> {
        PoolOptions::new().volatile()
    }
}
