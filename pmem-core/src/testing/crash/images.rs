//! Crash images: the disk states a crash at each persistence point of a trace could
//! leave, under the media model of ARCHITECTURE §6.

use super::config::CrashConfig;
use crate::media::sim::{Event, FileId};

pub(super) struct Rng(pub(super) u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A file as a crash could leave it: `None` when its name does not exist.
pub(super) type Image = [Option<Vec<u8>>; 2];

/// One operation not yet covered by a sync (ARCHITECTURE §6: nothing survives power
/// loss unless a sync of that file, or of the directory for a name, covered it).
#[derive(Clone)]
enum Op {
    /// Bytes written (may be applied, dropped or torn at 512-byte sectors).
    Write {
        file: FileId,
        off: u64,
        data: Vec<u8>,
    },
    /// A new, empty file under the name: its old contents are gone in the new file.
    Fresh { file: FileId },
    /// A size change (growth, truncation, or a write past the end).
    Len { file: FileId, len: u64 },
    /// A name created or removed.
    Name { file: FileId, present: bool },
}

impl Op {
    fn file(&self) -> FileId {
        match *self {
            Op::Write { file, .. }
            | Op::Fresh { file }
            | Op::Len { file, .. }
            | Op::Name { file, .. } => file,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Applied,
    Dropped,
    /// Torn: sectors applied per the bits of a mask (seeded).
    Torn(u64),
}

/// What is durable: each file's bytes (its length is the durable size) and whether
/// its name exists.
#[derive(Clone)]
struct Durable {
    data: [Vec<u8>; 2],
    present: [bool; 2],
}

fn apply(img: &mut Vec<u8>, off: u64, data: &[u8]) {
    let end = off as usize + data.len();
    if img.len() < end {
        img.resize(end, 0);
    }
    img[off as usize..end].copy_from_slice(data);
}

fn apply_torn(img: &mut Vec<u8>, off: u64, data: &[u8], mask: u64) {
    let sector = crate::format::SECTOR;
    let mut at = off;
    let end = off + data.len() as u64;
    let mut i = 0u32;
    while at < end {
        let next = ((at / sector) + 1) * sector;
        let stop = next.min(end);
        if mask.rotate_right(i % 64) & 1 == 1 {
            let s = (at - off) as usize;
            apply(img, at, &data[s..s + (stop - at) as usize]);
        }
        at = stop;
        i += 1;
    }
}

/// The metadata choices of one image: per file, which size and which name state
/// survived (index 0: the durable one; k: the one after the k-th pending change).
#[derive(Clone, Copy, Default)]
struct Meta {
    len: [usize; 2],
    name: [usize; 2],
}

/// Per file, the candidate sizes and name states a crash could leave.
struct Candidates {
    len: [Vec<u64>; 2],
    name: [Vec<bool>; 2],
}

fn candidates(durable: &Durable, pending: &[Op]) -> Candidates {
    let mut len = [0, 1].map(|f| vec![durable.data[f].len() as u64]);
    let mut name = [0, 1].map(|f| vec![durable.present[f]]);
    let mut live = [0, 1].map(|f| durable.data[f].len() as u64);
    for op in pending {
        let f = op.file() as usize;
        match op {
            Op::Write { off, data, .. } => {
                let end = off + data.len() as u64;
                if end > live[f] {
                    live[f] = end;
                    len[f].push(end);
                }
            }
            Op::Fresh { .. } => {
                live[f] = 0;
                len[f].push(0);
            }
            Op::Len { len: l, .. } => {
                live[f] = *l;
                len[f].push(*l);
            }
            Op::Name { present, .. } => name[f].push(*present),
        }
    }
    Candidates { len, name }
}

fn latest(c: &Candidates) -> Meta {
    Meta {
        len: [0, 1].map(|f| c.len[f].len() - 1),
        name: [0, 1].map(|f| c.name[f].len() - 1),
    }
}

/// Builds an image: durable bytes, then each pending write per its fate (a fresh file
/// starts empty), then each file cut or zero-extended to its chosen size; a file whose
/// chosen name state is absent is missing.
fn build(durable: &Durable, pending: &[Op], fates: &[Fate], c: &Candidates, m: Meta) -> Image {
    let mut data = durable.data.clone();
    let mut w = 0;
    for op in pending {
        match op {
            Op::Write { file, off, data: d } => {
                let img = &mut data[*file as usize];
                match fates[w] {
                    Fate::Applied => apply(img, *off, d),
                    Fate::Dropped => {}
                    Fate::Torn(mask) => apply_torn(img, *off, d, mask),
                }
                w += 1;
            }
            Op::Fresh { file } => data[*file as usize].clear(),
            Op::Len { .. } | Op::Name { .. } => {}
        }
    }
    let mut out: Image = [None, None];
    for f in 0..2 {
        if c.name[f][m.name[f]] {
            let mut d = std::mem::take(&mut data[f]);
            d.resize(c.len[f][m.len[f]] as usize, 0);
            out[f] = Some(d);
        }
    }
    out
}

/// The fate combinations to try for `n` unsynced writes.
fn combinations(n: usize, cfg: &CrashConfig, rng: &mut Rng) -> Vec<Vec<Fate>> {
    let mut out = Vec::new();
    if n == 0 {
        return vec![Vec::new()];
    }
    if n <= cfg.exhaustive_limit {
        let total = 3usize.pow(n as u32);
        for mut k in 0..total {
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(match k % 3 {
                    0 => Fate::Applied,
                    1 => Fate::Dropped,
                    _ => Fate::Torn(rng.next()),
                });
                k /= 3;
            }
            out.push(v);
        }
        return out;
    }
    let all = |f: Fate| vec![f; n];
    out.push(all(Fate::Applied));
    out.push(all(Fate::Dropped));
    for i in 0..n {
        let mut v = all(Fate::Applied);
        v[i] = Fate::Dropped;
        out.push(v.clone());
        v[i] = Fate::Torn(rng.next());
        out.push(v);
        let mut w = all(Fate::Dropped);
        w[i] = Fate::Applied;
        out.push(w);
    }
    let pairs = n * (n - 1) / 2;
    for k in 0..pairs.min(cfg.max_pairs) {
        let (i, j) = if pairs <= cfg.max_pairs {
            let mut i = 0;
            let mut rem = k;
            while rem >= n - 1 - i {
                rem -= n - 1 - i;
                i += 1;
            }
            (i, i + 1 + rem)
        } else {
            let i = rng.below(n as u64) as usize;
            let j = (i + 1 + rng.below(n as u64 - 1) as usize) % n;
            (i.min(j), i.max(j))
        };
        let mut v = all(Fate::Applied);
        v[i] = Fate::Dropped;
        v[j] = Fate::Dropped;
        out.push(v);
        let mut w = all(Fate::Dropped);
        w[i] = Fate::Applied;
        w[j] = Fate::Applied;
        out.push(w);
    }
    for _ in 0..cfg.random_images {
        out.push(
            (0..n)
                .map(|_| match rng.below(3) {
                    0 => Fate::Applied,
                    1 => Fate::Dropped,
                    _ => Fate::Torn(rng.next()),
                })
                .collect(),
        );
    }
    out
}

/// The metadata choices to pair with the fate combinations: for all-applied, the
/// latest state; for all-dropped, the durable one; then, with every write applied,
/// each file's size and name at each earlier candidate in turn; other combinations
/// get seeded random choices.
fn images_at(durable: &Durable, pending: &[Op], cfg: &CrashConfig, rng: &mut Rng) -> Vec<Image> {
    let c = candidates(durable, pending);
    let writes = pending
        .iter()
        .filter(|o| matches!(o, Op::Write { .. }))
        .count();
    let top = latest(&c);
    let mut out = Vec::new();
    for fates in combinations(writes, cfg, rng) {
        let m = if fates.iter().all(|f| *f == Fate::Applied) {
            top
        } else if fates.iter().all(|f| *f == Fate::Dropped) {
            Meta::default()
        } else {
            Meta {
                len: [0, 1].map(|f| rng.below(c.len[f].len() as u64) as usize),
                name: [0, 1].map(|f| rng.below(c.name[f].len() as u64) as usize),
            }
        };
        out.push(build(durable, pending, &fates, &c, m));
    }
    let applied = vec![Fate::Applied; writes];
    for f in 0..2 {
        for k in 0..top.len[f] {
            let mut m = top;
            m.len[f] = k;
            out.push(build(durable, pending, &applied, &c, m));
        }
        for k in 0..top.name[f] {
            let mut m = top;
            m.name[f] = k;
            out.push(build(durable, pending, &applied, &c, m));
        }
    }
    out
}

/// Calls `visit(image, process_crash, acked)` for each crash image of `trace` starting
/// from `base`.
pub(super) fn for_each_image(
    base: Image,
    trace: &[Event],
    cfg: &CrashConfig,
    rng: &mut Rng,
    mut visit: impl FnMut(Image, bool, u64) -> std::result::Result<(), String>,
) -> std::result::Result<u64, String> {
    let mut durable = Durable {
        present: [base[0].is_some(), base[1].is_some()],
        data: base.map(Option::unwrap_or_default),
    };
    let mut pending: Vec<Op> = Vec::new();
    let mut acked = 0u64;
    let mut points = 0u64;
    let mut point = |durable: &Durable, pending: &[Op], acked: u64, rng: &mut Rng| {
        points += 1;
        let c = candidates(durable, pending);
        let all = vec![Fate::Applied; pending.len()];
        visit(build(durable, pending, &all, &c, latest(&c)), true, acked)?;
        let mut first = true;
        for img in images_at(durable, pending, cfg, rng) {
            if std::mem::take(&mut first) {
                continue; // the all-applied image, visited above as the process crash
            }
            visit(img, false, acked)?;
        }
        Ok::<(), String>(())
    };
    for ev in trace {
        match ev {
            Event::Write { file, off, data } => pending.push(Op::Write {
                file: *file,
                off: *off,
                data: data.clone(),
            }),
            Event::Grow { file, len } | Event::Shrink { file, len } => pending.push(Op::Len {
                file: *file,
                len: *len,
            }),
            Event::Create { file } => {
                pending.push(Op::Fresh { file: *file });
                pending.push(Op::Name {
                    file: *file,
                    present: true,
                });
            }
            Event::Remove { file } => pending.push(Op::Name {
                file: *file,
                present: false,
            }),
            Event::Sync { file } => {
                point(&durable, &pending, acked, rng)?;
                let f = *file as usize;
                let (mine, rest): (Vec<Op>, Vec<Op>) = pending
                    .drain(..)
                    .partition(|o| o.file() == *file && !matches!(o, Op::Name { .. }));
                for op in mine {
                    match op {
                        Op::Write { off, data, .. } => apply(&mut durable.data[f], off, &data),
                        Op::Fresh { .. } => durable.data[f].clear(),
                        Op::Len { len, .. } => durable.data[f].resize(len as usize, 0),
                        Op::Name { .. } => unreachable!("names are synced with the directory"),
                    }
                }
                pending = rest;
            }
            Event::SyncDir => {
                point(&durable, &pending, acked, rng)?;
                let (names, rest): (Vec<Op>, Vec<Op>) = pending
                    .drain(..)
                    .partition(|o| matches!(o, Op::Name { .. }));
                for op in names {
                    if let Op::Name { file, present } = op {
                        durable.present[file as usize] = present;
                    }
                }
                pending = rest;
            }
            Event::Mark(m) => {
                acked = *m;
                point(&durable, &pending, acked, rng)?;
            }
        }
    }
    point(&durable, &pending, acked, rng)?;
    Ok(points)
}
