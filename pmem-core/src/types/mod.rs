//! What a pool can hold: the storable-type traits, persistent pointers, layout
//! fingerprints, and the integrity walk over owned pointers.

mod check;
pub mod fingerprint;
mod free;
mod option_layout;
mod psafe;
mod ptr;
mod visitor;

pub(crate) use check::check_pool;
pub use check::{visit_erased, CheckReport};
pub use free::free_owned_later;
pub use psafe::{plain_view, Invalid, PInit, PSafe, Persistent, Plain};
pub use ptr::{OptionPBoxMut, PBox, PBoxMut, PPtr};
pub use visitor::{VisitFn, Visitor};
