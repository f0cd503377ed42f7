//! Hand-written persistent types for workload 2, written the way `#[derive(Persistent)]`
//! will generate them (modelled on `PBoxMut` in pmem-core's `ptr.rs`): a view type over
//! the value's bytes whose accessors snapshot exactly the field they hand out.
//!
//! - [`Record`]: 64 bytes, three `u64` fields the benchmark updates plus a payload.
//! - [`DRecord`]: the same record with `#[derive(Persistent)]` (the generated path).
//! - [`RecordTable`]: the root of the 3-field-update pool; owns one allocation holding
//!   `len` records, and hands out a record's view without snapshotting the table.
//! - [`Node`]: a 56-byte singly linked list node owning its successor.

use std::marker::PhantomData;

use pmem::fingerprint::{fp_str, fp_u64, FP_START};
use pmem::schema::{FieldSchema, Shape, TypeSchema};
use pmem::{raw, OptionPBoxMut, PBox, PSafe, Persistent, ViewTail, Visitor};

/// One record of the update workload.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Record {
    pub a: u64,
    pub b: u64,
    pub c: u64,
    pub payload: [u8; 40],
}
const _: () = assert!(size_of::<Record>() == 64);

// SAFETY: integers and bytes; no addresses.
unsafe impl PSafe for Record {}
// SAFETY: every accessor of `RecordMut` snapshots the field it returns; owns nothing;
// the fingerprint covers names, offsets and size.
unsafe impl Persistent for Record {
    type View = RecordMut;
    const TYPE_NAME: &'static str = "Record";
    const FINGERPRINT: u64 = fp_u64(
        fp_u64(fp_u64(fp_u64(fp_str(FP_START, "Record{a,b,c,payload}"), u64::FINGERPRINT), 0), 24),
        size_of::<Record>() as u64,
    );
    const SCHEMA: &'static TypeSchema = &TypeSchema {
        name: "Record",
        size: 64,
        align: 8,
        fingerprint: Self::FINGERPRINT,
        shape: Shape::Struct(&[
            FieldSchema { name: "a", offset: 0, ty: <u64 as Persistent>::schema, renamed_from: &[] },
            FieldSchema { name: "b", offset: 8, ty: <u64 as Persistent>::schema, renamed_from: &[] },
            FieldSchema { name: "c", offset: 16, ty: <u64 as Persistent>::schema, renamed_from: &[] },
            FieldSchema { name: "payload", offset: 24, ty: <[u8; 40] as Persistent>::schema, renamed_from: &[] },
        ]),
    };
    unsafe fn view_mut<'a>(ptr: *mut Self) -> &'a mut RecordMut {
        // SAFETY: `RecordMut` ends in a ViewTail; the fat pointer covers the record.
        unsafe { &mut *pmem::view_cast!(ptr, Record => RecordMut) }
    }
}

/// The view of a [`Record`]: each accessor snapshots its field (8 bytes), then hands
/// out `&mut` to it.
pub struct RecordMut {
    _tail: ViewTail,
}

macro_rules! field_mut {
    ($name:ident, $field:ident) => {
        #[inline]
        pub fn $name(&mut self) -> &mut u64 {
            let rec = std::ptr::from_mut(self).cast::<Record>();
            // SAFETY: the view lies over a valid record inside a pool whose transaction
            // is open on this thread (the view cannot outlive it); the field is
            // snapshotted before `&mut` to it exists.
            unsafe {
                let f = &raw mut (*rec).$field;
                raw::snapshot_value(f);
                &mut *f
            }
        }
    };
}

impl RecordMut {
    field_mut!(a_mut, a);
    field_mut!(b_mut, b);
    field_mut!(c_mut, c);
}

/// The same record through `#[derive(Persistent)]`: the generated view's `a_mut()`...
/// are the "generated accessor" row; everything else is identical to [`Record`].
#[derive(pmem::Persistent, Clone, Copy)]
#[repr(C)]
pub struct DRecord {
    pub a: u64,
    pub b: u64,
    pub c: u64,
    pub payload: [u8; 40],
}
const _: () = assert!(size_of::<DRecord>() == 64);

