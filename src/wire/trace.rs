//! The trace: every event of one connection, in the order it happened.
//!
//! The oracle judges a run from two sources only: this trace (what crossed the
//! wire, which is the truth about what each peer *could* have seen) and the
//! records of what each application read and wrote. Keeping the trace as one
//! ordered log, rather than one log per direction, is what lets the oracle say
//! "the server closed the connection *before* its application shut down".

use std::fmt;
use std::sync::{Arc, Mutex};

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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    /// The events, oldest first.
    pub events: Vec<Event>,
}

impl Trace {
    /// All bytes that travelled in `dir`, concatenated: the segment itself when
    /// there is only one (a reference count, not a copy of up to 70 kB).
    pub fn stream(&self, dir: Direction) -> Bytes {
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

/// The events [`Recorder::new`] makes room for.
const EVENTS_A_RUN: usize = 32;

/// A shared, append-only handle on a [`Trace`], given to the wire and to the
/// applications so that all of them log into one ordered history.
///
/// Once [`Recorder::seal`] is called, further events are ignored: that is how the
/// teardown of a finished run (dropping sockets) stays out of the verdict.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    inner: Arc<Mutex<RecorderState>>,
}

#[derive(Debug, Default)]
struct RecorderState {
    trace: Trace,
    sealed: bool,
}

impl Recorder {
    /// A recorder with an empty trace, with room for the events of a typical
    /// in-memory run (a few segments each way, the FINs, the hijack and the
    /// application's end): the log is not regrown event by event.
    pub fn new() -> Self {
        Recorder {
            inner: Arc::new(Mutex::new(RecorderState {
                trace: Trace {
                    events: Vec::with_capacity(EVENTS_A_RUN),
                },
                sealed: false,
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

    /// Stops recording.
    pub fn seal(&self) {
        self.lock().sealed = true;
    }

    /// A copy of the trace so far.
    pub fn snapshot(&self) -> Trace {
        self.lock().trace.clone()
    }

    /// The trace so far, taken out: the recorder is sealed and records nothing
    /// more. For the end of a run, where a copy of every event is wasted work.
    pub fn take(&self) -> Trace {
        let mut state = self.lock();
        state.sealed = true;
        std::mem::take(&mut state.trace)
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
}
