//! `pmem dump`: a value of the pool, as JSON, streamed through `serde_json` straight
//! from the mapped bytes (nothing is copied into an intermediate tree, so a map of a
//! million entries needs no more memory than its entry list).
//!
//! | stored | JSON |
//! |---|---|
//! | integers, floats, `bool`, `char`, `()` | number, number, bool, one-character string, null |
//! | struct with named fields | object, fields in declaration order |
//! | tuple, tuple struct, array, `PVec`, sets | array |
//! | fieldless enum variant / variant with fields | `"Name"` / `{"Name": fields}` |
//! | `Option`, `PPtr` | null or the value; a `PPtr` as its pool offset |
//! | `PBox` | its target |
//! | `PString` | string |
//! | map with integer, `bool`, `char` or string keys | object (hash maps sorted by key) |
//! | other maps | array of `{"key": .., "value": ..}` |
//!
//! A part that cannot be read (a damaged pool) becomes `{"$error": "what"}` and the dump
//! goes on; nesting deeper than `--max-depth` becomes `{"$truncated": "..."}`.

use std::sync::atomic::{AtomicU64, Ordering};

use pmem_collections::inspect::CollectionKind;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::pool::{numbered, Pool, Prim};
use crate::schema::{Field, Shape};

/// Settings and counters of one dump.
pub(crate) struct Dump<'a> {
    pub(crate) pool: &'a Pool,
    pub(crate) max_depth: usize,
    /// Parts that could not be read.
    pub(crate) errors: AtomicU64,
}

/// The value of type `t` at `off`.
pub(crate) struct Node<'a> {
    pub(crate) d: &'a Dump<'a>,
    pub(crate) off: u64,
    pub(crate) t: usize,
    pub(crate) depth: usize,
}

struct Fields<'a> {
    d: &'a Dump<'a>,
    off: u64,
    list: &'a [Field],
    depth: usize,
}

struct Pair<'a> {
    key: Node<'a>,
    value: Node<'a>,
}

fn error<S: Serializer>(d: &Dump<'_>, ser: S, what: &str) -> Result<S::Ok, S::Error> {
    d.errors.fetch_add(1, Ordering::Relaxed);
    let mut m = ser.serialize_map(Some(1))?;
    m.serialize_entry("$error", what)?;
    m.end()
}

impl<'a> Node<'a> {
    fn child(&self, off: u64, t: usize) -> Node<'a> {
        Node {
            d: self.d,
            off,
            t,
            depth: self.depth + 1,
        }
    }
}

impl Serialize for Node<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let (d, off, t) = (self.d, self.off, self.t);
        let pool = d.pool;
        if self.depth > d.max_depth {
            let mut m = ser.serialize_map(Some(1))?;
            m.serialize_entry(
                "$truncated",
                &format!("deeper than --max-depth {} at {off:#x}", d.max_depth),
            )?;
            return m.end();
        }
        match &pool.schema.types[t].shape {
            Shape::Primitive => match pool.prim(off, t) {
                Ok(Prim::U(u)) => ser.serialize_u128(u),
                Ok(Prim::I(i)) => ser.serialize_i128(i),
                Ok(Prim::F(f)) => ser.serialize_f64(f),
                Ok(Prim::Bool(b)) => ser.serialize_bool(b),
                Ok(Prim::Char(c)) => ser.serialize_char(c),
                Ok(Prim::Unit) => ser.serialize_unit(),
                Err(e) => error(d, ser, &e),
            },
            Shape::Struct(fields) | Shape::Tuple(fields) => Fields {
                d,
                off,
                list: fields,
                depth: self.depth,
            }
            .serialize(ser),
            Shape::Enum { .. } => match pool.variant(off, t) {
                Ok(v) if v.fields.is_empty() => ser.serialize_str(&v.name),
                Ok(v) => {
                    let mut m = ser.serialize_map(Some(1))?;
                    m.serialize_entry(
                        &v.name,
                        &Fields {
                            d,
                            off,
                            list: &v.fields,
                            depth: self.depth,
                        },
                    )?;
                    m.end()
                }
                Err(e) => error(d, ser, &e),
            },
            Shape::Array { elem, len } => {
                let size = pool.schema.types[*elem].size;
                let mut q = ser.serialize_seq(usize::try_from(*len).ok())?;
                for i in 0..*len {
                    q.serialize_element(&self.child(off + i * size, *elem))?;
                }
                q.end()
            }
            Shape::Option(inner) => match pool.option(off, t) {
                Ok(Some(at)) => ser.serialize_some(&self.child(at, *inner)),
                Ok(None) => ser.serialize_none(),
                Err(e) => error(d, ser, &e),
            },
            Shape::Pointer {
                owned: true,
                target,
            } => match pool.u64_at(off) {
                Ok(0) => error(d, ser, "null PBox"),
                Ok(to) => self.child(to, *target).serialize(ser),
                Err(e) => error(d, ser, &e),
            },
            Shape::Pointer { owned: false, .. } => match pool.pptr(off) {
                Ok(0) => ser.serialize_none(),
                Ok(to) => ser.serialize_u64(to),
                Err(e) => error(d, ser, &e),
            },
            Shape::Collection {
                kind: CollectionKind::String,
                ..
            } => match pool.string(off) {
                Ok(text) => ser.serialize_str(&text),
                Err(e) => error(d, ser, &e),
            },
            Shape::Collection { kind, params } => self.collection(ser, *kind, params),
            Shape::Unknown(what) => error(d, ser, &format!("cannot read {what}")),
        }
    }
}

