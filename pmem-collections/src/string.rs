//! [`PString`]: a UTF-8 string in pool memory, and its view [`PStringMut`].
//!
//! A `PString` is a `PVec<u8>` whose bytes are UTF-8 (the same 24-byte header and one
//! owned buffer). Write paths only ever store whole `&str`s or `char`s, so the bytes
//! stay UTF-8; reads still validate them (`std::str::from_utf8`, which is fast) because
//! the bytes come from a file that may be damaged, and reading one must never be
//! undefined behaviour. `visit_owned` validates them too, so `Pool::check` reports a
//! damaged string as [`Error::Corrupted`].

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::ptr;

use pmem_core::schema::{Shape, TypeSchema};
use pmem_core::{
    fingerprint, raw, view_cast, Error, PInit, PSafe, Persistent, Result, ViewTail, Visitor,
};

use crate::vec::{Elem, PVec, RawVec};

mod edit;

pub use edit::Drain;

const EL: Elem = Elem::of::<u8>();

/// A UTF-8 string stored in a pool: the persistent counterpart of [`String`].
///
/// Reads are `str` reads (`PString: Deref<Target = str>`), and a `PString` compares,
/// orders and hashes like its `str`, so a `PHashMap<PString, V>` is queried with a
/// `&str`. Changes go through [`PStringMut`]. Writing a `&str` or `String` where a
/// `PString` is expected (`vec.push("ada")`, `map.insert("ada", 1)`) allocates it in the
/// destination pool.
///
/// # Examples
///
/// ```
/// use pmem_collections::PString;
/// let mut pool = pmem_core::Pool::<PString>::volatile()?;
/// pool.tx(|tx| tx.root_mut().push_str("hello"))?;
/// pool.read(|s| {
///     assert_eq!(s, "hello");
///     assert!(s.starts_with("he")); // any `str` method
///     assert_eq!(s.to_string(), "hello");
/// })?;
/// # Ok::<(), pmem_core::Error>(())
/// ```
#[repr(transparent)]
#[derive(Default)]
pub struct PString {
    vec: PVec<u8>,
}

impl PString {
    /// An empty string that owns nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pmem_collections::PString::new(), "");
    /// ```
    pub const fn new() -> Self {
        PString { vec: PVec::new() }
    }

    /// The string as a `str` (what `Deref` answers).
    ///
    /// # Panics
    /// With "pmem: corrupted pool: ..." if the header is inconsistent or the bytes are
    /// not UTF-8 (only a damaged pool file can cause either).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pmem_collections::PString::new().as_str(), "");
    /// ```
    #[track_caller]
    pub fn as_str(&self) -> &str {
        match std::str::from_utf8(&self.vec) {
            Ok(s) => s,
            Err(e) => panic!(
                "pmem: corrupted pool: string is not UTF-8 ({e}) at offset {:#x}",
                self.vec.raw.off
            ),
        }
    }

    /// The bytes, without the UTF-8 check.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(pmem_collections::PString::new().as_bytes().is_empty());
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.vec
    }

    /// The length in bytes (without the UTF-8 check).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pmem_collections::PString::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.vec.len()
    }

    /// Is the string empty?
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(pmem_collections::PString::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.vec.is_empty()
    }

    /// Bytes the buffer holds without growing.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pmem_collections::PString::new().capacity(), 0);
    /// ```
    pub fn capacity(&self) -> usize {
        self.vec.capacity()
    }
}

impl Deref for PString {
    type Target = str;
    /// # Panics
    /// As [`PString::as_str`].
    #[track_caller]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for PString {
    fn as_ref(&self) -> &str {
        self
    }
}
impl AsRef<[u8]> for PString {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}
impl Borrow<str> for PString {
    fn borrow(&self) -> &str {
        self
    }
}

