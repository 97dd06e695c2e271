//! Does the target speak the protocol at all? One plain request of the protocol
//! (no body, no early bytes), sent once before the cases: a target that answers
//! it without switching (a proxy that strips `Upgrade` and an upstream that
//! answers 426; a server on the wrong path answering 404), or that closes
//! without an answer, does not speak the cases' protocol, and every case is
//! `unsupported` with that reason instead of `fail` on every case.
//!
//! Anything else (a switch, garbage, silence) lets the cases run and judge: a
//! server that answers nothing or garbage to an upgrade is broken, not foreign.
//!
//! After a switch, the probe sends one plain message (a frame, for WebSocket),
//! as every client of the protocol would. A WebSocket server that keeps the
//! connection open (or closes it with a Close frame) and echoes none of it does
//! not echo at all (one that binds a connection without
//! `Sec-WebSocket-Protocol` to a protocol of its own, one that wants an
//! `Origin`): every case judges the hand-over by the echo, so every case is
//! `unsupported`, with one note that says what came back and what to try
//! (`--subprotocol`, `--header`). A server that closes or resets the connection
//! instead is broken, and the cases judge it; so is a raw echo server that
//! echoes nothing of it (losing the first bytes after the hand-over is the bug
//! the cases are there to find).

use crate::oracle::black_box::Expect;
use crate::oracle::preview;
use crate::reference::head;
use crate::results::Outcome;
use crate::scenario::{Payload, Scenario};
use crate::suite::{Case, Level, Proto, Sides};
use crate::websocket::OpCode;
use crate::wire::{Direction, Event, Trace};

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
            _ => {
                let mut scenario = Scenario::basic();
                scenario.client.late = Payload::noise(PLAIN_MESSAGE, 29);
                scenario
            }
        },
    }
}

/// The length of the plain message the probe sends after a switch.
const PLAIN_MESSAGE: usize = 16;

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
    let prepared = super::prepare::prepare(target, &case, opts).await.ok()?;
    let plan = plan::plan(&case, &prepared.target, prepared.exec.as_deref()).ok();
    let conversation = match &plan {
        Some(plan) => converse(&prepared.target, plan, &case.scenario, opts)
            .await
            .ok(),
        None => None,
    };
    prepared.release(opts.timeout);
    let (plan, conversation) = (plan?, conversation?);
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
    let (response, head_end) = head::parse_final_response(&s2c).ok()??;
    let switched = match plan.expect {
        Expect::Connect => (200..300).contains(&response.status),
        // An attach endpoint may speak only the older explicit hijack (200).
        _ if target.protocol == Proto::Docker => response.status == 101 || response.status == 200,
        _ => response.status == 101,
    };
    // Over WebSocket only: a raw echo server that loses the first bytes after
    // its hand-over (node-http-proxy#473) looks the same, and is broken.
    if switched && !target.proxy && plan.websocket_key.is_some() {
        let trace = &conversation.trace;
        let after = &s2c[head_end..];
        // What came back of the message. Over WebSocket, frames of the
        // server's own around it are fine (a greeting), the message's first
        // bytes must be there; over a raw stream, any byte back is an echo
        // (a wrong one is for the cases to judge).
        let echoed = match plan.websocket_key {
            Some(_) => crate::websocket::decode_all(after, 16 << 20)
                .0
                .iter()
                .take_while(|f| f.frame.opcode != OpCode::Close)
                .filter(|f| !f.frame.opcode.is_control())
                .flat_map(|f| f.frame.payload.iter().copied())
                .collect(),
            None => after.to_vec(),
        };
        let start = &plan.expected_echo[..plan.expected_echo.len().min(4)];
        let echoes = match plan.websocket_key {
            Some(_) => echoed.windows(start.len().max(1)).any(|w| w == start),
            None => !echoed.is_empty(),
        };
        // A WebSocket server that answers the message with a Close frame,
        // before the client closed, closed the protocol itself, on purpose.
        let early = server_bytes_before_client_fin(trace);
        let closed_on_purpose = plan.websocket_key.is_some()
            && crate::websocket::decode_all(early.get(head_end..).unwrap_or_default(), 16 << 20)
                .0
                .iter()
                .any(|f| f.frame.opcode == OpCode::Close);
        if !echoes && !plan.expected_echo.is_empty() && (closed_on_purpose || !closed_first(trace))
        {
            return Some((
                Outcome::Unsupported,
                does_not_echo(target, &asked, &response, after, plan.expected_echo.len()),
            ));
        }
    }
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

