//! The rest of `String`'s write methods on [`PStringMut`]: edits in the middle
//! (`insert`, `insert_str`, `remove`, `replace_range`, `retain`, `drain`, `split_off`),
//! `extend_from_within`, capacity (`shrink_to`, `try_reserve*`), mutable access
//! (`as_mut_str`, `as_mut_vec`) and the `+=`, `write!` and `Extend` traits.
//!
//! Every edit goes through [`PStringMut::splice_bytes`]: room first (a fresh buffer
//! when it must grow, so an allocation error changes nothing), then one logged range
//! from the edit's start to the end of the longer of the old and new strings, then the
//! length word.

use std::fmt;
use std::iter::FusedIterator;
use std::marker::PhantomData;
use std::ops::{AddAssign, RangeBounds};
use std::ptr;

use pmem_core::{raw, Persistent, Result};

use super::{PStringMut, EL};
use crate::vec::{bounds, too_large, PVec, PVecMut, RawVec};

impl PStringMut {
    /// Replaces bytes `start..end` with `with`, making room first.
    ///
    /// # Panics
    /// Unless `start..end` lies on char boundaries within the string (callers check
    /// with std's messages first; this is the last line of defence for UTF-8).
    fn splice_bytes(&mut self, start: usize, end: usize, with: &[u8]) -> Result<()> {
        let len = self.len();
        assert!(
            start <= end
                && end <= len
                && self.is_char_boundary(start)
                && self.is_char_boundary(end),
            "pmem: edit of a PString outside char boundaries"
        );
        let new_len = len - (end - start) + with.len();
        if new_len > len {
            self.reserve(new_len - len)?;
        }
        if start == end && with.is_empty() {
            return Ok(());
        }
        let h = self.hdr();
        let base = self.vec.elem_ptr(0);
        // SAFETY: the buffer holds at least `max(len, new_len)` bytes (reserved above);
        // that range from `start` is logged before it changes; `with` is not in this
        // buffer (the view is borrowed exclusively); the result is UTF-8 because both
        // cuts are char boundaries and `with` is UTF-8 (every caller passes a `str`).
        unsafe {
            raw::snapshot(base.add(start), len.max(new_len) - start);
            ptr::copy(base.add(end), base.add(start + with.len()), len - end);
            ptr::copy_nonoverlapping(with.as_ptr(), base.add(start), with.len());
            RawVec::set_len(h, new_len);
        }
        Ok(())
    }

    /// Inserts `ch` at byte position `idx`.
    ///
    /// Logs the bytes from `idx` to the new end and the length word.
    ///
    /// # Panics
    /// If `idx` is larger than the length or not on a char boundary.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().push_str("ac")?;
    ///     tx.root_mut().insert(1, 'b')
    /// })?;
    /// assert_eq!(pool.read(|s| s.to_string())?, "abc");
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn insert(&mut self, idx: usize, ch: char) -> Result<()> {
        self.insert_str(idx, ch.encode_utf8(&mut [0; 4]))
    }

    /// Inserts `string` at byte position `idx`.
    ///
    /// # Panics
    /// If `idx` is larger than the length or not on a char boundary.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().push_str("ad lovelace")?;
    ///     tx.root_mut().insert_str(2, "a")
    /// })?;
    /// assert_eq!(pool.read(|s| s.to_string())?, "ada lovelace");
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn insert_str(&mut self, idx: usize, string: &str) -> Result<()> {
        assert!(
            self.is_char_boundary(idx),
            "assertion failed: self.is_char_boundary(idx)"
        );
        self.splice_bytes(idx, idx, string.as_bytes())
    }

    /// Removes the char at byte position `idx` and answers it.
    ///
    /// # Panics
    /// If `idx` is not below the length or not on a char boundary.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// let c = pool.tx(|tx| {
    ///     tx.root_mut().push_str("héllo")?;
    ///     Ok::<_, pmem_core::Error>(tx.root_mut().remove(1))
    /// })?;
    /// assert_eq!(c, 'é');
    /// assert_eq!(pool.read(|s| s.to_string())?, "hllo");
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn remove(&mut self, idx: usize) -> char {
        let Some(ch) = self[idx..].chars().next() else {
            panic!("cannot remove a char from the end of a string");
        };
        self.shrink_bytes(idx, idx + ch.len_utf8(), b"");
        ch
    }

