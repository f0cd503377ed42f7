//! Crash states of a recorded trace under the strict POSIX rules (DESIGN §9; the media
//! model of `docs/ARCHITECTURE.md` §6).
//!
//! [`Fs`] replays a trace op by op and keeps, for every file (inode), its *durable*
//! contents and, for the directory, its *durable* entries. Everything else is a
//! *pending* item, in trace order:
//!
//! - a data write survives power loss only after an fsync/fdatasync of that file (or an
//!   msync covering it, for the part it covers);
//! - a size change (ftruncate, fallocate, a write past the end) likewise only after an
//!   fsync/fdatasync of that file;
//! - a directory entry change (create, link, unlink, rename) only after an fsync of the
//!   directory;
//! - anything pending may be lost, land in any subset, or (a write) be torn at 512-byte
//!   sectors: any subset of its sectors lands.
//!
//! An image picks a [`Choice`] per pending item and applies the chosen ones, in trace
//! order, over the durable state: applying in order models a disk that writes the
//! latest page-cache contents, so a later write to the same bytes wins whenever both
//! land. "Everything applied" is the image a process crash leaves (the page cache
//! survives); every image is one a power loss may leave.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use super::trace::Op;

/// Sector size: the unit a write may tear at (ARCHITECTURE §6).
pub(crate) const SECTOR: u64 = 512;

/// What became of one pending item in an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Choice {
    /// Landed whole.
    Apply,
    /// Lost.
    Drop,
    /// A write of which a seeded subset of sectors landed (never all, never none).
    Torn(u64),
}

impl Choice {
    fn letter(self) -> char {
        match self {
            Choice::Apply => 'A',
            Choice::Drop => 'D',
            Choice::Torn(_) => 'T',
        }
    }
}

/// A change of the directory, pending until the directory is synced.
#[derive(Clone, Debug)]
pub(crate) enum DirChange {
    /// `name` now names `inode` (create, link).
    Add { name: String, inode: usize },
    /// `name` no longer names anything.
    Remove { name: String },
    /// `from` moved to `to` (rename).
    Move {
        from: String,
        to: String,
        inode: usize,
    },
}

/// One pending item: op `op` of the trace, not yet durable.
#[derive(Clone, Debug)]
pub(crate) struct Item {
    /// Index of the op in the trace.
    pub(crate) op: usize,
    /// What the item changes.
    pub(crate) kind: ItemKind,
}

/// What a pending item changes.
#[derive(Clone, Debug)]
pub(crate) enum ItemKind {
    /// A data or size change of `inode`; for a write, only bytes `lo..hi` of the file
    /// are still pending (an msync may have made the rest durable).
    File { inode: usize, lo: u64, hi: u64 },
    /// A directory entry change.
    Dir(DirChange),
}

/// The files of a directory replayed up to some op of a trace.
pub(crate) struct Fs<'a> {
    ops: &'a [Op],
    /// Durable contents (and size) of every inode ever seen.
    durable: Vec<Vec<u8>>,
    durable_names: BTreeMap<String, usize>,
    /// The names as the process sees them (everything applied).
    names: BTreeMap<String, usize>,
    /// Not yet durable, in trace order.
    pub(crate) pending: Vec<Item>,
    /// Ops replayed so far.
    pub(crate) next_op: usize,
}

/// An image: file names and their contents.
pub(crate) type Image = Vec<(String, Vec<u8>)>;

impl<'a> Fs<'a> {
    /// A directory holding `initial` (all durable), about to replay `ops`.
    pub(crate) fn new(ops: &'a [Op], initial: &[(String, Vec<u8>)]) -> Self {
        let mut fs = Fs {
            ops,
            durable: Vec::new(),
            durable_names: BTreeMap::new(),
            names: BTreeMap::new(),
            pending: Vec::new(),
            next_op: 0,
        };
        for (name, bytes) in initial {
            fs.durable.push(bytes.clone());
            fs.durable_names.insert(name.clone(), fs.durable.len() - 1);
            fs.names.insert(name.clone(), fs.durable.len() - 1);
        }
        fs
    }

