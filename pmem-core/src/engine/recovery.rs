//! Recovery (ARCHITECTURE §9 steps 4–6): replay the log past the checkpoint, validate
//! the metadata and the heap, then start a new log session (§3.2).

use super::session::{io_err, LOG_INITIAL};
use super::state::{ReadCtx, Shared, State};
use crate::error::{Error, Result};
use crate::format::{LogHeader, LogState, LOG_HEADER_LEN, META_MAGIC, META_OFF};
use crate::heap::{self, HeapIndex};

impl Shared {
    /// Replays the log (when it holds commits past the checkpoint), validates the
    /// metadata, builds the allocator index and, for a writable pool, starts a new log
    /// session.
    pub(super) fn recover(&self, replay: bool) -> Result<()> {
        let mut st = self
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let st = &mut *st;
        if let Some(log) = self.log.as_ref().filter(|_| replay) {
            let base = self.region.base();
            let end = super::log::scan(
                &**log,
                self.header.salt(),
                st.checkpoint.checkpoint_seq,
                self.max_size(),
                |off, data| {
                    self.ensure_mapped(off + data.len() as u64)?;
                    // SAFETY: the range was bounds-checked against max_size by `scan` and is
                    // mapped by `ensure_mapped`.
                    unsafe {
                        std::ptr::copy_nonoverlapping(
                            data.as_ptr(),
                            base.add(off as usize),
                            data.len(),
                        );
                    };
                    st.dirty.mark(off, data.len() as u64);
                    Ok(())
                },
            )?;
            st.log_pos = end.pos;
            st.last_seq = end.last_seq;
            st.log_written = LOG_INITIAL
                .min(log.len().map_err(io_err("reading", log.path()))?)
                .max(end.pos);
            self.flusher.gc.reset(end.last_seq);
        }
        let ctx = ReadCtx(self);
        let meta = heap::meta(&ctx);
        if meta.magic != META_MAGIC {
            return Err(Error::corrupted("metadata page magic", META_OFF));
        }
        // A heap that ends past the file (but within the pool's maximum size) is a
        // truncated file, and says so instead of failing the heap walk.
        let mapped = self.region.control().mapped_len();
        if meta.heap_end > mapped && meta.heap_end <= self.max_size() {
            let file_len = self.file_len().unwrap_or(mapped);
            return Err(Error::corrupted(
                format!(
                    "pool file truncated: {file_len} bytes, the heap needs {}; the file ends",
                    meta.heap_end
                ),
                file_len,
            ));
        }
        st.heap = HeapIndex::rebuild(&ctx)?;
        if meta.root_off != 0 {
            st.heap
                .place(&ctx, meta.root_off, self.header.root_size)
                .map_err(|_| Error::corrupted("root object is not an allocation", META_OFF))?;
            if meta.root_off % self.header.root_align != 0 {
                return Err(Error::corrupted("root object misaligned", META_OFF));
            }
        }
        if !self.cfg.read_only && self.pool_file.is_some() {
            if st.last_seq != st.checkpoint.checkpoint_seq || st.dirty.count > 0 {
                self.checkpoint_locked(st)?;
            }
            self.start_log_session(st)?;
        }
        Ok(())
    }

    /// The pool file's length, where there is a file (for messages).
    fn file_len(&self) -> Option<u64> {
        if let Some(f) = &self.pool_file {
            return f.len().ok();
        }
        match &self.location {
            super::session::Location::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            _ => None,
        }
    }

    /// Gives the log a fresh id and publishes it in the pool file (ARCHITECTURE §3.2):
    /// from now on the pool does not open without this log. Everything is checkpointed.
    fn start_log_session(&self, st: &mut State) -> Result<()> {
        let (Some(pool), Some(log)) = (&self.pool_file, &self.log) else {
            return Ok(());
        };
        debug_assert_eq!(st.last_seq, st.checkpoint.checkpoint_seq);
        let id = super::session::new_log_id();
        let prev = match st.checkpoint.log {
            LogState::InUse(p) => p,
            LogState::Legacy | LogState::Clean => 0,
        };
        let h = LogHeader {
            uuid: self.header.uuid,
            log_id: id,
            prev_log_id: prev,
            base_seq: st.last_seq,
        };
        super::session::write_header(&**log, &h, LOG_HEADER_LEN)?;
        Self::publish_state(pool.as_ref(), st, LogState::InUse(id))?;
        st.log_pos = LOG_HEADER_LEN;
        st.log_written = LOG_INITIAL
            .min(log.len().map_err(io_err("reading", log.path()))?)
            .max(LOG_HEADER_LEN);
        Ok(())
    }
}
