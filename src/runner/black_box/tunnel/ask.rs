//! A tunnel case's bytes, spoken to a real proxy in front of the harness's
//! upstream: the in-process case asks for `Upgrade: websocket` on behalf of
//! `upstream.test`, and `CONNECT upstream.test:443`; a black-box run asks
//!
//! * for the token of the run's protocol where a proxy may filter on it: a
//!   proxy configured for Docker forwards `Upgrade: tcp` only, so a
//!   `--protocol docker` run offers (and its upstream answers) `tcp`; echo and
//!   WebSocket runs offer `websocket`, what a proxy configured the usual way
//!   forwards ([`OFFERED`]);
//! * through a forward proxy (`--via connect`), the upgrade in absolute form
//!   (`GET http://UPSTREAM/chat`), so that the proxy knows where to go;
//! * `CONNECT` to the target the run chose: a closed port of the harness's
//!   own, or the `--connect-denied` target (a proxy with the harness's upstream
//!   as its next hop forwards the `CONNECT` there whatever its target).
//!
//! The oracle compares what crossed with these bytes, so they are what the
//! scripted peers send and what the verdict reads ([`ProxyBytes`]).

use crate::scenario::proxy::{Ask, HOST, OFFERED, ProxyBytes, ProxyScenario};
use crate::suite::Proto;

/// How a run asks the proxy for each case.
#[derive(Debug, Clone)]
pub(super) struct Asking {
    /// The token offered instead of [`OFFERED`], if another.
    pub token: Option<&'static str>,
    /// The upstream's authority, for a request in absolute form (`--via connect`).
    pub absolute: Option<String>,
}

impl Asking {
    /// How a run of `protocol` (`Connect`: `--via connect`) with its upstream at
    /// `upstream` asks.
    pub(super) fn new(protocol: Proto, upstream: &str) -> Asking {
        Asking {
            token: (protocol == Proto::Docker).then_some("tcp"),
            absolute: (protocol == Proto::Connect).then(|| upstream.to_string()),
        }
    }

    /// The bytes of `scenario` as this run sends them, a `CONNECT` going to `target`.
    pub(super) fn bytes(&self, scenario: &ProxyScenario, target: &str) -> ProxyBytes {
        let mut bytes = scenario.bytes();
        if let Some(token) = self.token {
            let (from, to) = (
                format!("Upgrade: {OFFERED}\r\n"),
                format!("Upgrade: {token}\r\n"),
            );
            bytes.request = replace(&bytes.request, &from, &to);
            let head = replace(&bytes.answer[..bytes.answer_head], &from, &to);
            bytes.answer = [&head[..], &bytes.answer[bytes.answer_head..]].concat();
            bytes.answer_head = head.len();
        }
        if scenario.ask == Ask::Connect {
            bytes.request = replace(&bytes.request, &format!("{HOST}:443"), target);
        } else if let Some(upstream) = &self.absolute {
            let host = format!("Host: {upstream}\r\n");
            bytes.request = replace(&bytes.request, &format!("Host: {HOST}\r\n"), &host);
            bytes.request = absolute_form(&bytes.request, upstream);
        }
        bytes
    }
}

/// `bytes` with every `from` replaced by `to`.
fn replace(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let (from, to) = (from.as_bytes(), to.as_bytes());
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.starts_with(from) && !from.is_empty() {
            out.extend_from_slice(to);
            rest = &rest[from.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

/// The request line's origin-form target (`/chat`) as `http://AUTHORITY/chat`.
fn absolute_form(request: &[u8], authority: &str) -> Vec<u8> {
    match request.iter().position(|&b| b == b' ') {
        Some(space) if request.get(space + 1) == Some(&b'/') => {
            let scheme = format!("http://{authority}");
            [&request[..=space], scheme.as_bytes(), &request[space + 1..]].concat()
        }
        _ => request.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::tunnel;

    fn scenario(id: &str) -> ProxyScenario {
        tunnel::find(id).expect("a tunnel case").scenario
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    #[test]
    fn docker_asks_for_tcp_and_its_upstream_answers_tcp() {
        let asking = Asking::new(Proto::Docker, "127.0.0.1:9");
        let bytes = asking.bytes(&scenario("tunnel.refused-stays-http.426"), "-");
        assert!(text(&bytes.request).contains("Upgrade: tcp\r\n"));
        assert!(!text(&bytes.request).contains(OFFERED));
        let head = text(&bytes.answer[..bytes.answer_head]);
        assert!(head.starts_with("HTTP/1.1 426") && head.ends_with("\r\n\r\n"));
        assert!(head.contains("Upgrade: tcp\r\n"));
    }

    #[test]
    fn connect_goes_to_the_chosen_target_and_upgrades_through_a_forward_proxy_in_absolute_form() {
        let asking = Asking::new(Proto::Connect, "127.0.0.1:9");
        let connect = asking.bytes(
            &scenario("tunnel.connect-refused-early-data"),
            "127.0.0.1:7",
        );
        assert!(
            text(&connect.request)
                .starts_with("CONNECT 127.0.0.1:7 HTTP/1.1\r\nHost: 127.0.0.1:7\r\n")
        );
        let upgrade = asking.bytes(&scenario("tunnel.unoffered-token"), "-");
        assert!(
            text(&upgrade.request)
                .starts_with("GET http://127.0.0.1:9/chat HTTP/1.1\r\nHost: 127.0.0.1:9\r\n")
        );
        let plain = Asking::new(Proto::WebSocket, "127.0.0.1:9")
            .bytes(&scenario("tunnel.unoffered-token"), "-");
        assert_eq!(plain, scenario("tunnel.unoffered-token").bytes());
    }
}
