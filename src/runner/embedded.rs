//! Subjects in this process, over loopback TCP: each case gets a fresh
//! connection on 127.0.0.1, the subject serves (or connects) on one end, the
//! scripted peer runs paced on the other, and the oracle judges with the
//! application record the in-process handler kept.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use crate::check::{self, Finished, Run};
use crate::oracle;
use crate::peer;
use crate::results::{CaseResult, MutantResult, Outcome};
use crate::scenario::{Messages, Scenario};
use crate::subject::mutants::Mutant;
use crate::subject::{
    AppRecord, BoxIo, ClientApp, ClientSubject, ServerHandler, ServerSubject, Support,
};
use crate::suite::Case;
use crate::wire::driver::Ending;
use crate::wire::tcp::{self, Capture, Paced, Recording, SubjectEnd};
use crate::wire::{Direction, Recorder, Side};

use super::target::{Attempt, Target, concurrently};
use super::{Options, Settled, settle};

pub mod known;

fn setup_error(scenario: &Scenario, side: Side, subject: String, e: io::Error) -> Run {
    let mut run = Run::unsupported(scenario, side, subject, String::new());
    run.unsupported = None;
    run.verdict
        .notes
        .push(format!("could not set up loopback TCP: {e}"));
    run.verdict.violations.push(oracle::Violation {
        point: oracle::Point::Handshake,
        message: format!("could not set up loopback TCP: {e}"),
        marks: Vec::new(),
        level: None,
    });
    run
}

/// What one case's loopback connection records into: the trace, and the capped
/// capture of the bytes. The connection's two ends are handed out by [`Loopback::open`].
struct Loopback {
    recorder: Recorder,
    capture: Arc<Capture>,
}

/// The scripted peer's end of a [`Loopback`]: recorded, and paced at the
/// scenario's cut points.
type PeerEnd = Paced<Recording<TcpStream>>;

impl Loopback {
    /// A fresh connection on 127.0.0.1 for a case whose subject plays
    /// `subject_side`: the recording, the peer's end and the subject's end.
    async fn open(
        scenario: &Scenario,
        subject_side: Side,
        opts: &Options,
    ) -> io::Result<(Loopback, PeerEnd, BoxIo)> {
        let (client_tcp, server_tcp) = tcp::loopback_pair().await?;
        let recorder = Recorder::new();
        let capture = Capture::new(opts.capture_cap);
        let cuts = check::cuts(scenario);
        // The peer writes the other direction, paced at that direction's cuts.
        let (peer_tcp, subject_tcp, peer_writes, peer_cuts) = match subject_side {
            Side::Server => (
                client_tcp,
                server_tcp,
                Direction::ClientToServer,
                cuts.client_to_server,
            ),
            Side::Client => (
                server_tcp,
                client_tcp,
                Direction::ServerToClient,
                cuts.server_to_client,
            ),
        };
        let peer = Paced::new(
            Recording::new(
                peer_tcp,
                recorder.clone(),
                capture.clone(),
                peer_writes,
                false,
            ),
            peer_cuts,
            opts.pause,
        );
        let subject = Box::new(SubjectEnd::new(
            subject_tcp,
            recorder.clone(),
            capture.clone(),
            Direction::written_by(subject_side),
        ));
        Ok((Loopback { recorder, capture }, peer, subject))
    }
}

impl Loopback {
    /// Runs `both` (the peer and the subject, joined) until it ends, the connection
    /// goes quiet or the case times out, then stops recording. Returns the ending,
    /// the subject's error (found in the joined output by `subject_result`), and
    /// whether it timed out: what [`Loopback::finish`] takes.
    async fn settle<T>(
        &self,
        both: impl Future<Output = T>,
        opts: &Options,
        subject_result: impl FnOnce(T) -> Option<String>,
    ) -> (Ending, Option<String>, bool) {
        let settled = settle(
            both,
            &self.capture,
            &self.recorder,
            opts.quiet,
            opts.timeout,
        )
        .await;
        self.recorder.seal();
        match settled {
            Settled::Done(both) => (Ending::Completed, subject_result(both), false),
            Settled::Quiet => (Ending::Quiet, None, false),
            Settled::TimedOut => (Ending::Quiet, None, true),
        }
    }

