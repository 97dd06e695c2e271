//! One run of one case: scenario, wire, subject, trace, oracle, verdict.
//!
//! Every protocol goes the same way ([`Protocol`]): the scripted peer and the
//! subject run over an in-memory wire that cuts where the scenario says
//! (`Exchange`), and the oracle of the protocol judges what the trace and the
//! application's record show ([`judged`]). This module holds the raw
//! hand-over's two entry points ([`run_server`], [`run_client`]);
//! [`websocket`] holds WebSocket's, over the same two functions.

use crate::oracle::{Observation, Protocol};
use crate::peer;
use crate::scenario::{Prepared, Scenario, Sizes};
use crate::subject::{AppRecord, ClientApp, ClientSubject, ServerHandler, ServerSubject, Support};
use crate::wire::driver::{self, Ending};
use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::wire::memory::{self, Cuts, Endpoint, Faults, WireHandle};
use crate::wire::{Direction, Recorder, Side};

pub use crate::results::Run;

pub mod proxy;
pub mod websocket;

/// How many polls a run may take before it counts as spinning.
pub const MAX_POLLS: usize = 1_000_000;

/// Where each direction is cut, resolved against the streams this scenario produces.
pub fn cuts(scenario: &Scenario) -> Cuts {
    cuts_of(scenario, &scenario.sizes())
}

