//! `Hijacked<IO>`: the connection after the hand-over, with nothing left behind.
//!
//! When an HTTP/1.1 library hands a connection to its application, two buffers
//! still hold bytes that belong to the new protocol:
//!
//! * the **read-ahead**: bytes the library read past the end of the request (or
//!   response) message, because they arrived in the same segment as its last byte;
//! * the **unflushed writes**: bytes written through the library's buffered writer
//!   that have not reached the transport yet.
//!
//! `Hijacked` owns both together with the transport, and its contract is:
//!
//! * `AsyncRead` yields the read-ahead first, then reads the transport. The
//!   read-ahead is never yielded twice and never after a transport byte.
//! * `AsyncWrite` (`write`, `flush` and `shutdown` alike) first writes every unflushed
//!   byte to the transport, so earlier writes always precede later ones.
//! * `poll_shutdown` shuts down the write half of the transport, and only that: the
//!   read half, read-ahead included, keeps working (a half-close, as `CloseWrite`).
//! * [`Hijacked::into_parts`] gives the three pieces back without copying them, for
//!   callers that move the transport elsewhere (a proxy splicing two sockets).
//!
//! Once both buffers are empty every call is a single branch away from the
//! transport's own, so a hijacked stream costs what the raw one does.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A transport taken over from an HTTP/1.1 connection, with the library's buffers.
#[derive(Debug)]
pub struct Hijacked<IO> {
    io: IO,
    read_ahead: Bytes,
    unflushed: Bytes,
}

/// The pieces of a [`Hijacked`] stream.
#[derive(Debug)]
pub struct Parts<IO> {
    /// The transport.
    pub io: IO,
    /// Bytes read from the transport that the application has not consumed yet.
    pub read_buf: Bytes,
    /// Bytes written by the application that have not reached the transport yet.
    pub write_buf: Bytes,
}

impl<IO> Hijacked<IO> {
    /// A hijacked stream from a transport and the two buffers of the library that had it.
    pub fn new(io: IO, read_buf: Bytes, write_buf: Bytes) -> Self {
        Hijacked {
            io,
            read_ahead: read_buf,
            unflushed: write_buf,
        }
    }

    /// The transport and both buffers, as they are now.
    pub fn into_parts(self) -> Parts<IO> {
        Parts {
            io: self.io,
            read_buf: self.read_ahead,
            write_buf: self.unflushed,
        }
    }

    /// The read-ahead not yet consumed.
    pub fn read_buf(&self) -> &[u8] {
        &self.read_ahead
    }

    /// The transport.
    pub fn get_ref(&self) -> &IO {
        &self.io
    }
}

impl<IO: AsyncWrite + Unpin> Hijacked<IO> {
    /// Writes the unflushed bytes to the transport; ready once there are none.
    fn poll_write_unflushed(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.unflushed.is_empty() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.unflushed))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.unflushed.advance(n);
        }
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Hijacked<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.read_ahead.is_empty() {
            let n = self.read_ahead.len().min(buf.remaining());
            buf.put_slice(&self.read_ahead[..n]);
            self.read_ahead.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Hijacked<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_write_unflushed(cx))?;
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_write_unflushed(cx))?;
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_write_unflushed(cx))?;
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_write_unflushed(cx))?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};

    #[tokio::test]
    async fn full_replay_then_transport() {
        let (near, mut far) = duplex(64);
        far.write_all(b" world").await.unwrap();
        drop(far);
        let mut stream = Hijacked::new(near, Bytes::from_static(b"hello"), Bytes::new());
        let mut got = Vec::new();
        stream.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"hello world");
    }

    #[tokio::test]
    async fn partial_replay_respects_small_buffers() {
        let (near, mut far) = duplex(64);
        far.write_all(b"!").await.unwrap();
        let mut stream = Hijacked::new(near, Bytes::from_static(b"abc"), Bytes::new());
        let mut two = [0u8; 2];
        assert_eq!(stream.read(&mut two).await.unwrap(), 2);
        assert_eq!(&two, b"ab");
        // The rest of the read-ahead comes before any transport byte, even though
        // the transport has one ready.
        assert_eq!(stream.read(&mut two).await.unwrap(), 1);
        assert_eq!(&two[..1], b"c");
        assert_eq!(stream.read(&mut two).await.unwrap(), 1);
        assert_eq!(&two[..1], b"!");
    }

    #[tokio::test]
    async fn zero_length_read_consumes_nothing() {
        let (near, _far) = duplex(64);
        let mut stream = Hijacked::new(near, Bytes::from_static(b"xy"), Bytes::new());
        assert_eq!(stream.read(&mut []).await.unwrap(), 0);
        assert_eq!(stream.read_buf(), b"xy");
    }

    #[tokio::test]
    async fn into_parts_on_an_undrained_buffer() {
        let (near, _far) = duplex(64);
        let read_ahead = Bytes::from(b"0123456789".to_vec());
        let origin = read_ahead.as_ptr();
        let mut stream = Hijacked::new(near, read_ahead, Bytes::from_static(b"pending"));
        let mut three = [0u8; 3];
        stream.read_exact(&mut three).await.unwrap();
        let parts = stream.into_parts();
        assert_eq!(&parts.read_buf[..], b"3456789");
        // The same allocation, advanced: nothing was copied.
        assert_eq!(parts.read_buf.as_ptr(), origin.wrapping_add(3));
        assert_eq!(&parts.write_buf[..], b"pending");
    }

    #[tokio::test]
    async fn unflushed_bytes_go_first() {
        let (near, mut far) = duplex(64);
        let mut stream = Hijacked::new(near, Bytes::new(), Bytes::from_static(b"early "));
        stream.write_all(b"late").await.unwrap();
        stream.shutdown().await.unwrap();
        let mut got = Vec::new();
        far.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"early late");
    }

    #[tokio::test]
    async fn shutdown_on_the_buffered_path_is_a_half_close() {
        let (near, mut far) = duplex(64);
        let mut stream = Hijacked::new(
            near,
            Bytes::from_static(b"ahead "),
            Bytes::from_static(b"unflushed"),
        );
        stream.shutdown().await.unwrap();
        // The peer sees every unflushed byte, then EOF...
        let mut got = Vec::new();
        far.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"unflushed");
        // ...and the read half still works: read-ahead first, then the transport.
        far.write_all(b"after").await.unwrap();
        drop(far);
        let mut read = Vec::new();
        stream.read_to_end(&mut read).await.unwrap();
        assert_eq!(read, b"ahead after");
    }
}
