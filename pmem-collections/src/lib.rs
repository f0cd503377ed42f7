//! Persistent collections for pmem: [`PString`], [`PVec`], [`PHashMap`], [`PHashSet`],
//! [`PBTreeMap`] and [`PBTreeSet`] (plus [`PBox`] from the core), with the API of their
//! `std::collections` counterparts. Reads work on `&T` as usual; changes go through the
//! views a transaction hands out, and every change logs exactly the bytes it touches.
//!
//! Where pmem differs from std it does so the same way on every collection
//! (`docs/PARITY.md` lists every std method, and why the few that do not apply do not):
//! methods that may allocate answer `Result`, and an allocation error leaves the
//! collection unchanged; values that own pool memory never leave the pool, so the methods
//! that hand stored values out need plain data ([`CopyOut`]) and each has a twin for
//! every type that drops the value in place (`set`, `remove_with`, `pop_with`,
//! `take_with`...); where std hands out `&mut V`, a view hands out `&mut V::View`.
//!
//! # Examples
//!
//! ```
//! use pmem_collections::{PBTreeMap, PString, PVec};
//!
//! let mut pool = pmem_core::Pool::<PBTreeMap<PString, PVec<u64>>>::volatile()?;
//! pool.tx(|tx| {
//!     let m = tx.root_mut();
//!     m.entry("ada").or_default()?.extend([3, 1, 2])?; // a `&str` key becomes a PString
//!     m.get_mut("ada").unwrap().as_mut_slice().sort();
//!     m.set("bob", vec![7])?; // insert or overwrite, for any value type
//!     m.remove_with("bob", |_, v| assert_eq!(v[..], [7]))?; // remove, for any type
//!     Ok::<_, pmem_core::Error>(())
//! })?;
//! pool.read(|m| assert_eq!(m["ada"][..], [1, 2, 3]))?;
//! # Ok::<(), pmem_core::Error>(())
//! ```

pub use pmem_core::{OptionPBoxMut, PBox, PBoxMut};

#[macro_use]
mod iter_macros;

mod btree;
mod build;
mod copy_out;
mod corrupted;
pub mod hash_map;
pub mod hash_set;
pub mod inspect;
mod migrate;
pub mod string;
pub mod vec;

pub use btree::{btree_map, btree_set, PBTreeMap, PBTreeMapMut, PBTreeSet, PBTreeSetMut};
pub use copy_out::CopyOut;
pub use hash_map::{PBuildHasher, PHashMap, PHashMapMut, PHasher, PKey};
pub use hash_set::{PHashSet, PHashSetMut};
pub use string::{PString, PStringMut};
pub use vec::{PVec, PVecMut};