impl PartialEq for PString {
    fn eq(&self, other: &PString) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl Eq for PString {}
impl PartialEq<str> for PString {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl PartialEq<&str> for PString {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl PartialEq<String> for PString {
    fn eq(&self, other: &String) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl PartialEq<PString> for str {
    fn eq(&self, other: &PString) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl PartialEq<PString> for &str {
    fn eq(&self, other: &PString) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl PartialEq<PString> for String {
    fn eq(&self, other: &PString) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl PartialOrd for PString {
    fn partial_cmp(&self, other: &PString) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for PString {
    /// Orders like `str` (bytewise).
    fn cmp(&self, other: &PString) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}
impl Hash for PString {
    /// Hashes like `str`, as `Borrow<str>` requires.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}
impl fmt::Display for PString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}
impl fmt::Debug for PString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

// SAFETY: a `PVec<u8>` header: offsets and counts, no addresses.
unsafe impl PSafe for PString {}

// SAFETY: every `PStringMut` method snapshots what it changes; `visit_owned` reports the
// buffer (and validates the bytes); `free_owned` frees exactly it.
unsafe impl Persistent for PString {
    type View = PStringMut;
    const TYPE_NAME: &'static str = "PString";
    const FINGERPRINT: u64 =
        fingerprint::fp_leaf("PString", size_of::<PString>(), align_of::<PString>());
    const SCHEMA: &'static TypeSchema = &TypeSchema {
        name: "PString",
        size: size_of::<PString>(),
        align: align_of::<PString>(),
        fingerprint: Self::FINGERPRINT,
        shape: Shape::Collection {
            kind: "PString",
            params: &[],
        },
    };

    unsafe fn view_mut<'a>(ptr: *mut Self) -> &'a mut PStringMut {
        // SAFETY: `PStringMut` ends in a `ViewTail`; the fat pointer covers the header,
        // which the caller lends exclusively for `'a`.
        unsafe { &mut *view_cast!(ptr, Self => PStringMut) }
    }

    fn visit_owned(&self, v: &mut Visitor<'_>) -> Result<()> {
        self.vec.visit_owned(v)?;
        if let Err(e) = std::str::from_utf8(self.as_bytes()) {
            return Err(Error::Corrupted {
                what: format!("string is not UTF-8 ({e})"),
                offset: self.vec.raw.off,
            });
        }
        Ok(())
    }

    unsafe fn free_owned(ptr: *mut Self) -> Result<()> {
        // SAFETY: caller's contract; the bytes own nothing.
        unsafe { RawVec::free_buffer(ptr.cast::<RawVec>(), EL) }
    }

    unsafe fn clone_into_pool(&self, dst: *mut Self) -> Result<()> {
        // SAFETY: forwarded contract.
        unsafe { init_str(self.as_str(), dst) }
    }
}

/// Writes `s` as a new string at `dst` (an exact-size buffer, or none when empty).
///
/// # Safety
/// - as for [`PInit::init`].
unsafe fn init_str(s: &str, dst: *mut PString) -> Result<()> {
    // SAFETY: caller's contract: `dst` is writable and logged.
    unsafe {
        ptr::write(dst, PString::new());
        let view = PString::view_mut(dst);
        view.reserve_exact(s.len())?;
        view.push_str(s)
    }
}

// SAFETY: `init_str` fully initialises `*dst`, allocating only in `dst`'s pool.
unsafe impl PInit<PString> for &str {
    unsafe fn init(self, dst: *mut PString) -> Result<()> {
        // SAFETY: forwarded contract.
        unsafe { init_str(self, dst) }
    }
}
// SAFETY: as for `&str`.
unsafe impl PInit<PString> for &String {
    unsafe fn init(self, dst: *mut PString) -> Result<()> {
        // SAFETY: forwarded contract.
        unsafe { init_str(self, dst) }
    }
}
// SAFETY: as for `&str`.
unsafe impl PInit<PString> for String {
    unsafe fn init(self, dst: *mut PString) -> Result<()> {
        // SAFETY: forwarded contract.
        unsafe { init_str(&self, dst) }
    }
}
// SAFETY: as for `&str`.
unsafe impl PInit<PString> for char {
    unsafe fn init(self, dst: *mut PString) -> Result<()> {
        // SAFETY: forwarded contract.
        unsafe { init_str(self.encode_utf8(&mut [0; 4]), dst) }
    }
}

/// The view of a [`PString`] inside a transaction: `String`'s write methods, each logging
/// exactly the bytes it changes (`push_str` logs the appended range and the length
/// word). Reads go through `Deref` to [`PString`] and on to `str`.
pub struct PStringMut {
    _tail: ViewTail,
}

impl Deref for PStringMut {
    type Target = PString;
    fn deref(&self) -> &PString {
        // SAFETY: a view lies over a valid `PString`.
        unsafe { &*ptr::from_ref(self).cast::<PString>() }
    }
}

impl PStringMut {
    pub(crate) fn hdr(&mut self) -> *mut RawVec {
        ptr::from_mut(self).cast()
    }

    /// Appends `s`.
    ///
    /// Logs the appended bytes and the length word; grows like `PVec` when full.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().push_str("ab")?;
    ///     tx.root_mut().push_str("cd")
    /// })?;
    /// assert_eq!(pool.read(|s| s.to_string())?, "abcd");
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn push_str(&mut self, s: &str) -> Result<()> {
        if s.is_empty() {
            return Ok(());
        }
        let h = self.hdr();
        // SAFETY: this view's header, in the open transaction's pool.
        unsafe { RawVec::reserve(h, s.len(), EL, false)? };
        let len = self.len();
        let dst = self.vec.elem_ptr(len);
        // SAFETY: bytes `len..len + s.len()` are inside the buffer; logged before being
        // written; `s` cannot alias them (they are beyond `len`, never handed out).
        unsafe {
            raw::snapshot(dst, s.len());
            ptr::copy_nonoverlapping(s.as_ptr(), dst, s.len());
            RawVec::set_len(h, len + s.len());
        }
        Ok(())
    }

    /// Appends one character.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().push('é'))?;
    /// assert_eq!(pool.read(|s| s.to_string())?, "é");
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn push(&mut self, c: char) -> Result<()> {
        self.push_str(c.encode_utf8(&mut [0; 4]))
    }

    /// Removes the last character and returns it, or `None` if the string is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// let c = pool.tx(|tx| {
    ///     tx.root_mut().push_str("hé")?;
    ///     Ok::<_, pmem_core::Error>(tx.root_mut().pop())
    /// })?;
    /// assert_eq!(c, Some('é'));
    /// assert_eq!(pool.read(|s| s.to_string())?, "h");
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn pop(&mut self) -> Option<char> {
        let c = self.chars().next_back()?;
        let new_len = self.len() - c.len_utf8();
        let h = self.hdr();
        // SAFETY: `new_len` is a char boundary below `len`.
        unsafe { RawVec::set_len(h, new_len) };
        Some(c)
    }

    /// Replaces the whole contents with `s` (what `*string = s.to_owned()` does for a
    /// `String`; named `set` like every other whole-value overwrite in pmem, so that
    /// `str::replace(from, to)` stays reachable through `Deref`).
    ///
    /// Reuses the buffer when it is large enough (logging only the bytes written and the
    /// length word); otherwise allocates a fresh one, freeing the old one at commit. An
    /// allocation error leaves the string unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().push_str("draft")?;
    ///     tx.root_mut().set("final")?;
    ///     assert_eq!(tx.root().replace("al", "ish"), "finish"); // `str::replace`
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|s| s.to_string())?, "final");
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn set(&mut self, s: &str) -> Result<()> {
        let h = self.hdr();
        if s.len() > self.capacity() {
            // SAFETY: this view's header; with the length at 0 nothing is copied into
            // the new buffer. On an allocation error the old contents are kept.
            unsafe {
                let old_len = self.len();
                RawVec::set_len(h, 0);
                if let Err(e) = RawVec::reserve(h, s.len(), EL, false) {
                    RawVec::set_len(h, old_len);
                    return Err(e);
                }
            }
        } else {
            // SAFETY: as above; `0 <= len`.
            unsafe { RawVec::set_len(h, 0) };
        }
        self.push_str(s)
    }

    /// Empties the string, keeping its buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().push_str("abc")?;
    ///     tx.root_mut().clear();
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert!(pool.read(|s| s.is_empty())?);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn clear(&mut self) {
        self.truncate(0);
    }

    /// Shortens the string to `new_len` bytes. Does nothing if `new_len >= len`.
    ///
    /// # Panics
    /// If `new_len` is not on a `char` boundary.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().push_str("hello")?;
    ///     tx.root_mut().truncate(2);
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|s| s.to_string())?, "he");
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn truncate(&mut self, new_len: usize) {
        if new_len >= self.len() {
            return;
        }
        assert!(
            self.is_char_boundary(new_len),
            "new_len (is {new_len}) is not on a char boundary"
        );
        let h = self.hdr();
        // SAFETY: `new_len < len`, on a char boundary.
        unsafe { RawVec::set_len(h, new_len) };
    }

