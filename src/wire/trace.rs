//! The trace: every event of one connection, in the order it happened.
//!
//! The oracle judges a run from two sources only: this trace (what crossed the
//! wire, which is the truth about what each peer *could* have seen) and the
//! records of what each application read and wrote. Keeping the trace as one
//! ordered log, rather than one log per direction, is what lets the oracle say
//! "the server closed the connection *before* its application shut down".
//!
//! The in-memory wire also keeps each direction's bytes in the recorder, as one
//! buffer ([`Recorder::write`]): its segments are ranges of that buffer until the
//! trace is taken, and then slices of it, so the oracle's view of a whole
//! direction ([`Trace::stream`]) is that buffer lent, not the segments copied
//! end to end.

use std::fmt;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};

/// Which way bytes travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the client to the server (`c>s`).
    ClientToServer,
    /// From the server to the client (`s>c`).
    ServerToClient,
}

impl Direction {
    /// The side that writes in this direction.
    pub fn sender(self) -> Side {
        match self {
            Direction::ClientToServer => Side::Client,
            Direction::ServerToClient => Side::Server,
        }
    }

    /// The direction in which `side` writes.
    pub fn written_by(side: Side) -> Direction {
        match side {
            Side::Client => Direction::ClientToServer,
            Side::Server => Direction::ServerToClient,
        }
    }

    /// The other direction: the one this direction's sender reads.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ClientToServer => Direction::ServerToClient,
            Direction::ServerToClient => Direction::ClientToServer,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::ClientToServer => "c>s",
            Direction::ServerToClient => "s>c",
        })
    }
}

/// One end of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The end that sent the request.
    Client,
    /// The end that answered it.
    Server,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Client => "client",
            Side::Server => "server",
        })
    }
}

/// How a direction of the connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    /// The writer shut down its write half (`shutdown(SHUT_WR)`, `CloseWrite`).
    Shutdown,
    /// The writer dropped the connection without shutting down first.
    Dropped,
}

/// One thing that happened on the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A segment arrived at the reader's side.
    Segment {
        /// Which way it travelled.
        dir: Direction,
        /// Its position among the segments of that direction, from 0.
        index: usize,
        /// Its bytes.
        bytes: Bytes,
    },
    /// The writer of `dir` will send nothing more (FIN).
    Fin {
        /// Which way the FIN travelled.
        dir: Direction,
        /// Whether it was a shutdown or a drop.
        how: Closing,
    },
    /// The writer of `dir` aborted the connection (RST).
    Reset {
        /// Which way the RST travelled.
        dir: Direction,
    },
    /// The library on `side` handed the connection to its application.
    Hijack {
        /// Who hijacked.
        side: Side,
    },
    /// The application on `side` shut down its write half.
    AppShutdown {
        /// Whose application.
        side: Side,
    },
    /// The application on `side` is done with the stream (and drops it).
    AppEnd {
        /// Whose application.
        side: Side,
    },
}

/// Every event of one connection, in order.
///
/// Build one from its events with [`Trace::from`] (or [`Trace::default`] and
/// push): besides the events, a trace taken from a [`Recorder`] keeps each
/// direction's bytes as one buffer, which only [`Trace::stream`] reads, and
/// only while the segments of that direction are still its slices. Two traces
/// are equal when their events are.
#[derive(Clone, Default)]
pub struct Trace {
    /// The events, oldest first.
    pub events: Vec<Event>,
    /// Each direction's bytes as one buffer ([`Direction::slot`]), when the
    /// recorder kept them so (the in-memory wire); empty otherwise.
    streams: [Bytes; 2],
}

impl From<Vec<Event>> for Trace {
    fn from(events: Vec<Event>) -> Self {
        Trace {
            events,
            streams: Default::default(),
        }
    }
}

impl PartialEq for Trace {
    fn eq(&self, other: &Self) -> bool {
        self.events == other.events
    }
}

impl Eq for Trace {}

// By hand: the events only, as the derive printed them before `streams`.
impl fmt::Debug for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trace")
            .field("events", &self.events)
            .finish()
    }
}

