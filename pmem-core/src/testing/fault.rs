//! Deliberately broken engine variants, for proving that the crash-state harness
//! catches them (ARCHITECTURE §10; `tests/broken_variants.rs`). The variants and the
//! injection points live with the code they break (`inject`); this is the switch.

pub use crate::inject::Broken;

/// Switches the engine (process-wide) into a broken variant, or back with `None`.
#[cfg(feature = "testing")]
pub fn set_broken(v: Option<Broken>) {
    crate::inject::set(v);
}
