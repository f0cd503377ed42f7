//! Power loss during a typed migration (`pmem::migrate`), on real files.
//!
//! The parent builds a v1 pool (accounts with `PString` owners and `PVec<i32>`
//! histories, notes with `PVec<u16>` tags, a `PVec<i32>` of samples, a few dozen
//! commits), either closed cleanly or left crashed (a copy taken while it was open: its
//! `NAME.log` holds every commit). Those files are the durable starting state. A child
//! then migrates them to v2 (`balance` and the history elements widened to `i64`, the
//! tags to `u32`, the samples to `i64`, a field added to the account and to the root),
//! recorded by the shim from `migrate begin` to `migrate returned`. The migrated pool
//! is larger than `INITIAL_SIZE`, so building it grows its file.
//!
//! At every crash point of that trace (before each sync and directory sync, at each
//! marker, at the end, plus seeded random points) each image must hold at `NAME`:
//!
//! - a v2 pool with exactly the migrated contents (any time), or
//! - a v1 pool with exactly v1's contents (only before `migrate returned`), on which
//!   running `migrate` again succeeds and gives exactly the migrated contents, whatever
//!   stray `NAME.migrating` files the crash left;
//!
//! never a pool of mixed contents, never one that does not open. A v2 pool is sometimes
//! migrated again too: that must answer `TypeMismatch` and leave it as it was.
//!
//! The checker is tested with two broken migrations, copies of `migrate_with`'s steps
//! with one fault each ([`Fault`]); both must be caught.
//!
//! A compaction (`pmem::compact::compact`, the same atomic replacement as a migration)
//! is recorded and judged the same way, from `compact begin` to `compact returned`:
//! each image must hold at `NAME` a v1 pool with exactly v1's contents, either the old
//! file or the compacted one (told apart by its sample vector: only a compacted one has
//! capacity equal to length), and only the compacted one after `compact returned`; an
//! old one compacts again to the same contents.
//!
//! An automatic migration (`pmem::migrate::auto`, the same atomic replacement) of the
//! same v1 pool to v2 is judged like the typed one, against the contents it must give:
//! every number widened, the added fields at their defaults (`overdrafts` and
//! `version` 0); migrating a v2 pool again answers `Ok(false)` and changes nothing.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pmem::compact::{compact, compact_untyped};
use pmem::migrate::{migrate, MigrateFrom};
use pmem::{AutoMigrate, Error, PoolOptions};

use super::check::{next_rand, retry_locked, walk, write_image, Expect, Points, Progress};
use super::states::{choice_sets, Budget, Choice, Fs, Image};
use super::trace::Op;

/// The pool's name in the recorded directory.
pub(crate) const POOL: &str = "accounts.pool";
const SEED: u64 = 0x0005_eed2;
/// Commits of the v1 pool.
const COMMITS: usize = 24;
/// Samples each commit appends: 24 × 500 samples are 96 KB as `i64`, more than the
/// migrated pool's initial size.
const SAMPLES_PER_COMMIT: usize = 500;
const INITIAL_SIZE: u64 = 64 << 10;
/// States per run unless `PMEM_POWERLOSS_STATES` asks for more.
pub(crate) const DEFAULT_STATES: u64 = 1_000;

/// The version the pool had before.
pub(crate) mod v1 {
    use pmem::{PString, PVec, Persistent};

    #[derive(Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Account {
        pub(crate) owner: PString,
        pub(crate) balance: i32,
        pub(crate) history: PVec<i32>,
    }

    #[derive(Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Note {
        pub(crate) memo: PString,
        pub(crate) tags: PVec<u16>,
    }

    #[derive(Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Bank {
        pub(crate) accounts: PVec<Account>,
        pub(crate) notes: PVec<Note>,
        pub(crate) samples: PVec<i32>,
        pub(crate) commits: u64,
    }
}

/// The version a migration makes: widened numbers, one field added to the account
/// (`overdrafts`, derived from the history) and one to the root (`version`).
pub(crate) mod v2 {
    use pmem::{PString, PVec, Persistent};

    #[derive(Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Account {
        pub(crate) owner: PString,
        pub(crate) balance: i64,
        pub(crate) history: PVec<i64>,
        pub(crate) overdrafts: u32,
    }

    #[derive(Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Note {
        pub(crate) memo: PString,
        pub(crate) tags: PVec<u32>,
    }

    #[derive(Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Bank {
        pub(crate) accounts: PVec<Account>,
        pub(crate) notes: PVec<Note>,
        pub(crate) samples: PVec<i64>,
        pub(crate) commits: u64,
        pub(crate) version: u32,
    }
}

