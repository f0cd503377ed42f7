//! Pools whose root is described by a stored schema instead of a Rust type: what a
//! compaction without the application's code (`pmem::compact::compact_untyped`,
//! ARCHITECTURE §15.5) builds its new pool with.
//!
//! [`PoolOptions::create_raw`] creates a pool whose header carries a root identity read
//! from another pool (name, fingerprint, size, alignment) instead of `R`'s;
//! [`RawPool::build`] then fills it in **one transaction**: the schema record (the
//! stored JSON, byte for byte), the root and everything else as raw allocations and
//! byte copies, so `Pool::<R>::open` by the application later finds exactly the type
//! graph it expects. Nothing here interprets the bytes it copies: the caller owns that.

use std::path::Path;
use std::sync::Arc;

use super::options::PoolOptions;
use crate::engine::{self, Expect, Shared, Source, State, TxCtx};
use crate::error::{Error, Result, TypeIdentity};
use crate::heap;

/// The identity of a root type as a pool stores it (header fields of §3.1), for
/// creating a pool of a type this program does not have.
#[doc(hidden)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRoot {
    /// The root type's name and fingerprint.
    pub identity: TypeIdentity,
    /// `size_of` the root.
    pub size: u64,
    /// `align_of` the root.
    pub align: u64,
}

impl StoredRoot {
    fn expect(&self, layout: Option<&String>) -> Expect {
        Expect {
            layout: layout.cloned(),
            root: self.identity.clone(),
            root_size: self.size,
            root_align: self.align,
        }
    }
}

/// A writable pool opened without a Rust root type (see the module docs).
#[doc(hidden)]
pub struct RawPool {
    sh: Arc<Shared>,
}

/// The one transaction of [`RawPool::build`]: raw allocations and byte writes.
#[doc(hidden)]
pub struct RawTx<'a> {
    sh: &'a Shared,
    st: &'a mut State,
}

impl<R> PoolOptions<R> {
    /// Creates a pool file whose header names `root` as its root type; it has no root
    /// object until [`RawPool::build`] commits one.
    ///
    /// # Errors
    /// As [`PoolOptions::create`](PoolOptions::<crate::Untyped>::create).
    #[doc(hidden)]
    pub fn create_raw(&self, path: impl AsRef<Path>, root: &StoredRoot) -> Result<RawPool> {
        let path = path.as_ref();
        let ex = root.expect(self.layout.as_ref());
        engine::create_files(path, &self.spec(), &ex)?;
        self.open_raw(path, root)
    }

    /// Opens the pool at `path` for writing if its header names `root` (the type graph
    /// is not compared: there is no Rust type to compare it with).
    ///
    /// # Errors
    /// As [`PoolOptions::open`](PoolOptions::<crate::Untyped>::open).
    #[doc(hidden)]
    pub fn open_raw(&self, path: impl AsRef<Path>, root: &StoredRoot) -> Result<RawPool> {
        let src = Source::File {
            path: path.as_ref().to_path_buf(),
        };
        let sh = Shared::open(
            src,
            self.config(false),
            &root.expect(self.layout.as_ref()),
            None,
        )?;
        Ok(RawPool { sh })
    }
}

impl RawPool {
    /// The pool's UUID (its `PPtr` tag is [`crate::raw::pool_tag_of`] of it).
    pub fn uuid(&self) -> [u8; 16] {
        self.sh.header.uuid
    }

