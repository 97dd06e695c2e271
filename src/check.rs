//! One run of one case: scenario, wire, subject, trace, oracle, verdict.

use crate::oracle::{self, Observation, Verdict};
use crate::peer;
use crate::scenario::{Messages, Scenario, Sizes};
use crate::subject::{AppRecord, ClientApp, ClientSubject, ServerHandler, ServerSubject, Support};
use crate::wire::driver::{self, Ending};
use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::wire::memory::{self, Cuts, Faults};
use crate::wire::{Recorder, Side, Trace};

pub mod websocket;

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

    /// A run that never started: the subject declined the case (`why`).
    pub(crate) fn unsupported(
        scenario: &Scenario,
        side: Side,
        subject: String,
        why: String,
    ) -> Run {
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
    cuts_of(scenario, &scenario.sizes())
}

/// [`cuts`] for a scenario whose message sizes are known.
pub fn cuts_of(scenario: &Scenario, sizes: &Sizes) -> Cuts {
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
    run_server_with_faults(subject, scenario, Faults::default())
}

/// Runs `scenario` against a client subject, with the scripted server on the other end.
pub fn run_client(subject: &dyn ClientSubject, scenario: &Scenario) -> Run {
    run_client_with_faults(subject, scenario, Faults::default())
}

/// The subject's result, kept as soon as its future ends: a run that ends quiet
/// (the peer still waiting) must not lose the error that ended the subject.
#[derive(Clone, Default)]
pub(crate) struct Outcome(Arc<Mutex<Option<String>>>);

impl Outcome {
    pub(crate) async fn keep<E: std::fmt::Display>(
        self,
        future: impl Future<Output = Result<(), E>>,
    ) {
        if let Err(e) = future.await {
            *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
        }
    }

    pub(crate) fn error(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// [`run_server`] over a wire that injects `faults`.
pub fn run_server_with_faults(
    subject: &dyn ServerSubject,
    scenario: &Scenario,
    faults: Faults,
) -> Run {
    if let Support::No(why) = subject.supports(scenario) {
        return Run::unsupported(scenario, Side::Server, subject.name(), why);
    }
    let recorder = Recorder::new();
    let handler = ServerHandler::new(scenario.clone(), recorder.clone());
    let messages = handler.messages();
    let (client_end, server_end, wire) = memory::pair_with_faults(
        &cuts_of(scenario, &messages.sizes()),
        faults,
        recorder.clone(),
    );
    let outcome = Outcome::default();
    let serving = outcome
        .clone()
        .keep(subject.serve(Box::new(server_end), handler.clone()));
    let (_, ending) = driver::drive(
        driver::join(peer::client(client_end, scenario, messages), serving),
        &wire,
        MAX_POLLS,
    );
    let finished = Finished {
        app: handler.take_record(),
        ending,
        subject_error: outcome.error(),
    };
    judged(
        scenario,
        messages,
        (Side::Server, subject.name()),
        &recorder,
        finished,
    )
}

/// [`run_client`] over a wire that injects `faults`.
pub fn run_client_with_faults(
    subject: &dyn ClientSubject,
    scenario: &Scenario,
    faults: Faults,
) -> Run {
    if let Support::No(why) = subject.supports(scenario) {
        return Run::unsupported(scenario, Side::Client, subject.name(), why);
    }
    let recorder = Recorder::new();
    let app = ClientApp::new(scenario.clone(), recorder.clone());
    let messages = app.messages();
    let (client_end, server_end, wire) = memory::pair_with_faults(
        &cuts_of(scenario, &messages.sizes()),
        faults,
        recorder.clone(),
    );
    let outcome = Outcome::default();
    let connecting = outcome
        .clone()
        .keep(subject.connect(Box::new(client_end), app.clone()));
    let (_, ending) = driver::drive(
        driver::join(connecting, peer::server(server_end, scenario, messages)),
        &wire,
        MAX_POLLS,
    );
    let finished = Finished {
        app: app.take_record(),
        ending,
        subject_error: outcome.error(),
    };
    judged(
        scenario,
        messages,
        (Side::Client, subject.name()),
        &recorder,
        finished,
    )
}

/// What is left when a run is over, besides the trace.
#[derive(Debug)]
pub struct Finished {
    /// What the subject's application did.
    pub app: AppRecord,
    /// How the run ended.
    pub ending: Ending,
    /// The subject's error, if any.
    pub subject_error: Option<String>,
}

/// Judges a finished run and bundles it: the trace (taken out of `recorder`,
/// which records nothing more), the application's record, and the oracle's
/// verdict on them. `subject` is the side under test and its name. Transports
/// other than the in-memory wire (loopback TCP) end their runs here too.
pub fn judged(
    scenario: &Scenario,
    messages: &Messages,
    (side, subject): (Side, String),
    recorder: &Recorder,
    finished: Finished,
) -> Run {
    let Finished {
        app,
        ending,
        subject_error,
    } = finished;
    let trace = recorder.take();
    let verdict = oracle::judge(&Observation {
        scenario,
        messages,
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
