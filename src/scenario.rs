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

use bytes::Bytes;
use proptest::prelude::*;

use crate::reference::RequestBody;
use crate::reference::head::{Header, RequestHead, ResponseHead, encode_chunked};

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

/// What a payload looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fill {
    /// Bytes from a seeded generator, all 256 values.
    Noise(u8),
    /// Repeated `GET / HTTP/1.1` requests: new-protocol bytes that look like HTTP, to
    /// catch a library that parses what it should hand over.
    HttpLike,
}

/// A payload, described by its length and content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Payload {
    /// How many bytes.
    pub len: usize,
    /// What they look like.
    pub fill: Fill,
}

/// Which payload a byte belongs to; mixed into the generator so payloads differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The request body (or one chunk of it).
    Body(u8),
    /// The client's early bytes.
    Early,
    /// The client's late bytes.
    Late,
    /// The server application's first bytes.
    First,
}

impl Payload {
    /// No bytes.
    pub const EMPTY: Payload = Payload {
        len: 0,
        fill: Fill::Noise(0),
    };

    /// `len` noise bytes from `seed`.
    pub fn noise(len: usize, seed: u8) -> Self {
        Payload {
            len,
            fill: Fill::Noise(seed),
        }
    }

    /// The bytes, for the payload in `role`.
    ///
    /// A payload of length `n` is the first `n` bytes of an endless stream that
    /// depends only on the fill and the role, so the bytes come from a per-thread
    /// cache of those streams and are a zero-copy slice of it. A run asks for the
    /// same payload several times (cut resolution, the scripted peer, the handler,
    /// the oracle), and a fuzzer asks for similar ones millions of times; the cache
    /// makes that cost one generation, not one per call. The bytes are the same
    /// with or without the cache.
    pub fn bytes(&self, role: Role) -> Bytes {
        let len = self.len.min(MAX_PAYLOAD);
        let key = match self.fill {
            Fill::HttpLike => None,
            Fill::Noise(seed) => Some((seed, role.salt())),
        };
        STREAMS.with(|cache| {
            let mut cache = cache.borrow_mut();
            if let Some(stream) = cache.streams.get(&key)
                && stream.len() >= len
            {
                return stream.slice(..len);
            }
            // Generate a little more than asked (the next power of two), so that
            // growing lengths regenerate O(log n) times, not every time.
            let stream = generate(key, len.max(64).next_power_of_two().min(MAX_PAYLOAD));
            if cache.bytes + stream.len() > MAX_CACHED_BYTES {
                cache.streams.clear();
                cache.bytes = 0;
            }
            cache.bytes += stream.len();
            let out = stream.slice(..len);
            if let Some(old) = cache.streams.insert(key, stream) {
                cache.bytes -= old.len();
            }
            out
        })
    }
}

impl Role {
    fn salt(self) -> u32 {
        match self {
            Role::Body(i) => 0x100 + u32::from(i),
            Role::Early => 0x200,
            Role::Late => 0x300,
            Role::First => 0x400,
        }
    }
}

/// How many bytes of payload streams a thread keeps before it starts over.
const MAX_CACHED_BYTES: usize = 8 << 20;

/// Payload streams by `(seed, salt)`; `None` is the HTTP-like fill.
#[derive(Default)]
struct StreamCache {
    streams: std::collections::HashMap<Option<(u8, u32)>, Bytes>,
    bytes: usize,
}

thread_local! {
    static STREAMS: std::cell::RefCell<StreamCache> = std::cell::RefCell::default();
}

