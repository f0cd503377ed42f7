//! Pool growth (ARCHITECTURE §7.1): the file, then the mapping, synced before any
//! commit that uses the grown region is acknowledged.

use std::sync::atomic::Ordering;

use super::session::io_err;
use super::state::Shared;
use crate::error::{Error, Result};
use crate::format::PAGE;

impl Shared {
    /// Grows the file and the mapping so that `len` bytes are mapped.
    pub(crate) fn ensure_mapped(&self, len: u64) -> Result<()> {
        let c = self.region.control();
        let cur = c.mapped_len();
        if len <= cur {
            return Ok(());
        }
        if len > self.max_size() {
            return Err(Error::OutOfSpace {
                requested: len,
                max_size: self.max_size(),
            });
        }
        let new = len.div_ceil(PAGE) * PAGE;
        let path = &self.path;
        match &self.pool_file {
            Some(f) => {
                f.grow(new).map_err(|e| {
                    if e.raw_os_error() == Some(libc::ENOSPC) {
                        Error::OutOfSpace {
                            requested: len,
                            max_size: self.max_size(),
                        }
                    } else {
                        Error::io("growing", path, e)
                    }
                })?;
                // The new size must be durable before any commit that uses the grown
                // region is acknowledged (ARCHITECTURE §7.1): one sync per growth step,
                // none in the steady state.
                if !crate::inject::is(crate::inject::Broken::SkipGrowthSync) {
                    f.sync().map_err(|e| {
                        self.poison();
                        Error::io("syncing", path, e)
                    })?;
                }
                match f.fd() {
                    Some(fd) => self
                        .region
                        .map_private(cur, new - cur, fd, cur)
                        .map_err(io_err("mapping", path))?,
                    None => {
                        self.region
                            .map_anon(cur, new - cur)
                            .map_err(io_err("mapping", path))?;
                        // SAFETY: just mapped.
                        let dst = unsafe {
                            std::slice::from_raw_parts_mut(
                                self.region.base().add(cur as usize),
                                (new - cur) as usize,
                            )
                        };
                        f.read_at(cur, dst).map_err(io_err("reading", path))?;
                    }
                }
            }
            None => self
                .region
                .map_anon(cur, new - cur)
                .map_err(io_err("mapping", path))?,
        }
        c.mapped_len.store(new, Ordering::Release);
        Ok(())
    }
}
