//! One Docker client case against a client command, end to end: bind the stub
//! daemon, start the command, serve every connection it opens, feed and close
//! its stdin at the right moments, end it (by its process group) when the case
//! is over, and judge what it printed and sent.
//!
//! The case's life, as the driver sees it:
//!
//! 1. The command starts with the case's stdin already in its pipe. It has until
//!    `timeout` to attach (a slow interpreter start is fine); a command that
//!    exits without attaching does not speak the contract (`unsupported`).
//! 2. Once the stub has answered the hijack request, nothing may stand still
//!    for longer than the quiet period. When the stub has read all of the stdin
//!    (or the client's FIN, or nothing moved), the driver closes the command's
//!    stdin: the client must send FIN and keep printing.
//! 3. The case ends when the command exits, when nothing moved for the quiet
//!    period (judged as it stands), or at `timeout` (an error).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::case::DockerCase;
use super::command::ClientProcess;
use super::connection;
use super::daemon::Daemon;
use super::listen::{Listening, Transport};
use super::oracle::{ClientObservation, Judgement, judge};
use crate::oracle::{Verdict, preview};
use crate::report::{CaseResult, Outcome};
use crate::runner::{Options, Progress};
use crate::wire::tcp::Capture;
use crate::wire::{Side, Trace};

/// The shortest quiet period for a client command: a process scheduled late on
/// a busy machine is not a client that stopped.
pub const QUIET_FLOOR: Duration = Duration::from_millis(500);

/// A Docker client to test: a command run once per case.
#[derive(Debug, Clone)]
pub struct DockerClient {
    /// The command, run with `sh -c`; `{host}` becomes `tcp://HOST:PORT` or
    /// `unix:///PATH`, `{addr}` `HOST:PORT` or the path.
    pub command: String,
    /// A name for reports.
    pub name: String,
    /// Where the stub listens.
    pub transport: Transport,
}

/// How the wait for the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// The command exited.
    Exited,
    /// Nothing moved for the quiet period.
    Quiet,
    /// The case's time limit passed.
    TimedOut,
}

fn result(
    case: &DockerCase,
    target: &DockerClient,
    outcome: Outcome,
    verdict: Verdict,
    trace: Trace,
    started: Instant,
) -> CaseResult {
    CaseResult {
        case_id: case.id.to_string(),
        title: case.title.to_string(),
        level: case.level,
        spec: case.spec.to_string(),
        bug: case.bug.to_string(),
        target: target.name.clone(),
        side: Side::Client,
        outcome,
        violations: verdict.violations,
        notes: verdict.notes,
        trace,
        duration: started.elapsed(),
        repeats: Vec::new(),
    }
}

fn note(text: String) -> Verdict {
    Verdict {
        violations: Vec::new(),
        notes: vec![text],
    }
}

/// Watches activity: resolves once nothing moved for `quiet`.
async fn quiet(activity: &impl Fn() -> u64, quiet: Duration) {
    let tick = (quiet / 5).max(Duration::from_millis(5));
    let mut last = activity();
    let mut since = Instant::now();
    loop {
        tokio::time::sleep(tick).await;
        let now = activity();
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= quiet {
            return;
        }
    }
}

/// Runs the command until the case is over, closing its stdin when it should.
async fn drive(
    process: &mut ClientProcess,
    daemon: &Daemon,
    opts: &Options,
    deadline: tokio::time::Instant,
) -> Ending {
    let quiet_for = opts.quiet.max(QUIET_FLOOR);
    let capture = daemon.capture.clone();
    let printed = process.activity();
    let activity = move || {
        capture
            .activity()
            .wrapping_add(printed.load(std::sync::atomic::Ordering::Relaxed))
    };
    tokio::select! {
        () = daemon.handed_over.notified() => {}
        _ = process.wait() => return Ending::Exited,
        () = tokio::time::sleep_until(deadline) => return Ending::TimedOut,
    }
    if !daemon.case.refused() {
        tokio::select! {
            () = daemon.stdin_done.notified() => {}
            () = quiet(&activity, quiet_for) => {}
            _ = process.wait() => return Ending::Exited,
            () = tokio::time::sleep_until(deadline) => return Ending::TimedOut,
        }
        process.close_stdin();
    }
    tokio::select! {
        _ = process.wait() => Ending::Exited,
        () = tokio::time::sleep_until(deadline) => Ending::TimedOut,
        () = quiet(&activity, quiet_for) => Ending::Quiet,
    }
}

