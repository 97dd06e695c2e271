//! One Docker client case against a client command, end to end: bind the stub
//! daemon, start the command, serve every connection it opens, feed and close
//! its stdin at the right moments, end it (by its process group) when the case
//! is over, and judge what it printed and sent.
//!
//! The case's life, as the driver sees it:
//!
//! 1. The command starts with the case's stdin already in its pipe (a
//!    pseudo-terminal in raw mode when the case's container has a TTY, as a
//!    user's would be: [`crate::runner::process::terminal`]). It has until
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

use super::connection;
use super::daemon::Daemon;
use crate::oracle::docker::{ClientObservation, Judgement, judge};
use crate::oracle::{Verdict, preview};
use crate::results::{CaseResult, Outcome};
use crate::runner::Options;
use crate::runner::client_listener::ClientListener;
use crate::runner::process::{ClientProcess, Finished, Output, Stdin, Streams};
use crate::runner::target::{Attempt, Target};
use crate::suite::Case;
use crate::suite::attach::Attach;
use crate::wire::tcp::Capture;
use crate::wire::{Side, Trace};

/// The shortest quiet period for a client command: a process scheduled late on
/// a busy machine is not a client that stopped.
pub const QUIET_FLOOR: Duration = Duration::from_millis(500);

/// A Docker client to test: a command run once per case.
#[derive(Debug, Clone)]
pub struct DockerClient {
    /// The command, run with `sh -c`; `{host}` becomes `tcp://HOST:PORT` or
    /// `unix:///PATH`, `{addr}` `HOST:PORT` or the path, `{ca}` the CA file
    /// (over TLS).
    pub command: String,
    /// A name for reports.
    pub name: String,
    /// Where the stub listens: TCP, a Unix socket, TLS over either.
    pub listen: ClientListener,
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
    case: &Case<Attach>,
    target: &DockerClient,
    outcome: Outcome,
    verdict: Verdict,
    trace: Trace,
    started: Instant,
) -> CaseResult {
    CaseResult::new(
        case,
        &target.name,
        Side::Client,
        outcome,
        verdict,
        trace,
        started.elapsed(),
    )
}

