//! The physical floor of a durable commit on this machine: `count` times, a 512-byte
//! `pwrite` at the next offset of a preallocated file (written and synced beforehand,
//! so no fdatasync has metadata to flush), then `fdatasync`.
//!
//! A second, diagnostic phase does the same into a file preallocated with
//! `posix_fallocate` only: on ext4 its blocks are "unwritten" extents, and the first
//! write to each makes fdatasync commit the metadata journal as well — what a log
//! grown with fallocate pays.

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::util::Phase;

pub const WRITE: usize = 512;

/// `prefix` names the phases: `{prefix}.fdatasync` and `{prefix}.fdatasync_fallocated`.
pub fn run(dir: &Path, count: u64, prefix: &str) {
    preallocated(dir, count, &format!("{prefix}.fdatasync"));
    let len = count as usize * WRITE;
    let buf = [0xa5u8; WRITE];

    let path = dir.join("floor-fallocated.dat");
    let f = OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path).expect("open floor file");
    // SAFETY: a valid descriptor; posix_fallocate only allocates blocks.
    let r = unsafe { libc::posix_fallocate(std::os::fd::AsRawFd::as_raw_fd(&f), 0, len as libc::off_t) };
    assert_eq!(r, 0, "posix_fallocate");
    f.sync_all().expect("sync");
    let ph = Phase::start(&format!("{prefix}.fdatasync_fallocated"), count);
    for i in 0..count {
        f.write_all_at(&buf, i * WRITE as u64).expect("write");
        f.sync_data().expect("fdatasync");
    }
    ph.end(None);
}

/// The floor proper (see the module docs), reported as phase `phase`. Workload 2's
/// pmem child also calls this right before each `Full` repetition, so that the `÷floor`
/// column divides numbers taken seconds apart, not minutes.
pub fn preallocated(dir: &Path, count: u64, phase: &str) {
    let path = dir.join("floor.dat");
    let f = OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path).expect("open floor file");
    let len = count as usize * WRITE;
    f.write_all_at(&vec![0u8; len], 0).expect("preallocate");
    f.sync_all().expect("sync");
    let buf = [0xa5u8; WRITE];
    let ph = Phase::start(phase, count);
    for i in 0..count {
        f.write_all_at(&buf, i * WRITE as u64).expect("write");
        f.sync_data().expect("fdatasync");
    }
    ph.end(None);
    drop(f);
    let _ = std::fs::remove_file(&path);
}

/// The floor one fdatasync at a time, for interleaving with other engines' commits.
pub struct Floor {
    f: std::fs::File,
    stride: u64,
}

impl Floor {
    /// A file of `count` preallocated (written and synced) 512-byte blocks.
    pub fn new(dir: &Path, count: u64) -> Self {
        let path = dir.join("floor-rr.dat");
        let f = OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path).expect("open floor file");
        f.write_all_at(&vec![0u8; count.max(1) as usize * WRITE], 0).expect("preallocate");
        f.sync_all().expect("sync");
        Floor { f, stride: WRITE as u64 }
    }
    /// Diagnostic: `count` 4 KiB blocks reserved with `posix_fallocate` only, each write
    /// landing in a block never written before (what a log grown by fallocate pays).
    pub fn fallocated(dir: &Path, count: u64) -> Self {
        let path = dir.join("floor-rr-fallocated.dat");
        let f = OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path).expect("open floor file");
        // SAFETY: a valid descriptor; posix_fallocate only allocates blocks.
        let r = unsafe { libc::posix_fallocate(std::os::fd::AsRawFd::as_raw_fd(&f), 0, (count.max(1) * 4096) as libc::off_t) };
        assert_eq!(r, 0, "posix_fallocate");
        f.sync_all().expect("sync");
        Floor { f, stride: 4096 }
    }
    /// One 512-byte write at slot `i`, then fdatasync.
    pub fn one(&mut self, i: u64) {
        self.f.write_all_at(&[0xa5u8; WRITE], i * self.stride).expect("write");
        self.f.sync_data().expect("fdatasync");
    }
}
