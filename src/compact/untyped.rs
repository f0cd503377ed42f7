//! Compaction without the application's types: [`compact_untyped`], driven by the
//! schema record the pool stores (ARCHITECTURE §3.4, §15.5). The copy itself is in
//! `relocate`; this is the atomic replacement around it.

use std::path::Path;

use pmem_core::__private::stored::StoredRoot;
use pmem_core::inspect::{Inspector, StoredSchema};
use pmem_core::raw::pool_tag_of;
use pmem_core::{Error, PoolOptions, Result};

use super::relocate;
use super::CompactReport;
use crate::replace::replace_built;

fn file_size(path: &Path) -> Result<u64> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|source| Error::Io {
            op: "reading the size of",
            path: path.to_path_buf(),
            source,
        })
}

/// Compacts the pool at `path` **without knowing its root type**: the live graph is
/// read by the pool's stored schema and moved into a fresh pool by a relocating copy
/// (vectors and strings cut to their length, boxes copied, hash tables and B-tree nodes
/// copied verbatim with their links rewritten, `PPtr`s mapped to their targets' new
/// places), which then replaces the file atomically, as [`compact`](super::compact)
/// does. The new pool stores the same schema record, root type, layout name and
/// maximum size, so the application opens it as before; `options` give the rest (file
/// mode, durability of the building transaction). The pool must not be open anywhere.
///
/// This is what `pmem compact` runs. Unlike [`compact`](super::compact) it keeps each
/// hash table's bucket count (rehashing needs the key type's `Hash`, which the schema
/// cannot supply), so a table that once held many more entries stays that large.
///
/// # Errors
/// [`Error::NotRelocatableAt`] naming the path of a non-owning `PPtr` whose target is
/// not copied (dangling, foreign, or outside every live value) or of a value of a
/// shape this build does not know; [`Error::Corrupted`] for a damaged pool (a pointer
/// out of bounds or to no live allocation, an allocation owned twice, a bad enum tag);
/// [`Error::Locked`] while the pool is open; I/O errors. On every error the pool is
/// left as it was.
///
/// # Examples
///
/// ```
/// use pmem::{compact::compact_untyped, PBTreeMap, PVec, Persistent, Pool, PoolOptions};
///
/// #[derive(Persistent, Default)]
/// #[repr(C)]
/// struct Index {
///     by_id: PBTreeMap<u64, u64>,
///     log: PVec<u64>,
/// }
///
/// let dir = std::env::temp_dir().join(format!("pmem-doc-compact-untyped-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("i.pool");
/// let mut pool = Pool::<Index>::create(&path)?;
/// pool.tx(|tx| {
///     let r = tx.root_mut();
///     r.by_id_mut().extend((0..50_000).map(|i| (i, i)))?;
///     r.log_mut().extend(0..50_000)
/// })?;
/// pool.tx(|tx| {
///     let r = tx.root_mut();
///     r.by_id_mut().retain_ref(|k, _| *k < 100)?;
///     r.log_mut().truncate(100)
/// })?;
/// drop(pool);
///
/// // No `Index` named: the pool's stored schema drives the copy.
/// let report = compact_untyped(&path, &PoolOptions::new().initial_size(64 << 10))?;
/// assert!(report.bytes_after < report.bytes_before / 4);
/// let pool = Pool::<Index>::open(&path)?;
/// assert_eq!(pool.read(|r| (r.by_id.len(), r.log.len(), r.log.capacity()))?, (100, 100, 100));
/// pool.check()?;
/// # drop(pool); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), pmem::Error>(())
/// ```
pub fn compact_untyped(path: impl AsRef<Path>, options: &PoolOptions) -> Result<CompactReport> {
    let path = path.as_ref();
    let bytes_before = file_size(path)?;
    // Read-only and type-agnostic: recovery replays the old log in memory only, and the
    // shared lock keeps writers out until the rename is durable.
    let ins = Inspector::open(path)?;
    let info = ins.info();
    let json = ins.schema_json()?;
    let schema = StoredSchema::parse(&json).map_err(|w| Error::Corrupted {
        what: format!("schema record: {w}"),
        offset: ins.schema_offset(),
    })?;
    let root = StoredRoot {
        identity: info.root_type.clone(),
        size: ins.root_size(),
        align: ins.root_align(),
    };
    // Everything is decided (and every refusal made) before the new pool exists.
    let plan = relocate::plan(&ins, &schema)?;
    let opts = options
        .clone()
        .read_only(false)
        .layout(info.layout.clone())
        .max_size(info.max_size);
    replace_built(
        path,
        ".compacting",
        ins,
        |ins, tmp| {
            let mut new = opts.create_raw(tmp, &root)?;
            let tag = pool_tag_of(&new.uuid());
            new.build(&json, |tx| relocate::copy(ins, &plan, tx, tag))?;
            new.close()
        },
        |path| match opts.open_raw(path, &root) {
            Ok(p) => p.close(),
            Err(Error::Locked { .. }) => Ok(()),
            Err(e) => Err(e),
        },
    )?;
    Ok(CompactReport {
        bytes_before,
        bytes_after: file_size(path)?,
    })
}
