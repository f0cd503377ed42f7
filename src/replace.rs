//! The atomic replacement of a pool file that migration and compaction are made of
//! (module docs of `crate::migrate`, ARCHITECTURE §15.5): the new pool is built beside
//! the old one as `NAME` + suffix, closed clean, renamed over `NAME` and the directory
//! synced while the old pool stays open read-only (and so locked); then one open and
//! close of the new pool takes over the old log.

use std::path::{Path, PathBuf};

use pmem_core::{Error, Persistent, Pool, PoolOptions, Result};

/// The temporary file a migration (or compaction) of `path` builds.
fn temp_path(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn log_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".log");
    PathBuf::from(s)
}

fn sync_dir(path: &Path) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::Io {
            op: "syncing directory",
            path: dir.to_path_buf(),
            source: e,
        })
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// The typed replacement once the old pool is open (`old`, held — and so locked —
/// until the rename is durable): creates a pool of `New` at `path` + `suffix`, fills it
/// with `fill`, and publishes it with [`replace_built`].
pub(crate) fn replace_from<O, New>(
    path: &Path,
    options: &PoolOptions,
    suffix: &str,
    old: O,
    fill: impl FnOnce(&O, &mut Pool<New>) -> Result<()>,
) -> Result<()>
where
    New: Persistent + Default,
{
    replace_built(
        path,
        suffix,
        old,
        |old, tmp| {
            let mut new = options.clone().read_only(false).create::<New>(tmp)?;
            fill(old, &mut new)?;
            // Closing the last handle checkpoints, marks the pool clean and removes
            // its log: the file alone holds the new pool, synced.
            new.close()
        },
        |path| match options.clone().read_only(false).open::<New>(path) {
            Ok(p) => p.close(),
            Err(Error::Locked { .. }) => Ok(()),
            Err(e) => Err(e),
        },
    )
}

/// The replacement itself: removes a stray temporary file of an earlier attempt,
/// `build`s the new pool at `path` + `suffix` (it must be closed clean when `build`
/// returns), renames it over `path`, syncs the directory, drops `old` (its lock), and
/// runs `take_over` on `path` — one writable open and close of the new pool, which
/// takes over and removes the old pool's log (answering `Ok` when another program
/// opened the new pool first: it has taken the log over itself).
pub(crate) fn replace_built<O>(
    path: &Path,
    suffix: &str,
    old: O,
    build: impl FnOnce(&O, &Path) -> Result<()>,
    take_over: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let tmp = temp_path(path, suffix);
    // A stray file of an earlier, interrupted attempt (and its log) is not a pool anyone
    // relies on: the rename that would have published it never happened.
    for stale in [tmp.clone(), log_path(&tmp)] {
        match std::fs::remove_file(&stale) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("removing", &stale)(e)),
        }
    }
    if let Err(e) = build(&old, &tmp) {
        drop(old);
        let _ = std::fs::remove_file(&tmp);
        let _ = std::fs::remove_file(log_path(&tmp));
        return Err(e);
    }
    // The atomic step: after the rename is durable the pool is the new one. The old
    // pool stays locked until then, so no writer commits to the file being replaced.
    std::fs::rename(&tmp, path).map_err(io("renaming", path))?;
    sync_dir(path)?;
    drop(old);
    // The old pool's log (present if it was left by a crash) names another pool now.
    // The new pool is clean and ignores it; one open and close under the new pool's
    // lock takes it over and removes it.
    take_over(path)
}
