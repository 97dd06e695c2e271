//! One generated case: what each side sends, where the wire cuts it, how big the
//! library's buffers are, and who half-closes.
//!
//! A scenario is plain data. It says *what* happens; [`crate::check`] makes it
//! happen over a wire, and [`crate::oracle`] judges it. The same type is built by
//! the `proptest` strategy ([`scenario`]) and, for fuzzing, by `arbitrary`, so a
//! counterexample from either replays in the other.
//!
//! Payloads are described, not stored ([`Payload`]): a length and a seed. That
//! keeps shrinking fast (it shrinks two numbers, not a byte vector) and makes every
//! byte of every payload different from the bytes of the others, so a byte that
//! shows up in the wrong place can be traced back to where it came from.

mod choices;
mod heads;
mod messages;
mod payload;
mod prepared;
pub mod proxy;
mod strategy;
pub mod summary;
pub mod websocket;

pub use choices::{AnswerWriter, BodyRead};
pub use messages::Messages;
pub use payload::{Fill, Payload, Role};
pub(crate) use prepared::Prepared;
pub use strategy::{body_read, extra_headers, payload, payload_len, read_chunk, scenario};

/// The largest payload a scenario carries (over 64 KiB, the largest common read buffer).
pub const MAX_PAYLOAD: usize = 70_000;

/// How the client asks for the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Handshake {
    /// `Connection: Upgrade` + `Upgrade: <protocol>`, answered by `101`.
    Upgrade(Protocol),
    /// `CONNECT host:port`, answered by a `2xx`.
    Connect,
    /// Docker's older attach: `200 OK` with `application/vnd.docker.raw-stream`, then
    /// the application hijacks explicitly (Go's `Hijacker`, `ClientConn.Hijack`).
    Explicit,
}

/// The token in the `Upgrade` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// `echo`: the harness's own black-box protocol.
    Echo,
    /// `websocket` (the handshake's key headers are extra headers here).
    WebSocket,
    /// `tcp`: Docker's attach and exec.
    Tcp,
}

impl Protocol {
    /// The `Upgrade` token.
    pub fn token(self) -> &'static str {
        match self {
            Protocol::Echo => "echo",
            Protocol::WebSocket => "websocket",
            Protocol::Tcp => "tcp",
        }
    }
}

/// The request body and how it is framed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Body {
    /// No body, no framing headers.
    None,
    /// `Content-Length`.
    Length(Payload),
    /// `Transfer-Encoding: chunked`; no chunks is the empty body `0\r\n\r\n`.
    Chunked(Vec<Payload>),
}

impl Body {
    /// The payload's length (chunks together, framing left out).
    pub fn len(&self) -> usize {
        match self {
            Body::None => 0,
            Body::Length(p) => p.len.min(MAX_PAYLOAD),
            Body::Chunked(chunks) => chunks.iter().map(|c| c.len.min(MAX_PAYLOAD)).sum(),
        }
    }

    /// Whether the payload is empty (the framing may still be there: `0\r\n\r\n`).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the framing announces content: a `Content-Length` above zero, or
    /// chunking (whose last chunk is content too, even with no data before it).
    pub fn has_content(&self) -> bool {
        match self {
            Body::None => false,
            Body::Length(p) => p.len > 0,
            Body::Chunked(_) => true,
        }
    }
}

/// How the server answers the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Answer {
    /// Switch protocols (`101`, or `200` to `CONNECT`, or the explicit hijack's `200`).
    Accept,
    /// Do not switch: answer with this status and a short body. The client's early
    /// bytes are then a pipelined request, which must be served as HTTP.
    Refuse(u16),
}

/// When the server application writes its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FirstWrite {
    /// Into the library's buffer with the response head, flushed together: one
    /// segment carries the head and the first frame (a MUST for clients to handle).
    WithHead,
    /// Into the library's buffer after the head was flushed, not flushed before the
    /// hijack: they must still precede everything written later.
    Unflushed,
    /// Through the hijacked stream, first thing.
    AfterHijack,
}

/// What the server application does with the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerApp {
    /// Echo every byte until EOF, then shut down the write half.
    Echo,
    /// Shut down the write half at once, then read until EOF: the read half must keep working.
    CloseWriteFirst,
}

