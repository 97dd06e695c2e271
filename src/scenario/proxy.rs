//! One generated proxy case: what the scripted client sends on the client leg
//! (client to proxy), and what the scripted upstream answers on the upstream
//! leg (proxy to upstream).
//!
//! The client asks for a tunnel ([`Ask`]: `Upgrade: websocket`, `Upgrade: h2c`
//! or `CONNECT`), maybe with a body, and sends [`Early`] bytes in the same write
//! (raw bytes, or a pipelined request): they are the tunnel's first bytes if the
//! upstream switches, and must never reach the upstream before its answer. The
//! upstream reads the request, waits [`ProxyScenario::delay`] polls, and answers
//! ([`Answer`]: a `101` with the offered token or another one, a refusal, a
//! `200` with a body), with [`ProxyScenario::first`] bytes in the same write.
//! After a switch the client sends [`ProxyScenario::late`] bytes; after any
//! other answer it sends its [`AfterRefusal`] bytes (raw bytes, a request, or
//! both), which a proxy must handle as HTTP, never tunnel. The request is
//! HTTP/1.1 or HTTP/1.0 ([`Version`]: an HTTP/1.0 upgrade must not switch).
//! Either side may half-close; cuts split both legs at any byte.
//!
//! A case is plain data; [`ProxyScenario::bytes`] spells what each scripted
//! peer writes, and [`proxy_scenario`] draws cases for the properties.

use proptest::prelude::*;

pub mod forwarded;

/// The token the client offers in an upgrade.
pub const OFFERED: &str = "websocket";
/// The token an upstream switches to when it picks one the client did not offer.
pub const OTHER: &str = "echo";
/// The `Host` of every request, and the `CONNECT` target.
pub const HOST: &str = "upstream.test";

/// What the client asks the proxy for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ask {
    /// `GET` with `Connection: Upgrade` and `Upgrade: websocket`.
    Upgrade,
    /// `GET` with `Upgrade: h2c` and `HTTP2-Settings` (h2c smuggling's request).
    H2c,
    /// `CONNECT upstream.test:443`, forwarded to the upstream as the next hop.
    Connect,
}

/// What the client sends in the same write as its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Early {
    /// Nothing.
    None,
    /// Raw bytes that are no HTTP request (they start with a NUL).
    Raw,
    /// A whole second request (`GET /next`), then raw bytes.
    Pipelined,
}

/// The HTTP version of the client's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Version {
    /// `HTTP/1.1`.
    #[default]
    Http11,
    /// `HTTP/1.0`: its `Upgrade` must be ignored (RFC 9110 §7.8), and it can
    /// get no `101` (RFC 9110 §15.2); a `CONNECT` still tunnels on a `2xx`.
    Http10,
}

/// What the client writes once it read an answer that did not switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AfterRefusal {
    /// Nothing.
    #[default]
    None,
    /// Raw bytes that are no HTTP request (they start with a NUL).
    Raw,
    /// A whole request ([`SMUGGLED`]).
    Request,
    /// Raw bytes, then a whole request, in one write.
    RawThenRequest,
}

/// How the upstream answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Answer {
    /// `101` naming the token asked for (`2xx` to `CONNECT`).
    Switch,
    /// `101` naming a token the client did not offer (RFC 9110 §7.8).
    OtherToken,
    /// This status (`426`, `400`, `403`), with a short body.
    Refuse(u16),
    /// `200 OK` with a body: no switch for an upgrade (a `2xx` to `CONNECT` is one).
    OkWithBody,
}