    /// [`splice_bytes`](Self::splice_bytes) for edits that do not grow the string, so
    /// need no room and cannot fail.
    fn shrink_bytes(&mut self, start: usize, end: usize, with: &[u8]) {
        debug_assert!(with.len() <= end - start);
        if let Err(e) = self.splice_bytes(start, end, with) {
            unreachable!("an edit that shrinks a string allocated and failed: {e}");
        }
    }

    /// Keeps only the chars for which `f` answers `true`.
    ///
    /// The kept chars are gathered first (outside the pool; a panic in `f` changes
    /// nothing), then the bytes from the first removed char on are logged and
    /// rewritten.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().push_str("f_o_ob_ar")?;
    ///     tx.root_mut().retain(|c| c != '_');
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|s| s.to_string())?, "foobar");
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn retain(&mut self, mut f: impl FnMut(char) -> bool) {
        let mut first = None;
        let mut kept = String::new();
        for (i, c) in self.char_indices() {
            let keep = f(c);
            match (keep, first) {
                (false, None) => first = Some(i),
                (true, Some(_)) => kept.push(c),
                _ => {}
            }
        }
        if let Some(start) = first {
            let len = self.len();
            self.shrink_bytes(start, len, kept.as_bytes());
        }
    }

    /// Removes the chars in the byte range `range` and answers an iterator over them.
    ///
    /// The range is removed at once (logging the bytes from its start to the end and
    /// the length word), whether or not the iterator is used up.
    ///
    /// # Panics
    /// If the range is out of bounds, decreasing, or not on char boundaries.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// let gone = pool.tx(|tx| {
    ///     tx.root_mut().push_str("α is alpha")?;
    ///     Ok::<_, pmem_core::Error>(tx.root_mut().drain(..3).collect::<String>())
    /// })?;
    /// assert_eq!(gone, "α ");
    /// assert_eq!(pool.read(|s| s.to_string())?, "is alpha");
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn drain(&mut self, range: impl RangeBounds<usize>) -> Drain<'_> {
        let (start, end) = bounds(range, self.len());
        let gone = self[start..end].to_owned();
        self.shrink_bytes(start, end, b"");
        Drain {
            front: 0,
            back: gone.len(),
            string: gone,
            _m: PhantomData,
        }
    }

    /// Splits the string at byte position `at`: the bytes `at..` are removed and
    /// answered as a `String` (std answers a new string; a string in the pool cannot
    /// be handed out). Keeps the capacity.
    ///
    /// # Panics
    /// If `at` is larger than the length or not on a char boundary.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// let tail = pool.tx(|tx| {
    ///     tx.root_mut().push_str("Hello, World!")?;
    ///     Ok::<_, pmem_core::Error>(tx.root_mut().split_off(7))
    /// })?;
    /// assert_eq!(tail, "World!");
    /// assert_eq!(pool.read(|s| s.to_string())?, "Hello, ");
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn split_off(&mut self, at: usize) -> String {
        assert!(
            self.is_char_boundary(at),
            "assertion failed: self.is_char_boundary(at)"
        );
        let tail = self[at..].to_owned();
        self.truncate(at);
        tail
    }

    /// Replaces the byte range `range` with `replace_with`.
    ///
    /// Grows into a fresh buffer when needed (an allocation error changes nothing);
    /// logs the bytes from the range's start to the end and the length word.
    ///
    /// # Panics
    /// If the range is out of bounds, decreasing, or not on char boundaries.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().push_str("α is alpha, β is beta")?;
    ///     let beta = tx.root().find('β').unwrap();
    ///     tx.root_mut().replace_range(..beta, "Α is capital alpha; ")
    /// })?;
    /// assert_eq!(pool.read(|s| s.to_string())?, "Α is capital alpha; β is beta");
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn replace_range(
        &mut self,
        range: impl RangeBounds<usize>,
        replace_with: &str,
    ) -> Result<()> {
        let (start, end) = bounds(range, self.len());
        assert!(
            self.is_char_boundary(start),
            "assertion failed: self.is_char_boundary(n)"
        );
        assert!(
            self.is_char_boundary(end),
            "assertion failed: self.is_char_boundary(n)"
        );
        self.splice_bytes(start, end, replace_with.as_bytes())
    }

    /// Appends a copy of the byte range `src` of this string.
    ///
    /// # Panics
    /// If the range is out of bounds, decreasing, or not on char boundaries.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().push_str("abcde")?;
    ///     tx.root_mut().extend_from_within(2..)?;
    ///     tx.root_mut().extend_from_within(..2)
    /// })?;
    /// assert_eq!(pool.read(|s| s.to_string())?, "abcdecdeab");
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn extend_from_within(&mut self, src: impl RangeBounds<usize>) -> Result<()> {
        let (start, end) = bounds(src, self.len());
        assert!(
            self.is_char_boundary(start),
            "assertion failed: self.is_char_boundary(start)"
        );
        assert!(
            self.is_char_boundary(end),
            "assertion failed: self.is_char_boundary(end)"
        );
        // The source may move when the buffer grows: copy it out first.
        let piece = self[start..end].to_owned();
        self.push_str(&piece)
    }

    /// Shrinks the buffer to hold at least `min_capacity` bytes (never fewer than the
    /// length), moving the bytes into a fresh buffer; does nothing if the capacity is
    /// already at most that.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().reserve_exact(100)?;
    ///     tx.root_mut().push_str("abc")?;
    ///     tx.root_mut().shrink_to(10)
    /// })?;
    /// assert_eq!(pool.read(|s| s.capacity())?, 10);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn shrink_to(&mut self, min_capacity: usize) -> Result<()> {
        let target = self.len().max(min_capacity);
        if self.capacity() <= target {
            return Ok(());
        }
        let h = self.hdr();
        // SAFETY: this view's header, in the open transaction's pool; `target >= len`.
        unsafe { RawVec::realloc(h, target, EL) }
    }

    /// [`reserve`](Self::reserve) that never panics.
    ///
    /// # Errors
    /// [`Error::UnsupportedLayout`](pmem_core::Error::UnsupportedLayout) when the
    /// capacity overflows `isize::MAX` bytes;
    /// [`Error::OutOfSpace`](pmem_core::Error::OutOfSpace) when it fits but is larger
    /// than the pool's maximum size, as for any allocation. Either way the string is
    /// unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().try_reserve(10)?;
    ///     let e = tx.root_mut().try_reserve(usize::MAX).unwrap_err();
    ///     assert!(matches!(e, pmem_core::Error::UnsupportedLayout { .. }));
    ///     let e = tx.root_mut().try_reserve(1 << 40).unwrap_err(); // 1 TiB
    ///     assert!(matches!(e, pmem_core::Error::OutOfSpace { .. }));
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert!(pool.read(|s| s.capacity())? >= 10);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn try_reserve(&mut self, additional: usize) -> Result<()> {
        self.checked_room(additional)?;
        self.reserve(additional)
    }

    /// [`reserve_exact`](Self::reserve_exact) that never panics (see
    /// [`try_reserve`](Self::try_reserve)).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// pool.tx(|tx| tx.root_mut().try_reserve_exact(5))?;
    /// assert_eq!(pool.read(|s| s.capacity())?, 5);
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn try_reserve_exact(&mut self, additional: usize) -> Result<()> {
        self.checked_room(additional)?;
        self.reserve_exact(additional)
    }

    fn checked_room(&self, additional: usize) -> Result<()> {
        match self.len().checked_add(additional) {
            Some(n) if isize::try_from(n).is_ok() => Ok(()),
            _ => Err(too_large(1)),
        }
    }

    /// The string as a mutable `str`, after logging all of its bytes: for `str`'s own
    /// in-place methods (`make_ascii_uppercase`...), which keep it UTF-8.
    ///
    /// # Panics
    /// With "pmem: corrupted pool: ..." if the bytes are not UTF-8 (a damaged file).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().push_str("ada")?;
    ///     tx.root_mut().as_mut_str().make_ascii_uppercase();
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|s| s.to_string())?, "ADA");
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    pub fn as_mut_str(&mut self) -> &mut str {
        let len = self.len();
        if len == 0 {
            return Default::default();
        }
        let base = self.vec.elem_ptr(0);
        // SAFETY: `len` initialised bytes of this string's buffer, logged before they
        // are lent exclusively for the borrow of `self`.
        let bytes = unsafe {
            raw::snapshot(base, len);
            std::slice::from_raw_parts_mut(base, len)
        };
        let off = self.vec.raw.off;
        match std::str::from_utf8_mut(bytes) {
            Ok(s) => s,
            Err(e) => panic!("pmem: corrupted pool: string is not UTF-8 ({e}) at offset {off:#x}"),
        }
    }

    /// The bytes' vector view, to change the bytes directly.
    ///
    /// # Safety
    /// - the bytes must be UTF-8 again before the view's borrow ends (reads of a
    ///   `PString` check, and panic on anything else, but other code may rely on it).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().push_str("olleh")?;
    ///     // SAFETY: reversing ASCII bytes keeps them UTF-8.
    ///     unsafe { tx.root_mut().as_mut_vec().as_mut_slice().reverse() };
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|s| s.to_string())?, "hello");
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub unsafe fn as_mut_vec(&mut self) -> &mut PVecMut<u8> {
        let p = self.hdr().cast::<PVec<u8>>();
        // SAFETY: a `PString` is a `PVec<u8>` (`repr(transparent)`); its view covers the
        // same bytes and is borrowed exclusively for as long as `self`.
        unsafe { PVec::<u8>::view_mut(p) }
    }
}