/// [`cuts`] for a scenario whose message sizes are known.
pub fn cuts_of(scenario: &Scenario, sizes: &Sizes) -> Cuts {
    let early = sizes.request + sizes.early;
    let first = sizes.response + sizes.first;
    let [c2s_total, s2c_total] = totals(sizes);
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

/// How many bytes each direction carries when both sides do what the scenario
/// says (client to server, then server to client): the ends of [`cuts_of`]'s streams.
fn totals(sizes: &Sizes) -> [usize; 2] {
    let after = sizes.early + sizes.late;
    [sizes.request + after, sizes.response + sizes.first + after]
}

/// Room made in each direction of the trace beyond what the scenario's
/// messages take: a subject writes heads of its own (hyper adds a `date` field
/// and writes its names in lower case), and a buffer a few bytes short is
/// copied in full to a new one twice its size (up to 140 KB), which was 3,000
/// instructions of a differential case (BENCHMARKS.md, issue 26, seventh pass).
const HEAD_SLACK: usize = 512;

/// [`cuts_of`], and room made in `recorder` for the bytes each direction
/// should carry ([`Recorder::reserve`]), and [`HEAD_SLACK`] more: the in-memory
/// wire's buffers are then allocated once, not regrown (and copied) write by write.
fn wire_of(scenario: &Scenario, sizes: &Sizes, recorder: &Recorder) -> Cuts {
    let [c2s, s2c] = totals(sizes);
    recorder.reserve(Direction::ClientToServer, c2s + HEAD_SLACK);
    recorder.reserve(Direction::ServerToClient, s2c + HEAD_SLACK);
    cuts_of(scenario, sizes)
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
/// The run's future borrows it (both live in one call of [`Exchange::run`]).
#[derive(Default)]
pub(crate) struct Outcome(Mutex<Option<String>>);

impl Outcome {
    pub(crate) async fn keep<E: std::fmt::Display>(
        &self,
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
    let prepared = Prepared::of(scenario);
    let shared = Arc::clone(&prepared.scenario);
    let handler = ServerHandler::prepared(prepared, recorder.clone());
    let messages = handler.messages();
    let cuts = wire_of(scenario, &messages.sizes(), &recorder);
    Exchange::new(
        scenario,
        messages,
        cuts,
        (Side::Server, subject.name()),
        recorder,
    )
    .with_faults(faults)
    .with_shared(shared)
    .run(
        |client_end| peer::client(client_end, scenario, messages),
        |server_end| subject.serve(Box::new(server_end), handler.clone()),
        || handler.take_record(),
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
    let prepared = Prepared::of(scenario);
    let shared = Arc::clone(&prepared.scenario);
    let app = ClientApp::prepared(prepared, recorder.clone());
    let messages = app.messages();
    let cuts = wire_of(scenario, &messages.sizes(), &recorder);
    Exchange::new(
        scenario,
        messages,
        cuts,
        (Side::Client, subject.name()),
        recorder,
    )
    .with_faults(faults)
    .with_shared(shared)
    .run(
        |server_end| peer::server(server_end, scenario, messages),
        |client_end| subject.connect(Box::new(client_end), app.clone()),
        || app.take_record(),
    )
}

/// One in-memory run of protocol `P`, before it starts: the case, what the
/// scripted peer will send, where the wire cuts, and who the subject is.
pub(crate) struct Exchange<'a, P: Protocol> {
    /// The case.
    pub scenario: &'a P::Scenario,
    /// What the scripted peer sends.
    pub sent: &'a P::Sent,
    /// Where each direction is cut.
    pub cuts: Cuts,
    /// What the wire does wrong on purpose.
    pub faults: Faults,
    /// The side under test, and its name.
    pub subject: (Side, String),
    /// The recorder the wire and the application write to.
    pub recorder: Recorder,
    /// The case, shared already, for the run's record; without it the run
    /// keeps a copy of `scenario`.
    pub shared: Option<Arc<P::Scenario>>,
}

impl<'a, P: Protocol> Exchange<'a, P> {
    /// A run of `scenario`, whose peer sends `sent`, over a wire cut at `cuts`
    /// that injects no fault, against `subject` (its side and its name).
    pub(crate) fn new(
        scenario: &'a P::Scenario,
        sent: &'a P::Sent,
        cuts: Cuts,
        subject: (Side, String),
        recorder: Recorder,
    ) -> Self {
        Exchange {
            scenario,
            sent,
            cuts,
            faults: Faults::default(),
            subject,
            recorder,
            shared: None,
        }
    }

    /// The same run over a wire that injects `faults`.
    pub(crate) fn with_faults(self, faults: Faults) -> Self {
        Exchange { faults, ..self }
    }

    /// The same run, whose record shares `shared` (equal to the scenario)
    /// instead of copying the scenario.
    pub(crate) fn with_shared(self, shared: Arc<P::Scenario>) -> Self {
        Exchange {
            shared: Some(shared),
            ..self
        }
    }
}

impl<P: Protocol> Exchange<'_, P> {
    /// Runs the scripted peer and the subject against each other over an
    /// in-memory wire, until both are done or the run settles, then judges.
    /// `peer` gets the peer's end of the wire, `subject` the subject's;
    /// `record` takes the application's record once the run is over.
    pub(crate) fn run<F, S, E>(
        self,
        peer: impl FnOnce(Endpoint) -> F,
        subject: impl FnOnce(Endpoint) -> S,
        record: impl FnOnce() -> P::Record,
    ) -> Run<P>
    where
        F: Future,
        S: Future<Output = Result<(), E>>,
        E: std::fmt::Display,
    {
        self.run_beside(None, peer, subject, record)
    }

    /// [`Exchange::run`], with a second wire (`beside`) that the peer and the
    /// subject also use, driven with this one: a proxy's upstream leg.
    pub(crate) fn run_beside<F, S, E>(
        self,
        beside: Option<&WireHandle>,
        peer: impl FnOnce(Endpoint) -> F,
        subject: impl FnOnce(Endpoint) -> S,
        record: impl FnOnce() -> P::Record,
    ) -> Run<P>
    where
        F: Future,
        S: Future<Output = Result<(), E>>,
        E: std::fmt::Display,
    {
        let side = self.subject.0;
        let (client_end, server_end, wire) =
            memory::pair_with_faults(&self.cuts, self.faults, self.recorder.clone());
        let wire = match beside {
            Some(other) => wire.and(other),
            None => wire,
        };
        let (peer_end, subject_end) = match side {
            Side::Server => (client_end, server_end),
            Side::Client => (server_end, client_end),
        };
        let outcome = Outcome::default();
        let subject = outcome.keep(subject(subject_end));
        // The order of the two futures is the order they are polled in, which
        // the traces (and their snapshots) depend on: the client first.
        let ending = match side {
            Side::Server => {
                driver::drive(driver::join(peer(peer_end), subject), &wire, MAX_POLLS).1
            }
            Side::Client => {
                driver::drive(driver::join(subject, peer(peer_end)), &wire, MAX_POLLS).1
            }
        };
        let finished = Finished {
            app: record(),
            ending,
            subject_error: outcome.error(),
        };
        let scenario = self
            .shared
            .unwrap_or_else(|| Arc::new(self.scenario.clone()));
        judged_shared::<P>(scenario, self.sent, self.subject, &self.recorder, finished)
    }
}

/// What is left when a run is over, besides the trace.
#[derive(Debug)]
pub struct Finished<R = AppRecord> {
    /// What the subject's application did.
    pub app: R,
    /// How the run ended.
    pub ending: Ending,
    /// The subject's error, if any.
    pub subject_error: Option<String>,
}

/// Judges a finished run of protocol `P` and bundles it: the trace (taken out
/// of `recorder`, which records nothing more), the application's record, and
/// the oracle's verdict on them. `sent` is what the scripted peer sent;
/// `subject` is the side under test and its name. Transports other than the
/// in-memory wire (loopback TCP) end their runs here too.
pub fn judged<P: Protocol>(
    scenario: &P::Scenario,
    sent: &P::Sent,
    subject: (Side, String),
    recorder: &Recorder,
    finished: Finished<P::Record>,
) -> Run<P> {
    judged_shared(
        Arc::new(scenario.clone()),
        sent,
        subject,
        recorder,
        finished,
    )
}

/// [`judged`], for a scenario already shared: the run's record keeps it.
pub fn judged_shared<P: Protocol>(
    scenario: Arc<P::Scenario>,
    sent: &P::Sent,
    (side, subject): (Side, String),
    recorder: &Recorder,
    finished: Finished<P::Record>,
) -> Run<P> {
    let Finished {
        app,
        ending,
        subject_error,
    } = finished;
    let trace = recorder.take();
    let verdict = P::judge(&Observation {
        scenario: &scenario,
        sent,
        subject: side,
        trace: &trace,
        app: &app,
        ending,
        subject_error: subject_error.as_deref(),
    });
    Run {
        scenario,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subject::reference::ReferenceServer;
    use crate::suite::cases;

    /// A run's trace lends the oracle each direction as the one buffer the
    /// wire kept, not a concatenation: with the head cut in three, the client's
    /// stream starts where its first segment does.
    #[test]
    fn a_run_lends_each_direction_of_its_trace_as_one_buffer() {
        let run = run_server(&ReferenceServer::default(), &cases::head_split().scenario);
        assert!(run.passed(), "{run}");
        for dir in [Direction::ClientToServer, Direction::ServerToClient] {
            let segments: Vec<&[u8]> = run.trace.segments(dir).map(|s| &s[..]).collect();
            let stream = run.trace.stream(dir);
            assert_eq!(stream, segments.concat());
            assert_eq!(stream.as_ptr(), segments[0].as_ptr(), "{dir} copied");
        }
        assert!(run.trace.segments(Direction::ClientToServer).count() >= 3);
    }

    /// A run's record keeps the scenario its handler was prepared from, not a
    /// copy; two runs of one scenario (a differential) share it, and a run
    /// judged without it (`judged`) still records an equal scenario.
    #[test]
    fn runs_share_the_prepared_scenario() {
        use crate::subject::reference::ReferenceClient;
        let scenario = cases::head_split().scenario;
        let server = run_server(&ReferenceServer::default(), &scenario);
        let again = run_server(&ReferenceServer::default(), &scenario);
        assert_eq!(*server.scenario, scenario);
        assert!(Arc::ptr_eq(&server.scenario, &again.scenario), "copied");
        assert!(Arc::ptr_eq(
            &server.scenario,
            &Prepared::of(&scenario).scenario
        ));
        let client = run_client(&ReferenceClient::default(), &scenario);
        assert!(Arc::ptr_eq(&server.scenario, &client.scenario), "copied");
        let copied = judged::<crate::oracle::Hijack>(
            &scenario,
            &Prepared::of(&scenario).messages,
            (Side::Server, "x".into()),
            &Recorder::new(),
            Finished {
                app: AppRecord::default(),
                ending: Ending::Completed,
                subject_error: None,
            },
        );
        assert_eq!(*copied.scenario, scenario);
    }
}
