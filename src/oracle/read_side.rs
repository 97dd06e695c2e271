//! Points 1 and 2: the application reads exactly what the peer sent after the
//! message, then EOF if and only if the peer closed.

use std::ops::Range;

use super::compare::{Discrepancy, compare};
use super::describe::{describe, locate};
use super::verdict::{Fault, Mark, Point, Verdict};
use crate::subject::AppRecord;
use crate::wire::{Direction, Side, Trace};

/// Points 1 and 2 for the subject's side: its application read exactly what the
/// peer sent after the message (`stream[message_end..]`), then EOF if and only if
/// the peer closed. `never` is the diagnosis when there was no hand-over at all.
pub(super) fn check_read_side(
    verdict: &mut Verdict,
    trace: &Trace,
    app: &AppRecord,
    side: Side,
    stream: &[u8],
    message_end: usize,
    never: impl FnOnce() -> String,
) {
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
    let found = compare(sent_after, &app.read);
    if !found.is_empty() {
        let place = |offset: usize| locate(trace, dir, message_end + offset, message_end);
        let marks = read_marks(dir, stream, message_end, &found);
        let who = format!("{side} app");
        let message = describe(&who, what, sent_after.len(), &app.read, &found, place);
        verdict.fail_marked(point, message, marks);
    }
    let who = side.to_string();
    check_eof(
        verdict,
        point,
        &who,
        peer,
        trace.fin(dir).is_some(),
        app,
        found.is_empty(),
    );
}

/// EOF is seen if and only if the peer closed, and only after everything it sent.
fn check_eof(
    verdict: &mut Verdict,
    point: Point,
    who: &str,
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