    /// In one transaction: stores `schema_json` as the schema record (§3.4), runs
    /// `fill`, which allocates and writes the root and everything it owns and answers
    /// the root's offset, and commits. Any error rolls everything back.
    ///
    /// # Errors
    /// [`Error::InvalidOptions`] when the pool already has a root; `fill`'s error;
    /// allocation and commit errors.
    pub fn build(
        &mut self,
        schema_json: &str,
        fill: impl FnOnce(&mut RawTx<'_>) -> Result<u64>,
    ) -> Result<()> {
        let sh = &*self.sh;
        let mut g = sh.begin()?;
        let st: &mut State = &mut g;
        let r = (|| {
            if heap::meta(&engine::ReadCtx(sh)).root_off != 0 {
                return Err(Error::InvalidOptions(
                    "a raw pool is built once, and this one has a root".into(),
                ));
            }
            let mut tx = RawTx { sh, st: &mut *st };
            let soff = tx.alloc(schema_json.len().max(1) as u64, 8)?;
            tx.write(soff, schema_json.as_bytes())?;
            let root_off = fill(&mut tx)?;
            let mut ctx = TxCtx { sh, st: &mut *st };
            let mut meta = heap::meta(&ctx);
            meta.root_off = root_off;
            meta.schema_off = soff;
            meta.schema_len = schema_json.len() as u64;
            heap::set_meta(&mut ctx, meta);
            sh.commit(st)
        })();
        sh.finish_internal(g, r)
    }

    /// Checkpoints and closes the pool (the last handle: it is then one clean file).
    ///
    /// # Errors
    /// I/O errors of the checkpoint; [`Error::Poisoned`] after a flush failure.
    pub fn close(self) -> Result<()> {
        if !self.sh.cfg.read_only && self.sh.cfg.mode.has_files() {
            self.sh.check_usable()?;
            self.sh.checkpoint()?;
        }
        Ok(())
    }
}

impl RawTx<'_> {
    /// Allocates `size` bytes (at least 1) aligned to `align` (a power of two, at most
    /// 64); answers the pool offset. The bytes are not initialised.
    ///
    /// # Errors
    /// [`Error::OutOfSpace`], [`Error::UnsupportedLayout`].
    pub fn alloc(&mut self, size: u64, align: u64) -> Result<u64> {
        crate::tx::raw::alloc_in(
            self.sh,
            self.st,
            usize::try_from(size.max(1)).unwrap_or(usize::MAX),
            usize::try_from(align).unwrap_or(usize::MAX),
        )
    }

    /// Writes `bytes` at pool offset `off` (journaled like every transactional write).
    ///
    /// # Errors
    /// [`Error::Corrupted`] when the range is not inside the mapped heap.
    pub fn write(&mut self, off: u64, bytes: &[u8]) -> Result<()> {
        let mapped = self.sh.region.control().mapped_len();
        let len = bytes.len() as u64;
        if off < crate::format::HEAP_START || off.checked_add(len).is_none_or(|e| e > mapped) {
            return Err(Error::corrupted("raw write outside the pool's heap", off));
        }
        // SAFETY: `off..off + len` lies in the mapping (checked above); this transaction
        // holds the write lock (`build`), and `bytes` cannot overlap the pool's private
        // working mapping, which only this transaction writes and nobody lends out.
        unsafe {
            self.snapshot(off, len);
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                self.sh.region.base().add(off as usize),
                bytes.len(),
            );
        }
        Ok(())
    }

    /// Copies `len` bytes from pool offset `from` to `to` (what this transaction wrote
    /// there included).
    ///
    /// # Errors
    /// [`Error::Corrupted`] when either range is not inside the mapped heap.
    pub fn copy(&mut self, from: u64, to: u64, len: u64) -> Result<()> {
        let mapped = self.sh.region.control().mapped_len();
        for off in [from, to] {
            if off < crate::format::HEAP_START || off.checked_add(len).is_none_or(|e| e > mapped) {
                return Err(Error::corrupted("raw copy outside the pool's heap", off));
            }
        }
        // SAFETY: both ranges lie in the mapping (checked above); this transaction holds
        // the write lock; `ptr::copy` allows the ranges to overlap.
        unsafe {
            self.snapshot(to, len);
            let base = self.sh.region.base();
            std::ptr::copy(base.add(from as usize), base.add(to as usize), len as usize);
        }
        Ok(())
    }

    /// Journals pool bytes `off..off + len` before this transaction overwrites them.
    ///
    /// # Safety
    /// The range lies in the mapping.
    unsafe fn snapshot(&mut self, off: u64, len: u64) {
        let st = &mut *self.st;
        // SAFETY: forwarded contract; this transaction holds the write lock.
        unsafe {
            st.journal
                .snapshot(self.sh.region.base(), off, len, &st.dirty);
        }
    }
}
