//! One run of one case: scenario, wire, subject, trace, oracle, verdict.

use crate::oracle::{self, Observation, Verdict};
use crate::peer;
use crate::scenario::Scenario;
use crate::subject::{AppRecord, ClientApp, ClientSubject, ServerHandler, ServerSubject, Support};
use crate::wire::driver::{self, Ending};
use crate::wire::memory::{self, Cuts};
use crate::wire::{Recorder, Side, Trace};

/// How many polls a run may take before it counts as spinning.
pub const MAX_POLLS: usize = 1_000_000;

/// Everything one run produced.
#[derive(Debug, Clone)]
pub struct Run {
    /// The case.
    pub scenario: Scenario,
    /// Which side was the subject.
    pub side: Side,
    /// The subject's name.
    pub subject: String,
    /// What crossed the wire.
    pub trace: Trace,
    /// What the subject's application did.
    pub app: AppRecord,
    /// How the run ended.
    pub ending: Ending,
    /// The subject's error, if any.
    pub subject_error: Option<String>,
    /// Why the subject could not run the case, if it could not.
    pub unsupported: Option<String>,
    /// The oracle's judgement.
    pub verdict: Verdict,
}

impl Run {
    /// Whether the run conforms (an unsupported case conforms vacuously).
    pub fn passed(&self) -> bool {
        self.verdict.passed()
    }

    fn unsupported(scenario: &Scenario, side: Side, subject: String, why: String) -> Run {
        Run {
            scenario: scenario.clone(),
            side,
            subject,
            trace: Trace::default(),
            app: AppRecord::default(),
            ending: Ending::Completed,
            subject_error: None,
            unsupported: Some(why),
            verdict: Verdict::default(),
        }
    }
}

/// Where each direction is cut, resolved against the streams this scenario produces.
pub fn cuts(scenario: &Scenario) -> Cuts {
    let sizes = scenario.sizes();
    let early = sizes.request + sizes.early;
    let c2s_total = early + sizes.late;
    let first = sizes.response + sizes.first;
    let s2c_total = first + sizes.early + sizes.late;
    Cuts {
        client_to_server: Scenario::resolve_cuts(
            &scenario.client_cuts,
            sizes.request_head,
            sizes.request,
            early,
            c2s_total,
        ),
        server_to_client: Scenario::resolve_cuts(
            &scenario.server_cuts,
            sizes.response_head,
            sizes.response,
            first,
            s2c_total,
        ),
    }
}

/// Runs `scenario` against a server subject, with the scripted client on the other end.
pub fn run_server(subject: &dyn ServerSubject, scenario: &Scenario) -> Run {
    if let Support::No(why) = subject.supports(scenario) {
        return Run::unsupported(scenario, Side::Server, subject.name(), why);
    }
    let recorder = Recorder::new();
    let (client_end, server_end, wire) = memory::pair(&cuts(scenario), recorder.clone());
    let handler = ServerHandler::new(scenario.clone(), recorder.clone());
    let serving = subject.serve(Box::new(server_end), handler.clone());
    let (output, ending) = driver::drive(
        driver::join(peer::client(client_end, scenario), serving),
        &wire,
        MAX_POLLS,
    );
    let subject_error = output
        .and_then(|(_, served)| served.err())
        .map(|e| e.to_string());
    finish(
        scenario,
        Side::Server,
        subject.name(),
        recorder,
        handler.take_record(),
        ending,
        subject_error,
    )
}

/// Runs `scenario` against a client subject, with the scripted server on the other end.
pub fn run_client(subject: &dyn ClientSubject, scenario: &Scenario) -> Run {
    if let Support::No(why) = subject.supports(scenario) {
        return Run::unsupported(scenario, Side::Client, subject.name(), why);
    }
    let recorder = Recorder::new();
    let (client_end, server_end, wire) = memory::pair(&cuts(scenario), recorder.clone());
    let app = ClientApp::new(scenario.clone(), recorder.clone());
    let connecting = subject.connect(Box::new(client_end), app.clone());
    let (output, ending) = driver::drive(
        driver::join(connecting, peer::server(server_end, scenario)),
        &wire,
        MAX_POLLS,
    );
    let subject_error = output
        .and_then(|(connected, _)| connected.err())
        .map(|e| e.to_string());
    finish(
        scenario,
        Side::Client,
        subject.name(),
        recorder,
        app.take_record(),
        ending,
        subject_error,
    )
}

fn finish(
    scenario: &Scenario,
    side: Side,
    subject: String,
    recorder: Recorder,
    app: AppRecord,
    ending: Ending,
    subject_error: Option<String>,
) -> Run {
    let trace = recorder.snapshot();
    let verdict = oracle::judge(&Observation {
        scenario,
        subject: side,
        trace: &trace,
        app: &app,
        ending,
        subject_error: subject_error.as_deref(),
    });
    Run {
        scenario: scenario.clone(),
        side,
        subject,
        trace,
        app,
        ending,
        subject_error,
        unsupported: None,
        verdict,
    }
}
