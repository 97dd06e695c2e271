//! The trace: every event of one connection, in the order it happened.
//!
//! The oracle judges a run from two sources only: this trace (what crossed the
//! wire, which is the truth about what each peer *could* have seen) and the
//! records of what each application read and wrote. Keeping the trace as one
//! ordered log, rather than one log per direction, is what lets the oracle say
//! "the server closed the connection *before* its application shut down".
//!
//! The in-memory wire keeps each direction's bytes in one buffer of its own
//! (its [`StreamSource`]): the segments it records ([`Recorder::send`]) are
//! ranges of that buffer until the trace is taken, and then slices of it, so
//! the oracle's view of a whole direction ([`Trace::stream`]) is that buffer
//! lent, not the segments copied end to end.

use std::fmt;
use std::ops::Range;
use std::sync::{Arc, Mutex, Weak};

use bytes::Bytes;

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

/// The segments lent by the in-memory wire [`Recorder::new`] makes room
/// for: a WebSocket case sends two to four, an HTTP one a few more; growing
/// the list from nothing was two allocations a case (BENCHMARKS.md, issue 26,
/// seventh pass).
const SEGMENTS_A_RUN: usize = 8;

/// A shared, append-only handle on a [`Trace`], given to the wire and to the
/// applications so that all of them log into one ordered history.
///
/// Once [`Recorder::seal`] is called, further events are ignored: that is how the
/// teardown of a finished run (dropping sockets) stays out of the verdict.
///
/// The in-memory wire lends this recorder the bytes of its segments
/// ([`Recorder::send`], [`Recorder::lend_from`]), so a recorder serves one
/// in-memory connection: a second one's ranges would name the first one's bytes.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    inner: Arc<Mutex<RecorderState>>,
}

/// Where the bytes of the segments a recorder was lent are: the in-memory
/// wire, which keeps each direction in one buffer (by [`Direction::slot`]).
pub(crate) trait StreamSource: Send + Sync + fmt::Debug {
    /// Each direction's bytes so far, lent (the buffers frozen): for the
    /// trace taken at the end of a run.
    fn freeze(&self) -> [Bytes; 2];
    /// Each direction's bytes so far, copied: for a snapshot of a run that
    /// may go on.
    fn copy(&self) -> [Bytes; 2];
}

#[derive(Debug, Default)]
struct RecorderState {
    trace: Trace,
    sealed: bool,
    /// The segments sent through [`Recorder::send`] whose events do not hold
    /// their bytes yet: the event's position, and the range of its direction's
    /// buffer. They get slices of it when the trace is taken or copied.
    lent: Vec<(usize, Range<usize>)>,
    /// Where those bytes are while the wire lives ([`Recorder::lend_from`]);
    /// weak, since the wire holds this recorder.
    source: Option<Weak<dyn StreamSource>>,
    /// Those bytes once the wire is gone ([`Recorder::keep`]).
    kept: Option<[Bytes; 2]>,
    /// The room asked for each direction's buffer ([`Recorder::reserve`]).
    room: [usize; 2],
    /// How many times the wire had to grow each direction's buffer.
    #[cfg(test)]
    regrown: [usize; 2],
}

