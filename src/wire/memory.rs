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
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::stream_log::StreamLog;
use super::trace::{Closing, Direction, Event, Recorder, Side, StreamSource};

/// Where each direction is cut into segments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cuts {
    /// Stream offsets (from the first byte the client writes) where a c>s segment ends.
    pub client_to_server: Vec<usize>,
    /// Stream offsets (from the first byte the server writes) where a s>c segment ends.
    pub server_to_client: Vec<usize>,
}

/// Faults the wire injects, for reliability properties. The default injects none.
///
/// Short writes and spurious `Pending`s must be invisible to a correct peer (it
/// retries); a reset or an early FIN cuts the stream, and a correct peer then
/// reports an error or EOF after delivering every byte that did arrive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Faults {
    /// Each `poll_write` accepts at most this many bytes (a short write).
    pub max_write: Option<usize>,
    /// Every `n`th poll of an endpoint returns `Pending` (after waking itself).
    pub pending_every: Option<u32>,
    /// The stream of this direction is reset (RST) once it reaches this many bytes.
    pub reset: Option<(Direction, usize)>,
    /// The writer of this direction sends FIN once the stream reaches this many
    /// bytes, and can write no more: a peer that stops mid-message.
    pub fin: Option<(Direction, usize)>,
}

impl Faults {
    /// Whether the faults cut a stream (a reset or an early FIN), rather than only
    /// slowing it down.
    pub fn cuts_a_stream(&self) -> bool {
        self.reset.is_some() || self.fin.is_some()
    }
}

/// Faults for reliability properties: short writes and spurious `Pending`s
/// often, and a reset or early FIN in one direction at any byte.
pub fn faults() -> impl proptest::strategy::Strategy<Value = Faults> {
    use proptest::prelude::*;
    let at = (0u8..2, 0u8..10, 0usize..1200).prop_map(|(dir, kind, at)| {
        let dir = if dir == 0 {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        (kind, (dir, at))
    });
    (0u8..3, 1usize..64, 0u8..3, 2u32..8, at).prop_map(
        |(short, max, pending, every, (kind, at))| Faults {
            max_write: (short == 0).then_some(max),
            pending_every: (pending == 0).then_some(every),
            reset: (kind < 3).then_some(at),
            fin: (3..6).contains(&kind).then_some(at),
        },
    )
}

/// The least room a direction's buffer has each time it grows.
const HELD_ROOM_MIN: usize = 4096;

/// The most room [`Pipe::write`] makes ahead of the bytes it is given.
const HELD_ROOM_MAX: usize = 1 << 20;

/// One direction of the wire. It keeps its bytes in one buffer (`log`), which
/// its reads copy from under the wire's one lock, and which the trace borrows
/// when it is taken ([`StreamSource`]); the segments are stream offsets in it.
#[derive(Debug)]
struct Pipe {
    dir: Direction,
    /// Every byte written, from the first.
    log: StreamLog,
    /// Where the segments the reader may take end (stream offsets), oldest
    /// first. The front one may be partly read.
    ready: VecDeque<usize>,
    /// Where the reader is (the stream offset of the next byte it reads).
    read_at: usize,
    /// Where the held bytes start: written, not yet sent, waiting for a cut
    /// point or for quiet (the end of the last segment sent).
    held_from: usize,
    /// Bytes written so far (the stream offset of the end of the held bytes).
    written: usize,
    /// Cut points still ahead of `held_from`, ascending.
    cuts: VecDeque<usize>,
    segments_sent: usize,
    /// The writer has closed; a FIN follows the held bytes.
    closed: Option<Closing>,
    /// The FIN has reached the reader.
    fin_sent: bool,
    reader_waker: Option<Waker>,
    reader_gone: bool,
    /// Where the stream is cut by an injected fault, and how.
    cut_off: Option<(usize, Fault)>,
    /// The reset has reached the reader.
    reset_sent: bool,
}

/// A fault that ends a direction early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Reset,
    Fin,
}

