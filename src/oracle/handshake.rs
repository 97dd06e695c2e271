//! The HTTP exchange before the hand-over: what the server's handler got of the
//! body, `100 Continue` at the right moment, and a switching head that names its
//! protocol.

use super::Observation;
use super::describe::count;
use super::verdict::Verdict;
use crate::invariant::Point;
use crate::reference::head::{self, HeadSummary};
use crate::scenario::BodyRead;

/// RFC 9110 §15.2.2: "The server MUST generate an Upgrade header field in the
/// response that indicates which protocol(s) will be in effect after this
/// response." A 101 without one switches to nothing the client can name.
pub(super) fn check_switching_head(verdict: &mut Verdict, response: HeadSummary) {
    if response.status == 101 && !response.upgrade {
        verdict.fail_must(
            Point::Handshake,
            "the server answered 101 without an Upgrade header: RFC 9110 §15.2.2 requires one \
             naming the protocol in effect after the response",
        );
    }
}

/// The diagnosis when no complete response head reached the client (`arrived`
/// bytes did). A client that waited for `100 Continue` before sending its body,
/// and got nothing, was waiting for a server that waited for the body first.
pub(super) fn no_answer(obs: &Observation<'_>, arrived: &[u8]) -> String {
    let scenario = obs.scenario;
    let waited = scenario.client.waits_for_continue && scenario.body.has_content();
    let continued = matches!(head::parse_response(arrived), Ok(Some((h, _))) if h.status == 100);
    if waited && !continued {
        let framed = obs.sent.request.len() - obs.sent.request_head_len;
        return format!(
            "the client sent `Expect: 100-continue` and waited for `100 Continue` before sending its body \
             ({} with its framing); no 100 came, and no answer ({} arrived): the server waited for the \
             body first, and the two waited for each other (RFC 9110 §10.1.1: a server \"MUST NOT wait \
             for the content before sending the 100 (Continue) response\")",
            count(framed),
            count(arrived.len())
        );
    }
    format!(
        "no complete response head reached the client ({} arrived)",
        count(arrived.len())
    )
}

/// RFC 9110 §7.8: "If a server receives both an Upgrade and an Expect header
/// field with the 100-continue expectation (Section 10.1.1), the server MUST send
/// a 100 (Continue) response before sending a 101 (Switching Protocols)
/// response." Checked when the request has content: a client "MUST NOT generate a
/// 100-continue expectation in a request that does not include content" (§10.1.1),
/// and for one that does not, §10.1.1 lets the server omit the 100.
/// `heads` is what the server sent up to the end of its final head.
pub(super) fn check_continue(
    verdict: &mut Verdict,
    obs: &Observation<'_>,
    status: u16,
    heads: &[u8],
) {
    let scenario = obs.scenario;
    if status != 101 || !scenario.expect_continue || !scenario.body.has_content() {
        return;
    }
    let mut at = 0;
    while let Ok(Some((interim, len))) = head::parse_response(&heads[at..]) {
        if interim.status == 100 {
            return;
        }
        if !interim.is_interim() {
            break;
        }
        at += len;
    }
    verdict.fail(
        Point::Handshake,
        "the server answered 101 to a request with `Expect: 100-continue` and a body without sending \
         `100 Continue` first (RFC 9110 §7.8: the server \"MUST send a 100 (Continue) response before \
         sending a 101 (Switching Protocols) response\")",
    );
}

/// The handler got the body's bytes, in order: all of them when the application
/// reads it all, at least as many as it asked for when it reads a part (a library
/// may hand out more in one read), and never a byte the client did not send.
pub(super) fn check_handler_body(verdict: &mut Verdict, obs: &Observation<'_>) {
    let Some((_, got)) = obs.app.requests.first() else {
        return;
    };
    let sent = &obs.sent.body;
    let wanted = obs.scenario.server.body_read;
    let asked = wanted.of(sent.len());
    let prefix = sent.starts_with(got);
    let enough = match wanted {
        BodyRead::All => got.len() == sent.len(),
        BodyRead::Part(_) | BodyRead::Nothing => got.len() >= asked,
    };
    if prefix && enough {
        return;
    }
    let what = match wanted {
        BodyRead::All => "all".to_string(),
        BodyRead::Part(_) => format!("the first {}", count(asked)),
        BodyRead::Nothing => "none".to_string(),
    };
    let how = if prefix {
        String::new()
    } else {
        ", not the bytes the client sent".to_string()
    };
    verdict.fail(
        Point::Handshake,
        format!(
            "the handler asked for {what} of the {}-byte body and got {}{how}",
            sent.len(),
            count(got.len())
        ),
    );
}