    /// Judges a case's run ([`check::judged`]) and notes what the transport did to
    /// it: a timeout, a quiet ending, a capped capture. The second value says
    /// whether the case timed out.
    fn finish(
        &self,
        scenario: &Scenario,
        messages: &Messages,
        who: (Side, String),
        app: AppRecord,
        (ending, subject_error, timed_out): (Ending, Option<String>, bool),
        opts: &Options,
    ) -> (Run, bool) {
        let finished = Finished {
            app,
            ending,
            subject_error,
        };
        let mut run = check::judged(scenario, messages, who, &self.recorder, finished);
        let verdict = &mut run.verdict;
        if timed_out {
            verdict.notes.insert(0, opts.timed_out_note());
        }
        if ending == Ending::Quiet && !timed_out {
            verdict.notes.push(opts.quiet_note());
        }
        let dropped = self.capture.dropped();
        if dropped > 0 {
            verdict.notes.push(opts.capped_note(dropped));
        }
        (run, timed_out)
    }
}

/// Runs `scenario` against a server subject over loopback TCP; the second value
/// says whether the case timed out.
pub async fn run_server(
    subject: &dyn ServerSubject,
    scenario: &Scenario,
    opts: &Options,
) -> (Run, bool) {
    if let Support::No(why) = subject.supports(scenario) {
        return (
            Run::unsupported(scenario, Side::Server, subject.name(), why),
            false,
        );
    }
    let (wire, peer_end, subject_end) = match Loopback::open(scenario, Side::Server, opts).await {
        Ok(opened) => opened,
        Err(e) => {
            return (
                setup_error(scenario, Side::Server, subject.name(), e),
                false,
            );
        }
    };
    let handler = ServerHandler::new(scenario.clone(), wire.recorder.clone());
    let serving = subject.serve(subject_end, handler.clone());
    let messages = handler.messages();
    let both = async { tokio::join!(peer::client(peer_end, scenario, messages), serving) };
    let settled = wire
        .settle(both, opts, |(_, served)| {
            served.err().map(|e| e.to_string())
        })
        .await;
    let who = (Side::Server, subject.name());
    wire.finish(
        scenario,
        messages,
        who,
        handler.take_record(),
        settled,
        opts,
    )
}

/// Runs `scenario` against a client subject over loopback TCP; the second value
/// says whether the case timed out.
pub async fn run_client(
    subject: &dyn ClientSubject,
    scenario: &Scenario,
    opts: &Options,
) -> (Run, bool) {
    if let Support::No(why) = subject.supports(scenario) {
        return (
            Run::unsupported(scenario, Side::Client, subject.name(), why),
            false,
        );
    }
    let (wire, peer_end, subject_end) = match Loopback::open(scenario, Side::Client, opts).await {
        Ok(opened) => opened,
        Err(e) => {
            return (
                setup_error(scenario, Side::Client, subject.name(), e),
                false,
            );
        }
    };
    let app = ClientApp::new(scenario.clone(), wire.recorder.clone());
    let connecting = subject.connect(subject_end, app.clone());
    let messages = app.messages();
    let both = async { tokio::join!(connecting, peer::server(peer_end, scenario, messages)) };
    let settled = wire
        .settle(both, opts, |(connected, _)| {
            connected.err().map(|e| e.to_string())
        })
        .await;
    let who = (Side::Client, subject.name());
    wire.finish(scenario, messages, who, app.take_record(), settled, opts)
}

/// A server subject that can be shared between concurrent cases.
pub type SharedServer = Arc<dyn ServerSubject>;
/// A client subject that can be shared between concurrent cases.
pub type SharedClient = Arc<dyn ClientSubject>;

/// A subject in this process, on one side: what the embedded run drives.
#[derive(Clone)]
pub enum Embedded {
    /// A server subject; the scripted client drives.
    Server(SharedServer),
    /// A client subject; the scripted server drives.
    Client(SharedClient),
}

impl Target for Embedded {
    type Script = Scenario;

    fn who(&self) -> &'static str {
        match self {
            Embedded::Server(_) => "the server",
            Embedded::Client(_) => "the client",
        }
    }

    async fn attempt(&self, case: &Case, opts: &Options) -> Attempt {
        let started = Instant::now();
        let (run, timed_out) = match self {
            Embedded::Server(subject) => run_server(subject.as_ref(), &case.scenario, opts).await,
            Embedded::Client(subject) => run_client(subject.as_ref(), &case.scenario, opts).await,
        };
        Attempt::from(CaseResult::from_timed_run(
            case,
            run,
            timed_out,
            started.elapsed(),
        ))
    }
}

