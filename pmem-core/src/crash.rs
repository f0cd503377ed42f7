//! Crash-state harness (being written).
