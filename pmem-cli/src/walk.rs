//! The type-aware walk behind `check` and `stats`: from the root, through every owning
//! pointer and collection the stored schema describes, claiming each allocation reached.
//!
//! A claim must name the start of a live allocation at least as large as what is stored
//! there, and no allocation may be claimed twice; after the walk, every live allocation
//! not claimed (except the pool's own schema record) has leaked. Collections are read
//! by `pmem_collections::inspect`, which also checks their lengths against their contents.
//! Non-owning `PPtr`s must point into a live allocation of the same pool; one that does
//! not is a warning (a `PPtr` does not keep its target alive, so it may dangle by design).
//!
//! The walk is a loop over an explicit stack, so a list a million boxes long needs no
//! deep recursion; paths are kept as parent links and spelled out only for a problem.

use std::collections::HashMap;
use std::fmt::Write as _;

use indicatif::ProgressBar;
use pmem_collections::inspect::{Allocation, CollectionKind};

use crate::pool::Pool;
use crate::progress::Progress;
use crate::schema::Shape;

/// What an allocation holds, for the space-by-type table.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Role {
    /// The root object.
    Root,
    /// The target of a `PBox` of this type.
    Value,
    /// The buffer, table or nodes of a collection of this type.
    Storage(CollectionKind),
}

/// Allocations and bytes of one kind.
#[derive(Clone, Copy, Default)]
pub(crate) struct Usage {
    pub(crate) count: u64,
    pub(crate) bytes: u64,
}

/// What the walk found.
#[derive(Default)]
pub(crate) struct Report {
    /// Each problem, with the path of the value that has it.
    pub(crate) problems: Vec<String>,
    /// Dangling or foreign `PPtr`s and parts the walk could not read.
    pub(crate) warnings: Vec<String>,
    /// Live allocations (from the allocator).
    pub(crate) allocations: Usage,
    /// Allocations reached from the root.
    pub(crate) reached: Usage,
    /// Allocations no one owns.
    pub(crate) leaked: Usage,
    /// The schema record.
    pub(crate) schema: Usage,
    /// Reached allocations by (type, role).
    pub(crate) by_type: Vec<(String, Usage)>,
    /// Whether the allocator's own check passed (the walk needs it).
    pub(crate) heap_ok: bool,
}

#[derive(Clone)]
enum Seg<'a> {
    Root,
    Field(&'a str),
    Index(u64),
    /// A map entry, named by its key (at this offset, of this type) when it is readable.
    Key(u64, usize, u64),
}

struct Walk<'a> {
    pool: &'a Pool,
    allocs: Vec<Allocation>,
    owner: Vec<u32>,
    paths: Vec<(u32, Seg<'a>)>,
    usage: HashMap<(usize, Role), Usage>,
    stack: Vec<(u64, usize, u32)>,
    report: Report,
    progress: ProgressBar,
}

const NOBODY: u32 = u32::MAX;
const SCHEMA_RECORD: u32 = u32::MAX - 1;

/// Walks the pool from its root.
pub(crate) fn walk(pool: &Pool, progress: Progress) -> Report {
    let mut report = Report::default();
    let mut allocs = match pool.ins.check_heap() {
        Ok(a) => a,
        Err(e) => {
            report.problems.push(format!("allocator: {e}"));
            return report;
        }
    };
    report.heap_ok = true;
    allocs.sort_unstable_by_key(|a| a.offset);
    for a in &allocs {
        report.allocations.count += 1;
        report.allocations.bytes += a.size;
    }
    let progress = progress.bar(allocs.len() as u64);
    let mut w = Walk {
        pool,
        owner: vec![NOBODY; allocs.len()],
        allocs,
        paths: vec![(0, Seg::Root)],
        usage: HashMap::new(),
        stack: Vec::new(),
        report,
        progress,
    };
    let schema_off = pool.ins.schema_offset();
    if let Ok(i) = w.allocs.binary_search_by_key(&schema_off, |a| a.offset) {
        w.owner[i] = SCHEMA_RECORD;
        w.report.schema = Usage {
            count: 1,
            bytes: w.allocs[i].size,
        };
    }
    let (root, rt) = (pool.ins.root_offset(), pool.schema.root);
    let header = pool.ins.info().root_type;
    let stored = &pool.schema.types[rt];
    if u64::from_str_radix(&stored.fingerprint, 16).ok() != Some(header.fingerprint)
        || pool.ins.root_size() != stored.size
    {
        let what = format!(
            "the stored schema describes {} ({} bytes), the header {header} ({} bytes)",
            stored.name,
            stored.size,
            pool.ins.root_size()
        );
        w.report.problems.push(format!("root: {what}"));
    }
    if root == 0 {
        w.report
            .problems
            .push("root: the pool has no root object".into());
    } else if w.claim(root, pool.schema.types[rt].size.max(1), (rt, Role::Root), 0) {
        w.stack.push((root, rt, 0));
    }
    while let Some((off, t, path)) = w.stack.pop() {
        w.visit(off, t, path);
    }
    w.progress.finish_and_clear();
    w.finish()
}

