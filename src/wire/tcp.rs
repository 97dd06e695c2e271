//! Loopback TCP with pacing, and the recording wrappers that turn a real socket
//! into the same [`Trace`](super::Trace) the in-memory wire produces.
//!
//! Over real TCP the kernel, not the scenario, decides where segments end. Two
//! things make the scenario's cut points hold anyway on loopback:
//!
//! * `TCP_NODELAY` on every socket, so that Nagle never holds a small write back
//!   to merge it with the next one;
//! * [`Paced`]: bytes *between* two cut points go down in one `write` (so they
//!   travel, and arrive, together: the head and the early bytes share a segment),
//!   and at each cut point the writer flushes and sleeps a few milliseconds, so
//!   that the kernel sends what is before the cut on its own and the reader has
//!   taken it before the rest arrives.
//!
//! The recording wrappers log what the harness's own socket read and wrote
//! ([`Recording`]) and, for a subject running in this process, when the subject
//! shut its socket down or dropped it ([`SubjectEnd`]): the latter is what lets
//! the oracle tell a `CloseWrite` from a close, which a FIN on the wire cannot.
//! Captures are bounded ([`Capture`]): past the cap, bytes are counted, not kept.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Sleep;

use super::trace::{Closing, Direction, Event, Recorder};

/// How long a paced writer pauses at a cut point: long enough that on loopback
/// the bytes before the cut are sent, and read, on their own, even on a loaded
/// machine where a thread may wake a few milliseconds late.
pub const CUT_PAUSE: Duration = Duration::from_millis(10);

/// The default capture cap per connection: far above what any case sends.
pub const DEFAULT_CAP: usize = 16 << 20;

/// Bounded storage for one connection's trace, and a count of everything that moved.
///
/// [`Capture::activity`] changes whenever anything moved in either direction,
/// on either end that is recorded: a runner watches it to tell a conversation that
/// is over (quiet) from one that is slow.
#[derive(Debug)]
pub struct Capture {
    cap: usize,
    stored: AtomicUsize,
    dropped: AtomicUsize,
    activity: AtomicU64,
}

impl Capture {
    /// A capture that keeps at most `cap` bytes.
    pub fn new(cap: usize) -> Arc<Self> {
        Arc::new(Capture {
            cap,
            stored: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
            activity: AtomicU64::new(0),
        })
    }

    /// How many bytes moved but were not stored, because the cap was reached.
    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::Relaxed)
    }

    /// A counter that changes whenever something moved.
    pub fn activity(&self) -> u64 {
        self.activity.load(Ordering::Relaxed)
    }

    fn touch(&self) {
        self.activity.fetch_add(1, Ordering::Relaxed);
    }

    /// The part of `data` that may still be stored.
    fn admit<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        self.touch();
        let before = self.stored.fetch_add(data.len(), Ordering::Relaxed);
        let room = self.cap.saturating_sub(before);
        if room < data.len() {
            self.dropped.fetch_add(data.len() - room, Ordering::Relaxed);
        }
        &data[..room.min(data.len())]
    }
}

/// The harness's end of a connection, logging every read and write into a [`Recorder`].
///
/// Writes are logged as segments in the harness's direction, reads as segments
/// in the other; EOF is logged as the peer's FIN when `peer_fin_on_eof` is set
/// (black-box peers: the wire is all there is), and a reset as an RST.
#[derive(Debug)]
pub struct Recording<S> {
    inner: S,
    recorder: Recorder,
    capture: Arc<Capture>,
    outgoing: Direction,
    peer_fin_on_eof: bool,
    sent: usize,
    received: usize,
    eof_seen: bool,
    shut_down: bool,
}

impl<S> Recording<S> {
    /// Wraps `inner`, the end that writes in direction `outgoing`.
    pub fn new(
        inner: S,
        recorder: Recorder,
        capture: Arc<Capture>,
        outgoing: Direction,
        peer_fin_on_eof: bool,
    ) -> Self {
        Recording {
            inner,
            recorder,
            capture,
            outgoing,
            peer_fin_on_eof,
            sent: 0,
            received: 0,
            eof_seen: false,
            shut_down: false,
        }
    }

    fn incoming(&self) -> Direction {
        self.outgoing.reverse()
    }

