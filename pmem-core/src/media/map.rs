//! Address space for one open pool: a *region*.
//!
//! Every pool reserves one naturally aligned region of `REGION_SIZE` bytes of address space
//! at open. The pool file is mapped copy-on-write at the start of the region and grows in
//! place (references handed out earlier stay valid); the log file is mapped shared in the
//! second half; the last page holds the volatile [`Control`] block.
//!
//! Because regions are aligned to their size, any address inside a pool finds its pool in
//! one AND: `base = addr & !(REGION_SIZE - 1)`, and its control block at a fixed offset from
//! there. Persistent pointers (offsets) and views use this to reach the pool and its
//! active transaction without a registry, a hash lookup or thread-local state.
//!
//! ```text
//! base                      base + REGION_SIZE / 2        base + REGION_SIZE - PAGE
//! | pool file (MAP_PRIVATE) | log file (MAP_SHARED)  ...  | Control (anonymous) |
//! ```

use std::io;
use std::os::fd::RawFd;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering};

use crate::format::ABS_MAX_POOL_SIZE;

/// log2 of the region size, chosen once per process by the first reservation: 256 GiB of
/// address space per open pool where the system allows it (no memory is committed),
/// smaller where address space is limited (for example under valgrind). 0 = not chosen.
/// The environment variable `PMEM_SLOT_SHIFT` (32, 34, 36 or 38; its name predates the
/// word "region") forces one size (ARCHITECTURE §15).
static REGION_SHIFT: AtomicU32 = AtomicU32::new(0);
/// Region sizes tried, largest first.
const SHIFTS: [u32; 4] = [38, 36, 34, 32];
// The format's ceiling on a pool's size is the pool half of the largest region.
const _: () = assert!(ABS_MAX_POOL_SIZE == 1 << (SHIFTS[0] - 1));

#[inline]
fn shift() -> u32 {
    REGION_SHIFT.load(Ordering::Relaxed)
}
/// Size of a region.
#[inline]
pub(crate) fn region_size() -> u64 {
    1 << shift()
}
/// Start of the log mapping inside the region.
pub(crate) fn log_start() -> u64 {
    region_size() / 2
}
/// Largest pool file a region can hold.
pub(crate) fn max_pool_size() -> u64 {
    region_size() / 2
}
/// Largest log file a region can hold.
pub(crate) fn max_log_size() -> u64 {
    region_size() / 2 - 2 * crate::format::PAGE
}
#[inline]
fn control_off() -> u64 {
    region_size() - crate::format::PAGE
}
const CONTROL_MAGIC: u64 = 0x4c52_544e_4f43_4d50; // "PMCONTRL"

/// Volatile per-pool block at a fixed place in the region.
#[repr(C)]
pub(crate) struct Control {
    magic: u64,
    /// The pool's shared state (`crate::engine::Shared`), for code that only has an address.
    pub(crate) shared: AtomicPtr<()>,
    /// The transaction state while a transaction is open, else null.
    pub(crate) active: AtomicPtr<()>,
    /// Token of the thread that owns `active`.
    pub(crate) owner: AtomicU64,
    /// Bytes of the pool file currently mapped at the region base.
    pub(crate) mapped_len: AtomicU64,
    /// 16-bit pool tag (from the UUID) stamped into `PPtr`s made from this pool.
    pub(crate) tag: AtomicU64,
}

/// One open pool's claim on its pointer tag (see [`claim_tag`]).
struct TagClaim {
    base: usize,
    tag: u64,
    path: std::path::PathBuf,
    writable: bool,
}

/// The pointer tags of the pools open in this process (ARCHITECTURE §12, "Copies and
/// tag collisions"). A stored `PPtr` word names its pool by a 16-bit tag only, so two
/// open pools with one tag — a byte copy and its original, or a 1-in-65,536 collision —
/// could receive each other's pointers; while either of them is writable, the second
/// open is refused instead.
static TAGS: std::sync::Mutex<Vec<TagClaim>> = std::sync::Mutex::new(Vec::new());

fn tags() -> std::sync::MutexGuard<'static, Vec<TagClaim>> {
    TAGS.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Records that the pool mapped at `region` (from `path`) stamps `tag` into its pointers,
