//! `PBTreeMap` and `PBTreeSet`: a B+-tree in the pool (see DESIGN-NOTES-btree.md).
//!
//! Layers, bottom up: `node` (layout and byte moves, non-generic), `tree` (header,
//! descent), `insert`/`remove` (structure changes, non-generic), `check` (the integrity
//! walk); then the typed surface: `map` (reads), `map_mut` (the view's writes), `entry`,
//! `iter` and `set`.
//!
//! Iterator and entry types live in [`btree_map`] and [`btree_set`], as in std.

mod check;
mod edit;
mod entry;
mod insert;
mod iter;
mod map;
mod map_mut;
mod migrate;
mod node;
mod remove;
mod set;
mod set_ops;
mod spread;
mod tree;

pub use map::PBTreeMap;
pub use map_mut::PBTreeMapMut;
pub(crate) use node::{
    Elems, Geo, CHILD_SIZE, INNER_HDR, LEAF_HDR, MAX_HEIGHT, OFF_LEN, OFF_LEVEL, OFF_NEXT, OFF_PREV,
};
pub use set::{PBTreeSet, PBTreeSetMut};
pub(crate) use tree::Header as BTreeHeader;

/// Iterator and entry types of [`PBTreeMap`], named as in `std::collections::btree_map`.
pub mod btree_map {
    pub use super::edit::{ExtractIf, RangeMut};
    pub use super::entry::{Entry, OccupiedEntry, VacantEntry};
    pub use super::iter::{Iter, IterMut, Keys, Range, Values, ValuesMut};
    pub use super::map::PBTreeMap;
    pub use super::map_mut::PBTreeMapMut;
}

/// Iterator types of [`PBTreeSet`], named as in `std::collections::btree_set`.
pub mod btree_set {
    pub use super::set::{Iter, PBTreeSet, PBTreeSetMut, Range};
    pub use super::set_ops::{Difference, ExtractIf, Intersection, SymmetricDifference, Union};
}
