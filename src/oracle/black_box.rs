//! The oracle for a peer that runs in another process: no application record
//! exists, only the wire. The black-box protocols (DESIGN.md) make the wire
//! enough: the server echoes, so everything the client sent after its request must
//! come back, in order, nothing extra, and EOF must follow the client's FIN. A
//! byte the library lost in its read-ahead is a byte that never comes back, and
//! the trace says which segment it travelled in.

use super::{Discrepancy, Point, Verdict, compare, count, locate, preview};
use crate::reference::head;
use crate::scenario::NEXT_REQUEST;
use crate::wire::driver::Ending;
use crate::wire::{Direction, Trace};

/// What the request asked for, and so what answer hands the connection over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// An upgrade: `101` switches.
    Upgrade,
    /// A `CONNECT`: any `2xx` switches.
    Connect,
    /// Docker's older attach: a `200` and then raw bytes (an explicit hijack).
    Explicit,
    /// An upgrade the peer cannot accept (an unknown token): nothing may switch,
    /// and the pipelined request after it must be answered as HTTP.
    Refusal,
}

/// Turns the bytes after a response head into the echoed payload (or says why not).
pub type Decoder = dyn Fn(&[u8]) -> Result<Vec<u8>, String>;

/// Everything a black-box run produced.
pub struct BlackBoxObservation<'a> {
    /// What crossed the wire, as the harness's socket saw it.
    pub trace: &'a Trace,
    /// How long the request message (head and body) is in the client-to-server stream.
    pub message_len: usize,
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
    /// How the run ended.
    pub ending: Ending,
}

