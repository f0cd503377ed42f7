//! `pmem compact POOL`. A pool whose root is a type the CLI knows — an integer, a
//! string, or a vector, map or set of integers and strings — gets the typed compaction
//! (`pmem::compact::compact`), which also rebuilds hash tables at the smallest size that
//! holds their entries. Any other root (an application's type) gets the compaction
//! driven by the stored schema (`pmem::compact::compact_untyped`): the same atomic
//! replacement, with hash tables copied at their bucket count, since rehashing needs the
//! key type's `Hash`, which the schema does not carry (`docs/ARCHITECTURE.md` §15.5).

use std::path::Path;

use pmem::compact::{compact, compact_untyped, CompactReport};
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
    let known = KNOWN.iter().find(|k| k.fingerprint == root.fingerprint);
    let r = match known {
        Some(k) => {
            let opts = PoolOptions::new()
                .layout(info.layout.clone())
                .max_size(info.max_size);
            (k.run)(path, &opts)
        }
        // The layout name and maximum size come from the pool itself.
        None => compact_untyped(path, &PoolOptions::new()),
    }
    .map_err(|e| Failure::open(path, &e))?;
    Ok(format!(
        "compacted {} (root {}): {} -> {} bytes\n",
        path.display(),
        known.map_or(root.name.as_str(), |k| k.name),
        r.bytes_before,
        r.bytes_after
    ))
}
