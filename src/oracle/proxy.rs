//! The oracle of the third role: a proxy judged over both legs.
//!
//! A run of a [`Proxy`] case has two wires: the client leg (the run's trace:
//! `c>s` is client to proxy, `s>c` proxy to client) and the upstream leg
//! ([`ProxyRecord::upstream`]: `c>s` is proxy to upstream, `s>c` upstream to
//! proxy). The invariant (DESIGN.md, "Intermediaries"):
//!
//! * the request reaches the upstream without `h2c`
//!   ([`Point::TunnelHopByHop`]; RFC 9110 §7.6.1: intermediaries "MUST ...
//!   remove any header or trailer field(s) from the message with the same name
//!   as the connection-option", and `HTTP2-Settings` is one; h2c smuggling),
//!   and without the `Upgrade` of an HTTP/1.0 request (RFC 9110 §7.8: "A server
//!   that receives an Upgrade header field in an HTTP/1.0 request MUST ignore
//!   that Upgrade field."); the request is read in either version
//!   ([`forwarded_request`]);
//! * nothing the client sent after its request reaches the upstream before the
//!   upstream's answer reached the proxy ([`Point::TunnelEarly`]). RFC 9110 has
//!   no sentence for it; raw bytes fail at MUST, because the upstream reads them
//!   as requests the proxy never checked (Pingora CVE-2026-2833, Envoy
//!   CVE-2025-64763); a whole pipelined request is non-strict (RFC 9112 §9.3.2:
//!   an intermediary "MAY pipeline those requests when forwarding them inbound");
//! * after a refusal (any answer but a `101` naming an offered token to an
//!   HTTP/1.1 request, or a `2xx` to `CONNECT`), nothing crosses as tunnel
//!   data, either way: neither the client's bytes sent with its request nor
//!   its bytes after the refusal ([`Point::TunnelRefused`]). The RFCs have no
//!   MUST for it; it fails at MUST as a security rule (0ang3el/websocket-smuggle,
//!   CVE-2018-1002105, Envoy CVE-2025-64763); bytes that parse as whole
//!   requests are HTTP, and pass, and so does a closed connection. After a
//!   refused `CONNECT`, a second response on the client leg means the bytes
//!   sent with it were parsed as a request: non-strict (RFC 9110 §9.3.6 leaves
//!   their meaning to the HTTP version; `proxy/refused.rs`);
//! * a `101` reaches the client only for a token it offered
//!   ([`Point::TunnelToken`]; RFC 9110 §7.8: "A server MUST NOT switch to a
//!   protocol that was not indicated by the client in the corresponding
//!   request's Upgrade header field."), never an HTTP/1.0 client (RFC 9110
//!   §15.2: "a server MUST NOT send a 1xx response to an HTTP/1.0 client"),
//!   and no `2xx` for a `CONNECT` the upstream refused ([`Point::TunnelAnswer`]);
//! * after a switch, every byte crosses once, in order, both ways, and a FIN as
//!   a FIN ([`Point::TunnelRelay`], the invariant's own level). A tail lost after
//!   the receiving side closed is non-strict: RFC 9110 §9.3.6 lets a tunnel
//!   "close both connections, and then discard any remaining data left
//!   undelivered", but only after it "MUST attempt to send any outstanding data
//!   that came from the closed side" (`proxy/tunnel.rs`).

use bytes::Bytes;

use super::describe::{count, preview};
use super::{Fault, Level, Mark, Observation, Point, Protocol, Verdict};
use crate::reference::head::{self, RequestHead, ResponseHead};
use crate::scenario::proxy::forwarded::forwarded_request;
use crate::scenario::proxy::{Ask, ProxyBytes, ProxyScenario, Version};
use crate::subject::proxy::ProxyRecord;
use crate::wire::driver::Ending;
use crate::wire::{Direction, Event, Trace};

mod refused;
mod tunnel;

use refused::refused;
use tunnel::switched;

const UP: Direction = Direction::ClientToServer;
const DOWN: Direction = Direction::ServerToClient;

/// A proxy carrying an upgrade or a `CONNECT`, judged over both legs.
#[derive(Debug, Clone, Copy)]
pub struct Proxy;

impl Protocol for Proxy {
    type Scenario = ProxyScenario;
    type Sent = ProxyBytes;
    type Record = ProxyRecord;

