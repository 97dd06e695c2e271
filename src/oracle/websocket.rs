//! The hand-over invariant at the level of WebSocket messages.
//!
//! A WebSocket library gives its application messages, so the byte-level points
//! of `docs/src/invariant.md` are stated here over messages, from the same two sources: the
//! trace (what crossed the wire) and the application's [`MessageRecord`]:
//!
//! * **Handshake**: the server answers `101` with the right
//!   `Sec-WebSocket-Accept`; the client sends a valid opening handshake.
//! * **Delivery**: every data message the peer sent after its handshake head is
//!   delivered exactly once, in order, with its bytes (reassembled from its
//!   fragments, control frames in between or not).
//! * **Close**: the peer's close is delivered after all its data; nothing is
//!   delivered after it, and no close is delivered that was not sent.
//! * **Writes**: the data messages on the wire from the subject are exactly the
//!   ones its application sent, in order.
//! * **Ownership**: the library writes nothing else, with two protocol duties
//!   allowed: a pong carrying the payload of a ping the peer sent (each ping
//!   answered at most once, in the order they came; §5.5.3 lets a library answer
//!   only the latest of several, so a missing pong is not judged), and one close
//!   frame, last, when the peer closed or the application asked for it. An
//!   unsolicited pong is legal in RFC 6455 but is not something the application
//!   sent, so it counts as extra: no library under test sends one without a timer.
//! * **Framing**: the subject's frames decode: masked from a client, unmasked
//!   from a server (§5.1), no RSV bits without an extension, nothing after its close.
//!
//! # RFC 6455's levels
//!
//! §4.1: "the client MUST wait for a response from the server before sending any
//! further data". So frames a client sends with its request are the client's
//! mistake, and a server that refuses them, or loses them, misses a SHOULD at
//! most: those are [`Level::Should`] violations (the verdict `non-strict`). A
//! client has no such excuse: frames the server sends with its `101` are after the
//! handshake for the client, and losing them breaks a MUST. A server that loses
//! early frames may lose part of one and read the rest out of step, so in a run
//! with early frames every failure of a server is a SHOULD (`out_of_step`).
//!
//! Every diagnosis names the message (its index among the peer's or the
//! application's messages), its kind and length, and each of its frames by byte
//! range on the wire and segment number, and marks those bytes for renderers.

use bytes::Bytes;
use std::ops::Range;

use crate::oracle::{Fault, Mark, Observation, Point, Protocol, Verdict};
use crate::reference::head;
use crate::scenario::websocket::{Kind, MessageScenario, PeerFrames};
use crate::subject::websocket::{Delivery, MessageRecord};
use crate::websocket::accept;
use crate::wire::{Direction, Side, Trace};

mod align;
mod writes;

use crate::suite::Level;
use align::{Difference, align};

/// RFC 6455 messages after the hand-over: the [`Protocol`] of this oracle.
#[derive(Debug, Clone, Copy)]
pub struct WebSocket;

impl Protocol for WebSocket {
    type Scenario = MessageScenario;
    type Sent = PeerFrames;
    type Record = MessageRecord;

    fn judge(obs: &Observation<'_, Self>) -> Verdict {
        judge(obs)
    }
}

/// The wire around one run: directions, streams, and how to name places in them.
pub(super) struct Wire<'a> {
    trace: &'a Trace,
    peer_dir: Direction,
    subject_dir: Direction,
    /// How many bytes the peer's segments carried (its stream itself is never
    /// needed: the oracle knows what the peer sent from [`PeerFrames`], and
    /// joining the segments was a copy of every payload).
    peer_len: usize,
    subject_stream: Bytes,
}

impl Wire<'_> {
    /// `dir a..b (segment #i)` or `(segments #i-#j)`.
    fn place(&self, dir: Direction, range: &Range<usize>) -> String {
        let first = self.trace.segment_at(dir, range.start).map(|(i, _)| i);
        let last = self
            .trace
            .segment_at(dir, range.end.saturating_sub(1).max(range.start))
            .map(|(i, _)| i);
        let segments = match (first, last) {
            (Some(a), Some(b)) if a == b => format!("segment #{a}"),
            (Some(a), Some(b)) => format!("segments #{a}-#{b}"),
            _ => "not on the wire".to_string(),
        };
        format!("{dir} {}..{} ({segments})", range.start, range.end)
    }

    fn places(&self, dir: Direction, ranges: &[Range<usize>]) -> String {
        let all: Vec<String> = ranges.iter().map(|r| self.place(dir, r)).collect();
        all.join(", ")
    }
}

