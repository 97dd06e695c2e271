//! Does the target speak the protocol at all? One plain request of the protocol
//! (no body, no early bytes), sent once before the cases: a target that answers
//! it without switching (a proxy that strips `Upgrade` and an upstream that
//! answers 426; a server on the wrong path answering 404), or that closes
//! without an answer, does not speak the cases' protocol, and every case is
//! `unsupported` with that reason instead of `fail` on every case.
//!
//! Anything else (a switch, garbage, silence) lets the cases run and judge: a
//! server that answers nothing or garbage to an upgrade is broken, not foreign.

use crate::oracle::black_box::Expect;
use crate::oracle::preview;
use crate::reference::head;
use crate::report::Outcome;
use crate::scenario::Scenario;
use crate::suite::{Case, Level, Proto, Sides};
use crate::wire::Direction;

use super::super::Options;
use super::ServerTarget;
use super::plan;
use super::script::converse;

/// The plain request of the target's protocol, as a case.
fn probe_case(protocol: Proto) -> Case {
    Case {
        id: "probe.plain-upgrade",
        title: "a plain request of the protocol, to see whether the target speaks it",
        level: Level::Must,
        spec: "",
        bug: "",
        sides: Sides::SERVER,
        protocols: match protocol {
            Proto::Echo => &[Proto::Echo],
            Proto::WebSocket => &[Proto::WebSocket],
            Proto::Docker => &[Proto::Docker],
            Proto::Connect => &[Proto::Connect],
        },
        scenario: match protocol {
            Proto::Connect => Scenario {
                handshake: crate::scenario::Handshake::Connect,
                ..Scenario::basic()
            },
            _ => Scenario::basic(),
        },
    }
}

/// Whether `answer` starts like a TLS record (an alert or a handshake, any
/// TLS version): what a TLS server sends back to plaintext.
fn looks_like_tls(answer: &[u8]) -> bool {
    matches!(answer, [0x15 | 0x16, 0x03, 0x00..=0x04, ..])
}

/// Why `target` cannot be tested as it was given, and the outcome that gives
/// every case: `unsupported` when it does not speak its protocol, `error` when
/// it speaks TLS and the run does not. `None` when it does (or when only the
/// cases can tell).
pub(super) async fn does_not_speak(
    target: &ServerTarget,
    opts: &Options,
) -> Option<(Outcome, String)> {
    let case = probe_case(target.protocol);
    let exec = super::script::exec_for(target, &case, opts).await.ok()?;
    let plan = plan::plan(&case, target, exec.as_deref()).ok()?;
    let conversation = converse(target, &plan, &case.scenario, opts).await.ok()?;
    let s2c = conversation.trace.stream(Direction::ServerToClient);
    let c2s = conversation.trace.stream(Direction::ClientToServer);
    let line = c2s
        .windows(2)
        .position(|w| w == b"\r\n")
        .map_or(&c2s[..0], |end| &c2s[..end]);
    let asked = format!(
        "a plain {}{}",
        preview(line, 80),
        match target.protocol {
            Proto::Connect => String::new(),
            p => format!(" asking for the {} protocol", p.as_str()),
        }
    );
    let who = if target.proxy {
        "the proxy"
    } else {
        "the target"
    };
    if target.tls.is_none() && looks_like_tls(&s2c) {
        return Some((
            Outcome::Error,
            format!(
                "{who} answered {asked} with a TLS record ({}): it speaks TLS on this port; run with --tls \
                 (or tls://, wss://)",
                preview(&s2c[..s2c.len().min(7)], 40)
            ),
        ));
    }
    if s2c.is_empty() && conversation.trace.fin(Direction::ServerToClient).is_some() {
        return Some((
            Outcome::Unsupported,
            format!(
                "{who} does not speak {}: it closed the connection without an answer to {asked}",
                target.protocol.as_str()
            ),
        ));
    }
    let (response, _) = head::parse_final_response(&s2c).ok()??;
    let switched = match plan.expect {
        Expect::Connect => (200..300).contains(&response.status),
        // An attach endpoint may speak only the older explicit hijack (200).
        _ if target.protocol == Proto::Docker => response.status == 101 || response.status == 200,
        _ => response.status == 101,
    };
    (!switched).then(|| {
        (
            Outcome::Unsupported,
            format!(
                "{who} does not speak {}: it answered {asked} with {} {}",
                target.protocol.as_str(),
                response.status,
                response.reason
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::looks_like_tls;

    #[test]
    fn tls_records_are_told_from_http() {
        // What rustls sends to a plaintext request: a fatal alert, TLS 1.2 framing.
        assert!(looks_like_tls(b"\x15\x03\x03\x00\x02\x02\x32"));
        assert!(looks_like_tls(b"\x16\x03\x01\x00\x05"));
        assert!(!looks_like_tls(b"HTTP/1.1 400 Bad Request\r\n"));
        assert!(!looks_like_tls(b"\x15\x03"));
    }
}
