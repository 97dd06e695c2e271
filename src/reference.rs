//! The reference implementation of the hand-over: the `hijack-reference` crate
//! (`reference/` in the repository), re-exported here. It is a crate of its own
//! so that the fuzz build can keep coverage on it and leave the harness out
//! (fuzz/Cargo.toml); its paths are the ones it always had,
//! `hijack_harness::reference::...`.

pub use hijack_reference::*;