/// A cut point, resolved against the stream it cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cut {
    /// At a landmark, moved by a few bytes.
    At(Landmark, i8),
    /// At an offset, taken modulo the stream's length.
    Offset(u32),
}

/// A place in a stream where cuts find bugs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Landmark {
    /// The end of the (last) head.
    HeadEnd,
    /// The end of the message (head and body).
    MessageEnd,
    /// The end of the bytes sent before the answer (client early bytes, server first bytes).
    EarlyEnd,
}

/// The client's part.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientScript {
    /// Sent right after the request, before the answer (coalesced with it unless cut).
    pub early: Payload,
    /// Sent after the answer arrived.
    pub late: Payload,
    /// Whether the client shuts down its write half after `late`.
    pub half_close: bool,
    /// The client library's read size.
    pub read_chunk: usize,
    /// The scripted client (server-side runs), with `Expect: 100-continue`: it
    /// sends the head alone and waits for the first answer (the `100`, or a final
    /// one) before it sends the body and the early bytes, as Apache's mod_proxy
    /// and curl do.
    pub waits_for_continue: bool,
    /// The client application (client-side runs) writes `early` right after the
    /// request, before the answer arrives: an optimistic upgrade
    /// (draft-ietf-httpbis-optimistic-upgrade). Otherwise it writes nothing before
    /// the hand-over.
    pub optimistic: bool,
}

/// The server's part.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerScript {
    /// The application's first bytes.
    pub first: Payload,
    /// When it writes them.
    pub first_write: FirstWrite,
    /// What it does after.
    pub app: ServerApp,
    /// The server library's read size.
    pub read_chunk: usize,
    /// How much of the request body the application reads before it answers.
    pub body_read: BodyRead,
    /// Who writes the answer.
    pub writer: AnswerWriter,
}

/// One generated case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scenario {
    /// How the client asks.
    pub handshake: Handshake,
    /// Extra request headers (valid, unrelated to framing or upgrading).
    pub request_headers: Vec<(String, String)>,
    /// The request body.
    pub body: Body,
    /// Whether the request carries `Expect: 100-continue`.
    pub expect_continue: bool,
    /// How the server answers.
    pub answer: Answer,
    /// Whether the server sends `100 Continue` before its final answer.
    pub interim_continue: bool,
    /// Extra response headers.
    pub response_headers: Vec<(String, String)>,
    /// The client's part.
    pub client: ClientScript,
    /// The server's part.
    pub server: ServerScript,
    /// Cuts in the client-to-server stream.
    pub client_cuts: Vec<Cut>,
    /// Cuts in the server-to-client stream.
    pub server_cuts: Vec<Cut>,
}

/// The lengths of what each side sends ([`Messages::sizes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// The request head.
    pub request_head: usize,
    /// The request message, head and framed body.
    pub request: usize,
    /// The client's early bytes.
    pub early: usize,
    /// The client's late bytes.
    pub late: usize,
    /// The response up to the end of the final head (interim response included).
    pub response_head: usize,
    /// The response message (with a refusal's body).
    pub response: usize,
    /// The server application's first bytes.
    pub first: usize,
}

/// The pipelined request a client sends after a refused upgrade.
pub const NEXT_REQUEST: &[u8] = b"GET /next HTTP/1.1\r\nHost: example.test\r\n\r\n";

/// The body of a refusal.
pub const REFUSAL_BODY: &[u8] = b"refused";

/// The media type of Docker's raw attach stream (the answer of
/// [`Handshake::Explicit`]).
pub const RAW_STREAM: &str = "application/vnd.docker.raw-stream";

impl Scenario {
    /// A minimal upgrade with no early bytes, for tests to modify.
    pub fn basic() -> Self {
        Scenario {
            handshake: Handshake::Upgrade(Protocol::Echo),
            request_headers: Vec::new(),
            body: Body::None,
            expect_continue: false,
            answer: Answer::Accept,
            interim_continue: false,
            response_headers: Vec::new(),
            client: ClientScript {
                early: Payload::EMPTY,
                late: Payload::EMPTY,
                half_close: true,
                read_chunk: 4096,
                waits_for_continue: false,
                optimistic: false,
            },
            server: ServerScript {
                first: Payload::EMPTY,
                first_write: FirstWrite::AfterHijack,
                app: ServerApp::Echo,
                read_chunk: 4096,
                body_read: BodyRead::All,
                writer: AnswerWriter::Library,
            },
            client_cuts: Vec::new(),
            server_cuts: Vec::new(),
        }
    }