    fn inode_of(&self, name: &str, i: usize) -> Result<usize, String> {
        self.names
            .get(name)
            .copied()
            .ok_or_else(|| format!("op {i} ({}) names a file that does not exist", self.ops[i]))
    }

    /// Replays the next op of the trace.
    pub(crate) fn apply_next(&mut self) -> Result<(), String> {
        let i = self.next_op;
        self.next_op += 1;
        match &self.ops[i] {
            Op::Create { name } => {
                self.durable.push(Vec::new());
                let inode = self.durable.len() - 1;
                self.names.insert(name.clone(), inode);
                self.push_dir(
                    i,
                    DirChange::Add {
                        name: name.clone(),
                        inode,
                    },
                );
            }
            Op::Write { name, off, data } => {
                let inode = self.inode_of(name, i)?;
                self.pending.push(Item {
                    op: i,
                    kind: ItemKind::File {
                        inode,
                        lo: *off,
                        hi: off + data.len() as u64,
                    },
                });
            }
            Op::SetSize { name, .. } | Op::Falloc { name, .. } => {
                let inode = self.inode_of(name, i)?;
                self.pending.push(Item {
                    op: i,
                    kind: ItemKind::File {
                        inode,
                        lo: 0,
                        hi: 0,
                    },
                });
            }
            Op::Sync { name, .. } => {
                let inode = self.inode_of(name, i)?;
                self.settle(|k| matches!(k, ItemKind::File { inode: n, .. } if *n == inode));
            }
            Op::DirSync { name } => {
                // Only the recorded directory itself holds files of the workload.
                if name.is_empty() {
                    self.settle(|k| matches!(k, ItemKind::Dir(_)));
                }
            }
            Op::SyncAll => self.settle(|_| true),
            Op::Link { from, to } => {
                let inode = self.inode_of(from, i)?;
                self.names.insert(to.clone(), inode);
                self.push_dir(
                    i,
                    DirChange::Add {
                        name: to.clone(),
                        inode,
                    },
                );
            }
            Op::Rename { from, to } => {
                let inode = self.inode_of(from, i)?;
                self.names.remove(from);
                self.names.insert(to.clone(), inode);
                self.push_dir(
                    i,
                    DirChange::Move {
                        from: from.clone(),
                        to: to.clone(),
                        inode,
                    },
                );
            }
            Op::Unlink { name } => {
                self.inode_of(name, i)?;
                self.names.remove(name);
                self.push_dir(i, DirChange::Remove { name: name.clone() });
            }
            Op::Msync { name, off, len } => {
                let inode = self.inode_of(name, i)?;
                self.msync(inode, *off, off + len);
            }
            Op::SyncFileRange { .. } | Op::Marker(_) => {}
        }
        Ok(())
    }

    fn push_dir(&mut self, op: usize, c: DirChange) {
        self.pending.push(Item {
            op,
            kind: ItemKind::Dir(c),
        });
    }

    /// Makes every pending item matching `pick` durable, in order.
    fn settle(&mut self, pick: impl Fn(&ItemKind) -> bool) {
        let items = std::mem::take(&mut self.pending);
        for item in items {
            if pick(&item.kind) {
                match &item.kind {
                    ItemKind::File { inode, .. } => {
                        let mut d = std::mem::take(&mut self.durable[*inode]);
                        apply_file(self.ops, &item, Choice::Apply, &mut d);
                        self.durable[*inode] = d;
                    }
                    ItemKind::Dir(c) => apply_dir(c, &mut self.durable_names),
                }
            } else {
                self.pending.push(item);
            }
        }
    }

