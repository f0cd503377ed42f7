//! Snapshot reads (ARCHITECTURE §7.2): readers run on a *version* of the pool equal to
//! the last commit, so they never wait for a transaction, and transactions never wait
//! for them.
//!
//! A version is another region (`media::Region`) whose control block names the same
//! pool tag, with no transaction: views and pointers read inside it resolve inside it
//! by the region arithmetic everything already uses. Its pages are the pool file mapped
//! copy-on-write, like the working region W where transactions write; a version holds
//! private copies only of the pages committed since the last checkpoint, and drops them
//! at the next checkpoint (then the file holds the same bytes). Pools without a mapped
//! file (volatile, simulated) use anonymous versions, built by copying W.
//!
//! The writer keeps every version's *missing* ranges: each commit's written ranges are
//! added to every version; a version brought up to date copies its missing ranges from
//! W, which holds exactly the committed state whenever the write lock is held between
//! transactions. Publishing a commit (under the write lock, before `tx` returns):
//! update the current version in place when no reader is inside it (readers arriving
//! meanwhile wait for that copy only), else an idle one, else make a new version — so
//! a version exists per reader lagging at once, usually one or two in all.
//!
//! A checkpoint writes pages into the pool file, which a copy-on-write mapping shows in
//! every page it has not copied; so first, every version a reader is or may be inside
//! whose bytes differ from what the checkpoint writes gets private copies of exactly
//! those pages (`MADV_POPULATE_WRITE`: the kernel copies without changing bytes).
//! After the checkpoint, versions equal to the file drop their private pages.
//! The pin protocol between readers and the writer is in `pin.rs`.

use std::os::fd::RawFd;
use std::sync::atomic::Ordering;

use super::pin::{Pinned, Slot};
use super::state::{Shared, State};
use super::versions::{Meta, Missing, Version, NO_POPULATE};
use crate::error::{Error, Result};
use crate::format::PAGE;
use crate::media::Region;

impl Shared {
    fn pool_fd(&self) -> Option<RawFd> {
        self.pool_file.as_ref().and_then(|f| f.fd())
    }

    /// Whether this pool reads through versions (writable pools).
    pub(crate) fn has_versions(&self) -> bool {
        !self.cfg.read_only
    }

