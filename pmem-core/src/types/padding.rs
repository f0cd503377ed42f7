//! Zeroing the bytes a typed write leaves uninitialised (ARCHITECTURE §12.1, "Padding").
//!
//! `ptr::write` of a value with padding leaves the padding bytes at the destination
//! uninitialised in Rust's abstract machine (a typed copy copies fields, not padding),
//! and the commit reads every written byte as `u8` (copied into the log, checksummed):
//! reading uninitialised bytes as integers is undefined behaviour, and on real hardware
//! it leaks whatever bytes the stack held into the file. So every typed write the
//! library performs is followed by `zero_padding`, which walks the type's schema (field
//! offsets and sizes) and writes 0 into every byte no field covers; for an enum, every
//! byte outside its tag and its active variant's fields.

use crate::format::schema::{FieldSchema, Shape, TypeSchema};

/// Writes 0 into the padding of the value of type `s` at `p`.
///
/// An `Option<T>` is zeroed by the typed function its `Persistent::schema` registered
/// (`register`): the schema does not say where rustc keeps the tag.
///
/// # Safety
/// - `p` points to an initialised (apart from padding) value of the type `s` describes,
///   valid for writes of `s.size` bytes, and nothing else refers to it.
pub(crate) unsafe fn zero_padding(s: &'static TypeSchema, p: *mut u8) {
    match &s.shape {
        Shape::Struct(fields) | Shape::Tuple(fields) => {
            // SAFETY: caller's contract; the fields lie inside the value.
            unsafe { zero_between(fields, 0, s.size, p) }
        }
        Shape::Array { elem, len } => {
            let e = elem();
            if matches!(e.shape, Shape::Primitive | Shape::Pointer { .. }) {
                return;
            }
            for i in 0..*len {
                // SAFETY: element `i` lies inside the array.
                unsafe { zero_padding(e, p.add(i * e.size)) };
            }
        }
        Shape::Enum { repr, variants } => {
            let width = match *repr {
                "u8" | "i8" => 1,
                "u16" | "i16" => 2,
                "u32" | "i32" => 4,
                "u64" | "i64" => 8,
                _ => return,
            };
            let mut raw = [0u8; 8];
            // SAFETY: a `#[repr(int)]` enum starts with its tag, `width` initialised bytes.
            unsafe { std::ptr::copy_nonoverlapping(p, raw.as_mut_ptr(), width) };
            let unsigned = u64::from_le_bytes(raw);
            let signed = if repr.starts_with('i') {
                let shift = 64 - 8 * width as u32;
                i128::from(((unsigned << shift) as i64) >> shift)
            } else {
                i128::from(unsigned)
            };
            // An invalid tag (hostile bytes) has no variant: leave the value alone.
            if let Some(v) = variants.iter().find(|v| v.discriminant == signed) {
                // SAFETY: the active variant's fields lie inside the value, after the tag.
                unsafe { zero_between(v.fields, width, s.size, p) }
            }
        }
        Shape::Option(_) => {
            if let Some(f) = typed(s) {
                // SAFETY: `f` was registered for this schema by its own type.
                unsafe { f(p) }
            }
        }
        // Scalars, pointers and collection headers have no padding.
        _ => {}
    }
}