    /// Makes the parts of `inode`'s pending writes inside `lo..hi` durable.
    fn msync(&mut self, inode: usize, lo: u64, hi: u64) {
        let items = std::mem::take(&mut self.pending);
        for item in items {
            let ItemKind::File {
                inode: n,
                lo: a,
                hi: b,
            } = item.kind
            else {
                self.pending.push(item);
                continue;
            };
            if n != inode || !matches!(self.ops[item.op], Op::Write { .. }) || b <= lo || a >= hi {
                self.pending.push(item);
                continue;
            }
            let (s, e) = (a.max(lo), b.min(hi));
            let inside = Item {
                op: item.op,
                kind: ItemKind::File {
                    inode,
                    lo: s,
                    hi: e,
                },
            };
            let mut d = std::mem::take(&mut self.durable[inode]);
            apply_file(self.ops, &inside, Choice::Apply, &mut d);
            self.durable[inode] = d;
            for (x, y) in [(a, s), (e, b)] {
                if x < y {
                    self.pending.push(Item {
                        op: item.op,
                        kind: ItemKind::File {
                            inode,
                            lo: x,
                            hi: y,
                        },
                    });
                }
            }
        }
    }

    /// The names of the image left when each pending item fares as `choices` says.
    fn image_names(&self, choices: &[Choice]) -> BTreeMap<String, usize> {
        assert_eq!(choices.len(), self.pending.len());
        let mut names = self.durable_names.clone();
        for (item, &c) in self.pending.iter().zip(choices) {
            if let (ItemKind::Dir(d), Choice::Apply | Choice::Torn(_)) = (&item.kind, c) {
                apply_dir(d, &mut names);
            }
        }
        names
    }

    /// The image left when each pending item fares as `choices` says.
    pub(crate) fn image(&self, choices: &[Choice]) -> Image {
        let mut contents: HashMap<usize, Vec<u8>> = HashMap::new();
        let mut out = Vec::new();
        for (name, inode) in self.image_names(choices) {
            let bytes = contents.entry(inode).or_insert_with(|| {
                let mut d = self.durable[inode].clone();
                for (item, &c) in self.pending.iter().zip(choices) {
                    if matches!(item.kind, ItemKind::File { inode: n, .. } if n == inode) {
                        apply_file(self.ops, item, c, &mut d);
                    }
                }
                d
            });
            out.push((name, bytes.clone()));
        }
        out
    }

    /// Writes the image `choices` gives into the empty directory `dir` without building
    /// it in memory: each file's durable bytes, then its chosen pending changes as
    /// writes and size changes, in order. Answers the bytes written.
    pub(crate) fn write_image(
        &self,
        choices: &[Choice],
        dir: &std::path::Path,
    ) -> std::io::Result<u64> {
        use std::os::unix::fs::FileExt;
        let mut first: HashMap<usize, String> = HashMap::new();
        let mut bytes = 0;
        for (name, inode) in self.image_names(choices) {
            let path = dir.join(&name);
            if let Some(other) = first.get(&inode) {
                std::fs::hard_link(dir.join(other), &path)?;
                continue;
            }
            first.insert(inode, name);
            let f = std::fs::File::create(&path)?;
            let d = &self.durable[inode];
            let mut len = 0;
            bytes += write_sparse(&f, d, 0, &mut len)?;
            for (item, &c) in self.pending.iter().zip(choices) {
                if c == Choice::Drop
                    || !matches!(item.kind, ItemKind::File { inode: n, .. } if n == inode)
                {
                    continue;
                }
                let ItemKind::File { lo, hi, .. } = item.kind else {
                    unreachable!()
                };
                match &self.ops[item.op] {
                    Op::Write { off, data, .. } => {
                        let pieces = match c {
                            Choice::Torn(seed) => torn_pieces(lo, hi, seed),
                            _ => vec![(lo, hi)],
                        };
                        for (a, b) in pieces {
                            bytes += write_sparse(
                                &f,
                                &data[(a - off) as usize..(b - off) as usize],
                                a,
                                &mut len,
                            )?;
                        }
                    }
                    Op::SetSize { size, .. } => {
                        f.set_len(*size)?;
                        len = *size;
                    }
                    Op::Falloc {
                        mode, off, len: n, ..
                    } => {
                        let (zero, new_len) = falloc_effect(*mode, *off, *n, len);
                        if let Some((x, y)) = zero {
                            f.write_all_at(&vec![0u8; (y - x) as usize], x)?;
                        }
                        if new_len != len {
                            f.set_len(new_len)?;
                            len = new_len;
                        }
                    }
                    other => unreachable!("{other} is not a file change"),
                }
            }
        }
        Ok(bytes)
    }

