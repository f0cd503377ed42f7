//! The simulated medium: a directory holding two in-memory files (pool and log) that
//! records every write, size change, sync, directory entry change and directory sync in
//! one ordered trace, so that the crash-state harness (`crash`) can rebuild every state
//! a real disk could be left in by a power cut — under rules as strict as POSIX
//! (ARCHITECTURE §6): nothing survives power loss unless a sync covered it.
//!
//! It also injects faults: a failing sync (to test poisoning) and a capacity limit (to
//! test a full disk).

use std::io;
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::media::Backing;

/// Which of the two files an event touched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileId {
    /// The pool file.
    Pool = 0,
    /// The log file.
    Log = 1,
}

/// One recorded operation.
#[derive(Clone, Debug)]
pub enum Event {
    /// Bytes written at an offset.
    Write {
        /// The file.
        file: FileId,
        /// Byte offset.
        off: u64,
        /// The bytes.
        data: Vec<u8>,
    },
    /// The file was made at least this long (durable only after a sync of the file).
    Grow {
        /// The file.
        file: FileId,
        /// New length.
        len: u64,
    },
    /// The file was cut to this length (durable only after a sync of the file).
    Shrink {
        /// The file.
        file: FileId,
        /// New length.
        len: u64,
    },
    /// A data sync of the file returned successfully.
    Sync {
        /// The file.
        file: FileId,
    },
    /// A new, empty file was created under the file's name (replacing any old one).
    /// The name is durable only after a directory sync; the new file's contents only
    /// after a sync of the file.
    Create {
        /// The file.
        file: FileId,
    },
    /// The file's name was removed (durable only after a directory sync).
    Remove {
        /// The file.
        file: FileId,
    },
    /// The directory was synced: every name change before it is durable.
    SyncDir,
    /// A marker the workload put into the trace (for example "commit 7 acknowledged").
    Mark(u64),
}

#[derive(Default)]
struct DiskState {
    files: [Vec<u8>; 2],
    /// Which names exist (an absent file reads as empty).
    present: [bool; 2],
    trace: Vec<Event>,
    recording: bool,
    syncs: u64,
    fail_sync_at: Option<u64>,
    capacity: Option<u64>,
}

/// A simulated disk holding a pool file and its log.
///
/// # Examples
///
/// ```
/// use pmem_core::sim::SimDisk;
/// let disk = SimDisk::new();
/// assert!(disk.file(pmem_core::sim::FileId::Pool).is_empty());
/// ```
#[derive(Clone, Default)]
pub struct SimDisk {
    inner: Arc<Mutex<DiskState>>,
}

impl SimDisk {
    /// An empty disk.
    pub fn new() -> Self {
        Self::default()
    }

    /// A disk whose files hold the given bytes; an empty log image is a missing log.
    pub fn from_images(pool: Vec<u8>, log: Vec<u8>) -> Self {
        let d = Self::default();
        {
            let mut s = d.lock();
            s.present = [true, !log.is_empty()];
            s.files = [pool, log];
        }
        d
    }

    /// A disk with the given files (`None`: the file does not exist).
    pub fn from_files(files: [Option<Vec<u8>>; 2]) -> Self {
        let d = Self::default();
        {
            let mut s = d.lock();
            s.present = [files[0].is_some(), files[1].is_some()];
            s.files = files.map(Option::unwrap_or_default);
        }
        d
    }

    /// Both files as they are now (`None`: the file does not exist).
    pub fn images(&self) -> [Option<Vec<u8>>; 2] {
        let s = self.lock();
        [0, 1].map(|f| s.present[f].then(|| s.files[f].clone()))
    }

    /// Whether a file exists.
    pub fn exists(&self, f: FileId) -> bool {
        self.lock().present[f as usize]
    }

    /// Creates (or truncates) a file.
    pub(crate) fn create(&self, f: FileId) {
        let mut s = self.lock();
        s.present[f as usize] = true;
        s.files[f as usize].clear();
        if s.recording {
            s.trace.push(Event::Create { file: f });
        }
    }

    /// Removes a file's name.
    pub(crate) fn remove(&self, f: FileId) {
        let mut s = self.lock();
        s.present[f as usize] = false;
        s.files[f as usize].clear();
        if s.recording {
            s.trace.push(Event::Remove { file: f });
        }
    }