/// One message as the oracle tracks it: its bytes and the frames that carried it.
#[derive(Debug, Clone)]
pub(super) struct Tracked {
    kind: Kind,
    payload: Bytes,
    frames: Vec<Range<usize>>,
    early: bool,
}

pub(super) fn describe(kind: Kind, payload: &[u8]) -> String {
    let kind = match kind {
        Kind::Text => "text",
        Kind::Binary => "binary",
    };
    format!("{kind}, {} bytes", payload.len())
}

pub(super) fn frame_count(n: usize) -> String {
    if n == 1 {
        "1 frame".into()
    } else {
        format!("{n} frames")
    }
}

/// Judges one WebSocket run.
pub fn judge(obs: &Observation<'_, WebSocket>) -> Verdict {
    let mut verdict = super::opening_of(
        obs,
        obs.app.error.as_deref(),
        Some(Level::Must),
        "the run never settled: something polled in a loop without making progress",
    );
    let (peer_dir, subject_dir) = match obs.subject {
        Side::Server => (Direction::ClientToServer, Direction::ServerToClient),
        Side::Client => (Direction::ServerToClient, Direction::ClientToServer),
    };
    let wire = Wire {
        trace: obs.trace,
        peer_dir,
        subject_dir,
        peer_len: obs.trace.segments(peer_dir).map(Bytes::len).sum(),
        subject_stream: obs.trace.stream(subject_dir),
    };
    let Some(subject_head_end) = handshake(obs, &wire, &mut verdict) else {
        return verdict;
    };
    let sent = sent_messages(obs, &wire);
    delivery(obs, &wire, &sent, &mut verdict);
    close(obs, &wire, &mut verdict);
    liveness(obs, &wire, &mut verdict);
    writes::writes(obs, &wire, subject_head_end, &mut verdict);
    out_of_step(obs, &mut verdict);
    verdict
}

/// A server that loses frames a client sent before its `101` (a SHOULD) may lose
/// part of one, at whatever byte its head reader stopped, and then read the
/// client's later frames out of step: garbage opcodes, a close of its own, a
/// connection cut before the client is done. Those follow from the client's own
/// breach of §4.1, and from outside they cannot be told from other failures, so
/// in a run with early frames every failure of a server is judged at the SHOULD
/// level. Runs without early frames (most generated cases) judge the same later
/// behaviour strictly.
fn out_of_step(obs: &Observation<'_, WebSocket>, verdict: &mut Verdict) {
    if obs.subject != Side::Server || obs.sent.early_end == 0 {
        return;
    }
    let mut lowered = false;
    for v in &mut verdict.violations {
        if v.level == Some(Level::Must) && v.point != Point::Handshake {
            v.level = Some(Level::Should);
            lowered = true;
        }
    }
    if lowered {
        verdict.notes.push(
            "the client sent frames before the 101 (RFC 6455 §4.1 forbids it): a server that loses \
             them may read the later frames out of step, so its failures in this run are SHOULDs"
                .into(),
        );
    }
}

