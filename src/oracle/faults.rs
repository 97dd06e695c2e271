//! The invariant over a wire that injected faults.

use super::compare::{Discrepancy, compare};
use super::describe::count;
use super::verdict::{Point, Verdict};
use super::{Observation, judge, opening};
use crate::reference::head;
use crate::wire::driver::Ending;
use crate::wire::memory::Faults;
use crate::wire::{Direction, Side};

/// Judges a run over a wire that injected `faults`.
///
/// Short writes and spurious `Pending`s change nothing: the whole invariant must
/// hold. A reset or an early FIN cuts a stream, and then the promise is weaker
/// but still strict: every byte that crossed the wire before the cut reaches the
/// application, nothing else does, and the end is reported (EOF or an error),
/// never swallowed; a cut inside the request is an error the subject returns.
pub fn judge_under_faults(obs: &Observation<'_>, faults: &Faults) -> Verdict {
    if !faults.cuts_a_stream() {
        return judge(obs);
    }
    let mut verdict = opening(obs, "the run never settled after the fault: a spin");
    let (trace, app) = (obs.trace, obs.app);
    let (incoming, message_end) = match obs.subject {
        Side::Server => {
            let c2s = trace.stream(Direction::ClientToServer);
            let end = head::request_message_len(&c2s)
                .ok()
                .flatten()
                .map(|(_, len)| len);
            (c2s, end)
        }
        Side::Client => {
            let s2c = trace.stream(Direction::ServerToClient);
            let response = &obs.sent.response;
            let end = (s2c.len() >= response.len() && s2c.starts_with(response))
                .then_some(response.len());
            (s2c, end)
        }
    };
    let read_point = match obs.subject {
        Side::Server => Point::ServerRead,
        Side::Client => Point::ClientRead,
    };
    match message_end {
        None if app.hijacked => verdict.fail(
            Point::NoFalseUpgrade,
            "the stream was cut before the message ended, and the library still handed it over",
        ),
        None => {
            let silent = obs.subject_error.is_none() && obs.ending == Ending::Completed;
            let started = !incoming.is_empty();
            if silent && started && obs.subject == Side::Server {
                verdict.fail(
                    Point::Handshake,
                    format!(
                        "the stream was cut {} bytes into the request, and the server returned no error",
                        incoming.len()
                    ),
                );
            }
        }
        Some(end) if app.hijacked => {
            let delivered = &incoming[end..];
            let found = compare(delivered, &app.read);
            let lost_silently = found.iter().any(|d| matches!(d, Discrepancy::Lost { .. }))
                && (app.saw_eof || app.error.is_none() && obs.ending == Ending::Completed);
            let corrupted = found.iter().any(|d| !matches!(d, Discrepancy::Lost { .. }));
            if corrupted || lost_silently {
                verdict.fail(
                    read_point,
                    format!(
                        "after the fault, the {} app read {} of the {} that crossed the wire: {:?}",
                        obs.subject,
                        app.read.len(),
                        count(delivered.len()),
                        found
                    ),
                );
            }
        }
        Some(_) => {}
    }
    verdict
}