/// One proxy case. [`Default`] is an HTTP/1.1 upgrade that the upstream
/// accepts, with nothing else happening.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProxyScenario {
    /// What the client asks for.
    pub ask: Ask,
    /// The HTTP version of the client's request.
    pub version: Version,
    /// The request body's length (`Content-Length`; none on `CONNECT`).
    pub body: usize,
    /// What follows the request in the same write.
    pub early: Early,
    /// How many raw early bytes (after the pipelined request, if any; at
    /// least one when there are early bytes).
    pub early_len: usize,
    /// The upstream's answer.
    pub answer: Answer,
    /// How many polls the upstream waits after the request before it answers.
    pub delay: u8,
    /// Bytes the upstream writes with its answer.
    pub first: usize,
    /// Bytes the client writes once it read a switching answer.
    pub late: usize,
    /// What the client writes once it read an answer that did not switch.
    pub after_refusal: AfterRefusal,
    /// Bytes the upstream writes once the first byte after the request (or
    /// the proxy's FIN) reached it, unless it half-closed at once.
    pub upstream_late: usize,
    /// The client half-closes once it read the answer (and wrote `late`).
    pub client_fin: bool,
    /// The upstream half-closes right after its answer.
    pub upstream_fin: bool,
    /// Where the client leg's client-to-proxy stream is cut.
    pub client_cuts: Vec<usize>,
    /// Where the upstream leg's upstream-to-proxy stream is cut.
    pub upstream_cuts: Vec<usize>,
}

/// What the scripted peers write, spelled out from a [`ProxyScenario`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProxyBytes {
    /// The client's request, head and body.
    pub request: Vec<u8>,
    /// The client's bytes in the same write as its request.
    pub early: Vec<u8>,
    /// The client's bytes after a switching answer.
    pub late: Vec<u8>,
    /// The client's bytes after an answer that did not switch.
    pub after_refusal: Vec<u8>,
    /// The upstream's answer: its head, and its body unless it switches.
    pub answer: Vec<u8>,
    /// The length of the answer's head.
    pub answer_head: usize,
    /// The answer's status.
    pub status: u16,
    /// The upstream's bytes in the same write as its answer.
    pub first: Vec<u8>,
    /// The upstream's bytes after the first byte after the request reached it.
    pub upstream_late: Vec<u8>,
    /// Whether the answer is a switch a proxy must follow: a `101` naming the
    /// token the client offered, or a `2xx` to `CONNECT`.
    pub switches: bool,
}

/// `n` bytes of a recognisable pattern: `lead`, then `alphabet` over and over.
fn pattern(lead: &[u8], alphabet: &[u8], n: usize) -> Vec<u8> {
    lead.iter()
        .chain(alphabet.iter().cycle())
        .take(n)
        .copied()
        .collect()
}

/// The WebSocket fields of an upgrade request: RFC 6455 §1.3's sample nonce.
const WEBSOCKET_KEY: &str =
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

/// The accept of [`WEBSOCKET_KEY`] (RFC 6455 §1.3), in a switching answer.
const WEBSOCKET_ACCEPT: &str = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";

/// The pipelined request of [`Early::Pipelined`].
pub const PIPELINED: &[u8] = b"GET /next HTTP/1.1\r\nHost: upstream.test\r\n\r\n";
/// The request the client sends after a refusal ([`AfterRefusal::Request`]).
pub const SMUGGLED: &[u8] = b"GET /smuggled HTTP/1.1\r\nHost: upstream.test\r\n\r\n";
/// The raw bytes the client sends after a refusal ([`AfterRefusal::Raw`]).
pub const AFTER_REFUSAL_RAW: &[u8] = b"\0after-refusal.";

impl Default for ProxyScenario {
    fn default() -> Self {
        ProxyScenario {
            ask: Ask::Upgrade,
            version: Version::Http11,
            body: 0,
            early: Early::None,
            early_len: 0,
            answer: Answer::Switch,
            delay: 0,
            first: 0,
            late: 0,
            after_refusal: AfterRefusal::None,
            upstream_late: 0,
            client_fin: false,
            upstream_fin: false,
            client_cuts: Vec::new(),
            upstream_cuts: Vec::new(),
        }
    }
}