impl AddAssign<&str> for PStringMut {
    /// Appends `rhs`: `*name += " lovelace"`. [`push_str`](PStringMut::push_str) does
    /// the same and answers errors; `+=` cannot.
    ///
    /// # Panics
    /// With "`pmem: PString += failed: ...`" when the pool has no room for the bytes
    /// (the panic rolls the transaction back).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// pool.tx(|tx| {
    ///     *tx.root_mut() += "ada";
    ///     *tx.root_mut() += " lovelace";
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// assert_eq!(pool.read(|s| s.to_string())?, "ada lovelace");
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    #[track_caller]
    fn add_assign(&mut self, rhs: &str) {
        if let Err(e) = self.push_str(rhs) {
            panic!("pmem: PString += failed: {e}");
        }
    }
}

impl fmt::Write for PStringMut {
    /// Appends `s` (for `write!`). An allocation error answers `fmt::Error` and leaves
    /// the string as the earlier pieces of the same `write!` left it; use
    /// [`push_str`](PStringMut::push_str) to see the error itself.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::fmt::Write;
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// pool.tx(|tx| {
    ///     write!(tx.root_mut(), "{} + {} = {}", 1, 2, 1 + 2).map_err(|_| pmem_core::Error::ReadOnly)
    /// })?;
    /// assert_eq!(pool.read(|s| s.to_string())?, "1 + 2 = 3");
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_str(s).map_err(|_| fmt::Error)
    }
}

