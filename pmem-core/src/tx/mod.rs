//! The open transaction, reached from any address inside its pool: the write path that
//! views, collections and generated code call, and the view types it hands out.

pub(crate) mod raw;
mod view;

pub use view::ViewTail;