/// The first `len` bytes of the stream for `key` (see [`Payload::bytes`]).
fn generate(key: Option<(u8, u32)>, len: usize) -> Bytes {
    let mut out = vec![0u8; len];
    match key {
        None => {
            let pattern = b"GET / HTTP/1.1\r\nHost: smuggled\r\n\r\n";
            for chunk in out.chunks_mut(pattern.len()) {
                chunk.copy_from_slice(&pattern[..chunk.len()]);
            }
        }
        Some((seed, salt)) => {
            // xorshift32: cheap, and distinct per (seed, role).
            let mut x = (u32::from(seed) << 16 | salt) ^ 0x9E37_79B9;
            for byte in &mut out {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                *byte = (x >> 24) as u8;
            }
        }
    }
    out.into()
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

/// The pipelined request a client sends after a refused upgrade.
pub const NEXT_REQUEST: &[u8] = b"GET /next HTTP/1.1\r\nHost: example.test\r\n\r\n";

/// The body of a refusal.
pub const REFUSAL_BODY: &[u8] = b"refused";

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
            },
            server: ServerScript {
                first: Payload::EMPTY,
                first_write: FirstWrite::AfterHijack,
                app: ServerApp::Echo,
                read_chunk: 4096,
            },
            client_cuts: Vec::new(),
            server_cuts: Vec::new(),
        }
    }

    /// The same case, with the combinations that cannot happen made valid:
    /// a `CONNECT` has no body (RFC 9110 §9.3.6: "A CONNECT request message does
    /// not have content"), a refused `CONNECT` is not a `2xx` (which would accept it),
    /// and `Expect: 100-continue` gets its `100 Continue`.
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
        self.interim_continue |= self.expect_continue;
        self
    }

    /// Whether the request is a `CONNECT`.
    pub fn is_connect(&self) -> bool {
        self.handshake == Handshake::Connect
    }

    /// Whether the server switches protocols.
    pub fn accepted(&self) -> bool {
        self.answer == Answer::Accept
    }

    /// The request head the client sends.
    pub fn request_head(&self) -> RequestHead {
        let mut headers = vec![Header::new("Host", "example.test")];
        let (method, target) = match self.handshake {
            Handshake::Upgrade(protocol) => {
                headers.push(Header::new("Connection", "Upgrade"));
                headers.push(Header::new("Upgrade", protocol.token()));
                (
                    if self.body == Body::None {
                        "GET"
                    } else {
                        "POST"
                    },
                    "/upgrade",
                )
            }
            Handshake::Connect => ("CONNECT", "example.test:443"),
            Handshake::Explicit => (
                "POST",
                "/containers/c0ffee/attach?stream=1&stdin=1&stdout=1",
            ),
        };
        match &self.body {
            Body::None => {}
            Body::Length(payload) => headers.push(Header::new(
                "Content-Length",
                payload.len.min(MAX_PAYLOAD).to_string(),
            )),
            Body::Chunked(_) => headers.push(Header::new("Transfer-Encoding", "chunked")),
        }
        if self.expect_continue {
            headers.push(Header::new("Expect", "100-continue"));
        }
        headers.extend(
            self.request_headers
                .iter()
                .map(|(n, v)| Header::new(n.clone(), v.clone())),
        );
        RequestHead {
            method: method.into(),
            target: target.into(),
            headers,
        }
    }

    /// The request body as the client library sends it.
    pub fn request_body(&self) -> RequestBody {
        match &self.body {
            Body::None => RequestBody::Empty,
            Body::Length(payload) => RequestBody::Length(payload.bytes(Role::Body(0))),
            Body::Chunked(chunks) => RequestBody::Chunked(
                chunks
                    .iter()
                    .enumerate()
                    .map(|(i, c)| c.bytes(Role::Body(i as u8)))
                    .collect(),
            ),
        }
    }

    /// The whole request message (head and framed body), as the scripted client writes it.
    pub fn request_message(&self) -> (Bytes, usize) {
        let head = self.request_head().to_bytes();
        let head_len = head.len();
        let mut out = head.to_vec();
        match self.request_body() {
            RequestBody::Empty => {}
            RequestBody::Length(bytes) => out.extend_from_slice(&bytes),
            RequestBody::Chunked(chunks) => out.extend_from_slice(&encode_chunked(&chunks)),
        }
        (out.into(), head_len)
    }

    /// The bytes the client sends after the request and before the answer.
    pub fn client_early(&self) -> Bytes {
        match self.answer {
            Answer::Accept => self.client.early.bytes(Role::Early),
            Answer::Refuse(_) => Bytes::from_static(NEXT_REQUEST),
        }
    }

    /// The bytes the client sends once the answer arrived (only when accepted).
    pub fn client_late(&self) -> Bytes {
        match self.answer {
            Answer::Accept => self.client.late.bytes(Role::Late),
            Answer::Refuse(_) => Bytes::new(),
        }
    }

    /// The server application's first bytes.
    pub fn server_first(&self) -> Bytes {
        match self.answer {
            Answer::Accept => self.server.first.bytes(Role::First),
            Answer::Refuse(_) => Bytes::new(),
        }
    }

    /// The final response head the server's handler gives.
    pub fn response_head(&self) -> ResponseHead {
        let mut headers = Vec::new();
        let (status, reason) = match (self.answer, self.handshake) {
            (Answer::Refuse(status), _) => (status, reason_phrase(status)),
            (Answer::Accept, Handshake::Upgrade(protocol)) => {
                headers.push(Header::new("Connection", "Upgrade"));
                headers.push(Header::new("Upgrade", protocol.token()));
                (101, "Switching Protocols")
            }
            (Answer::Accept, Handshake::Connect) => (200, "Connection Established"),
            (Answer::Accept, Handshake::Explicit) => {
                headers.push(Header::new("Content-Type", crate::subject::app::RAW_STREAM));
                (200, "OK")
            }
        };
        if let Answer::Refuse(_) = self.answer {
            headers.push(Header::new(
                "Content-Length",
                REFUSAL_BODY.len().to_string(),
            ));
        }
        headers.extend(
            self.response_headers
                .iter()
                .map(|(n, v)| Header::new(n.clone(), v.clone())),
        );
        ResponseHead {
            status,
            reason: reason.into(),
            headers,
        }
    }

    /// The bytes the scripted server writes before any new-protocol byte: interim
    /// response, final head, and (for a refusal) its body. The second value is the
    /// length up to the end of the final head.
    pub fn response_message(&self) -> (Bytes, usize) {
        let mut out = Vec::new();
        if self.interim_continue {
            out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        out.extend_from_slice(&self.response_head().to_bytes());
        let head_end = out.len();
        if !self.accepted() {
            out.extend_from_slice(REFUSAL_BODY);
        }
        (out.into(), head_end)
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
            .filter(|&at| at > 0 && at < total)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        426 => "Upgrade Required",
        500 => "Internal Server Error",
        _ => "Other",
    }
}

