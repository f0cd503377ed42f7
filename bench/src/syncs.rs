//! Counts this process's flush system calls, so that workload 3 can report commits per
//! sync next to commits per second.
//!
//! The binary defines `fdatasync` and `fsync` itself. A definition in the executable
//! wins over the C library's at link time, so every call — pmem's (`libc::fdatasync`),
//! redb's (through `std::fs::File::sync_data`), SQLite's and LMDB's compiled-in C —
//! lands here, is counted, and goes to the kernel as the same raw system call the C
//! library would make. One relaxed atomic add per call, against a flush of 100 µs or
//! more. `strace -c -f` agrees with the counts (docs/BENCHMARKS.md, workload 3).
//!
//! Not counted: writes to a descriptor opened with `O_DSYNC` (LMDB writes its meta page
//! that way after the fdatasync of its data pages), which flush without a sync call.

use std::sync::atomic::{AtomicU64, Ordering};

static FDATASYNC: AtomicU64 = AtomicU64::new(0);
static FSYNC: AtomicU64 = AtomicU64::new(0);
/// Nanoseconds spent inside the calls (summed over threads).
static NS: AtomicU64 = AtomicU64::new(0);

fn timed(f: impl FnOnce() -> libc::c_long) -> libc::c_int {
    let t = std::time::Instant::now();
    let r = f();
    NS.fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
    r as libc::c_int
}

/// The C library's `fdatasync`, counted.
#[no_mangle]
pub extern "C" fn fdatasync(fd: libc::c_int) -> libc::c_int {
    FDATASYNC.fetch_add(1, Ordering::Relaxed);
    // SAFETY: the system call takes any descriptor (an invalid one yields EBADF, with
    // errno set by `syscall` as the C library's wrapper would).
    timed(|| unsafe { libc::syscall(libc::SYS_fdatasync, fd) })
}

/// The C library's `fsync`, counted (SQLite's build here has no `HAVE_FDATASYNC`, so
/// it calls `fsync`).
#[no_mangle]
pub extern "C" fn fsync(fd: libc::c_int) -> libc::c_int {
    FSYNC.fetch_add(1, Ordering::Relaxed);
    // SAFETY: as for `fdatasync`.
    timed(|| unsafe { libc::syscall(libc::SYS_fsync, fd) })
}

/// `fdatasync` plus `fsync` calls of this process so far.
pub fn count() -> u64 {
    FDATASYNC.load(Ordering::Relaxed) + FSYNC.load(Ordering::Relaxed)
}

/// Nanoseconds spent in those calls so far, summed over threads.
pub fn ns() -> u64 {
    NS.load(Ordering::Relaxed)
}