macro_rules! extend {
    ($($(#[$m:meta])* $t:ty => |$s:ident, $x:ident| $push:expr;)*) => {$(
        $(#[$m])*
        impl<'a> Extend<$t> for PStringMut {
            /// Appends every item. Fallible code pushes instead
            /// ([`push`](PStringMut::push), [`push_str`](PStringMut::push_str)), which
            /// answers errors.
            ///
            /// # Panics
            /// With "`pmem: PString::extend failed: ...`" when the pool has no room (the
            /// panic rolls the transaction back).
            #[track_caller]
            fn extend<I: IntoIterator<Item = $t>>(&mut self, iter: I) {
                for $x in iter {
                    let $s = &mut *self;
                    if let Err(e) = $push {
                        panic!("pmem: PString::extend failed: {e}");
                    }
                }
            }
        }
    )*};
}

extend! {
    char => |s, c| s.push(c);
    &'a char => |s, c| s.push(*c);
    &'a str => |s, x| s.push_str(x);
    String => |s, x| s.push_str(&x);
}

/// An iterator over the chars removed by [`PStringMut::drain`], front to back.
///
/// The range is removed when `drain` is called, so dropping the iterator early, or
/// leaking it, changes nothing more.
///
/// This `struct` is created by the [`drain`](PStringMut::drain) method on
/// [`PStringMut`].
pub struct Drain<'a> {
    string: String,
    front: usize,
    back: usize,
    _m: PhantomData<&'a mut PStringMut>,
}

impl Drain<'_> {
    /// The chars not yet yielded, as a `str`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut pool = pmem_core::Pool::<pmem_collections::PString>::volatile()?;
    /// pool.tx(|tx| {
    ///     tx.root_mut().push_str("abc")?;
    ///     let mut d = tx.root_mut().drain(..);
    ///     d.next();
    ///     assert_eq!(d.as_str(), "bc");
    ///     Ok::<_, pmem_core::Error>(())
    /// })?;
    /// # Ok::<(), pmem_core::Error>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.string[self.front..self.back]
    }
}

impl Iterator for Drain<'_> {
    type Item = char;
    fn next(&mut self) -> Option<char> {
        let c = self.as_str().chars().next()?;
        self.front += c.len_utf8();
        Some(c)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n.div_ceil(4), Some(n))
    }
}

impl DoubleEndedIterator for Drain<'_> {
    fn next_back(&mut self) -> Option<char> {
        let c = self.as_str().chars().next_back()?;
        self.back -= c.len_utf8();
        Some(c)
    }
}

impl FusedIterator for Drain<'_> {}