/// Root of the update pool: `len` values of `T` in one allocation at pool offset `recs`
/// (0 = none yet).
#[repr(C)]
pub struct RecordTable<T> {
    recs: u64,
    len: u64,
    _t: PhantomData<T>,
}

impl<T> Default for RecordTable<T> {
    fn default() -> Self {
        RecordTable { recs: 0, len: 0, _t: PhantomData }
    }
}

impl<T: Persistent> RecordTable<T> {
    pub fn len(&self) -> u64 {
        self.len
    }
    fn records(&self) -> pmem::Result<*mut T> {
        let size = (self.len as usize) * size_of::<T>();
        Ok(raw::resolve(std::ptr::from_ref(self).cast(), self.recs, size.max(1), align_of::<T>())?.cast())
    }
    /// Record `i` (reads).
    pub fn get(&self, i: u64) -> &T {
        assert!(i < self.len);
        // SAFETY: `records()` checked the whole array lies in the pool; `i < len`.
        unsafe { &*self.records().expect("valid table").add(i as usize) }
    }
}

// SAFETY: an offset and a length; no addresses.
unsafe impl<T: Persistent> PSafe for RecordTable<T> {}
// SAFETY: `RecordTableMut` snapshots the header before changing it and writes fresh
// records only after `snapshot` (which logs them for redo); visit/free cover the one
// allocation the table owns (records own nothing: see `init`).
unsafe impl<T: Persistent> Persistent for RecordTable<T> {
    type View = RecordTableMut<T>;
    const TYPE_NAME: &'static str = "RecordTable";
    const FINGERPRINT: u64 = fp_u64(fp_str(FP_START, "RecordTable{recs:*T,len}"), T::FINGERPRINT);
    const SCHEMA: &'static TypeSchema = &TypeSchema {
        name: "RecordTable",
        size: 16,
        align: 8,
        fingerprint: Self::FINGERPRINT,
        shape: Shape::Struct(&[
            FieldSchema { name: "recs", offset: 0, ty: <u64 as Persistent>::schema, renamed_from: &[] },
            FieldSchema { name: "len", offset: 8, ty: <u64 as Persistent>::schema, renamed_from: &[] },
        ]),
    };
    unsafe fn view_mut<'a>(ptr: *mut Self) -> &'a mut RecordTableMut<T> {
        // SAFETY: `RecordTableMut` ends in a ViewTail; the fat pointer covers the table.
        unsafe { &mut *pmem::view_cast!(ptr, Self => RecordTableMut<T>) }
    }
    fn visit_owned(&self, v: &mut Visitor<'_>) -> pmem::Result<()> {
        if self.recs != 0 {
            v.owned(self.records()?.cast(), self.len as usize * size_of::<T>())?;
        }
        Ok(())
    }
    unsafe fn free_owned(ptr: *mut Self) -> pmem::Result<()> {
        // SAFETY: caller's contract: a valid table in a pool with an open transaction.
        unsafe {
            let t = &*ptr;
            if t.recs != 0 {
                raw::free(t.records()?.cast(), t.len as usize * size_of::<T>())?;
            }
        }
        Ok(())
    }
}

/// The view of a [`RecordTable`].
pub struct RecordTableMut<T> {
    _t: PhantomData<T>,
    _tail: ViewTail,
}

impl<T: Persistent> RecordTableMut<T> {
    fn table(&mut self) -> *mut RecordTable<T> {
        std::ptr::from_mut(self).cast()
    }

    /// Allocates `n` records initialised by `f(i)` (freeing any old array). The records
    /// must own no pool memory (plain fields only), which both record types satisfy.
    pub fn init(&mut self, n: u64, mut f: impl FnMut(u64) -> T) -> pmem::Result<()> {
        let t = self.table();
        let size = n as usize * size_of::<T>();
        // SAFETY: the view lies over a valid table in a pool whose transaction is open;
        // the new array is fresh (snapshot saves no old bytes, logs it for redo); the
        // header is snapshotted before it changes.
        unsafe {
            let recs = raw::alloc(t.cast(), size, align_of::<T>())?.cast::<T>();
            raw::snapshot(recs.cast(), size);
            for i in 0..n {
                recs.add(i as usize).write(f(i));
            }
            RecordTable::free_owned(t)?;
            raw::snapshot_value(t);
            (*t).recs = raw::offset_of(recs.cast()).expect("allocated in this pool");
            (*t).len = n;
        }
        Ok(())
    }

