//! The reference implementation of the hand-over: small enough to read in one
//! sitting, and correct by construction, so that it can serve as the model users
//! copy and as the base every mutant deviates from.

pub mod body;
pub mod buffered;
pub mod client;
pub mod error;
pub mod head;
pub mod hijacked;
pub mod proxy;
pub mod server;

pub use body::BodyReader;
pub use buffered::{BufferedConn, Config};
pub use client::{ClientConn, RequestBody, connect};
pub use error::{Error, Result};
pub use hijacked::{Hijacked, Parts};
pub use server::{Request, ServerConn};
