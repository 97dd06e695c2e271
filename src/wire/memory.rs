//! An in-memory duplex that delivers exactly the segments a scenario names.
//!
//! Real TCP decides segment boundaries by timing: Nagle, the pace of writes, the
//! receiver's window. That is why hijack bugs are flaky in the wild: the lost bytes
//! are the ones that happened to share a segment with the end of the head. This wire
//! takes timing out of the picture. Bytes a side writes are *held* until either
//!
//! * the stream reaches one of the scenario's cut points (the held bytes up to the
//!   cut become one segment), or
//! * the whole connection goes quiet: every task is waiting and nothing else can
//!   happen. The [`driver`](super::driver) then calls [`WireHandle::release_held`],
//!   which sends what is held as one segment, the way a kernel sends a partial
//!   segment when no more data comes.
//!
//! So two writes coalesce unless a cut separates them, and a cut splits a write
//! exactly where the scenario says. A read returns bytes of at most one segment,
//! so the reader sees every boundary, as it would with a paced TCP peer.
//!
//! Shutting down the write half delivers what is held and then a FIN; dropping
//! an endpoint does the same (recorded as [`Closing::Dropped`]).

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::trace::{Closing, Direction, Event, Recorder, Side};

/// Where each direction is cut into segments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cuts {
    /// Stream offsets (from the first byte the client writes) where a c>s segment ends.
    pub client_to_server: Vec<usize>,
    /// Stream offsets (from the first byte the server writes) where a s>c segment ends.
    pub server_to_client: Vec<usize>,
}

/// One direction of the wire.
#[derive(Debug)]
struct Pipe {
    dir: Direction,
    /// Segments the reader may take, oldest first. The front one may be partly read.
    ready: VecDeque<Bytes>,
    /// Written, not yet sent: waiting for a cut point or for quiet.
    held: BytesMut,
    /// Bytes written so far (the stream offset of the end of `held`).
    written: usize,
    /// Cut points still ahead of `written - held.len()`, ascending.
    cuts: VecDeque<usize>,
    segments_sent: usize,
    /// The writer has closed; a FIN follows the held bytes.
    closed: Option<Closing>,
    /// The FIN has reached the reader.
    fin_sent: bool,
    reader_waker: Option<Waker>,
    reader_gone: bool,
}

impl Pipe {
    fn new(dir: Direction, mut cuts: Vec<usize>) -> Self {
        cuts.sort_unstable();
        cuts.dedup();
        Pipe {
            dir,
            ready: VecDeque::new(),
            held: BytesMut::new(),
            written: 0,
            cuts: cuts.into_iter().filter(|&cut| cut > 0).collect(),
            segments_sent: 0,
            closed: None,
            fin_sent: false,
            reader_waker: None,
            reader_gone: false,
        }
    }

    fn send(&mut self, bytes: Bytes, recorder: &Recorder) {
        if bytes.is_empty() {
            return;
        }
        recorder.record(Event::Segment {
            dir: self.dir,
            index: self.segments_sent,
            bytes: bytes.clone(),
        });
        self.segments_sent += 1;
        self.ready.push_back(bytes);
        self.wake_reader();
    }

    fn write(&mut self, data: &[u8], recorder: &Recorder) {
        self.held.extend_from_slice(data);
        self.written += data.len();
        while let Some(&cut) = self.cuts.front() {
            if cut > self.written {
                break;
            }
            self.cuts.pop_front();
            let held_start = self.written - self.held.len();
            let take = cut.saturating_sub(held_start);
            if take > 0 {
                let segment = self.held.split_to(take).freeze();
                self.send(segment, recorder);
            }
        }
    }

    /// Sends what is held; returns whether anything moved.
    fn release(&mut self, recorder: &Recorder) -> bool {
        let mut moved = false;
        if !self.held.is_empty() {
            let segment = self.held.split().freeze();
            self.send(segment, recorder);
            moved = true;
        }
        if let Some(how) = self.closed
            && !self.fin_sent
        {
            self.fin_sent = true;
            recorder.record(Event::Fin { dir: self.dir, how });
            self.wake_reader();
            moved = true;
        }
        moved
    }

    fn close(&mut self, how: Closing, recorder: &Recorder) {
        if self.closed.is_none() {
            self.closed = Some(how);
            self.release(recorder);
        }
    }

