//! Test scaffolding (the `testing` feature): the crash-state harness and the switch
//! into deliberately broken engine variants.

pub mod crash;
pub mod fault;
