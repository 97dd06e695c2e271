//! The oracle for a peer that runs in another process: no application record
//! exists, only the wire. The black-box protocols (`docs/src/invariant.md`)
//! make the wire enough: the server echoes, so everything the client sent after its request must
//! come back, in order, nothing extra, and EOF must follow the client's FIN. A
//! byte the library lost in its read-ahead is a byte that never comes back, and
//! the trace says which segment it travelled in.
//!
//! Extra bytes in the echo are named for what they are ([`named`]): the request
//! body, its chunk framing or its head (the server handed over too early, point
//! 1), or an HTTP response (the library wrote after the hand-over, point 4). The
//! switching response is checked itself ([`heads`]): `Upgrade` and `Connection:
//! upgrade` in a 101, no body framing in any 1xx, and a `100 Continue` before the
//! 101 when the request expected one.

use super::{Discrepancy, Point, Verdict, compare, count, locate, preview};
use crate::reference::head;
use crate::scenario::NEXT_REQUEST;
use crate::wire::driver::Ending;
use crate::wire::{Direction, Trace};

pub mod client;
pub mod heads;
pub mod named;

pub use client::judge_black_box_client;
pub use named::{BodyShape, RequestShape};

/// What the request asked for, and so what answer hands the connection over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// An upgrade: `101` switches.
    Upgrade,
    /// A `CONNECT`: any `2xx` switches.
    Connect,
    /// Docker's older attach: a `200` and then raw bytes (an explicit hijack).
    Explicit,
    /// An upgrade to a token the peer cannot know: a server MAY refuse it, and then
    /// nothing may switch and the pipelined request after it must be answered as
    /// HTTP. A server that switches to any token it is offered makes the refusal
    /// untestable ([`Judged::unsupported`]), which is not a fault: the client did
    /// offer the token.
    Refusal,
    /// An upgrade in an HTTP/1.0 request: RFC 9110 §7.8, "A server that receives an Upgrade header field
    /// in an HTTP/1.0 request MUST ignore that Upgrade field."
    Ignored,
}

/// The upgrade token a conformant server cannot know: the refusal case
/// ([`Expect::Refusal`]) offers it.
pub const UNKNOWN_TOKEN: &str = "hijack-harness-unknown";

/// Turns the bytes after a response head into the echoed payload (or says why not).
pub type Decoder = dyn Fn(&[u8]) -> Result<Vec<u8>, String>;

/// Everything a black-box run produced.
pub struct BlackBoxObservation<'a> {
    /// What crossed the wire, as the harness's socket saw it.
    pub trace: &'a Trace,
    /// How long the request message (head and body) is in the client-to-server stream.
    pub message_len: usize,
    /// How the request message is laid out (to name echoed parts of it).
    pub request: RequestShape,
    /// What the request asked for.
    pub expect: Expect,
    /// The bytes the echo must carry back: everything the client sent after the
    /// request (for WebSocket, the payloads of its data frames).
    pub expected_echo: &'a [u8],
    /// Turns what the server sent after its head into echoed bytes (WebSocket
    /// unframes); `None` for a raw echo, where offsets map one to one onto the wire.
    pub decode: Option<&'a Decoder>,
    /// Whether the client closed its write half (or sent its closing frame).
    pub client_closed: bool,
    /// Whether the client ended with a closing frame (WebSocket's Close), which a
    /// server may answer before echoing the messages sent with it (RFC 6455
    /// §5.5.1); a plain FIN (Docker's stdin EOF, even multiplexed) has no such leave.
    pub closing_frame: bool,
    /// Whether the client's FIN followed its data at once (the half-close cases),
    /// rather than after the echo of everything it sent came back.
    pub fin_at_once: bool,
    /// Whether the client sent the request head alone and waited (bounded) for
    /// `100 Continue` or an answer before the rest of the message
    /// ([`heads::check_continue_wait`]).
    pub waited_for_continue: bool,
    /// Whether the target is an intermediary (a proxy in front of the harness's
    /// own upstream): diagnoses name "the proxy".
    pub via_proxy: bool,
    /// How the run ended.
    pub ending: Ending,
}