// ---------------------------------------------------------------------------
// proptest strategies

/// A payload length: mostly small, sometimes around 4 KiB, rarely past 64 KiB.
pub fn payload_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        30 => Just(0usize),
        40 => 1usize..=32,
        20 => 33usize..=600,
        8 => 4000usize..=4200,
        2 => 65_000usize..=MAX_PAYLOAD,
    ]
}

/// A payload.
pub fn payload() -> impl Strategy<Value = Payload> {
    (
        payload_len(),
        prop_oneof![9 => any::<u8>().prop_map(Fill::Noise), 1 => Just(Fill::HttpLike)],
    )
        .prop_map(|(len, fill)| Payload { len, fill })
}

fn small_payload() -> impl Strategy<Value = Payload> {
    (0usize..=300, any::<u8>()).prop_map(|(len, seed)| Payload::noise(len, seed))
}

/// A library's read size: one byte, tiny, typical, 64 KiB and past it.
pub fn read_chunk() -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(1usize),
        2usize..=16,
        17usize..=1024,
        Just(4096usize),
        Just(8192usize),
        Just(65_536usize),
        Just(70_000usize),
    ]
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}"
}

fn header_value() -> impl Strategy<Value = String> {
    "[ -~]{0,40}".prop_map(|v| v.trim().to_owned())
}

/// Extra header fields: valid tokens, none that changes framing or upgrading.
pub fn extra_headers() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec(
        (token().prop_map(|t| format!("X-{t}")), header_value()),
        0..4,
    )
}