    fn judge(obs: &Observation<'_, Self>) -> Verdict {
        judge(obs)
    }
}

/// Judges one proxy run (see the module doc).
pub fn judge(obs: &Observation<'_, Proxy>) -> Verdict {
    let mut v = Verdict::default();
    let run = Streams::of(*obs);
    if let Some((request_end, answered)) = forwarding(&mut v, &run) {
        if obs.sent.switches {
            switched(&mut v, &run, request_end);
        } else {
            refused(&mut v, &run, answered);
        }
    }
    noted(v, obs)
}

/// The four streams of one run, and what the oracle reads off them first.
struct Streams<'a> {
    obs: Observation<'a, Proxy>,
    /// Client to proxy.
    cu: Bytes,
    /// Proxy to client.
    cd: Bytes,
    /// Proxy to upstream.
    uu: Bytes,
    /// Upstream to proxy.
    ud: Bytes,
    connect: bool,
    /// The final response the client got, and where its head ends.
    response: Option<(ResponseHead, usize)>,
    /// Where the client's bytes after its request start on the client leg.
    tail_at: usize,
}

impl<'a> Streams<'a> {
    fn of(obs: Observation<'a, Proxy>) -> Self {
        let (client, upstream) = (obs.trace, &obs.app.upstream);
        let (cu, cd) = (client.stream(UP), client.stream(DOWN));
        let response = head::parse_final_response(&cd).ok().flatten();
        Streams {
            tail_at: obs.sent.request.len().min(cu.len()),
            connect: obs.scenario.ask == Ask::Connect,
            response,
            cu,
            cd,
            uu: upstream.stream(UP),
            ud: upstream.stream(DOWN),
            obs,
        }
    }

    fn upstream(&self) -> &'a Trace {
        &self.obs.app.upstream
    }

    /// Whether the client asked for an upgrade in an HTTP/1.0 request, which
    /// must be ignored.
    fn http10_upgrade(&self) -> bool {
        !self.connect && self.obs.scenario.version == Version::Http10
    }
}

/// RFC 9110 §7.6.1, on what an intermediary forwards.
pub const HOP_BY_HOP: &str = "\"Intermediaries MUST parse a received Connection header field before a message is forwarded and, for each connection-option in this field, remove any header or trailer field(s) from the message with the same name as the connection-option, and then remove the Connection header field itself (or replace it with the intermediary's own control options for the forwarded message).\"";
/// RFC 9110 §7.8, on an HTTP/1.0 request's `Upgrade`.
pub const HTTP10_UPGRADE: &str = "\"A server that receives an Upgrade header field in an HTTP/1.0 request MUST ignore that Upgrade field.\"";
/// RFC 9110 §15.2, on a `101` to an HTTP/1.0 client.
pub const NO_1XX_TO_HTTP10: &str = "\"Since HTTP/1.0 did not define any 1xx status codes, a server MUST NOT send a 1xx response to an HTTP/1.0 client.\"";
/// RFC 9110 §7.8, on the token of a `101`.
pub const ONLY_OFFERED: &str = "\"A server MUST NOT switch to a protocol that was not indicated by the client in the corresponding request's Upgrade header field.\"";
/// RFC 9110 §9.3.6, on a refused `CONNECT`.
pub const NOT_YET_FORMED: &str = "\"Any response other than a successful response indicates that the tunnel has not yet been formed.\"";

/// The request reached the upstream, without `h2c`, and nothing after it
/// before the upstream's answer. Returns where the request ends on the
/// upstream leg and how far that leg had got when the answer came back.
fn forwarding(v: &mut Verdict, run: &Streams<'_>) -> Option<(usize, usize)> {
    let Some((forwarded, request_end, version)) = forwarded_request(&run.uu).ok().flatten() else {
        let refused_itself = run
            .response
            .as_ref()
            .is_some_and(|(r, _)| !r.switches(run.connect));
        if !run.uu.is_empty() || !refused_itself {
            v.add(
                Level::Must,
                Point::TunnelAnswer,
                format!(
                    "proxy to upstream: no whole request reached the upstream ({} arrived), and the client got no refusal",
                    count(run.uu.len())
                ),
                Vec::new(),
            );
        }
        return None;
    };
    hop_by_hop(v, run, &forwarded, version);
    let answered = delivered_before_answer(run.upstream()).max(request_end);
    let early = &run.uu[request_end..answered];
    if !early.is_empty() {
        let (level, what) = if is_requests(early) {
            (Level::Should, "a whole pipelined request, forwarded")
        } else {
            (
                Level::Must,
                "raw bytes the upstream reads as its next request",
            )
        };
        v.add(
            level,
            Point::TunnelEarly,
            format!(
                "proxy to upstream: {} after the request ({}, {what}) reached the upstream before its answer{} \
                 (Pingora CVE-2026-2833, Envoy CVE-2025-64763)",
                count(early.len()),
                preview(early, 24),
                answered_after(run.obs.app),
            ),
            client_marks(&run.cu, run.tail_at, early, Fault::HandedOver),
        );
    }
    Some((request_end, answered))
}