    fn log_error(&self, e: &io::Error) {
        if matches!(
            e.kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
        ) {
            self.recorder.record(Event::Reset {
                dir: self.incoming(),
            });
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Recording<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let got = &buf.filled()[before..];
                if got.is_empty() {
                    if !self.eof_seen {
                        self.eof_seen = true;
                        self.capture.touch();
                        if self.peer_fin_on_eof {
                            self.recorder.record(Event::Fin {
                                dir: self.incoming(),
                                how: Closing::Shutdown,
                            });
                        }
                    }
                } else {
                    let kept = Bytes::copy_from_slice(self.capture.admit(got));
                    let index = self.received;
                    self.received += 1;
                    if !kept.is_empty() {
                        self.recorder.record(Event::Segment {
                            dir: self.incoming(),
                            index,
                            bytes: kept,
                        });
                    }
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => {
                self.log_error(&e);
                Poll::Ready(Err(e))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Recording<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, data) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    let kept = Bytes::copy_from_slice(self.capture.admit(&data[..n]));
                    let index = self.sent;
                    self.sent += 1;
                    if !kept.is_empty() {
                        self.recorder.record(Event::Segment {
                            dir: self.outgoing,
                            index,
                            bytes: kept,
                        });
                    }
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => {
                self.log_error(&e);
                Poll::Ready(Err(e))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = std::task::ready!(Pin::new(&mut self.inner).poll_shutdown(cx));
        if result.is_ok() && !self.shut_down {
            self.shut_down = true;
            self.capture.touch();
            self.recorder.record(Event::Fin {
                dir: self.outgoing,
                how: Closing::Shutdown,
            });
        }
        Poll::Ready(result)
    }
}

/// The socket given to a subject running in this process: it logs the subject's
/// FIN when the subject shuts its write half down ([`Closing::Shutdown`]) or drops
/// the socket without doing so ([`Closing::Dropped`]), exactly as the in-memory
/// wire does, and counts the subject's activity for quiet detection.
#[derive(Debug)]
pub struct SubjectEnd<S> {
    inner: S,
    recorder: Recorder,
    capture: Arc<Capture>,
    outgoing: Direction,
    closed: bool,
}

impl<S> SubjectEnd<S> {
    /// Wraps `inner`, the subject's end, which writes in direction `outgoing`.
    pub fn new(inner: S, recorder: Recorder, capture: Arc<Capture>, outgoing: Direction) -> Self {
        SubjectEnd {
            inner,
            recorder,
            capture,
            outgoing,
            closed: false,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for SubjectEnd<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if polled.is_ready() {
            self.capture.touch();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for SubjectEnd<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if polled.is_ready() {
            self.capture.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.closed {
            self.closed = true;
            self.capture.touch();
            self.recorder.record(Event::Fin {
                dir: self.outgoing,
                how: Closing::Shutdown,
            });
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<S> Drop for SubjectEnd<S> {
    fn drop(&mut self) {
        if !self.closed {
            self.capture.touch();
            self.recorder.record(Event::Fin {
                dir: self.outgoing,
                how: Closing::Dropped,
            });
        }
    }
}

/// A writer that turns the scenario's cut points into pauses.
///
/// `cuts` are stream offsets (as [`crate::check::cuts`] resolves them). A write is
/// passed down whole up to the next cut; at the cut the writer flushes and sleeps
/// [`CUT_PAUSE`] before it accepts the next byte.
#[derive(Debug)]
pub struct Paced<S> {
    inner: S,
    cuts: VecDeque<usize>,
    written: usize,
    pause: Duration,
    /// A cut was reached and the bytes before it are not yet flushed.
    flushing: bool,
    sleeping: Option<Pin<Box<Sleep>>>,
}

impl<S> Paced<S> {
    /// Paces `inner` at `cuts`, pausing `pause` at each.
    pub fn new(inner: S, mut cuts: Vec<usize>, pause: Duration) -> Self {
        cuts.sort_unstable();
        cuts.dedup();
        Paced {
            inner,
            cuts: cuts.into_iter().filter(|&c| c > 0).collect(),
            written: 0,
            pause,
            flushing: false,
            sleeping: None,
        }
    }

    /// The wrapped stream.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Paced<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> Paced<S> {
    /// Finishes the last cut: flushes what was written before it, then pauses.
    ///
    /// Over TCP the flush is a no-op. Over TLS it is what sends the record that
    /// the bytes before the cut became, should the socket not have taken all of
    /// it at once: without it the record would wait out the pause in the TLS
    /// layer and leave together with the next one.
    fn poll_cut(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.flushing {
            std::task::ready!(Pin::new(&mut self.inner).poll_flush(cx))?;
            self.flushing = false;
            self.sleeping = Some(Box::pin(tokio::time::sleep(self.pause)));
        }
        if let Some(sleep) = self.sleeping.as_mut() {
            std::task::ready!(sleep.as_mut().poll(cx));
            self.sleeping = None;
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Paced<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        std::task::ready!(this.poll_cut(cx))?;
        let limit = match this.cuts.front() {
            Some(&cut) => cut.saturating_sub(this.written).min(data.len()),
            None => data.len(),
        };
        let n = std::task::ready!(Pin::new(&mut this.inner).poll_write(cx, &data[..limit]))?;
        this.written += n;
        if this.cuts.front() == Some(&this.written) {
            this.cuts.pop_front();
            this.flushing = true;
            // Start the flush and the pause now: the writer's next call may be
            // a read that waits for the answer to these very bytes. A failed
            // flush shows on the next write.
            let _ = this.poll_cut(cx);
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        std::task::ready!(this.poll_cut(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

use std::future::Future as _;

/// Errors setting up a loopback connection.
#[derive(Debug, thiserror::Error)]
pub enum TcpError {
    /// Nothing accepted the connection.
    #[error("nothing is listening on {0}: is the server running?")]
    Refused(SocketAddr),
    /// The connection could not be made in time.
    #[error("connecting to {0} timed out")]
    ConnectTimeout(SocketAddr),
    /// Another socket error.
    #[error("{addr}: {source}")]
    Io {
        /// Where.
        addr: SocketAddr,
        /// What.
        source: io::Error,
    },
}

/// Connects to `addr` with `TCP_NODELAY`, within `timeout`.
pub async fn connect(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, TcpError> {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Err(_) => Err(TcpError::ConnectTimeout(addr)),
        Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => Err(TcpError::Refused(addr)),
        Ok(Err(source)) => Err(TcpError::Io { addr, source }),
        Ok(Ok(stream)) => {
            stream
                .set_nodelay(true)
                .map_err(|source| TcpError::Io { addr, source })?;
            Ok(stream)
        }
    }
}

/// A connected loopback pair `(client, server)`, both with `TCP_NODELAY`.
pub async fn loopback_pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let client = client?;
    let (server, _) = accepted?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    Ok((client, server))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_cut_splits_one_write_into_two_segments() {
        let (client, server) = loopback_pair().await.expect("loopback");
        let recorder = Recorder::new();
        let capture = Capture::new(DEFAULT_CAP);
        let mut paced = Paced::new(
            Recording::new(
                client,
                recorder.clone(),
                capture.clone(),
                Direction::ClientToServer,
                false,
            ),
            vec![3],
            CUT_PAUSE,
        );
        paced.write_all(b"abcdefgh").await.expect("write");
        paced.shutdown().await.expect("shutdown");
        let mut server = server;
        let mut got = Vec::new();
        server.read_to_end(&mut got).await.expect("read");
        assert_eq!(got, b"abcdefgh");
        let trace = recorder.snapshot();
        let segments: Vec<&[u8]> = trace
            .segments(Direction::ClientToServer)
            .map(|b| &b[..])
            .collect();
        assert_eq!(segments, [&b"abc"[..], &b"defgh"[..]]);
        assert!(trace.fin(Direction::ClientToServer).is_some());
    }

    /// A layer that holds what it is given until it is flushed, as TLS does
    /// when the socket takes only part of a record: the bytes before a cut must
    /// leave at the cut, not wait for the next write, which may never come if
    /// the writer now waits for the answer to them.
    #[tokio::test]
    async fn a_cut_flushes_a_buffering_layer_before_the_pause() {
        let (near, mut far) = tokio::io::duplex(1024);
        let mut paced = Paced::new(tokio::io::BufWriter::new(near), vec![3], CUT_PAUSE);
        paced.write_all(b"abc").await.expect("write");
        let mut got = [0u8; 3];
        tokio::time::timeout(Duration::from_secs(2), far.read_exact(&mut got))
            .await
            .expect("the bytes before the cut were flushed at the cut")
            .expect("read");
        assert_eq!(&got, b"abc");
    }

    #[tokio::test]
    async fn the_capture_stops_storing_at_its_cap_and_keeps_counting() {
        let (client, mut server) = loopback_pair().await.expect("loopback");
        let recorder = Recorder::new();
        let capture = Capture::new(4);
        let mut rec = Recording::new(
            client,
            recorder.clone(),
            capture.clone(),
            Direction::ClientToServer,
            false,
        );
        rec.write_all(b"0123456789").await.expect("write");
        let mut buf = [0u8; 10];
        server.read_exact(&mut buf).await.expect("read");
        assert_eq!(
            recorder.snapshot().stream(Direction::ClientToServer),
            &b"0123"[..]
        );
        assert_eq!(capture.dropped(), 6);
    }

    #[tokio::test]
    async fn refused_names_the_address() {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        let err = connect(addr, Duration::from_secs(1))
            .await
            .expect_err("nothing listens");
        assert!(err.to_string().contains("is the server running?"), "{err}");
    }
}
