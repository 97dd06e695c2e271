//! The subject's side of the wire after its handshake: its frames are valid for
//! its role, its data messages are the application's, and it wrote nothing else
//! but its protocol duties (pongs to the peer's pings, one close, last).

use std::ops::Range;

use bytes::Bytes;

use crate::oracle::{Fault, Mark};
use crate::scenario::websocket::Kind;
use crate::subject::websocket::Delivery;
use crate::websocket::{Located, OpCode, Reassembler, Tail, decode_all_shared};
use crate::wire::Side;

use super::align::{Difference, align};
use super::{
    Level, Observation, Point, Tracked, Verdict, WebSocket, Wire, describe, frame_count, other,
    preview,
};

/// The largest frame the oracle decodes from a subject.
const DECODE_LIMIT: usize = 1 << 24;

pub(super) fn writes(
    obs: &Observation<'_, WebSocket>,
    wire: &Wire<'_>,
    head_end: usize,
    verdict: &mut Verdict,
) {
    let dir = wire.subject_dir;
    let stream = wire
        .subject_stream
        .slice(head_end.min(wire.subject_stream.len())..);
    let (frames, tail) = decode_all_shared(&stream, DECODE_LIMIT);
    let frames: Vec<Located> = frames
        .into_iter()
        .map(|mut f| {
            f.range = head_end + f.range.start..head_end + f.range.end;
            f
        })
        .collect();
    match tail {
        Tail::Clean => {}
        Tail::Truncated(at) => verdict.add(
            Level::Must,
            Point::Framing,
            format!(
                "the {} left a truncated frame at {}",
                obs.subject,
                wire.place(dir, &(head_end + at..head_end + stream.len()))
            ),
            Vec::new(),
        ),
        Tail::Invalid(at, e) => verdict.add(
            Level::Must,
            Point::Framing,
            format!(
                "the {} wrote an invalid frame at {}: {e}",
                obs.subject,
                wire.place(dir, &(head_end + at..head_end + stream.len()))
            ),
            Vec::new(),
        ),
    }
    let must_mask = obs.subject == Side::Client;
    let base = obs.sent.head_len;
    let pings: Vec<&Bytes> = obs
        .sent
        .frames
        .iter()
        .filter(|f| f.opcode == OpCode::Ping && base + f.range.end <= wire.peer_len)
        .zip(&obs.sent.pings)
        .map(|(_, p)| p)
        .collect();
    let mut next_ping = 0;
    let mut reassembler = Reassembler::new();
    let mut written: Vec<Tracked> = Vec::new();
    let mut closed_at: Option<Range<usize>> = None;
    let extra = |verdict: &mut Verdict, what: String, range: &Range<usize>| {
        verdict.add(
            Level::Must,
            Point::MessageOwnership,
            format!(
                "the {} library wrote {what} at {}",
                obs.subject,
                wire.place(dir, range)
            ),
            vec![Mark::Bytes {
                dir,
                range: range.clone(),
                fault: Fault::Extra,
            }],
        );
    };
    // By value: each frame's payload moves into its message (`push_owned`).
    for located in frames {
        let range = &located.range.clone();
        let frame = &located.frame;
        if frame.mask.is_some() != must_mask || frame.rsv != 0 {
            let why = if frame.rsv != 0 {
                "RSV bits set with no extension negotiated".to_string()
            } else if must_mask {
                "an unmasked frame (RFC 6455 §5.1: a client MUST mask every frame)".to_string()
            } else {
                "a masked frame (RFC 6455 §5.1: a server MUST NOT mask)".to_string()
            };
            verdict.add(
                Level::Must,
                Point::Framing,
                format!(
                    "the {} wrote {why} at {}",
                    obs.subject,
                    wire.place(dir, range)
                ),
                Vec::new(),
            );
        }
        if let Some(close) = &closed_at {
            verdict.add(
                Level::Must,
                Point::Framing,
                format!(
                    "the {} wrote a {:?} frame at {} after its close frame at {} (§5.5.1)",
                    obs.subject,
                    frame.opcode,
                    wire.place(dir, range),
                    wire.place(dir, close)
                ),
                Vec::new(),
            );
            break;
        }
        let message = match reassembler.push_owned(located) {
            Ok(Some(message)) => message,
            Ok(None) => continue,
            Err(e) => {
                verdict.add(
                    Level::Must,
                    Point::Framing,
                    format!("the {}'s frames do not form messages: {e}", obs.subject),
                    Vec::new(),
                );
                break;
            }
        };
        match message.opcode {
            OpCode::Pong => {
                match (next_ping..pings.len()).find(|&p| pings[p][..] == message.payload[..]) {
                    Some(p) => next_ping = p + 1,
                    None => extra(
                        verdict,
                        format!(
                            "a pong ({}) that answers no ping the {} sent",
                            preview(&message.payload),
                            other(obs.subject)
                        ),
                        range,
                    ),
                }
            }
            OpCode::Ping => extra(verdict, "a ping its application never sent".into(), range),
            OpCode::Close => {
                let peer_closed = obs.app.received.contains(&Delivery::Close) || obs.sent.close;
                if !peer_closed && !obs.app.closed {
                    extra(
                        verdict,
                        format!(
                            "a close ({}) that neither its application nor the {} asked for",
                            preview(&message.payload),
                            other(obs.subject)
                        ),
                        range,
                    );
                }
                closed_at = Some(range.clone());
            }
            opcode => {
                let kind = Kind::of(opcode).unwrap_or(Kind::Binary);
                written.push(Tracked {
                    kind,
                    payload: message.payload,
                    frames: message.frames,
                    early: false,
                });
            }
        }
    }
    let app_sent: Vec<(Kind, &[u8])> = obs.app.sent.iter().map(|(k, b)| (*k, &b[..])).collect();
    let on_wire: Vec<(Kind, &[u8])> = written.iter().map(|m| (m.kind, &m.payload[..])).collect();
    let who = format!("the {} application", obs.subject);
    for difference in align(&app_sent, &on_wire) {
        let on_wire_named = |j: usize| {
            let m = &written[j];
            format!(
                "message ({}, {}: {})",
                describe(m.kind, &m.payload),
                frame_count(m.frames.len()),
                wire.places(dir, &m.frames)
            )
        };
        let (point, message) = match difference {
            Difference::Lost(k) => (
                Point::Writes,
                format!(
                    "{who}'s message {k} ({}) never reached the wire",
                    describe(app_sent[k].0, app_sent[k].1)
                ),
            ),
            Difference::Duplicated(k, j) => (
                Point::Writes,
                format!(
                    "{who}'s message {k} went on the wire twice: again as {}",
                    on_wire_named(j)
                ),
            ),
            Difference::Reordered(k, j) => (
                Point::Writes,
                format!(
                    "{who}'s message {k} went on the wire after later ones, as {}",
                    on_wire_named(j)
                ),
            ),
            Difference::Extra(j) => (
                Point::MessageOwnership,
                format!(
                    "the {} library wrote a {} that {who} never sent",
                    obs.subject,
                    on_wire_named(j)
                ),
            ),
        };
        verdict.add(Level::Must, point, message, Vec::new());
    }
}