impl RecorderState {
    /// The trace, its lent segments given the bytes of `wholes`, and those
    /// buffers kept as the directions' streams (as far as segments reach).
    /// A range past its buffer (a source that lost bytes) gets none.
    fn resolve(mut trace: Trace, lent: &[(usize, Range<usize>)], wholes: [Bytes; 2]) -> Trace {
        let mut reach = [0; 2];
        for (at, range) in lent {
            if let Some(Event::Segment { dir, bytes, .. }) = trace.events.get_mut(*at)
                && range.end <= wholes[dir.slot()].len()
            {
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
                lent: Vec::with_capacity(SEGMENTS_A_RUN),
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

    /// Counts one growth of the wire's buffer for `dir` (test builds only:
    /// a run that reserved enough up front has none).
    pub(crate) fn regrew(&self, dir: Direction) {
        #[cfg(test)]
        {
            self.lock().regrown[dir.slot()] += 1;
        }
        let _ = dir;
    }

    /// How many times the wire grew each direction's buffer (by
    /// [`Direction::slot`]): none when the run reserved enough up front.
    #[cfg(test)]
    pub(crate) fn regrown(&self) -> [usize; 2] {
        self.lock().regrown
    }

    /// Asks the in-memory wire made with this recorder for room for `bytes`
    /// bytes in `dir`: a run that knows how much its wire should carry
    /// allocates each direction's buffer once, instead of regrowing it (a copy
    /// of every byte so far each time). The wire takes it when it is made
    /// ([`Recorder::take_room`]).
    pub fn reserve(&self, dir: Direction, bytes: usize) {
        let room = &mut self.lock().room[dir.slot()];
        *room = (*room).max(bytes);
    }

    /// The room asked for each direction ([`Recorder::reserve`]), by
    /// [`Direction::slot`], taken out.
    pub(crate) fn take_room(&self) -> [usize; 2] {
        std::mem::take(&mut self.lock().room)
    }

    /// Where the bytes of the segments sent with [`Recorder::send`] are, while
    /// `source` lives.
    pub(crate) fn lend_from(&self, source: Weak<dyn StreamSource>) {
        self.lock().source = Some(source);
    }

    /// Those bytes, handed over by a source that goes away.
    pub(crate) fn keep(&self, wholes: [Bytes; 2]) {
        self.lock().kept = Some(wholes);
    }

    /// The bytes of the lent segments: kept, or asked of the source (with
    /// this recorder's lock released: the wire takes it under its own).
    fn lent_bytes(
        kept: Option<[Bytes; 2]>,
        source: Option<Weak<dyn StreamSource>>,
        freeze: bool,
    ) -> [Bytes; 2] {
        kept.or_else(|| {
            let source = source?.upgrade()?;
            Some(if freeze {
                source.freeze()
            } else {
                source.copy()
            })
        })
        .unwrap_or_default()
    }

    /// Records a segment of `dir` (its `index` among them) that carries the
    /// bytes `range` (stream offsets) of the direction's buffer kept by the
    /// [`StreamSource`], unless the recorder is sealed. Its event gets its
    /// bytes, a slice of that buffer, when the trace is taken or copied.
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

    /// Stops recording.
    pub fn seal(&self) {
        self.lock().sealed = true;
    }

    /// A copy of the trace so far.
    pub fn snapshot(&self) -> Trace {
        let (trace, lent, kept, source) = {
            let state = self.lock();
            if state.lent.is_empty() {
                return state.trace.clone();
            }
            let trace = state.trace.clone();
            (
                trace,
                state.lent.clone(),
                state.kept.clone(),
                state.source.clone(),
            )
        };
        let wholes = Self::lent_bytes(kept, source, false);
        RecorderState::resolve(trace, &lent, wholes)
    }

    /// The trace so far, taken out: the recorder is sealed and records nothing
    /// more. For the end of a run, where a copy of every event is wasted work;
    /// the bytes of the segments the wire lent are lent to it, not copied.
    pub fn take(&self) -> Trace {
        let (trace, lent, kept, source) = {
            let mut state = self.lock();
            state.sealed = true;
            let trace = std::mem::take(&mut state.trace);
            if state.lent.is_empty() {
                return trace;
            }
            let lent = std::mem::take(&mut state.lent);
            (trace, lent, state.kept.clone(), state.source.clone())
        };
        let wholes = Self::lent_bytes(kept, source, true);
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

    /// The bytes a wire kept: `abcdef` client to server, `xyz` the other way.
    #[derive(Debug)]
    struct Kept([Bytes; 2]);

    impl StreamSource for Kept {
        fn freeze(&self) -> [Bytes; 2] {
            self.0.clone()
        }

        fn copy(&self) -> [Bytes; 2] {
            self.0.clone().map(|b| Bytes::copy_from_slice(&b))
        }
    }

    /// A recorder lent [`Kept`]'s bytes, sent as `ab` and `cdef` client to
    /// server and `xyz` the other way, as the in-memory wire does; and the
    /// source, which lends them while it lives.
    fn written() -> (Recorder, Arc<Kept>) {
        let recorder = Recorder::new();
        let kept = Arc::new(Kept([
            Bytes::from_static(b"abcdef"),
            Bytes::from_static(b"xyz"),
        ]));
        let source: Arc<dyn StreamSource> = kept.clone();
        recorder.lend_from(Arc::downgrade(&source));
        recorder.send(Direction::ClientToServer, 0, 0..2);
        recorder.send(Direction::ClientToServer, 1, 2..6);
        recorder.send(Direction::ServerToClient, 0, 0..3);
        (recorder, kept)
    }

    #[test]
    fn a_taken_trace_lends_each_direction_as_one_buffer() {
        let (recorder, kept) = written();
        let trace = recorder.take();
        let segments: Vec<&Bytes> = trace.segments(Direction::ClientToServer).collect();
        assert_eq!(segments, [&b"ab"[..], b"cdef"]);
        let stream = trace.stream(Direction::ClientToServer);
        assert_eq!(stream, &b"abcdef"[..]);
        // The source's buffer, not a concatenation of the segments.
        assert_eq!(stream.as_ptr(), segments[0].as_ptr());
        assert_eq!(stream.as_ptr(), kept.0[0].as_ptr());
        assert_eq!(trace.stream(Direction::ServerToClient), &b"xyz"[..]);
    }

    #[test]
    fn an_edited_trace_is_concatenated_not_lent() {
        let (recorder, _kept) = written();
        let mut trace = recorder.take();
        trace.events.push(Event::Segment {
            dir: Direction::ClientToServer,
            index: 2,
            bytes: Bytes::from_static(b"gh"),
        });
        assert_eq!(trace.stream(Direction::ClientToServer), &b"abcdefgh"[..]);
        // The same bytes in another buffer: still right, and not the kept one.
        let (recorder, _kept) = written();
        let mut trace = recorder.take();
        if let Some(Event::Segment { bytes, .. }) = trace.events.get_mut(1) {
            *bytes = Bytes::copy_from_slice(b"cdef");
        }
        let stream = trace.stream(Direction::ClientToServer);
        assert_eq!(stream, &b"abcdef"[..]);
        assert_ne!(stream.as_ptr(), trace.events_bytes_at(0));
        assert_eq!(trace, written().0.snapshot(), "equal events, equal traces");
    }

    #[test]
    fn a_snapshot_copies_the_lent_bytes_and_a_gone_source_leaves_what_it_kept() {
        let (recorder, kept) = written();
        let snapshot = recorder.snapshot();
        let stream = snapshot.stream(Direction::ClientToServer);
        assert_eq!(stream, &b"abcdef"[..]);
        assert_ne!(stream.as_ptr(), kept.0[0].as_ptr(), "lent, not copied");
        // A source that goes away hands its bytes over first (the wire's drop).
        recorder.keep(kept.freeze());
        drop(kept);
        let trace = recorder.take();
        assert_eq!(snapshot, trace);
        assert_eq!(trace.stream(Direction::ServerToClient), &b"xyz"[..]);
        assert_eq!(recorder.snapshot(), Trace::default());
        // Without either, the segments get no bytes, and nothing panics.
        let (recorder, kept) = written();
        drop(kept);
        let trace = recorder.take();
        assert_eq!(trace.segments(Direction::ClientToServer).count(), 2);
        assert_eq!(trace.stream(Direction::ClientToServer), Bytes::new());
    }
}
