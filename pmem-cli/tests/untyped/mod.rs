//! What the untyped-compaction tests share: two derived types, the temp directory, the
//! `pmem compact` run, the serialising lock.
// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, PoisonError};

use pmem::{PBox, PString, PVec, Persistent};

#[derive(Persistent, Default)]
#[repr(C)]
pub(crate) struct Item {
    pub(crate) id: u64,
    pub(crate) name: PString,
    pub(crate) tags: PVec<u32>,
}

#[derive(Persistent, Default)]
#[repr(C)]
pub(crate) struct Node {
    pub(crate) value: u64,
    pub(crate) next: Option<PBox<Node>>,
}

/// Tests in this file run one at a time: a child process spawned by one test inherits,
/// between its fork and its exec, the pool descriptors another test holds, and with them
/// that pool's lock.
static SERIAL: Mutex<()> = Mutex::new(());

pub(crate) fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) struct Dir(pub(crate) PathBuf);

impl Dir {
    pub(crate) fn new(name: &str) -> Dir {
        let d =
            std::env::temp_dir().join(format!("pmem-cli-untyped-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) out: String,
    pub(crate) err: String,
}

pub(crate) fn pmem_compact(pool: &Path) -> Run {
    let o = Command::new(env!("CARGO_BIN_EXE_pmem"))
        .args(["compact", pool.to_str().unwrap()])
        .output()
        .expect("the pmem binary runs");
    Run {
        code: o.status.code().expect("exited"),
        out: String::from_utf8(o.stdout).unwrap(),
        err: String::from_utf8(o.stderr).unwrap(),
    }
}

pub(crate) fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).unwrap().len()
}

pub(crate) fn name(i: u64) -> String {
    format!("item {i}")
}

pub(crate) fn tags(i: u64) -> Vec<u32> {
    (0..(i % 5) as u32).map(|t| t * 3 + 1).collect()
}

pub(crate) fn new_item(i: u64) -> impl FnOnce(&mut ItemMut) -> pmem::Result<()> {
    move |it| {
        *it.id_mut() = i;
        it.name_mut().push_str(&name(i))?;
        it.tags_mut().extend(tags(i))
    }
}

pub(crate) fn off<T>(r: &T) -> u64 {
    pmem::raw::offset_of(std::ptr::from_ref(r).cast()).expect("in the pool")
}