impl Pipe {
    /// A pipe cut at `cuts`, with room for `room` bytes before its buffer grows.
    fn new(dir: Direction, cuts: &[usize], room: usize) -> Self {
        // One list, sorted in place, then the queue on its buffer.
        let mut cuts: Vec<usize> = cuts.iter().copied().filter(|&cut| cut > 0).collect();
        cuts.sort_unstable();
        cuts.dedup();
        let mut log = StreamLog::default();
        log.reserve(room);
        Pipe {
            dir,
            log,
            ready: VecDeque::new(),
            read_at: 0,
            held_from: 0,
            written: 0,
            cuts: VecDeque::from(cuts),
            segments_sent: 0,
            closed: None,
            fin_sent: false,
            reader_waker: None,
            reader_gone: false,
            cut_off: None,
            reset_sent: false,
        }
    }

    /// Sends the held bytes up to stream offset `end` as one segment.
    fn send(&mut self, end: usize, recorder: &Recorder) {
        if end <= self.held_from {
            return;
        }
        recorder.send(self.dir, self.segments_sent, self.held_from..end);
        self.segments_sent += 1;
        self.held_from = end;
        self.ready.push_back(end);
        self.wake_reader();
    }

    /// Takes `data` (all of it, or up to an injected fault); returns how many bytes.
    fn write(&mut self, data: &[u8], recorder: &Recorder) -> usize {
        let data = match self.cut_off {
            Some((at, _)) => &data[..data.len().min(at.saturating_sub(self.written))],
            None => data,
        };
        // When the buffer grows, room for all the cuts say is still to come,
        // so that it is not regrown write by write.
        let to_come = self
            .cuts
            .back()
            .map_or(0, |&last| last.saturating_sub(self.written))
            .min(HELD_ROOM_MAX);
        if self.log.write(data, to_come.max(HELD_ROOM_MIN)) {
            recorder.regrew(self.dir);
        }
        self.written += data.len();
        while let Some(&cut) = self.cuts.front() {
            if cut > self.written {
                break;
            }
            self.cuts.pop_front();
            self.send(cut, recorder);
        }
        if let Some((at, fault)) = self.cut_off
            && self.written >= at
        {
            self.fault(fault, recorder);
        }
        data.len()
    }

    /// Ends the direction at the injected fault: what is held goes first.
    fn fault(&mut self, fault: Fault, recorder: &Recorder) {
        match fault {
            Fault::Fin => self.close(Closing::Shutdown, recorder),
            Fault::Reset if !self.reset_sent => {
                self.send(self.written, recorder);
                self.reset_sent = true;
                self.closed.get_or_insert(Closing::Dropped);
                self.fin_sent = true;
                recorder.record(Event::Reset { dir: self.dir });
                self.wake_reader();
            }
            Fault::Reset => {}
        }
    }

    /// Sends what is held; returns whether anything moved.
    fn release(&mut self, recorder: &Recorder) -> bool {
        let mut moved = false;
        if self.written > self.held_from {
            self.send(self.written, recorder);
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

    /// Whether a read would return at once (data, EOF or a reset).
    fn readable(&self) -> bool {
        !self.ready.is_empty() || self.fin_sent || self.reset_sent
    }

    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if let Some(&end) = self.ready.front() {
            let want = (end - self.read_at).min(buf.remaining());
            // After the trace was taken, a teardown's read may get fewer.
            let bytes = self.log.bytes(self.read_at..self.read_at + want);
            let n = bytes.len();
            buf.put_slice(bytes);
            self.read_at += if n == 0 && want > 0 {
                end - self.read_at
            } else {
                n
            };
            if self.read_at == end {
                self.ready.pop_front();
            }
            return Poll::Ready(Ok(()));
        }
        if self.reset_sent {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection reset by peer",
            )));
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

