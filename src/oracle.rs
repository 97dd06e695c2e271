//! The invariant of a conformant hijack, and diagnoses a person can act on.
//!
//! The oracle never trusts the subject. It reads two things: the [`Trace`] (what
//! crossed the wire, in order) and the [`AppRecord`] of the application the
//! harness gave the subject (what the application read and wrote). From the
//! scenario it knows what the scripted peer sent; from those it checks the six
//! points of DESIGN.md, and for each broken one it says which bytes were lost,
//! duplicated, reordered or extra, and in which segment they travelled.

use std::fmt;
use std::ops::Range;

use crate::reference::head;
use crate::scenario::{Messages, Scenario};
use crate::subject::AppRecord;
use crate::wire::driver::Ending;
use crate::wire::memory::Faults;
use crate::wire::{Direction, Side, Trace};

/// A point of the invariant (DESIGN.md), plus the handshake that precedes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Point {
    /// 1. The server application reads exactly the bytes the client sent after the request, then EOF iff the client closed.
    ServerRead,
    /// 2. The client application reads exactly the bytes the server sent after the response head.
    ClientRead,
    /// 3. Writes before the hijack precede writes after it; the head is complete before the new protocol.
    WriteOrder,
    /// 4. After the hijack the library writes nothing and does not close the connection.
    Ownership,
    /// 5. Shutting down the write half sends FIN and leaves the read half working.
    HalfClose,
    /// 6. Without a 101 (or 2xx to CONNECT) nothing is handed over.
    NoFalseUpgrade,
    /// The HTTP exchange before the hand-over went wrong (no answer, wrong status, body mangled).
    Handshake,
}

impl Point {
    /// The point's number in DESIGN.md (0 for the handshake).
    pub fn number(self) -> u8 {
        match self {
            Point::ServerRead => 1,
            Point::ClientRead => 2,
            Point::WriteOrder => 3,
            Point::Ownership => 4,
            Point::HalfClose => 5,
            Point::NoFalseUpgrade => 6,
            Point::Handshake => 0,
        }
    }

    /// The point's short title.
    pub fn title(self) -> &'static str {
        match self {
            Point::ServerRead => "read side, server",
            Point::ClientRead => "read side, client",
            Point::WriteOrder => "write side",
            Point::Ownership => "ownership",
            Point::HalfClose => "half-close",
            Point::NoFalseUpgrade => "no false upgrade",
            Point::Handshake => "handshake",
        }
    }
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.number() {
            0 => write!(f, "{}", self.title()),
            n => write!(f, "point {n} ({})", self.title()),
        }
    }
}

/// One broken point, with what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Which point.
    pub point: Point,
    /// What happened, in bytes and segments.
    pub message: String,
    /// Where on the wire it happened, for renderers to point at (may be empty:
    /// not every violation has bytes, e.g. an application that never saw EOF).
    pub marks: Vec<Mark>,
}

/// What went wrong with marked bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// They travelled on the wire and the application never read them.
    Lost,
    /// They are not what the application wrote (the library's own bytes), or the
    /// application read them although they belonged to the HTTP message.
    Extra,
    /// The application read them twice, or they went on the wire twice.
    Duplicated,
    /// They arrived after bytes that were sent later.
    Reordered,
    /// They are the next HTTP request, and were handed to the application as
    /// new-protocol data.
    HandedOver,
}

impl Fault {
    /// A short word for markers: `lost`, `extra`, `duplicated`, `reordered`, `handed over`.
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Lost => "lost",
            Fault::Extra => "extra",
            Fault::Duplicated => "duplicated",
            Fault::Reordered => "reordered",
            Fault::HandedOver => "handed over",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A place in the [`Trace`] that a violation is about.
///
/// Offsets are positions in [`Trace::stream`] of one direction, so a renderer can
/// find the segment (and the bytes inside it) with [`Trace::segment_at`]: a person
/// sees *where* the lost byte travelled, not just that it is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    /// Bytes that travelled in `dir`, at `range` of its stream.
    Bytes {
        /// Which way they travelled.
        dir: Direction,
        /// Their offsets in the stream of `dir`.
        range: Range<usize>,
        /// What is wrong with them.
        fault: Fault,
    },
    /// Bytes an application wrote that never went on the wire: they belonged at
    /// offset `at` of the stream of `dir`.
    Missing {
        /// The direction they should have travelled in.
        dir: Direction,
        /// Where in that stream they belonged.
        at: usize,
        /// How many.
        len: usize,
    },
    /// An event of the trace, by its index in [`Trace::events`] (a FIN sent too early).
    Event {
        /// The event's index.
        index: usize,
    },
}

