//! Points 1 and 2: the application reads exactly what the peer sent after the
//! message, then EOF if and only if the peer closed.

use std::ops::Range;

use super::compare::{Discrepancy, compare};
use super::describe::{count, describe, locate, preview};
use super::verdict::{Fault, Mark, Verdict};
use crate::invariant::Point;
use crate::subject::AppRecord;
use crate::wire::{Direction, Side, Trace};

/// Points 1 and 2 for the subject's side: its application read exactly what the
/// peer sent after the message (`stream[body.end..]`), then EOF if and only if
/// the peer closed. `body` is where the message's body (framing included) is in
/// `stream`, empty at the end of the message when it has none: the message ends
/// at `body.end`. `never` is the diagnosis when there was no hand-over at all.
pub(super) fn check_read_side(
    verdict: &mut Verdict,
    trace: &Trace,
    app: &AppRecord,
    side: Side,
    stream: &[u8],
    body: Range<usize>,
    never: impl FnOnce() -> String,
) {
    let message_end = body.end;
    let (point, dir, peer, what) = match side {
        Side::Server => (
            Point::ServerRead,
            Direction::ClientToServer,
            "client",
            "the client sent after the request",
        ),
        Side::Client => (
            Point::ClientRead,
            Direction::ServerToClient,
            "server",
            "the server sent after its head",
        ),
    };
    if !app.hijacked {
        verdict.fail(point, never());
        return;
    }
    let sent_after = &stream[message_end.min(stream.len())..];
    let mut read = &app.read[..];
    let mut found = compare(sent_after, read);
    if !found.is_empty()
        && let Some(start) = body_handed_over(stream, &body, read, sent_after)
    {
        let taken = body.end - start;
        verdict.fail_marked(
            point,
            format!(
                "the {side} app read the last {} of the request body ({} with its framing) as new-protocol \
                 data, before the bytes sent after the request: {}. The library handed the connection \
                 over before the end of the request message; a body left unread must be discarded \
                 first, or the hand-over refused (kubernetes#117722, nodejs#58394)",
                count(taken),
                count(body.len()),
                preview(&stream[start..body.end], 40)
            ),
            vec![Mark::Bytes {
                dir,
                range: start..body.end,
                fault: Fault::HandedOver,
            }],
        );
        read = &read[taken..];
        found = compare(sent_after, read);
    }
    if !found.is_empty() {
        let place = |offset: usize| locate(trace, dir, message_end + offset, message_end);
        let marks = read_marks(dir, stream, message_end, &found);
        let who = format!("{side} app");
        let message = describe(&who, what, sent_after.len(), read, &found, place);
        verdict.fail_marked(point, message, marks);
    }
    check_eof(
        verdict,
        point,
        side,
        peer,
        trace.fin(dir).is_some(),
        app,
        found.is_empty(),
    );
}

/// Where in `stream` the body bytes start that the application read first, when
/// it read the end of the body (`stream[start..body.end]`) before what was sent
/// after the message: the library handed over with part of the body unread. A
/// short tail counts only when what follows it is exactly what was sent after the
/// message, so that noise that happens to start with `\n` is not called a body.
fn body_handed_over(
    stream: &[u8],
    body: &Range<usize>,
    read: &[u8],
    sent_after: &[u8],
) -> Option<usize> {
    let end = body.end.min(stream.len());
    (body.start..end).find(|&start| {
        let tail = &stream[start..end];
        read.starts_with(tail) && (tail.len() >= 4 || read[tail.len()..] == *sent_after)
    })
}

/// EOF is seen if and only if the peer closed, and only after everything it sent.
fn check_eof(
    verdict: &mut Verdict,
    point: Point,
    who: Side,
    peer: &str,
    peer_fin: bool,
    app: &AppRecord,
    all_read: bool,
) {
    if peer_fin && all_read && !app.saw_eof && app.error.is_none() {
        verdict.fail(
            point,
            format!("the {peer} closed its write half, but the {who} app never saw EOF"),
        );
    }
    if !peer_fin && app.saw_eof {
        verdict.fail(
            point,
            format!("the {who} app saw EOF, but the {peer} never closed its write half"),
        );
    }
}

/// Where the bytes of a read-side discrepancy travelled: `base` is where the new
/// protocol starts in `stream` (the end of the HTTP message), and the offsets in
/// `found` count from there. Bytes the application read that were never sent after
/// the message are looked for inside the message: that is where a library that
/// left part of the message unconsumed (an empty chunked body's `0\r\n\r\n`) got them.
fn read_marks(dir: Direction, stream: &[u8], base: usize, found: &[Discrepancy]) -> Vec<Mark> {
    let base = base.min(stream.len());
    let clamp = |range: &Range<usize>| {
        (base + range.start).min(stream.len())..(base + range.end).min(stream.len())
    };
    found
        .iter()
        .filter_map(|d| match d {
            Discrepancy::Lost { range } => Some(Mark::Bytes {
                dir,
                range: clamp(range),
                fault: Fault::Lost,
            }),
            Discrepancy::Duplicated { range, .. } => Some(Mark::Bytes {
                dir,
                range: clamp(range),
                fault: Fault::Duplicated,
            }),
            Discrepancy::Reordered { range, .. } => Some(Mark::Bytes {
                dir,
                range: clamp(range),
                fault: Fault::Reordered,
            }),
            Discrepancy::Extra { bytes, .. } => {
                rfind(&stream[..base], bytes).map(|start| Mark::Bytes {
                    dir,
                    range: start..start + bytes.len(),
                    fault: Fault::Extra,
                })
            }
        })
        .collect()
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).rposition(|w| w == needle)
}