/// The handshake; returns where the subject's handshake message ends, or `None`
/// when there is nothing more to judge.
fn handshake(
    obs: &Observation<'_, WebSocket>,
    wire: &Wire<'_>,
    verdict: &mut Verdict,
) -> Option<usize> {
    let early = obs.sent.early_end > 0;
    let (head_end, problem) = match obs.subject {
        Side::Server => match head::parse_final_response(&wire.subject_stream) {
            Ok(Some((response, len))) => {
                let expected = accept(&obs.scenario.key());
                let got = head::header_value(&response.headers, "sec-websocket-accept");
                if response.status != 101 {
                    (
                        None,
                        format!("the server answered {}, not 101", response.status),
                    )
                } else if got.map(str::trim) != Some(expected.as_str()) {
                    (
                        Some(len),
                        format!("Sec-WebSocket-Accept is {got:?}, not {expected:?}"),
                    )
                } else {
                    (Some(len), String::new())
                }
            }
            Ok(None) => (
                None,
                format!(
                    "no complete response head reached the client ({} bytes arrived)",
                    wire.subject_stream.len()
                ),
            ),
            Err(e) => (
                None,
                format!("the server's response head does not parse: {e}"),
            ),
        },
        Side::Client => match head::parse_request(&wire.subject_stream) {
            Ok(Some((request, len))) => match crate::peer::websocket::handshake_key(&request) {
                Ok(_) => (Some(len), String::new()),
                Err(why) => (
                    None,
                    format!("the client's opening handshake is invalid: {why}"),
                ),
            },
            Ok(None) => (
                None,
                format!(
                    "the client never sent a complete request ({} bytes)",
                    wire.subject_stream.len()
                ),
            ),
            Err(e) => (None, format!("the client's request does not parse: {e}")),
        },
    };
    let refused_early = obs.subject == Side::Server && early && !obs.app.hijacked;
    if !problem.is_empty() {
        let level = if refused_early && head_end.is_none() {
            Level::Should
        } else {
            Level::Must
        };
        let why = if level == Level::Should {
            format!(
                "{problem}: the server refused the {} the client sent before the 101 \
                 ({}; RFC 6455 §4.1 has clients wait, so refusing is allowed)",
                frame_count(early_frames(obs)),
                wire.place(
                    wire.peer_dir,
                    &(obs.sent.head_len..obs.sent.head_len + obs.sent.early_end)
                )
            )
        } else {
            problem
        };
        verdict.add(level, Point::Handshake, why, Vec::new());
        return None;
    }
    if !obs.app.hijacked {
        let level = if refused_early {
            Level::Should
        } else {
            Level::Must
        };
        verdict.add(
            level,
            Point::Delivery,
            format!(
                "the {} completed the handshake on the wire but never gave its application the \
                 WebSocket{}",
                obs.subject,
                if refused_early {
                    " (the client had sent frames before the 101)"
                } else {
                    ""
                }
            ),
            Vec::new(),
        );
        return None;
    }
    head_end
}

fn early_frames(obs: &Observation<'_, WebSocket>) -> usize {
    obs.sent
        .frames
        .iter()
        .filter(|f| f.range.end <= obs.sent.early_end)
        .count()
}

/// The peer's data messages whose every frame crossed the wire, with their frames'
/// ranges in the peer's stream.
fn sent_messages(obs: &Observation<'_, WebSocket>, wire: &Wire<'_>) -> Vec<Tracked> {
    let base = obs.sent.head_len;
    let on_wire = wire.peer_len.saturating_sub(base);
    let mut out: Vec<Tracked> = obs
        .sent
        .messages
        .iter()
        .map(|(kind, payload)| Tracked {
            kind: *kind,
            payload: payload.clone(),
            frames: Vec::new(),
            early: false,
        })
        .collect();
    for frame in &obs.sent.frames {
        if let Some(m) = frame.message {
            if out[m].frames.is_empty() {
                out[m].early = frame.range.start < obs.sent.early_end;
            }
            out[m]
                .frames
                .push(base + frame.range.start..base + frame.range.end);
        }
    }
    out.retain(|m| m.frames.last().is_some_and(|r| r.end - base <= on_wire));
    out
}