    fn wake_reader(&mut self) {
        if let Some(waker) = self.reader_waker.take() {
            waker.wake();
        }
    }

    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if let Some(front) = self.ready.front_mut() {
            let n = front.len().min(buf.remaining());
            buf.put_slice(&front[..n]);
            front.advance(n);
            if front.is_empty() {
                self.ready.pop_front();
            }
            return Poll::Ready(Ok(()));
        }
        if self.fin_sent {
            return Poll::Ready(Ok(()));
        }
        self.reader_waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[derive(Debug)]
struct WireState {
    client_to_server: Pipe,
    server_to_client: Pipe,
}

impl WireState {
    fn pipe(&mut self, dir: Direction) -> &mut Pipe {
        match dir {
            Direction::ClientToServer => &mut self.client_to_server,
            Direction::ServerToClient => &mut self.server_to_client,
        }
    }
}

#[derive(Debug)]
struct Shared {
    state: Mutex<WireState>,
    recorder: Recorder,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, WireState> {
        // Every critical section leaves the pipes consistent before it can panic.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One end of the in-memory wire: `AsyncRead + AsyncWrite`, like a `TcpStream`.
#[derive(Debug)]
pub struct Endpoint {
    shared: Arc<Shared>,
    side: Side,
}

/// The wire as a whole, for the driver.
#[derive(Debug, Clone)]
pub struct WireHandle {
    shared: Arc<Shared>,
}

/// A connected pair of endpoints (client, server) and the handle that releases held bytes.
pub fn pair(cuts: &Cuts, recorder: Recorder) -> (Endpoint, Endpoint, WireHandle) {
    let shared = Arc::new(Shared {
        state: Mutex::new(WireState {
            client_to_server: Pipe::new(Direction::ClientToServer, cuts.client_to_server.clone()),
            server_to_client: Pipe::new(Direction::ServerToClient, cuts.server_to_client.clone()),
        }),
        recorder,
    });
    (
        Endpoint {
            shared: shared.clone(),
            side: Side::Client,
        },
        Endpoint {
            shared: shared.clone(),
            side: Side::Server,
        },
        WireHandle { shared },
    )
}

impl WireHandle {
    /// Stops recording: what happens after (teardown) is not part of the run.
    pub fn seal(&self) {
        self.shared.recorder.seal();
    }

    /// Sends every held byte and pending FIN; returns whether anything moved.
    pub fn release_held(&self) -> bool {
        let mut state = self.shared.lock();
        let a = state.client_to_server.release(&self.shared.recorder);
        let b = state.server_to_client.release(&self.shared.recorder);
        a || b
    }
}

impl Endpoint {
    fn outgoing(&self) -> Direction {
        Direction::written_by(self.side)
    }

    fn incoming(&self) -> Direction {
        match self.side {
            Side::Client => Direction::ServerToClient,
            Side::Server => Direction::ClientToServer,
        }
    }
}

impl AsyncRead for Endpoint {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let dir = self.incoming();
        self.shared.lock().pipe(dir).poll_read(cx, buf)
    }
}

impl AsyncWrite for Endpoint {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let dir = self.outgoing();
        let mut state = self.shared.lock();
        let pipe = state.pipe(dir);
        if pipe.closed.is_some() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "write after shutdown",
            )));
        }
        if pipe.reader_gone {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "peer closed the connection",
            )));
        }
        pipe.write(data, &self.shared.recorder);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let dir = self.outgoing();
        let mut state = self.shared.lock();
        state
            .pipe(dir)
            .close(Closing::Shutdown, &self.shared.recorder);
        Poll::Ready(Ok(()))
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        let (outgoing, incoming) = (self.outgoing(), self.incoming());
        let mut state = self.shared.lock();
        state
            .pipe(outgoing)
            .close(Closing::Dropped, &self.shared.recorder);
        state.pipe(incoming).reader_gone = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::driver::{Ending, drive};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn run_pair(cuts: Cuts, writes: Vec<&'static [u8]>) -> Trace {
        let recorder = Recorder::new();
        let (mut client, mut server, wire) = pair(&cuts, recorder.clone());
        let work = async move {
            for w in writes {
                client.write_all(w).await.unwrap();
            }
            client.shutdown().await.unwrap();
            let mut got = Vec::new();
            server.read_to_end(&mut got).await.unwrap();
            got
        };
        let (out, ending) = drive(work, &wire, 1000);
        assert_eq!(ending, Ending::Completed);
        assert_eq!(out.unwrap(), b"hello world");
        recorder.snapshot()
    }

    use super::super::trace::Trace;

    #[test]
    fn writes_coalesce_without_cuts() {
        let trace = run_pair(Cuts::default(), vec![b"hello", b" world"]);
        let segs: Vec<_> = trace.segments(Direction::ClientToServer).collect();
        assert_eq!(segs, vec![&Bytes::from_static(b"hello world")]);
    }

    #[test]
    fn cuts_split_exactly() {
        let cuts = Cuts {
            client_to_server: vec![3, 7],
            server_to_client: vec![],
        };
        let trace = run_pair(cuts, vec![b"hello", b" world"]);
        let segs: Vec<_> = trace
            .segments(Direction::ClientToServer)
            .map(|b| b.to_vec())
            .collect();
        assert_eq!(
            segs,
            vec![b"hel".to_vec(), b"lo w".to_vec(), b"orld".to_vec()]
        );
    }
}
