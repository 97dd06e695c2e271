//! The oracle on wires written by hand: the checks no mutant reaches.

use super::*;
use crate::peer::websocket::{request_head, response_head};
use crate::websocket::{Frame, OpCode};
use crate::wire::Event;
use crate::wire::driver::Ending;

/// A server run whose wire is written by hand: the client's request and frames,
/// and the server's 101 followed by `after_head`.
fn judge_server_wire(after_head: Vec<u8>, sent: Vec<(Kind, Bytes)>) -> Verdict {
    let scenario = MessageScenario {
        close: false,
        ..MessageScenario::basic()
    };
    let request = request_head(&scenario.key());
    let peer = PeerFrames {
        head_len: request.len(),
        ..scenario.peer_frames(true)
    };
    let mut c2s = request.clone();
    c2s.extend_from_slice(&peer.bytes);
    let mut s2c = response_head(&scenario.key());
    s2c.extend_from_slice(&after_head);
    let segment = |dir, bytes: Vec<u8>| Event::Segment {
        dir,
        index: 0,
        bytes: bytes.into(),
    };
    let trace = Trace::from(vec![
        segment(Direction::ClientToServer, c2s),
        segment(Direction::ServerToClient, s2c),
    ]);
    let app = MessageRecord {
        hijacked: true,
        received: peer
            .messages
            .iter()
            .map(|(k, b)| Delivery::Data(*k, b.clone()))
            .collect(),
        sent,
        ..MessageRecord::default()
    };
    judge(&Observation {
        scenario: &scenario,
        sent: &peer,
        subject: Side::Server,
        trace: &trace,
        app: &app,
        ending: Ending::Quiet,
        subject_error: None,
    })
}

#[test]
fn a_conformant_wire_passes() {
    let greeting = Bytes::from_static(b"hi");
    let wire = Frame::new(OpCode::Binary, greeting.clone()).encode();
    let verdict = judge_server_wire(wire, vec![(Kind::Binary, greeting)]);
    assert!(verdict.strict(), "{verdict}");
}

#[test]
fn a_masked_server_frame_breaks_framing() {
    let greeting = Bytes::from_static(b"hi");
    let wire = Frame::new(OpCode::Binary, greeting.clone())
        .masked([1, 2, 3, 4])
        .encode();
    let verdict = judge_server_wire(wire, vec![(Kind::Binary, greeting)]);
    assert!(verdict.breaks_at(Point::Framing, Level::Must), "{verdict}");
    assert!(verdict.to_string().contains("a masked frame"), "{verdict}");
}

#[test]
fn a_frame_after_the_close_and_an_unasked_close_are_named() {
    let greeting = Bytes::from_static(b"hi");
    let mut wire = Frame::close(1000, "").encode();
    wire.extend(Frame::new(OpCode::Binary, greeting.clone()).encode());
    let verdict = judge_server_wire(wire, vec![(Kind::Binary, greeting)]);
    let text = verdict.to_string();
    assert!(
        text.contains("a close (\"\\x03\\xe8\") that neither"),
        "{text}"
    );
    assert!(text.contains("after its close frame"), "{text}");
}
