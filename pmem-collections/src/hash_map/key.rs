//! [`PKey`]: what an insert takes as a key.

use pmem_core::raw::CopyOf;
use pmem_core::{PInit, Persistent, Plain};

use crate::{PString, PVec};

/// A value that can be written into a pool as a key of type `K`, and be hashed and
/// compared as one before it is written (an insert must look the key up first).
///
/// Every `K` is a `PKey<K>`; `&str`, `&String` and `String` are `PKey<PString>` (looked up
/// as `str`); `&[T]` and `Vec<T>` are `PKey<PVec<T>>` (looked up as `[T]`). So a
/// `PHashMap<PString, u64>` takes `map.insert("ada", 5)` and allocates the key only when
/// it is new.
///
/// A lookup compares `key()` with stored keys through `K: Borrow<Self::Key>`; the
/// written `K` must hash and compare equal to `key()` (as `Borrow` requires), or the
/// entry will not be found again.
///
/// # Examples
///
/// ```
/// use pmem_collections::{PKey, PString};
/// fn lookup_form<L: PKey<PString>>(k: &L) -> &L::Key { k.key() }
/// assert_eq!(lookup_form(&"ada"), "ada");
/// ```
pub trait PKey<K: Persistent>: PInit<K> {
    /// The borrowed form `K` and `Self` are compared as (`str` for `PString`).
    type Key: ?Sized;
    /// `self` in its borrowed form.
    fn key(&self) -> &Self::Key;
}

impl<T: Persistent> PKey<T> for T {
    type Key = T;
    fn key(&self) -> &T {
        self
    }
}

/// A key of another pool, copied in by `clone_into_pool` (compaction).
impl<T: Persistent> PKey<T> for CopyOf<'_, T> {
    type Key = T;
    fn key(&self) -> &T {
        self.0
    }
}

impl PKey<PString> for &str {
    type Key = str;
    fn key(&self) -> &str {
        self
    }
}

impl PKey<PString> for &String {
    type Key = str;
    fn key(&self) -> &str {
        self
    }
}

impl PKey<PString> for String {
    type Key = str;
    fn key(&self) -> &str {
        self
    }
}

impl<T: Plain> PKey<PVec<T>> for &[T] {
    type Key = [T];
    fn key(&self) -> &[T] {
        self
    }
}

impl<T: Persistent> PKey<PVec<T>> for Vec<T> {
    type Key = [T];
    fn key(&self) -> &[T] {
        self
    }
}
