//! What a scripted client's request is made of, for every protocol: the
//! [`Request`] a protocol module ([`super::echo`], [`super::docker`],
//! [`super::connect`](mod@super::connect), [`super::websocket`]) shapes, the
//! [`Plan`] that [`super::plan`] makes of it, and the pieces a head is built from.

use bytes::Bytes;

use crate::oracle::black_box::{Expect, RequestShape, UNKNOWN_TOKEN};
use crate::reference::head::{Header, RequestHead};
use crate::scenario::Handshake;
use crate::suite::Level;

/// What the scripted client sends for one case, and what the echo must carry.
pub(super) struct Plan {
    /// The request message: head and framed body.
    pub message: Bytes,
    /// How the message is laid out (for naming echoed parts of it).
    pub shape: RequestShape,
    /// Sent with the request, in the same write.
    pub early: Bytes,
    /// Sent once the answer switched.
    pub late: Bytes,
    /// Sent to close the new protocol (a WebSocket close frame), before any FIN.
    pub closing: Bytes,
    /// What answer hands the connection over.
    pub expect: Expect,
    /// The payload the echo must carry back.
    pub expected_echo: Vec<u8>,
    /// For WebSocket: the key sent, to check `Sec-WebSocket-Accept` against.
    pub websocket_key: Option<String>,
    /// The case's level for this target (WebSocket early frames are a SHOULD).
    pub level: Level,
    /// Context for the report.
    pub notes: Vec<String>,
    /// Whether the client closes its write half.
    pub half_close: bool,
    /// Whether the client's closing follows its data at once (the half-close
    /// cases), instead of after the echo of everything it sent.
    pub at_once: bool,
    /// Whether the client sends the request head alone and waits (bounded) for
    /// `100 Continue`, or any answer, before the body and the early bytes, as
    /// curl and Apache's mod_proxy do.
    pub waits_for_continue: bool,
    /// Whether this is a half-close case through an intermediary, where a broken
    /// half-close is a SHOULD ([`TUNNEL_HALF_CLOSE`](super::plan::TUNNEL_HALF_CLOSE)).
    pub tunnel_half_close: bool,
    /// Whether the echo comes back `stdcopy`-multiplexed (a Docker Engine
    /// endpoint without a TTY): it is demultiplexed before it is compared.
    pub multiplexed: bool,
}

/// The request, as a protocol module shapes it.
pub(super) struct Request {
    /// The head, to which [`plan`](super::plan::plan) adds the body framing the scenario asks for.
    pub head: RequestHead,
    /// What answer hands the connection over.
    pub expect: Expect,
}

/// The default request target of a protocol.
pub(super) fn path_or(path: Option<String>, default: &str) -> String {
    path.unwrap_or_else(|| default.to_string())
}

/// A head with `method` and `target` and no fields yet.
pub(super) fn head(method: &str, target: String) -> RequestHead {
    RequestHead {
        method: method.into(),
        target,
        headers: Vec::new(),
    }
}

/// Adds `Connection: Upgrade` and `Upgrade: token` (or the unknown token for a refusal).
pub(super) fn upgrade(head: &mut RequestHead, token: &str, refused: bool) {
    head.headers.push(Header::new("Connection", "Upgrade"));
    head.headers.push(Header::new(
        "Upgrade",
        if refused { UNKNOWN_TOKEN } else { token },
    ));
}

/// The expectation for an upgrade (or its refusal).
pub(super) fn upgrade_expect(refused: bool) -> Expect {
    if refused {
        Expect::Refusal
    } else {
        Expect::Upgrade
    }
}

/// Cases whose handshake is Docker's explicit hijack apply to Docker only.
pub(super) fn explicit_needs_docker(handshake: Handshake) -> Result<(), String> {
    if handshake == Handshake::Explicit {
        return Err("needs Docker's explicit hijack".into());
    }
    Ok(())
}
