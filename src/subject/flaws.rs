//! The deliberate flaws of the reference, each a bug that shipped in a real
//! library, and the steps that break the hand-over the way each flaw does. The
//! reference ([`super::reference`]) runs with none; each mutant
//! ([`super::mutants`]) with exactly one.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::oracle::Point;
use crate::reference::head::{Framing, RequestHead};
use crate::reference::{Hijacked, ServerConn};

use super::BoxIo;

/// A deliberate flaw in the reference server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flaw {
    /// The application reads the raw connection and never sees the library's
    /// read-ahead: Go handlers that use the `net.Conn` from `Hijack()` and ignore
    /// its `bufio.Reader` (moby/moby#30154), Go's `ReverseProxy` (golang/go#80875).
    IgnoresReadAhead,
    /// The first chunk of data after the hand-over is consumed and dropped, as by a
    /// proxy that sniffs the first packet and forgets to forward it, or ignores
    /// Node's `'upgrade'` `head` argument (http-party/node-http-proxy#473).
    DropsFirstPacket,
    /// A background read of one byte (to notice a client going away) is abandoned
    /// at the hijack, and its byte with it (golang/go#18535).
    LosesBackgroundByte,
    /// The read-ahead is replayed, then replayed again.
    ReplaysReadAheadTwice,
    /// The read-ahead is replayed only after the first read from the transport.
    ReplaysReadAheadLate,
    /// Bytes written but not flushed before the hijack are dropped.
    DropsUnflushed,
    /// The library finishes "its" response after the hand-over: a chunk
    /// terminator `0\r\n\r\n` lands in the new protocol.
    WritesAfterHijack,
    /// The library shuts the connection down once the handler has taken it,
    /// as if the response were over.
    ClosesAfterHandOver,
    /// An upgrade request's chunked body is not consumed (the library assumes
    /// upgrade requests have no body): an empty body's `0\r\n\r\n` is the first
    /// thing the new protocol sees (kubernetes/kubernetes#117722).
    LeavesChunkedBody,
    /// `CloseWrite` is lost on the buffered path: when the read-ahead was not
    /// empty, the stream is wrapped in a type whose shutdown sends no FIN
    /// (moby/moby#36516).
    LosesCloseWrite,
    /// The connection is handed over after a non-101 answer, so the bytes after
    /// the request (the next request) reach the application (websocket-smuggle).
    HandsOverOnRefusal,
    /// The connection is handed over with the request body unread: what the
    /// application did not read of it (in the read-ahead, and still in the socket)
    /// is the new protocol's first bytes. kubernetes/kubernetes#117722 (an empty
    /// chunked body's `0\r\n\r\n` left in the stream), nodejs/node#58394 (an upgrade
    /// request's body delivered in `head`).
    HandsOverUnreadBody,
    /// `100 Continue` goes out only after the body was read, as the reference did
    /// before: a client that waits for it before sending the body (Apache's
    /// mod_proxy, curl) and a server that waits for the body wait for each other
    /// (RFC 9110 §10.1.1: the server "MUST NOT wait for the content before sending
    /// the 100 (Continue) response").
    SendsContinueLate,
}

/// A deliberate flaw in the reference client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientFlaw {
    /// The client reads the response through its own buffered reader, then gives
    /// the application the raw connection: what it read past the head (the
    /// server's first bytes) is lost (rancher-sandbox/rancher-desktop#8311, and every
    /// WebSocket client that drops the frame coalesced with the 101).
    ReadsPastHead,
    /// The client hands the connection over after a non-101 answer (websocket-smuggle).
    HandsOverOnRefusal,
}

impl Flaw {
    /// Every server flaw.
    pub const ALL: [Flaw; 13] = [
        Flaw::IgnoresReadAhead,
        Flaw::DropsFirstPacket,
        Flaw::LosesBackgroundByte,
        Flaw::ReplaysReadAheadTwice,
        Flaw::ReplaysReadAheadLate,
        Flaw::DropsUnflushed,
        Flaw::WritesAfterHijack,
        Flaw::ClosesAfterHandOver,
        Flaw::LeavesChunkedBody,
        Flaw::LosesCloseWrite,
        Flaw::HandsOverOnRefusal,
        Flaw::HandsOverUnreadBody,
        Flaw::SendsContinueLate,
    ];