impl Direction {
    /// This direction's place in a pair indexed by direction.
    fn slot(self) -> usize {
        match self {
            Direction::ClientToServer => 0,
            Direction::ServerToClient => 1,
        }
    }
}

impl Trace {
    /// All bytes that travelled in `dir`, concatenated. Without a copy when it
    /// can: the buffer the recorder kept for the direction, when the segments
    /// of `dir` are still its consecutive slices (a trace of the in-memory
    /// wire), or the segment itself when there is only one.
    pub fn stream(&self, dir: Direction) -> Bytes {
        let kept = &self.streams[dir.slot()];
        if !kept.is_empty() && self.cut_from(kept, dir) {
            return kept.clone();
        }
        let mut segments = self.segments(dir);
        let Some(first) = segments.next() else {
            return Bytes::new();
        };
        let Some(second) = segments.next() else {
            return first.clone();
        };
        let mut out = Vec::with_capacity(self.segments(dir).map(Bytes::len).sum());
        for bytes in [first, second].into_iter().chain(segments) {
            out.extend_from_slice(bytes);
        }
        out.into()
    }

    /// Whether the segments of `dir`, in order, are `whole` cut end to end: each
    /// one a view of the bytes of `whole` where the one before it ended, so that
    /// `whole` is their concatenation without comparing a byte. A trace whose
    /// events were edited after it was taken fails this, and is concatenated.
    fn cut_from(&self, whole: &Bytes, dir: Direction) -> bool {
        let mut at = 0;
        for segment in self.segments(dir).filter(|s| !s.is_empty()) {
            if at + segment.len() > whole.len() || segment.as_ptr() != whole[at..].as_ptr() {
                return false;
            }
            at += segment.len();
        }
        at == whole.len()
    }

    /// The segments that travelled in `dir`, in order.
    pub fn segments(&self, dir: Direction) -> impl Iterator<Item = &Bytes> {
        self.events.iter().filter_map(move |event| match event {
            Event::Segment { dir: d, bytes, .. } if *d == dir => Some(bytes),
            _ => None,
        })
    }

    /// The position of the first event that matches `pred`.
    pub fn position(&self, pred: impl Fn(&Event) -> bool) -> Option<usize> {
        self.events.iter().position(pred)
    }

    /// Where the FIN of `dir` is in the log, and how it was sent.
    pub fn fin(&self, dir: Direction) -> Option<(usize, Closing)> {
        self.events
            .iter()
            .enumerate()
            .find_map(|(at, event)| match event {
                Event::Fin { dir: d, how } if *d == dir => Some((at, *how)),
                _ => None,
            })
    }

    /// Where `side` hijacked, if it did.
    pub fn hijack(&self, side: Side) -> Option<usize> {
        self.position(|event| matches!(event, Event::Hijack { side: s } if *s == side))
    }

    /// Where the application of `side` shut down its write half, if it did.
    pub fn app_shutdown(&self, side: Side) -> Option<usize> {
        self.position(|event| matches!(event, Event::AppShutdown { side: s } if *s == side))
    }

    /// Where the application of `side` ended, if it did.
    pub fn app_end(&self, side: Side) -> Option<usize> {
        self.position(|event| matches!(event, Event::AppEnd { side: s } if *s == side))
    }

    /// The segment of `dir` that carries stream offset `offset`, with the offset at which it starts.
    pub fn segment_at(&self, dir: Direction, offset: usize) -> Option<(usize, usize)> {
        let mut start = 0;
        for (index, bytes) in self.segments(dir).enumerate() {
            if offset < start + bytes.len() {
                return Some((index, start));
            }
            start += bytes.len();
        }
        None
    }
}

/// The events [`Recorder::new`] makes room for: a run of the suite logs 3
/// to 12 (its snapshots), a handful more 25. Kept under 1 KiB of events
/// (48 bytes each): glibc serves a block that small from its per-thread
/// cache, while a larger one (32 events, 1,536 bytes, before) took the
/// general path, sorting and merging free chunks, about 1,200 instructions
/// a run (BENCHMARKS.md, issue 26, sixth pass).
const EVENTS_A_RUN: usize = 20;

