//! What a pool can hold: the storable-type traits, persistent pointers, layout
//! fingerprints, and the integrity walk over owned pointers.

mod check;
pub mod fingerprint;
mod free;
mod option_box;
mod option_layout;
pub(crate) mod padding;
#[cfg(test)]
mod padding_tests;
mod psafe;
mod ptr;
mod visitor;

pub(crate) use check::check_pool;
pub use check::{visit_erased, CheckReport};
pub use free::free_owned_later;
pub use option_box::OptionPBoxMut;
pub use padding::settle_padding;
pub use psafe::{
    owns_nothing, plain_view, snapshot_plain, zero_padding_of, CopyOf, Invalid, PInit, PSafe,
    Persistent, Plain,
};
pub use ptr::{PBox, PBoxMut, PPtr};
pub use visitor::{VisitFn, Visitor};
