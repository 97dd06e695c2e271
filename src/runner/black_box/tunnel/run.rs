//! One attempt at one tunnel case against a real proxy: the scripted client
//! on the client leg (over the run's transport), the harness's upstream's
//! [`Session`] on every upstream leg, both recorded; the case ends when the
//! client read EOF (and every leg has been still for a moment) or when
//! nothing moved for [`Options::quiet`], bounded by [`Options::timeout`]. The
//! legs are judged by [`crate::oracle::proxy::judge`], exactly as an
//! in-process run ([`crate::check::proxy`]), and by [`super::extra`].

use std::time::{Duration, Instant};

use crate::check::{Finished, judged};
use crate::oracle::Verdict;
use crate::oracle::proxy::Proxy;
use crate::peer::proxy as peer;
use crate::results::{CaseResult, Leg, Outcome};
use crate::scenario::proxy::{Ask, ProxyBytes, ProxyScenario};
use crate::subject::proxy::ProxyRecord;
use crate::suite::Case;
use crate::wire::driver::Ending;
use crate::wire::tcp::{Capture, Paced, Recording};
use crate::wire::transport::TransportError;
use crate::wire::{Direction, Event, Recorder, Side, Trace};

use super::super::super::target::Attempt;
use super::super::super::{Options, Settled, settle};
use super::ProxyTarget;
use super::ask::Asking;
use super::extra;
use super::session::Session;

/// How long the upstream legs may take to stop once the case is over.
const GRACE: Duration = Duration::from_secs(1);

/// How long every leg must be still, after the client read EOF, before the
/// case is judged: what the proxy does on the upstream legs as it closes.
const STILL: Duration = Duration::from_millis(60);

/// Runs `case` once against `target`, and judges it. A `CONNECT` case runs
/// once per target the run has for it ([`connect_targets`]) and keeps the
/// worst of their results.
pub(super) async fn attempt(
    target: &ProxyTarget,
    case: &Case<ProxyScenario>,
    opts: &Options,
) -> Attempt {
    let upstream = target.server.authority();
    let asking = Asking::new(target.server.protocol, &upstream);
    let scenario = &case.scenario;
    if scenario.ask != Ask::Connect {
        return once(target, case, &asking.bytes(scenario, &upstream), opts).await;
    }
    let mut tried = Vec::new();
    for (to, what) in connect_targets(target) {
        let mut attempt = once(target, case, &asking.bytes(scenario, &to), opts).await;
        attempt
            .result
            .notes
            .insert(0, format!("CONNECT {to} ({what})"));
        tried.push(attempt);
    }
    worst(tried)
}

/// Where a `CONNECT` case asks to go: a loopback port of the harness's own
/// that nothing listens on (bound, then released), and the `--connect-denied`
/// target, if the run names one.
fn connect_targets(target: &ProxyTarget) -> Vec<(String, &'static str)> {
    let closed = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map_or_else(|_| "127.0.0.1:9".to_string(), |a| a.to_string());
    let mut targets = vec![(closed, "a closed port of the harness's")];
    if let Some(denied) = &target.connect_denied {
        targets.push((
            denied.clone(),
            "--connect-denied: refused by the proxy's policy",
        ));
    }
    targets
}

/// The attempt whose outcome is worst (a failure first), with the others'
/// outcomes noted.
fn worst(mut tried: Vec<Attempt>) -> Attempt {
    let rank = |o: Outcome| match o {
        Outcome::Fail => 0,
        Outcome::Error => 1,
        Outcome::Flaky => 2,
        Outcome::NonStrict => 3,
        Outcome::Unsupported => 4,
        Outcome::Pass => 5,
    };
    let at = (0..tried.len())
        .min_by_key(|&i| rank(tried[i].result.outcome))
        .unwrap_or(0);
    let others: Vec<String> = tried
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != at)
        .map(|(_, a)| {
            let to = a.result.notes.first().cloned().unwrap_or_default();
            format!("{to}: {}", a.result.outcome.as_str())
        })
        .collect();
    let refused = tried.first().is_some_and(|a| a.refused);
    let mut kept = tried.swap_remove(at);
    kept.result.notes.extend(others);
    kept.refused = refused;
    kept
}

