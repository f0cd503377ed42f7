//! Commit, rollback and the wait for durability (ARCHITECTURE §7).

use std::sync::atomic::Ordering;
use std::sync::RwLockWriteGuard;

use super::state::{ReadCtx, Shared, State, TxCtx};
use crate::error::{Error, Result};
use crate::format::LOG_HEADER_LEN;
use crate::heap::HeapIndex;

impl Shared {
    /// A leader's short wait, so that one sync covers more commits: up to 100 µs,
    /// yielding, while a transaction is still before its append (`committers`) or fewer
    /// commits are waiting than the last sync covered (the threads it released are
    /// coming back; `GroupCommit::gather_target`) — like `commit_delay` with
    /// `commit_siblings` in `PostgreSQL`. A lone committer never waits: its own count is
    /// gone before it flushes, and its last batch was itself.
    fn gather_committers(&self) {
        let gc = &self.flusher.gc;
        let want = gc.gather_target();
        let start = std::time::Instant::now();
        while (self.flusher.committers.load(Ordering::Acquire) > 0 || gc.unsynced() < want)
            && start.elapsed() < std::time::Duration::from_micros(100)
        {
            std::thread::yield_now();
        }
    }

    /// Takes the write lock for a transaction.
    pub(crate) fn begin(&self) -> Result<RwLockWriteGuard<'_, State>> {
        self.check_usable()?;
        if self.cfg.read_only {
            return Err(Error::ReadOnly);
        }
        let g = self
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.check_usable()?;
        Ok(g)
    }

    /// Ends a transaction the library runs itself (creating a root, building a raw
    /// pool), whose closure answered `r` (the result of `commit`, or an error): on
    /// success releases the write lock, then waits for durability; on failure rolls
    /// everything back.
    pub(crate) fn finish_internal(
        &self,
        mut g: RwLockWriteGuard<'_, State>,
        r: Result<Option<u64>>,
    ) -> Result<()> {
        match r {
            Ok(seq) => {
                drop(g);
                if let Some(seq) = seq {
                    self.flush_to(seq)?;
                }
                Ok(())
            }
            Err(e) => {
                self.abort(&mut g);
                Err(e)
            }
        }
    }

    /// Rolls back everything the journal recorded.
    pub(crate) fn abort(&self, st: &mut State) {
        // SAFETY: every journaled range was mapped when written and mappings only grow.
        // Pages restored from the file are dropped: W is the file plus the pages dirty
        // since the last checkpoint, and these were not dirty (journal.rs `IN_FILE`).
        unsafe {
            st.journal.roll_back(self.region.base(), |off, len| {
                self.region.discard_private(off, len);
            });
        }
        if st.journal.heap_touched {
            match HeapIndex::rebuild(&ReadCtx(self)) {
                Ok(ix) => st.heap = ix,
                // The bytes were just restored to a state that passed this very walk.
                Err(e) => unreachable!("heap walk failed after rollback: {e}"),
            }
        }
        st.journal.clear();
    }

    /// Commits the journal: applies deferred frees, appends the redo group. Answers the
    /// sequence number to wait for (`None`: nothing to flush).
    pub(crate) fn commit(&self, st: &mut State) -> Result<Option<u64>> {
        if !st.journal.frees.is_empty() {
            let frees = std::mem::take(&mut st.journal.frees);
            st.journal.heap_touched = true;
            let mut heap = std::mem::take(&mut st.heap);
            let mut r = Ok(());
            {
                let mut ctx = TxCtx { sh: self, st };
                for &(off, size) in &frees {
                    r = heap.free(&mut ctx, off, size);
                    if r.is_err() {
                        break;
                    }
                }
            }
            st.heap = heap;
            if let Err(e) = r {
                self.abort(st);
                return Err(e);
            }
        }
        if !st.journal.has_writes() {
            st.journal.clear();
            return Ok(None);
        }
        st.journal.redo_ranges(&mut st.ranges);
        let Some(log) = &self.log else {
            st.journal.clear();
            st.versions.note_commit(&st.ranges);
            self.publish(st)?;
            return Ok(None);
        };
        let seq = st.last_seq + 1;
        if self.cfg.mode.syncs_on_commit() && log.fd().is_some() {
            // A small group landing past the written part of the log would make its
            // fdatasync also convert freshly allocated blocks (a journal commit on ext4,
            // every time). Write zeros ahead once instead; big groups write their own
            // blocks and pay that once.
            let small: u64 = st.ranges.iter().map(|r| r.1 + 16).sum::<u64>() + 64;
            if small < 256 << 10 && st.log_pos + small > st.log_written {
                let from = st.log_written.max(st.log_pos);
                let zeros = vec![0u8; (1 << 20) + small as usize];
                if let Err(e) = log.write_at(from, &zeros) {
                    self.abort(st);
                    return Err(Error::io("writing", log.path(), e));
                }
                st.log_written = from + zeros.len() as u64;
            }
        }
        // SAFETY: every journaled range is mapped.
        let written = unsafe {
            super::log::write_group(
                &**log,
                st.log_pos,
                &mut st.buf,
                self.region.base(),
                self.header.salt(),
                seq,
                &st.ranges,
            )
        };
        let len = match written {
            Ok(len) => len,
            Err(e) => {
                self.abort(st);
                return Err(Error::io("writing", log.path(), e));
            }
        };
        if self.cfg.mode.syncs_on_commit() {
            self.flusher
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push_back((seq, st.log_pos));
        }
        st.log_pos += len;
        st.log_written = st.log_written.max(st.log_pos);
        st.last_seq = seq;
        self.flusher.gc.appended(seq);
        for &(s, l) in &st.ranges {
            st.dirty.mark(s, l);
        }
        st.journal.clear();
        // Readers see the commit from here on (ARCHITECTURE §7.2): before `tx` returns,
        // and before the durability wait, which readers never wait for.
        st.versions.note_commit(&st.ranges);
        if st.log_pos - LOG_HEADER_LEN >= self.cfg.checkpoint_bytes {
            // Checkpoint first, protecting the current version's pages it would change;
            // then publishing needs no copy (the file holds the commit).
            if super::versions::publish_before_checkpoint() {
                self.publish(st)?;
            }
            self.checkpoint_locked(st)?;
            self.publish(st)?;
            return Ok(None);
        }
        self.publish(st)?;
        Ok(self.cfg.mode.syncs_on_commit().then_some(seq))
    }

    /// Waits until commit `seq` is durable, syncing the log if nobody else is.
    pub(crate) fn flush_to(&self, seq: u64) -> Result<()> {
        let f = &self.flusher;
        let log = self.log.as_ref().expect("only logged pools flush");
        f.gc.wait_durable(
            seq,
            || self.gather_committers(),
            || {
                self.check_usable()?;
                let synced = if crate::inject::is(crate::inject::Broken::SkipLogSync) {
                    Ok(())
                } else {
                    log.sync()
                };
                synced.map_err(|e| {
                    self.poison();
                    // Best effort: make the groups that did not become durable invalid, so a
                    // reopen replays exactly the commits acknowledged before the failure.
                    let pending = f
                        .pending
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    let durable = f.gc.durable();
                    if let Some(&(_, pos)) = pending.iter().find(|(s, _)| *s > durable) {
                        let _ = log.write_at(pos, &[0u8; 8]);
                    }
                    Error::io("syncing", log.path(), e)
                })
            },
        )?;
        let durable = f.gc.durable();
        let mut pending = f
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while pending.front().is_some_and(|(s, _)| *s <= durable) {
            pending.pop_front();
        }
        Ok(())
    }
}
