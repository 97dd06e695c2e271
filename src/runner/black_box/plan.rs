//! What the scripted client sends for one case against one target, and what the
//! echo must carry back: the case's scenario, spoken in the target's protocol.
//!
//! The protocol-independent part lives here (which cases apply, the `Host`, the
//! body and its framing, when the client closes); each protocol module
//! ([`super::echo`], [`super::docker`], [`super::connect`](mod@super::connect),
//! [`super::websocket`]) says how its request asks for the connection, built of
//! the pieces in `request`.

use bytes::Bytes;

use crate::oracle::black_box::{BodyShape, Expect, RequestShape};
use crate::reference::head::Header;
use crate::scenario::{Answer, Body};
use crate::suite::{Case, Proto};

use super::request::Plan;
use super::{ServerTarget, connect, docker, echo, websocket};

/// The cases whose client closes right after its data, not after the echo: the
/// half-close cases are where FIN follows data at once (one point per case: in
/// every other case a lost byte is never the FIN's doing).
pub(super) fn closes_at_once(case: &Case) -> bool {
    case.id.starts_with("halfclose.") || case.id == websocket::CLOSE_AFTER_DATA
}

/// The black-box case that sends its upgrade in an HTTP/1.0 request (RFC 9110
/// §7.8: a server MUST ignore it). Over the in-memory wire the same case is a
/// refused upgrade; only a real server can be asked in HTTP/1.0.
pub(super) const HTTP10_CASE: &str = "refused.http10-upgrade-ignored";

/// The plan for `case` against `target`, or why the case does not apply.
/// `exec` is the ID of the exec a Docker Engine case starts (its request is
/// the exec start, [`docker::request`]); `None` for every other target.
pub(super) fn plan(case: &Case, target: &ServerTarget, exec: Option<&str>) -> Result<Plan, String> {
    let scenario = &case.scenario;
    if !case.sides.server {
        return Err("tests clients only".into());
    }
    if !case.protocols.contains(&target.protocol) {
        return Err(format!(
            "does not apply to {} (applies to {})",
            target.protocol.as_str(),
            case.protocols
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if target.protocol == Proto::WebSocket && case.id.starts_with("halfclose.") {
        return Err(
            "WebSocket ends with a Close frame, not a half-close (see websocket.close-after-data)"
                .into(),
        );
    }
    let http10 = case.id == HTTP10_CASE;
    // The HTTP/1.0 case asks for the target's own token: the version alone must
    // make the server ignore it.
    let refused = matches!(scenario.answer, Answer::Refuse(_)) && !http10;
    let authority = target.authority();
    let path = target.path.clone();
    let seed = case_seed(case.id);
    let mut request = match target.protocol {
        Proto::Echo => echo::request(path, refused, scenario)?,
        Proto::Docker => docker::request(path, refused, scenario, exec)?,
        Proto::WebSocket => websocket::request(path, refused, seed, scenario)?,
        Proto::Connect => connect::request(&authority),
    };
    if http10 {
        request.expect = Expect::Ignored;
    }
    let head = &mut request.head;
    head.headers.insert(0, Header::new("Host", authority));
    if target.protocol == Proto::WebSocket
        && let Some(name) = &target.subprotocol
    {
        head.headers
            .push(Header::new("Sec-WebSocket-Protocol", name.clone()));
    }
    head.headers.extend(target.headers.iter().cloned());
    // The scenario's own headers, minus those the protocol module decides.
    head.headers
        .extend(scenario.request_head().headers.into_iter().filter(|h| {
            !["connection", "upgrade", "host"]
                .iter()
                .any(|n| h.name.eq_ignore_ascii_case(n))
        }));
    let mut head_bytes = head.to_bytes().to_vec();
    if http10 {
        to_http10(&mut head_bytes);
    }
    let (scenario_message, scenario_head_len) = scenario.request_message();
    let engine_body = exec.and(docker::body(target.engine.as_ref()));
    if let Some(body) = engine_body {
        // The exec start's JSON (the scenario has no body here: `docker::request`).
        let end = head_bytes.len() - 2;
        head_bytes.splice(
            end..end,
            format!("Content-Length: {}\r\n", body.len()).into_bytes(),
        );
    }
    let mut message = head_bytes.clone();
    let body_shape = match (engine_body, &scenario.body) {
        (Some(body), _) => {
            message.extend_from_slice(body);
            BodyShape::Length
        }
        (None, Body::None) => BodyShape::None,
        (None, Body::Length(_)) => BodyShape::Length,
        (None, Body::Chunked(_)) => BodyShape::Chunked,
    };
    if engine_body.is_none() {
        message.extend_from_slice(&scenario_message[scenario_head_len..]);
    }
    let shape = RequestShape {
        head_len: head_bytes.len(),
        body: body_shape,
    };
    let mut early_payload = scenario.client_early();
    let mut late_payload = scenario.client_late();
    if target
        .engine
        .as_ref()
        .is_some_and(docker::Engine::detaches_on_keys)
    {
        early_payload = docker::without_detach_keys(early_payload);
        late_payload = docker::without_detach_keys(late_payload);
    }
    let mut expected_echo = early_payload.to_vec();
    expected_echo.extend_from_slice(&late_payload);
    let mut plan = Plan {
        message: message.into(),
        shape,
        early: early_payload,
        late: late_payload,
        closing: Bytes::new(),
        expect: request.expect,
        expected_echo,
        websocket_key: None,
        level: case.level,
        notes: Vec::new(),
        half_close: scenario.client.half_close || refused || http10,
        at_once: closes_at_once(case),
        waits_for_continue: scenario.client.waits_for_continue && scenario.body.has_content(),
        tunnel_half_close: target.proxy && case.id.starts_with("halfclose."),
        multiplexed: target.engine.as_ref().is_some_and(|e| e.multiplexed()),
    };
    if target.protocol == Proto::WebSocket && !refused && !http10 {
        websocket::frame(&mut plan, case, seed);
    }
    if plan.tunnel_half_close {
        plan.notes.push(TUNNEL_HALF_CLOSE.into());
    }
    Ok(plan)
}

/// Why half-close through an intermediary is a SHOULD, quoted.
pub(super) const TUNNEL_HALF_CLOSE: &str = "through an intermediary, half-close is a SHOULD: RFC 9110 §9.3.6 lets a \
     tunnel end both ways on one side's close (\"the intermediary MUST attempt to send any outstanding data that \
     came from the closed side to the other side, close both connections, and then discard any remaining data left \
     undelivered\"); Docker's stdin EOF needs it kept open";

/// Rewrites the request line's version to HTTP/1.0.
fn to_http10(head: &mut [u8]) {
    if let Some(line_end) = head.windows(2).position(|w| w == b"\r\n")
        && head[..line_end].ends_with(b"HTTP/1.1")
    {
        head[line_end - 1] = b'0';
    }
}

/// A stable seed for a case's random protocol values (WebSocket key, masks):
/// FNV-1a of its ID, so the same case gives the same bytes in every run.
pub fn case_seed(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_stable_and_distinct() {
        assert_eq!(case_seed("a"), case_seed("a"));
        assert_ne!(case_seed("handoff.x"), case_seed("handoff.y"));
    }

    #[test]
    fn http10_rewrites_the_request_line_only() {
        let mut head = b"GET / HTTP/1.1\r\nX: HTTP/1.1\r\n\r\n".to_vec();
        to_http10(&mut head);
        assert_eq!(head, b"GET / HTTP/1.0\r\nX: HTTP/1.1\r\n\r\n");
    }
}
