//! The one stream type the harness hands a subject: TCP, Unix sockets, TLS and
//! the in-memory wire are all a [`BoxIo`]. It lives here, below the harness,
//! so that this crate can compile its generic code for it (see [`instances`](crate::instances)).

use tokio::io::{AsyncRead, AsyncWrite};

/// A transport: anything that reads and writes like a socket.
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// A boxed transport, so one subject serves the in-memory wire, TCP, Unix
/// sockets and TLS alike.
pub type BoxIo = Box<dyn Io>;
