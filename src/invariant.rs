//! The invariant's vocabulary, shared by every floor above: its points
//! ([`Point`]) and how binding a sentence is ([`Level`]).
//!
//! The invariant itself, point by point, is `docs/src/invariant.md`. A case
//! (in `suite`) says at what level it checks; a subject's mutants and the
//! known findings say which points they break; the oracle says which points a
//! run broke, each at the level of the sentence it breaks. All of them speak
//! these two types, so they live at the bottom, below all of them.

use std::fmt;

/// How binding a requirement is: a case's, or the sentence a violation breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// A MUST of the spec: a miss is a failure.
    Must,
    /// A SHOULD, or what robust peers do: a miss is "non-strict".
    Should,
}

impl Level {
    /// `MUST` or `SHOULD`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
        }
    }
}

/// A point of the invariant (`docs/src/invariant.md`), plus the handshake that precedes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Point {
    /// 1. The server application reads exactly the bytes the client sent after the request, then EOF iff the client closed.
    ServerRead,
    /// 2. The client application reads exactly the bytes the server sent after the response head.
    ClientRead,
    /// 3. Writes before the hijack precede writes after it; the head is complete before the new protocol.
    WriteOrder,
    /// 4. After the hijack the library writes nothing and does not close the connection.
    Ownership,
    /// 5. Shutting down the write half sends FIN and leaves the read half working.
    HalfClose,
    /// 6. Without a 101 (or 2xx to CONNECT) nothing is handed over.
    NoFalseUpgrade,
    /// The HTTP exchange before the hand-over went wrong (no answer, wrong status, body mangled).
    Handshake,
    /// Messages: the peer's data messages reach the application exactly once,
    /// in order (points 1 and 2 over a protocol of messages, e.g. WebSocket).
    Delivery,
    /// Messages: the peer's close reaches the application after its data.
    Close,
    /// Messages: the application's messages reach the wire, in order (point 3).
    Writes,
    /// Messages: the library writes nothing but the application's messages and
    /// its protocol duties (point 4 over messages).
    MessageOwnership,
    /// Messages: the subject's frames are valid for its role.
    Framing,
    /// Proxy: the upstream's answer (or the proxy's own) reaches the client.
    TunnelAnswer,
    /// Proxy: nothing the client sent after its request reaches the upstream
    /// before the upstream's answer.
    TunnelEarly,
    /// Proxy: after a refusal nothing crosses as tunnel data, either way.
    TunnelRefused,
    /// Proxy: a `101` is relayed only for a token the client offered.
    TunnelToken,
    /// Proxy: hop-by-hop upgrades (`h2c`) are not passed on.
    TunnelHopByHop,
    /// Proxy: inside the tunnel every byte crosses once, in order, and a FIN as a FIN.
    TunnelRelay,
}

impl Point {
    /// The point's number in `docs/src/invariant.md` (0 for the handshake and
    /// the message-level points, which restate the numbered ones over messages).
    pub fn number(self) -> u8 {
        match self {
            Point::ServerRead => 1,
            Point::ClientRead => 2,
            Point::WriteOrder => 3,
            Point::Ownership => 4,
            Point::HalfClose => 5,
            Point::NoFalseUpgrade => 6,
            Point::Handshake
            | Point::Delivery
            | Point::Close
            | Point::Writes
            | Point::MessageOwnership
            | Point::Framing
            | Point::TunnelAnswer
            | Point::TunnelEarly
            | Point::TunnelRefused
            | Point::TunnelToken
            | Point::TunnelHopByHop
            | Point::TunnelRelay => 0,
        }
    }

    /// The point's short title.
    pub fn title(self) -> &'static str {
        match self {
            Point::ServerRead => "read side, server",
            Point::ClientRead => "read side, client",
            Point::WriteOrder => "write side",
            Point::Ownership => "ownership",
            Point::HalfClose => "half-close",
            Point::NoFalseUpgrade => "no false upgrade",
            Point::Handshake => "handshake",
            Point::Delivery => "delivery",
            Point::Close => "close",
            Point::Writes => "writes",
            Point::MessageOwnership => "ownership",
            Point::Framing => "framing",
            Point::TunnelAnswer => "proxy answer",
            Point::TunnelEarly => "nothing crosses early",
            Point::TunnelRefused => "no tunnel after a refusal",
            Point::TunnelToken => "only an offered protocol",
            Point::TunnelHopByHop => "hop-by-hop not forwarded",
            Point::TunnelRelay => "tunnel relay",
        }
    }
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.number() {
            0 => write!(f, "{}", self.title()),
            n => write!(f, "point {n} ({})", self.title()),
        }
    }
}