/// The judgement of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Every broken point; empty when the run conforms.
    pub violations: Vec<Violation>,
    /// Context that is not a violation by itself (the subject's error, how the run ended).
    pub notes: Vec<String>,
}

impl Verdict {
    /// Whether the run conforms.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// Whether `point` is among the violations.
    pub fn breaks(&self, point: Point) -> bool {
        self.violations.iter().any(|v| v.point == point)
    }

    fn fail(&mut self, point: Point, message: impl Into<String>) {
        self.fail_marked(point, message, Vec::new());
    }

    fn fail_marked(&mut self, point: Point, message: impl Into<String>, marks: Vec<Mark>) {
        self.violations.push(Violation {
            point,
            message: message.into(),
            marks,
        });
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.passed() {
            writeln!(f, "pass")?;
        }
        for v in &self.violations {
            writeln!(f, "FAIL {}: {}", v.point, v.message)?;
        }
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        Ok(())
    }
}

/// What one run produced, for the oracle.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// The case.
    pub scenario: &'a Scenario,
    /// Its messages, as the peers sent them.
    pub messages: &'a Messages,
    /// Which side was the subject (the other was the scripted peer).
    pub subject: Side,
    /// Everything that crossed the wire.
    pub trace: &'a Trace,
    /// What the subject's application did.
    pub app: &'a AppRecord,
    /// How the run ended.
    pub ending: Ending,
    /// The subject's error, if it returned one.
    pub subject_error: Option<&'a str>,
}

/// A verdict with what every judgement starts from: a spin (the driver's poll
/// limit) is a failure, and the subject's and the application's errors are notes.
fn opening(obs: &Observation<'_>, spin: &str) -> Verdict {
    let mut verdict = Verdict::default();
    if obs.ending == Ending::PollLimit {
        verdict.fail(Point::Handshake, spin);
    }
    if let Some(error) = obs.subject_error {
        verdict.notes.push(format!(
            "the {} subject returned an error: {error}",
            obs.subject
        ));
    }
    if let Some(error) = &obs.app.error {
        verdict.notes.push(format!(
            "the {} application's stream failed: {error}",
            obs.subject
        ));
    }
    verdict
}

/// Judges one run.
pub fn judge(obs: &Observation<'_>) -> Verdict {
    let mut verdict = opening(
        obs,
        "the run never settled: something polled in a loop without making progress",
    );
    match obs.subject {
        Side::Server => judge_server(obs, &mut verdict),
        Side::Client => judge_client(obs, &mut verdict),
    }
    verdict
}

/// Judges a run over a wire that injected `faults`.
///
/// Short writes and spurious `Pending`s change nothing: the whole invariant must
/// hold. A reset or an early FIN cuts a stream, and then the promise is weaker
/// but still strict: every byte that crossed the wire before the cut reaches the
/// application, nothing else does, and the end is reported (EOF or an error),
/// never swallowed; a cut inside the request is an error the subject returns.
pub fn judge_under_faults(obs: &Observation<'_>, faults: &Faults) -> Verdict {
    if !faults.cuts_a_stream() {
        return judge(obs);
    }
    let mut verdict = opening(obs, "the run never settled after the fault: a spin");
    let (trace, app) = (obs.trace, obs.app);
    let (incoming, message_end) = match obs.subject {
        Side::Server => {
            let c2s = trace.stream(Direction::ClientToServer);
            let end = head::request_message_len(&c2s)
                .ok()
                .flatten()
                .map(|(_, len)| len);
            (c2s, end)
        }
        Side::Client => {
            let s2c = trace.stream(Direction::ServerToClient);
            let response = &obs.messages.response;
            let end = (s2c.len() >= response.len() && s2c.starts_with(response))
                .then_some(response.len());
            (s2c, end)
        }
    };
    let read_point = match obs.subject {
        Side::Server => Point::ServerRead,
        Side::Client => Point::ClientRead,
    };
    match message_end {
        None if app.hijacked => verdict.fail(
            Point::NoFalseUpgrade,
            "the stream was cut before the message ended, and the library still handed it over",
        ),
        None => {
            let silent = obs.subject_error.is_none() && obs.ending == Ending::Completed;
            let started = !incoming.is_empty();
            if silent && started && obs.subject == Side::Server {
                verdict.fail(
                    Point::Handshake,
                    format!(
                        "the stream was cut {} bytes into the request, and the server returned no error",
                        incoming.len()
                    ),
                );
            }
        }
        Some(end) if app.hijacked => {
            let delivered = &incoming[end..];
            let found = compare(delivered, &app.read);
            let lost_silently = found.iter().any(|d| matches!(d, Discrepancy::Lost { .. }))
                && (app.saw_eof || app.error.is_none() && obs.ending == Ending::Completed);
            let corrupted = found.iter().any(|d| !matches!(d, Discrepancy::Lost { .. }));
            if corrupted || lost_silently {
                verdict.fail(
                    read_point,
                    format!(
                        "after the fault, the {} app read {} of the {} that crossed the wire: {:?}",
                        obs.subject,
                        app.read.len(),
                        count(delivered.len()),
                        found
                    ),
                );
            }
        }
        Some(_) => {}
    }
    verdict
}

