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

/// Why `target` does not speak its protocol, or `None` when it does (or when
/// only the cases can tell).
pub(super) async fn does_not_speak(target: &ServerTarget, opts: &Options) -> Option<String> {
    let case = probe_case(target.protocol);
    let plan = plan::plan(&case, target).ok()?;
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
    if s2c.is_empty() && conversation.trace.fin(Direction::ServerToClient).is_some() {
        return Some(format!(
            "{who} does not speak {}: it closed the connection without an answer to {asked}",
            target.protocol.as_str()
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
        format!(
            "{who} does not speak {}: it answered {asked} with {} {}",
            target.protocol.as_str(),
            response.status,
            response.reason
        )
    })
}
