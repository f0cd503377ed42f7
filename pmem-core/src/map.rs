//! Address space for one open pool: a *slot*.
//!
//! Every pool reserves one naturally aligned slot of `SLOT_SIZE` bytes of address space
//! at open. The pool file is mapped copy-on-write at the start of the slot and grows in
//! place (references handed out earlier stay valid); the log file is mapped shared in the
//! second half; the last page holds the volatile [`Control`] block.
//!
//! Because slots are aligned to their size, any address inside a pool finds its pool in
//! one AND: `base = addr & !(SLOT_SIZE - 1)`, and its control block at a fixed offset from
//! there. Persistent pointers (offsets) and views use this to reach the pool and its
//! active transaction without a registry, a hash lookup or thread-local state.
//!
//! ```text
//! base                      base + LOG_REGION             base + SLOT_SIZE - PAGE
//! | pool file (MAP_PRIVATE) | log file (MAP_SHARED)  ...  | Control (anonymous) |
//! ```

use std::io;
use std::os::fd::RawFd;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

/// log2 of the slot size: 256 GiB of address space per open pool (no memory is committed).
pub(crate) const SLOT_SHIFT: u32 = 38;
pub(crate) const SLOT_SIZE: u64 = 1 << SLOT_SHIFT;
/// Start of the log mapping inside the slot.
pub(crate) const LOG_REGION: u64 = SLOT_SIZE / 2;
/// Largest pool file a slot can hold.
pub(crate) const MAX_POOL_SIZE: u64 = LOG_REGION;
/// Largest log file a slot can hold.
pub(crate) const MAX_LOG_SIZE: u64 = SLOT_SIZE / 2 - 2 * crate::layout::PAGE;
const CONTROL_OFF: u64 = SLOT_SIZE - crate::layout::PAGE;
const CONTROL_MAGIC: u64 = 0x4c52_544e_4f43_4d50; // "PMCONTRL"

/// Volatile per-pool block at a fixed place in the slot.
#[repr(C)]
pub(crate) struct Control {
    magic: u64,
    /// The pool's shared state (`crate::pool::Shared`), for code that only has an address.
    pub(crate) shared: AtomicPtr<()>,
    /// The transaction state while a transaction is open, else null.
    pub(crate) active: AtomicPtr<()>,
    /// Token of the thread that owns `active`.
    pub(crate) owner: AtomicU64,
    /// Bytes of the pool file currently mapped at the slot base.
    pub(crate) mapped_len: AtomicU64,
    /// 16-bit pool tag (from the UUID) stamped into `PPtr`s made from this pool.
    pub(crate) tag: AtomicU64,
}

/// A reserved, aligned slot. Unmaps everything in it on drop.
pub(crate) struct Slot {
    base: NonNull<u8>,
}

// SAFETY: the slot is a region of address space; all mutation of its contents is
// synchronised by the pool's lock, and the `Control` fields are atomics.
unsafe impl Send for Slot {}
// SAFETY: as above.
unsafe impl Sync for Slot {}

