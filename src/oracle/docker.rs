//! The judgement of a Docker client from what it prints and what it sends.
//!
//! A CLI does not echo, so the harness watches the two ends it controls: the
//! command's stdout and stderr (what the client made of the container's stream)
//! and the stub's end of the attach connection (what the client sent there).
//! With `C` the stdin the case wrote and `S` the container output the stub sent:
//!
//! * point 2: the client prints `S` exactly, in order, each frame's payload on
//!   its stream (stdout or stderr; everything on stdout with a TTY);
//! * point 1, mirrored: the stub reads exactly `C` after the attach request;
//! * point 5: once its stdin is closed the client sends FIN on the attach
//!   connection, and still prints the output that comes after it;
//! * point 6: after a `404` or `409` (with or without `Connection: close`) the
//!   client prints none of the answer's body or the bytes after it as output,
//!   and sends nothing on that connection but HTTP requests.
//!
//! A diagnosis names the stream, the frame and the byte ranges: where the bytes
//! sit in what the client should have printed, and in the attach connection.

use std::ops::Range;

use crate::oracle::{Discrepancy, Fault, Mark, Point, Verdict, Violation, compare, count, preview};
use crate::reference::head;
use crate::stdcopy::Stream;
use crate::suite::Case;
use crate::suite::attach::{Attach, Piece};
use crate::wire::{Direction, Event, Trace};

/// Where a hijack request was answered, and where the new protocol starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    /// The connection, by accept order.
    pub connection: usize,
    /// The request's method and target.
    pub request: String,
    /// Where the request message ended in the connection's client-to-server
    /// stream: every byte after it is stdin (after a `101`) or the next request.
    pub stdin_from: usize,
    /// Where the answer's head ended in the server-to-client stream: the
    /// container output starts here (after a refusal: the JSON body).
    pub output_from: usize,
    /// Whether the client attached its stdin (`stdin=1`, or `AttachStdin`).
    pub stdin_attached: bool,
    /// Whether the stub refused instead of answering `101`.
    pub refused: bool,
    /// Why the client's request does not fit the case, when it does not (an
    /// exec created without the TTY setting the case's stream has).
    pub mismatch: Option<String>,
}

/// Everything a Docker client run left.
#[derive(Debug)]
pub struct ClientObservation<'a> {
    /// The case.
    pub case: &'a Case<Attach>,
    /// What the command printed on stdout.
    pub stdout: &'a [u8],
    /// What the command printed on stderr.
    pub stderr: &'a [u8],
    /// Where the stub answered the hijack request, if the client sent one.
    pub handover: Option<&'a Handover>,
    /// The trace of the handed-over (or refused) connection.
    pub trace: &'a Trace,
    /// Whether the harness closed the command's stdin.
    pub stdin_closed: bool,
}

/// The judgement, or why the case does not apply to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// The client spoke the case's contract: the verdict.
    Judged(Verdict),
    /// The client never asked to attach: nothing to judge.
    Unsupported(String),
}

/// Judges one run.
pub fn judge(obs: &ClientObservation<'_>) -> Judgement {
    let Some(handover) = obs.handover else {
        return Judgement::Unsupported(
            "the client never asked to attach or to start an exec".into(),
        );
    };
    if let Some(why) = &handover.mismatch {
        return Judgement::Unsupported(why.clone());
    }
    let mut verdict = Verdict::default();
    if handover.refused {
        judge_refusal(obs, handover, &mut verdict);
    } else {
        judge_stream(obs, handover, &mut verdict);
    }
    Judgement::Judged(verdict)
}

fn fail(verdict: &mut Verdict, point: Point, message: String, marks: Vec<Mark>) {
    verdict.violations.push(Violation {
        point,
        message,
        marks,
        level: None,
    });
}