/// A black-box verdict, and whether the case could be judged at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Judged {
    /// The verdict (empty violations when unsupported).
    pub verdict: Verdict,
    /// Why the case does not apply to this peer, when it does not.
    pub unsupported: Option<String>,
}

/// Judges a black-box server (or a proxy in front of the harness's echo server).
pub fn judge_black_box(obs: &BlackBoxObservation<'_>) -> Verdict {
    judge_server(obs).verdict
}

/// Judges a black-box server, telling an untestable case from a verdict.
pub fn judge_server(obs: &BlackBoxObservation<'_>) -> Judged {
    let mut verdict = Verdict::default();
    let trace = obs.trace;
    let who = if obs.via_proxy {
        "the proxy"
    } else {
        "the server"
    };
    let s2c = trace.stream(Direction::ServerToClient);
    let c2s = trace.stream(Direction::ClientToServer);
    let (response, head_end) = match head::parse_final_response(&s2c) {
        Err(_) | Ok(None) if own_bytes(&s2c, &c2s).is_some() => {
            let at = own_bytes(&s2c, &c2s).unwrap_or_default();
            verdict.fail(
                Point::NoFalseUpgrade,
                tunnel_without_response(&s2c, at, obs, who),
            );
            return judged(verdict);
        }
        Err(e) => {
            verdict.fail(
                Point::Handshake,
                format!(
                    "the response head does not parse: {e} (first bytes: {})",
                    preview(&s2c, 60)
                ),
            );
            return judged(verdict);
        }
        Ok(None)
            if matches!(obs.expect, Expect::Refusal | Expect::Ignored)
                && s2c.is_empty()
                && trace.fin(Direction::ServerToClient).is_some() =>
        {
            verdict.notes.push(format!(
                "{who} closed the connection without an answer: it switched nothing and handed nothing over \
                 (closing instead of serving the request is allowed)"
            ));
            return judged(verdict);
        }
        // A server that will not take an upgrade with a body may close instead
        // of answering (python-websockets does): nothing was switched or handed
        // over, and the hand-over after a body cannot be seen.
        Ok(None)
            if obs.request.body != BodyShape::None
                && s2c.is_empty()
                && trace.fin(Direction::ServerToClient).is_some() =>
        {
            return Judged {
                verdict,
                unsupported: Some(format!(
                    "{who} closed the connection without an answer to an upgrade request with a body: it \
                     switched nothing and handed nothing over, so the hand-over after a body cannot be tested \
                     (closing instead of serving the request is allowed)"
                )),
            };
        }
        Ok(None) => {
            let how = if trace.fin(Direction::ServerToClient).is_some() {
                "and then closed the connection"
            } else {
                "and then went quiet"
            };
            verdict.fail(
                Point::Handshake,
                format!(
                    "no complete response head arrived: {who} sent {} {how}",
                    count(s2c.len())
                ),
            );
            return judged(verdict);
        }
        Ok(Some(found)) => found,
    };
    heads::check(
        &mut verdict,
        &c2s[..obs.message_len.min(c2s.len())],
        &s2c[..head_end],
    );
    if obs.waited_for_continue {
        heads::check_continue_wait(&mut verdict, trace, obs.request.head_len);
    }
    let switched = match obs.expect {
        Expect::Upgrade | Expect::Refusal | Expect::Ignored => response.status == 101,
        Expect::Connect => (200..300).contains(&response.status),
        Expect::Explicit => response.status == 200,
    };
    let after = &s2c[head_end..];

    match obs.expect {
        // A switch to a protocol the request did not offer is a fault the heads
        // check named; a switch to the one it did offer is the server's right.
        Expect::Refusal if switched && !verdict.violations.is_empty() => return judged(verdict),
        Expect::Refusal if switched => {
            return Judged {
                verdict: Verdict::default(),
                unsupported: Some(format!(
                    "{who} switches to any token it is offered (it answered 101 to `Upgrade: {}`), \
                     which RFC 9110 §7.8 allows: a refusal cannot be tested this way",
                    UNKNOWN_TOKEN
                )),
            };
        }
        Expect::Ignored if switched => {
            verdict.fail_must(
                Point::NoFalseUpgrade,
                format!(
                    "{who} answered 101 to an HTTP/1.0 request: RFC 9110 §7.8 says \"A server that receives an Upgrade header field \
                     in an HTTP/1.0 request MUST ignore that Upgrade field\""
                ),
            );
            return judged(verdict);
        }
        // Docker's older attach: without a usable `Upgrade` a daemon answers
        // `200` with the raw-stream type and hijacks explicitly, which the
        // application asked for (`docs/src/invariant.md`, point 6): what follows
        // is its stream, not the next request, and nothing was switched.
        Expect::Refusal | Expect::Ignored if explicit_raw_stream(&response) => {
            verdict.notes.push(format!(
                "{who} did not switch: it answered {} with `{}` (Docker's explicit hijack of an attach without \
                 an upgrade), so the bytes after the request are its raw stream",
                response.status,
                crate::scenario::RAW_STREAM
            ));
            return judged(verdict);
        }
        Expect::Refusal | Expect::Ignored => {
            if let Some(at) = find(after, NEXT_REQUEST) {
                verdict.fail(
                    Point::NoFalseUpgrade,
                    format!(
                        "{who} answered {} and then echoed the next HTTP request back raw (at byte {at} after its head): \
                         it handed the connection over without switching",
                        response.status
                    ),
                );
            } else if obs.expect == Expect::Refusal && find(after, b"HTTP/1.").is_none() {
                verdict.notes.push(format!(
                    "{who} answered {} and did not answer the pipelined request after it (it may close instead)",
                    response.status
                ));
            }
            return judged(verdict);
        }
        _ => {}
    }

    if !switched && obs.request.body != BodyShape::None {
        // RFC 9110 §7.8: "A server MAY ignore a received Upgrade header field";
        // an intermediary that strips Upgrade from requests with content
        // (HAProxy 2.6 does) refuses the upgrade, which is its right. What it must
        // not do is hand the bytes after the request over all the same.
        let sent_after = &obs.expected_echo[..obs.expected_echo.len().min(16)];
        if find(after, sent_after).is_some() {
            verdict.fail(
                Point::NoFalseUpgrade,
                format!(
                    "{who} answered {} {} and then echoed the bytes sent after the request raw: \
                     it handed the connection over without switching",
                    response.status, response.reason
                ),
            );
            return judged(verdict);
        }
        return Judged {
            verdict,
            unsupported: Some(format!(
                "{who} answered {} {} to an upgrade request with a body: it did not switch, which RFC 9110 §7.8 \
                 allows (\"A server MAY ignore a received Upgrade header field\"), so the hand-over after a body \
                 cannot be tested",
                response.status, response.reason
            )),
        };
    }
    if !switched {
        verdict.fail(
            Point::Handshake,
            format!(
                "{who} answered {} {}, which does not hand the connection over",
                response.status, response.reason
            ),
        );
        return judged(verdict);
    }

    let echoed = match obs.decode {
        None => after.to_vec(),
        Some(decode) => match decode(after) {
            Ok(bytes) => bytes,
            Err(e) => {
                match find(after, b"HTTP/1.") {
                    // The library wrote after its own 101 (an error page for
                    // the body it did not expect): point 4, named.
                    Some(at) => {
                        let line_end = find(&after[at..], b"\r\n").unwrap_or(after.len() - at);
                        verdict.fail(
                            Point::Ownership,
                            format!(
                                "{who} wrote an HTTP response after its own {}, into the new protocol: bytes {}..{} \
                                 after the {}'s head are {} ({})",
                                response.status,
                                at,
                                after.len(),
                                response.status,
                                preview(&after[at..at + line_end], 60),
                                count(after.len() - at)
                            ),
                        );
                    }
                    None => {
                        verdict.fail(Point::ServerRead, format!("the echo does not decode: {e}"))
                    }
                }
                return judged(verdict);
            }
        },
    };
    let found = compare(obs.expected_echo, &echoed);
    let server_fin = trace.fin(Direction::ServerToClient).is_some();
    if !found.is_empty() {
        if obs.closing_frame && closed_on_close_first(obs, &found, server_fin) {
            let why = format!(
                "{who} answered the client's Close frame before echoing the messages sent with it ({} of the {} \
                 came back), which RFC 6455 §5.5.1 lets it do (\"It SHOULD do so as soon as practical\"; waiting is a \
                 MAY: \"An endpoint MAY delay sending a Close frame until its current message is sent\"): whether \
                 the messages reached its application cannot be seen from the wire",
                count(echoed.len()),
                count(obs.expected_echo.len())
            );
            if verdict.violations.is_empty() {
                return Judged {
                    verdict,
                    unsupported: Some(why),
                };
            }
            verdict.notes.push(why);
            return judged(verdict);
        }
        echo_verdict(&mut verdict, obs, &c2s, &echoed, &found, server_fin, who);
        if obs.decode.is_some()
            && let Some(code) = close_code(after)
        {
            verdict.notes.push(format!(
                "{who} sent a Close frame with code {code}{} after {} of echo{}",
                match code {
                    1002 => " (protocol error)",
                    1003 => " (unsupported data)",
                    1008 => " (policy violation)",
                    1009 => " (message too big)",
                    _ => "",
                },
                count(echoed.len()),
                if code == 1002 && obs.request.body != BodyShape::None {
                    ": a server that reads the request body as WebSocket frames finds a protocol error in it"
                } else {
                    ""
                }
            ));
        }
    }

    let reset = trace
        .events
        .iter()
        .any(|e| matches!(e, crate::wire::Event::Reset { .. }));
    if reset {
        verdict.fail(
            Point::Ownership,
            "the connection was reset (RST) instead of closed",
        );
    }
    match (obs.client_closed, server_fin) {
        (true, false) if found.is_empty() => verdict.fail(
            Point::HalfClose,
            format!(
                "the client closed its write half, and {who} echoed everything but never closed its own: \
                 EOF never arrived ({})",
                match obs.ending {
                    Ending::Quiet => "the connection went quiet",
                    _ => "the run ended first",
                }
            ),
        ),
        (false, true) => verdict.fail(
            Point::Ownership,
            format!("{who} closed the connection although the client had not closed its write half"),
        ),
        _ => {}
    }
    judged(verdict)
}

