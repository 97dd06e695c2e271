//! One run of one WebSocket case over the in-memory wire: scenario, scripted
//! peer, subject, trace, message-level oracle.

use std::fmt;

use crate::oracle::websocket::{self as oracle, WsObservation, WsVerdict};
use crate::peer::websocket as peer;
use crate::scenario::websocket::{PeerFrames, WsScenario};
use crate::subject::websocket::{WsApp, WsClientSubject, WsRecord, WsServerSubject};
use crate::wire::driver::{self, Ending};
use crate::wire::memory::{self, Cuts};
use crate::wire::{Recorder, Side, Trace};

use super::{MAX_POLLS, Outcome};

/// Everything one WebSocket run produced.
#[derive(Debug, Clone)]
pub struct WsRun {
    /// The case.
    pub scenario: WsScenario,
    /// Which side was the subject.
    pub side: Side,
    /// The subject's name.
    pub subject: String,
    /// What crossed the wire.
    pub trace: Trace,
    /// What the subject's application did.
    pub app: WsRecord,
    /// How the run ended.
    pub ending: Ending,
    /// The subject's error, if any.
    pub subject_error: Option<String>,
    /// The oracle's judgement.
    pub verdict: WsVerdict,
}

impl WsRun {
    /// Whether no MUST was broken (a missed SHOULD still passes).
    pub fn passed(&self) -> bool {
        self.verdict.passed()
    }
}

impl fmt::Display for WsRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} {} subject; scenario:", self.subject, self.side)?;
        writeln!(f, "{:#?}", self.scenario)?;
        writeln!(f, "trace:")?;
        write!(f, "{}", crate::wire::text::render(&self.trace))?;
        write!(f, "{}", self.verdict)
    }
}

/// What the peer of `subject_side` writes: its head, its frames, its cut points.
fn peer_plan(scenario: &WsScenario, subject_side: Side) -> (usize, PeerFrames, Cuts) {
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
    (head_len, frames, cuts)
}

/// Runs `scenario` against a WebSocket server subject, the scripted client on the other end.
pub fn run_server(subject: &dyn WsServerSubject, scenario: &WsScenario) -> WsRun {
    let recorder = Recorder::new();
    let (head_len, frames, cuts) = peer_plan(scenario, Side::Server);
    let app = WsApp::new(scenario.clone(), Side::Server, recorder.clone());
    let (client_end, server_end, wire) = memory::pair(&cuts, recorder.clone());
    let outcome = Outcome::default();
    let serving = outcome
        .clone()
        .keep(subject.serve(Box::new(server_end), app.clone()));
    let key = scenario.key();
    let (_, ending) = driver::drive(
        driver::join(peer::client(client_end, &key, &frames), serving),
        &wire,
        MAX_POLLS,
    );
    let record = app.take_record();
    judged(
        scenario,
        (Side::Server, subject.name()),
        &recorder,
        (head_len, &frames),
        (record, ending, outcome.error()),
    )
}

/// Runs `scenario` against a WebSocket client subject, the scripted server on the other end.
pub fn run_client(subject: &dyn WsClientSubject, scenario: &WsScenario) -> WsRun {
    let recorder = Recorder::new();
    let (head_len, frames, cuts) = peer_plan(scenario, Side::Client);
    let app = WsApp::new(scenario.clone(), Side::Client, recorder.clone());
    let (client_end, server_end, wire) = memory::pair(&cuts, recorder.clone());
    let outcome = Outcome::default();
    let connecting = outcome
        .clone()
        .keep(subject.connect(Box::new(client_end), app.clone()));
    let (_, ending) = driver::drive(
        driver::join(connecting, peer::server(server_end, &frames)),
        &wire,
        MAX_POLLS,
    );
    let record = app.take_record();
    judged(
        scenario,
        (Side::Client, subject.name()),
        &recorder,
        (head_len, &frames),
        (record, ending, outcome.error()),
    )
}

/// Judges a finished run and bundles it (the trace is taken out of `recorder`).
fn judged(
    scenario: &WsScenario,
    (side, subject): (Side, String),
    recorder: &Recorder,
    (peer_head_len, frames): (usize, &PeerFrames),
    (app, ending, subject_error): (WsRecord, Ending, Option<String>),
) -> WsRun {
    let trace = recorder.take();
    let verdict = oracle::judge(&WsObservation {
        scenario,
        subject: side,
        trace: &trace,
        app: &app,
        ending,
        subject_error: subject_error.as_deref(),
        peer_head_len,
        peer: frames,
    });
    WsRun {
        scenario: scenario.clone(),
        side,
        subject,
        trace,
        app,
        ending,
        subject_error,
        verdict,
    }
}
