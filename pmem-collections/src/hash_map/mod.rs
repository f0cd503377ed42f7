//! [`PHashMap<K, V>`]: a hash map in pool memory, its view [`PHashMapMut<K, V>`], the
//! entry API, its iterators, the [`PKey`] trait and the deterministic [`PHasher`].

mod edit;
mod entry;
mod hasher;
mod iter;
mod key;
mod map;
mod migrate;
mod raw;
mod view;

pub use edit::{Drain, ExtractIf};
pub use entry::{Entry, OccupiedEntry, VacantEntry};
pub use hasher::{PBuildHasher, PHasher};
pub use iter::{Iter, IterMut, Keys, Values, ValuesMut};
pub use key::PKey;
pub(crate) use map::Bucket;
pub(crate) use migrate::migrate_table;
pub(crate) use raw::{
    bucket_capacity, FullBuckets, Header as HashHeader, Layout as BucketLayout, Table, DELETED,
    EMPTY, GROUP,
};
pub(crate) use view::erase_bucket;

/// The full buckets of `t` (for the set's iterators).
pub(crate) fn full_buckets(t: Table) -> FullBuckets {
    t.full_buckets()
}
pub use map::PHashMap;
pub use view::PHashMapMut;
