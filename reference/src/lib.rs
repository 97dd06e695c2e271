//! The reference implementation of the hand-over: small enough to read in one
//! sitting, and correct by construction, so that it can serve as the model users
//! copy and as the base every mutant deviates from.
//!
//! A crate of its own, re-exported by `hijack-harness` as
//! `hijack_harness::reference`, so that a fuzz build can instrument this code
//! and leave the harness that drives it out of coverage.
#![deny(missing_docs)]

pub mod body;
pub mod buffered;
pub mod client;
pub mod error;
pub mod head;
pub mod hijacked;
#[doc(hidden)]
pub mod instances;
pub mod io;
pub mod proxy;
pub mod server;
pub mod shared;

pub use body::BodyReader;
pub use buffered::{BufferedConn, Config};
pub use client::{ClientConn, RequestBody, connect};
pub use error::{Error, Result};
pub use hijacked::{Hijacked, Parts};
pub use io::{BoxIo, Io};
pub use server::{Request, ServerConn};
