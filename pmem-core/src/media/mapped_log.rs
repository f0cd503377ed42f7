//! The log through a shared mapping: how `Process` durability commits with memory
//! copies and no system call.

use std::io;
use std::os::fd::RawFd;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::medium::{Backing, RealFile};
use super::Region;

/// Writes of at least this many bytes go to the file with `pwrite` instead of through the
/// mapping (see `write_at`): small commits keep the system-call-free path.
const WRITE_THROUGH: usize = 64 << 10;

/// The log file, written through a shared mapping in the pool's region so that a commit in
/// `Process` durability costs memory copies and no system call; `sync` is fdatasync,
/// which on Linux writes back the mapping's dirty pages.
pub(crate) struct MappedLog {
    inner: RealFile,
    /// Start of the log mapping in the pool's region.
    start: *mut u8,
    /// Bytes of the file currently mapped (a page multiple). Changed only under the
    /// pool's write lock.
    mapped: AtomicU64,
}

// SAFETY: `start` points into a region that outlives this value (the pool owns both and
// drops the log first); writes are serialised by the pool's write lock.
unsafe impl Send for MappedLog {}
// SAFETY: as above.
unsafe impl Sync for MappedLog {}

impl MappedLog {
    /// Maps `inner` (whose length is a page multiple) into the log half of `region`.
    pub(crate) fn new(inner: RealFile, region: &Region) -> io::Result<Self> {
        let len = inner.len()?;
        let len = len - len % crate::format::PAGE;
        if len > crate::media::max_log_size() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "log file larger than the log region",
            ));
        }
        region.map_shared(crate::media::log_start(), len, inner.raw_fd(), 0)?;
        // SAFETY: the log half lies inside the region.
        let start = unsafe { region.base().add(crate::media::log_start() as usize) };
        Ok(MappedLog {
            inner,
            start,
            mapped: AtomicU64::new(len),
        })
    }
}

impl Backing for MappedLog {
    fn path(&self) -> &Path {
        self.inner.path()
    }
    fn len(&self) -> io::Result<u64> {
        self.inner.len()
    }
    fn grow(&self, len: u64) -> io::Result<()> {
        let len = len.div_ceil(crate::format::PAGE) * crate::format::PAGE;
        let mapped = self.mapped.load(Ordering::Relaxed);
        if len <= mapped {
            return Ok(());
        }
        if len > crate::media::max_log_size() {
            return Err(io::Error::new(
                io::ErrorKind::OutOfMemory,
                "log region exhausted",
            ));
        }
        self.inner.grow(len)?;
        let base = crate::media::region_base(self.start as usize);
        let p = (base as u64 + crate::media::log_start() + mapped) as *mut libc::c_void;
        // SAFETY: maps the new tail of the file right after the mapped part, inside the
        // log half of our region.
        let r = unsafe {
            libc::mmap(
                p,
                (len - mapped) as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_FIXED,
                self.inner.raw_fd(),
                mapped as libc::off_t,
            )
        };
        if r == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        self.mapped.store(len, Ordering::Relaxed);
        Ok(())
    }
    fn shrink(&self, len: u64) -> io::Result<()> {
        let len = len.div_ceil(crate::format::PAGE) * crate::format::PAGE;
        let mapped = self.mapped.load(Ordering::Relaxed);
        if len < mapped {
            // Put the reservation back over the tail before cutting the file under it,
            // so no mapping ever covers bytes past the end of the file.
            // SAFETY: the tail lies in the log half of our region; nothing refers to it
            // (the log is only written under the write lock, which the caller holds).
            let r = unsafe {
                libc::mmap(
                    self.start.add(len as usize).cast(),
                    (mapped - len) as usize,
                    libc::PROT_NONE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if r == libc::MAP_FAILED {
                return Err(io::Error::last_os_error());
            }
            self.mapped.store(len, Ordering::Relaxed);
        }
        self.inner.shrink(len)
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> io::Result<()> {
        self.inner.read_at(off, buf)
    }
    fn write_at(&self, off: u64, data: &[u8]) -> io::Result<()> {
        let mapped = self.mapped.load(Ordering::Relaxed);
        let need = off + data.len() as u64;
        if need > mapped {
            // Grow geometrically: every growth is a system call and a new mapping.
            self.grow(
                need.max(mapped * 2)
                    .max(1 << 20)
                    .min(crate::media::max_log_size())
                    .max(need),
            )?;
        }
        if data.len() >= WRITE_THROUGH {
            // A large write (a bulk transaction's ranges) goes through the file, not the
            // mapping: the page cache holds it either way, but pages stored through the
            // mapping stay mapped — counted in the process's resident memory until the log
            // is cut — so a 200 MiB bulk commit would double its footprint. The mapping
            // and the file share the same page-cache pages (Linux's unified page cache),
            // so later reads through either see these bytes, and fdatasync covers both.
            return self.inner.write_at(off, data);
        }
        // SAFETY: the range is inside the mapped part of the log half (checked and grown
        // above); the file blocks behind it are allocated, so the store cannot SIGBUS.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), self.start.add(off as usize), data.len());
        }
        Ok(())
    }
    fn sync(&self) -> io::Result<()> {
        self.inner.sync()
    }
    fn fd(&self) -> Option<RawFd> {
        self.inner.fd()
    }
}