/// The status code of the first WebSocket Close frame in `after`, if one has one.
fn close_code(after: &[u8]) -> Option<u16> {
    let (frames, _) = crate::websocket::decode_all(after, 16 << 20);
    frames
        .iter()
        .find(|f| f.frame.opcode == crate::websocket::OpCode::Close)
        .and_then(|f| {
            f.frame
                .payload
                .get(..2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
        })
}

/// The least of the client's own bytes that, coming back first, show an echo
/// of them rather than an answer.
const OWN_BYTES_MIN: usize = 4;

/// Where in `c2s` (what the client sent) the first bytes that came back
/// (`s2c`, which holds no response head) were sent, when they are the
/// client's own: no response came, and the connection echoes.
fn own_bytes(s2c: &[u8], c2s: &[u8]) -> Option<usize> {
    let first = &s2c[..s2c.len().min(64)];
    if first.len() < OWN_BYTES_MIN || first.starts_with(b"HTTP/") {
        return None;
    }
    find(c2s, first)
}

/// The diagnosis of a connection that echoed the client's own bytes (from
/// byte `at` of what it sent) without any response: a tunnel (or an echo)
/// without a `101`, not a response that does not parse.
fn tunnel_without_response(
    s2c: &[u8],
    at: usize,
    obs: &BlackBoxObservation<'_>,
    who: &str,
) -> String {
    let what = if at < obs.request.head_len {
        "its own request head"
    } else if at < obs.message_len {
        "its own request body"
    } else if s2c.starts_with(NEXT_REQUEST) {
        "its own next request, pipelined after the upgrade"
    } else {
        "its own bytes sent after the request"
    };
    format!(
        "no response came: {who} sent no response head, and the {} that came back are the client's own, \
         echoed from byte {at} of what it sent ({what}: {}); the connection became a tunnel without a 101 \
         (or any answer), so bytes were handed over without a switch",
        count(s2c.len()),
        preview(s2c, 40)
    )
}

fn judged(verdict: Verdict) -> Judged {
    Judged {
        verdict,
        unsupported: None,
    }
}

/// Whether `response` is Docker's explicit hijack: `200` with the raw-stream type.
fn explicit_raw_stream(response: &head::ResponseHead) -> bool {
    response.status == 200
        && head::header_value(&response.headers, "content-type")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case(crate::scenario::RAW_STREAM))
}