impl MigrateFrom<v1::Bank> for v2::Bank {
    fn migrate(old: &v1::Bank, new: &mut v2::BankMut) -> pmem::Result<()> {
        for a in &old.accounts {
            let n = new.accounts_mut().push_mut(v2::Account::default())?;
            n.set_owner(a.owner.as_str())?;
            *n.balance_mut() = i64::from(a.balance);
            n.history_mut()
                .extend(a.history.iter().map(|&x| i64::from(x)))?;
            *n.overdrafts_mut() = overdrafts(a.history.iter().map(|&x| i64::from(x)));
        }
        for t in &old.notes {
            let n = new.notes_mut().push_mut(v2::Note::default())?;
            n.set_memo(t.memo.as_str())?;
            n.tags_mut().extend(t.tags.iter().map(|&x| u32::from(x)))?;
        }
        new.samples_mut()
            .extend(old.samples.iter().map(|&x| i64::from(x)))?;
        *new.commits_mut() = old.commits;
        *new.version_mut() = 2;
        Ok(())
    }
}

fn overdrafts(history: impl Iterator<Item = i64>) -> u32 {
    u32::try_from(history.filter(|&x| x < 0).count()).expect("a short history")
}

// ---------------------------------------------------------------------------------------
// The model: either version's contents as plain values

/// One account, as plain values (`overdrafts` is 0 in v1, which has no such field).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct PlainAccount {
    owner: String,
    balance: i64,
    history: Vec<i64>,
    overdrafts: u32,
}

/// A pool's contents as plain values, tagged with its version.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Contents {
    version: u32,
    accounts: Vec<PlainAccount>,
    notes: Vec<(String, Vec<u32>)>,
    samples: Vec<i64>,
    commits: u64,
}

impl Contents {
    fn of_v1(b: &v1::Bank) -> Contents {
        Contents {
            version: 1,
            accounts: b
                .accounts
                .iter()
                .map(|a| PlainAccount {
                    owner: a.owner.as_str().to_owned(),
                    balance: i64::from(a.balance),
                    history: a.history.iter().map(|&x| i64::from(x)).collect(),
                    overdrafts: 0,
                })
                .collect(),
            notes: b
                .notes
                .iter()
                .map(|n| {
                    let tags = n.tags.iter().map(|&x| u32::from(x)).collect();
                    (n.memo.as_str().to_owned(), tags)
                })
                .collect(),
            samples: b.samples.iter().map(|&x| i64::from(x)).collect(),
            commits: b.commits,
        }
    }

    fn of_v2(b: &v2::Bank) -> Contents {
        Contents {
            version: b.version,
            accounts: b
                .accounts
                .iter()
                .map(|a| PlainAccount {
                    owner: a.owner.as_str().to_owned(),
                    balance: a.balance,
                    history: a.history.to_vec(),
                    overdrafts: a.overdrafts,
                })
                .collect(),
            notes: b
                .notes
                .iter()
                .map(|n| (n.memo.as_str().to_owned(), n.tags.to_vec()))
                .collect(),
            samples: b.samples.to_vec(),
            commits: b.commits,
        }
    }

    /// What migrating these v1 contents must give.
    fn migrated(&self) -> Contents {
        let mut c = self.clone();
        c.version = 2;
        for a in &mut c.accounts {
            a.overdrafts = overdrafts(a.history.iter().copied());
        }
        c
    }

    /// What an automatic migration of these v1 contents must give: the added fields
    /// at their defaults.
    fn auto_migrated(&self) -> Contents {
        let mut c = self.clone();
        c.version = 0;
        for a in &mut c.accounts {
            a.overdrafts = 0;
        }
        c
    }

    /// A short name for reports.
    fn digest(&self) -> String {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.hash(&mut h);
        format!(
            "v{} with {} commits (digest {:016x})",
            self.version,
            self.commits,
            h.finish()
        )
    }
}

