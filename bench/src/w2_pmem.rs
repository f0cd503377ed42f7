//! pmem's side of workload 2.
//!
//! - `hand`: the hand-written snapshot path ([`crate::pobj`]): a record's view
//!   snapshots each of the three 8-byte fields it hands out; the list push allocates a
//!   node and snapshots the 8-byte head.
//! - `derive`: the same update through `#[derive(Persistent)]`'s generated accessors,
//!   in the same container.
//! - `hash`: `PHashMap<u64, u64>` as the pool's root.
//!
//! `Full` rows use `Durability::Full` (one fdatasync of the log per commit); `Process`
//! rows use `Durability::Process` and are labelled so.

use std::path::{Path, PathBuf};

use pmem::{Durability, PBox, PHashMap, Pool, PoolOptions};

use crate::pobj::{push_front, DRecord, Node, Record, RecordTable};
use crate::w2::{Dur, Objects, NODE_PAYLOAD};

/// Default pool options (1 MiB initial size, growing on demand) but the durability.
pub fn options(dur: Dur) -> PoolOptions {
    let d = match dur {
        Dur::Full => Durability::Full,
        Dur::Process => Durability::Process,
    };
    PoolOptions::new().durability(d)
}

pub fn open(variant: &str, dur: Dur, dir: &Path) -> Option<Box<dyn Objects>> {
    match variant {
        "hand" => Some(Box::new(Hand { opts: options(dur), dir: dir.to_path_buf(), records: None, list: None })),
        "derive" => Some(Box::new(Derived { opts: options(dur), dir: dir.to_path_buf(), records: None })),
        "hash" => Some(Box::new(Hash { pool: options(dur).create(dir.join("hash.pool")).expect("create pool") })),
        _ => None,
    }
}

/// The 3-field update through `#[derive(Persistent)]`'s generated accessors.
struct Derived {
    opts: PoolOptions,
    dir: PathBuf,
    records: Option<Pool<RecordTable<DRecord>>>,
}

impl Objects for Derived {
    fn setup_records(&mut self, n: u64) {
        let pool = self.records.insert(self.opts.create(self.dir.join("records-derive.pool")).expect("create pool"));
        pool.tx(|tx| tx.root_mut().init(n, |i| DRecord { a: 0, b: 0, c: 0, payload: crate::pobj::payload(i) }))
            .expect("init records");
        assert_eq!(pool.read(|t| t.len()).unwrap(), n);
    }
    #[inline]
    fn update3(&mut self, i: u64, b: u64, c: u64) {
        let pool = self.records.as_mut().expect("setup_records first");
        pool.tx(|tx| {
            let r = tx.root_mut().get_mut(i);
            *r.a_mut() += 1;
            *r.b_mut() = b;
            *r.c_mut() = c;
            Ok::<_, pmem::Error>(())
        })
        .expect("update3");
    }
    fn push_node(&mut self, _id: u64, _value: u64) {
        unreachable!("the derive variant only runs update3")
    }
    fn setup_hash(&mut self, _keys: &mut dyn Iterator<Item = (u64, u64)>) {
        unreachable!()
    }
    fn hash_insert(&mut self, _k: u64, _v: u64) {
        unreachable!()
    }
    fn hash_lookups(&mut self, _keys: &[u64]) -> u64 {
        unreachable!()
    }
}

/// Pools are created on first use, so each row's directory holds only its own pool.
struct Hand {
    opts: PoolOptions,
    dir: PathBuf,
    records: Option<Pool<RecordTable<Record>>>,
    list: Option<Pool<Option<PBox<Node>>>>,
}

impl Objects for Hand {
    fn setup_records(&mut self, n: u64) {
        let pool = self.records.insert(self.opts.create(self.dir.join("records.pool")).expect("create pool"));
        pool.tx(|tx| tx.root_mut().init(n, |i| Record { a: 0, b: 0, c: 0, payload: crate::pobj::payload(i) }))
            .expect("init records");
        assert_eq!(pool.read(|t| t.len()).unwrap(), n);
    }
    #[inline]
    fn update3(&mut self, i: u64, b: u64, c: u64) {
        let pool = self.records.as_mut().expect("setup_records first");
        pool.tx(|tx| {
                let r = tx.root_mut().get_mut(i);
                *r.a_mut() += 1;
                *r.b_mut() = b;
                *r.c_mut() = c;
                Ok::<_, pmem::Error>(())
            })
            .expect("update3");
    }
    #[inline]
    fn push_node(&mut self, _id: u64, value: u64) {
        let (opts, dir) = (&self.opts, &self.dir);
        let list = self.list.get_or_insert_with(|| opts.create(dir.join("list.pool")).expect("create pool"));
        list.tx(|tx| push_front(tx.root_mut(), value, [0; NODE_PAYLOAD])).expect("push");
    }
    fn setup_hash(&mut self, _keys: &mut dyn Iterator<Item = (u64, u64)>) {
        unreachable!("hash rows use the `hash` variant")
    }
    fn hash_insert(&mut self, _k: u64, _v: u64) {
        unreachable!()
    }
    fn hash_lookups(&mut self, _keys: &[u64]) -> u64 {
        unreachable!()
    }
}

/// One `PHashMap<u64, u64>` insert per transaction; lookups in one `read`.
struct Hash {
    pool: Pool<PHashMap<u64, u64>>,
}

impl Objects for Hash {
    fn setup_records(&mut self, _n: u64) {
        unreachable!("the hash variant only runs the hash rows")
    }
    fn update3(&mut self, _i: u64, _b: u64, _c: u64) {
        unreachable!()
    }
    fn push_node(&mut self, _id: u64, _value: u64) {
        unreachable!()
    }
    fn setup_hash(&mut self, keys: &mut dyn Iterator<Item = (u64, u64)>) {
        self.pool
            .tx(|tx| {
                let m = tx.root_mut();
                for (k, v) in keys {
                    m.set(k, v)?;
                }
                Ok::<_, pmem::Error>(())
            })
            .expect("prefill");
    }
    #[inline]
    fn hash_insert(&mut self, k: u64, v: u64) {
        self.pool.tx(|tx| tx.root_mut().set(k, v)).expect("insert");
    }
    fn hash_lookups(&mut self, keys: &[u64]) -> u64 {
        self.pool
            .read(|m| keys.iter().map(|k| *m.get(k).expect("present")).fold(0, u64::wrapping_add))
            .expect("read")
    }
}
