//! [`PVec<T>`]: a growable array in pool memory, and its view [`PVecMut<T>`].

mod compact;
mod edit;
mod iter;
mod pvec;
mod raw;
mod view;

pub(crate) use edit::{bounds, too_large};
pub use iter::{Drain, ExtractIf, Splice};
pub(crate) use pvec::collection_fp;
pub use pvec::PVec;
pub(crate) use raw::{capacity_overflow, replace_in_place, Elem, RawVec};
pub use view::{IterMut, PVecMut};
