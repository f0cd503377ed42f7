//! pmem's side of workload 1: `PBTreeMap<[u8; 24], [u8; 150]>` as the root of a pool
//! with default options (`Durability::Full`: one fdatasync of the log per commit).

use std::path::Path;

use pmem::{PBTreeMap, Pool, PoolOptions};

use crate::util::{Data, Key, Val};
use crate::w1::{sum_bytes, Kv};

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
    fn insert(&mut self, data: &Data, from: u64, to: u64) {
        self.pool
            .tx(|tx| {
                let m = tx.root_mut();
                for i in from..to {
                    m.set(data.key(i), data.value(i))?;
                }
                Ok::<_, pmem::Error>(())
            })
            .expect("insert");
    }
    fn get_many(&mut self, data: &Data, idx: &mut dyn Iterator<Item = u64>, count: u64) -> u64 {
        self.pool
            .read(|m| idx.take(count as usize).map(|i| sum_bytes(m.get(&data.key(i)).expect("present"))).sum())
            .expect("read")
    }
    fn ranges(&mut self, data: &Data, idx: &mut dyn Iterator<Item = u64>, count: u64) -> (u64, u64) {
        self.pool
            .read(|m| {
                let (mut s, mut seen) = (0, 0);
                for i in idx.take(count as usize) {
                    for (_, v) in m.range(data.key(i)..).take(10) {
                        s += sum_bytes(v);
                        seen += 1;
                    }
                }
                (s, seen)
            })
            .expect("read")
    }
    fn remove(&mut self, data: &Data, from: u64, to: u64) {
        self.pool
            .tx(|tx| {
                let m = tx.root_mut();
                for i in from..to {
                    assert!(m.remove_with(&data.key(i), |_, _| ())?.is_some(), "present");
                }
                Ok::<_, pmem::Error>(())
            })
            .expect("remove");
    }
    fn close(self: Box<Self>) {
        self.pool.close().expect("close");
    }
}
