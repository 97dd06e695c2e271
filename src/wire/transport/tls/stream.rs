//! A TLS stream that writes like a socket: what `poll_write` accepted is on
//! the socket when it returns, as with TCP, so pacing holds on top of TLS.
//!
//! tokio-rustls 0.26 (`common/mod.rs`, `Stream::poll_write`) hands the bytes
//! to rustls, which encrypts them at once into records of at most 16 KiB of
//! plaintext (`send_appdata_encrypt`, one record per fragment), then writes
//! every pending record to the socket in one vectored write
//! (`ChunkVecBuffer::write_to`). So one write of at most 16 KiB is one record
//! and, on a socket with `TCP_NODELAY`, one segment. But when the socket takes
//! only part of them it still returns `Ok(n)` with the rest held in rustls,
//! and only a later `poll_write`, `poll_flush` or `poll_shutdown` sends it: a
//! paced writer sleeping at a cut would then send the held record *together*
//! with the next one, and a reader waiting for an answer to it would wait
//! forever. [`TlsIo`] closes both holes: a write first finishes sending what
//! an earlier one left, and a read pushes held records out before it waits.
//!
//! A peer that closes TCP without TLS's `close_notify` (many servers do) is
//! read as EOF, not as an error: the harness judges the bytes, not the close.
//! Any other TLS error after the handshake is worded for the person reading
//! the verdict ([`reworded`]): rustls says "received corrupt message of type
//! InvalidContentType" where the useful sentence is that the server wrote
//! plaintext around its TLS layer, a hand-over bug of its own.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::TlsStream;

/// A TLS stream, client or server side, whose writes reach the socket.
#[derive(Debug)]
pub struct TlsIo<S> {
    inner: TlsStream<S>,
}

impl<S> TlsIo<S> {
    /// Wraps an established TLS stream.
    pub fn new(inner: TlsStream<S>) -> Self {
        TlsIo { inner }
    }

    /// Whether rustls holds encrypted records the socket has not taken yet.
    fn holds_output(&self) -> bool {
        match &self.inner {
            TlsStream::Client(s) => s.get_ref().1.wants_write(),
            TlsStream::Server(s) => s.get_ref().1.wants_write(),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.holds_output()
            && let Poll::Ready(Err(e)) = Pin::new(&mut self.inner).poll_flush(cx)
        {
            return Poll::Ready(Err(e));
        }
        match ready!(Pin::new(&mut self.inner).poll_read(cx, buf)) {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                tracing::debug!("the TLS peer closed without close_notify; read as EOF");
                Poll::Ready(Ok(()))
            }
            Err(e) => Poll::Ready(Err(reworded(e))),
            Ok(()) => Poll::Ready(Ok(())),
        }
    }
}

/// A TLS error after the handshake, said in words that point at the cause;
/// any other error as it is.
fn reworded(error: io::Error) -> io::Error {
    use rustls::Error;
    let Some(tls) = error.get_ref().and_then(|e| e.downcast_ref::<Error>()) else {
        return error;
    };
    let what = match tls {
        Error::InvalidMessage(_) | Error::InappropriateMessage { .. } => {
            "the peer sent bytes that are not a TLS record after the handshake: did it write \
             around its TLS layer, on the raw socket (a hand-over that gave the application the \
             socket under TLS)?"
                .to_string()
        }
        Error::DecryptError => "a TLS record from the peer failed to decrypt: corrupted on the \
             way, or written around the peer's TLS layer"
            .to_string(),
        Error::AlertReceived(alert) => format!("the peer ended TLS with the alert {alert:?}"),
        other => format!("the TLS connection failed: {other}"),
    };
    io::Error::new(error.kind(), what)
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.holds_output() {
            ready!(Pin::new(&mut self.inner).poll_flush(cx))?;
        }
        let n = ready!(Pin::new(&mut self.inner).poll_write(cx, data))?;
        if self.holds_output() {
            // The bytes are accepted; a failure to send them shows on the next call.
            let _ = Pin::new(&mut self.inner).poll_flush(cx);
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    /// Sends `close_notify`, then shuts the socket's write half down: a TLS
    /// half-close, after which reading still works (RFC 8446 §6.1).
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrapped(e: rustls::Error) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }

    #[test]
    fn plaintext_around_the_tls_layer_is_named() {
        let e = reworded(wrapped(rustls::Error::InvalidMessage(
            rustls::InvalidMessage::InvalidContentType,
        )));
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(
            e.to_string()
                .contains("not a TLS record after the handshake"),
            "{e}"
        );
        let e = reworded(wrapped(rustls::Error::DecryptError));
        assert!(e.to_string().contains("failed to decrypt"), "{e}");
    }

    #[test]
    fn other_errors_pass_through() {
        let e = reworded(io::Error::new(io::ErrorKind::ConnectionReset, "reset"));
        assert_eq!(e.kind(), io::ErrorKind::ConnectionReset);
        assert_eq!(e.to_string(), "reset");
    }
}
