//! One transport under every runner: TCP to any host, Unix stream sockets, and
//! TLS over either, behind one stream type ([`BoxIo`]).
//!
//! How a runner uses it:
//!
//! ```text
//! Endpoint::parse("unix:///var/run/docker.sock")   what the user typed
//!     .resolve(timeout)                           once per run: an Address that accepts
//! connect(&address, tls.as_ref(), timeout)        per case: a BoxIo (TCP_NODELAY, TLS below)
//! Paced::new(Recording::new(stream, ..), cuts, pause)   the harness's end, as over TCP
//! address.is_local()                              false: say cuts are best effort
//!
//! Listener::bind(&endpoint, tls)                  serve, upstreams, client runs
//!     .accept() -> Accepted .establish(timeout)   a BoxIo, TLS handshake done
//! ```
//!
//! TLS sits below the recording and pacing wrappers, so traces are plaintext
//! and a paced write is one TLS record in one segment (see [`tls`]).

mod address;
mod connect;
mod endpoint;
mod error;
mod listen;
mod stream;
pub mod tls;

pub use address::Address;
pub use connect::{Connection, connect, connect_tuned};
pub use endpoint::Endpoint;
pub use error::TransportError;
pub use listen::{Accepted, Listener};
pub use stream::{BoxIo, Io};
pub use tls::{ClientTls, ServerTls, TlsClientOptions};