    /// Its stable name.
    pub fn name(self) -> &'static str {
        match self {
            Flaw::IgnoresReadAhead => "ignores-read-ahead",
            Flaw::DropsFirstPacket => "drops-first-packet",
            Flaw::LosesBackgroundByte => "loses-background-byte",
            Flaw::ReplaysReadAheadTwice => "replays-read-ahead-twice",
            Flaw::ReplaysReadAheadLate => "replays-read-ahead-late",
            Flaw::DropsUnflushed => "drops-unflushed-writes",
            Flaw::WritesAfterHijack => "writes-after-hijack",
            Flaw::ClosesAfterHandOver => "closes-after-hand-over",
            Flaw::LeavesChunkedBody => "leaves-chunked-body",
            Flaw::LosesCloseWrite => "loses-close-write",
            Flaw::HandsOverOnRefusal => "server-hands-over-on-refusal",
            Flaw::HandsOverUnreadBody => "hands-over-unread-body",
            Flaw::SendsContinueLate => "sends-continue-late",
        }
    }

    /// The invariant point it breaks.
    pub fn breaks(self) -> Point {
        match self {
            Flaw::IgnoresReadAhead
            | Flaw::DropsFirstPacket
            | Flaw::LosesBackgroundByte
            | Flaw::ReplaysReadAheadTwice
            | Flaw::ReplaysReadAheadLate
            | Flaw::LeavesChunkedBody
            | Flaw::HandsOverUnreadBody => Point::ServerRead,
            Flaw::DropsUnflushed => Point::WriteOrder,
            Flaw::WritesAfterHijack | Flaw::ClosesAfterHandOver => Point::Ownership,
            Flaw::LosesCloseWrite => Point::HalfClose,
            Flaw::HandsOverOnRefusal => Point::NoFalseUpgrade,
            Flaw::SendsContinueLate => Point::Handshake,
        }
    }
}

impl ClientFlaw {
    /// Every client flaw.
    pub const ALL: [ClientFlaw; 2] = [ClientFlaw::ReadsPastHead, ClientFlaw::HandsOverOnRefusal];

    /// Its stable name.
    pub fn name(self) -> &'static str {
        match self {
            ClientFlaw::ReadsPastHead => "client-reads-past-head",
            ClientFlaw::HandsOverOnRefusal => "client-hands-over-on-refusal",
        }
    }

    /// The invariant point it breaks.
    pub fn breaks(self) -> Point {
        match self {
            ClientFlaw::ReadsPastHead => Point::ClientRead,
            ClientFlaw::HandsOverOnRefusal => Point::NoFalseUpgrade,
        }
    }
}

/// [`Flaw::LeavesChunkedBody`]: whether the library skips this request's body:
/// a chunked body of an upgrade request (it assumes upgrade requests have none).
pub(crate) fn skips_body(head: &RequestHead) -> crate::reference::Result<bool> {
    Ok(head.wants_upgrade() && head.framing()? == Framing::Chunked)
}

/// [`Flaw::LosesBackgroundByte`]: when nothing is buffered, polls the transport once
/// for one byte, as Go's background read does, and forgets it.
pub(crate) fn background_read_one_byte(conn: &mut ServerConn<BoxIo>) {
    let buffered = conn.buffered();
    if !buffered.read_ahead().is_empty() {
        return;
    }
    let mut one = [0u8; 1];
    let mut buf = ReadBuf::new(&mut one);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    if let Poll::Ready(Ok(())) = Pin::new(buffered.get_mut()).poll_read(&mut cx, &mut buf) {
        tracing::trace!(lost = ?buf.filled(), "background byte abandoned at the hijack");
    }
}

/// The hand-over step of each server flaw that breaks it.
pub(crate) async fn mishandle(flaw: Flaw, stream: Hijacked<BoxIo>) -> BoxIo {
    match flaw {
        Flaw::IgnoresReadAhead => {
            let parts = stream.into_parts();
            Box::new(Hijacked::new(parts.io, Bytes::new(), parts.write_buf))
        }
        Flaw::DropsFirstPacket => Box::new(SkipFirstRead {
            inner: stream,
            skipped: false,
        }),
        Flaw::ReplaysReadAheadTwice => {
            let parts = stream.into_parts();
            let mut twice = BytesMut::from(&parts.read_buf[..]);
            twice.extend_from_slice(&parts.read_buf);
            Box::new(Hijacked::new(parts.io, twice.freeze(), parts.write_buf))
        }
        Flaw::ReplaysReadAheadLate => {
            let parts = stream.into_parts();
            Box::new(ReplayLate {
                io: Hijacked::new(parts.io, Bytes::new(), parts.write_buf),
                read_ahead: parts.read_buf,
                raw_reads: 0,
            })
        }
        Flaw::DropsUnflushed => {
            let parts = stream.into_parts();
            Box::new(Hijacked::new(parts.io, parts.read_buf, Bytes::new()))
        }
        Flaw::WritesAfterHijack => {
            let mut stream = stream;
            // Errors are the library's to ignore here, as the buggy ones did.
            let _ = stream.write_all(b"0\r\n\r\n").await;
            Box::new(stream)
        }
        Flaw::ClosesAfterHandOver => {
            let mut stream = stream;
            let _ = stream.shutdown().await;
            Box::new(stream)
        }
        Flaw::LosesCloseWrite if !stream.read_buf().is_empty() => Box::new(NoCloseWrite(stream)),
        Flaw::LosesCloseWrite
        | Flaw::LeavesChunkedBody
        | Flaw::LosesBackgroundByte
        | Flaw::HandsOverOnRefusal
        | Flaw::HandsOverUnreadBody
        | Flaw::SendsContinueLate => Box::new(stream),
    }
}

