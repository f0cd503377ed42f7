//! Checkpoint and close (ARCHITECTURE §8, §8.1).

use std::sync::atomic::Ordering;

use super::session::{io_err, LOG_INITIAL};
use super::state::{Shared, State};
use crate::error::Result;
use crate::format::{LogState, StateSlot, LOG_HEADER_LEN, PAGE};
use crate::media::Backing;

impl Shared {
    /// Writes the next state slot (checkpoint at `st.last_seq`, log state `log`) and
    /// syncs the pool file.
    pub(super) fn publish_state(pool: &dyn Backing, st: &mut State, log: LogState) -> Result<()> {
        let next = StateSlot {
            checkpoint_count: st.checkpoint.checkpoint_count + 1,
            checkpoint_seq: st.last_seq,
            log,
        };
        pool.write_at(next.offset(), &next.encode())
            .map_err(io_err("writing", pool.path()))?;
        if !crate::inject::is(crate::inject::Broken::SkipSlotSync) {
            pool.sync().map_err(io_err("syncing", pool.path()))?;
        }
        st.checkpoint = next;
        Ok(())
    }

    /// Writes every page changed since the last checkpoint into the pool file and
    /// restarts the log (ARCHITECTURE §8).
    pub(crate) fn checkpoint_locked(&self, st: &mut State) -> Result<()> {
        let (Some(pool), Some(log)) = (&self.pool_file, &self.log) else {
            return Ok(());
        };
        if st.dirty.count == 0 && st.log_pos == LOG_HEADER_LEN {
            return Ok(());
        }
        let r = (|| {
            // 1. Every commit being checkpointed must be durable in the log first, or a
            //    crash mid-checkpoint could leave the file holding part of a commit the
            //    log cannot replay.
            if !crate::inject::is(crate::inject::Broken::CheckpointBeforeLogDurable) {
                self.flush_to(st.last_seq)?;
            }
            // 2. Pages into the file, then sync it. Readers' versions that differ from
            //    what is written get their own copies of these pages first (§7.2); if
            //    the kernel cannot do that while a lagging reader needs it, the
            //    checkpoint waits for a later commit (the log keeps every commit).
            let mapped = self.region.control().mapped_len();
            let runs = st.dirty.runs();
            if !self.protect_versions(st, &runs)? {
                return Ok(());
            }
            for &(first, n) in &runs {
                let off = first * PAGE;
                let len = (n * PAGE).min(mapped.saturating_sub(off));
                // SAFETY: below mapped_len.
                let src = unsafe {
                    std::slice::from_raw_parts(self.region.base().add(off as usize), len as usize)
                };
                pool.write_at(off, src)
                    .map_err(io_err("writing", pool.path()))?;
            }
            if !crate::inject::is(crate::inject::Broken::PublishBeforePagesSync) {
                pool.sync().map_err(io_err("syncing", pool.path()))?;
            }
            // 3. Publish the new checkpoint in the other state slot, then sync.
            let log_state = st.checkpoint.log;
            Self::publish_state(pool.as_ref(), st, log_state)?;
            st.log_pos = LOG_HEADER_LEN;
            if self.cfg.release_pages && pool.fd().is_some() {
                for &(first, n) in &runs {
                    let len = (n * PAGE).min(mapped.saturating_sub(first * PAGE));
                    self.region
                        .discard_private(first * PAGE, len.div_ceil(PAGE) * PAGE);
                }
            }
            st.dirty.clear();
            self.after_checkpoint(st);
            // A log far larger than the threshold (after a bulk transaction) gives its
            // space back; its contents are all in the pool file now.
            let keep = self.cfg.checkpoint_bytes.max(LOG_INITIAL);
            if log.len().map_err(io_err("reading", log.path()))? > 4 * keep {
                log.shrink(keep).map_err(io_err("truncating", log.path()))?;
                st.log_written = st.log_written.min(keep);
            }
            Ok(())
        })();
        if r.is_err() {
            self.poison();
        }
        r
    }

    /// Checkpoints now (taking the write lock).
    pub(crate) fn checkpoint(&self) -> Result<()> {
        let mut g = self.begin()?;
        self.checkpoint_locked(&mut g)
    }
}

impl Drop for Shared {
    /// The last handle closes the pool cleanly: checkpoint, mark the pool file clean
    /// (synced), then remove the log — a cleanly closed pool is one file.
    fn drop(&mut self) {
        if self.cfg.read_only || self.poisoned.load(Ordering::Acquire) {
            return;
        }
        let (Some(pool), Some(_)) = (&self.pool_file, &self.log) else {
            return;
        };
        let mut g = self
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.checkpoint_locked(&mut g).is_ok()
            && Self::publish_state(pool.as_ref(), &mut g, LogState::Clean).is_ok()
        {
            self.location.remove_log();
        }
    }
}