    /// Syncs the directory (counts as a sync for `fail_sync_after`).
    pub(crate) fn sync_dir(&self) -> io::Result<()> {
        let mut s = self.lock();
        let n = s.syncs;
        s.syncs += 1;
        if s.fail_sync_at == Some(n) {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        if s.recording {
            s.trace.push(Event::SyncDir);
        }
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, DiskState> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts (or restarts) recording events from the current contents.
    pub fn start_recording(&self) {
        let mut s = self.lock();
        s.trace.clear();
        s.recording = true;
    }

    /// Stops recording and answers the trace.
    pub fn take_trace(&self) -> Vec<Event> {
        let mut s = self.lock();
        s.recording = false;
        std::mem::take(&mut s.trace)
    }

    /// Appends a marker to the trace.
    pub fn mark(&self, m: u64) {
        let mut s = self.lock();
        if s.recording {
            s.trace.push(Event::Mark(m));
        }
    }

    /// The current contents of a file (what a running process would read); empty when
    /// the file does not exist.
    pub fn file(&self, f: FileId) -> Vec<u8> {
        self.lock().files[f as usize].clone()
    }

    /// Makes the `n`-th sync from now (0-based) fail with an I/O error.
    pub fn fail_sync_after(&self, n: u64) {
        let mut s = self.lock();
        s.fail_sync_at = Some(s.syncs + n);
    }

    /// Limits the total size of both files; a write or growth past it fails with ENOSPC.
    pub fn set_capacity(&self, bytes: Option<u64>) {
        self.lock().capacity = bytes;
    }

    pub(crate) fn backing(&self, f: FileId) -> Box<dyn Backing> {
        Box::new(SimFile {
            disk: self.clone(),
            id: f,
            path: PathBuf::from(match f {
                FileId::Pool => "sim.pool",
                FileId::Log => "sim.pool.log",
            }),
        })
    }
}

struct SimFile {
    disk: SimDisk,
    id: FileId,
    path: PathBuf,
}

fn enospc() -> io::Error {
    io::Error::from_raw_os_error(libc::ENOSPC)
}

impl SimFile {
    fn check_capacity(s: &DiskState, id: FileId, new_len: u64) -> io::Result<()> {
        if let Some(cap) = s.capacity {
            let other = s.files[1 - id as usize].len() as u64;
            if other + new_len > cap {
                return Err(enospc());
            }
        }
        Ok(())
    }
}

impl Backing for SimFile {
    fn path(&self) -> &Path {
        &self.path
    }
    fn len(&self) -> io::Result<u64> {
        Ok(self.disk.lock().files[self.id as usize].len() as u64)
    }
    fn grow(&self, len: u64) -> io::Result<()> {
        let mut s = self.disk.lock();
        let f = self.id as usize;
        if (s.files[f].len() as u64) < len {
            Self::check_capacity(&s, self.id, len)?;
            s.files[f].resize(len as usize, 0);
            if s.recording {
                s.trace.push(Event::Grow { file: self.id, len });
            }
        }
        Ok(())
    }
    fn shrink(&self, len: u64) -> io::Result<()> {
        let mut s = self.disk.lock();
        let f = self.id as usize;
        if (s.files[f].len() as u64) > len {
            s.files[f].truncate(len as usize);
            if s.recording {
                s.trace.push(Event::Shrink { file: self.id, len });
            }
        }
        Ok(())
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> io::Result<()> {
        let s = self.disk.lock();
        let f = &s.files[self.id as usize];
        let end = off as usize + buf.len();
        if end > f.len() {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
        }
        buf.copy_from_slice(&f[off as usize..end]);
        Ok(())
    }
    fn write_at(&self, off: u64, data: &[u8]) -> io::Result<()> {
        let mut s = self.disk.lock();
        let end = off as usize + data.len();
        let f = self.id as usize;
        if end > s.files[f].len() {
            Self::check_capacity(&s, self.id, end as u64)?;
            s.files[f].resize(end, 0);
        }
        s.files[f][off as usize..end].copy_from_slice(data);
        if s.recording {
            s.trace.push(Event::Write {
                file: self.id,
                off,
                data: data.to_vec(),
            });
        }
        Ok(())
    }
    fn sync(&self) -> io::Result<()> {
        let mut s = self.disk.lock();
        let n = s.syncs;
        s.syncs += 1;
        if s.fail_sync_at == Some(n) {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        if s.recording {
            s.trace.push(Event::Sync { file: self.id });
        }
        Ok(())
    }
    fn fd(&self) -> Option<RawFd> {
        None
    }
}
