//! The named proxy cases, `tunnel.*`: the questions that make a proxy's
//! hand-over dangerous. Does it tunnel when the upstream refused? Does it
//! forward the client's bytes before the upstream agreed? Does it switch to a
//! protocol nobody offered, pass `h2c` on, or tunnel for HTTP/1.0?
//!
//! Each case is a fixed [`ProxyScenario`]: what the scripted client sends on
//! the client leg and what the scripted upstream answers on the upstream leg.
//! The same case runs in process (the reference proxy and its mutants, through
//! [`crate::check::proxy`]) and black-box (`run --proxy`, the harness's own
//! upstream behind the proxy under test); [`crate::oracle::proxy`] judges both
//! legs either way.
//!
//! Levels. Where an RFC sentence with a MUST is broken, the case quotes it
//! (`tunnel.unoffered-token`, `tunnel.h2c-not-forwarded`,
//! `tunnel.http10-no-switch`). Where the RFCs are silent (no sentence forbids
//! a tunnel after a refusal, or bytes forwarded before the upstream answered),
//! the case says so in its `spec`, quotes the closest sentence, and cites the
//! CVE that makes it a security rule: it still fails at MUST, because the
//! upstream reads those bytes as requests the proxy never checked.

use super::{Case, Level, Proto, Sides};
use crate::scenario::proxy::{AfterRefusal, Answer, Ask, Early, ProxyScenario, Version};

/// The protocols a proxy case applies to: every way through a proxy.
const THROUGH_A_PROXY: &[Proto] = &[Proto::Echo, Proto::WebSocket, Proto::Docker, Proto::Connect];

/// An upgrade that the upstream answers with `answer`, nothing else happening.
fn upgrade(answer: Answer) -> ProxyScenario {
    ProxyScenario {
        answer,
        ..ProxyScenario::default()
    }
}

fn case(
    id: &'static str,
    title: &'static str,
    spec: &'static str,
    bug: &'static str,
    scenario: ProxyScenario,
) -> Case<ProxyScenario> {
    Case {
        id,
        title,
        level: Level::Must,
        spec,
        bug,
        sides: Sides::SERVER,
        protocols: THROUGH_A_PROXY,
        scenario,
    }
}

/// `tunnel.refused-stays-http.*`: the upstream refuses (`426`, `400`, `403`,
/// `200` with a body); the proxy relays the answer, and the client's next
/// bytes, raw bytes then a whole request in one write, are handled as HTTP
/// (parsed, answered, or the connection closed), never tunnelled raw.
///
/// The RFC is silent (no MUST forbids the tunnel): the level is the security
/// rule of 0ang3el/websocket-smuggle (Varnish, Envoy <= 1.8 tunnelled after a
/// `426`) and Kubernetes CVE-2018-1002105; the closest sentence is RFC 9110
/// §7.8's, that a server not switching keeps "the current protocol on that
/// connection". Checked: the raw bytes reach the upstream on no leg
/// (`TunnelRefused`, proxy to upstream), nor upstream bytes the client as
/// tunnel data (`TunnelRefused`, proxy to client).
fn refused_stays_http() -> Vec<Case<ProxyScenario>> {
    const SPEC: &str = "security, the RFC has no MUST: RFC 9110 §7.8 \"A server MAY ignore a received Upgrade header field if it wishes to continue using the current protocol on that connection.\"; 0ang3el/websocket-smuggle (2019); Kubernetes CVE-2018-1002105";
    const BUG: &str = "Varnish and Envoy <= 1.8 tunnelled after a 426 (websocket-smuggle); Kubernetes CVE-2018-1002105";
    let refusal = |id, title, answer| {
        let scenario = ProxyScenario {
            after_refusal: AfterRefusal::RawThenRequest,
            ..upgrade(answer)
        };
        case(id, title, SPEC, BUG, scenario)
    };
    vec![
        refusal(
            "tunnel.refused-stays-http.426",
            "the upstream answers 426: no tunnel, the client's next bytes stay HTTP",
            Answer::Refuse(426),
        ),
        refusal(
            "tunnel.refused-stays-http.400",
            "the upstream answers 400: no tunnel, the client's next bytes stay HTTP",
            Answer::Refuse(400),
        ),
        refusal(
            "tunnel.refused-stays-http.403",
            "the upstream answers 403: no tunnel, the client's next bytes stay HTTP",
            Answer::Refuse(403),
        ),
        refusal(
            "tunnel.refused-stays-http.200-body",
            "the upstream answers 200 with a body: no tunnel, the client's next bytes stay HTTP",
            Answer::OkWithBody,
        ),
    ]
}

/// `tunnel.refused-early-bytes`: an upgrade request and a pipelined request
/// (then a raw byte run) in one segment; the upstream waits three polls, then
/// refuses with `426`. The bytes after the request must not reach the
/// upstream before its answer (`TunnelEarly`), nor as tunnel data after it
/// (`TunnelRefused`).
///
/// The RFC is silent, and even allows a whole pipelined request to be
/// forwarded (RFC 9112 §9.3.2, so that alone is non-strict); the raw bytes
/// fail at MUST as a security rule: Pingora CVE-2026-2833.
fn refused_early_bytes() -> Case<ProxyScenario> {
    case(
        "tunnel.refused-early-bytes",
        "an upgrade and a pipelined request in one segment, refused late: nothing reaches the upstream before its answer, nor as tunnel data after it",
        "security, the RFC has no MUST (RFC 9112 §9.3.2: \"An intermediary that receives pipelined requests MAY pipeline those requests when forwarding them inbound\", so a whole request alone is non-strict); Pingora CVE-2026-2833 (RUSTSEC-2026-0033)",
        "Pingora < 0.8.0 forwarded the bytes after an Upgrade request before the 101",
        ProxyScenario {
            early: Early::Pipelined,
            early_len: 12,
            delay: 3,
            ..upgrade(Answer::Refuse(426))
        },
    )
}

