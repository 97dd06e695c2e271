//! The one stream type every transport produces: TCP, Unix, and TLS over
//! either are all a [`BoxIo`] once connected or accepted, so the recording and
//! pacing wrappers above them, and the subjects, never see which one it is.
//!
//! The types live in the reference crate ([`crate::reference::io`]), so that the
//! fuzz build compiles the reference's generic code for them there, under
//! coverage (see `reference/src/instances.rs`).

pub use crate::reference::io::{BoxIo, Io};