/// The v1 workload: `COMMITS` commits, planned from `SEED`, run on `bank` and on the
/// model `c` alike.
fn v1_commit(bank: &mut v1::BankMut, c: &mut Contents, r: &mut u64) -> pmem::Result<()> {
    let text = |r: &mut u64, max: u64| -> String {
        let len = 1 + next_rand(r) % max;
        (0..len)
            .map(|_| char::from(b'a' + (next_rand(r) % 26) as u8))
            .collect()
    };
    let small = |r: &mut u64| (next_rand(r) % 2001) as i32 - 1000;
    if c.accounts.len() < 3 || next_rand(r) % 4 == 0 {
        let owner = text(r, 30);
        let deposit = small(r).abs();
        let a = bank.accounts_mut().push_mut(v1::Account::default())?;
        a.set_owner(owner.as_str())?;
        *a.balance_mut() = deposit;
        a.history_mut().push(deposit)?;
        c.accounts.push(PlainAccount {
            owner,
            balance: i64::from(deposit),
            history: vec![i64::from(deposit)],
            overdrafts: 0,
        });
    }
    for _ in 0..=next_rand(r) % 3 {
        let i = (next_rand(r) % c.accounts.len() as u64) as usize;
        let d = small(r);
        let a = bank.accounts_mut().get_mut(i).expect("an account");
        *a.balance_mut() += d;
        a.history_mut().push(d)?;
        c.accounts[i].balance += i64::from(d);
        c.accounts[i].history.push(i64::from(d));
    }
    if next_rand(r) % 3 == 0 {
        let i = (next_rand(r) % c.accounts.len() as u64) as usize;
        let owner = text(r, 50);
        bank.accounts_mut()
            .get_mut(i)
            .expect("an account")
            .set_owner(owner.as_str())?;
        c.accounts[i].owner = owner;
    }
    if next_rand(r) % 2 == 0 {
        let memo = text(r, 80);
        let tags: Vec<u16> = (0..next_rand(r) % 6).map(|_| next_rand(r) as u16).collect();
        let n = bank.notes_mut().push_mut(v1::Note::default())?;
        n.set_memo(memo.as_str())?;
        n.tags_mut().extend(tags.iter().copied())?;
        c.notes
            .push((memo, tags.iter().map(|&t| u32::from(t)).collect()));
    }
    let samples: Vec<i32> = (0..SAMPLES_PER_COMMIT)
        .map(|_| next_rand(r) as i32)
        .collect();
    bank.samples_mut().extend(samples.iter().copied())?;
    c.samples.extend(samples.iter().map(|&x| i64::from(x)));
    *bank.commits_mut() += 1;
    c.commits += 1;
    Ok(())
}

/// The options of the migration (and of every open of an image).
pub(crate) fn options() -> PoolOptions {
    PoolOptions::new()
        .initial_size(INITIAL_SIZE)
        .max_size(64 << 20)
}

/// Builds the v1 pool in `dir` (emptied) and answers its files and contents: closed
/// cleanly, or (`crashed`) copied while open with every commit still in its log.
fn build_v1(dir: &Path, crashed: bool) -> (Image, Contents) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("creating the v1 directory");
    let path = dir.join(POOL);
    let mut pool = options()
        .checkpoint_threshold(64 << 20)
        .create::<v1::Bank>(&path)
        .expect("creating the v1 pool");
    let mut model = Contents {
        version: 1,
        ..Contents::default()
    };
    let mut r = SEED;
    for _ in 0..COMMITS {
        let mut next = model.clone();
        let mut rr = r;
        pool.tx(|tx| {
            next = model.clone();
            rr = r;
            v1_commit(tx.root_mut(), &mut next, &mut rr)
        })
        .expect("a v1 commit");
        model = next;
        r = rr;
    }
    let read = |dir: &Path| -> Image {
        let mut img: Image = std::fs::read_dir(dir)
            .expect("listing the v1 directory")
            .map(|e| {
                let e = e.expect("a directory entry");
                let name = e.file_name().into_string().expect("a UTF-8 name");
                (name, std::fs::read(e.path()).expect("reading a v1 file"))
            })
            .collect();
        img.sort();
        img
    };
    let img = if crashed {
        // What a process crash leaves: every issued write, the log holding commits.
        let img = read(dir);
        drop(pool);
        img
    } else {
        pool.close().expect("closing the v1 pool");
        read(dir)
    };
    let _ = std::fs::remove_dir_all(dir);
    let names: Vec<&str> = img.iter().map(|(n, _)| n.as_str()).collect();
    let log = format!("{POOL}.log");
    let want: Vec<&str> = if crashed {
        vec![POOL, log.as_str()]
    } else {
        vec![POOL]
    };
    assert_eq!(names, want, "the v1 pool's files");
    (img, model)
}