/// `tunnel.unoffered-token`: the upstream answers `101` naming a token the
/// client did not offer; the proxy does not relay it, nor tunnel
/// (`TunnelToken`, proxy to client). A MUST: the proxy is the client's server,
/// and relaying the `101` switches the client's connection.
fn unoffered_token() -> Case<ProxyScenario> {
    case(
        "tunnel.unoffered-token",
        "the upstream answers 101 naming a token the client did not offer: the proxy does not switch",
        "RFC 9110 §7.8: \"A server MUST NOT switch to a protocol that was not indicated by the client in the corresponding request's Upgrade header field.\"",
        "nginx checks only the status code of the answer (websocket-smuggle)",
        ProxyScenario {
            after_refusal: AfterRefusal::RawThenRequest,
            ..upgrade(Answer::OtherToken)
        },
    )
}

/// `tunnel.h2c-not-forwarded`: `Upgrade: h2c` with `HTTP2-Settings`, both
/// named in `Connection`, is not forwarded (`TunnelHopByHop`, proxy to
/// upstream); the upstream's `101 h2c` is not relayed (`TunnelHopByHop`, proxy
/// to client). A MUST of RFC 9110 §7.6.1.
fn h2c_not_forwarded() -> Case<ProxyScenario> {
    case(
        "tunnel.h2c-not-forwarded",
        "Upgrade: h2c with HTTP2-Settings is not forwarded",
        "RFC 9110 §7.6.1: \"Intermediaries MUST parse a received Connection header field before a message is forwarded and, for each connection-option in this field, remove any header or trailer field(s) from the message with the same name as the connection-option\"; h2c smuggling (Bishop Fox 2020), golang/go#80416, traefik#9341",
        "proxies that forward Upgrade: h2c let a client speak HTTP/2 to the backend past every rule (traefik#9341)",
        ProxyScenario {
            ask: Ask::H2c,
            after_refusal: AfterRefusal::RawThenRequest,
            ..upgrade(Answer::Switch)
        },
    )
}

/// `tunnel.connect-refused-early-data`: a `CONNECT` with a pipelined request
/// and raw bytes in the same write, refused `403` by the next hop. The bytes
/// are neither forwarded (`TunnelEarly` before the answer, `TunnelRefused`
/// after it, proxy to upstream) nor parsed as a request (a second response on
/// the client leg: `TunnelRefused`, non-strict, since RFC 9110 leaves their
/// meaning to the HTTP version), and no `2xx` reaches the client
/// (`TunnelAnswer`, proxy to client).
///
/// The RFC is silent: the level is the security rule of Envoy CVE-2025-64763.
fn connect_refused_early_data() -> Case<ProxyScenario> {
    case(
        "tunnel.connect-refused-early-data",
        "a refused CONNECT: the bytes sent with it are neither forwarded nor parsed as a request, and no 2xx comes",
        "security, the RFC has no MUST: RFC 9110 §9.3.6 \"Any response other than a successful response indicates that the tunnel has not yet been formed.\" and \"The interpretation of data sent after the header section of the CONNECT request message is specific to the version of HTTP in use.\"; Envoy CVE-2025-64763",
        "Envoy forwarded early data on a CONNECT before the 2xx (CVE-2025-64763)",
        ProxyScenario {
            ask: Ask::Connect,
            early: Early::Pipelined,
            early_len: 12,
            ..upgrade(Answer::Refuse(403))
        },
    )
}

/// `tunnel.http10-no-switch`: an HTTP/1.0 request with `Upgrade`, and an
/// upstream that answers `101` regardless (a bad upstream). The proxy must
/// ignore the `Upgrade`: it does not send it on (`TunnelHopByHop`, proxy to
/// upstream), sends no `101` to the client (`TunnelToken`, proxy to client),
/// and tunnels nothing: the client's raw bytes after the answer reach the
/// upstream on no leg (`TunnelRefused`). MUSTs of RFC 9110 §7.8 and §15.2.
fn http10_no_switch() -> Case<ProxyScenario> {
    case(
        "tunnel.http10-no-switch",
        "an HTTP/1.0 request with Upgrade through the proxy never becomes a tunnel",
        "RFC 9110 §7.8: \"A server that receives an Upgrade header field in an HTTP/1.0 request MUST ignore that Upgrade field.\"; RFC 9110 §15.2: \"Since HTTP/1.0 did not define any 1xx status codes, a server MUST NOT send a 1xx response to an HTTP/1.0 client.\"",
        "",
        ProxyScenario {
            version: Version::Http10,
            after_refusal: AfterRefusal::RawThenRequest,
            ..upgrade(Answer::Switch)
        },
    )
}

/// Every `tunnel.*` case, in a stable order.
pub fn all() -> Vec<Case<ProxyScenario>> {
    let mut cases = refused_stays_http();
    cases.extend([
        refused_early_bytes(),
        unoffered_token(),
        h2c_not_forwarded(),
        connect_refused_early_data(),
        http10_no_switch(),
    ]);
    cases
}

/// The `tunnel.*` case with this ID.
pub fn find(id: &str) -> Option<Case<ProxyScenario>> {
    all().into_iter().find(|case| case.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_is_a_tunnel_case_with_a_unique_id() {
        let cases = all();
        let mut ids: Vec<_> = cases.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), cases.len());
        assert!(cases.iter().all(|c| c.id.starts_with("tunnel.")));
        assert!(find("tunnel.unoffered-token").is_some());
    }
}