/// What the server sent before the client's FIN (all of it, without one).
fn server_bytes_before_client_fin(trace: &Trace) -> Vec<u8> {
    let mut out = Vec::new();
    for event in &trace.events {
        match event {
            Event::Fin {
                dir: Direction::ClientToServer,
                ..
            } => break,
            Event::Segment {
                dir: Direction::ServerToClient,
                bytes,
                ..
            } => out.extend_from_slice(bytes),
            _ => {}
        }
    }
    out
}

/// Whether the server closed or reset the connection before the client
/// closed its write half: a broken hand-over, for the cases to judge.
fn closed_first(trace: &Trace) -> bool {
    let server_end = trace.events.iter().position(|e| match e {
        Event::Fin { dir, .. } => *dir == Direction::ServerToClient,
        Event::Reset { .. } => true,
        _ => false,
    });
    let client_end = trace.fin(Direction::ClientToServer).map(|(at, _)| at);
    match (server_end, client_end) {
        (Some(server), Some(client)) => server < client,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// The note of a target that switched and echoed nothing of the plain message
/// (`sent` bytes) sent after its answer: what came back instead, what to try.
fn does_not_echo(
    target: &ServerTarget,
    asked: &str,
    response: &head::ResponseHead,
    after: &[u8],
    sent: usize,
) -> String {
    let came_back = if target.protocol == Proto::WebSocket {
        let (frames, _) = crate::websocket::decode_all(after, 16 << 20);
        let described: Vec<String> = frames
            .iter()
            .map(|f| match f.frame.opcode {
                OpCode::Close => {
                    let code = f
                        .frame
                        .payload
                        .get(..2)
                        .map(|c| u16::from_be_bytes([c[0], c[1]]));
                    match code {
                        Some(code) => format!("a Close frame (code {code})"),
                        None => "a Close frame".into(),
                    }
                }
                op => format!(
                    "a {op:?} frame of its own ({})",
                    preview(&f.frame.payload, 30)
                ),
            })
            .collect();
        if described.is_empty() {
            "nothing came back".to_string()
        } else {
            format!("it sent {} instead", described.join(", "))
        }
    } else if after.is_empty() {
        "nothing came back".to_string()
    } else {
        format!("it sent {} instead", preview(after, 40))
    };
    let hint = match (&target.protocol, &target.subprotocol) {
        (Proto::WebSocket, None) => {
            "; a server that binds a connection without `Sec-WebSocket-Protocol` to a protocol of its own \
             needs --subprotocol NAME, and one that wants an `Origin` or a token --header 'Name: value'"
                .to_string()
        }
        (Proto::WebSocket, Some(name)) => format!(
            " (with `Sec-WebSocket-Protocol: {name}`); check the endpoint's path (--path) and any header it \
             wants (--header 'Name: value')"
        ),
        _ => "; check the endpoint's path (--path) and any header it wants (--header 'Name: value')".into(),
    };
    format!(
        "the endpoint does not echo: it answered {asked} with {} {}, and sent back none of a plain {} \
         sent after it ({}); every case judges the hand-over by the echo, so none can be judged here{hint}",
        response.status,
        response.reason,
        match target.protocol {
            Proto::WebSocket => format!("{sent}-byte message in a binary frame"),
            _ => format!("{sent}-byte message"),
        },
        came_back
    )
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