/// Runs every case that applies to each subject, server cases then client cases,
/// at most [`Options::concurrency`] at a time. Results keep that order.
pub async fn run_subjects(
    servers: &[SharedServer],
    clients: &[SharedClient],
    cases: &[Case],
    opts: &Options,
    progress: super::Progress,
) -> Vec<CaseResult> {
    let mut pairs = Vec::new();
    for case in cases {
        for server in servers.iter().filter(|_| case.sides.server) {
            pairs.push((Embedded::Server(server.clone()), case.clone()));
        }
        for client in clients.iter().filter(|_| case.sides.client) {
            pairs.push((Embedded::Client(client.clone()), case.clone()));
        }
    }
    concurrently(pairs, opts, progress).await
}

/// The mutant self-check over TCP: every mutant runs every case of its side; it
/// is caught when some case fails with the invariant point it breaks.
pub async fn check_mutants(
    cases: &[Case],
    opts: &Options,
    progress: super::Progress,
) -> Vec<MutantResult> {
    let mut out = Vec::new();
    let mutants = Mutant::all();
    let mut pairs = Vec::new();
    let mut owners = Vec::new();
    for (m, mutant) in mutants.iter().enumerate() {
        for case in cases {
            match (mutant.server(), mutant.client()) {
                (Some(server), _) if case.sides.server => {
                    pairs.push((Embedded::Server(Arc::new(server)), case.clone()));
                    owners.push(m);
                }
                (_, Some(client)) if case.sides.client => {
                    pairs.push((Embedded::Client(Arc::new(client)), case.clone()));
                    owners.push(m);
                }
                _ => {}
            }
        }
    }
    let results = concurrently(pairs, opts, progress).await;
    for (m, mutant) in mutants.iter().enumerate() {
        let mine = results
            .iter()
            .zip(&owners)
            .filter(|(_, owner)| **owner == m)
            .map(|(r, _)| r);
        let mut catching = mine.filter(|r| {
            r.outcome != Outcome::Unsupported
                && r.violations.iter().any(|v| v.point == mutant.breaks())
        });
        let result = match catching.next() {
            Some(first) => {
                let more = catching.count();
                let violation = first.violations.iter().find(|v| v.point == mutant.breaks());
                MutantResult {
                    name: mutant.name().to_string(),
                    caught: true,
                    detail: format!(
                        "{}{}: {}",
                        first.case_id,
                        if more > 0 {
                            format!(" (+{more} more)")
                        } else {
                            String::new()
                        },
                        violation.map(|v| v.message.as_str()).unwrap_or_default()
                    ),
                }
            }
            None => match caught_in_memory(*mutant, cases) {
                // Some bugs live in a window narrower than any pacing (a byte that
                // arrives between two syscalls of the subject): the in-memory wire
                // opens that window deterministically.
                Some((case_id, message)) => MutantResult {
                    name: mutant.name().to_string(),
                    caught: true,
                    detail: format!(
                        "{case_id} (in-memory wire; TCP timing never hit its window): {message}"
                    ),
                },
                None => MutantResult {
                    name: mutant.name().to_string(),
                    caught: false,
                    detail: format!("no case failed with {}", mutant.breaks()),
                },
            },
        };
        out.push(result);
    }
    out
}

/// How long a quiet connection is given in the embedded run, where both ends
/// are in this process and a pause means the conversation is over.
pub const EMBEDDED_QUIET: Duration = Duration::from_millis(150);

/// The first case that catches `mutant` over the deterministic in-memory wire.
fn caught_in_memory(mutant: Mutant, cases: &[Case]) -> Option<(String, String)> {
    cases.iter().find_map(|case| {
        let run = match (mutant.server(), mutant.client()) {
            (Some(server), _) if case.sides.server => check::run_server(&server, &case.scenario),
            (_, Some(client)) if case.sides.client => check::run_client(&client, &case.scenario),
            _ => return None,
        };
        run.verdict
            .violations
            .iter()
            .find(|v| v.point == mutant.breaks())
            .map(|v| (case.id.to_string(), v.message.clone()))
    })
}
