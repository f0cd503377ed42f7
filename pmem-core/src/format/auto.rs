//! Automatic migration, the reading side: the stored type graph of the *old* pool
//! (ARCHITECTURE §3.4), walked in step with the compiled type being built, so that
//! `Persistent::migrate_into_pool` can read old bytes by the old layout and write a
//! value of the new type (ARCHITECTURE §15.6).
//!
//! Each compiled type reads its old counterpart: a derived struct finds each of its
//! fields among the old ones by name (or a `renamed_from` name) and fills the others
//! from their default; a primitive widens; a box follows the old offset; a vector reads
//! the old buffer with the old element size. Where the old and new graphs agree from a
//! node on, the node is copied by `clone_into_pool` (the fast path, decided once per
//! pair of nodes and remembered). Everything else is refused with
//! [`Error::NotAutoMigratable`], whose path the callers build on the way out.

use std::cell::RefCell;
use std::collections::HashMap;

use super::schema_diff::{diff_at, int_class, widens};
use super::schema_graph::{Graph, StoredField as Field, StoredShape as NodeShape, StoredType};
use crate::error::{Error, Result};
use crate::format::schema::TypeSchema;

mod stored_option;

/// Options of an automatic migration.
///
/// # Examples
///
/// ```
/// use pmem_core::AutoMigrate;
/// let lossy = AutoMigrate::new().drop_removed_fields(true);
/// assert!(lossy.drops_removed_fields());
/// assert!(!AutoMigrate::default().drops_removed_fields());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AutoMigrate {
    drop_removed_fields: bool,
}

impl AutoMigrate {
    /// The default: lose nothing (a removed field is refused).
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a field present in the stored type but absent from the new one may be
    /// dropped (its data is lost). Off by default.
    #[must_use]
    pub fn drop_removed_fields(mut self, yes: bool) -> Self {
        self.drop_removed_fields = yes;
        self
    }

    /// The `drop_removed_fields` setting.
    pub fn drops_removed_fields(&self) -> bool {
        self.drop_removed_fields
    }
}

/// The stored graph of the pool being migrated, with the options and the memo of
/// which (old node, new type) pairs are identical.
#[doc(hidden)]
pub struct OldGraph {
    graph: Graph,
    options: AutoMigrate,
    identical: RefCell<HashMap<(usize, usize), bool>>,
}

impl OldGraph {
    /// Parses the stored schema record `json`.
    ///
    /// # Errors
    /// [`Error::Corrupted`] for a damaged record.
    pub fn parse(json: &str, options: AutoMigrate) -> Result<Self> {
        let graph = Graph::from_json(json)
            .map_err(|w| Error::corrupted(format!("schema record: {w}"), 0))?;
        Ok(OldGraph {
            graph,
            options,
            identical: RefCell::new(HashMap::new()),
        })
    }

    /// The stored root type.
    pub fn root(&self) -> OldType<'_> {
        OldType {
            g: self,
            ix: self.graph.root,
        }
    }

    /// Whether the whole stored graph equals `new`'s: nothing to migrate.
    pub fn same_as(&self, new: &'static TypeSchema) -> bool {
        self.root().identical_to(new)
    }
}

/// One type of the stored graph, as `migrate_into_pool` sees it.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct OldType<'a> {
    g: &'a OldGraph,
    ix: usize,
}

/// The refusal of a change, at the node being built (callers prefix the path).
fn refuse(change: impl Into<String>) -> Error {
    Error::NotAutoMigratable {
        path: String::new(),
        change: change.into(),
    }
}

/// `e` seen from the value that holds the failing one at `part` (`.field`, `[]`).
#[doc(hidden)]
pub fn within(e: Error, part: &str) -> Error {
    match e {
        Error::NotAutoMigratable { mut path, change } => {
            path.insert_str(0, part);
            Error::NotAutoMigratable { path, change }
        }
        e => e,
    }
}