impl<'a> Walk<'a> {
    fn path(&mut self, parent: u32, seg: Seg<'a>) -> u32 {
        self.paths.push((parent, seg));
        (self.paths.len() - 1) as u32
    }

    /// `root.accounts[7].history`, with the middle of very long paths left out.
    fn spell(&self, mut id: u32) -> String {
        let pool = self.pool;
        let mut segs = Vec::new();
        while id != 0 {
            segs.push(&self.paths[id as usize].1);
            id = self.paths[id as usize].0;
        }
        segs.reverse();
        let text = |s: &Seg<'_>| match s {
            Seg::Root => String::new(),
            Seg::Field(f) => format!(".{f}"),
            Seg::Index(i) => format!("[{i}]"),
            // As `dump --path` reads it back.
            Seg::Key(off, t, i) => match pool.key(*off, *t) {
                Some(k) => format!("[{k}]"),
                None => format!("[#{i}]"),
            },
        };
        let mut out = String::from("root");
        if segs.len() > 40 {
            let (head, tail) = (&segs[..20], &segs[segs.len() - 20..]);
            out.extend(head.iter().map(|s| text(s)));
            let _ = write!(out, "…({} more)…", segs.len() - 40);
            out.extend(tail.iter().map(|s| text(s)));
        } else {
            out.extend(segs.iter().map(|s| text(s)));
        }
        out
    }

    fn problem(&mut self, path: u32, what: impl std::fmt::Display) {
        let p = self.spell(path);
        self.report.problems.push(format!("{p}: {what}"));
    }

    fn warning(&mut self, path: u32, what: impl std::fmt::Display) {
        let p = self.spell(path);
        self.report.warnings.push(format!("{p}: {what}"));
    }

    /// Claims the allocation at `off` for the value at `path`; answers whether its
    /// contents should be walked (the first, valid claim).
    fn claim(&mut self, off: u64, need: u64, what: (usize, Role), path: u32) -> bool {
        let Ok(i) = self.allocs.binary_search_by_key(&off, |a| a.offset) else {
            self.problem(
                path,
                format_args!("owns {off:#x} ({need} bytes), which is not a live allocation"),
            );
            return false;
        };
        let size = self.allocs[i].size;
        if size < need {
            self.problem(
                path,
                format_args!("owns the allocation at {off:#x} of {size} bytes, but needs {need}"),
            );
            return false;
        }
        match self.owner[i] {
            NOBODY => {}
            SCHEMA_RECORD => {
                self.problem(
                    path,
                    format_args!("owns {off:#x}, the pool's schema record"),
                );
                return false;
            }
            other => {
                let first = self.spell(other);
                self.problem(
                    path,
                    format_args!("owns the allocation at {off:#x}, already owned by {first}"),
                );
                return false;
            }
        }
        self.owner[i] = path;
        let u = self.usage.entry(what).or_default();
        u.count += 1;
        u.bytes += size;
        self.report.reached.count += 1;
        self.report.reached.bytes += size;
        self.progress.inc(1);
        true
    }

    fn push(&mut self, off: u64, t: usize, path: u32) {
        if self.pool.schema.reach[t] {
            self.stack.push((off, t, path));
        }
    }

    fn visit(&mut self, off: u64, t: usize, path: u32) {
        let pool = self.pool;
        let schema = &pool.schema;
        match &schema.types[t].shape {
            Shape::Primitive => {}
            Shape::Struct(fields) | Shape::Tuple(fields) => {
                for f in fields.iter().rev() {
                    if schema.reach[f.ty] {
                        let p = self.path(path, Seg::Field(&f.name));
                        self.push(off + f.offset, f.ty, p);
                    }
                }
            }
            Shape::Enum { .. } => match pool.variant(off, t) {
                Ok(v) => {
                    for f in v.fields.iter().rev() {
                        if schema.reach[f.ty] {
                            let p = self.path(path, Seg::Field(&f.name));
                            self.push(off + f.offset, f.ty, p);
                        }
                    }
                }
                Err(e) => self.problem(path, e),
            },
            Shape::Array { elem, len } => {
                for i in (0..*len).rev() {
                    let p = self.path(path, Seg::Index(i));
                    self.push(off + i * schema.types[*elem].size, *elem, p);
                }
            }
            Shape::Option(inner) => match pool.option(off, t) {
                Ok(Some(at)) => self.push(at, *inner, path),
                Ok(None) => {}
                Err(e) => self.problem(path, e),
            },
            Shape::Pointer {
                owned: true,
                target,
            } => match pool.u64_at(off) {
                Ok(0) => self.problem(path, "a PBox is null"),
                Ok(to) => {
                    if self.claim(
                        to,
                        schema.types[*target].size.max(1),
                        (*target, Role::Value),
                        path,
                    ) {
                        self.push(to, *target, path);
                    }
                }
                Err(e) => self.problem(path, e),
            },
            Shape::Pointer {
                owned: false,
                target,
            } => {
                match pool.pptr(off) {
                    Ok(0) => {}
                    Ok(to) => {
                        let end = to.saturating_add(schema.types[*target].size);
                        let i = self.allocs.partition_point(|a| a.offset <= to);
                        if i == 0 || end > self.allocs[i - 1].offset + self.allocs[i - 1].size {
                            self.warning(path, format_args!("PPtr to {to:#x} does not point into a live allocation (dangling)"));
                        }
                    }
                    Err(e) => self.warning(path, e),
                }
            }
            Shape::Collection { kind, params } => self.collection(off, t, *kind, params, path),
            Shape::Unknown(what) => {
                let what = format!("cannot walk a value of {what} (written by a newer pmem?); what it owns shows as leaked");
                self.warning(path, what);
            }
        }
    }

    fn collection(
        &mut self,
        off: u64,
        t: usize,
        kind: CollectionKind,
        params: &[usize],
        path: u32,
    ) {
        let contents = match self.pool.collection(off, kind, params) {
            Ok(c) => c,
            Err(e) => return self.problem(path, e),
        };
        for b in &contents.buffers {
            // A buffer that fails its claim is not read any further.
            if !self.claim(b.offset, b.size, (t, Role::Storage(kind)), path) {
                return;
            }
        }
        let pool = self.pool;
        let schema = &pool.schema;
        let (k, v) = (params.first().copied(), params.get(1).copied());
        let walk_k = k.is_some_and(|k| schema.reach[k]);
        let walk_v = v.is_some_and(|v| schema.reach[v]);
        if !walk_k && !walk_v {
            return;
        }
        let entries: Vec<_> = contents.entries().collect();
        for (i, e) in entries.iter().enumerate().rev() {
            let seg = match k {
                Some(k) if kind.is_map() => Seg::Key(e.key, k, i as u64),
                _ => Seg::Index(i as u64),
            };
            let p = self.path(path, seg);
            if walk_k {
                let kp = if kind.is_map() {
                    self.path(p, Seg::Field("key"))
                } else {
                    p
                };
                self.push(e.key, k.expect("walk_k"), kp);
            }
            if let (true, Some(v), Some(at)) = (walk_v, v, e.value) {
                self.push(at, v, p);
            }
        }
    }

    fn finish(mut self) -> Report {
        let mut leaks = Vec::new();
        for (i, a) in self.allocs.iter().enumerate() {
            if self.owner[i] == NOBODY {
                self.report.leaked.count += 1;
                self.report.leaked.bytes += a.size;
                leaks.push(format!(
                    "leaked allocation at {:#x} ({} bytes): not reachable from the root",
                    a.offset, a.size
                ));
            }
        }
        self.report.problems.extend(leaks);
        let schema = &self.pool.schema;
        let mut by: Vec<((usize, Role), Usage)> = self.usage.into_iter().collect();
        by.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then(a.0.cmp(&b.0)));
        self.report.by_type = by
            .into_iter()
            .map(|((t, role), u)| {
                let name = &schema.names[t];
                let label = match role {
                    Role::Root => format!("{name} (root)"),
                    Role::Value => name.clone(),
                    Role::Storage(CollectionKind::String) => format!("{name} bytes"),
                    Role::Storage(CollectionKind::Vec) => format!("{name} buffer"),
                    Role::Storage(CollectionKind::HashMap | CollectionKind::HashSet) => {
                        format!("{name} table")
                    }
                    Role::Storage(_) => format!("{name} nodes"),
                };
                (label, u)
            })
            .collect();
        self.report
    }
}