fn judge_server(obs: &Observation<'_>, verdict: &mut Verdict) {
    let scenario = obs.scenario;
    let (trace, app) = (obs.trace, obs.app);
    let c2s = trace.stream(Direction::ClientToServer);
    let s2c = trace.stream(Direction::ServerToClient);
    let message_len = obs.messages.request.len();
    let sent_after = &c2s[message_len.min(c2s.len())..];

    let head = match head::parse_final_response(&s2c) {
        Err(e) => {
            verdict.fail(
                Point::Handshake,
                format!("the server's response head does not parse: {e}"),
            );
            return;
        }
        Ok(None) => {
            verdict.fail(
                Point::Handshake,
                format!(
                    "no complete response head reached the client ({} bytes arrived)",
                    s2c.len()
                ),
            );
            return;
        }
        Ok(Some(head)) => head,
    };
    let (response, head_end) = head;
    if let Some((_, body)) = app.requests.first() {
        let sent = &obs.messages.body;
        if body[..] != sent[..] {
            verdict.fail(
                Point::Handshake,
                format!(
                    "the handler got a body of {} bytes; the client sent {}",
                    body.len(),
                    sent.len()
                ),
            );
        }
    }

    if !scenario.accepted() {
        if app.hijacked {
            let start = message_len.min(c2s.len());
            let end = (start + app.read.len()).min(c2s.len());
            verdict.fail_marked(
                Point::NoFalseUpgrade,
                format!(
                    "the server answered {} and still handed the connection over: its application read {} bytes \
                     that were the next HTTP request ({})",
                    response.status,
                    app.read.len(),
                    preview(&app.read, 40)
                ),
                vec![Mark::Bytes {
                    dir: Direction::ClientToServer,
                    range: start..end,
                    fault: Fault::HandedOver,
                }],
            );
        } else if !app.requests.iter().any(|(target, _)| target == "/next") {
            verdict.fail(
                Point::NoFalseUpgrade,
                format!(
                    "after answering {}, the server did not serve the pipelined request that followed as HTTP",
                    response.status
                ),
            );
        }
        return;
    }

    check_switching_head(verdict, &response);
    let expected_status = scenario.answer_status();
    if response.status != expected_status {
        verdict.fail(
            Point::Handshake,
            format!(
                "the server answered {}, not {expected_status}",
                response.status
            ),
        );
        return;
    }

    // Point 1: the server application reads exactly what the client sent after the request.
    let never = || {
        format!(
            "the server never handed the connection to its application: the {} bytes the client sent \
             after the request were never delivered",
            sent_after.len()
        )
    };
    check_read_side(verdict, trace, app, Side::Server, &c2s, message_len, never);

    check_write_side(
        verdict,
        trace,
        app,
        Side::Server,
        &s2c[head_end..],
        head_end,
    );
}