/// unless a pool already open in this process has the same tag and either of the two is
/// writable: then answers the other pool's path. The claim ends when the region is
/// dropped.
pub(crate) fn claim_tag(
    region: &Region,
    tag: u64,
    path: &std::path::Path,
    writable: bool,
) -> Result<(), std::path::PathBuf> {
    let mut t = tags();
    let base = region.base() as usize;
    if let Some(other) = t
        .iter()
        .find(|c| c.tag == tag && c.base != base && (c.writable || writable))
    {
        return Err(other.path.clone());
    }
    t.push(TagClaim {
        base,
        tag,
        path: path.to_path_buf(),
        writable,
    });
    note_seen(tag); // lock order: TAGS, then SEEN
                    // A reservation of this tag (this pool's own, if it was just created) ends here.
    release_tag(tag);
    Ok(())
}

/// Tags of the pools this process has opened so far (at most [`SEEN_MAX`] of them):
/// new pools avoid these too, not only the tags of pools open now. A pool closed now
/// may well be opened again later in the same process, and a new pool that drew its
/// tag meanwhile could then not be open beside it (`SameTag`): 1 in 65,536 per
/// creation, which a process that opens one pool many times while it creates others
/// (the power-loss suite: thousands of crash images of one pool checked beside
/// migrations that create pools) turned into a flaky failure.
static SEEN: std::sync::Mutex<std::collections::BTreeSet<u64>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());
/// A quarter of the tag space: new pools still find a free tag in about 1.3 draws.
const SEEN_MAX: usize = 16_384;

fn seen() -> std::sync::MutexGuard<'static, std::collections::BTreeSet<u64>> {
    SEEN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Remembers that a pool with `tag` was opened in this process.
fn note_seen(tag: u64) {
    let mut s = seen();
    if s.len() < SEEN_MAX {
        s.insert(tag);
    }
}

/// Tags handed to new pools that have not claimed them yet (creation writes its files
/// before it opens them): each with the time it was handed out. Without these, two
/// pools created at once on two threads could both find a tag free before either
/// claimed it, and the second open would fail with `SameTag` (1 in 65,536 per pair —
/// seen as a flaky test). A reservation ends when its tag is claimed, or after
/// [`RESERVATION`] (a creation that failed never claims).
static RESERVED: std::sync::Mutex<Vec<(u64, std::time::Instant)>> =
    std::sync::Mutex::new(Vec::new());
const RESERVATION: std::time::Duration = std::time::Duration::from_secs(600);

fn reserved() -> std::sync::MutexGuard<'static, Vec<(u64, std::time::Instant)>> {
    RESERVED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Ends the reservation of `tag`, if any.
fn release_tag(tag: u64) {
    reserved().retain(|&(r, _)| r != tag);
}

/// Reserves `tag` for a pool being created, unless a pool open in this process stamps
/// it, a pool opened earlier in this process did ([`SEEN`]) or another creation holds
/// it: answers whether it did. A new pool's UUID is drawn until this succeeds; the open
/// that follows claims the tag ([`claim_tag`]).
pub(crate) fn reserve_fresh_tag(tag: u64) -> bool {
    let claims = tags(); // lock order: TAGS, then SEEN, then RESERVED
    if claims.iter().any(|c| c.tag == tag) || seen().contains(&tag) {
        return false;
    }
    let mut r = reserved();
    r.retain(|&(_, at)| at.elapsed() < RESERVATION);
    if r.iter().any(|&(t, _)| t == tag) {
        return false;
    }
    r.push((tag, std::time::Instant::now()));
    true
}

/// Regions of closed pools, kept reserved for the next pool (see `Drop for Region`).
static RETIRED: std::sync::Mutex<Vec<usize>> = std::sync::Mutex::new(Vec::new());

/// A reserved, aligned region of address space. On drop everything in it but the
/// control page goes back to an inaccessible reservation, and the region is kept for
/// the next pool of this process.
pub(crate) struct Region {
    base: NonNull<u8>,
}