    /// One line per pending item with its choice, for violation reports.
    pub(crate) fn describe(&self, choices: &[Choice], max: usize) -> String {
        let mut s = String::new();
        for (k, (item, c)) in self.pending.iter().zip(choices).enumerate() {
            if k == max {
                let _ = writeln!(s, "      ... {} more pending", self.pending.len() - max);
                break;
            }
            let part = match item.kind {
                ItemKind::File { lo, hi, .. }
                    if hi > lo && matches!(self.ops[item.op], Op::Write { .. }) =>
                {
                    let Op::Write { off, data, .. } = &self.ops[item.op] else {
                        unreachable!()
                    };
                    if lo != *off || hi != off + data.len() as u64 {
                        format!(" (bytes {lo:#x}..{hi:#x} pending)")
                    } else {
                        String::new()
                    }
                }
                _ => String::new(),
            };
            let seed = match c {
                Choice::Torn(seed) => format!(" seed {seed:#x}"),
                _ => String::new(),
            };
            let _ = writeln!(
                s,
                "      [{}{seed}] #{} {}{part}",
                c.letter(),
                item.op,
                self.ops[item.op]
            );
        }
        s
    }
}

/// Can this pending item be torn (a write covering more than one sector)?
fn tearable(item: &Item) -> bool {
    match item.kind {
        ItemKind::File { lo, hi, .. } if hi > lo => (hi - 1) / SECTOR > lo / SECTOR,
        _ => false,
    }
}

fn apply_dir(c: &DirChange, names: &mut BTreeMap<String, usize>) {
    match c {
        DirChange::Add { name, inode } => {
            names.insert(name.clone(), *inode);
        }
        DirChange::Remove { name } => {
            names.remove(name);
        }
        DirChange::Move { from, to, inode } => {
            names.remove(from);
            names.insert(to.clone(), *inode);
        }
    }
}

fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The sector pieces of a torn write `lo..hi` that land, for `seed`: a proper,
/// non-empty subset when there are at least two pieces.
pub(crate) fn torn_pieces(lo: u64, hi: u64, seed: u64) -> Vec<(u64, u64)> {
    let mut pieces = Vec::new();
    let mut s = lo;
    while s < hi {
        let e = ((s / SECTOR) + 1) * SECTOR;
        pieces.push((s, e.min(hi)));
        s = e.min(hi);
    }
    let mut x = seed;
    let mut keep: Vec<bool> = pieces.iter().map(|_| splitmix(&mut x) & 1 == 1).collect();
    if pieces.len() >= 2 {
        if keep.iter().all(|&k| k) {
            let i = (splitmix(&mut x) % pieces.len() as u64) as usize;
            keep[i] = false;
        }
        if keep.iter().all(|&k| !k) {
            let i = (splitmix(&mut x) % pieces.len() as u64) as usize;
            keep[i] = true;
        }
    }
    pieces
        .into_iter()
        .zip(keep)
        .filter_map(|(p, k)| k.then_some(p))
        .collect()
}

fn put(d: &mut Vec<u8>, at: u64, bytes: &[u8]) {
    let end = at as usize + bytes.len();
    if d.len() < end {
        d.resize(end, 0);
    }
    d[at as usize..end].copy_from_slice(bytes);
}

/// Writes `data` at `at` into a file of `*len` bytes, skipping the all-zero 4 KiB
/// blocks past its end (they read back as zeros once the size covers them). Most of a
/// pool and its log is zeros; images are written tens of thousands of times. Answers
/// the bytes written.
fn write_sparse(f: &std::fs::File, data: &[u8], at: u64, len: &mut u64) -> std::io::Result<u64> {
    use std::os::unix::fs::FileExt;
    const BLOCK: u64 = 4096;
    static ZEROS: [u8; BLOCK as usize] = [0; BLOCK as usize];
    let end = at + data.len() as u64;
    let mut written = 0;
    let mut a = at;
    while a < end {
        let b = ((a / BLOCK + 1) * BLOCK).min(end);
        // A run of blocks to write: stop before a zero block past the end.
        let mut e = a;
        loop {
            let (x, y) = (e, ((e / BLOCK + 1) * BLOCK).min(end));
            let chunk = &data[(x - at) as usize..(y - at) as usize];
            if x >= *len && chunk == &ZEROS[..chunk.len()] {
                break;
            }
            e = y;
            if e >= end {
                break;
            }
        }
        if e > a {
            f.write_all_at(&data[(a - at) as usize..(e - at) as usize], a)?;
            written += e - a;
            a = e;
        } else {
            a = b;
        }
    }
    if end > *len {
        f.set_len(end)?;
        *len = end;
    }
    Ok(written)
}