thread_local! {
    /// Values handed out as `&mut` (plain views) in the transactions open on this
    /// thread, with their zeroers: run just before the commit reads the bytes.
    static PENDING: std::cell::RefCell<Vec<(usize, Zero)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Remembers that a value at `p` (snapshotted, in the transaction open on this thread)
/// is handed out as `&mut`: `zero` (its type's padding zeroer) runs on it at commit
/// ([`before_commit`]).
pub(crate) fn remember(p: *mut u8, zero: Zero) {
    PENDING.with(|v| v.borrow_mut().push((p.expose_provenance(), zero)));
}

/// Zeroes the padding of every value of the pool at `base` handed out as `&mut` in the
/// transaction that is about to commit (`commit == true`), or forgets them (abort).
///
/// # Safety
/// - with `commit`, the transaction of the pool at `base` on this thread has ended
///   successfully and not yet committed: no view is live, and every remembered value
///   is still snapshotted, allocated and holds a valid value of its type (frees take
///   effect at commit, and memory freed in a transaction is not reused by it).
pub(crate) unsafe fn before_commit(base: usize, commit: bool) {
    let mine = |a: usize| crate::media::region_base(a) == base;
    let due: Vec<(usize, Zero)> = PENDING.with(|v| {
        let mut v = v.borrow_mut();
        if v.is_empty() {
            return Vec::new(); // no allocation: the common case
        }
        if v.iter().all(|&(a, _)| mine(a)) {
            return std::mem::take(&mut *v);
        }
        let (due, rest) = v.drain(..).partition(|&(a, _)| mine(a));
        *v = rest;
        due
    });
    if commit {
        for (a, f) in due {
            // SAFETY: caller's contract.
            unsafe { f(std::ptr::with_exposed_provenance_mut(a)) };
        }
    }
}

/// Zeroes now the padding of every value remembered (handed out as `&mut`) at an
/// address in `[p, p + len)`, and forgets them. A collection calls it before it moves
/// the bytes of its elements (a shift, a swap, a grown buffer, a split node): a value
/// assigned through `&mut` earlier in the transaction would otherwise carry its
/// uninitialised padding to the new place, where the zeroer remembered for the old
/// address does not reach (ARCHITECTURE §12.1, "Padding").
///
/// # Safety
/// - every value remembered in the range is still a valid value of its type, allocated,
///   and no reference to it is alive (the collection holding it is borrowed mutably by
///   the caller, so the views it handed out have ended).
pub unsafe fn settle_padding(p: *const u8, len: usize) {
    let (start, end) = (p.addr(), p.addr().saturating_add(len));
    let due: Vec<(usize, Zero)> = PENDING.with(|v| {
        let mut v = v.borrow_mut();
        if v.is_empty() || len == 0 {
            return Vec::new(); // no allocation: the common case
        }
        let (due, rest) = v.drain(..).partition(|&(a, _)| a >= start && a < end);
        *v = rest;
        due
    });
    for (a, f) in due {
        // SAFETY: caller's contract: a valid value of the zeroer's type, unaliased.
        unsafe { f(std::ptr::with_exposed_provenance_mut(a)) };
    }
}

/// A typed padding zeroer: `zero_padding` for one type, written with its layout.
pub(crate) type Zero = unsafe fn(*mut u8);

/// Typed zeroers by schema address, for shapes the schema cannot describe (`Option`).
static TYPED: std::sync::RwLock<Vec<(usize, Zero)>> = std::sync::RwLock::new(Vec::new());

fn typed(s: &'static TypeSchema) -> Option<Zero> {
    let key = std::ptr::from_ref(s) as usize;
    TYPED
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .find(|(k, _)| *k == key)
        .map(|&(_, f)| f)
}

/// Registers `f` as the zeroer of values described by `s` (called by the type's
/// `Persistent::schema`, which every schema walk goes through).
pub(crate) fn register(s: &'static TypeSchema, f: Zero) -> &'static TypeSchema {
    if typed(s).is_none() {
        let mut t = TYPED
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = std::ptr::from_ref(s) as usize;
        if !t.iter().any(|(k, _)| *k == key) {
            t.push((key, f));
        }
    }
    s
}

/// Zeroes the bytes of `[start, end)` at `p` that no field covers, and the fields'
/// own padding.
///
/// # Safety
/// - as for [`zero_padding`]; the fields lie inside `[start, end)`.
unsafe fn zero_between(fields: &'static [FieldSchema], start: usize, end: usize, p: *mut u8) {
    // Fields usually come in offset order (`repr(C)`, tuples); otherwise sort a copy.
    if !fields.is_sorted_by_key(|f| f.offset) {
        let mut order: Vec<&'static FieldSchema> = fields.iter().collect();
        order.sort_unstable_by_key(|f| f.offset);
        // SAFETY: forwarded contract.
        return unsafe { zero_fields(order.into_iter(), start, end, p) };
    }
    // SAFETY: forwarded contract.
    unsafe { zero_fields(fields.iter(), start, end, p) }
}

/// [`zero_between`] over fields in offset order.
///
/// # Safety
/// - as for [`zero_padding`]; the fields lie inside `[start, end)`.
unsafe fn zero_fields<'f>(
    fields: impl Iterator<Item = &'f FieldSchema>,
    start: usize,
    end: usize,
    p: *mut u8,
) {
    let mut at = start;
    for f in fields {
        let (off, ty) = (f.offset, (f.ty)());
        if off > at {
            // SAFETY: `[at, off)` lies inside the value and belongs to no field.
            unsafe { p.add(at).write_bytes(0, off - at) };
        }
        // SAFETY: the field lies inside the value.
        unsafe { zero_padding(ty, p.add(off)) };
        at = at.max(off + ty.size);
    }
    if end > at {
        // SAFETY: the tail after the last field, inside the value.
        unsafe { p.add(at).write_bytes(0, end - at) };
    }
}
