//! pmem's side of workload 1: `PBTreeMap<[u8; 24], [u8; 150]>` in a `Durability::Full`
//! pool (wired in when `PBTreeMap` lands in pmem-collections).

use std::path::Path;

use crate::w1::Kv;

pub fn open(_dir: &Path) -> Option<Box<dyn Kv>> {
    None
}
