//! A client leg read as if every request were HTTP/1.1: the request line's
//! `HTTP/1.0` is read as `HTTP/1.1`, so an HTTP/1.0 request's `Upgrade` is
//! honoured instead of ignored (RFC 9110 §7.8). The flaw of
//! [`ProxyFlaw::HonoursHttp10Upgrade`](super::mutants::ProxyFlaw::HonoursHttp10Upgrade):
//! a proxy that never looks at the request's version.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::subject::BoxIo;

/// The longest first line it rewrites; longer ones pass as they are.
const MAX_LINE: usize = 8 * 1024;

/// `io`, with the first request line's `HTTP/1.0` read as `HTTP/1.1`.
pub struct VersionBlind {
    io: BoxIo,
    /// Bytes read, not yet handed out; `None` once the first line went through.
    held: Option<Vec<u8>>,
    /// Bytes already rewritten, waiting to be handed out.
    ready: Vec<u8>,
}

impl VersionBlind {
    /// Wraps the client leg.
    pub fn new(io: BoxIo) -> Self {
        VersionBlind {
            io,
            held: Some(Vec::new()),
            ready: Vec::new(),
        }
    }
}

impl AsyncRead for VersionBlind {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while let Some(held) = this.held.as_mut() {
            let line_end = held.windows(2).position(|w| w == b"\r\n");
            if let Some(end) = line_end
                && held[..end].ends_with(b" HTTP/1.0")
            {
                held[end - 1] = b'1';
            }
            if line_end.is_none() && held.len() < MAX_LINE {
                let mut chunk = [0u8; 1024];
                let mut chunk_buf = ReadBuf::new(&mut chunk);
                ready!(Pin::new(&mut this.io).poll_read(cx, &mut chunk_buf))?;
                if !chunk_buf.filled().is_empty() {
                    held.extend_from_slice(chunk_buf.filled());
                    continue;
                }
            }
            this.ready = this.held.take().unwrap_or_default();
        }
        if !this.ready.is_empty() {
            let n = this.ready.len().min(buf.remaining());
            buf.put_slice(&this.ready[..n]);
            this.ready.drain(..n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for VersionBlind {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[test]
    fn the_first_line_reads_as_http11_even_when_cut() {
        let (mut a, b) = tokio::io::duplex(64);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let got = rt.block_on(async move {
            use tokio::io::AsyncWriteExt;
            let writer = async move {
                a.write_all(b"GET / HTTP/1").await?;
                a.write_all(b".0\r\nUpgrade: x\r\n\r\n").await?;
                io::Result::Ok(())
            };
            let mut blind = VersionBlind::new(Box::new(b));
            let reader = async move {
                let mut out = Vec::new();
                blind.read_to_end(&mut out).await?;
                io::Result::Ok(out)
            };
            let (w, r) = tokio::join!(writer, reader);
            w.and(r)
        });
        assert_eq!(
            got.expect("read"),
            b"GET / HTTP/1.1\r\nUpgrade: x\r\n\r\n".to_vec()
        );
    }
}