/// [`ClientFlaw::ReadsPastHead`]: the raw connection without the read-ahead.
pub(crate) fn forget_read_ahead(stream: Hijacked<BoxIo>) -> Hijacked<BoxIo> {
    let parts = stream.into_parts();
    Hijacked::new(parts.io, Bytes::new(), parts.write_buf)
}

/// Drops the first non-empty read.
struct SkipFirstRead<S> {
    inner: S,
    skipped: bool,
}

impl<S: AsyncRead + Unpin> AsyncRead for SkipFirstRead<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.skipped {
            let mut scratch = vec![0u8; buf.remaining().max(1)];
            let mut first = ReadBuf::new(&mut scratch);
            std::task::ready!(Pin::new(&mut self.inner).poll_read(cx, &mut first))?;
            if first.filled().is_empty() {
                return Poll::Ready(Ok(()));
            }
            self.skipped = true;
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

/// Reads the transport first and the read-ahead only after the first raw read (or at EOF).
struct ReplayLate<S> {
    io: S,
    read_ahead: Bytes,
    raw_reads: usize,
}

impl<S: AsyncRead + Unpin> AsyncRead for ReplayLate<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.raw_reads > 0 && !self.read_ahead.is_empty() {
            let n = self.read_ahead.len().min(buf.remaining());
            let chunk = self.read_ahead.split_to(n);
            buf.put_slice(&chunk);
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        std::task::ready!(Pin::new(&mut self.io).poll_read(cx, buf))?;
        self.raw_reads += 1;
        if buf.filled().len() == before && !self.read_ahead.is_empty() {
            // EOF on the transport: the read-ahead comes now, after everything.
            let n = self.read_ahead.len().min(buf.remaining());
            let chunk = self.read_ahead.split_to(n);
            buf.put_slice(&chunk);
        }
        Poll::Ready(Ok(()))
    }
}

/// A stream whose shutdown only flushes: the FIN is never sent.
struct NoCloseWrite<S>(S);

impl<S: AsyncRead + Unpin> AsyncRead for NoCloseWrite<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

macro_rules! forward_write {
    ($ty:ident) => {
        impl<S: AsyncWrite + Unpin> AsyncWrite for $ty<S> {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                data: &[u8],
            ) -> Poll<io::Result<usize>> {
                Pin::new(self.get_mut().inner_mut()).poll_write(cx, data)
            }
            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Pin::new(self.get_mut().inner_mut()).poll_flush(cx)
            }
            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.get_mut().shutdown_or_flush(cx)
            }
        }
    };
}

trait Wrapper: Unpin {
    type Inner: AsyncWrite + Unpin;
    fn inner_mut(&mut self) -> &mut Self::Inner;
    fn shutdown_or_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.inner_mut()).poll_shutdown(cx)
    }
}

impl<S: AsyncWrite + Unpin> Wrapper for SkipFirstRead<S> {
    type Inner = S;
    fn inner_mut(&mut self) -> &mut S {
        &mut self.inner
    }
}

impl<S: AsyncWrite + Unpin> Wrapper for ReplayLate<S> {
    type Inner = S;
    fn inner_mut(&mut self) -> &mut S {
        &mut self.io
    }
}

impl<S: AsyncWrite + Unpin> Wrapper for NoCloseWrite<S> {
    type Inner = S;
    fn inner_mut(&mut self) -> &mut S {
        &mut self.0
    }
    fn shutdown_or_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The flaw: the wrapper has no CloseWrite, so shutting down only flushes.
        Pin::new(&mut self.0).poll_flush(cx)
    }
}

forward_write!(SkipFirstRead);
forward_write!(ReplayLate);
forward_write!(NoCloseWrite);