impl Node<'_> {
    fn collection<S: Serializer>(
        &self,
        ser: S,
        kind: CollectionKind,
        params: &[usize],
    ) -> Result<S::Ok, S::Error> {
        let pool = self.d.pool;
        let c = match pool.collection(self.off, kind, params) {
            Ok(c) => c,
            Err(e) => return error(self.d, ser, &e),
        };
        let mut entries: Vec<_> = c.entries().collect();
        let k = params[0];
        let kt = &pool.schema.types[k];
        let simple = match kt.shape {
            Shape::Collection {
                kind: CollectionKind::String,
                ..
            } => true,
            Shape::Primitive => {
                kt.name.starts_with(['u', 'i']) || kt.name == "bool" || kt.name == "char"
            }
            _ => false,
        };
        let keys: Option<Vec<String>> = simple.then(|| {
            entries
                .iter()
                .map(|e| {
                    pool.key_text(e.key, k)
                        .unwrap_or_else(|| "$unreadable".into())
                })
                .collect()
        });
        let mut order: Vec<usize> = (0..entries.len()).collect();
        if let (Some(keys), CollectionKind::HashMap | CollectionKind::HashSet) = (&keys, kind) {
            // Hash order is an accident of the seed; a dump reads better sorted.
            let numeric = kt.name.starts_with(['u', 'i']);
            order.sort_by(|&a, &b| {
                match (numeric, keys[a].parse::<i128>(), keys[b].parse::<i128>()) {
                    (true, Ok(x), Ok(y)) => x.cmp(&y),
                    _ => keys[a].cmp(&keys[b]),
                }
            });
        }
        entries = order.iter().map(|&i| entries[i]).collect();
        if kind.is_map() {
            let v = params[1];
            if let Some(keys) = keys {
                let mut m = ser.serialize_map(Some(entries.len()))?;
                for (i, e) in order.iter().zip(&entries) {
                    m.serialize_entry(
                        &keys[*i],
                        &self.child(e.value.expect("map entries have values"), v),
                    )?;
                }
                return m.end();
            }
            let mut q = ser.serialize_seq(Some(entries.len()))?;
            for e in &entries {
                q.serialize_element(&Pair {
                    key: self.child(e.key, k),
                    value: self.child(e.value.expect("map entries have values"), v),
                })?;
            }
            return q.end();
        }
        let mut q = ser.serialize_seq(Some(entries.len()))?;
        for e in &entries {
            q.serialize_element(&self.child(e.key, k))?;
        }
        q.end()
    }
}

impl Serialize for Fields<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let node = |f: &Field| Node {
            d: self.d,
            off: self.off + f.offset,
            t: f.ty,
            depth: self.depth + 1,
        };
        if numbered(self.list) {
            let mut q = ser.serialize_seq(Some(self.list.len()))?;
            for f in self.list {
                q.serialize_element(&node(f))?;
            }
            return q.end();
        }
        let mut m = ser.serialize_map(Some(self.list.len()))?;
        for f in self.list {
            m.serialize_entry(&f.name, &node(f))?;
        }
        m.end()
    }
}

impl Serialize for Pair<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut m = ser.serialize_map(Some(2))?;
        m.serialize_entry("key", &self.key)?;
        m.serialize_entry("value", &self.value)?;
        m.end()
    }
}
