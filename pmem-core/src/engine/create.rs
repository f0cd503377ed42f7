//! Creating a pool: the bytes of a new, empty pool and the durable steps that put them
//! on the medium (ARCHITECTURE §8.1).

use std::fs::OpenOptions;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::session::sync_dir;
use super::state::{CreateSpec, Expect};
use crate::error::{Error, Result};
use crate::format::{
    BlockHeader, LogState, RootMeta, StateSlot, StaticHeader, ABS_MAX_POOL_SIZE, HEAP_START,
    KIND_FREE, META_MAGIC, META_OFF, PAGE, SECTOR, STATE_SLOT_OFF,
};

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A UUID whose pointer tag no pool open in this process uses, nor another pool being
/// created (so a new pool can be open beside every other; ARCHITECTURE §12). The tag
/// stays reserved until the new pool's open claims it.
fn fresh_pool_uuid() -> [u8; 16] {
    loop {
        let u = super::session::random_uuid();
        if crate::media::reserve_fresh_tag(crate::format::pool_tag_of(&u)) {
            return u;
        }
    }
}

/// The bytes of a new, empty pool: header, checkpoint state slot 0, metadata page, one free
/// block spanning the heap. The root is allocated by the first transaction after open.
pub(super) fn initial_image(spec: &CreateSpec, expect: &Expect) -> Result<(Vec<u8>, StaticHeader)> {
    let size = spec.initial_size.max(HEAP_START + PAGE).div_ceil(PAGE) * PAGE;
    if spec.max_size > ABS_MAX_POOL_SIZE || spec.max_size < size {
        return Err(Error::InvalidOptions(format!(
            "max_size {} must be between the initial size {size} and {ABS_MAX_POOL_SIZE}",
            spec.max_size
        )));
    }
    if spec.layout.len() > crate::format::LAYOUT_LEN || spec.layout.contains('\0') {
        return Err(Error::InvalidOptions(
            "layout names are at most 64 bytes, without NUL".into(),
        ));
    }
    let header = StaticHeader {
        uuid: fresh_pool_uuid(),
        layout: spec.layout.clone(),
        root_fingerprint: expect.root.fingerprint,
        root_size: expect.root_size,
        root_align: expect.root_align,
        max_size: spec.max_size,
        created_unix: unix_now(),
        root_type_name: truncate_name(&expect.root.name),
    };
    let mut img = vec![0u8; size as usize];
    img[..SECTOR as usize].copy_from_slice(&header.encode());
    // A new pool has every commit (none) in its file: it needs no log yet.
    let s0 = StateSlot {
        checkpoint_count: 0,
        checkpoint_seq: 0,
        log: LogState::Clean,
    };
    img[STATE_SLOT_OFF[0] as usize..][..StateSlot::LEN].copy_from_slice(&s0.encode());
    let meta = RootMeta {
        magic: META_MAGIC,
        root_off: 0,
        heap_end: size,
        schema_off: 0,
        schema_len: 0,
        reserved: [0; 3],
    };
    write_pod(&mut img, META_OFF, &meta);
    write_pod(
        &mut img,
        HEAP_START,
        &BlockHeader::new(KIND_FREE, 0, size - HEAP_START, 0),
    );
    Ok((img, header))
}

fn truncate_name(name: &str) -> String {
    let mut end = name.len().min(crate::format::TYPE_NAME_LEN);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_string()
}

fn write_pod<T: Copy>(img: &mut [u8], off: u64, v: &T) {
    // SAFETY: T is a padding-free #[repr(C)] header (size asserted in `layout`), so
    // viewing it as bytes reads only initialised memory.
    let bytes =
        unsafe { std::slice::from_raw_parts(std::ptr::from_ref(v).cast::<u8>(), size_of::<T>()) };
    img[off as usize..off as usize + bytes.len()].copy_from_slice(bytes);
}

/// Creates a pool file on disk, atomically and durably: the pool appears at `path`
/// complete or not at all, and once this returns it survives power loss. The new pool
/// is *clean* (it needs no log); its first writable open creates the log.
///
/// The file is written and synced under a temporary name, hard-linked to `path` (which
/// fails if `path` exists: no race with another creator), and the directory is synced
/// so the name is durable; the temporary name is then removed and the directory synced
/// again, so a power cut leaves no stray file behind (ARCHITECTURE §8.1).
pub(crate) fn create_files(path: &Path, spec: &CreateSpec, expect: &Expect) -> Result<()> {
    if path.exists() {
        return Err(Error::AlreadyExists {
            path: path.to_path_buf(),
        });
    }
    let (img, _) = initial_image(spec, expect)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".creating.{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(spec.mode)
            .open(&tmp)
            .map_err(|e| Error::io("creating", path, e))?;
        std::os::unix::fs::FileExt::write_all_at(&f, &img, 0)
            .map_err(|e| Error::io("writing", path, e))?;
        f.sync_all().map_err(|e| Error::io("syncing", path, e))?;
        std::fs::hard_link(&tmp, path).map_err(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                Error::AlreadyExists {
                    path: path.to_path_buf(),
                }
            } else {
                Error::io("creating", path, e)
            }
        })?;
        sync_dir(path)
    })();
    if std::fs::remove_file(&tmp).is_ok() && result.is_ok() {
        sync_dir(path)?;
    }
    result
}

/// Writes a new pool onto the simulated disk, with the same durability steps as
/// `create_files` (file synced, then its name).
#[cfg(feature = "testing")]
pub(super) fn create_sim(
    disk: &crate::media::sim::SimDisk,
    spec: &CreateSpec,
    expect: &Expect,
) -> Result<()> {
    use super::session::io_err;
    use crate::media::sim::FileId;
    let (img, _) = initial_image(spec, expect)?;
    disk.create(FileId::Pool);
    let pool = disk.backing(FileId::Pool);
    pool.write_at(0, &img)
        .map_err(io_err("writing", pool.path()))?;
    pool.sync().map_err(io_err("syncing", pool.path()))?;
    disk.sync_dir()
        .map_err(io_err("syncing directory", pool.path()))
}
