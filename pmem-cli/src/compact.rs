//! `pmem compact POOL`: the typed compaction (`pmem::compact`) for pools whose root is a
//! type the CLI knows — an integer, a string, or a vector, map or set of integers and
//! strings. Compaction rebuilds hash tables, which means hashing keys with their type's
//! `Hash`: code the pool's schema does not carry for application types, so a pool whose
//! root is an application type is refused with the one-line call that compacts it from
//! the application (`docs/ARCHITECTURE.md` §15.5).

use std::path::Path;

use pmem::compact::{compact, CompactReport};
use pmem::{PBTreeMap, PBTreeSet, PHashMap, PHashSet, PString, PVec, Persistent, PoolOptions};
use pmem_collections::inspect::Inspector;

use crate::fail::Failure;

/// One root type the CLI can compact: its fingerprint and its compaction.
struct Known {
    name: &'static str,
    fingerprint: u64,
    run: fn(&Path, &PoolOptions) -> pmem::Result<CompactReport>,
}

macro_rules! known {
    ($($t:ty),* $(,)?) => {
        &[$(Known {
            name: stringify!($t),
            fingerprint: <$t as Persistent>::FINGERPRINT,
            run: |p, o| compact::<$t>(p, o),
        }),*]
    };
}

/// Roots the CLI can name.
const KNOWN: &[Known] = known![
    u64,
    i64,
    PString,
    PVec<u8>,
    PVec<u32>,
    PVec<u64>,
    PVec<i64>,
    PVec<f64>,
    PVec<PString>,
    PHashMap<u64, u64>,
    PHashMap<u64, PString>,
    PHashMap<PString, u64>,
    PHashMap<PString, PString>,
    PBTreeMap<u64, u64>,
    PBTreeMap<u64, PString>,
    PBTreeMap<PString, u64>,
    PBTreeMap<PString, PString>,
    PHashSet<u64>,
    PHashSet<PString>,
    PBTreeSet<u64>,
    PBTreeSet<PString>,
];

/// Compacts the pool at `path`; answers the line to print.
pub(crate) fn run(path: &Path) -> Result<String, Failure> {
    let ins = Inspector::open(path).map_err(|e| Failure::open(path, &e))?;
    let info = ins.info();
    drop(ins);
    let root = &info.root_type;
    let Some(k) = KNOWN.iter().find(|k| k.fingerprint == root.fingerprint) else {
        return Err(Failure::usage(format!(
            "{}: the root type {} is defined by the application, and compacting it \
             rehashes its keys with the application's code; compact it from the \
             application with pmem::compact::compact::<{}>(path, &options)",
            path.display(),
            root.name,
            root.name
        )));
    };
    let opts = PoolOptions::new()
        .layout(info.layout.clone())
        .durability(info.durability)
        .max_size(info.max_size);
    let r = (k.run)(path, &opts).map_err(|e| Failure::open(path, &e))?;
    Ok(format!(
        "compacted {} (root {}): {} -> {} bytes\n",
        path.display(),
        k.name,
        r.bytes_before,
        r.bytes_after
    ))
}