    /// The view of record `i`; the table itself is not snapshotted.
    ///
    /// # Panics
    /// If `i` is out of bounds.
    #[inline]
    pub fn get_mut(&mut self, i: u64) -> &mut T::View {
        let t = self.table();
        // SAFETY: the view lies over a valid table; record `i` is owned by it and
        // borrowed exclusively through `self`.
        unsafe {
            assert!(i < (*t).len, "record index out of bounds");
            let recs = (*t).records().expect("valid table");
            T::view_mut(recs.add(i as usize))
        }
    }
}

/// A 56-byte list node that owns its successor.
#[repr(C)]
pub struct Node {
    pub value: u64,
    pub payload: [u8; 40],
    pub next: Option<PBox<Node>>,
}
const _: () = assert!(size_of::<Node>() == 56);

// SAFETY: integers, bytes and an owned pool offset.
unsafe impl PSafe for Node {}
// SAFETY: the view hands out nothing but the successor's own view (which snapshots what
// it changes); visit/free cover the successor.
unsafe impl Persistent for Node {
    type View = NodeMut;
    const TYPE_NAME: &'static str = "Node";
    const FINGERPRINT: u64 = fp_u64(
        fp_u64(fp_str(FP_START, "Node{value,payload,next}"), <Option<PBox<Node>> as Persistent>::FINGERPRINT),
        56,
    );
    const SCHEMA: &'static TypeSchema = &TypeSchema {
        name: "Node",
        size: 56,
        align: 8,
        fingerprint: Self::FINGERPRINT,
        shape: Shape::Struct(&[
            FieldSchema { name: "value", offset: 0, ty: <u64 as Persistent>::schema, renamed_from: &[] },
            FieldSchema { name: "payload", offset: 8, ty: <[u8; 40] as Persistent>::schema, renamed_from: &[] },
            FieldSchema { name: "next", offset: 48, ty: <Option<PBox<Node>> as Persistent>::schema, renamed_from: &[] },
        ]),
    };
    unsafe fn view_mut<'a>(ptr: *mut Self) -> &'a mut NodeMut {
        // SAFETY: `NodeMut` ends in a ViewTail; the fat pointer covers the node.
        unsafe { &mut *pmem::view_cast!(ptr, Node => NodeMut) }
    }
    fn visit_owned(&self, v: &mut Visitor<'_>) -> pmem::Result<()> {
        self.next.visit_owned(v)
    }
    unsafe fn free_owned(ptr: *mut Self) -> pmem::Result<()> {
        // SAFETY: caller's contract; `next` is a field of a valid node.
        unsafe { <Option<PBox<Node>> as Persistent>::free_owned(&raw mut (*ptr).next) }
    }
}

/// The view of a [`Node`].
pub struct NodeMut {
    _t: PhantomData<()>,
    _tail: ViewTail,
}

/// Links a new node holding `value` at the head of the list rooted at `head`, inside
/// the open transaction: one allocation (fresh, logged for redo) and one 8-byte
/// snapshot of the head pointer.
pub fn push_front(head: &mut OptionPBoxMut<Node>, value: u64, payload: [u8; 40]) -> pmem::Result<()> {
    let p = std::ptr::from_mut(head).cast::<Option<PBox<Node>>>();
    // SAFETY: the view lies over a valid `Option<PBox<Node>>` in a pool whose
    // transaction is open on this thread. The old head is moved (bitwise) into the new
    // node; the head is snapshotted and set to `None` first so that `insert` frees
    // nothing, then `insert` points it at the new node. `PBox` has no `Drop`.
    unsafe {
        let old = std::ptr::read(p);
        raw::snapshot_value(p);
        std::ptr::write(p, None);
        head.insert(Node { value, payload, next: old })?;
    }
    Ok(())
}

/// The initial payload of record `i`.
pub fn payload(i: u64) -> [u8; 40] {
    let mut p = [0u8; 40];
    p[..8].copy_from_slice(&i.to_le_bytes());
    p
}