    /// The same case, with the combinations that cannot happen made valid, and
    /// each choice in its one form:
    ///
    /// * a `CONNECT` has no body (RFC 9110 §9.3.6: "A CONNECT request message does
    ///   not have content"), and a refused `CONNECT` is not a `2xx` (which would
    ///   accept it);
    /// * `Expect: 100-continue` gets its `100 Continue`, and only a client that
    ///   sent it waits for it;
    /// * a refusal keeps the connection HTTP: its handler reads the whole body and
    ///   answers through the library, and no client writes optimistically to it;
    /// * an application that writes the answer itself writes its first bytes after
    ///   it, and sends no `100` unasked;
    /// * how much of the body is read is said one way ([`BodyRead::normalized`]).
    pub fn normalized(mut self) -> Self {
        if self.handshake == Handshake::Connect {
            self.body = Body::None;
            if let Answer::Refuse(status) = self.answer
                && (200..300).contains(&status)
            {
                self.answer = Answer::Refuse(403);
            }
        }
        if let Answer::Refuse(status) = self.answer
            && (100..200).contains(&status)
        {
            self.answer = Answer::Refuse(400);
        }
        if !self.accepted() {
            self.server.body_read = BodyRead::All;
            self.server.writer = AnswerWriter::Library;
            self.client.optimistic = false;
        }
        if self.server.writer == AnswerWriter::Application {
            self.server.first_write = FirstWrite::AfterHijack;
            self.interim_continue = self.expect_continue;
        }
        self.interim_continue |= self.expect_continue;
        self.client.waits_for_continue &= self.expect_continue;
        self.server.body_read = self.server.body_read.normalized(self.body.len());
        self
    }

    /// The lengths of everything the peers send (a run that has its
    /// [`Messages`] reads them off those instead).
    pub fn sizes(&self) -> Sizes {
        self.messages().sizes()
    }

    /// Every message of this scenario ([`Messages::new`]).
    pub fn messages(&self) -> Messages {
        Messages::new(self)
    }

    /// Whether the request is a `CONNECT`.
    pub fn is_connect(&self) -> bool {
        self.handshake == Handshake::Connect
    }

    /// Whether the server switches protocols.
    pub fn accepted(&self) -> bool {
        self.answer == Answer::Accept
    }

    /// Resolves `cuts` against a stream whose landmarks are at `head`, `message`,
    /// `early` and that is `total` bytes long.
    pub fn resolve_cuts(
        cuts: &[Cut],
        head: usize,
        message: usize,
        early: usize,
        total: usize,
    ) -> Vec<usize> {
        let mut out: Vec<usize> = cuts
            .iter()
            .map(|cut| match *cut {
                Cut::At(landmark, delta) => {
                    let base = match landmark {
                        Landmark::HeadEnd => head,
                        Landmark::MessageEnd => message,
                        Landmark::EarlyEnd => early,
                    };
                    base.saturating_add_signed(isize::from(delta))
                }
                Cut::Offset(n) => n as usize % (total + 1),
            })
            .filter(|&at| at > 0 && at <= total)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::head::request_message_len;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn generated_requests_parse_back(s in scenario()) {
            let (message, head_len) = s.request_message();
            let (head, len) = request_message_len(&message).unwrap().unwrap();
            prop_assert_eq!(len, message.len());
            prop_assert_eq!(head, s.request_head());
            prop_assert!(head_len <= len);
        }
    }

    proptest! {
        #[test]
        fn sizes_match_the_bytes(s in scenario()) {
            let sizes = s.sizes();
            let (request, head) = s.request_message();
            let (response, response_head) = s.response_message();
            prop_assert_eq!(sizes.request_head, head);
            prop_assert_eq!(sizes.request, request.len());
            prop_assert_eq!(sizes.early, s.client_early().len());
            prop_assert_eq!(sizes.late, s.client_late().len());
            prop_assert_eq!(sizes.response_head, response_head);
            prop_assert_eq!(sizes.response, response.len());
            prop_assert_eq!(sizes.first, s.server_first().len());
        }
    }
}