/// What fallocate(`mode`, `off`, `len`) does to a file of `size` bytes: the range it
/// zeroes (punch hole, zero range) and the new size.
fn falloc_effect(mode: u32, off: u64, len: u64, size: u64) -> (Option<(u64, u64)>, u64) {
    const KEEP_SIZE: u32 = 0x01;
    const PUNCH_HOLE: u32 = 0x02;
    const ZERO_RANGE: u32 = 0x10;
    assert!(
        mode & !(KEEP_SIZE | PUNCH_HOLE | ZERO_RANGE) == 0,
        "fallocate mode {mode:#x} is not modelled"
    );
    let end = off + len;
    let zero = (mode & (PUNCH_HOLE | ZERO_RANGE) != 0 && off < end.min(size))
        .then(|| (off, end.min(size)));
    let new_size = if mode & KEEP_SIZE == 0 {
        size.max(end)
    } else {
        size
    };
    (zero, new_size)
}

/// Applies one pending file item (whole, torn, or not at all) to contents `d`.
fn apply_file(ops: &[Op], item: &Item, c: Choice, d: &mut Vec<u8>) {
    if c == Choice::Drop {
        return;
    }
    let ItemKind::File { lo, hi, .. } = item.kind else {
        return;
    };
    match &ops[item.op] {
        Op::Write { off, data, .. } => {
            let slice = |a: u64, b: u64| &data[(a - off) as usize..(b - off) as usize];
            match c {
                Choice::Torn(seed) => {
                    for (a, b) in torn_pieces(lo, hi, seed) {
                        put(d, a, slice(a, b));
                    }
                }
                _ => put(d, lo, slice(lo, hi)),
            }
        }
        Op::SetSize { size, .. } => d.resize(*size as usize, 0),
        Op::Falloc { mode, off, len, .. } => {
            let (zero, new_len) = falloc_effect(*mode, *off, *len, d.len() as u64);
            if let Some((x, y)) = zero {
                d[x as usize..y as usize].fill(0);
            }
            d.resize(new_len as usize, 0);
        }
        other => unreachable!("{other} is not a file change"),
    }
}

/// How many images to build at one crash point.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Budget {
    /// Every combination when there are at most this many pending items (and the
    /// combinations fit in `cap`).
    pub(crate) exhaustive_limit: usize,
    /// Torn variants (seeds) of each tearable write.
    pub(crate) tears: usize,
    /// Pairwise deviations at most (sampled beyond).
    pub(crate) max_pairs: usize,
    /// Seeded random combinations.
    pub(crate) random: usize,
    /// Images at most; "all applied" and "all dropped" are always kept.
    pub(crate) cap: usize,
}

/// The choices each pending item has: applied, dropped, and (a write over more than
/// one sector) `tears` seeded tears.
fn options(fs: &Fs<'_>, x: &mut u64, tears: usize) -> Vec<Vec<Choice>> {
    fs.pending
        .iter()
        .map(|item| {
            let mut o = vec![Choice::Apply, Choice::Drop];
            if tearable(item) {
                o.extend((0..tears).map(|_| Choice::Torn(splitmix(x))));
            }
            o
        })
        .collect()
}

/// Every combination of `opts`, "all applied" first.
fn all_combinations(opts: &[Vec<Choice>]) -> Vec<Vec<Choice>> {
    let mut out = vec![Vec::new()];
    for o in opts {
        out = out
            .into_iter()
            .flat_map(|v| {
                o.iter().map(move |&c| {
                    let mut v = v.clone();
                    v.push(c);
                    v
                })
            })
            .collect();
    }
    out
}