impl ProxyScenario {
    /// What each scripted peer writes.
    pub fn bytes(&self) -> ProxyBytes {
        let body = if self.ask == Ask::Connect {
            0
        } else {
            self.body
        };
        let length = if body > 0 {
            format!("Content-Length: {body}\r\n")
        } else {
            String::new()
        };
        let v = match self.version {
            Version::Http11 => "HTTP/1.1",
            Version::Http10 => "HTTP/1.0",
        };
        let head = match self.ask {
            // A whole WebSocket handshake (RFC 6455 §1.3's sample key): a proxy
            // that checks it (HAProxy answers a keyless one with its own 400)
            // must pass the request on for the case to ask anything.
            Ask::Upgrade => format!(
                "GET /chat {v}\r\nHost: {HOST}\r\nConnection: Upgrade\r\nUpgrade: {OFFERED}\r\n{WEBSOCKET_KEY}{length}\r\n"
            ),
            Ask::H2c => format!(
                "GET / {v}\r\nHost: {HOST}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n{length}\r\n"
            ),
            Ask::Connect => format!("CONNECT {HOST}:443 {v}\r\nHost: {HOST}:443\r\n\r\n"),
        };
        let mut request = head.into_bytes();
        request.extend(pattern(b"", b"body.", body));
        let mut early = match self.early {
            Early::None => Vec::new(),
            Early::Pipelined => PIPELINED.to_vec(),
            Early::Raw => Vec::new(),
        };
        if self.early != Early::None {
            early.extend(pattern(b"\0", b"early-bytes.", self.early_len.max(1)));
        }
        let asked = match self.ask {
            Ask::H2c => "h2c",
            _ => OFFERED,
        };
        let (answer, answer_head, status) = match (self.answer, self.ask) {
            (Answer::Switch, Ask::Connect) => head_only("200 Connection Established", ""),
            (Answer::Switch, Ask::Upgrade) => head_only(
                "101 Switching Protocols",
                &format!("Connection: Upgrade\r\nUpgrade: {asked}\r\n{WEBSOCKET_ACCEPT}"),
            ),
            (Answer::Switch, _) => head_only(
                "101 Switching Protocols",
                &format!("Connection: Upgrade\r\nUpgrade: {asked}\r\n"),
            ),
            (Answer::OtherToken, _) => head_only(
                "101 Switching Protocols",
                &format!("Connection: Upgrade\r\nUpgrade: {OTHER}\r\n"),
            ),
            (Answer::Refuse(426), _) => with_body(
                "426 Upgrade Required",
                &format!("Connection: Upgrade\r\nUpgrade: {OFFERED}\r\n"),
                "refused",
            ),
            (Answer::Refuse(status), _) => with_body(&format!("{status} Refused"), "", "refused"),
            (Answer::OkWithBody, _) => with_body("200 OK", "", "hello"),
        };
        ProxyBytes {
            request,
            early,
            late: pattern(b"", b"LATE-CLIENT.", self.late),
            after_refusal: self.after_refusal.bytes(),
            answer,
            answer_head,
            status,
            first: pattern(b"", b"0123456789", self.first),
            upstream_late: pattern(b"", b"!upstream-late.", self.upstream_late),
            switches: self.switches(),
        }
    }

    /// Whether the upstream's answer is one a proxy must tunnel after (never
    /// an HTTP/1.0 upgrade: its `Upgrade` is ignored, RFC 9110 §7.8).
    pub fn switches(&self) -> bool {
        match (self.ask, self.answer) {
            (Ask::Upgrade, Answer::Switch) => self.version == Version::Http11,
            (Ask::Connect, Answer::Switch | Answer::OkWithBody) => true,
            _ => false,
        }
    }
}

impl AfterRefusal {
    /// The bytes the client writes.
    pub fn bytes(self) -> Vec<u8> {
        match self {
            AfterRefusal::None => Vec::new(),
            AfterRefusal::Raw => AFTER_REFUSAL_RAW.to_vec(),
            AfterRefusal::Request => SMUGGLED.to_vec(),
            AfterRefusal::RawThenRequest => [AFTER_REFUSAL_RAW, SMUGGLED].concat(),
        }
    }
}

fn head_only(status_line: &str, headers: &str) -> (Vec<u8>, usize, u16) {
    let head = format!("HTTP/1.1 {status_line}\r\n{headers}\r\n").into_bytes();
    let len = head.len();
    (head, len, status_of(status_line))
}