    /// Both directions' bytes so far, client to server first.
    fn logs(&mut self) -> [&mut StreamLog; 2] {
        [
            &mut self.client_to_server.log,
            &mut self.server_to_client.log,
        ]
    }
}

#[derive(Debug)]
struct Shared {
    state: Mutex<WireState>,
    recorder: Recorder,
    faults: Faults,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, WireState> {
        // Every critical section leaves the pipes consistent before it can panic.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The recorder's segments are ranges of the pipes' buffers: it gets them
/// from here when its trace is taken, while the wire lives.
impl StreamSource for Shared {
    fn freeze(&self) -> [Bytes; 2] {
        self.lock().logs().map(StreamLog::freeze)
    }

    fn copy(&self) -> [Bytes; 2] {
        self.lock().logs().map(|log| log.copy())
    }
}

/// A wire that goes before its trace is taken leaves the recorder its bytes.
impl Drop for Shared {
    fn drop(&mut self) {
        let state = self
            .state
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.recorder.keep(state.logs().map(StreamLog::freeze));
    }
}

/// One end of the in-memory wire: `AsyncRead + AsyncWrite`, like a `TcpStream`.
#[derive(Debug)]
pub struct Endpoint {
    shared: Arc<Shared>,
    side: Side,
    /// Polls so far, for [`Faults::pending_every`].
    polls: u32,
}

/// The wire as a whole, for the driver: one connection, or several driven
/// together ([`WireHandle::and`], a proxy's two legs).
#[derive(Debug, Clone)]
pub struct WireHandle {
    shared: Vec<Arc<Shared>>,
}

/// A connected pair of endpoints (client, server) and the handle that releases held bytes.
pub fn pair(cuts: &Cuts, recorder: Recorder) -> (Endpoint, Endpoint, WireHandle) {
    pair_with_faults(cuts, Faults::default(), recorder)
}

/// Like [`pair`], with faults injected.
pub fn pair_with_faults(
    cuts: &Cuts,
    faults: Faults,
    recorder: Recorder,
) -> (Endpoint, Endpoint, WireHandle) {
    let [c2s_room, s2c_room] = recorder.take_room();
    let mut state = WireState {
        client_to_server: Pipe::new(Direction::ClientToServer, &cuts.client_to_server, c2s_room),
        server_to_client: Pipe::new(Direction::ServerToClient, &cuts.server_to_client, s2c_room),
    };
    for (fault, at) in [(Fault::Reset, faults.reset), (Fault::Fin, faults.fin)]
        .into_iter()
        .filter_map(|(fault, at)| at.map(|a| (fault, a)))
    {
        let pipe = state.pipe(at.0);
        if pipe.cut_off.is_none_or(|(earlier, _)| at.1 < earlier) {
            pipe.cut_off = Some((at.1, fault));
        }
    }
    let shared = Arc::new(Shared {
        state: Mutex::new(state),
        recorder,
        faults,
    });
    let source: Weak<dyn StreamSource> = Arc::downgrade(&shared) as Weak<Shared>;
    shared.recorder.lend_from(source);
    let end = |side| Endpoint {
        shared: shared.clone(),
        side,
        polls: 0,
    };
    (
        end(Side::Client),
        end(Side::Server),
        WireHandle {
            shared: vec![shared.clone()],
        },
    )
}

impl WireHandle {
    /// Stops recording: what happens after (teardown) is not part of the run.
    pub fn seal(&self) {
        for shared in &self.shared {
            shared.recorder.seal();
        }
    }

    /// Sends every held byte and pending FIN; returns whether anything moved.
    /// On several connections, each in turn, client to server first.
    pub fn release_held(&self) -> bool {
        let mut moved = false;
        for shared in &self.shared {
            let mut state = shared.lock();
            let a = state.client_to_server.release(&shared.recorder);
            let b = state.server_to_client.release(&shared.recorder);
            moved |= a || b;
        }
        moved
    }

    /// This wire and `other`, driven as one: quiet only when both are.
    pub fn and(mut self, other: &WireHandle) -> WireHandle {
        self.shared.extend(other.shared.iter().cloned());
        self
    }
}

impl Endpoint {
    /// Whether this poll is one of the injected spurious `Pending`s; if so the
    /// waker is woken at once, as a real spurious wake-up would leave it.
    fn spurious_pending(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(every) = self.shared.faults.pending_every else {
            return false;
        };
        self.polls = self.polls.wrapping_add(1);
        if self.polls.is_multiple_of(every.max(2)) {
            cx.waker().wake_by_ref();
            return true;
        }
        false
    }

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
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let dir = self.incoming();
        // A spurious `Pending` only where the read could have gone on: a reader
        // that really waits must leave the connection quiet, or it never ends.
        // (Without that fault, no second look under the lock: reads are the
        // wire's most frequent call.)
        if self.shared.faults.pending_every.is_some() {
            let readable = self.shared.lock().pipe(dir).readable();
            if readable && self.spurious_pending(cx) {
                return Poll::Pending;
            }
        }
        self.shared.lock().pipe(dir).poll_read(cx, buf)
    }
}

impl AsyncWrite for Endpoint {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.spurious_pending(cx) {
            return Poll::Pending;
        }
        let dir = self.outgoing();
        let max_write = self.shared.faults.max_write.unwrap_or(usize::MAX).max(1);
        let mut state = self.shared.lock();
        let pipe = state.pipe(dir);
        if pipe.reset_sent {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection reset",
            )));
        }
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
        let accepted = pipe.write(&data[..data.len().min(max_write)], &self.shared.recorder);
        if accepted == 0 && !data.is_empty() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the connection was cut here (injected fault)",
            )));
        }
        Poll::Ready(Ok(accepted))
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
    use bytes::Bytes;
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
    fn the_segments_of_a_direction_share_one_buffer_while_cuts_are_ahead() {
        let recorder = Recorder::new();
        // The last write is more than the least room `held` is given.
        let last = vec![b'x'; 2 * HELD_ROOM_MIN];
        let end = 10 + last.len();
        let mut pipe = Pipe::new(Direction::ClientToServer, &[4, 10, end], 0);
        for write in [&b"abcdef"[..], b"ghij", &last] {
            assert_eq!(pipe.write(write, &recorder), write.len());
        }
        recorder.keep([pipe.log.freeze(), Bytes::new()]);
        let trace = recorder.take();
        let segments: Vec<Bytes> = trace.segments(Direction::ClientToServer).cloned().collect();
        assert_eq!(segments.concat(), [&b"abcdefghij"[..], &last].concat());
        assert_eq!(segments.len(), 3);
        // Each segment starts where the one before it ends: the held bytes were
        // not moved to a new buffer at each write.
        for pair in segments.windows(2) {
            assert_eq!(
                pair[0].as_ptr().wrapping_add(pair[0].len()),
                pair[1].as_ptr()
            );
        }
    }

    /// The recorder's segments are ranges of the pipes' buffers; a wire
    /// dropped before the trace is taken leaves it those buffers.
    #[test]
    fn a_wire_dropped_before_its_trace_is_taken_leaves_it_the_bytes() {
        let recorder = Recorder::new();
        let (mut client, server, wire) = pair(&Cuts::default(), recorder.clone());
        let (_, ending) = drive(
            async {
                client.write_all(b"hello").await.unwrap();
                client.shutdown().await.unwrap();
            },
            &wire,
            100,
        );
        assert_eq!(ending, Ending::Completed);
        drop((client, server, wire));
        let trace = recorder.take();
        assert_eq!(trace.stream(Direction::ClientToServer), &b"hello"[..]);
        let segments: Vec<_> = trace.segments(Direction::ClientToServer).collect();
        assert_eq!(segments, [&Bytes::from_static(b"hello")]);
    }

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
