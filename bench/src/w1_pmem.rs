//! pmem's side of workload 1: `PBTreeMap<[u8; 24], [u8; 150]>` as the root of a pool
//! with default options (`Durability::Full`: one fdatasync of the log per commit).

use std::path::Path;

use pmem::{PBTreeMap, Pool, PoolOptions};

use crate::util::{Key, Val};
use crate::w1::{use_value, Kv};

type Map = PBTreeMap<Key, Val>;

pub fn open(dir: &Path) -> Option<Box<dyn Kv>> {
    let pool = PoolOptions::new().create::<Map>(dir.join("w1.pool")).expect("create pool");
    assert_eq!(pool.durability(), pmem::Durability::Full);
    Some(Box::new(PmemKv { pool }))
}

struct PmemKv {
    pool: Pool<Map>,
}

impl Kv for PmemKv {
    fn insert(&mut self, entries: &[(Key, Val)]) {
        self.pool
            .tx(|tx| {
                let m = tx.root_mut();
                for (k, v) in entries {
                    m.set(*k, *v)?;
                }
                Ok::<_, pmem::Error>(())
            })
            .expect("insert");
    }
    fn get_many(&mut self, keys: &[Key]) -> u64 {
        self.pool.read(|m| keys.iter().map(|k| use_value(m.get(k).expect("present"))).sum()).expect("read")
    }
    fn ranges(&mut self, keys: &[Key]) -> (u64, u64) {
        self.pool
            .read(|m| {
                let (mut s, mut seen) = (0, 0);
                for k in keys {
                    for (_, v) in m.range::<Key, _>(k..).take(10) {
                        s += use_value(v);
                        seen += 1;
                    }
                }
                (s, seen)
            })
            .expect("read")
    }
    fn remove(&mut self, keys: &[Key]) {
        self.pool
            .tx(|tx| {
                let m = tx.root_mut();
                for k in keys {
                    assert!(m.remove_with(k, |_, _| ())?.is_some(), "present");
                }
                Ok::<_, pmem::Error>(())
            })
            .expect("remove");
    }
    fn close(self: Box<Self>) {
        self.pool.close().expect("close");
    }
}