/// Judges a black-box server (or a proxy in front of the harness's echo server).
pub fn judge_black_box(obs: &BlackBoxObservation<'_>) -> Verdict {
    let mut verdict = Verdict::default();
    let trace = obs.trace;
    let s2c = trace.stream(Direction::ServerToClient);
    let (response, head_end) = match head::parse_final_response(&s2c) {
        Err(e) => {
            verdict.fail(
                Point::Handshake,
                format!(
                    "the response head does not parse: {e} (first bytes: {})",
                    preview(&s2c, 60)
                ),
            );
            return verdict;
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
                    "no complete response head arrived: the server sent {} {how}",
                    count(s2c.len())
                ),
            );
            return verdict;
        }
        Ok(Some(found)) => found,
    };
    super::check_switching_head(&mut verdict, &response);
    let switched = match obs.expect {
        Expect::Upgrade | Expect::Refusal => response.status == 101,
        Expect::Connect => (200..300).contains(&response.status),
        Expect::Explicit => response.status == 200,
    };
    let after = &s2c[head_end..];

    if obs.expect == Expect::Refusal {
        if switched {
            verdict.notes.push(format!(
                "the server switched protocols ({}) for an upgrade token it cannot know; refusal not tested",
                response.status
            ));
            verdict.fail(
                Point::NoFalseUpgrade,
                "the server answered 101 to an unknown upgrade token: it switched to a protocol nobody asked it to speak",
            );
        } else if let Some(at) = find(after, NEXT_REQUEST) {
            verdict.fail(
                Point::NoFalseUpgrade,
                format!(
                    "the server answered {} and then echoed the next HTTP request back raw (at byte {at} after its head): \
                     it handed the connection over without switching",
                    response.status
                ),
            );
        } else if find(after, b"HTTP/1.").is_none() {
            verdict.notes.push(format!(
                "the server answered {} and did not answer the pipelined request after it (it may close instead)",
                response.status
            ));
        }
        return verdict;
    }

    if !switched {
        verdict.fail(
            Point::Handshake,
            format!(
                "the server answered {} {}, which does not hand the connection over",
                response.status, response.reason
            ),
        );
        return verdict;
    }

    let echoed = match obs.decode {
        None => after.to_vec(),
        Some(decode) => match decode(after) {
            Ok(bytes) => bytes,
            Err(e) => {
                verdict.fail(Point::ServerRead, format!("the echo does not decode: {e}"));
                return verdict;
            }
        },
    };
    let found = compare(obs.expected_echo, &echoed);
    if !found.is_empty() {
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
        let parts = echo_clauses(&found, "the client", place);
        let point = if found.iter().all(|d| matches!(d, Discrepancy::Extra { .. })) {
            Point::Ownership
        } else {
            Point::ServerRead
        };
        verdict.fail(
            point,
            format!(
                "the server echoed {} of the {} the client sent after the request: {}",
                count(echoed.len()),
                count(obs.expected_echo.len()),
                parts.join("; ")
            ),
        );
    }

    let server_fin = trace.fin(Direction::ServerToClient).is_some();
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
                "the client closed its write half, and the server echoed everything but never closed its own: \
                 EOF never arrived ({})",
                match obs.ending {
                    Ending::Quiet => "the connection went quiet",
                    _ => "the run ended first",
                }
            ),
        ),
        (false, true) => verdict.fail(
            Point::Ownership,
            "the server closed the connection although the client had not closed its write half",
        ),
        _ => {}
    }
    verdict
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Judges a black-box client that follows the `--client-cmd` contract: it asked
/// for `Upgrade: echo`, and after the 101 echoed everything the server sent after
/// its head (`expected_echo`), then closed after the server's FIN.
pub fn judge_black_box_client(
    trace: &Trace,
    refused: bool,
    expected_echo: &[u8],
    response_len: usize,
    server_closed: bool,
) -> Verdict {
    let mut verdict = Verdict::default();
    let c2s = trace.stream(Direction::ClientToServer);
    let (request, message_len) = match head::request_message_len(&c2s) {
        Err(e) => {
            verdict.fail(
                Point::Handshake,
                format!(
                    "the client's request does not parse: {e} (first bytes: {})",
                    preview(&c2s, 60)
                ),
            );
            return verdict;
        }
        Ok(None) => {
            verdict.fail(
                Point::Handshake,
                format!(
                    "the client never sent a complete request ({})",
                    count(c2s.len())
                ),
            );
            return verdict;
        }
        Ok(Some(found)) => found,
    };
    if !request.wants_upgrade()
        || !head::header_value(&request.headers, "upgrade")
            .is_some_and(|v| v.eq_ignore_ascii_case("echo"))
    {
        verdict.fail(
            Point::Handshake,
            "the client did not ask for `Connection: Upgrade` + `Upgrade: echo` (see the client contract in --help)",
        );
        return verdict;
    }
    let after = &c2s[message_len..];
    if refused {
        if !after.is_empty() && head::request_message_len(after).ok().flatten().is_none() {
            verdict.fail(
                Point::NoFalseUpgrade,
                format!(
                    "after a refusal the client sent {} that are not HTTP (it echoed as if upgraded): {}",
                    count(after.len()),
                    preview(after, 40)
                ),
            );
        }
        return verdict;
    }
    let found = compare(expected_echo, after);
    if !found.is_empty() {
        let place = |offset: usize| {
            locate(
                trace,
                Direction::ServerToClient,
                response_len + offset,
                response_len,
            )
        };
        let parts = echo_clauses(&found, "the server", |offset| format!(" {}", place(offset)));
        verdict.fail(
            Point::ClientRead,
            format!(
                "the client echoed {} of the {} the server sent after its head: {}",
                count(after.len()),
                count(expected_echo.len()),
                parts.join("; ")
            ),
        );
    }
    let client_fin = trace.fin(Direction::ClientToServer).is_some();
    match (server_closed, client_fin) {
        (true, false) if found.is_empty() => verdict.fail(
            Point::HalfClose,
            "the server closed its write half, but the client never closed after EOF",
        ),
        (false, true) => verdict.fail(
            Point::Ownership,
            "the client closed the connection although the server had not closed",
        ),
        _ => {}
    }
    verdict
}

/// One clause per discrepancy between what `sender` sent and what came back in
/// the echo; `place` says (with a leading space) where a byte offset travelled.
fn echo_clauses(
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