fn delivery(
    obs: &Observation<'_, WebSocket>,
    wire: &Wire<'_>,
    sent: &[Tracked],
    verdict: &mut Verdict,
) {
    let arrived: Vec<(Kind, &[u8])> = obs.app.data().map(|(k, b)| (k, &b[..])).collect();
    let expected: Vec<(Kind, &[u8])> = sent.iter().map(|m| (m.kind, &m.payload[..])).collect();
    let peer = other(obs.subject);
    let dir = wire.peer_dir;
    for difference in align(&expected, &arrived) {
        let named = |k: usize| {
            let m = &sent[k];
            format!(
                "the {peer}'s message {k} ({}, {}: {})",
                describe(m.kind, &m.payload),
                frame_count(m.frames.len()),
                wire.places(dir, &m.frames)
            )
        };
        let marks = |k: usize, fault: Fault| {
            sent[k]
                .frames
                .iter()
                .map(|r| Mark::Bytes {
                    dir,
                    range: r.clone(),
                    fault,
                })
                .collect::<Vec<_>>()
        };
        match difference {
            Difference::Lost(k) => {
                let early = sent[k].early;
                let level = if early && obs.subject == Side::Server {
                    Level::Should
                } else {
                    Level::Must
                };
                let when = if early {
                    if obs.subject == Side::Server {
                        "; it was sent with the request, before the 101 (the client did not wait)"
                    } else {
                        "; it was written together with the server's 101"
                    }
                    .to_string()
                } else {
                    String::new()
                };
                verdict.add(
                    level,
                    Point::Delivery,
                    format!(
                        "{} was never delivered to the {} application{when}",
                        named(k),
                        obs.subject
                    ),
                    marks(k, Fault::Lost),
                );
            }
            Difference::Duplicated(k, j) => verdict.add(
                Level::Must,
                Point::Delivery,
                format!("{} was delivered twice (again as delivery {j})", named(k)),
                marks(k, Fault::Duplicated),
            ),
            Difference::Reordered(k, j) => verdict.add(
                Level::Must,
                Point::Delivery,
                format!(
                    "{} was delivered out of order (as delivery {j}, after later messages)",
                    named(k)
                ),
                marks(k, Fault::Reordered),
            ),
            Difference::Extra(j) => {
                let (kind, bytes) = arrived[j];
                verdict.add(
                    Level::Must,
                    Point::Delivery,
                    format!(
                        "delivery {j} ({}: {}) is no message the {peer} sent",
                        describe(kind, bytes),
                        preview(bytes)
                    ),
                    Vec::new(),
                );
            }
        }
    }
}

fn close(obs: &Observation<'_, WebSocket>, wire: &Wire<'_>, verdict: &mut Verdict) {
    let base = obs.sent.head_len;
    let sent_close = obs.sent.close
        && obs
            .sent
            .frames
            .last()
            .is_some_and(|f| base + f.range.end <= wire.peer_len);
    let received = &obs.app.received;
    let Some(at) = received.iter().position(|d| *d == Delivery::Close) else {
        return;
    };
    if !sent_close {
        verdict.add(
            Level::Must,
            Point::Close,
            format!(
                "the {} application was given a close (as delivery {at}) that the {} never sent",
                obs.subject,
                other(obs.subject)
            ),
            Vec::new(),
        );
        return;
    }
    if let Some(after) = received[at + 1..]
        .iter()
        .position(|d| matches!(d, Delivery::Data(..)))
    {
        let range = obs
            .sent
            .frames
            .last()
            .map(|f| base + f.range.start..base + f.range.end)
            .unwrap_or_default();
        verdict.add(
            Level::Must,
            Point::Close,
            format!(
                "the {}'s close ({}) was delivered before its data: delivery {} came after it",
                other(obs.subject),
                wire.place(wire.peer_dir, &range),
                at + 1 + after
            ),
            vec![Mark::Bytes {
                dir: wire.peer_dir,
                range,
                fault: Fault::Reordered,
            }],
        );
    }
}

/// The peer sends its late frames once the application's first message is on
/// the wire: if it never is, those frames were never sent, and nothing above can
/// notice that they were not delivered.
fn liveness(obs: &Observation<'_, WebSocket>, wire: &Wire<'_>, verdict: &mut Verdict) {
    let sent = wire.peer_len.saturating_sub(obs.sent.head_len);
    let all = obs.sent.bytes.len();
    if sent < all {
        verdict.add(
            Level::Must,
            Point::Writes,
            format!(
                "the {peer} sent {sent} of its {all} bytes of frames: it waits for the {} application's \
                 first message before sending the rest, and that message never reached it \
                 (the application {})",
                obs.subject,
                if obs.app.sent.is_empty() {
                    "never managed to send it"
                } else {
                    "sent it"
                },
                peer = other(obs.subject),
            ),
            Vec::new(),
        );
    }
}

/// The side opposite `side`: the scripted peer's.
pub(super) fn other(side: Side) -> Side {
    match side {
        Side::Client => Side::Server,
        Side::Server => Side::Client,
    }
}

/// At most 24 bytes, escaped.
pub(super) fn preview(bytes: &[u8]) -> String {
    let shown: String = bytes
        .iter()
        .take(24)
        .flat_map(|b| std::ascii::escape_default(*b))
        .map(char::from)
        .collect();
    if bytes.len() > 24 {
        format!("\"{shown}\"…")
    } else {
        format!("\"{shown}\"")
    }
}

#[cfg(test)]
mod tests;
