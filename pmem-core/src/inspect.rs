//! Type-agnostic, read-only access to a pool, for tools such as the `pmem` command:
//! header information, statistics, the allocator check, the stored schema, and bounds
//! checked reads of pool memory. Opening never writes (recovery replays into private
//! memory only) and takes a shared lock, so a pool open for writing elsewhere is
//! reported as [`Error::Locked`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use crate::format::{
    EnumTag, StoredField, StoredSchema, StoredShape, StoredType, StoredVariant, ValidityError,
};

use crate::engine::{Config, Durability, Expect, Mode, ReadCtx, Shared, Source};
use crate::error::{Error, Result, TypeIdentity};
use crate::heap;
use crate::pool::{PoolInfo, Stats};

/// A pool opened read-only without knowing its root type.
///
/// # Examples
///
/// ```
/// use pmem_core::{inspect::Inspector, Pool};
/// let dir = std::env::temp_dir().join(format!("pmem-doc-inspect-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("p.pool");
/// drop(Pool::<(u32, u64)>::create(&path).unwrap());
/// let ins = Inspector::open(&path).unwrap();
/// assert_eq!(ins.info().root_type.name, "tuple");
/// assert!(ins.schema_json().unwrap().contains("\"u64\""));
/// ins.check_heap().unwrap();
/// # drop(ins); std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub struct Inspector {
    sh: Arc<Shared>,
}

/// One live allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allocation {
    /// Pool offset of the first byte.
    pub offset: u64,
    /// Size in bytes (cell size for small objects, requested size for large ones).
    pub size: u64,
}

impl Inspector {
    /// Opens the pool at `path` read-only, accepting any root type.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path: PathBuf = path.as_ref().to_path_buf();
        let cfg = Config {
            durability: Durability::Process,
            mode: Mode::new(Durability::Process, false),
            read_only: true,
            checkpoint_bytes: u64::MAX,
            release_pages: false,
            verify: false,
        };
        let expect = Expect {
            layout: None,
            root: TypeIdentity {
                name: String::new(),
                fingerprint: 0,
            },
            root_size: 0,
            root_align: 0,
        };
        let sh = Shared::open_any(Source::File { path }, cfg, &expect)?;
        Ok(Inspector { sh })
    }

    /// Header information.
    pub fn info(&self) -> PoolInfo {
        PoolInfo::from_shared(&self.sh)
    }

    /// Space and log statistics.
    pub fn stats(&self) -> Result<Stats> {
        Stats::from_shared(&self.sh)
    }

    /// Writes a self-contained single-file copy of the pool (its last committed state,
    /// the log's commits included) to `dest`, a new file; see [`crate::Pool::backup_to`].
    /// Answers the bytes written.
    ///
    /// # Errors
    /// [`Error::AlreadyExists`] when `dest` exists; I/O errors.
    ///
    /// # Examples
    ///
    /// ```
    /// use pmem_core::{inspect::Inspector, Pool};
    /// let dir = std::env::temp_dir().join(format!("pmem-doc-ins-backup-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// drop(Pool::<u64>::create(dir.join("p.pool")).unwrap());
    /// let bytes = Inspector::open(dir.join("p.pool")).unwrap().backup_to(dir.join("b.pool")).unwrap();
    /// assert!(bytes > 0);
    /// assert_eq!(Pool::<u64>::open(dir.join("b.pool")).unwrap().read(|n| *n).unwrap(), 0);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn backup_to(&self, dest: impl AsRef<Path>) -> Result<u64> {
        let g = self
            .sh
            .state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        crate::engine::write_backup(&self.sh, g, dest.as_ref()).map(|(bytes, _)| bytes)
    }

    /// The allocator's own check: headers tile the heap, bitmaps fit their runs.
    pub fn check_heap(&self) -> Result<Vec<Allocation>> {
        let mut out = Vec::new();
        heap::census(&ReadCtx(&self.sh), |offset, size| {
            out.push(Allocation { offset, size });
        })?;
        Ok(out)
    }

    /// Offset of the root object.
    pub fn root_offset(&self) -> u64 {
        heap::meta(&ReadCtx(&self.sh)).root_off
    }

    /// Size of the root object.
    pub fn root_size(&self) -> u64 {
        self.sh.header.root_size
    }

    /// Alignment of the root object (as the header records it).
    pub fn root_align(&self) -> u64 {
        self.sh.header.root_align
    }

    /// Offset of the stored schema record (also a live allocation), 0 when none.
    pub fn schema_offset(&self) -> u64 {
        heap::meta(&ReadCtx(&self.sh)).schema_off
    }

    /// The schema the pool stored at creation (see [`crate::format::schema::to_json`]).
    pub fn schema_json(&self) -> Result<String> {
        let meta = heap::meta(&ReadCtx(&self.sh));
        if meta.schema_off == 0 {
            return Err(Error::corrupted(
                "pool has no stored schema",
                crate::format::META_OFF,
            ));
        }
        let b = self.bytes(meta.schema_off, meta.schema_len)?;
        String::from_utf8(b.to_vec())
            .map_err(|_| Error::corrupted("stored schema is not UTF-8", meta.schema_off))
    }

    /// `len` bytes of pool memory at `off`, bounds-checked.
    pub fn bytes(&self, off: u64, len: u64) -> Result<&[u8]> {
        let mapped = self.sh.region.control().mapped_len();
        if off < crate::format::PAGE || off.checked_add(len).is_none_or(|e| e > mapped) {
            return Err(Error::corrupted(
                format!("read of {len} bytes outside the pool"),
                off,
            ));
        }
        // SAFETY: in bounds of the private mapping, which nothing writes while the
        // inspector (read-only) is open and which lives as long as `self`.
        Ok(unsafe {
            std::slice::from_raw_parts(self.sh.region.base().add(off as usize), len as usize)
        })
    }

    /// The pool file's path.
    pub fn path(&self) -> &Path {
        &self.sh.path
    }
}