    /// Pins the current version for a read. Never waits for a transaction: at most for
    /// the writer's in-place update of the current version (a copy of one commit's
    /// ranges).
    ///
    /// # Errors
    /// `Poisoned` when the pool is (a publish that failed half-way leaves no version
    /// current: readers must not wait for it).
    pub(crate) fn pin_version(&self) -> Result<Pinned<'_, Version>> {
        loop {
            // SAFETY: published slots live in `State::versions` until `self` drops.
            if let Some(p) = unsafe { self.snap.try_pin() } {
                return Ok(p);
            }
            self.check_usable()?;
            std::thread::yield_now();
        }
    }

    /// Makes the first version (at open, after recovery).
    pub(crate) fn start_versions(&self, st: &mut State) -> Result<()> {
        if !self.has_versions() {
            return Ok(());
        }
        let i = self.new_version(st)?;
        self.snap.publish(&st.versions.slots[i]);
        st.versions.current = Some(i);
        Ok(())
    }

    /// A new version equal to W.
    fn new_version(&self, st: &mut State) -> Result<usize> {
        let region = Region::reserve().map_err(|e| Error::io("mapping", &self.path, e))?;
        let (c, w) = (region.control(), self.region.control());
        c.tag
            .store(w.tag.load(Ordering::Acquire), Ordering::Release);
        c.shared
            .store(w.shared.load(Ordering::Acquire), Ordering::Release);
        st.versions
            .slots
            .push(Box::new(Slot::new(Version { region })));
        st.versions.meta.push(Meta {
            missing: Missing::Rebuild,
            at: 0,
        });
        let i = st.versions.slots.len() - 1;
        self.bring_up_to_date(st, i)?;
        Ok(i)
    }

    /// Publishes the last commit: afterwards `current` names a version equal to W.
    /// Under the write lock, between transactions. A failure poisons the pool (reads
    /// then answer `Poisoned`, never a half-updated version).
    pub(crate) fn publish(&self, st: &mut State) -> Result<()> {
        let Some(cur) = st.versions.current else {
            return Ok(());
        };
        if st.versions.meta[cur].at == st.versions.commits
            && matches!(&st.versions.meta[cur].missing, Missing::Ranges(r) if r.is_empty())
        {
            return Ok(());
        }
        let r = (|| {
            let target = if self.snap.take_current(&st.versions.slots[cur]) {
                cur
            } else if let Some(i) =
                (0..st.versions.slots.len()).find(|&i| self.snap.idle(&st.versions.slots[i]))
            {
                i
            } else {
                return self.new_version(st);
            };
            self.bring_up_to_date(st, target)?;
            Ok(target)
        })();
        match r {
            Ok(i) => {
                self.snap.publish(&st.versions.slots[i]);
                st.versions.current = Some(i);
                Ok(())
            }
            Err(e) => {
                self.poison();
                Err(e)
            }
        }
    }

    /// Makes version `i` equal to W.
    ///
    /// Callers guarantee no reader is inside version `i` (it is idle, withdrawn with
    /// `take_current`, or new) and hold the write lock between transactions.
    fn bring_up_to_date(&self, st: &mut State, i: usize) -> Result<()> {
        let w_len = self.region.control().mapped_len();
        let vs = &mut st.versions;
        let v = &vs.slots[i].value.region;
        let v_len = v.control().mapped_len();
        let missing = std::mem::replace(&mut vs.meta[i].missing, Missing::Ranges(Vec::new()));
        let map_err = |e| Error::io("mapping", &self.path, e);
        match self.pool_fd() {
            Some(fd) => {
                // W is the file plus the pages dirty since the last checkpoint (free
                // space aside, which nothing reads).
                let rebuild = matches!(missing, Missing::Rebuild) || st.dirty.count == 0;
                if rebuild {
                    v.discard_private(0, v_len);
                }
                v.map_private(v_len, w_len - v_len.min(w_len), fd, v_len)
                    .map_err(map_err)?;
                // Pages newly mapped (all of them, for a rebuild) read the file: copy
                // the dirty ones.
                let from = if rebuild { 0 } else { v_len };
                if from < w_len && st.dirty.count > 0 {
                    for (first, n) in st.dirty.runs() {
                        let (s, e) = ((first * PAGE).max(from), ((first + n) * PAGE).min(w_len));
                        if s < e {
                            self.copy_into(v, s, e - s);
                        }
                    }
                }
                // Below the old length, the missing ranges (above it, every committed
                // byte is in the file or a dirty page, copied just now).
                if let (false, Missing::Ranges(r)) = (rebuild, &missing) {
                    for &(off, len) in r {
                        if off < v_len {
                            self.copy_into(v, off, len.min(v_len - off));
                        }
                    }
                }
            }
            None => {
                v.map_anon(v_len, w_len - v_len.min(w_len))
                    .map_err(map_err)?;
                match &missing {
                    Missing::Rebuild => self.copy_into(v, 0, w_len),
                    Missing::Ranges(r) => {
                        self.copy_into(v, v_len, w_len - v_len.min(w_len));
                        for &(off, len) in r {
                            if off < v_len {
                                self.copy_into(v, off, len.min(v_len - off));
                            }
                        }
                    }
                }
            }
        }
        if w_len > v_len {
            v.control().mapped_len.store(w_len, Ordering::Release);
        }
        vs.meta[i].at = vs.commits;
        // Keep the list's allocation for the next commit's ranges (one malloc and one
        // free fewer per commit).
        if let Missing::Ranges(mut r) = missing {
            r.clear();
            vs.meta[i].missing = Missing::Ranges(r);
        }
        Ok(())
    }

    /// Copies `len` bytes at pool offset `off` from W into version region `v`.
    fn copy_into(&self, v: &Region, off: u64, len: u64) {
        if len == 0 {
            return;
        }
        debug_assert!(
            off + len
                <= v.control()
                    .mapped_len()
                    .max(self.region.control().mapped_len())
        );
        // SAFETY: `off..off+len` is mapped in W and in `v` (callers clip to both mapped
        // lengths, `v` having been extended first); no transaction writes W now (the
        // write lock is held between transactions) and no reader is inside `v` (the
        // caller's promise), so neither side is accessed concurrently.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.region.base().add(off as usize),
                v.base().add(off as usize),
                len as usize,
            );
        }
    }

    /// Before a checkpoint writes the pages `runs` into the pool file: every version a
    /// reader is or may be inside (current or pinned) whose bytes differ from W gets
    /// private copies of those pages, so the file's new bytes never show through.
    /// `Ok(false)`: such a version exists but the kernel cannot copy pages in place
    /// (before Linux 5.14): the caller defers the checkpoint.
    pub(crate) fn protect_versions(&self, st: &State, runs: &[(u64, u64)]) -> Result<bool> {
        if self.pool_fd().is_none() {
            return Ok(true); // anonymous versions never show the file
        }
        let vs = &st.versions;
        for (slot, m) in vs.slots.iter().zip(&vs.meta) {
            let equal =
                m.at == vs.commits && matches!(&m.missing, Missing::Ranges(r) if r.is_empty());
            if equal || self.snap.idle(slot) {
                continue;
            }
            let v = &slot.value.region;
            let v_len = v.control().mapped_len();
            for &(first, n) in runs {
                let (s, e) = (first * PAGE, ((first + n) * PAGE).min(v_len));
                if s >= e {
                    continue;
                }
                if NO_POPULATE.load(Ordering::Relaxed) {
                    return Ok(false);
                }
                if let Err(e) = v.populate_private(s, e - s) {
                    if e.raw_os_error() == Some(libc::EINVAL) {
                        NO_POPULATE.store(true, Ordering::Relaxed);
                        return Ok(false);
                    }
                    return Err(Error::io("copying pages of", &self.path, e));
                }
            }
        }
        Ok(true)
    }

    /// After a checkpoint (the file equals W): versions equal to W, and idle ones,
    /// drop their private pages (an idle one then equals W too).
    pub(crate) fn after_checkpoint(&self, st: &mut State) {
        if self.pool_fd().is_none() {
            return;
        }
        let vs = &mut st.versions;
        for (slot, m) in vs.slots.iter().zip(&mut vs.meta) {
            let equal =
                m.at == vs.commits && matches!(&m.missing, Missing::Ranges(r) if r.is_empty());
            if !equal && !self.snap.idle(slot) {
                continue; // a lagging reader is inside: its private pages are its state
            }
            let v = &slot.value.region;
            // Equal bytes either way: readers inside an equal version see no change.
            v.discard_private(0, v.control().mapped_len());
            m.missing = Missing::Ranges(Vec::new());
            m.at = vs.commits;
        }
    }
}