/// "Everything `base`" except the listed items.
struct Deviation {
    base: Choice,
    except: Vec<(usize, Choice)>,
}

/// Every single deviation from "all applied" and "all dropped", and pairwise ones
/// (sampled beyond `max_pairs` pairs).
fn deviations(opts: &[Vec<Choice>], max_pairs: usize, x: &mut u64) -> Vec<Deviation> {
    let n = opts.len();
    let mut out = Vec::new();
    for (i, o) in opts.iter().enumerate() {
        for base in [Choice::Apply, Choice::Drop] {
            for &c in o.iter().filter(|&&c| c != base) {
                out.push(Deviation {
                    base,
                    except: vec![(i, c)],
                });
            }
        }
    }
    let mut pairs = Vec::new();
    if n * n.saturating_sub(1) / 2 <= max_pairs {
        for i in 0..n {
            pairs.extend((i + 1..n).map(|j| (i, j)));
        }
    } else {
        for _ in 0..max_pairs {
            let i = (splitmix(x) % n as u64) as usize;
            let j = (splitmix(x) % n as u64) as usize;
            if i != j {
                pairs.push((i.min(j), i.max(j)));
            }
        }
    }
    for (i, j) in pairs {
        for (base, dev) in [(Choice::Apply, Choice::Drop), (Choice::Drop, Choice::Apply)] {
            out.push(Deviation {
                base,
                except: vec![(i, dev), (j, dev)],
            });
        }
    }
    out
}

/// A seeded random combination: each item applied or dropped (40% each) or torn.
fn random_combination(opts: &[Vec<Choice>], x: &mut u64) -> Vec<Choice> {
    opts.iter()
        .map(|o| {
            let r = splitmix(x) % 10;
            if r < 4 || (o.len() == 2 && r >= 8) {
                Choice::Apply
            } else if r < 8 {
                Choice::Drop
            } else {
                o[2 + (splitmix(x) % (o.len() as u64 - 2)) as usize]
            }
        })
        .collect()
}

/// The choice vectors of the images to build at a crash point: all combinations when
/// few items are pending; otherwise "all applied" (the process-crash image, always
/// first), "all dropped", and a seeded sample (up to the cap) of every single deviation
/// from both, pairwise deviations and random combinations.
pub(crate) fn choice_sets(fs: &Fs<'_>, seed: u64, budget: Budget) -> Vec<Vec<Choice>> {
    let n = fs.pending.len();
    let mut x = seed;
    let opts = options(fs, &mut x, budget.tears);
    let product = opts
        .iter()
        .try_fold(1usize, |p, o| p.checked_mul(o.len()))
        .unwrap_or(usize::MAX);
    if n <= budget.exhaustive_limit && product <= budget.cap.max(1) {
        return all_combinations(&opts);
    }
    let devs = deviations(&opts, budget.max_pairs, &mut x);
    let randoms: Vec<Vec<Choice>> = (0..budget.random)
        .map(|_| random_combination(&opts, &mut x))
        .collect();
    // A seeded sample of the candidates when there are more than the cap allows.
    let mut pick: Vec<usize> = (0..devs.len() + randoms.len()).collect();
    let room = budget.cap.saturating_sub(2).min(pick.len());
    for i in 0..room {
        let j = i + (splitmix(&mut x) % (pick.len() - i) as u64) as usize;
        pick.swap(i, j);
    }
    pick.truncate(room);
    let mut out = vec![vec![Choice::Apply; n], vec![Choice::Drop; n]];
    let mut unique: std::collections::HashSet<Vec<Choice>> = out.iter().cloned().collect();
    for k in pick {
        let v = if k < devs.len() {
            let d = &devs[k];
            let mut v = vec![d.base; n];
            for &(i, c) in &d.except {
                v[i] = c;
            }
            v
        } else {
            randoms[k - devs.len()].clone()
        };
        if unique.insert(v.clone()) {
            out.push(v);
        }
    }
    out
}