fn cut() -> impl Strategy<Value = Cut> {
    let landmark = prop_oneof![
        Just(Landmark::HeadEnd),
        Just(Landmark::MessageEnd),
        Just(Landmark::EarlyEnd)
    ];
    prop_oneof![
        3 => (landmark, -4i8..=4).prop_map(|(l, d)| Cut::At(l, d)),
        2 => any::<u32>().prop_map(Cut::Offset),
    ]
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        6 => Just(Body::None),
        2 => small_payload().prop_map(Body::Length),
        1 => Just(Body::Chunked(Vec::new())),
        1 => proptest::collection::vec(small_payload(), 1..4).prop_map(Body::Chunked),
    ]
}

/// Any scenario.
pub fn scenario() -> impl Strategy<Value = Scenario> {
    let handshake = prop_oneof![
        6 => prop_oneof![Just(Protocol::Echo), Just(Protocol::WebSocket), Just(Protocol::Tcp)].prop_map(Handshake::Upgrade),
        2 => Just(Handshake::Connect),
        1 => Just(Handshake::Explicit),
    ];
    let answer = prop_oneof![
        9 => Just(Answer::Accept),
        1 => prop_oneof![Just(200u16), Just(400), Just(403), Just(426)].prop_map(Answer::Refuse),
    ];
    let client = (payload(), payload(), any::<bool>(), read_chunk()).prop_map(
        |(early, late, half_close, read_chunk)| ClientScript {
            early,
            late,
            half_close,
            read_chunk,
        },
    );
    let first_write = prop_oneof![
        Just(FirstWrite::WithHead),
        Just(FirstWrite::Unflushed),
        Just(FirstWrite::AfterHijack)
    ];
    let app = prop_oneof![3 => Just(ServerApp::Echo), 1 => Just(ServerApp::CloseWriteFirst)];
    let server = (payload(), first_write, app, read_chunk()).prop_map(
        |(first, first_write, app, read_chunk)| ServerScript {
            first,
            first_write,
            app,
            read_chunk,
        },
    );
    let heads = (
        extra_headers(),
        extra_headers(),
        any::<bool>(),
        prop::bool::weighted(0.15),
    );
    let cuts = (
        proptest::collection::vec(cut(), 0..5),
        proptest::collection::vec(cut(), 0..3),
    );
    (handshake, body(), answer, heads, client, server, cuts).prop_map(
        |(
            handshake,
            body,
            answer,
            (request_headers, response_headers, expect_continue, interim_continue),
            client,
            server,
            (client_cuts, server_cuts),
        )| {
            Scenario {
                handshake,
                request_headers,
                body,
                expect_continue,
                answer,
                interim_continue,
                response_headers,
                client,
                server,
                client_cuts,
                server_cuts,
            }
            .normalized()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::head::request_message_len;

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

    /// The payload bytes as first defined, without the cache: the cache must not
    /// change a single byte (snapshots and corpus files depend on them).
    fn uncached(p: &Payload, role: Role) -> Vec<u8> {
        let len = p.len.min(MAX_PAYLOAD);
        match p.fill {
            Fill::HttpLike => b"GET / HTTP/1.1\r\nHost: smuggled\r\n\r\n"
                .iter()
                .copied()
                .cycle()
                .take(len)
                .collect(),
            Fill::Noise(seed) => {
                let mut x = (u32::from(seed) << 16 | role.salt()) ^ 0x9E37_79B9;
                (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        (x >> 24) as u8
                    })
                    .collect()
            }
        }
    }

    proptest! {
        #[test]
        fn cached_payloads_are_the_uncached_bytes(
            lens in proptest::collection::vec(0usize..=MAX_PAYLOAD + 10, 1..6),
            seed in any::<u8>(),
            http_like in any::<bool>(),
        ) {
            let fill = if http_like { Fill::HttpLike } else { Fill::Noise(seed) };
            for len in lens {
                let p = Payload { len, fill };
                for role in [Role::Early, Role::Late, Role::First, Role::Body(3)] {
                    prop_assert_eq!(p.bytes(role).to_vec(), uncached(&p, role));
                }
            }
        }
    }

    #[test]
    fn payloads_differ_by_role() {
        let p = Payload::noise(16, 7);
        assert_ne!(p.bytes(Role::Early), p.bytes(Role::Late));
        assert_eq!(p.bytes(Role::Early), p.bytes(Role::Early));
    }
}