/// The forwarded request (of `version`) carries no upgrade the proxy had to
/// drop: not the `h2c` the client named in `Connection`, nor any `Upgrade` of
/// an HTTP/1.0 request.
fn hop_by_hop(v: &mut Verdict, run: &Streams<'_>, forwarded: &RequestHead, version: Version) {
    let fields = &forwarded.headers;
    if run.obs.scenario.ask == Ask::H2c
        && (head::has_token(fields, "upgrade", "h2c")
            || head::header_value(fields, "http2-settings").is_some())
    {
        v.add(
            Level::Must,
            Point::TunnelHopByHop,
            format!(
                "proxy to upstream: the request went on with `Upgrade: h2c` and `HTTP2-Settings`, \
                 connection options the client named in `Connection` (RFC 9110 §7.6.1: {HOP_BY_HOP}; h2c smuggling)"
            ),
            Vec::new(),
        );
    }
    if run.http10_upgrade() && head::header_value(fields, "upgrade").is_some() {
        let sent_as = match version {
            Version::Http11 => "HTTP/1.1, asking the upstream to switch",
            Version::Http10 => "HTTP/1.0 (not even in the proxy's own version, RFC 9112 §2.3)",
        };
        v.add(
            Level::Must,
            Point::TunnelHopByHop,
            format!(
                "proxy to upstream: the HTTP/1.0 request's `Upgrade` went on as {sent_as} \
                 (RFC 9110 §7.8: {HTTP10_UPGRADE})"
            ),
            Vec::new(),
        );
    }
}

/// How many proxy-to-upstream bytes reached the upstream before its answer reached the proxy.
fn delivered_before_answer(upstream: &Trace) -> usize {
    upstream
        .events
        .iter()
        .take_while(|e| !matches!(e, Event::Segment { dir, .. } if *dir == DOWN))
        .map(|e| match e {
            Event::Segment { dir, bytes, .. } if *dir == UP => bytes.len(),
            _ => 0,
        })
        .sum()
}

/// Whether `bytes` are whole HTTP requests, one after another: HTTP, not tunnel data.
fn is_requests(mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        match head::request_message_len(bytes) {
            Ok(Some((_, len))) if len > 0 => bytes = &bytes[len..],
            _ => return false,
        }
    }
    true
}

fn answered_after(record: &ProxyRecord) -> String {
    match record.answered_after {
        Some(n) => format!(" (it answered after reading {})", count(n)),
        None => " (it never answered)".into(),
    }
}

fn status_text(status: Option<u16>) -> String {
    status.map_or("no answer".into(), |s| s.to_string())
}

/// Marks where `bytes` left the client, if they are the client's bytes after its request.
fn client_marks(cu: &[u8], tail_at: usize, bytes: &[u8], fault: Fault) -> Vec<Mark> {
    let tail = &cu[tail_at..];
    match tail.windows(bytes.len().max(1)).position(|w| w == bytes) {
        Some(at) => vec![Mark::Bytes {
            dir: UP,
            range: tail_at + at..tail_at + at + bytes.len(),
            fault,
        }],
        None => Vec::new(),
    }
}

fn noted(mut v: Verdict, obs: &Observation<'_, Proxy>) -> Verdict {
    if let Some(error) = obs.subject_error {
        v.notes
            .push(format!("the proxy returned an error: {error}"));
    }
    if obs.ending == Ending::PollLimit {
        v.fail(
            Point::TunnelRelay,
            "the run spun without progress (poll limit)",
        );
    }
    v
}