/// Whether the client's closing followed its data at once and the server closed
/// having echoed a prefix of it: only the tail is missing, nothing else is wrong.
fn closed_on_close_first(
    obs: &BlackBoxObservation<'_>,
    found: &[Discrepancy],
    server_fin: bool,
) -> bool {
    obs.fin_at_once
        && obs.client_closed
        && server_fin
        && matches!(found, [Discrepancy::Lost { range }] if range.end == obs.expected_echo.len())
}

/// The echo differs from what the client sent: one violation per point, each
/// clause naming the bytes. A tail lost when the client's FIN followed its data
/// at once is the half-close (point 5), named with the FIN; extra bytes that are
/// part of the request message or an HTTP response are named as such.
fn echo_verdict(
    verdict: &mut Verdict,
    obs: &BlackBoxObservation<'_>,
    c2s: &[u8],
    echoed: &[u8],
    found: &[Discrepancy],
    server_fin: bool,
    who: &str,
) {
    let trace = obs.trace;
    let message = &c2s[..obs.message_len.min(c2s.len())];
    let place = |offset: usize| match obs.decode {
        None => format!(
            " {}",
            locate(
                trace,
                Direction::ClientToServer,
                obs.message_len + offset,
                obs.message_len
            )
        ),
        Some(_) => String::new(),
    };
    if closed_on_close_first(obs, found, server_fin) {
        // (A WebSocket server that answers the Close first is judged by the caller.)
        let clauses = echo_clauses(found, "the client", place);
        verdict.fail(
            Point::HalfClose,
            format!(
                "the client half-closed (FIN) right after its last bytes, and {who} closed without echoing \
                 them: {} of the {} came back; {}. The bytes in flight when the FIN arrived were lost",
                count(echoed.len()),
                count(obs.expected_echo.len()),
                clauses.join("; ")
            ),
        );
        return;
    }
    let mut by_point: Vec<(Point, Vec<String>)> = Vec::new();
    let mut push =
        |point: Point, clause: String| match by_point.iter_mut().find(|(p, _)| *p == point) {
            Some((_, clauses)) => clauses.push(clause),
            None => by_point.push((point, vec![clause])),
        };
    for d in found {
        let named = match d {
            Discrepancy::Extra { at, bytes } => named::name(bytes, *at, message, obs.request, who),
            _ => None,
        };
        match named {
            Some(named) => push(named.point, named.clause),
            None => {
                let clause = echo_clauses(std::slice::from_ref(d), "the client", place)
                    .pop()
                    .unwrap_or_default();
                let point = match d {
                    Discrepancy::Extra { .. } => Point::Ownership,
                    _ => Point::ServerRead,
                };
                push(point, clause);
            }
        }
    }
    for (point, clauses) in by_point {
        verdict.fail(
            point,
            format!(
                "{who} echoed {} of the {} the client sent after the request: {}",
                count(echoed.len()),
                count(obs.expected_echo.len()),
                clauses.join("; ")
            ),
        );
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One clause per discrepancy between what `sender` sent and what came back in
/// the echo; `place` says (with a leading space) where a byte offset travelled.
pub(crate) fn echo_clauses(
    found: &[Discrepancy],
    sender: &str,
    place: impl Fn(usize) -> String,
) -> Vec<String> {
    found
        .iter()
        .map(|d| match d {
            Discrepancy::Lost { range } => format!(
                "bytes {}..{} ({}) never came back{}",
                range.start,
                range.end,
                count(range.len()),
                place(range.start)
            ),
            Discrepancy::Extra { at, bytes } => format!(
                "{} that {sender} never sent came back at byte {at}: {}",
                count(bytes.len()),
                preview(bytes, 40)
            ),
            Discrepancy::Duplicated { range, at } => format!(
                "bytes {}..{} came back twice (again at byte {at})",
                range.start, range.end
            ),
            Discrepancy::Reordered { range, at } => format!(
                "bytes {}..{}{} came back out of order, at byte {at} after bytes sent later",
                range.start,
                range.end,
                place(range.start)
            ),
        })
        .collect()
}