fn judge_client(obs: &Observation<'_>, verdict: &mut Verdict) {
    let scenario = obs.scenario;
    let (trace, app) = (obs.trace, obs.app);
    let c2s = trace.stream(Direction::ClientToServer);
    let s2c = trace.stream(Direction::ServerToClient);
    let message_end = match head::request_message_len(&c2s) {
        Err(e) => {
            verdict.fail(
                Point::Handshake,
                format!("the client's request does not parse: {e}"),
            );
            return;
        }
        Ok(None) => {
            verdict.fail(
                Point::Handshake,
                format!(
                    "the client never sent a complete request ({} bytes)",
                    c2s.len()
                ),
            );
            return;
        }
        Ok(Some((_, len))) => len,
    };
    let response_len = obs.messages.response.len();
    let status = scenario.answer_status();

    if !scenario.accepted() {
        if app.hijacked {
            verdict.fail(
                Point::NoFalseUpgrade,
                format!("the client handed the connection over after a {status} answer, which does not switch protocols"),
            );
        }
        return;
    }
    if app.response_status.is_some_and(|s| s != status) {
        verdict.fail(
            Point::Handshake,
            format!(
                "the client reported status {:?}, the server sent {status}",
                app.response_status
            ),
        );
    }

    // Point 2: the client application reads exactly what the server sent after its head.
    let sent_after = &s2c[response_len.min(s2c.len())..];
    let never = || {
        format!(
            "the client never handed the connection to its application after a {status}: the {} bytes \
             the server sent after its head were never delivered",
            sent_after.len()
        )
    };
    check_read_side(verdict, trace, app, Side::Client, &s2c, response_len, never);

    check_write_side(
        verdict,
        trace,
        app,
        Side::Client,
        &c2s[message_end..],
        message_end,
    );
}

/// RFC 9110 §15.2.2: "The server MUST generate an Upgrade header field in the
/// response that indicates which protocol(s) will be in effect after this
/// response." A 101 without one switches to nothing the client can name.
fn check_switching_head(verdict: &mut Verdict, response: &head::ResponseHead) {
    if response.status == 101 && head::header_value(&response.headers, "upgrade").is_none() {
        verdict.fail(
            Point::Handshake,
            "the server answered 101 without an Upgrade header: RFC 9110 §15.2.2 requires one \
             naming the protocol in effect after the response",
        );
    }
}

/// Points 1 and 2 for the subject's side: its application read exactly what the
/// peer sent after the message (`stream[message_end..]`), then EOF if and only if
/// the peer closed. `never` is the diagnosis when there was no hand-over at all.
fn check_read_side(
    verdict: &mut Verdict,
    trace: &Trace,
    app: &AppRecord,
    side: Side,
    stream: &[u8],
    message_end: usize,
    never: impl FnOnce() -> String,
) {
    let (point, dir, peer, what) = match side {
        Side::Server => (
            Point::ServerRead,
            Direction::ClientToServer,
            "client",
            "the client sent after the request",
        ),
        Side::Client => (
            Point::ClientRead,
            Direction::ServerToClient,
            "server",
            "the server sent after its head",
        ),
    };
    if !app.hijacked {
        verdict.fail(point, never());
        return;
    }
    let sent_after = &stream[message_end.min(stream.len())..];
    let found = compare(sent_after, &app.read);
    if !found.is_empty() {
        let place = |offset: usize| locate(trace, dir, message_end + offset, message_end);
        let marks = read_marks(dir, stream, message_end, &found);
        let who = format!("{side} app");
        let message = describe(&who, what, sent_after.len(), &app.read, &found, place);
        verdict.fail_marked(point, message, marks);
    }
    let who = side.to_string();
    check_eof(
        verdict,
        point,
        &who,
        peer,
        trace.fin(dir).is_some(),
        app,
        found.is_empty(),
    );
}

/// EOF is seen if and only if the peer closed, and only after everything it sent.
fn check_eof(
    verdict: &mut Verdict,
    point: Point,
    who: &str,
    peer: &str,
    peer_fin: bool,
    app: &AppRecord,
    all_read: bool,
) {
    if peer_fin && all_read && !app.saw_eof && app.error.is_none() {
        verdict.fail(
            point,
            format!("the {peer} closed its write half, but the {who} app never saw EOF"),
        );
    }
    if !peer_fin && app.saw_eof {
        verdict.fail(
            point,
            format!("the {who} app saw EOF, but the {peer} never closed its write half"),
        );
    }
}

