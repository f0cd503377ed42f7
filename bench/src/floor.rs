//! The physical floor of a durable commit on this machine: `count` times, a 512-byte
//! `pwrite` at the next offset of a preallocated file (written and synced beforehand,
//! so no fdatasync has metadata to flush), then `fdatasync`.

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::util::Phase;

pub const WRITE: usize = 512;

pub fn run(dir: &Path, count: u64) {
    let path = dir.join("floor.dat");
    let f = OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path).expect("open floor file");
    let len = count as usize * WRITE;
    f.write_all_at(&vec![0u8; len], 0).expect("preallocate");
    f.sync_all().expect("sync");
    let buf = [0xa5u8; WRITE];
    let ph = Phase::start("floor.fdatasync", count);
    for i in 0..count {
        f.write_all_at(&buf, i * WRITE as u64).expect("write");
        f.sync_data().expect("fdatasync");
    }
    ph.end(None);
}