impl<'a> OldType<'a> {
    fn node(&self) -> &'a StoredType {
        &self.g.graph.types[self.ix]
    }

    fn at(&self, ix: usize) -> OldType<'a> {
        OldType { g: self.g, ix }
    }

    /// The stored type's name.
    pub fn name(&self) -> &'a str {
        &self.node().name
    }

    /// The stored type's size in bytes.
    pub fn size(&self) -> usize {
        usize::try_from(self.node().size).unwrap_or(usize::MAX)
    }

    /// The stored type's alignment.
    pub fn align(&self) -> usize {
        usize::try_from(self.node().align).unwrap_or(usize::MAX)
    }

    /// The options of the migration.
    pub fn options(&self) -> AutoMigrate {
        self.g.options
    }

    /// Whether the stored graph from this node on equals the compiled graph of `new`
    /// (so the old bytes are a valid `new` value). Decided once per pair.
    pub fn identical_to(&self, new: &'static TypeSchema) -> bool {
        let key = (self.ix, std::ptr::from_ref(new) as usize);
        if let Some(&v) = self.g.identical.borrow().get(&key) {
            return v;
        }
        let v = diff_at(&self.g.graph, self.ix, &Graph::of(new)).is_empty();
        self.g.identical.borrow_mut().insert(key, v);
        v
    }

    /// The refusal of turning this stored type into `new`.
    pub fn mismatch(&self, new: &'static TypeSchema) -> Error {
        let d = diff_at(&self.g.graph, self.ix, &Graph::of(new));
        match d.into_iter().next() {
            Some(d) if d.path.is_empty() => refuse(d.change),
            Some(d) => Error::NotAutoMigratable {
                path: d.path,
                change: d.change,
            },
            None => refuse(format!("{} → {}", self.name(), new.name)),
        }
    }

    /// The fields of a stored struct named `name`, to be matched by the new ones.
    ///
    /// # Errors
    /// [`Error::NotAutoMigratable`] when the stored type is not a struct of that name.
    pub fn struct_fields(&self, new: &'static TypeSchema) -> Result<FieldMatcher<'a>> {
        match &self.node().shape {
            NodeShape::Struct(fields) if self.name() == new.name => {
                let m = FieldMatcher {
                    ty: *self,
                    fields,
                    used: vec![false; fields.len()],
                };
                m.check_bounds()?;
                Ok(m)
            }
            _ => Err(self.mismatch(new)),
        }
    }

    /// The target of a stored owning pointer named `kind` (`PBox`).
    ///
    /// # Errors
    /// [`Error::NotAutoMigratable`] when the stored type is something else.
    pub fn owned_target(&self, new: &'static TypeSchema) -> Result<OldType<'a>> {
        match &self.node().shape {
            NodeShape::Pointer {
                owned: true,
                target,
            } if self.name() == new.name => Ok(self.at(*target)),
            _ => Err(self.mismatch(new)),
        }
    }

    /// The element type of a stored array of `len` elements (the length of `new`).
    ///
    /// # Errors
    /// [`Error::NotAutoMigratable`] when the stored type is not an array or has another
    /// length; [`Error::Corrupted`] when its elements do not fit its size.
    pub fn array_elem(&self, new: &'static TypeSchema, len: usize) -> Result<OldType<'a>> {
        match &self.node().shape {
            NodeShape::Array { elem, len: n } if *n == len as u64 => {
                let e = self.at(*elem);
                let fits = e
                    .node()
                    .size
                    .checked_mul(*n)
                    .is_some_and(|b| b <= self.node().size);
                if !fits || !e.align().is_power_of_two() || e.size() % e.align() != 0 {
                    return Err(Error::corrupted(
                        format!("schema record: array of {n} {} does not fit", e.name()),
                        0,
                    ));
                }
                Ok(e)
            }
            NodeShape::Array { len: n, .. } => Err(refuse(format!(
                "array of {n} elements → {len} (only the element type may change)"
            ))),
            _ => Err(self.mismatch(new)),
        }
    }

    /// The fields of a stored tuple with as many fields as `new` (named `"0"`, `"1"`...).
    ///
    /// # Errors
    /// [`Error::NotAutoMigratable`] when the stored type is not a tuple or has another
    /// number of fields; [`Error::Corrupted`] for a field outside the tuple.
    pub fn tuple_fields(&self, new: &'static TypeSchema) -> Result<FieldMatcher<'a>> {
        let crate::format::schema::Shape::Tuple(nf) = &new.shape else {
            return Err(self.mismatch(new));
        };
        match &self.node().shape {
            NodeShape::Tuple(fields) if fields.len() == nf.len() => {
                let m = FieldMatcher {
                    ty: *self,
                    fields,
                    used: vec![false; fields.len()],
                };
                m.check_bounds()?;
                Ok(m)
            }
            NodeShape::Tuple(fields) => Err(refuse(format!(
                "tuple of {} fields → {} (only the field types may change)",
                fields.len(),
                nf.len()
            ))),
            _ => Err(self.mismatch(new)),
        }
    }

    /// The inner type of a stored `Option`.
    ///
    /// # Errors
    /// [`Error::NotAutoMigratable`] when the stored type is not an `Option`.
    pub fn option_inner(&self, new: &'static TypeSchema) -> Result<OldType<'a>> {
        match &self.node().shape {
            NodeShape::Option(inner) => Ok(self.at(*inner)),
            _ => Err(self.mismatch(new)),
        }
    }

    /// Type parameter `i` of a stored collection of the same kind as `new`.
    ///
    /// # Errors
    /// [`Error::NotAutoMigratable`] when the stored type is another collection.
    pub fn collection_param(&self, new: &'static TypeSchema, i: usize) -> Result<OldType<'a>> {
        match (&self.node().shape, &new.shape) {
            (
                NodeShape::Collection { kind, params },
                crate::format::schema::Shape::Collection { kind: k, .. },
            ) if kind == k && self.node().size == new.size as u64 => params
                .get(i)
                .map(|&p| self.at(p))
                .ok_or_else(|| self.mismatch(new)),
            _ => Err(self.mismatch(new)),
        }
    }

    /// The variant of the stored enum whose value is at `old`: its name, and its stored
    /// fields to be matched by the fields of the new variant of that name (offsets from
    /// the start of the enum, each checked to lie inside the stored enum).
    ///
    /// # Errors
    /// [`Error::NotAutoMigratable`] when the stored type is not an enum named as `new`;
    /// [`Error::Corrupted`] for an undeclared tag or a field outside the enum.
    ///
    /// # Safety
    /// - `old` points to a readable value of the stored type.
    pub unsafe fn enum_variant_fields(
        &self,
        old: *const u8,
        new: &'static TypeSchema,
    ) -> Result<(&'a str, FieldMatcher<'a>)> {
        // SAFETY: forwarded contract.
        let v = unsafe { self.stored_variant(old, new)? };
        let m = FieldMatcher {
            ty: *self,
            fields: &v.fields,
            used: vec![false; v.fields.len()],
        };
        m.check_bounds()?;
        Ok((&v.name, m))
    }

    /// The stored variant whose tag the enum value at `old` holds.
    ///
    /// # Safety
    /// - `old` points to a readable value of the stored type.
    unsafe fn stored_variant(
        &self,
        old: *const u8,
        new: &'static TypeSchema,
    ) -> Result<&'a super::schema_graph::StoredVariant> {
        let NodeShape::Enum { repr, variants } = &self.node().shape else {
            return Err(self.mismatch(new));
        };
        // `repr(C, Int)` keeps its tag where `repr(Int)` does: first, as that integer.
        let repr = repr.strip_prefix("C, ").unwrap_or(repr);
        if self.name() != new.name {
            return Err(self.mismatch(new));
        }
        // SAFETY: forwarded contract.
        let tag = unsafe { self.tag_at(old, repr)? };
        variants
            .iter()
            .find(|v| v.discriminant == tag)
            .ok_or_else(|| Error::corrupted(format!("undeclared {} tag {tag}", self.name()), 0))
    }

    /// The tag of the stored enum (of `repr`) whose value is at `old`.
    ///
    /// # Safety
    /// - `old` points to a readable value of the stored type.
    unsafe fn tag_at(&self, old: *const u8, repr: &str) -> Result<i128> {
        let Some(tag) = super::EnumTag::of_repr(repr) else {
            return Err(refuse(format!("enum repr {repr} is not supported")));
        };
        if self.node().size < tag.size as u64 || self.node().align < tag.size as u64 {
            return Err(Error::corrupted(
                format!(
                    "schema record: enum {} smaller than its {repr} tag",
                    self.name()
                ),
                0,
            ));
        }
        // SAFETY: the tag starts the value (every `repr(Int)` and `repr(C, Int)` enum),
        // which is readable (caller's contract) and at least as large as the tag
        // (checked above); read as bytes, so a damaged record's alignment cannot make
        // the read undefined.
        let bytes = unsafe { std::slice::from_raw_parts(old, tag.size) };
        Ok(tag.read(bytes).expect("as many bytes as the tag"))
    }
}

/// The fields of a stored struct, matched one by one by the new struct's fields; the
/// ones left over were removed.
#[doc(hidden)]
pub struct FieldMatcher<'a> {
    ty: OldType<'a>,
    fields: &'a [Field],
    used: Vec<bool>,
}

impl<'a> FieldMatcher<'a> {
    /// The stored field named `name` or one of `old_names`: its offset and type.
    pub fn take(&mut self, name: &str, old_names: &[&str]) -> Option<(usize, OldType<'a>)> {
        let i = self
            .fields
            .iter()
            .position(|f| f.name == name)
            .or_else(|| {
                old_names
                    .iter()
                    .find_map(|o| self.fields.iter().position(|f| f.name == *o))
            })?;
        self.used[i] = true;
        let f = &self.fields[i];
        Some((usize::try_from(f.offset).ok()?, self.ty.at(f.ty)))
    }

    /// Checks that every stored field lies inside the stored struct (the record comes
    /// from file bytes): what makes `old + offset` a readable field for [`Self::take`]'s
    /// callers.
    ///
    /// # Errors
    /// [`Error::Corrupted`] naming the field.
    pub fn check_bounds(&self) -> Result<()> {
        let size = self.ty.node().size;
        for f in self.fields {
            let t = self.ty.at(f.ty);
            let end = f.offset.checked_add(t.node().size);
            let aligned = t.node().align.is_power_of_two() && f.offset % t.node().align == 0;
            if end.is_none_or(|e| e > size) || !aligned {
                return Err(Error::corrupted(
                    format!(
                        "schema record: field {}.{} at offset {} does not fit its type",
                        self.ty.name(),
                        f.name,
                        f.offset
                    ),
                    0,
                ));
            }
        }
        Ok(())
    }

    /// Refuses a stored field no new field took, unless removed fields may be dropped.
    ///
    /// # Errors
    /// [`Error::NotAutoMigratable`] naming the first removed field.
    pub fn finish(self) -> Result<()> {
        if self.ty.options().drops_removed_fields() {
            return Ok(());
        }
        match self.fields.iter().zip(&self.used).find(|(_, u)| !**u) {
            None => Ok(()),
            Some((f, _)) => Err(within(
                refuse(format!(
                    "field removed (was {}); pass AutoMigrate::new().drop_removed_fields(true) to drop it",
                    self.ty.at(f.ty).name()
                )),
                &format!(".{}", f.name),
            )),
        }
    }
}

/// Migrates the primitive at `old` (of the stored type `old_ty`) into the primitive
/// `to` at `dst`: equal types are copied, integers widen (unsigned to a wider unsigned
/// or signed, signed to a wider signed), `f32` widens to `f64`; anything else is
/// refused.
///
/// # Errors
/// [`Error::NotAutoMigratable`] for a narrowing or another change.
///
/// # Safety
/// - `old` points to a readable value of `old_ty`, aligned for it;
/// - `dst` is valid for writes of the primitive `to` names.
#[doc(hidden)]
pub unsafe fn widen(
    old: *const u8,
    old_ty: OldType<'_>,
    to: &'static TypeSchema,
    dst: *mut u8,
) -> Result<()> {
    let from = old_ty.name();
    if !matches!(old_ty.node().shape, NodeShape::Primitive) {
        return Err(old_ty.mismatch(to));
    }
    if from == to.name && old_ty.size() == to.size {
        // SAFETY: the same primitive: `to.size` readable bytes at `old`, writable at `dst`.
        unsafe { std::ptr::copy_nonoverlapping(old, dst, to.size) };
        return Ok(());
    }
    if from == "f32" && to.name == "f64" && old_ty.size() == 4 {
        // SAFETY: four readable bytes of an `f32` at `old` (its stored size, checked),
        // read unaligned; an `f64` slot at `dst` (caller's contract).
        let v = unsafe { old.cast::<f32>().read_unaligned() };
        // SAFETY: `dst` takes an `f64` (caller's contract).
        unsafe { dst.cast::<f64>().write(f64::from(v)) };
        return Ok(());
    }
    let (Some((fs, fb)), Some((ts, tb))) = (int_class(from), int_class(to.name)) else {
        return Err(old_ty.mismatch(to));
    };
    if old_ty.size() != (fb / 8) as usize {
        return Err(Error::corrupted(
            format!("schema record: {from} of {} bytes", old_ty.size()),
            0,
        ));
    }
    if !widens(from, to.name) {
        return Err(refuse(format!(
            "{from} → {} (narrowing or sign change)",
            to.name
        )));
    }
    // SAFETY: `old` holds an integer of the class `from` names (caller's contract),
    // read unaligned as that width (the stored size was checked to be the old node's); `dst` takes an integer of the class `to` names.
    // The value fits: the target is wider, and signed when the source is.
    unsafe {
        let v: i128 = match (fs, fb) {
            (false, 8) => i128::from(old.read_unaligned()),
            (false, 16) => i128::from(old.cast::<u16>().read_unaligned()),
            (false, 32) => i128::from(old.cast::<u32>().read_unaligned()),
            (false, _) => i128::from(old.cast::<u64>().read_unaligned()),
            (true, 8) => i128::from(old.cast::<i8>().read_unaligned()),
            (true, 16) => i128::from(old.cast::<i16>().read_unaligned()),
            (true, 32) => i128::from(old.cast::<i32>().read_unaligned()),
            (true, _) => i128::from(old.cast::<i64>().read_unaligned()),
        };
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        match (ts, tb) {
            (false, 16) => dst.cast::<u16>().write(v as u16),
            (false, 32) => dst.cast::<u32>().write(v as u32),
            (false, 64) => dst.cast::<u64>().write(v as u64),
            (false, _) => dst.cast::<u128>().write(v as u128),
            (true, 16) => dst.cast::<i16>().write(v as i16),
            (true, 32) => dst.cast::<i32>().write(v as i32),
            (true, 64) => dst.cast::<i64>().write(v as i64),
            (true, _) => dst.cast::<i128>().write(v),
        }
    }
    Ok(())
}
