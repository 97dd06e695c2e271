//! The invariant of a conformant hijack, and diagnoses a person can act on.
//!
//! The oracle never trusts the subject. It reads two things: the [`Trace`](crate::wire::Trace) (what
//! crossed the wire, in order) and the [`AppRecord`](crate::subject::AppRecord) of the application the
//! harness gave the subject (what the application read and wrote). From the
//! scenario it knows what the scripted peer sent; from those it checks the six
//! points of `docs/src/invariant.md`, and for each broken one it says which bytes were lost,
//! duplicated, reordered or extra, and in which segment they travelled.

use crate::reference::head;
use crate::wire::driver::Ending;
use crate::wire::{Direction, Side};

pub mod black_box;
mod compare;
mod describe;
mod diagnosis;
pub mod docker;
mod faults;
mod handshake;
mod protocol;
pub mod proxy;
mod read_side;
mod verdict;
pub mod websocket;
mod write_side;

/// The invariant's points and levels, which every verdict speaks.
pub use crate::invariant::{Level, Point};
pub use black_box::{BlackBoxObservation, Expect, judge_black_box, judge_black_box_client};
pub use compare::{Discrepancy, compare};
pub use describe::{count, preview};
pub use diagnosis::render_diagnosis;
pub use faults::judge_under_faults;
pub use protocol::{Hijack, Observation, Protocol};
pub use verdict::{Fault, Mark, Verdict, Violation};

use describe::locate;
use handshake::{check_continue, check_handler_body, check_switching_head, no_answer};
use read_side::check_read_side;
use write_side::check_write_side;

/// A verdict with what every judgement starts from: a spin (the driver's poll
/// limit) is a failure, and the subject's and the application's errors are notes.
fn opening(obs: &Observation<'_>, spin: &str) -> Verdict {
    opening_of(obs, obs.app.error.as_deref(), None, spin)
}

/// [`opening`] for any protocol: `app_error` is the application's error, and
/// a spin is a violation at `level` (`None`: the case's).
pub(crate) fn opening_of<P: Protocol>(
    obs: &Observation<'_, P>,
    app_error: Option<&str>,
    level: Option<Level>,
    spin: &str,
) -> Verdict {
    let mut verdict = Verdict::default();
    if obs.ending == Ending::PollLimit {
        verdict.violations.push(Violation {
            point: Point::Handshake,
            message: spin.to_string(),
            marks: Vec::new(),
            level,
        });
    }
    if let Some(error) = obs.subject_error {
        verdict.notes.push(format!(
            "the {} subject returned an error: {error}",
            obs.subject
        ));
    }
    if let Some(error) = app_error {
        verdict.notes.push(format!(
            "the {} application's stream failed: {error}",
            obs.subject
        ));
    }
    verdict
}

/// Judges one run.
pub fn judge(obs: &Observation<'_>) -> Verdict {
    let mut verdict = opening(
        obs,
        "the run never settled: something polled in a loop without making progress",
    );
    match obs.subject {
        Side::Server => judge_server(obs, &mut verdict),
        Side::Client => judge_client(obs, &mut verdict),
    }
    verdict
}

fn judge_server(obs: &Observation<'_>, verdict: &mut Verdict) {
    let scenario = obs.scenario;
    let (trace, app) = (obs.trace, obs.app);
    let c2s = trace.stream(Direction::ClientToServer);
    let s2c = trace.stream(Direction::ServerToClient);
    let message_len = obs.sent.request.len();
    let sent_after = &c2s[message_len.min(c2s.len())..];

    let head = match head::final_response_summary(&s2c) {
        Err(e) => {
            verdict.fail(
                Point::Handshake,
                format!("the server's response head does not parse: {e}"),
            );
            return;
        }
        Ok(None) => {
            verdict.fail(Point::Handshake, no_answer(obs, &s2c));
            return;
        }
        Ok(Some(head)) => head,
    };
    let (response, head_end) = head;
    check_handler_body(verdict, obs);

    if !scenario.accepted() {
        if app.hijacked {
            let start = message_len.min(c2s.len());
            let end = (start + app.read.len()).min(c2s.len());
            verdict.fail_marked(
                Point::NoFalseUpgrade,
                format!(
                    "the server answered {} and still handed the connection over: its application read {} bytes \
                     that were the next HTTP request ({})",
                    response.status,
                    app.read.len(),
                    preview(&app.read, 40)
                ),
                vec![Mark::Bytes {
                    dir: Direction::ClientToServer,
                    range: start..end,
                    fault: Fault::HandedOver,
                }],
            );
        } else if !app.requests.iter().any(|(target, _)| target == "/next") {
            verdict.fail(
                Point::NoFalseUpgrade,
                format!(
                    "after answering {}, the server did not serve the pipelined request that followed as HTTP",
                    response.status
                ),
            );
        }
        return;
    }

    check_switching_head(verdict, response);
    check_continue(verdict, obs, response.status, &s2c[..head_end]);
    let expected_status = scenario.answer_status();
    if response.status != expected_status {
        verdict.fail(
            Point::Handshake,
            format!(
                "the server answered {}, not {expected_status}",
                response.status
            ),
        );
        return;
    }

    // Point 1: the server application reads exactly what the client sent after the request.
    let never = || {
        format!(
            "the server never handed the connection to its application: the {} bytes the client sent \
             after the request were never delivered",
            sent_after.len()
        )
    };
    let body = obs.sent.request_head_len..message_len;
    check_read_side(verdict, trace, app, Side::Server, &c2s, body, never);

    check_write_side(
        verdict,
        trace,
        app,
        Side::Server,
        &s2c[head_end..],
        head_end,
    );
}

fn judge_client(obs: &Observation<'_>, verdict: &mut Verdict) {
    let scenario = obs.scenario;
    let (trace, app) = (obs.trace, obs.app);
    let c2s = trace.stream(Direction::ClientToServer);
    let s2c = trace.stream(Direction::ServerToClient);
    let message_end = match head::request_message_len(&c2s) {
        Err(e) => {
            verdict.fail(
                Point::Handshake,
                format!("the client's request does not parse: {e}"),
            );
            return;
        }
        Ok(None) => {
            verdict.fail(
                Point::Handshake,
                format!(
                    "the client never sent a complete request ({} bytes)",
                    c2s.len()
                ),
            );
            return;
        }
        Ok(Some((_, len))) => len,
    };
    let response_len = obs.sent.response.len();
    let status = scenario.answer_status();

    if !scenario.accepted() {
        if app.hijacked {
            verdict.fail(
                Point::NoFalseUpgrade,
                format!("the client handed the connection over after a {status} answer, which does not switch protocols"),
            );
        }
        return;
    }
    if app.response_status.is_some_and(|s| s != status) {
        verdict.fail(
            Point::Handshake,
            format!(
                "the client reported status {:?}, the server sent {status}",
                app.response_status
            ),
        );
    }

    // Point 2: the client application reads exactly what the server sent after its head.
    let sent_after = &s2c[response_len.min(s2c.len())..];
    let never = || {
        format!(
            "the client never handed the connection to its application after a {status}: the {} bytes \
             the server sent after its head were never delivered",
            sent_after.len()
        )
    };
    let no_body = response_len..response_len;
    check_read_side(verdict, trace, app, Side::Client, &s2c, no_body, never);

    check_write_side(
        verdict,
        trace,
        app,
        Side::Client,
        &c2s[message_end..],
        message_end,
    );
}