// ---------------------------------------------------------------------------------------
// The migration the child runs, correct or broken

/// A deliberately broken migration, to show that the checker catches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Renames the new pool over the old one (and syncs the directory) while it is
    /// still open, before its clean close: the published pool still needs its log,
    /// which lives under the temporary name.
    RenameBeforeClose,
    /// Renames without syncing the directory afterwards: `migrate` returns while the
    /// old pool may still be what a power loss leaves at `NAME` (and, when the old log
    /// is removed, the rename and that removal may land apart).
    NoDirSyncAfterRename,
}

impl Fault {
    fn name(fault: Option<Fault>) -> &'static str {
        match fault {
            None => "none",
            Some(Fault::RenameBeforeClose) => "rename-before-close",
            Some(Fault::NoDirSyncAfterRename) => "no-dir-sync-after-rename",
        }
    }

    fn parse(s: &str) -> Option<Fault> {
        [Fault::RenameBeforeClose, Fault::NoDirSyncAfterRename]
            .into_iter()
            .find(|f| Fault::name(Some(*f)) == s)
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn sync_dir(path: &Path) -> std::io::Result<()> {
    std::fs::File::open(path.parent().expect("a directory"))?.sync_all()
}

/// `pmem::migrate::migrate_with`'s steps, through the public API, with `fault`.
fn broken_migrate(path: &Path, opts: &PoolOptions, fault: Fault) -> Result<(), String> {
    let e = |what: &str| {
        let what = what.to_owned();
        move |e: &dyn std::fmt::Display| format!("{what}: {e}")
    };
    let tmp = with_suffix(path, ".migrating");
    let old = opts
        .clone()
        .read_only(true)
        .open::<v1::Bank>(path)
        .map_err(|x| e("opening the old pool")(&x))?;
    for stale in [tmp.clone(), with_suffix(&tmp, ".log")] {
        let _ = std::fs::remove_file(stale);
    }
    let mut new = opts
        .clone()
        .create::<v2::Bank>(&tmp)
        .map_err(|x| e("creating the new pool")(&x))?;
    old.read(|o| new.tx(|tx| v2::Bank::migrate(o, tx.root_mut())))
        .map_err(|x| e("reading")(&x))?
        .map_err(|x| e("converting")(&x))?;
    drop(old);
    let publish = || -> Result<(), String> {
        std::fs::rename(&tmp, path).map_err(|x| e("renaming")(&x))?;
        if fault != Fault::NoDirSyncAfterRename {
            sync_dir(path).map_err(|x| e("syncing the directory")(&x))?;
        }
        Ok(())
    };
    if fault == Fault::RenameBeforeClose {
        publish()?;
        new.close().map_err(|x| e("closing the new pool")(&x))?;
    } else {
        new.close().map_err(|x| e("closing the new pool")(&x))?;
        publish()?;
    }
    if std::fs::remove_file(with_suffix(path, ".log")).is_ok() {
        sync_dir(path).map_err(|x| e("syncing the directory")(&x))?;
    }
    Ok(())
}

/// The recorded child of a compaction run: compacts the pool in `dir` (`how`:
/// `untyped` by its stored schema, `pmem::compact::compact_untyped`; else typed).
pub(crate) fn child_compact(dir: &Path, how: &str) {
    super::marker("compact begin");
    if how == "untyped" {
        compact_untyped(dir.join(POOL), &options()).expect("compacting untyped");
    } else {
        compact::<v1::Bank>(dir.join(POOL), &options()).expect("compacting");
    }
    super::marker("compact returned");
}

/// The recorded child: migrates the pool in `dir`, with `fault` (`none`: the real
/// `pmem::migrate::migrate`).
pub(crate) fn child(dir: &Path, fault: &str) {
    let path = dir.join(POOL);
    super::marker("migrate begin");
    match Fault::parse(fault) {
        None if fault == "auto" => {
            let migrated = pmem::migrate::auto::<v2::Bank>(&path, &options(), AutoMigrate::new())
                .expect("migrating automatically");
            assert!(migrated, "the v1 pool was already v2");
        }
        None => {
            assert_eq!(fault, "none", "unknown fault");
            migrate::<v1::Bank, v2::Bank>(&path, &options()).expect("migrating");
        }
        Some(f) => broken_migrate(&path, &options(), f).expect("the broken migration"),
    }
    super::marker("migrate returned");
}

// ---------------------------------------------------------------------------------------
// Judging images

/// One broken rule.
pub(crate) struct Violation {
    pub(crate) at: String,
    pub(crate) pending: String,
    pub(crate) error: String,
    pub(crate) kept: Option<PathBuf>,
}

/// What one image held at `NAME`: for a compaction run, `V1` is the old file and `V2`
/// the compacted one.
enum Held {
    V1,
    V2,
}

/// Opens images and judges them against v1's and the migrated contents.
struct Checker {
    /// A compaction run: the pool stays v1, compacted or not.
    compact: bool,
    /// Which compaction.
    how: Compaction,
    /// An automatic migration run.
    auto: bool,
    opts: PoolOptions,
    v1: Contents,
    v2: Contents,
    scratch: PathBuf,
    keep_root: PathBuf,
    states: u64,
    /// Images that held v1 / v2.
    held: [u64; 2],
    /// v1 images migrated again, v2 images migrated again (refused).
    remigrated: [u64; 2],
    /// v1 images beside a stray `NAME.migrating` (of the interrupted attempt).
    stray: u64,
    violations: Vec<Violation>,
    stop_after: usize,
    build_time: Duration,
    open_time: Duration,
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}

impl Checker {
    /// Migrates the pool at `path` again, the way the run did; `Ok(false)` when it was
    /// already v2 (the typed migration answers `TypeMismatch` then).
    fn migrate_again(&self, path: &Path) -> Result<bool, Error> {
        if self.auto {
            retry_locked(|| pmem::migrate::auto::<v2::Bank>(path, &self.opts, AutoMigrate::new()))
        } else {
            retry_locked(|| migrate::<v1::Bank, v2::Bank>(path, &self.opts)).map(|()| true)
        }
    }

    fn done(&self) -> bool {
        self.violations.len() >= self.stop_after
    }

    /// Opens `NAME` as v2 (writable, or `read_only`), `check()`s it and reads its
    /// contents.
    fn open_v2(&self, path: &Path, read_only: bool) -> Result<Result<Contents, Error>, String> {
        let opts = self.opts.clone().read_only(read_only);
        let pool = match retry_locked(|| opts.open::<v2::Bank>(path)) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        pool.check()
            .map_err(|e| format!("check of the v2 pool: {e}"))?;
        let c = pool
            .read(Contents::of_v2)
            .map_err(|e| format!("reading the v2 pool: {e}"))?;
        pool.close()
            .map_err(|e| format!("closing the v2 pool: {e}"))?;
        Ok(Ok(c))
    }

    /// Opens `NAME` as v1 (writable, or `read_only`), `check()`s it, and answers its
    /// contents and whether it is compacted (its samples' capacity is their length).
    fn open_v1(&self, path: &Path, read_only: bool) -> Result<(Contents, bool), String> {
        let opts = self.opts.clone().read_only(read_only);
        let pool = retry_locked(|| opts.open::<v1::Bank>(path))
            .map_err(|e| format!("opening as v1 failed: {e} ({e:?})"))?;
        pool.check()
            .map_err(|e| format!("check of the v1 pool: {e}"))?;
        let c = pool
            .read(|b| (Contents::of_v1(b), b.samples.capacity() == b.samples.len()))
            .map_err(|e| format!("reading the v1 pool: {e}"))?;
        pool.close()
            .map_err(|e| format!("closing the v1 pool: {e}"))?;
        if c.0 != self.v1 {
            return Err(format!(
                "opens as v1 with other contents: {} instead of {}",
                c.0.digest(),
                self.v1.digest()
            ));
        }
        Ok(c)
    }

    /// Judges an image of a compaction run.
    fn judge_compact(&mut self, after_return: bool) -> Result<Held, String> {
        let path = self.scratch.join(POOL);
        let n = self.states;
        let (_, compacted) = self.open_v1(&path, n % 2 == 1)?;
        if compacted {
            return Ok(Held::V2);
        }
        if after_return {
            return Err("still the uncompacted pool after compact returned".into());
        }
        // Whatever stray files the crash left, compacting again succeeds.
        self.remigrated[0] += 1;
        retry_locked(|| {
            if self.how == Compaction::Untyped {
                compact_untyped(&path, &self.opts).map(drop)
            } else {
                compact::<v1::Bank>(&path, &self.opts).map(drop)
            }
        })
        .map_err(|e| format!("compacting the old pool again failed: {e} ({e:?})"))?;
        match self.open_v1(&path, false)? {
            (_, true) => Ok(Held::V1),
            (_, false) => Err("compacting the old pool again left it uncompacted".into()),
        }
    }

    /// Judges the image in the scratch directory; answers what it held.
    fn judge(&mut self, after_return: bool) -> Result<Held, String> {
        if self.compact {
            return self.judge_compact(after_return);
        }
        let path = self.scratch.join(POOL);
        let n = self.states;
        // Every other image is first opened read-only (nothing written, the log
        // replayed in memory); the others, and every pool migrated again, writable.
        match self.open_v2(&path, n % 2 == 1)? {
            Ok(c) if c == self.v2 => {
                if n % 3 == 0 {
                    // Migrating a migrated pool is refused and changes nothing.
                    self.remigrated[1] += 1;
                    match self.migrate_again(&path) {
                        Err(Error::TypeMismatch { .. }) if !self.auto => {}
                        Ok(false) if self.auto => {}
                        other => {
                            return Err(format!(
                                "migrating the v2 pool again answered {other:?}, not TypeMismatch"
                            ))
                        }
                    }
                    match self.open_v2(&path, false)? {
                        Ok(c) if c == self.v2 => {}
                        Ok(c) => {
                            return Err(format!(
                                "a refused migration changed the v2 pool to {}",
                                c.digest()
                            ))
                        }
                        Err(e) => {
                            return Err(format!(
                                "a refused migration left the v2 pool unopenable: {e} ({e:?})"
                            ))
                        }
                    }
                }
                Ok(Held::V2)
            }
            Ok(c) => Err(format!(
                "opens as v2 with other contents: {} instead of {}",
                c.digest(),
                self.v2.digest()
            )),
            Err(Error::TypeMismatch { .. }) => {
                if after_return {
                    return Err("still the v1 pool after migrate returned".into());
                }
                // Mostly read-only, so that `migrate` runs again on the state exactly as
                // the crash left it; every fourth writable (recovered, then closed).
                let writable = n % 4 == 2;
                let opts = self.opts.clone().read_only(!writable);
                let old = retry_locked(|| opts.open::<v1::Bank>(&path))
                    .map_err(|e| format!("not v2, and opening as v1 failed: {e} ({e:?})"))?;
                old.check()
                    .map_err(|e| format!("check of the v1 pool: {e}"))?;
                let c = old
                    .read(Contents::of_v1)
                    .map_err(|e| format!("reading the v1 pool: {e}"))?;
                if writable {
                    old.close()
                        .map_err(|e| format!("closing the v1 pool: {e}"))?;
                } else {
                    drop(old);
                }
                if c != self.v1 {
                    return Err(format!(
                        "opens as v1 with other contents: {} instead of {}",
                        c.digest(),
                        self.v1.digest()
                    ));
                }
                // Whatever stray files the crash left, migrating again succeeds.
                self.remigrated[0] += 1;
                self.migrate_again(&path)
                    .map_err(|e| format!("migrating the v1 pool again failed: {e} ({e:?})"))?;
                match self.open_v2(&path, false)? {
                    Ok(c) if c == self.v2 => Ok(Held::V1),
                    Ok(c) => Err(format!(
                        "migrating the v1 pool again gave {} instead of {}",
                        c.digest(),
                        self.v2.digest()
                    )),
                    Err(e) => Err(format!(
                        "migrating the v1 pool again left no v2 pool: {e} ({e:?})"
                    )),
                }
            }
            Err(e) => Err(format!("unopenable: {e} ({e:?})")),
        }
    }

    /// Checks every image of one crash point.
    fn point(&mut self, fs: &Fs<'_>, at: &str, after_return: bool, budget: Budget, seed: u64) {
        for (k, choices) in choice_sets(fs, seed, budget).iter().enumerate() {
            if self.done() {
                return;
            }
            let t = Instant::now();
            let _ = std::fs::remove_dir_all(&self.scratch);
            std::fs::create_dir_all(&self.scratch).expect("creating the scratch directory");
            fs.write_image(choices, &self.scratch)
                .expect("writing an image");
            self.build_time += t.elapsed();
            let stray = self.scratch.join(format!("{POOL}.migrating")).exists()
                || self.scratch.join(format!("{POOL}.compacting")).exists();
            let t = Instant::now();
            let verdict =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.judge(after_return)))
                    .unwrap_or_else(|p| Err(format!("panic: {}", panic_text(&*p))));
            self.open_time += t.elapsed();
            self.states += 1;
            match verdict {
                Ok(Held::V1) => {
                    self.held[0] += 1;
                    self.stray += u64::from(stray);
                }
                Ok(Held::V2) => self.held[1] += 1,
                Err(error) => {
                    let kept = (self.violations.len() < 20).then(|| {
                        let d = self.keep_root.join(self.violations.len().to_string());
                        write_image(&d, &fs.image(choices));
                        d
                    });
                    let kind = if choices.iter().all(|c| *c == Choice::Apply) {
                        "process crash"
                    } else {
                        "power loss"
                    };
                    self.violations.push(Violation {
                        at: format!("{at}, image {k} ({kind})"),
                        pending: fs.describe(choices, 40),
                        error,
                        kept,
                    });
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// A run

/// One recorded migration and the checks of its crash states.
/// Which compaction a compaction run records.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compaction {
    /// `pmem::compact::compact::<v1::Bank>`.
    Typed,
    /// `pmem::compact::compact_untyped`, by the stored schema.
    Untyped,
}

impl Compaction {
    fn name(self) -> &'static str {
        match self {
            Compaction::Typed => "compaction",
            Compaction::Untyped => "untyped compaction",
        }
    }
}

pub(crate) struct Run {
    /// Compact the v1 pool instead of migrating it.
    pub(crate) compact: bool,
    /// How a compaction run compacts.
    pub(crate) how: Compaction,
    /// Migrate it with `pmem::migrate::auto` instead of the typed migration.
    pub(crate) auto: bool,
    /// The v1 pool was left crashed (its log holds the commits).
    pub(crate) crashed_v1: bool,
    pub(crate) fault: Option<Fault>,
    pub(crate) target: u64,
    pub(crate) stop_after: usize,
}

/// What a run found.
pub(crate) struct Found {
    pub(crate) line: String,
    pub(crate) states: u64,
    pub(crate) violations: Vec<Violation>,
    pub(crate) dirs: [PathBuf; 2],
}

fn has_returned(e: &Expect) -> bool {
    matches!(e, Expect::Workload(p) if p.last() == "migrate returned" || p.last() == "compact returned")
}

/// Checks the crash states of `ops` (replayed over `initial`): every mandatory point
/// with a cap fitted to `target`, then seeded random points until `target` states.
/// Answers the cap and the states at mandatory points.
fn check_states(ck: &mut Checker, ops: &[Op], initial: &Image, target: u64) -> (usize, u64) {
    let start = Expect::Workload(Progress::default());
    let cap = super::check::fit_cap(
        ops,
        initial,
        &start,
        SEED,
        super::MANDATORY,
        &super::CAPS,
        target,
    );
    let budget = Budget {
        cap,
        ..super::MANDATORY
    };
    walk(
        ops,
        initial,
        &Points::Mandatory,
        &start,
        SEED,
        &mut |fs, at, e, s| {
            ck.point(fs, at, has_returned(e), budget, s);
            !ck.done()
        },
    );
    let mandatory = ck.states;

    // Top up with seeded random crash points.
    let mut rng = SEED ^ 0x4d16;
    let mut rounds = 0;
    while ck.states < target && !ck.done() && rounds < 100 {
        let want = ((target - ck.states) / 5 + 1) as usize;
        let set: BTreeSet<usize> = (0..want)
            .map(|_| (next_rand(&mut rng) % ops.len() as u64) as usize)
            .collect();
        walk(
            ops,
            initial,
            &Points::Only(&set),
            &start,
            next_rand(&mut rng),
            &mut |fs, at, e, s| {
                ck.point(fs, at, has_returned(e), super::RANDOM_POINT, s);
                !ck.done()
            },
        );
        rounds += 1;
    }
    (cap, mandatory)
}

/// Records a migration and checks its crash states.
/// What the run's pool must hold once replaced, and the child's role.
fn plan(run: &Run, v1: &Contents) -> (Contents, String) {
    if run.compact {
        let how = if run.how == Compaction::Untyped {
            "untyped"
        } else {
            "none"
        };
        (v1.clone(), format!("compact:{how}"))
    } else if run.auto {
        (v1.auto_migrated(), "migrate:auto".to_owned())
    } else {
        (v1.migrated(), format!("migrate:{}", Fault::name(run.fault)))
    }
}

/// The name of a run's directories.
fn run_tag(run: &Run) -> String {
    let untyped = run.compact && run.how == Compaction::Untyped;
    format!(
        "{}{}{}{}-{}",
        if run.compact { "compact-" } else { "" },
        if untyped { "untyped-" } else { "" },
        if run.auto { "auto-" } else { "" },
        if run.crashed_v1 { "crashed" } else { "clean" },
        Fault::name(run.fault)
    )
}

pub(crate) fn run(run: &Run) -> Found {
    let t0 = Instant::now();
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let tag = run_tag(run);
    let dir = tmp.join(format!("power_loss-migrate-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (initial, v1) = build_v1(&dir.join("v1"), run.crashed_v1);
    let (v2, role) = plan(run, &v1);

    let work = dir.join("work");
    write_image(&work, &initial);
    let work = work.canonicalize().expect("the work directory");
    let (ops, _) = super::run_recorded(&role, &work, &dir.join("trace"));
    let recorded = t0.elapsed();
    assert!(
        ops.iter()
            .any(|o| matches!(o, Op::Rename { to, .. } if to == POOL)),
        "the recorded run renamed nothing over {POOL}"
    );

    let keep = tmp
        .join("power_loss-failures")
        .join(format!("migrate-{tag}"));
    let _ = std::fs::remove_dir_all(&keep);
    let scratch = super::scratch_root().join(format!(
        "pmem-powerloss-migrate-{}-{tag}",
        std::process::id()
    ));
    let mut ck = Checker {
        compact: run.compact,
        how: run.how,
        auto: run.auto,
        opts: options(),
        v1,
        v2,
        scratch: scratch.join("image"),
        keep_root: keep.clone(),
        states: 0,
        held: [0; 2],
        remigrated: [0; 2],
        stray: 0,
        violations: Vec::new(),
        stop_after: run.stop_after,
        build_time: Duration::ZERO,
        open_time: Duration::ZERO,
    };

    let (cap, mandatory) = check_states(&mut ck, &ops, &initial, run.target);
    let _ = std::fs::remove_dir_all(&scratch);
    if ck.violations.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let count = |f: &dyn Fn(&Op) -> bool| ops.iter().filter(|o| f(o)).count();
    let (what, old, new, again) = if run.compact {
        (
            run.how.name(),
            "the old pool",
            "the compacted one",
            "compacted",
        )
    } else {
        let what = if run.auto {
            "automatic migration"
        } else {
            "migration"
        };
        (what, "v1", "v2", "migrated")
    };
    let line = format!(
        "{what} powerloss states: {}, violations: {}  [{tag}: {} ops recorded in {:.1}s \
         ({} syncs, {} directory syncs, {} renames); {mandatory} states at syncs/markers/end \
         (cap {cap}) + {} at random points; {} held {old} (each {again} again; {} beside a \
         stray temporary file), {} held {new} ({} migrated again, refused); images written \
         in {:.1}s, opened in {:.1}s; {:.1}s in all]",
        ck.states,
        ck.violations.len(),
        ops.len(),
        recorded.as_secs_f64(),
        count(&|o| matches!(o, Op::Sync { .. } | Op::Msync { .. })),
        count(&|o| matches!(o, Op::DirSync { .. })),
        count(&|o| matches!(o, Op::Rename { .. })),
        ck.states - mandatory,
        ck.held[0],
        ck.stray,
        ck.held[1],
        ck.remigrated[1],
        ck.build_time.as_secs_f64(),
        ck.open_time.as_secs_f64(),
        t0.elapsed().as_secs_f64(),
    );
    Found {
        line,
        states: ck.states,
        violations: ck.violations,
        dirs: [dir, keep],
    }
}

/// The report of a run: its line and the first violations in full.
pub(crate) fn describe(found: &Found, shown: usize) -> String {
    use std::fmt::Write;
    let mut s = format!("{}\n", found.line);
    for v in found.violations.iter().take(shown) {
        let _ = writeln!(s, "violation at {}:\n    {}", v.at, v.error);
        if let Some(k) = &v.kept {
            let _ = writeln!(s, "    image kept in {}", k.display());
        }
        let _ = write!(
            s,
            "    pending ops ([A]pplied, [D]ropped, [T]orn):\n{}",
            v.pending
        );
    }
    s
}
