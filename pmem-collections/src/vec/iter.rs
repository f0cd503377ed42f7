//! The iterators that `PVecMut`'s removing methods answer: [`Drain`], [`Splice`]
//! and [`ExtractIf`].

use std::iter::FusedIterator;
use std::marker::PhantomData;

use pmem_core::Persistent;

use super::compact::Compact;
use super::view::PVecMut;
use crate::CopyOut;

copied_out_iter!(
    /// An iterator over the elements removed by [`PVecMut::drain`], front to back.
    ///
    /// The range is removed when `drain` is called (its elements are copied out first: they
    /// are plain data), so dropping the iterator early, or leaking it, changes nothing more.
    ///
    /// This `struct` is created by the [`drain`](PVecMut::drain) method on [`PVecMut`].
    Drain<T> => T, borrows T, double_ended
);

copied_out_iter!(
    /// An iterator over the elements that [`PVecMut::splice`] replaced, front to back.
    ///
    /// The replacement is done when `splice` is called (unlike std's, which finishes it
    /// when the iterator is dropped), so dropping or leaking the iterator changes nothing.
    ///
    /// This `struct` is created by the [`splice`](PVecMut::splice) method on [`PVecMut`].
    Splice<T> => T, borrows T, double_ended
);

/// An iterator that removes the elements of a range for which a predicate answers
/// `true`, and yields them.
///
/// Lazy, like std's: the predicate runs as the iterator advances; elements it has not
/// reached when the iterator is dropped are kept. The vector's length is set to the
/// range's start when the iterator is made and written back when it is dropped, so a
/// leaked iterator leaves the vector shortened (plain data: nothing is leaked in the
/// pool), never with duplicates.
///
/// This `struct` is created by the [`extract_if`](PVecMut::extract_if) method on
/// [`PVecMut`].
pub struct ExtractIf<'a, T: Persistent, F> {
    pub(crate) pass: Compact<T>,
    pub(crate) end: usize,
    pub(crate) pred: F,
    pub(crate) _m: PhantomData<&'a mut PVecMut<T>>,
}

impl<T: CopyOut, F: FnMut(&mut T) -> bool> Iterator for ExtractIf<'_, T, F> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        while let Some(p) = self.pass.current(self.end) {
            // SAFETY: an initialised element of the borrowed vector, viewed (plain data:
            // snapshotted, then `&mut`) while nothing else refers to it.
            let take = (self.pred)(unsafe { T::view_mut(p) });
            if take {
                // SAFETY: plain data: the copy owns nothing; its slot becomes a gap.
                let out = unsafe { p.read() };
                self.pass.remove();
                return Some(out);
            }
            self.pass.keep();
        }
        None
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.end - self.pass.position()))
    }
}

impl<T: CopyOut, F: FnMut(&mut T) -> bool> FusedIterator for ExtractIf<'_, T, F> {}
