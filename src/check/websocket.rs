//! One run of one WebSocket case over the in-memory wire: the same path as
//! every protocol (`check::Exchange`), with WebSocket's
//! scripted peer and its message-level oracle ([`WebSocket`]).

use crate::oracle::websocket::WebSocket;
use crate::peer::websocket as peer;
use crate::scenario::websocket::{MessageScenario, PeerFrames};
use crate::subject::websocket::{MessageApp, MessageClientSubject, MessageServerSubject};
use crate::wire::memory::Cuts;
use crate::wire::{Direction, Recorder, Side};

use super::{Exchange, Run};

/// What the peer of `subject_side` writes after its head, and the cut points.
fn peer_plan(scenario: &MessageScenario, subject_side: Side) -> (PeerFrames, Cuts) {
    // A client masks every frame it sends, a server none (RFC 6455 §5.1).
    let (head_len, frames) = match subject_side {
        Side::Server => (peer::request_head_len(), scenario.peer_frames(true)),
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

/// Makes room in `recorder` for every byte each direction should carry
/// ([`Recorder::reserve`]), so that the in-memory wire's buffers are allocated
/// once instead of regrown, with a copy of the stream so far each time (most
/// of a WebSocket case's `realloc`s). The peer writes its head and `frames`;
/// the subject echoes every data message (a client's frames four bytes longer,
/// for the mask), answers every ping and sends a greeting of `greeting` bytes
/// ([`peer::SUBJECT_EXTRA`] for the rest).
/// A subject that writes more only makes its buffer grow.
fn reserve_wire(recorder: &Recorder, subject_side: Side, frames: &PeerFrames, greeting: usize) {
    let peer = frames.head_len + frames.bytes.len();
    let subject = frames.bytes.len() + 4 * frames.frames.len() + greeting + peer::SUBJECT_EXTRA;
    let subject_dir = Direction::written_by(subject_side);
    recorder.reserve(subject_dir.reverse(), peer);
    recorder.reserve(subject_dir, subject);
}

/// Runs `scenario` against a WebSocket server subject, the scripted client on the other end.
pub fn run_server(
    subject: &dyn MessageServerSubject,
    scenario: &MessageScenario,
) -> Run<WebSocket> {
    run_server_recorded(subject, scenario, Recorder::new())
}

/// [`run_server`], recording into `recorder`.
fn run_server_recorded(
    subject: &dyn MessageServerSubject,
    scenario: &MessageScenario,
    recorder: Recorder,
) -> Run<WebSocket> {
    let (frames, cuts) = peer_plan(scenario, Side::Server);
    reserve_wire(&recorder, Side::Server, &frames, scenario.greeting.into());
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
    run_client_recorded(subject, scenario, Recorder::new())
}

/// [`run_client`], recording into `recorder`.
fn run_client_recorded(
    subject: &dyn MessageClientSubject,
    scenario: &MessageScenario,
    recorder: Recorder,
) -> Run<WebSocket> {
    let (frames, cuts) = peer_plan(scenario, Side::Client);
    reserve_wire(&recorder, Side::Client, &frames, scenario.greeting.into());
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

#[cfg(test)]
mod tests {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;

    use super::*;
    use crate::scenario::websocket::ws_scenario;
    use crate::subject::websocket::tungstenite::{TungsteniteClient, TungsteniteServer};

    /// Every byte of a run fits in the room [`reserve_wire`] made: neither
    /// direction's buffer grows, for drawn cases against a server and a client
    /// subject (messages up to hundreds of KB, pings, fragments, early frames).
    #[test]
    fn a_websocket_run_allocates_each_direction_of_its_wire_once() {
        let mut runner = TestRunner::deterministic();
        for _ in 0..64 {
            let scenario = ws_scenario()
                .new_tree(&mut runner)
                .expect("a scenario")
                .current();
            let recorder = Recorder::new();
            let run =
                run_client_recorded(&TungsteniteClient::default(), &scenario, recorder.clone());
            assert!(run.passed(), "{run}");
            assert_eq!(recorder.regrown(), [0, 0], "client subject, {scenario:?}");
            let recorder = Recorder::new();
            let run =
                run_server_recorded(&TungsteniteServer::default(), &scenario, recorder.clone());
            assert!(run.passed(), "{run}");
            assert_eq!(recorder.regrown(), [0, 0], "server subject, {scenario:?}");
        }
    }
}
