//! Online backup (ARCHITECTURE §8.2): a consistent, self-contained single-file copy of
//! an open pool's last committed state.
//!
//! The caller holds the state lock for reading, so no transaction is open and the
//! mapping holds exactly the last committed state (the pages the file already has,
//! overlaid by every commit since the last checkpoint). The copy is written under a
//! temporary name beside `dest`: the static header as it is, a *clean* state slot at
//! the last commit's sequence number (the copy needs no log), then the metadata page and
//! the heap up to `heap_end` straight from the mapping. It is synced, linked to `dest`
//! (refusing to replace an existing file), and the directory is synced: `dest` appears
//! complete or not at all, like a new pool (§8.1).

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::session::sync_dir;
use super::state::{ReadCtx, Shared, State};
use crate::error::{Error, Result};
use crate::format::{LogState, StateSlot, META_OFF, SECTOR, STATE_SLOT_OFF};
use crate::heap;

/// Writes the backup of the pool behind `sh` (state `st`, read-locked by the caller)
/// to `dest`. Answers the bytes written.
pub(crate) fn write_backup(sh: &Shared, st: &State, dest: &Path) -> Result<u64> {
    if dest.exists() {
        return Err(Error::AlreadyExists {
            path: dest.to_path_buf(),
        });
    }
    let heap_end = heap::meta(&ReadCtx(sh)).heap_end;
    let mapped = sh.region.control().mapped_len();
    if heap_end > mapped || heap_end < META_OFF {
        return Err(Error::corrupted(
            "heap end outside the mapped pool",
            META_OFF,
        ));
    }
    let mut first = vec![0u8; META_OFF as usize];
    first[..SECTOR as usize].copy_from_slice(&sh.header.encode());
    let slot = StateSlot {
        checkpoint_count: 0,
        checkpoint_seq: st.last_seq,
        log: LogState::Clean,
    };
    first[STATE_SLOT_OFF[0] as usize..][..StateSlot::LEN].copy_from_slice(&slot.encode());
    // SAFETY: `META_OFF..heap_end` is mapped (checked above) and, with the state lock
    // held for reading by the caller, no transaction writes it while it is copied.
    let body = unsafe {
        std::slice::from_raw_parts(
            sh.region.base().add(META_OFF as usize),
            (heap_end - META_OFF) as usize,
        )
    };
    let mut tmp = dest.as_os_str().to_owned();
    tmp.push(format!(".backup.{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| Error::io("creating", dest, e))?;
        f.write_all(&first)
            .and_then(|()| f.write_all(body))
            .map_err(|e| Error::io("writing", dest, e))?;
        f.sync_all().map_err(|e| Error::io("syncing", dest, e))?;
        std::fs::hard_link(&tmp, dest).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::AlreadyExists {
                    path: dest.to_path_buf(),
                }
            } else {
                Error::io("creating", dest, e)
            }
        })?;
        sync_dir(dest)
    })();
    if std::fs::remove_file(&tmp).is_ok() && result.is_ok() {
        sync_dir(dest)?;
    }
    result.map(|()| heap_end)
}