    /// Makes room for at least `additional` more bytes.
    ///
    /// # Panics
    /// If the capacity overflows `usize`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().reserve(40))?;
    /// assert!(pool.read(|s| s.capacity())? >= 40);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn reserve(&mut self, additional: usize) -> Result<()> {
        let h = self.hdr();
        // SAFETY: this view's header, in the open transaction's pool.
        unsafe { RawVec::reserve(h, additional, EL, false) }
    }

    /// Makes room for exactly `additional` more bytes.
    ///
    /// # Panics
    /// If the capacity overflows `usize`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().reserve_exact(5))?;
    /// assert_eq!(pool.read(|s| s.capacity())?, 5);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn reserve_exact(&mut self, additional: usize) -> Result<()> {
        let h = self.hdr();
        // SAFETY: this view's header, in the open transaction's pool.
        unsafe { RawVec::reserve(h, additional, EL, true) }
    }

    /// Moves the bytes into a buffer of exactly `len` bytes (an empty string frees its
    /// buffer), freeing the old one at commit.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// let empty_pool = pool.check()?.allocations;
    /// pool.tx(|tx| {
    ///     tx.root_mut().push_str("abc")?;
    ///     tx.root_mut().clear();
    ///     tx.root_mut().shrink_to_fit()
    /// })?;
    /// assert_eq!(pool.read(|s| s.capacity())?, 0);
    /// assert_eq!(pool.check()?.allocations, empty_pool); // the buffer was freed
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn shrink_to_fit(&mut self) -> Result<()> {
        let len = self.len();
        if self.capacity() == len {
            return Ok(());
        }
        let h = self.hdr();
        // SAFETY: this view's header, in the open transaction's pool.
        unsafe { RawVec::realloc(h, len, EL) }
    }
}

/// Serialises as a string, as serde does for `String`.
#[cfg(feature = "serde")]
impl serde::Serialize for PString {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