/// A shared, append-only handle on a [`Trace`], given to the wire and to the
/// applications so that all of them log into one ordered history.
///
/// Once [`Recorder::seal`] is called, further events are ignored: that is how the
/// teardown of a finished run (dropping sockets) stays out of the verdict.
///
/// The in-memory wire keeps the bytes of each direction here too
/// ([`Recorder::write`], [`Recorder::send`], [`Recorder::read`]), so a
/// recorder serves one in-memory connection: a second one would write its
/// bytes into the same two logs.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    inner: Arc<Mutex<RecorderState>>,
}

#[derive(Debug, Default)]
struct RecorderState {
    trace: Trace,
    sealed: bool,
    /// The bytes written through [`Recorder::write`], by [`Direction::slot`].
    logs: [StreamLog; 2],
    /// The segments sent through [`Recorder::send`] whose events do not hold
    /// their bytes yet: the event's position, and the range of its direction's
    /// log. They get slices of the log when the trace is taken or copied.
    lent: Vec<(usize, Range<usize>)>,
    /// How many times [`Recorder::write`] had to grow each direction's buffer.
    #[cfg(test)]
    regrown: [usize; 2],
}

/// The bytes of one direction, from its first: `taken` (frozen when the trace
/// was taken, and still read by a teardown), then `open`.
#[derive(Debug, Default)]
struct StreamLog {
    taken: Bytes,
    open: BytesMut,
}

impl StreamLog {
    /// Every byte so far, as one buffer: without a copy the first time (the
    /// open bytes are frozen into `taken`), with one only if bytes came after that.
    fn freeze(&mut self) -> Bytes {
        if !self.open.is_empty() {
            self.taken = if self.taken.is_empty() {
                self.open.split().freeze()
            } else {
                [&self.taken[..], &self.open.split()[..]].concat().into()
            };
        }
        self.taken.clone()
    }

    /// Every byte so far, copied.
    fn copy(&self) -> Bytes {
        [&self.taken[..], &self.open[..]].concat().into()
    }

    /// The bytes of `range` (stream offsets) that are in one buffer: all of
    /// them, or those before the point where the log was frozen.
    fn bytes(&self, range: Range<usize>) -> &[u8] {
        let frozen = self.taken.len();
        if range.start < frozen {
            self.taken
                .get(range.start..range.end.min(frozen))
                .unwrap_or_default()
        } else {
            self.open
                .get(range.start - frozen..range.end - frozen)
                .unwrap_or_default()
        }
    }
}

impl RecorderState {
    /// The trace, its lent segments given the bytes of `wholes`, and those
    /// buffers kept as the directions' streams (as far as segments reach).
    fn resolve(mut trace: Trace, lent: &[(usize, Range<usize>)], wholes: [Bytes; 2]) -> Trace {
        let mut reach = [0; 2];
        for (at, range) in lent {
            if let Some(Event::Segment { dir, bytes, .. }) = trace.events.get_mut(*at) {
                *bytes = wholes[dir.slot()].slice(range.clone());
                reach[dir.slot()] = range.end;
            }
        }
        for slot in 0..2 {
            if reach[slot] > 0 {
                trace.streams[slot] = wholes[slot].slice(..reach[slot]);
            }
        }
        trace
    }
}

impl Recorder {
    /// A recorder with an empty trace, with room for the events of a typical
    /// in-memory run (a few segments each way, the FINs, the hijack and the
    /// application's end): the log is not regrown event by event.
    pub fn new() -> Self {
        Recorder {
            inner: Arc::new(Mutex::new(RecorderState {
                trace: Trace::from(Vec::with_capacity(EVENTS_A_RUN)),
                ..RecorderState::default()
            })),
        }
    }

    /// Appends `event` unless the recorder is sealed.
    pub fn record(&self, event: Event) {
        let mut state = self.lock();
        if !state.sealed {
            state.trace.events.push(event);
        }
    }

    /// Appends `data` to the bytes written in `dir` (sealed or not: the wire
    /// still carries a teardown's bytes), first making room for at least
    /// `room` bytes when `data` does not fit: the in-memory wire's buffer.
    pub fn write(&self, dir: Direction, data: &[u8], room: usize) {
        let mut guard = self.lock();
        let state = &mut *guard;
        let open = &mut state.logs[dir.slot()].open;
        if open.capacity() - open.len() < data.len() {
            open.reserve(room.max(data.len()));
            #[cfg(test)]
            {
                state.regrown[dir.slot()] += 1;
            }
        }
        open.extend_from_slice(data);
    }

