//! The one stream type every transport produces: TCP, Unix, and TLS over
//! either are all a [`BoxIo`] once connected or accepted, so the recording and
//! pacing wrappers above them, and the subjects, never see which one it is.

use tokio::io::{AsyncRead, AsyncWrite};

/// A transport: anything that reads and writes like a socket.
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// A boxed transport, so one subject serves the in-memory wire, TCP, Unix
/// sockets and TLS alike.
pub type BoxIo = Box<dyn Io>;