/// A verdict with no violation: only what happened.
fn notes(notes: Vec<String>) -> Verdict {
    Verdict {
        violations: Vec::new(),
        notes,
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
    if !daemon.case.scenario.refused() {
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
pub async fn client_case(target: &DockerClient, case: &Case<Attach>, opts: &Options) -> CaseResult {
    let started = Instant::now();
    let error = |text: String| {
        result(
            case,
            target,
            Outcome::Error,
            notes(vec![text]),
            Trace::default(),
            started,
        )
    };
    let listening = match target.listen.bind().await {
        Ok(l) => l,
        Err(e) => return error(e.to_string()),
    };
    let command = match listening.command(&target.command) {
        Ok(c) => c,
        Err(e) => return error(e.to_string()),
    };
    let capture = Capture::new(opts.capture_cap);
    let daemon = Daemon::new(Arc::new(case.clone()), capture.clone(), opts.pause);
    let streams = Streams {
        stdin: if case.scenario.tty {
            Stdin::Terminal(case.scenario.stdin.clone())
        } else {
            Stdin::Pipe(case.scenario.stdin.clone())
        },
        stdout: Output::Capture(opts.capture_cap),
        stderr: Output::Capture(opts.capture_cap),
    };
    let mut process = match ClientProcess::spawn(&command, streams) {
        Ok(p) => p,
        Err(e) => return error(format!("cannot run {command:?}: {e}")),
    };
    let deadline = tokio::time::Instant::now() + opts.timeout;
    let serve = async {
        let mut connections = JoinSet::new();
        while let Ok(accepted) = listening.accept().await {
            let daemon = daemon.clone();
            let handshake = opts.timeout;
            connections.spawn(async move {
                match accepted.establish(handshake).await {
                    Ok(io) => connection::serve(io, daemon).await,
                    Err(e) => daemon.log_failure(e.to_string()),
                }
            });
        }
        // Dropping the set ends every connection still open.
        std::future::pending::<()>().await;
    };
    let mut serve = std::pin::pin!(serve);
    let ending = tokio::select! {
        () = &mut serve => Ending::TimedOut,
        ending = drive(&mut process, &daemon, opts, deadline) => ending,
    };
    let stdin_closed = process.stdin_closed();
    // The traces end here: the kill below closes the client's sockets, and that
    // FIN is not the client's doing. The stub keeps serving while the command's
    // output is collected, so what was in flight when it exited (a TLS alert)
    // is still logged.
    for log in daemon.connections() {
        log.recorder.seal();
    }
    let Finished {
        stdout,
        stderr,
        status,
    } = tokio::select! {
        finished = process.finish() => finished,
        () = &mut serve => Finished::default(),
    };
    let connections = daemon.connections();
    let handover = daemon.handover();
    let trace = handover
        .as_ref()
        .and_then(|h| connections.get(h.connection))
        .map(|log| log.recorder.take())
        .unwrap_or_default();

    let mut context = Vec::new();
    let requests: Vec<String> = connections
        .iter()
        .enumerate()
        .flat_map(|(i, log)| log.requests.iter().map(move |r| format!("#{i} {r}")))
        .collect();
    if !requests.is_empty() {
        context.push(format!("requests: {}", requests.join("; ")));
    }
    context.extend(daemon.failures());
    let how = match (ending, status) {
        (Ending::Exited, Some(status)) => format!("the client exited ({status})"),
        (Ending::Quiet, _) => format!(
            "nothing moved for {} ms; the client was killed and judged as it stood",
            opts.quiet.max(QUIET_FLOOR).as_millis()
        ),
        _ => "the client was killed at the time limit".to_string(),
    };
    context.push(how);
    if case.scenario.tty {
        context.push("stdin was a terminal in raw mode (a TTY case)".into());
    }
    if !stderr.bytes.is_empty() {
        context.push(format!(
            "the client's stderr: {}",
            preview(&stderr.bytes, 200)
        ));
    }
    for (name, captured) in [("stdout", &stdout), ("stderr", &stderr)] {
        if captured.dropped > 0 {
            context.push(format!(
                "{name} capped at {} bytes: {} more were not kept",
                opts.capture_cap, captured.dropped
            ));
        }
    }
    if capture.dropped() > 0 {
        context.push(opts.capped_note(capture.dropped()));
    }
    let unjudged = |outcome: Outcome, why: String, mut context: Vec<String>, trace: Trace| {
        context.insert(0, why);
        result(case, target, outcome, notes(context), trace, started)
    };

    if ending == Ending::TimedOut && handover.is_none() {
        let what = if connections.is_empty() {
            format!(
                "the client command did not connect to {} within {} ms",
                listening.host(),
                opts.timeout.as_millis()
            )
        } else {
            format!(
                "the client did not attach within {} ms",
                opts.timeout.as_millis()
            )
        };
        return unjudged(Outcome::Error, what, context, trace);
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
            let what = format!(
                "the client command ended without connecting to {}",
                listening.host()
            );
            unjudged(Outcome::Error, what, context, trace)
        }
        Judgement::Unsupported(why) => unjudged(Outcome::Unsupported, why, context, trace),
        Judgement::Judged(mut verdict) => {
            verdict.notes.extend(context);
            let outcome = if ending == Ending::TimedOut && verdict.strict() {
                Outcome::Error
            } else {
                Outcome::of(case.level, &verdict)
            };
            result(case, target, outcome, verdict, trace, started)
        }
    }
}

impl Target for DockerClient {
    type Script = Attach;

    fn who(&self) -> &'static str {
        "the client"
    }

    async fn attempt(&self, case: &Case<Attach>, opts: &Options) -> Attempt {
        Attempt::from(client_case(self, case, opts).await)
    }
}