    /// How many times [`Recorder::write`] grew each direction's buffer (by
    /// [`Direction::slot`]): none when the run reserved enough up front.
    #[cfg(test)]
    pub(crate) fn regrown(&self) -> [usize; 2] {
        self.lock().regrown
    }

    /// Makes room for `bytes` more bytes written in `dir` with
    /// [`Recorder::write`]: a run that knows how much its wire should carry
    /// allocates each direction's buffer once, instead of regrowing it (a copy
    /// of every byte so far each time).
    pub fn reserve(&self, dir: Direction, bytes: usize) {
        self.lock().logs[dir.slot()].open.reserve(bytes);
    }

    /// Records a segment of `dir` (its `index` among them) that carries the
    /// bytes `range` (stream offsets) written with [`Recorder::write`], unless
    /// the recorder is sealed. Its event gets its bytes, a slice of the
    /// direction's buffer, when the trace is taken or copied.
    pub fn send(&self, dir: Direction, index: usize, range: Range<usize>) {
        let mut state = self.lock();
        if state.sealed {
            return;
        }
        let at = state.trace.events.len();
        state.trace.events.push(Event::Segment {
            dir,
            index,
            bytes: Bytes::new(),
        });
        state.lent.push((at, range));
    }

    /// Calls `read` with the bytes `range` (stream offsets) written in `dir`
    /// with [`Recorder::write`]: all of them, or fewer (a prefix, none past
    /// what was written) when the trace was taken in between.
    pub fn read<T>(&self, dir: Direction, range: Range<usize>, read: impl FnOnce(&[u8]) -> T) -> T {
        read(self.lock().logs[dir.slot()].bytes(range))
    }

    /// Stops recording.
    pub fn seal(&self) {
        self.lock().sealed = true;
    }

    /// A copy of the trace so far.
    pub fn snapshot(&self) -> Trace {
        let state = self.lock();
        let trace = state.trace.clone();
        if state.lent.is_empty() {
            return trace;
        }
        let wholes = [state.logs[0].copy(), state.logs[1].copy()];
        RecorderState::resolve(trace, &state.lent, wholes)
    }