fn last_os_error(what: &str) -> io::Error {
    let e = io::Error::last_os_error();
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

impl Slot {
    /// Reserves a fresh aligned slot and sets up its control block.
    pub(crate) fn reserve() -> io::Result<Slot> {
        let want = (2 * SLOT_SIZE) as usize;
        // SAFETY: an anonymous PROT_NONE reservation at an address of the kernel's choice;
        // it touches no existing mapping.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                want,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(last_os_error("reserving address space"));
        }
        let start = p as usize;
        let aligned = (start + SLOT_SIZE as usize - 1) & !(SLOT_SIZE as usize - 1);
        let head = aligned - start;
        let tail = want - head - SLOT_SIZE as usize;
        // SAFETY: both ranges lie inside the reservation just made and are not used.
        unsafe {
            if head > 0 {
                libc::munmap(p, head);
            }
            if tail > 0 {
                libc::munmap((aligned + SLOT_SIZE as usize) as *mut libc::c_void, tail);
            }
        }
        let slot = Slot {
            base: NonNull::new(std::ptr::with_exposed_provenance_mut::<u8>(aligned)).expect("mmap never returns 0"),
        };
        // Keep the provenance of the reservation reachable from integer addresses: pool
        // pointers are rebuilt from `slot_base(addr) + offset`.
        let _ = slot.base.as_ptr().expose_provenance();
        slot.map_anon(CONTROL_OFF, crate::layout::PAGE)?;
        // SAFETY: the control page was just mapped read-write and zeroed; `Control` is
        // smaller than a page and all-zero is a valid value of it.
        unsafe {
            let c = slot.base.as_ptr().add(CONTROL_OFF as usize).cast::<Control>();
            (*c).magic = CONTROL_MAGIC;
        }
        live_set(aligned, true);
        Ok(slot)
    }

    pub(crate) fn base(&self) -> *mut u8 {
        self.base.as_ptr()
    }

    pub(crate) fn control(&self) -> &Control {
        // SAFETY: mapped in `reserve` for the life of the slot.
        unsafe { &*self.base.as_ptr().add(CONTROL_OFF as usize).cast::<Control>() }
    }

    /// Maps fresh zero pages read-write at `off..off+len` of the slot.
    pub(crate) fn map_anon(&self, off: u64, len: u64) -> io::Result<()> {
        self.map(off, len, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
    }

    /// Maps `len` bytes of file `fd` from `file_off` copy-on-write at `off` of the slot.
    pub(crate) fn map_private(&self, off: u64, len: u64, fd: RawFd, file_off: u64) -> io::Result<()> {
        self.map(off, len, libc::MAP_PRIVATE, fd, file_off)
    }

    /// Maps `len` bytes of file `fd` from `file_off` shared at `off` of the slot.
    pub(crate) fn map_shared(&self, off: u64, len: u64, fd: RawFd, file_off: u64) -> io::Result<()> {
        self.map(off, len, libc::MAP_SHARED, fd, file_off)
    }

    fn map(&self, off: u64, len: u64, flags: libc::c_int, fd: RawFd, file_off: u64) -> io::Result<()> {
        assert!(off % crate::layout::PAGE == 0 && len % crate::layout::PAGE == 0);
        assert!(off + len <= SLOT_SIZE);
        if len == 0 {
            return Ok(());
        }
        // SAFETY: the target range lies inside this slot, which we own; MAP_FIXED replaces
        // only our own reservation or our own earlier mapping of the same range.
        let p = unsafe {
            libc::mmap(
                self.base.as_ptr().add(off as usize).cast(),
                len as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                flags | libc::MAP_FIXED,
                fd,
                file_off as libc::off_t,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(last_os_error("mapping pool memory"));
        }
        Ok(())
    }

    /// Drops private copies of pages so they read from the file again.
    pub(crate) fn discard_private(&self, off: u64, len: u64) {
        // SAFETY: the range is inside this slot; MADV_DONTNEED on a private file mapping
        // only re-reads the file, whose bytes equal the private copy after a checkpoint.
        unsafe {
            libc::madvise(self.base.as_ptr().add(off as usize).cast(), len as usize, libc::MADV_DONTNEED);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        live_set(self.base.as_ptr() as usize, false);
        // SAFETY: the whole slot is ours; nothing refers into it once the pool is gone.
        unsafe {
            libc::munmap(self.base.as_ptr().cast(), SLOT_SIZE as usize);
        }
    }
}

/// The base of the slot containing `addr`.
#[inline]
pub(crate) fn slot_base(addr: usize) -> usize {
    addr & !(SLOT_SIZE as usize - 1)
}

/// The control block of the pool containing `addr`.
///
/// # Safety
/// - `addr` must lie inside the mapped pool region of an open pool's slot.
#[inline]
pub(crate) unsafe fn control_of<'a>(addr: usize) -> &'a Control {
    let c = (slot_base(addr) + CONTROL_OFF as usize) as *const Control;
    // SAFETY: by the caller's promise the slot is live, so its control page is mapped.
    let c = unsafe { &*c };
    debug_assert_eq!(c.magic, CONTROL_MAGIC);
    c
}

/// A cheap token that is unique per live thread.
#[inline]
pub(crate) fn thread_token() -> u64 {
    thread_local!(static TOKEN: u8 = const { 0 });
    TOKEN.with(|t| std::ptr::from_ref(t) as u64)
}

impl Control {
    pub(crate) fn mapped_len(&self) -> u64 {
        self.mapped_len.load(Ordering::Acquire)
    }
}

/// One bit per possible slot of a 47-bit address space: is a pool mapped there?
static LIVE: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];

fn live_index(addr: usize) -> Option<(usize, u64)> {
    let n = addr >> SLOT_SHIFT;
    (n < 512).then(|| (n / 64, 1u64 << (n % 64)))
}

fn live_set(addr: usize, on: bool) {
    if let Some((w, bit)) = live_index(addr) {
        if on {
            LIVE[w].fetch_or(bit, Ordering::AcqRel);
        } else {
            LIVE[w].fetch_and(!bit, Ordering::AcqRel);
        }
    }
}

/// Is `addr` inside the mapped part of an open pool? Two loads and a compare; safe to
/// call with any address.
#[inline]
pub(crate) fn in_live_pool(addr: usize) -> bool {
    match live_index(addr) {
        Some((w, bit)) if LIVE[w].load(Ordering::Acquire) & bit != 0 => {
            // SAFETY: the slot is live, so its control page is mapped.
            let c = unsafe { control_of(addr) };
            (addr - slot_base(addr)) < c.mapped_len() as usize
        }
        _ => false,
    }
}