fn judge_stream(obs: &ClientObservation<'_>, handover: &Handover, verdict: &mut Verdict) {
    let case = obs.case;
    let c2s = obs.trace.stream(Direction::ClientToServer);
    let s2c = obs.trace.stream(Direction::ServerToClient);
    let client_fin = obs.trace.fin(Direction::ClientToServer).is_some();
    let sent = s2c.len().saturating_sub(handover.output_from);
    let (_, _, pieces) = case.scenario.wire();

    // Stdin, point 1 mirrored.
    if handover.stdin_attached {
        let received = c2s.get(handover.stdin_from..).unwrap_or_default();
        let found = compare(&case.scenario.stdin, received);
        if !found.is_empty() {
            let parts: Vec<String> = found
                .iter()
                .map(|d| clause(d, "written on stdin", |_| String::new()))
                .collect();
            fail(
                verdict,
                Point::ServerRead,
                format!(
                    "the stub read {} of the {} the case wrote on the client's stdin, after the attach request ({}): {}",
                    count(received.len()),
                    count(case.scenario.stdin.len()),
                    handover.request,
                    parts.join("; ")
                ),
                Vec::new(),
            );
        }
        if obs.stdin_closed && !client_fin {
            let after: usize = case.scenario.after_eof.iter().map(|(_, b)| b.len()).sum();
            let reset = obs.trace.events.iter().any(|e| {
                matches!(
                    e,
                    Event::Reset {
                        dir: Direction::ClientToServer
                    }
                )
            });
            let how = if reset {
                "the client reset the connection (RST) instead of shutting down its write half"
            } else {
                "the client never shut down its write half (CloseWrite, moby/moby#36516)"
            };
            let lost = if after > 0 {
                format!(
                    ", and the {} it writes after EOF were never sent",
                    count(after)
                )
            } else {
                String::new()
            };
            // A TTY case's stdin is a terminal, and its end is a hang-up (runner::process::terminal).
            let closed = if case.scenario.tty {
                "hung up the client's terminal (its stdin)"
            } else {
                "closed the client's stdin"
            };
            fail(
                verdict,
                Point::HalfClose,
                format!(
                    "the harness {closed}, but no FIN arrived on the attach connection: \
                     {how}, so the container never saw EOF{lost}"
                ),
                Vec::new(),
            );
        }
    } else {
        verdict.notes.push(format!(
            "the client did not attach its stdin ({}): what it sends is not judged",
            handover.request
        ));
    }

    // Output, point 2 (point 5 for what follows the client's FIN). With a TTY
    // the container has no stderr: the client's own stderr is its business.
    let streams: &[Stream] = if case.scenario.tty {
        &[Stream::Stdout]
    } else {
        &[Stream::Stdout, Stream::Stderr]
    };
    for &stream in streams {
        let mine: Vec<&Piece> = pieces
            .iter()
            .filter(|p| p.stream == stream && p.wire.start < sent)
            .collect();
        let mut expected = Vec::new();
        for piece in &mine {
            let end = piece.wire.end.min(sent);
            let payload = case.scenario.expected(stream);
            expected.extend_from_slice(
                &payload[piece.printed.start..piece.printed.start + (end - piece.wire.start)],
            );
        }
        let printed = match stream {
            Stream::Stdout => obs.stdout,
            _ => obs.stderr,
        };
        let found = compare(&expected, printed);
        if found.is_empty() {
            continue;
        }
        let place = |offset: usize| describe_place(obs.trace, handover, &mine, offset);
        let parts: Vec<String> = found
            .iter()
            .map(|d| clause(d, "the container wrote", place))
            .collect();
        let after_eof_only = found.iter().all(|d| match d {
            Discrepancy::Lost { range } => mine
                .iter()
                .filter(|p| overlaps(&p.printed, range))
                .all(|p| p.after_eof),
            _ => false,
        });
        let marks = found
            .iter()
            .filter_map(|d| match d {
                Discrepancy::Lost { range } => Some(wire_marks(handover, &mine, range)),
                _ => None,
            })
            .flatten()
            .collect();
        let (point, context) = if after_eof_only {
            (
                Point::HalfClose,
                ", all of it sent after the client's FIN: its read half stopped working",
            )
        } else {
            (Point::ClientRead, "")
        };
        fail(
            verdict,
            point,
            format!(
                "the client printed {} on {stream} of the {} the container wrote there{context}: {}",
                count(printed.len()),
                count(expected.len()),
                parts.join("; ")
            ),
            marks,
        );
    }
    let total: usize = case
        .scenario
        .output
        .iter()
        .chain(&case.scenario.after_eof)
        .map(|(_, b)| b.len())
        .sum();
    let unsent: usize = pieces
        .iter()
        .filter(|p| p.wire.end > sent)
        .map(|p| p.wire.end - p.wire.start.max(sent))
        .sum();
    if unsent > 0 && !(obs.stdin_closed && !client_fin && handover.stdin_attached) {
        verdict.notes.push(format!(
            "the stub could send only {} of the {} of container output (the connection ended first)",
            count(total - unsent),
            count(total)
        ));
    }
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// Where printed offset `offset` of a stream travelled: its frame, its bytes on
/// the attach connection, and the segment that carried it.
fn describe_place(trace: &Trace, handover: &Handover, pieces: &[&Piece], offset: usize) -> String {
    let Some(piece) = pieces.iter().find(|p| p.printed.contains(&offset)) else {
        return String::new();
    };
    let at = handover.output_from + piece.wire.start + (offset - piece.printed.start);
    let frame = piece
        .frame
        .map(|f| format!("frame {f}'s payload, "))
        .unwrap_or_default();
    let segment = match trace.segment_at(Direction::ServerToClient, at) {
        Some((index, start)) if start < handover.output_from => {
            format!("s>c segment {index}, the one that carried the 101 head")
        }
        Some((index, _)) => format!("s>c segment {index}"),
        None => "never on the wire".into(),
    };
    let after = if piece.after_eof {
        ", sent after the client's FIN"
    } else {
        ""
    };
    format!(" ({frame}attach connection byte {at}, {segment}{after})")
}

fn wire_marks(handover: &Handover, pieces: &[&Piece], range: &Range<usize>) -> Vec<Mark> {
    pieces
        .iter()
        .filter(|p| overlaps(&p.printed, range))
        .map(|p| {
            let start = range.start.max(p.printed.start) - p.printed.start + p.wire.start;
            let end = range.end.min(p.printed.end) - p.printed.start + p.wire.start;
            Mark::Bytes {
                dir: Direction::ServerToClient,
                range: handover.output_from + start..handover.output_from + end,
                fault: Fault::Lost,
            }
        })
        .collect()
}

/// One clause for a discrepancy between what was sent (`what`) and what arrived.
fn clause(d: &Discrepancy, what: &str, place: impl Fn(usize) -> String) -> String {
    match d {
        Discrepancy::Lost { range } => format!(
            "bytes {}..{} ({}) {what} never arrived{}",
            range.start,
            range.end,
            count(range.len()),
            place(range.start)
        ),
        Discrepancy::Extra { at, bytes } => format!(
            "{} that were never sent arrived at byte {at}: {}",
            count(bytes.len()),
            preview(bytes, 40)
        ),
        Discrepancy::Duplicated { range, at } => format!(
            "bytes {}..{} arrived twice (again at byte {at}){}",
            range.start,
            range.end,
            place(range.start)
        ),
        Discrepancy::Reordered { range, at } => format!(
            "bytes {}..{}{} arrived out of order, at byte {at} after bytes sent later",
            range.start,
            range.end,
            place(range.start)
        ),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Whether `bytes` start like an HTTP request line (a method token and a space).
fn looks_like_request(bytes: &[u8]) -> bool {
    let method = bytes.iter().take_while(|b| b.is_ascii_uppercase()).count();
    method > 0 && (method == bytes.len() || bytes[method] == b' ')
}

fn judge_refusal(obs: &ClientObservation<'_>, handover: &Handover, verdict: &mut Verdict) {
    let Some(refusal) = &obs.case.scenario.refusal else {
        return;
    };
    let answer = format!(
        "the {}{}",
        refusal.status,
        if refusal.close {
            " with Connection: close"
        } else {
            ""
        }
    );
    // What the client sent on the refused connection must still be HTTP.
    let c2s = obs.trace.stream(Direction::ClientToServer);
    let mut rest = c2s.get(handover.stdin_from..).unwrap_or_default();
    let mut offset = handover.stdin_from;
    while !rest.is_empty() {
        match head::request_message_len(rest) {
            Ok(Some((_, len))) => {
                rest = &rest[len..];
                offset += len;
            }
            Ok(None) if looks_like_request(rest) => break,
            _ => {
                let stdin = find(&obs.case.scenario.stdin, rest)
                    .map(|at| format!(": the case's stdin, bytes {at}..{}", at + rest.len()))
                    .unwrap_or_default();
                fail(
                    verdict,
                    Point::NoFalseUpgrade,
                    format!(
                        "after {answer} to {} the client sent {} that are not HTTP on that connection \
                         (c>s bytes {offset}..{}){stdin}: it handed the connection over without a 101: {}",
                        handover.request,
                        count(rest.len()),
                        offset + rest.len(),
                        preview(rest, 40)
                    ),
                    vec![Mark::Bytes {
                        dir: Direction::ClientToServer,
                        range: offset..offset + rest.len(),
                        fault: Fault::HandedOver,
                    }],
                );
                break;
            }
        }
    }
    // Nothing of the answer's body or the bytes after it is container output.
    let body = refusal.body();
    let body_range = handover.output_from..handover.output_from + body.len();
    let trailing_at = body_range.end;
    let mut printed = Vec::new();
    if let Some(at) = find(obs.stdout, &body) {
        printed.push((
            format!(
                "the answer's JSON body (s>c bytes {}..{}) at stdout byte {at}",
                body_range.start, body_range.end
            ),
            body_range.clone(),
        ));
    }
    for (stream, out) in [(Stream::Stdout, obs.stdout), (Stream::Stderr, obs.stderr)] {
        if let Some(at) = find(out, &refusal.trailing) {
            printed.push((
                format!(
                    "the {} the stub sent after the body (s>c bytes from {trailing_at}) at {stream} byte {at}",
                    count(refusal.trailing.len())
                ),
                trailing_at..trailing_at + refusal.trailing.len(),
            ));
        }
    }
    if !printed.is_empty() {
        let marks = printed
            .iter()
            .map(|(_, range)| Mark::Bytes {
                dir: Direction::ServerToClient,
                range: range.clone(),
                fault: Fault::HandedOver,
            })
            .collect();
        let what: Vec<String> = printed.into_iter().map(|(text, _)| text).collect();
        fail(
            verdict,
            Point::NoFalseUpgrade,
            format!(
                "after {answer} to {} the client printed, as container output, {}",
                handover.request,
                what.join("; and ")
            ),
            marks,
        );
    }
}

#[cfg(test)]
mod tests;
