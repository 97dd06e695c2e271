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

use super::{Case, Level, Proto, Sides};
use crate::scenario::proxy::{Answer, Ask, Early, ProxyScenario};

/// The protocols a proxy case applies to: every way through a proxy.
const THROUGH_A_PROXY: &[Proto] = &[Proto::Echo, Proto::WebSocket, Proto::Docker, Proto::Connect];

/// An upgrade that the upstream answers with `answer`, nothing else happening.
fn upgrade(answer: Answer) -> ProxyScenario {
    ProxyScenario {
        ask: Ask::Upgrade,
        body: 0,
        early: Early::None,
        early_len: 1,
        answer,
        delay: 0,
        first: 0,
        late: 0,
        upstream_late: 0,
        client_fin: false,
        upstream_fin: false,
        client_cuts: Vec::new(),
        upstream_cuts: Vec::new(),
    }
}

fn case(
    id: &'static str,
    title: &'static str,
    level: Level,
    spec: &'static str,
    bug: &'static str,
    scenario: ProxyScenario,
) -> Case<ProxyScenario> {
    Case {
        id,
        title,
        level,
        spec,
        bug,
        sides: Sides::SERVER,
        protocols: THROUGH_A_PROXY,
        scenario,
    }
}

/// `tunnel.refused-stays-http.*`: the upstream refuses; the proxy relays the
/// answer, and the client's next bytes are handled as HTTP, never tunnelled raw.
fn refused_stays_http() -> Vec<Case<ProxyScenario>> {
    let refusal = |id, title, answer| {
        let mut scenario = upgrade(answer);
        scenario.early = Early::Raw;
        scenario.early_len = 12;
        case(
            id,
            title,
            Level::Must,
            "RFC 9110 §7.8; 0ang3el/websocket-smuggle (2019), Kubernetes CVE-2018-1002105",
            "Varnish and Envoy <= 1.8 tunnelled after a 426 (websocket-smuggle)",
            scenario,
        )
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

/// Every `tunnel.*` case, in a stable order.
pub fn all() -> Vec<Case<ProxyScenario>> {
    let mut cases = refused_stays_http();
    let mut early = upgrade(Answer::Refuse(426));
    early.early = Early::Pipelined;
    early.delay = 3;
    cases.push(case(
        "tunnel.refused-early-bytes",
        "an upgrade and a pipelined request in one segment, refused late: nothing reaches the upstream before its answer, nor as tunnel data after it",
        Level::Must,
        "Pingora CVE-2026-2833 (RUSTSEC-2026-0033); Envoy CVE-2025-64763",
        "Pingora < 0.8.0 forwarded the bytes after an Upgrade request before the 101",
        early,
    ));
    cases.push(case(
        "tunnel.unoffered-token",
        "the upstream answers 101 naming a token the client did not offer: the proxy does not switch",
        Level::Must,
        "RFC 9110 §7.8: a server \"MUST NOT switch to a protocol that was not indicated by the client\"",
        "nginx checks only the status code of the answer",
        upgrade(Answer::OtherToken),
    ));
    let mut h2c = upgrade(Answer::Switch);
    h2c.ask = Ask::H2c;
    cases.push(case(
        "tunnel.h2c-not-forwarded",
        "Upgrade: h2c with HTTP2-Settings is not forwarded",
        Level::Must,
        "RFC 9110 §7.6.1; h2c smuggling (Bishop Fox 2020), golang/go#80416, traefik#9341",
        "proxies that forward Upgrade: h2c let a client speak HTTP/2 to the backend past every rule",
        h2c,
    ));
    let mut connect = upgrade(Answer::Refuse(403));
    connect.ask = Ask::Connect;
    connect.early = Early::Pipelined;
    cases.push(case(
        "tunnel.connect-refused-early-data",
        "a refused CONNECT: the bytes sent with it are neither forwarded nor parsed as a request, and no 2xx comes",
        Level::Must,
        "RFC 9110 §9.3.6; Envoy CVE-2025-64763",
        "Envoy forwarded early data on a CONNECT before the 2xx",
        connect,
    ));
    cases.push(case(
        "tunnel.http10-no-switch",
        "an HTTP/1.0 request with Upgrade through the proxy never becomes a tunnel",
        Level::Must,
        "RFC 9110 §7.8: \"A server MUST ignore an Upgrade header field that is received in an HTTP/1.0 request\"",
        "",
        upgrade(Answer::Switch),
    ));
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