/// Points 3, 4 and 5 for the subject's side: what it put on the wire after the
/// message is exactly what its application wrote; it did not close the connection
/// under the application; a shutdown became a FIN.
fn check_write_side(
    verdict: &mut Verdict,
    trace: &Trace,
    app: &AppRecord,
    side: Side,
    on_wire: &[u8],
    base: usize,
) {
    let dir = Direction::written_by(side);
    let who = side.to_string();
    if app.hijacked || !on_wire.is_empty() {
        for d in compare(&app.written, on_wire) {
            let place = locate(trace, dir, base + d.at_actual(), base);
            let marks = vec![match d {
                Discrepancy::Extra { at, ref bytes } => Mark::Bytes {
                    dir,
                    range: base + at..base + at + bytes.len(),
                    fault: Fault::Extra,
                },
                Discrepancy::Lost { ref range } => Mark::Missing {
                    dir,
                    at: base + range.start,
                    len: range.len(),
                },
                Discrepancy::Duplicated { ref range, at } => Mark::Bytes {
                    dir,
                    range: base + at..base + at + range.len(),
                    fault: Fault::Duplicated,
                },
                Discrepancy::Reordered { ref range, at } => Mark::Bytes {
                    dir,
                    range: base + at..base + at + range.len(),
                    fault: Fault::Reordered,
                },
            }];
            match d {
                Discrepancy::Extra { at, ref bytes } => verdict.fail_marked(
                    Point::Ownership,
                    format!(
                        "the {who} library wrote {} of its own after the hand-over, at byte {at} of the new \
                         protocol {place}: {}",
                        count(bytes.len()),
                        preview(bytes, 40)
                    ),
                    marks,
                ),
                Discrepancy::Lost { ref range } => {
                    let when = if range.start < app.written_before_hijack {
                        " (written before the hijack, still unflushed then)"
                    } else {
                        ""
                    };
                    verdict.fail_marked(
                        Point::WriteOrder,
                        format!(
                            "bytes {}..{} the {who} app wrote{when} never reached the wire ({})",
                            range.start,
                            range.end,
                            count(range.len())
                        ),
                        marks,
                    )
                }
                Discrepancy::Duplicated { ref range, at } => verdict.fail_marked(
                    Point::WriteOrder,
                    format!("bytes {}..{} the {who} app wrote went on the wire twice (again at byte {at})", range.start, range.end),
                    marks,
                ),
                Discrepancy::Reordered { ref range, at } => verdict.fail_marked(
                    Point::WriteOrder,
                    format!(
                        "bytes {}..{} the {who} app wrote went on the wire out of order (at byte {at}, after later bytes)",
                        range.start, range.end
                    ),
                    marks,
                ),
            }
        }
    }
    let fin = trace.fin(dir);
    if app.hijacked
        && let Some((fin_at, how)) = fin
    {
        let released = [trace.app_shutdown(side), trace.app_end(side)]
            .into_iter()
            .flatten()
            .min();
        if released.is_none_or(|at| at > fin_at) {
            let how = match how {
                crate::wire::Closing::Shutdown => "shut down the write half",
                crate::wire::Closing::Dropped => "closed the connection",
            };
            verdict.fail_marked(
                Point::Ownership,
                format!("the {who} library {how} while its application still owned the stream"),
                vec![Mark::Event { index: fin_at }],
            );
        }
    }
    match fin {
        _ if !app.shut_down => {}
        Some((_, crate::wire::Closing::Shutdown)) => {}
        Some((fin_at, crate::wire::Closing::Dropped)) => verdict.fail_marked(
            Point::HalfClose,
            format!(
                "the {who} app shut down its write half, but no FIN was sent until the stream was dropped: \
                 the peer waited for EOF while the {who} still read"
            ),
            vec![Mark::Event { index: fin_at }],
        ),
        None => verdict.fail(
            Point::HalfClose,
            format!("the {who} app shut down its write half, but no FIN reached the peer: it waits for EOF forever"),
        ),
    }
}

