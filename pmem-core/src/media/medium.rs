//! The files under a pool, behind one small trait so that the engine runs unchanged on a
//! real file system and on the simulated medium of the crash-state harness (`sim`).
//!
//! The engine only ever asks a file for: its length, a new length, a positional read, a
//! positional write and a data sync. What those promise on a real disk is stated in
//! `docs/ARCHITECTURE.md` §6 (media assumptions).

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// One file of a pool (the pool file or its log).
pub(crate) trait Backing: Send + Sync {
    fn path(&self) -> &Path;
    fn len(&self) -> io::Result<u64>;
    /// Makes the file at least `len` bytes long (never shrinks).
    fn grow(&self, len: u64) -> io::Result<()>;
    /// Cuts the file to `len` bytes. Only ever called on a log whose contents past `len`
    /// are obsolete (after a checkpoint).
    fn shrink(&self, len: u64) -> io::Result<()>;
    fn read_at(&self, off: u64, buf: &mut [u8]) -> io::Result<()>;
    fn write_at(&self, off: u64, data: &[u8]) -> io::Result<()>;
    /// Makes every write so far durable (fdatasync).
    fn sync(&self) -> io::Result<()>;
    /// A descriptor to map, when the file is a real one.
    fn fd(&self) -> Option<RawFd>;
}

/// A real file accessed with pread/pwrite/fdatasync.
pub(crate) struct RealFile {
    file: File,
    path: PathBuf,
}

impl RealFile {
    pub(crate) fn new(file: File, path: PathBuf) -> Self {
        RealFile { file, path }
    }

    /// The descriptor, for mapping the file.
    pub(super) fn raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

pub(crate) fn fdatasync(fd: RawFd) -> io::Result<()> {
    // SAFETY: fdatasync takes any descriptor; an invalid one only yields EBADF.
    if unsafe { libc::fdatasync(fd) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl Backing for RealFile {
    fn path(&self) -> &Path {
        &self.path
    }
    fn len(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }
    fn grow(&self, len: u64) -> io::Result<()> {
        if self.len()? < len {
            // Allocate real blocks now so that a full disk is an error here, not a
            // SIGBUS when a mapped page is first written.
            // SAFETY: plain syscall on our descriptor.
            let r = unsafe { libc::posix_fallocate(self.file.as_raw_fd(), 0, len as libc::off_t) };
            if r != 0 {
                return Err(io::Error::from_raw_os_error(r));
            }
        }
        Ok(())
    }
    fn shrink(&self, len: u64) -> io::Result<()> {
        if self.len()? > len {
            self.file.set_len(len)?;
        }
        Ok(())
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> io::Result<()> {
        self.file.read_exact_at(buf, off)
    }
    fn write_at(&self, off: u64, data: &[u8]) -> io::Result<()> {
        self.file.write_all_at(data, off)
    }
    fn sync(&self) -> io::Result<()> {
        fdatasync(self.file.as_raw_fd())
    }
    fn fd(&self) -> Option<RawFd> {
        Some(self.file.as_raw_fd())
    }
}
