//! [`PoolOptions`]: how a pool is opened or created.

use std::path::Path;

use super::pool::Pool;
use crate::engine::{self, Config, CreateSpec, Durability, Expect, Mode, Shared, Source};
use crate::error::{Error, Result, TypeIdentity};
use crate::types::Persistent;

/// Options for opening or creating a pool.
///
/// # Examples
///
/// ```
/// use pmem_core::{Durability, PoolOptions};
/// let dir = std::env::temp_dir().join(format!("pmem-doc-opts-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let mut pool = PoolOptions::new()
///     .layout("counter")
///     .max_size(64 << 20)
///     .durability(Durability::Process)
///     .open_or_create::<u64>(dir.join("counter.pool"))
///     .unwrap();
/// pool.tx(|tx| { *tx.root_mut() += 1; Ok::<_, pmem_core::Error>(()) }).unwrap();
/// assert_eq!(pool.read(|n| *n).unwrap(), 1);
/// # drop(pool); std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct PoolOptions {
    layout: Option<String>,
    initial_size: u64,
    max_size: u64,
    durability: Durability,
    mode: u32,
    checkpoint_bytes: u64,
    read_only: bool,
    release_pages: bool,
    verify: bool,
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
        }
    }
}

impl PoolOptions {
    /// Default options: `Full` durability, 1 MiB initial size, 64 GiB maximum, mode 0600.
    pub fn new() -> Self {
        Self::default()
    }

    /// The layout name: stored at creation, and required to match at open when set.
    #[must_use]
    pub fn layout(mut self, name: impl Into<String>) -> Self {
        self.layout = Some(name.into());
        self
    }

    /// Size of a new pool file (rounded up to a page; at least 12 KiB).
    #[must_use]
    pub fn initial_size(mut self, bytes: u64) -> Self {
        self.initial_size = bytes;
        self
    }

    /// Largest size the pool may grow to (at most 128 GiB). Fixed at creation.
    #[must_use]
    pub fn max_size(mut self, bytes: u64) -> Self {
        self.max_size = bytes;
        self
    }

    /// Durability of commits (see [`Durability`]).
    #[must_use]
    pub fn durability(mut self, d: Durability) -> Self {
        self.durability = d;
        self
    }

    /// File mode of new pool and log files (default 0600).
    #[must_use]
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = mode;
        self
    }

    /// Log size that triggers a checkpoint (default 64 MiB).
    #[must_use]
    pub fn checkpoint_threshold(mut self, bytes: u64) -> Self {
        self.checkpoint_bytes = bytes.max(1);
        self
    }

    /// Opens without writing anything: recovery replays into memory only, and
    /// transactions fail with [`Error::ReadOnly`]. Other read-only openers may share it.
    #[must_use]
    pub fn read_only(mut self, yes: bool) -> Self {
        self.read_only = yes;
        self
    }

    /// Validates the whole pool before `open` returns: the allocator walk, every owned
    /// pointer, and every reachable value of a type with invalid bit patterns (`bool`,
    /// `char`, enum tags, `PBox`, `Option` tags, strings' UTF-8) — what
    /// [`Pool::check`] does. A pool that fails is refused with [`Error::Corrupted`]
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

    fn config(&self, volatile: bool) -> Config {
        Config {
            durability: self.durability,
            mode: Mode::new(self.durability, volatile),
            read_only: self.read_only,
            checkpoint_bytes: self.checkpoint_bytes,
            release_pages: self.release_pages,
            verify: self.verify,
        }
    }

    fn spec(&self) -> CreateSpec {
        CreateSpec {
            layout: self.layout.clone().unwrap_or_default(),
            initial_size: self.initial_size,
            max_size: self.max_size,
            mode: self.mode,
        }
    }

    /// Opens an existing pool.
    pub fn open<R: Persistent>(&self, path: impl AsRef<Path>) -> Result<Pool<R>> {
        let path = path.as_ref().to_path_buf();
        let sh = Shared::open(
            Source::File { path },
            self.config(false),
            &expect::<R>(self.layout.as_ref()),
            None,
        )?;
        Pool::from_shared(sh, None)
    }

    /// Creates a new pool; fails with [`Error::AlreadyExists`] if the file exists.
    pub fn create<R: Persistent + Default>(&self, path: impl AsRef<Path>) -> Result<Pool<R>> {
        let path = path.as_ref().to_path_buf();
        let ex = expect::<R>(self.layout.as_ref());
        engine::create_files(&path, &self.spec(), &ex)?;
        let sh = Shared::open(Source::File { path }, self.config(false), &ex, None)?;
        Pool::from_shared(sh, Some(R::default))
    }

    /// Opens the pool at `path`, creating it (with `R::default()` as root) if missing.
    pub fn open_or_create<R: Persistent + Default>(
        &self,
        path: impl AsRef<Path>,
    ) -> Result<Pool<R>> {
        let path = path.as_ref().to_path_buf();
        let ex = expect::<R>(self.layout.as_ref());
        if !path.exists() {
            match engine::create_files(&path, &self.spec(), &ex) {
                Ok(()) | Err(Error::AlreadyExists { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let sh = Shared::open(Source::File { path }, self.config(false), &ex, None)?;
        Pool::from_shared(sh, Some(R::default))
    }

    /// A pool in anonymous memory: transactional, never written to disk. For tests and
    /// scratch work.
    pub fn volatile<R: Persistent + Default>(&self) -> Result<Pool<R>> {
        let ex = expect::<R>(self.layout.as_ref());
        let sh = Shared::open(Source::Volatile, self.config(true), &ex, Some(&self.spec()))?;
        Pool::from_shared(sh, Some(R::default))
    }

    /// Creates a pool on a simulated disk (crash-state harness).
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
    #[cfg(feature = "testing")]
    pub fn open_sim<R: Persistent>(&self, disk: &crate::media::sim::SimDisk) -> Result<Pool<R>> {
        let ex = expect::<R>(self.layout.as_ref());
        let sh = Shared::open(Source::Sim(disk.clone()), self.config(false), &ex, None)?;
        Pool::from_shared(sh, None)
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
