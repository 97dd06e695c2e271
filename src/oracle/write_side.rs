//! Points 3, 4 and 5: what the subject put on the wire after the message is
//! exactly what its application wrote, the library did not close the connection
//! under the application, and a shutdown became a FIN.

use super::compare::{Discrepancy, compare};
use super::describe::{count, locate, preview};
use super::verdict::{Fault, Mark, Verdict};
use crate::invariant::Point;
use crate::subject::AppRecord;
use crate::wire::{Direction, Side, Trace};

/// Points 3, 4 and 5 for the subject's side: what it put on the wire after the
/// message is exactly what its application wrote; it did not close the connection
/// under the application; a shutdown became a FIN.
pub(super) fn check_write_side(
    verdict: &mut Verdict,
    trace: &Trace,
    app: &AppRecord,
    side: Side,
    on_wire: &[u8],
    base: usize,
) {
    let dir = Direction::written_by(side);
    // Written by `Display` into each message: a run that passes formats nothing.
    let who = side;
    if app.hijacked || !on_wire.is_empty() {
        for d in compare(&app.written, on_wire) {
            let place = locate(trace, dir, base + d.at_actual(), base);
            let marks = vec![match d {
                Discrepancy::Extra { at, ref bytes } => Mark::Bytes {
                    dir,
                    range: base + at..base + at + bytes.len(),
                    fault: Fault::Extra,
                },
                Discrepancy::Lost { ref range } => Mark::Missing {
                    dir,
                    at: base + range.start,
                    len: range.len(),
                },
                Discrepancy::Duplicated { ref range, at } => Mark::Bytes {
                    dir,
                    range: base + at..base + at + range.len(),
                    fault: Fault::Duplicated,
                },
                Discrepancy::Reordered { ref range, at } => Mark::Bytes {
                    dir,
                    range: base + at..base + at + range.len(),
                    fault: Fault::Reordered,
                },
            }];
            match d {
                Discrepancy::Extra { at, ref bytes } => verdict.fail_marked(
                    Point::Ownership,
                    format!(
                        "the {who} library wrote {} of its own after the hand-over, at byte {at} of the new \
                         protocol {place}: {}",
                        count(bytes.len()),
                        preview(bytes, 40)
                    ),
                    marks,
                ),
                Discrepancy::Lost { ref range } => {
                    let when = if range.start < app.written_before_hijack {
                        " (written before the hijack, still unflushed then)"
                    } else {
                        ""
                    };
                    verdict.fail_marked(
                        Point::WriteOrder,
                        format!(
                            "bytes {}..{} the {who} app wrote{when} never reached the wire ({})",
                            range.start,
                            range.end,
                            count(range.len())
                        ),
                        marks,
                    )
                }
                Discrepancy::Duplicated { ref range, at } => verdict.fail_marked(
                    Point::WriteOrder,
                    format!("bytes {}..{} the {who} app wrote went on the wire twice (again at byte {at})", range.start, range.end),
                    marks,
                ),
                Discrepancy::Reordered { ref range, at } => verdict.fail_marked(
                    Point::WriteOrder,
                    format!(
                        "bytes {}..{} the {who} app wrote went on the wire out of order (at byte {at}, after later bytes)",
                        range.start, range.end
                    ),
                    marks,
                ),
            }
        }
    }
    let fin = trace.fin(dir);
    if app.hijacked
        && let Some((fin_at, how)) = fin
    {
        let released = [trace.app_shutdown(side), trace.app_end(side)]
            .into_iter()
            .flatten()
            .min();
        if released.is_none_or(|at| at > fin_at) {
            let how = match how {
                crate::wire::Closing::Shutdown => "shut down the write half",
                crate::wire::Closing::Dropped => "closed the connection",
            };
            verdict.fail_marked(
                Point::Ownership,
                format!("the {who} library {how} while its application still owned the stream"),
                vec![Mark::Event { index: fin_at }],
            );
        }
    }
    match fin {
        _ if !app.shut_down => {}
        Some((_, crate::wire::Closing::Shutdown)) => {}
        Some((fin_at, crate::wire::Closing::Dropped)) => verdict.fail_marked(
            Point::HalfClose,
            format!(
                "the {who} app shut down its write half, but no FIN was sent until the stream was dropped: \
                 the peer waited for EOF while the {who} still read"
            ),
            vec![Mark::Event { index: fin_at }],
        ),
        None => verdict.fail(
            Point::HalfClose,
            format!("the {who} app shut down its write half, but no FIN reached the peer: it waits for EOF forever"),
        ),
    }
}