// SAFETY: the region is address space; all mutation of its contents is
// synchronised by the pool's lock, and the `Control` fields are atomics.
unsafe impl Send for Region {}
// SAFETY: as above.
unsafe impl Sync for Region {}

fn last_os_error(what: &str) -> io::Error {
    let e = io::Error::last_os_error();
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

impl Region {
    /// Reserves a fresh aligned region and sets up its control block.
    pub(crate) fn reserve() -> io::Result<Region> {
        let retired = RETIRED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        if let Some(base) = retired {
            let region = Region {
                base: NonNull::new(std::ptr::with_exposed_provenance_mut::<u8>(base))
                    .expect("regions are never at 0"),
            };
            let c = region.control();
            c.shared.store(std::ptr::null_mut(), Ordering::Release);
            c.active.store(std::ptr::null_mut(), Ordering::Release);
            c.owner.store(0, Ordering::Release);
            c.tag.store(0, Ordering::Release);
            c.mapped_len.store(0, Ordering::Release);
            live_set(base, true);
            return Ok(region);
        }
        let (p, want) = loop {
            let chosen = shift();
            let candidates: Vec<u32> = if chosen != 0 {
                vec![chosen]
            } else {
                let forced = std::env::var("PMEM_SLOT_SHIFT")
                    .ok()
                    .and_then(|s| s.parse::<u32>().ok());
                forced
                    .filter(|s| SHIFTS.contains(s))
                    .map_or_else(|| SHIFTS.to_vec(), |s| vec![s])
            };
            let mut got = None;
            for s in candidates {
                let want = 2usize << s;
                // SAFETY: an anonymous PROT_NONE reservation at an address of the
                // kernel's choice; it touches no existing mapping.
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
                if p != libc::MAP_FAILED {
                    got = Some((p, want, s));
                    break;
                }
            }
            let Some((p, want, s)) = got else {
                return Err(last_os_error("reserving address space"));
            };
            match REGION_SHIFT.compare_exchange(0, s, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => break (p, want),
                Err(current) if current == s => break (p, want),
                Err(_) => {
                    // Another thread chose a different size first: use that one.
                    // SAFETY: our own reservation, not used yet.
                    unsafe { libc::munmap(p, want) };
                }
            }
        };
        let size = region_size() as usize;
        let start = p as usize;
        let aligned = (start + size - 1) & !(size - 1);
        let head = aligned - start;
        let tail = want - head - size;
        // SAFETY: both ranges lie inside the reservation just made and are not used.
        unsafe {
            if head > 0 {
                libc::munmap(p, head);
            }
            if tail > 0 {
                libc::munmap((aligned + size) as *mut libc::c_void, tail);
            }
        }
        let region = Region {
            base: NonNull::new(std::ptr::with_exposed_provenance_mut::<u8>(aligned))
                .expect("mmap never returns 0"),
        };
        // Keep the provenance of the reservation reachable from integer addresses: pool
        // pointers are rebuilt from `region_base(addr) + offset`.
        let _ = region.base.as_ptr().expose_provenance();
        region.map_anon(control_off(), crate::format::PAGE)?;
        // SAFETY: the control page was just mapped read-write and zeroed; `Control` is
        // smaller than a page and all-zero is a valid value of it.
        unsafe {
            let c = region
                .base
                .as_ptr()
                .add(control_off() as usize)
                .cast::<Control>();
            (*c).magic = CONTROL_MAGIC;
        }
        live_set(aligned, true);
        Ok(region)
    }

    pub(crate) fn base(&self) -> *mut u8 {
        self.base.as_ptr()
    }

    pub(crate) fn control(&self) -> &Control {
        // SAFETY: mapped in `reserve` for the life of the region.
        unsafe {
            &*self
                .base
                .as_ptr()
                .add(control_off() as usize)
                .cast::<Control>()
        }
    }

    /// Maps fresh zero pages read-write at `off..off+len` of the region.
    pub(crate) fn map_anon(&self, off: u64, len: u64) -> io::Result<()> {
        self.map(off, len, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
    }

    /// Maps `len` bytes of file `fd` from `file_off` copy-on-write at `off` of the region.
    pub(crate) fn map_private(
        &self,
        off: u64,
        len: u64,
        fd: RawFd,
        file_off: u64,
    ) -> io::Result<()> {
        self.map(off, len, libc::MAP_PRIVATE, fd, file_off)
    }

    /// Maps `len` bytes of file `fd` from `file_off` shared at `off` of the region.
    pub(crate) fn map_shared(
        &self,
        off: u64,
        len: u64,
        fd: RawFd,
        file_off: u64,
    ) -> io::Result<()> {
        self.map(off, len, libc::MAP_SHARED, fd, file_off)
    }

    fn map(
        &self,
        off: u64,
        len: u64,
        flags: libc::c_int,
        fd: RawFd,
        file_off: u64,
    ) -> io::Result<()> {
        assert!(off % crate::format::PAGE == 0 && len % crate::format::PAGE == 0);
        assert!(off + len <= region_size());
        if len == 0 {
            return Ok(());
        }
        // SAFETY: the target range lies inside this region, which we own; MAP_FIXED replaces
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

    /// Drops private copies of pages so they read from the file again. Callers make
    /// sure that either nothing reads the range meanwhile, or the file holds the same
    /// bytes as the private copies (after a checkpoint).
    pub(crate) fn discard_private(&self, off: u64, len: u64) {
        if len == 0 {
            return;
        }
        // SAFETY: the range is inside this region; MADV_DONTNEED on a private file mapping
        // only re-reads the file, whose bytes equal the private copy or are not read (the
        // caller's promise above).
        unsafe {
            libc::madvise(
                self.base.as_ptr().add(off as usize).cast(),
                len as usize,
                libc::MADV_DONTNEED,
            );
        }
    }
}

impl Region {
    /// Gives every page of `off..off+len` a private copy with unchanged bytes
    /// (`MADV_POPULATE_WRITE`, Linux 5.14+; `EINVAL` before), so later writes to the
    /// file no longer show through. Readers of the range see no change.
    pub(crate) fn populate_private(&self, off: u64, len: u64) -> io::Result<()> {
        if len == 0 {
            return Ok(());
        }
        // SAFETY: the range is inside this region and mapped read-write
        // (`PROT_READ | PROT_WRITE`); the kernel copies each page as a write fault would
        // without changing a byte, so concurrent readers of the range are unaffected.
        let r = unsafe {
            libc::madvise(
                self.base.as_ptr().add(off as usize).cast(),
                len as usize,
                libc::MADV_POPULATE_WRITE,
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

impl Drop for Region {
    /// The control page stays mapped (and the region reserved, for the next pool): a
    /// thread that saw the region live in `in_live_pool` an instant before this drop
    /// then reads a control block that says "nothing mapped" (or the next pool's),
    /// never an unmapped page. Everything else becomes an inaccessible reservation.
    fn drop(&mut self) {
        let base = self.base.as_ptr() as usize;
        live_set(base, false);
        tags().retain(|c| c.base != base);
        let c = self.control();
        c.mapped_len.store(0, Ordering::Release);
        c.shared.store(std::ptr::null_mut(), Ordering::Release);
        c.active.store(std::ptr::null_mut(), Ordering::Release);
        // SAFETY: replaces our own mappings below the control page (the pool's pages
        // and its log's) with a fresh PROT_NONE reservation at the same addresses;
        // nothing refers into them once the pool is gone, and MAP_FIXED over our own
        // range touches no other mapping.
        let r = unsafe {
            libc::mmap(
                self.base.as_ptr().cast(),
                control_off() as usize,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if r == libc::MAP_FAILED {
            // Could not reset the pages: leave the region mapped and never reuse it (its
            // control page says nothing is mapped), rather than hand its pages out.
            return;
        }
        RETIRED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(base);
    }
}

/// The base of the region containing `addr`.
#[inline]
pub(crate) fn region_base(addr: usize) -> usize {
    addr & !(region_size() as usize - 1)
}

/// The control block of the pool containing `addr`.
///
/// # Safety
/// - `addr` must lie inside the mapped pool region of an open pool's region.
#[inline]
pub(crate) unsafe fn control_of<'a>(addr: usize) -> &'a Control {
    let c = (region_base(addr) + control_off() as usize) as *const Control;
    // SAFETY: by the caller's promise the region is live, so its control page is mapped.
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
    #[inline]
    pub(crate) fn mapped_len(&self) -> u64 {
        self.mapped_len.load(Ordering::Acquire)
    }
}

/// One bit per possible region of a 47-bit address space (at the smallest region size):
/// is a pool mapped there?
static LIVE: [AtomicU64; 512] = [const { AtomicU64::new(0) }; 512];

#[inline]
fn live_index(addr: usize) -> Option<(usize, u64)> {
    let s = shift();
    if s == 0 {
        return None;
    }
    let n = addr >> s;
    (n < 512 * 64).then(|| (n / 64, 1u64 << (n % 64)))
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
    live_region(addr).is_some()
}

/// When `addr` is inside the mapped part of an open pool: that pool's region base and
/// how many bytes of it are mapped (its control block's `mapped_len`, read once). Safe
/// to call with any address. The region size is loaded once, so this is three loads
/// and no call: every pointer a collection follows passes here.
#[inline]
pub(crate) fn live_region(addr: usize) -> Option<(usize, u64)> {
    let s = shift();
    if s == 0 {
        return None;
    }
    let n = addr >> s;
    if n >= 512 * 64 || LIVE[n / 64].load(Ordering::Acquire) & (1u64 << (n % 64)) == 0 {
        return None;
    }
    let size = 1usize << s;
    let base = addr & !(size - 1);
    let c = (base + size - crate::format::PAGE as usize) as *const Control;
    // SAFETY: the region was live an instant ago, so its control page (the last page of
    // the region, `control_off`) was mapped; and a region's control page is never
    // unmapped once mapped (a closed pool's region is kept, its control page saying
    // nothing is mapped: `Drop for Region`), so the read is sound even if the pool is
    // closed meanwhile on another thread — it then answers `None`, or the next pool's
    // length.
    let c = unsafe { &*c };
    debug_assert_eq!(c.magic, CONTROL_MAGIC);
    let mapped = c.mapped_len();
    ((addr - base) < mapped as usize).then_some((base, mapped))
}

#[cfg(test)]
mod tests {
    use super::reserve_fresh_tag;

    #[test]
    fn a_tag_once_opened_in_this_process_is_not_handed_to_a_new_pool() {
        // Outside the 16-bit range no real pool stamps, as below.
        let tag = 0x1_0000_0000_0002;
        assert!(reserve_fresh_tag(tag));
        super::release_tag(tag);
        super::note_seen(tag); // what `claim_tag` does when a pool with it opens
        assert!(
            !reserve_fresh_tag(tag),
            "a new pool drew the tag of a pool this process has opened"
        );
    }

    #[test]
    fn a_reserved_tag_is_not_handed_to_a_second_creation() {
        // A tag outside the 16-bit range no real pool can stamp, so no other test's
        // pool interferes.
        let tag = 0x1_0000_0000_0001;
        assert!(reserve_fresh_tag(tag));
        assert!(!reserve_fresh_tag(tag), "second creation got the same tag");
        super::release_tag(tag);
        assert!(reserve_fresh_tag(tag), "a released tag is free again");
        super::release_tag(tag);
    }

    #[test]
    fn concurrent_creations_never_share_a_tag() {
        // 2 threads × 40,000 draws from 1,024 tags: without the reservation's single lock
        // around check-and-take, two threads would be handed one tag.
        let base = 0x2_0000_0000_0000u64;
        let won: Vec<Vec<u64>> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..2u64)
                .map(|i| {
                    s.spawn(move || {
                        let mut got = Vec::new();
                        for k in 0..40_000u64 {
                            let tag = base + (k.wrapping_mul(2_654_435_761) ^ i) % 1024;
                            if reserve_fresh_tag(tag) {
                                got.push(tag);
                            }
                        }
                        got
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut all: Vec<u64> = won.concat();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "a tag was reserved twice");
        assert_eq!(n, 1024, "every tag is taken exactly once");
        (base..base + 1024).for_each(super::release_tag);
    }
}