/// One conversation: the client leg to the proxy, every upstream leg the
/// proxy opens meanwhile, judged.
async fn once(
    target: &ProxyTarget,
    case: &Case<ProxyScenario>,
    bytes: &ProxyBytes,
    opts: &Options,
) -> Attempt {
    let started = Instant::now();
    let scenario = &case.scenario;
    let capture = Capture::new(opts.capture_cap);
    let session = Session::new(
        scenario.clone(),
        bytes.clone(),
        delay(scenario, opts),
        opts.pause,
        capture.clone(),
    );
    target.slot.open(session.clone());
    let connection = match super::super::connect(&target.server, opts.timeout).await {
        Ok(connection) => connection,
        Err(e) => {
            target.slot.close();
            let legs = session.stop(GRACE).await;
            let refused = matches!(e, TransportError::Refused { .. });
            let result = noted(
                target,
                case,
                Outcome::Error,
                e.to_string(),
                Trace::default(),
            );
            return Attempt {
                result: with_legs(result, legs, started),
                refused,
            };
        }
    };
    let recorder = Recorder::new();
    let mut io = Paced::new(
        Recording::new(
            connection.io,
            recorder.clone(),
            capture.clone(),
            Direction::ClientToServer,
            true,
        ),
        scenario.client_cuts.clone(),
        opts.pause,
    );
    let client = async {
        let done = peer::client(&mut io, scenario, bytes).await;
        // The client's socket stays open while the upstream legs settle.
        still(&capture, STILL.min(opts.quiet)).await;
        done
    };
    let settled = settle(client, &capture, &recorder, opts.quiet, opts.timeout).await;
    target.slot.close();
    let legs = session.stop(GRACE).await;
    drop(io);
    let (ending, mut notes) = match settled {
        Settled::Done(Ok(())) => (Ending::Completed, Vec::new()),
        Settled::Done(Err(e)) => (
            Ending::Completed,
            vec![format!("the client leg failed: {e}")],
        ),
        Settled::Quiet => (Ending::Quiet, vec![opts.quiet_note()]),
        Settled::TimedOut => {
            let result = noted(
                target,
                case,
                Outcome::Error,
                opts.timed_out_note(),
                recorder.take(),
            );
            return with_legs(result, legs, started).into();
        }
    };
    if capture.dropped() > 0 {
        notes.push(opts.capped_note(capture.dropped()));
    }
    let first = legs.first().cloned().unwrap_or_default();
    let record = ProxyRecord {
        answered_after: answered_after(&first),
        upstream: first,
    };
    let finished = Finished {
        app: record,
        ending,
        subject_error: None,
    };
    let run = judged::<Proxy>(
        scenario,
        bytes,
        (Side::Server, target.server.name.clone()),
        &recorder,
        finished,
    );
    let mut verdict = run.verdict;
    extra::further_connections(&mut verdict, legs.get(1..).unwrap_or_default());
    if scenario.ask == Ask::Connect {
        extra::refused_connect(&mut verdict, &run.trace, legs.first());
    }
    verdict.notes.extend(notes);
    let connect = scenario.ask == Ask::Connect;
    let mut outcome = None;
    if let Some((unsupported, why)) =
        extra::unanswered(&mut verdict, &run.trace, legs.len(), connect)
    {
        verdict.notes.push(why);
        outcome = unsupported.then_some(Outcome::Unsupported);
    } else if legs.is_empty() {
        verdict
            .notes
            .push("nothing reached the harness's upstream".into());
    }
    let outcome = outcome.unwrap_or_else(|| Outcome::of(case.level, &verdict));
    let result = CaseResult::new(
        case,
        &target.server.name,
        Side::Server,
        outcome,
        verdict,
        run.trace,
        Duration::ZERO,
    );
    with_legs(result, legs, started).into()
}

/// How long the scripted upstream waits, reading, before it answers: 50 ms
/// per poll the case waits in process, at most half of the quiet period (the
/// wait must not look like the end of the conversation).
fn delay(scenario: &ProxyScenario, opts: &Options) -> Duration {
    (Duration::from_millis(50) * u32::from(scenario.delay)).min(opts.quiet / 2)
}

/// How many bytes had reached the upstream when its first answer left it.
fn answered_after(leg: &Trace) -> Option<usize> {
    let answered = leg.events.iter().any(|e| {
        matches!(
            e,
            Event::Segment {
                dir: Direction::ServerToClient,
                ..
            }
        )
    });
    answered.then(|| {
        leg.events
            .iter()
            .take_while(|e| {
                !matches!(
                    e,
                    Event::Segment {
                        dir: Direction::ServerToClient,
                        ..
                    }
                )
            })
            .map(|e| match e {
                Event::Segment { bytes, .. } => bytes.len(),
                _ => 0,
            })
            .sum()
    })
}

/// Waits until nothing moved on any leg for `still`.
async fn still(capture: &Capture, still: Duration) {
    let tick = (still / 4).max(Duration::from_millis(2));
    let mut last = capture.activity();
    let mut since = Instant::now();
    while since.elapsed() < still {
        tokio::time::sleep(tick).await;
        let now = capture.activity();
        if now != last {
            last = now;
            since = Instant::now();
        }
    }
}

fn noted(
    target: &ProxyTarget,
    case: &Case<ProxyScenario>,
    outcome: Outcome,
    note: String,
    trace: Trace,
) -> CaseResult {
    let verdict = Verdict::noted(note);
    CaseResult::new(
        case,
        &target.server.name,
        Side::Server,
        outcome,
        verdict,
        trace,
        Duration::ZERO,
    )
}

/// `result` with the upstream legs the proxy opened, and the attempt's duration.
fn with_legs(mut result: CaseResult, legs: Vec<Trace>, started: Instant) -> CaseResult {
    result.legs = Leg::upstream(legs);
    result.duration = started.elapsed();
    result
}
