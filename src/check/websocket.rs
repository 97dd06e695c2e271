//! One run of one WebSocket case over the in-memory wire: the same path as
//! every protocol (`check::Exchange`), with WebSocket's
//! scripted peer and its message-level oracle ([`WebSocket`]).

use crate::oracle::websocket::WebSocket;
use crate::peer::websocket as peer;
use crate::scenario::websocket::{MessageScenario, PeerFrames};
use crate::subject::websocket::{MessageApp, MessageClientSubject, MessageServerSubject};
use crate::wire::memory::Cuts;
use crate::wire::{Recorder, Side};

use super::{Exchange, Run};

/// What the peer of `subject_side` writes after its head, and the cut points.
fn peer_plan(scenario: &MessageScenario, subject_side: Side) -> (PeerFrames, Cuts) {
    // A client masks every frame it sends, a server none (RFC 6455 §5.1).
    let (head_len, frames) = match subject_side {
        Side::Server => (
            peer::request_head(&scenario.key()).len(),
            scenario.peer_frames(true),
        ),
        Side::Client => (peer::response_head_len(), scenario.peer_frames(false)),
    };
    let at = scenario.resolve_cuts(head_len, frames.bytes.len());
    let cuts = match subject_side {
        Side::Server => Cuts {
            client_to_server: at,
            server_to_client: Vec::new(),
        },
        Side::Client => Cuts {
            client_to_server: Vec::new(),
            server_to_client: at,
        },
    };
    (PeerFrames { head_len, ..frames }, cuts)
}

/// Runs `scenario` against a WebSocket server subject, the scripted client on the other end.
pub fn run_server(
    subject: &dyn MessageServerSubject,
    scenario: &MessageScenario,
) -> Run<WebSocket> {
    let recorder = Recorder::new();
    let (frames, cuts) = peer_plan(scenario, Side::Server);
    let app = MessageApp::new(scenario.clone(), Side::Server, recorder.clone());
    let key = scenario.key();
    Exchange::new(
        scenario,
        &frames,
        cuts,
        (Side::Server, subject.name()),
        recorder,
    )
    .run(
        |client_end| peer::client(client_end, &key, &frames),
        |server_end| subject.serve(Box::new(server_end), app.clone()),
        || app.take_record(),
    )
}

/// Runs `scenario` against a WebSocket client subject, the scripted server on the other end.
pub fn run_client(
    subject: &dyn MessageClientSubject,
    scenario: &MessageScenario,
) -> Run<WebSocket> {
    let recorder = Recorder::new();
    let (frames, cuts) = peer_plan(scenario, Side::Client);
    let app = MessageApp::new(scenario.clone(), Side::Client, recorder.clone());
    Exchange::new(
        scenario,
        &frames,
        cuts,
        (Side::Client, subject.name()),
        recorder,
    )
    .run(
        |server_end| peer::server(server_end, &frames),
        |client_end| subject.connect(Box::new(client_end), app.clone()),
        || app.take_record(),
    )
}
