//! [`PHashMap<K, V>`]: a hash map in pool memory, its view [`PHashMapMut<K, V>`], the
//! entry API, its iterators, the [`PKey`] trait and the deterministic [`PHasher`].

mod entry;
mod hasher;
mod iter;
mod key;
mod map;
mod raw;
mod view;

pub use entry::{HashMapEntry, HashMapOccupiedEntry, HashMapVacantEntry};
pub use hasher::PHasher;
pub use iter::{HashMapIter, HashMapIterMut, HashMapKeys, HashMapValues, HashMapValuesMut};
pub use key::PKey;
pub use map::PHashMap;
pub use view::PHashMapMut;
