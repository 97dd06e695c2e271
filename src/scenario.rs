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

mod messages;
pub mod summary;
pub mod websocket;
pub use messages::Messages;

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

/// How many materialized payloads each thread keeps.
const PAYLOAD_CACHE_SIZE: usize = 256;

thread_local! {
    /// A direct-mapped cache of payload streams, by [`stream_key`]: at most
    /// `PAYLOAD_CACHE_SIZE` streams of at most `MAX_PAYLOAD` bytes per thread.
    static PAYLOAD_CACHE: std::cell::RefCell<Vec<Option<(u32, Bytes)>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The stream a payload is a prefix of: its fill and role, as one number.
fn stream_key(fill: Fill, role: Role) -> u32 {
    match fill {
        Fill::HttpLike => u32::MAX,
        Fill::Noise(seed) => u32::from(seed) << 16 | role.salt(),
    }
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// One run asks for the same payload several times (the peer sends it, the
    /// oracle compares against it, the cut points are measured on it), so the last
    /// few are kept per thread: a clone of `Bytes` is a reference count, while
    /// generating 70 kB again is not.
    pub fn bytes(&self, role: Role) -> Bytes {
        // A payload of length n is the first n bytes of a stream fixed by its fill
        // and role, so the cache keeps streams, not payloads: a lookup is one slot,
        // a hit is a zero-copy slice, and the same seed at another length hits too
        // (a fuzzer varies lengths far more often than seeds).
        let len = self.len.min(MAX_PAYLOAD);
        if len == 0 {
            return Bytes::new();
        }
        let key = stream_key(self.fill, role);
        let slot = (key.wrapping_mul(0x9E37_79B1) >> 24) as usize % PAYLOAD_CACHE_SIZE;
        PAYLOAD_CACHE.with(|cache| {
            let mut cache = cache.borrow_mut();
            if cache.is_empty() {
                cache.resize(PAYLOAD_CACHE_SIZE, None);
            }
            if let Some((k, stream)) = &cache[slot]
                && *k == key
                && stream.len() >= len
            {
                return stream.slice(..len);
            }
            // The next power of two: a growing length regenerates O(log n) times.
            let stream = generate(
                self.fill,
                role,
                len.max(64).next_power_of_two().min(MAX_PAYLOAD),
            );
            let out = stream.slice(..len);
            cache[slot] = Some((key, stream));
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

/// The first `len` bytes of the stream of `fill` in `role`.
fn generate(fill: Fill, role: Role, len: usize) -> Bytes {
    let mut out = vec![0u8; len];
    match fill {
        Fill::HttpLike => {
            let pattern = b"GET / HTTP/1.1\r\nHost: smuggled\r\n\r\n";
            for chunk in out.chunks_mut(pattern.len()) {
                chunk.copy_from_slice(&pattern[..chunk.len()]);
            }
        }
        Fill::Noise(seed) => {
            // xorshift32, four bytes a step: cheap, and distinct per (seed, role).
            let mut x = (u32::from(seed) << 16 | role.salt()) ^ 0x9E37_79B9;
            for chunk in out.chunks_mut(4) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
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

    /// The whole request message (head and framed body), as the scripted client
    /// writes it, and the length of its head.
    pub fn request_message(&self) -> (Bytes, usize) {
        Self::request_message_of(&self.request_head(), &self.request_body())
    }

    fn request_message_of(head: &RequestHead, body: &RequestBody) -> (Bytes, usize) {
        let head = head.to_bytes();
        let head_len = head.len();
        let framed = match body {
            RequestBody::Empty => return (head, head_len),
            RequestBody::Length(bytes) => bytes.clone(),
            RequestBody::Chunked(chunks) => encode_chunked(chunks),
        };
        let mut out = Vec::with_capacity(head_len + framed.len());
        out.extend_from_slice(&head);
        out.extend_from_slice(&framed);
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

    /// The status of the final answer ([`Scenario::response_head`]'s), without
    /// building the head.
    pub fn answer_status(&self) -> u16 {
        match (self.answer, self.handshake) {
            (Answer::Refuse(status), _) => status,
            (Answer::Accept, Handshake::Upgrade(_)) => 101,
            (Answer::Accept, Handshake::Connect | Handshake::Explicit) => 200,
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
        self.response_message_of(&self.response_head())
    }

    fn response_message_of(&self, head: &ResponseHead) -> (Bytes, usize) {
        const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";
        let head = head.to_bytes();
        let interim = if self.interim_continue { CONTINUE } else { b"" };
        let body = if self.accepted() {
            b"" as &[u8]
        } else {
            REFUSAL_BODY
        };
        let mut out = Vec::with_capacity(interim.len() + head.len() + body.len());
        out.extend_from_slice(interim);
        out.extend_from_slice(&head);
        let head_end = out.len();
        out.extend_from_slice(body);
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
            .filter(|&at| at > 0 && at <= total)
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

// The strategies draw plain integers and map them: `prop_oneof!` and per-character
// strategies build a value tree per alternative and per character, which made
// generating a scenario cost more than running it. Shrinking still works the way
// it should: every integer shrinks towards 0, and bucket 0 is always the simplest
// choice (no bytes, one-byte reads, a plain upgrade).

/// A payload length: mostly small, sometimes around 4 KiB, rarely past 64 KiB.
pub fn payload_len() -> impl Strategy<Value = usize> {
    (0u8..100, any::<u32>()).prop_map(|(bucket, r)| {
        let r = r as usize;
        match bucket {
            0..=29 => 0,
            30..=69 => 1 + r % 32,
            70..=89 => 33 + r % 568,
            90..=97 => 4000 + r % 201,
            _ => 65_000 + r % (MAX_PAYLOAD - 65_000 + 1),
        }
    })
}

/// A payload.
pub fn payload() -> impl Strategy<Value = Payload> {
    (payload_len(), 0u8..10, any::<u8>()).prop_map(|(len, kind, seed)| Payload {
        len,
        fill: if kind == 9 {
            Fill::HttpLike
        } else {
            Fill::Noise(seed)
        },
    })
}

fn small_payload() -> impl Strategy<Value = Payload> {
    (0usize..=300, any::<u8>()).prop_map(|(len, seed)| Payload::noise(len, seed))
}

/// A library's read size: one byte, tiny, typical, 64 KiB and past it.
pub fn read_chunk() -> impl Strategy<Value = usize> {
    (0u8..7, any::<u16>()).prop_map(|(bucket, r)| {
        let r = usize::from(r);
        match bucket {
            0 => 1,
            1 => 2 + r % 15,
            2 => 17 + r % 1008,
            3 => 4096,
            4 => 8192,
            5 => 65_536,
            _ => 70_000,
        }
    })
}

/// The characters of an RFC 9110 token (field names).
const TOKEN_CHARS: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~";

/// `len` characters picked from `alphabet` by a seeded generator.
fn seeded_text(len: usize, seed: u64, alphabet: impl Fn(u64) -> char) -> String {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            alphabet(x)
        })
        .collect()
}

fn token() -> impl Strategy<Value = String> {
    (1usize..=12, any::<u64>()).prop_map(|(len, seed)| {
        seeded_text(len, seed, |x| {
            char::from(TOKEN_CHARS[(x % TOKEN_CHARS.len() as u64) as usize])
        })
    })
}

fn header_value() -> impl Strategy<Value = String> {
    (0usize..=40, any::<u64>()).prop_map(|(len, seed)| {
        seeded_text(len, seed, |x| char::from(0x20 + (x % 95) as u8))
            .trim()
            .to_owned()
    })
}

/// Extra header fields: valid tokens, none that changes framing or upgrading.
pub fn extra_headers() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec(
        (token().prop_map(|t| format!("X-{t}")), header_value()),
        0..4,
    )
}

const LANDMARKS: [Landmark; 3] = [Landmark::HeadEnd, Landmark::MessageEnd, Landmark::EarlyEnd];

fn cut() -> impl Strategy<Value = Cut> {
    (0u8..5, 0usize..3, -4i8..=4, any::<u32>()).prop_map(|(kind, landmark, delta, offset)| {
        if kind < 3 {
            Cut::At(LANDMARKS[landmark], delta)
        } else {
            Cut::Offset(offset)
        }
    })
}

fn body() -> impl Strategy<Value = Body> {
    (
        0u8..10,
        small_payload(),
        proptest::collection::vec(small_payload(), 1..4),
    )
        .prop_map(|(kind, single, chunks)| match kind {
            0..=5 => Body::None,
            6 | 7 => Body::Length(single),
            8 => Body::Chunked(Vec::new()),
            _ => Body::Chunked(chunks),
        })
}

const PROTOCOLS: [Protocol; 3] = [Protocol::Echo, Protocol::WebSocket, Protocol::Tcp];
const REFUSALS: [u16; 4] = [200, 400, 403, 426];
const FIRST_WRITES: [FirstWrite; 3] = [
    FirstWrite::AfterHijack,
    FirstWrite::WithHead,
    FirstWrite::Unflushed,
];

/// Any scenario.
pub fn scenario() -> impl Strategy<Value = Scenario> {
    let handshake = (0u8..9).prop_map(|kind| match kind {
        0..=5 => Handshake::Upgrade(PROTOCOLS[usize::from(kind % 3)]),
        6 | 7 => Handshake::Connect,
        _ => Handshake::Explicit,
    });
    let answer = (0u8..10, 0usize..4).prop_map(|(kind, status)| {
        if kind < 9 {
            Answer::Accept
        } else {
            Answer::Refuse(REFUSALS[status])
        }
    });
    let client = (payload(), payload(), any::<bool>(), read_chunk()).prop_map(
        |(early, late, half_close, read_chunk)| ClientScript {
            early,
            late,
            half_close,
            read_chunk,
        },
    );
    let server = (payload(), 0usize..3, 0u8..4, read_chunk()).prop_map(
        |(first, first_write, app, read_chunk)| ServerScript {
            first,
            first_write: FIRST_WRITES[first_write],
            app: if app < 3 {
                ServerApp::Echo
            } else {
                ServerApp::CloseWriteFirst
            },
            read_chunk,
        },
    );
    let heads = (extra_headers(), extra_headers(), 0u8..10, 0u8..7);
    let cuts = (
        proptest::collection::vec(cut(), 0..5),
        proptest::collection::vec(cut(), 0..3),
    );
    (handshake, body(), answer, heads, client, server, cuts).prop_map(
        |(
            handshake,
            body,
            answer,
            (request_headers, response_headers, expect, interim),
            client,
            server,
            (client_cuts, server_cuts),
        )| {
            Scenario {
                handshake,
                request_headers,
                body,
                expect_continue: expect >= 5,
                answer,
                interim_continue: interim == 6,
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

    /// The payload bytes as defined before the stream cache: the cache must not
    /// change a single byte (snapshots and seeds depend on them).
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
                let mut out = Vec::with_capacity(len + 3);
                while out.len() < len {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    out.extend_from_slice(&x.to_le_bytes());
                }
                out.truncate(len);
                out
            }
        }
    }

    proptest! {
        #[test]
        fn cached_payloads_are_the_uncached_bytes(
            lens in proptest::collection::vec(0usize..=MAX_PAYLOAD + 10, 1..6),
            seeds in proptest::collection::vec(any::<u8>(), 1..4),
            http_like in any::<bool>(),
        ) {
            for len in lens {
                for &seed in &seeds {
                    let fill = if http_like { Fill::HttpLike } else { Fill::Noise(seed) };
                    let p = Payload { len, fill };
                    for role in [Role::Early, Role::Late, Role::First, Role::Body(3)] {
                        prop_assert_eq!(p.bytes(role).to_vec(), uncached(&p, role));
                    }
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