/// Runs one case against a client command.
pub async fn client_case(target: &DockerClient, case: &DockerCase, opts: &Options) -> CaseResult {
    let started = Instant::now();
    let error = |text: String| {
        result(
            case,
            target,
            Outcome::Error,
            note(text),
            Trace::default(),
            started,
        )
    };
    let listening = match Listening::bind(target.transport).await {
        Ok(l) => l,
        Err(e) => {
            return error(format!(
                "cannot listen ({}): {e}",
                target.transport.as_str()
            ));
        }
    };
    let command = match listening.command(&target.command) {
        Ok(c) => c,
        Err(e) => return error(e.to_string()),
    };
    let capture = Capture::new(opts.capture_cap);
    let daemon = Daemon::new(Arc::new(case.clone()), capture.clone(), opts.pause);
    let mut process = match ClientProcess::spawn(&command, case.stdin.clone(), opts.capture_cap) {
        Ok(p) => p,
        Err(e) => return error(format!("cannot run {command:?}: {e}")),
    };
    let deadline = tokio::time::Instant::now() + opts.timeout;
    let serve = async {
        let mut connections = JoinSet::new();
        while let Ok(io) = listening.accept().await {
            connections.spawn(connection::serve(io, daemon.clone()));
        }
        // Dropping the set ends every connection still open.
        std::future::pending::<()>().await;
    };
    let ending = tokio::select! {
        () = serve => Ending::TimedOut,
        ending = drive(&mut process, &daemon, opts, deadline) => ending,
    };
    let stdin_closed = process.stdin_closed();
    let (stdout, stderr, status) = process.finish().await;
    let connections = daemon.connections();
    let handover = daemon.handover();
    let trace = handover
        .as_ref()
        .and_then(|h| connections.get(h.connection))
        .map(|log| log.recorder.take())
        .unwrap_or_default();
    for log in &connections {
        log.recorder.seal();
    }

    let mut notes = Vec::new();
    let requests: Vec<String> = connections
        .iter()
        .enumerate()
        .flat_map(|(i, log)| log.requests.iter().map(move |r| format!("#{i} {r}")))
        .collect();
    if !requests.is_empty() {
        notes.push(format!("requests: {}", requests.join("; ")));
    }
    let how = match (ending, status) {
        (Ending::Exited, Some(status)) => format!("the client exited ({status})"),
        (Ending::Quiet, _) => format!(
            "nothing moved for {} ms; the client was killed and judged as it stood",
            opts.quiet.max(QUIET_FLOOR).as_millis()
        ),
        _ => "the client was killed at the time limit".to_string(),
    };
    notes.push(how.clone());
    if !stderr.bytes.is_empty() {
        notes.push(format!(
            "the client's stderr: {}",
            preview(&stderr.bytes, 200)
        ));
    }
    for (name, captured) in [("stdout", &stdout), ("stderr", &stderr)] {
        if captured.dropped > 0 {
            notes.push(format!(
                "{name} capped at {} bytes: {} more were not kept",
                opts.capture_cap, captured.dropped
            ));
        }
    }
    if capture.dropped() > 0 {
        notes.push(opts.capped_note(capture.dropped()));
    }

    if ending == Ending::TimedOut && handover.is_none() {
        let what = if connections.is_empty() {
            format!(
                "the client command did not connect to {} within {} ms",
                listening.host,
                opts.timeout.as_millis()
            )
        } else {
            format!(
                "the client did not attach within {} ms",
                opts.timeout.as_millis()
            )
        };
        notes.insert(0, what);
        return result(
            case,
            target,
            Outcome::Error,
            Verdict {
                violations: Vec::new(),
                notes,
            },
            trace,
            started,
        );
    }
    let judgement = judge(&ClientObservation {
        case,
        stdout: &stdout.bytes,
        stderr: &stderr.bytes,
        handover: handover.as_ref(),
        trace: &trace,
        stdin_closed,
    });
    match judgement {
        Judgement::Unsupported(_) if connections.is_empty() => {
            notes.insert(
                0,
                format!(
                    "the client command ended without connecting to {}",
                    listening.host
                ),
            );
            result(
                case,
                target,
                Outcome::Error,
                Verdict {
                    violations: Vec::new(),
                    notes,
                },
                trace,
                started,
            )
        }
        Judgement::Unsupported(why) => {
            notes.insert(0, why);
            result(
                case,
                target,
                Outcome::Unsupported,
                Verdict {
                    violations: Vec::new(),
                    notes,
                },
                trace,
                started,
            )
        }
        Judgement::Judged(mut verdict) => {
            verdict.notes.extend(notes);
            let outcome = if ending == Ending::TimedOut && verdict.passed() {
                Outcome::Error
            } else {
                Outcome::of(case.level, &verdict)
            };
            result(case, target, outcome, verdict, trace, started)
        }
    }
}

/// Runs every case against a Docker client command, one at a time (a real
/// client's timing should not depend on the harness's parallelism), reporting
/// each result as it comes.
pub async fn run_client(
    target: &DockerClient,
    cases: &[DockerCase],
    opts: &Options,
    progress: Progress,
) -> Vec<CaseResult> {
    let mut out = Vec::with_capacity(cases.len());
    for case in cases {
        let result = client_case(target, case, opts).await;
        progress(&result);
        out.push(result);
    }
    out
}