    /// The trace so far, taken out: the recorder is sealed and records nothing
    /// more. For the end of a run, where a copy of every event is wasted work;
    /// the bytes written with [`Recorder::write`] are lent to it, not copied.
    pub fn take(&self) -> Trace {
        let mut state = self.lock();
        state.sealed = true;
        let trace = std::mem::take(&mut state.trace);
        if state.lent.is_empty() {
            return trace;
        }
        let lent = std::mem::take(&mut state.lent);
        let [c2s, s2c] = &mut state.logs;
        let wholes = [c2s.freeze(), s2c.freeze()];
        RecorderState::resolve(trace, &lent, wholes)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RecorderState> {
        // A panic while holding this lock cannot leave the log half-written
        // (every mutation is a single push), so a poisoned lock is still usable.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Trace {
        /// Where the bytes of event `at` start, if it is a segment.
        fn events_bytes_at(&self, at: usize) -> *const u8 {
            match &self.events[at] {
                Event::Segment { bytes, .. } => bytes.as_ptr(),
                _ => std::ptr::null(),
            }
        }
    }

    /// The reverse of the direction a side writes in is the one the other
    /// side writes in, and reversing twice is the identity.
    #[test]
    fn a_reversed_direction_is_the_other_sides() {
        for (side, other) in [(Side::Client, Side::Server), (Side::Server, Side::Client)] {
            let dir = Direction::written_by(side);
            assert_eq!(dir.reverse(), Direction::written_by(other));
            assert_eq!(dir.reverse().sender(), other);
            assert_eq!(dir.reverse().reverse(), dir);
        }
    }

    /// A new recorder's room for events is one block small enough for
    /// glibc's per-thread cache (at most 1,032 bytes asked for, and under the
    /// 1,024-byte chunks that make `malloc` merge free ones first).
    #[test]
    fn a_recorder_makes_room_for_its_events_in_a_small_block() {
        let trace = Recorder::new().take();
        let room = trace.events.capacity();
        assert!(room >= 16, "room for {room} events, fewer than a usual run");
        let bytes = room * std::mem::size_of::<Event>();
        assert!(bytes + 8 < 1024, "{bytes} bytes of events");
    }

    #[test]
    fn take_hands_over_the_trace_and_seals_the_recorder() {
        let recorder = Recorder::new();
        let clone = recorder.clone();
        clone.record(Event::Hijack { side: Side::Server });
        let trace = recorder.take();
        assert_eq!(trace.hijack(Side::Server), Some(0));
        // A late event from a clone the run left behind is not recorded anywhere.
        clone.record(Event::AppEnd { side: Side::Server });
        assert_eq!(recorder.snapshot(), Trace::default());
    }

    /// A recorder that kept `abcdef` client to server, sent as `ab` and
    /// `cdef`, and `xyz` the other way, as the in-memory wire does.
    fn written() -> Recorder {
        let recorder = Recorder::new();
        recorder.write(Direction::ClientToServer, b"abc", 0);
        recorder.send(Direction::ClientToServer, 0, 0..2);
        recorder.write(Direction::ServerToClient, b"xyz", 0);
        recorder.write(Direction::ClientToServer, b"def", 0);
        recorder.send(Direction::ClientToServer, 1, 2..6);
        recorder.send(Direction::ServerToClient, 0, 0..3);
        recorder
    }

    #[test]
    fn a_taken_trace_lends_each_direction_as_one_buffer() {
        let trace = written().take();
        let segments: Vec<&Bytes> = trace.segments(Direction::ClientToServer).collect();
        assert_eq!(segments, [&b"ab"[..], b"cdef"]);
        let stream = trace.stream(Direction::ClientToServer);
        assert_eq!(stream, &b"abcdef"[..]);
        // The recorder's buffer, not a concatenation of the segments.
        assert_eq!(stream.as_ptr(), segments[0].as_ptr());
        assert_eq!(trace.stream(Direction::ServerToClient), &b"xyz"[..]);
    }

    #[test]
    fn an_edited_trace_is_concatenated_not_lent() {
        let mut trace = written().take();
        trace.events.push(Event::Segment {
            dir: Direction::ClientToServer,
            index: 2,
            bytes: Bytes::from_static(b"gh"),
        });
        assert_eq!(trace.stream(Direction::ClientToServer), &b"abcdefgh"[..]);
        // The same bytes in another buffer: still right, and not the kept one.
        let mut trace = written().take();
        if let Some(Event::Segment { bytes, .. }) = trace.events.get_mut(1) {
            *bytes = Bytes::copy_from_slice(b"cdef");
        }
        let stream = trace.stream(Direction::ClientToServer);
        assert_eq!(stream, &b"abcdef"[..]);
        assert_ne!(stream.as_ptr(), trace.events_bytes_at(0));
        assert_eq!(trace, written().snapshot(), "equal events, equal traces");
    }

    #[test]
    fn a_snapshot_copies_the_kept_bytes_and_a_teardown_reads_past_the_take() {
        let recorder = written();
        let snapshot = recorder.snapshot();
        assert_eq!(snapshot.stream(Direction::ClientToServer), &b"abcdef"[..]);
        let trace = recorder.take();
        assert_eq!(snapshot, trace);
        // The wire goes on after the trace is taken (a teardown): new bytes
        // are readable, the frozen ones too, and nothing more is recorded.
        recorder.write(Direction::ClientToServer, b"gh", 0);
        recorder.send(Direction::ClientToServer, 2, 6..8);
        let read = |range| recorder.read(Direction::ClientToServer, range, <[u8]>::to_vec);
        assert_eq!(read(6..8), b"gh");
        assert_eq!(read(1..3), b"bc");
        assert_eq!(
            read(4..8),
            b"ef",
            "a read does not straddle the frozen bytes"
        );
        assert_eq!(read(8..12), b"", "nothing past what was written");
        assert_eq!(recorder.snapshot(), Trace::default());
    }
}