/// Where the bytes of a read-side discrepancy travelled: `base` is where the new
/// protocol starts in `stream` (the end of the HTTP message), and the offsets in
/// `found` count from there. Bytes the application read that were never sent after
/// the message are looked for inside the message: that is where a library that
/// left part of the message unconsumed (an empty chunked body's `0\r\n\r\n`) got them.
fn read_marks(dir: Direction, stream: &[u8], base: usize, found: &[Discrepancy]) -> Vec<Mark> {
    let base = base.min(stream.len());
    let clamp = |range: &Range<usize>| {
        (base + range.start).min(stream.len())..(base + range.end).min(stream.len())
    };
    found
        .iter()
        .filter_map(|d| match d {
            Discrepancy::Lost { range } => Some(Mark::Bytes {
                dir,
                range: clamp(range),
                fault: Fault::Lost,
            }),
            Discrepancy::Duplicated { range, .. } => Some(Mark::Bytes {
                dir,
                range: clamp(range),
                fault: Fault::Duplicated,
            }),
            Discrepancy::Reordered { range, .. } => Some(Mark::Bytes {
                dir,
                range: clamp(range),
                fault: Fault::Reordered,
            }),
            Discrepancy::Extra { bytes, .. } => {
                rfind(&stream[..base], bytes).map(|start| Mark::Bytes {
                    dir,
                    range: start..start + bytes.len(),
                    fault: Fault::Extra,
                })
            }
        })
        .collect()
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// Says where stream offset `offset` of `dir` travelled.
fn locate(trace: &Trace, dir: Direction, offset: usize, message_end: usize) -> String {
    match trace.segment_at(dir, offset) {
        Some((index, start)) if start < message_end => {
            format!("({dir} segment {index}, the one that carried the end of the message)")
        }
        Some((index, _)) => format!("({dir} segment {index})"),
        None => "(never on the wire)".into(),
    }
}

/// A difference between what was sent and what arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Discrepancy {
    /// Sent bytes that never arrived.
    Lost {
        /// Offsets in what was sent.
        range: Range<usize>,
    },
    /// Bytes that arrived and were never sent.
    Extra {
        /// Offset in what arrived.
        at: usize,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// Sent bytes that arrived a second time.
    Duplicated {
        /// Offsets in what was sent.
        range: Range<usize>,
        /// Where the second copy starts in what arrived.
        at: usize,
    },
    /// Sent bytes that arrived after bytes sent later.
    Reordered {
        /// Offsets in what was sent.
        range: Range<usize>,
        /// Where they start in what arrived.
        at: usize,
    },
}

impl Discrepancy {
    fn at_actual(&self) -> usize {
        match self {
            Discrepancy::Lost { range } => range.start,
            Discrepancy::Extra { at, .. }
            | Discrepancy::Duplicated { at, .. }
            | Discrepancy::Reordered { at, .. } => *at,
        }
    }
}

/// The smallest runs of shared bytes worth calling a duplicate or a move.
const MIN_MATCH: usize = 4;

/// Compares what was sent with what arrived.
pub fn compare(sent: &[u8], arrived: &[u8]) -> Vec<Discrepancy> {
    if sent == arrived {
        return Vec::new();
    }
    if arrived.len() < sent.len() && sent.starts_with(arrived) {
        return vec![Discrepancy::Lost {
            range: arrived.len()..sent.len(),
        }];
    }
    if arrived.len() > sent.len() && arrived.starts_with(sent) {
        return vec![classify_insert(
            sent,
            arrived,
            sent.len(),
            sent.len(),
            arrived.len() - sent.len(),
        )];
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
    let ops = similar::capture_diff_slices_deadline(
        similar::Algorithm::Myers,
        sent,
        arrived,
        Some(deadline),
    );
    let mut out = Vec::new();
    for op in ops {
        match op {
            similar::DiffOp::Equal { .. } => {}
            similar::DiffOp::Delete {
                old_index, old_len, ..
            } => out.push(Discrepancy::Lost {
                range: old_index..old_index + old_len,
            }),
            similar::DiffOp::Insert {
                old_index,
                new_index,
                new_len,
            } => out.push(classify_insert(
                sent, arrived, old_index, new_index, new_len,
            )),
            similar::DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                out.push(Discrepancy::Lost {
                    range: old_index..old_index + old_len,
                });
                out.push(classify_insert(
                    sent,
                    arrived,
                    old_index + old_len,
                    new_index,
                    new_len,
                ));
            }
        }
    }
    pair_moves(sent, out)
}

fn classify_insert(
    sent: &[u8],
    arrived: &[u8],
    old_index: usize,
    new_index: usize,
    new_len: usize,
) -> Discrepancy {
    let bytes = &arrived[new_index..new_index + new_len];
    // The same bytes right before the insertion: a replay, however short.
    if new_index >= new_len
        && arrived[new_index - new_len..new_index] == *bytes
        && let Some(start) = old_index.checked_sub(new_len)
        && sent[start..old_index] == *bytes
    {
        return Discrepancy::Duplicated {
            range: start..old_index,
            at: new_index,
        };
    }
    if new_len >= MIN_MATCH
        && let Some(start) = find(&sent[..old_index], bytes)
    {
        return Discrepancy::Duplicated {
            range: start..start + new_len,
            at: new_index,
        };
    }
    Discrepancy::Extra {
        at: new_index,
        bytes: bytes.to_vec(),
    }
}

/// An extra run that equals a lost run is one run that moved.
fn pair_moves(sent: &[u8], mut found: Vec<Discrepancy>) -> Vec<Discrepancy> {
    let mut i = 0;
    while i < found.len() {
        if let Discrepancy::Extra { at, bytes } = &found[i] {
            let (at, bytes) = (*at, bytes.clone());
            let lost = found.iter().position(
                |d| matches!(d, Discrepancy::Lost { range } if sent[range.clone()] == bytes[..]),
            );
            if let Some(j) = lost
                && let Discrepancy::Lost { range } = found[j].clone()
            {
                found[i] = Discrepancy::Reordered { range, at };
                found.remove(j);
                i = 0;
                continue;
            }
        }
        i += 1;
    }
    found
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn describe(
    who: &str,
    what: &str,
    sent: usize,
    read: &[u8],
    found: &[Discrepancy],
    place: impl Fn(usize) -> String,
) -> String {
    let mut parts = Vec::new();
    for d in found {
        parts.push(match d {
            Discrepancy::Lost { range } => format!(
                "bytes {}..{} ({}) were never delivered {}",
                range.start,
                range.end,
                count(range.len()),
                place(range.start)
            ),
            Discrepancy::Extra { at, bytes } => {
                format!(
                    "{} that were never sent arrived at byte {at}: {}",
                    count(bytes.len()),
                    preview(bytes, 40)
                )
            }
            Discrepancy::Duplicated { range, at } => {
                format!(
                    "bytes {}..{} were delivered twice (again at byte {at})",
                    range.start, range.end
                )
            }
            Discrepancy::Reordered { range, at } => format!(
                "bytes {}..{} {} were delivered out of order, at byte {at} after bytes sent later",
                range.start,
                range.end,
                place(range.start)
            ),
        });
    }
    format!(
        "{who} read {} of the {} {what}: {}",
        read.len(),
        count(sent),
        parts.join("; ")
    )
}

/// "1 byte", "2 bytes".
pub fn count(n: usize) -> String {
    if n == 1 {
        "1 byte".into()
    } else {
        format!("{n} bytes")
    }
}

/// Bytes as a short escaped string: printable ASCII as is, the rest as `\r`, `\n`, `\xNN`.
pub fn preview(bytes: &[u8], max: usize) -> String {
    let mut out = String::from("\"");
    for &b in bytes.iter().take(max) {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    if bytes.len() > max {
        out.push_str(&format!("… ({} more)", bytes.len() - max));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_tail() {
        assert_eq!(
            compare(b"abcdef", b"abc"),
            vec![Discrepancy::Lost { range: 3..6 }]
        );
    }

    #[test]
    fn lost_head() {
        assert_eq!(
            compare(b"abcdefgh", b"efgh"),
            vec![Discrepancy::Lost { range: 0..4 }]
        );
    }

    #[test]
    fn duplicate_is_named() {
        assert_eq!(
            compare(b"abcdWXYZ", b"abcdabcdWXYZ")[0],
            Discrepancy::Duplicated { range: 0..4, at: 4 }
        );
    }

    #[test]
    fn move_is_named() {
        let found = compare(b"abcdWXYZ", b"WXYZabcd");
        assert!(
            matches!(found[..], [Discrepancy::Reordered { .. }]),
            "{found:?}"
        );
    }

    #[test]
    fn extra_is_named() {
        assert_eq!(
            compare(b"ab", b"0\r\n\r\nab"),
            vec![Discrepancy::Extra {
                at: 0,
                bytes: b"0\r\n\r\n".to_vec()
            }]
        );
    }
}

pub mod black_box;
pub mod websocket;
pub use black_box::{BlackBoxObservation, Expect, judge_black_box, judge_black_box_client};