fn with_body(status_line: &str, headers: &str, body: &str) -> (Vec<u8>, usize, u16) {
    let (mut head, len, status) = head_only(
        status_line,
        &format!("{headers}Content-Length: {}\r\n", body.len()),
    );
    head.extend_from_slice(body.as_bytes());
    (head, len, status)
}

fn status_of(status_line: &str) -> u16 {
    status_line
        .get(..3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Proxy cases for the properties: every ask, answer and FIN, cuts on both legs.
pub fn proxy_scenario() -> impl Strategy<Value = ProxyScenario> {
    let ask = prop_oneof![3 => Just(Ask::Upgrade), 1 => Just(Ask::H2c), 2 => Just(Ask::Connect)];
    let early =
        prop_oneof![1 => Just(Early::None), 3 => Just(Early::Raw), 1 => Just(Early::Pipelined)];
    let answer = prop_oneof![
        3 => Just(Answer::Switch),
        1 => Just(Answer::OtherToken),
        1 => Just(Answer::Refuse(426)),
        1 => Just(Answer::Refuse(400)),
        1 => Just(Answer::Refuse(403)),
        1 => Just(Answer::OkWithBody),
    ];
    let version = prop_oneof![4 => Just(Version::Http11), 1 => Just(Version::Http10)];
    let after_refusal = prop_oneof![
        Just(AfterRefusal::None),
        Just(AfterRefusal::Raw),
        Just(AfterRefusal::Request),
        Just(AfterRefusal::RawThenRequest),
    ];
    let size = || prop_oneof![Just(0usize), 1usize..40];
    let cuts = || prop::collection::vec(0usize..300, 0..4);
    (
        (ask, size(), early, 1usize..40, answer, 0u8..4),
        (size(), size(), size(), any::<bool>(), any::<bool>()),
        (cuts(), cuts(), version, after_refusal),
    )
        .prop_map(
            |(
                (ask, body, early, early_len, answer, delay),
                (first, late, upstream_late, client_fin, upstream_fin),
                (client_cuts, upstream_cuts, version, after_refusal),
            )| ProxyScenario {
                ask,
                version,
                body,
                early,
                early_len,
                answer,
                delay,
                first,
                late,
                after_refusal,
                upstream_late,
                client_fin,
                upstream_fin,
                client_cuts,
                upstream_cuts,
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::head;

    #[test]
    fn the_peers_bytes_parse_as_the_case_says() {
        let case = ProxyScenario {
            body: 5,
            early: Early::Pipelined,
            early_len: 3,
            answer: Answer::Refuse(426),
            first: 4,
            after_refusal: AfterRefusal::RawThenRequest,
            ..ProxyScenario::default()
        };
        let bytes = case.bytes();
        let (_, len) = head::request_message_len(&bytes.request)
            .ok()
            .flatten()
            .expect("a request");
        assert_eq!(len, bytes.request.len());
        assert!(bytes.early.starts_with(PIPELINED));
        assert_eq!(bytes.status, 426);
        assert!(!bytes.switches);
        let (response, head_len) = head::parse_response(&bytes.answer)
            .ok()
            .flatten()
            .expect("a response");
        assert_eq!((response.status, head_len), (426, bytes.answer_head));
        assert!(bytes.after_refusal.ends_with(SMUGGLED));
        assert!(bytes.after_refusal.starts_with(b"\0"));
    }

    #[test]
    fn an_http10_upgrade_never_switches_and_a_connect_still_does() {
        let http10 = ProxyScenario {
            version: Version::Http10,
            ..ProxyScenario::default()
        };
        assert!(
            http10
                .bytes()
                .request
                .starts_with(b"GET /chat HTTP/1.0\r\n")
        );
        assert!(!http10.switches() && ProxyScenario::default().switches());
        let connect = ProxyScenario {
            ask: Ask::Connect,
            ..http10
        };
        assert!(connect.switches());
    }
}
