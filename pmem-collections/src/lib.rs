//! Persistent collections for pmem: [`PString`], [`PVec`], [`PHashMap`], [`PHashSet`],
//! [`PBTreeMap`] and [`PBTreeSet`] (plus [`PBox`] from the core), with the API of their
//! `std::collections` counterparts. Reads work on `&T` as usual; changes go through the
//! views a transaction hands out, and every change logs exactly the bytes it touches.

pub use pmem_core::{OptionPBoxMut, PBox, PBoxMut};

mod btree;
mod copy_out;
mod hash_map;
mod hash_set;
pub mod inspect;
mod string;
mod vec;

pub use btree::*;
pub use copy_out::CopyOut;
pub use hash_map::*;
pub use hash_set::*;
pub use string::*;
pub use vec::*;
