//! The oracle's diagnosis drawn over the trace: each violation's message exactly
//! as the oracle wrote it, then each place it marked ([`Mark`]): the fault and
//! the stream offsets, the segment re-printed as the trace's text shows it
//! ([`crate::wire::text`]), and a caret line under the bytes. Inside a long
//! segment the elision is split at the marked range's ends, so the carets land on
//! the first and last wrong byte rather than on a whole elided run. Bytes that
//! never reached the wire get one caret where they belonged; a FIN sent too early
//! is underlined.

use std::fmt::Write;
use std::ops::Range;

use super::{Mark, Violation, count};
use crate::wire::text::{event_line, event_starts, segment_prefix, show};
use crate::wire::{Direction, Trace};

/// How many segments a marked range is shown in, at most, before "… more".
const MARKED_SEGMENTS: usize = 3;

/// The oracle's diagnosis for a trace: each violation as `FAIL point: message`,
/// then each of its marks with the segment re-printed and a caret line under the
/// bytes (see the module docs). For reports that keep the trace and the
/// violations but not the whole run.
pub fn render_diagnosis(trace: &Trace, violations: &[Violation]) -> String {
    let mut out = String::new();
    for violation in violations {
        let _ = writeln!(out, "FAIL {}: {}", violation.point, violation.message);
        for mark in &violation.marks {
            render_mark(&mut out, trace, mark);
        }
    }
    out
}

/// One segment of `dir` with its start offset.
struct Seg<'a> {
    index: usize,
    start: usize,
    bytes: &'a [u8],
}

fn segments(trace: &Trace, dir: Direction) -> Vec<Seg<'_>> {
    let mut start = 0;
    trace
        .segments(dir)
        .enumerate()
        .map(|(index, bytes)| {
            let seg = Seg {
                index,
                start,
                bytes,
            };
            start += bytes.len();
            seg
        })
        .collect()
}

/// Re-prints `seg` indented, with a caret line under the bytes in `local` (offsets
/// inside the segment); an empty `local` puts one caret where bytes belonged.
fn point_at(out: &mut String, dir: Direction, seg: &Seg<'_>, local: Range<usize>) {
    let prefix = segment_prefix(dir, seg.index, seg.start, seg.bytes.len());
    let shown = show(seg.bytes, &[local.start, local.end]);
    let mut carets = vec![b' '; shown.text.len() + 1];
    if local.is_empty() {
        let col = shown
            .tokens
            .iter()
            .find(|(bytes, _)| bytes.contains(&local.start))
            .map_or(shown.text.len(), |(_, cols)| cols.start);
        carets[col] = b'^';
    } else {
        for (bytes, cols) in &shown.tokens {
            if bytes.start < local.end && local.start < bytes.end {
                carets[cols.clone()].fill(b'^');
            }
        }
    }
    let carets = String::from_utf8_lossy(&carets).trim_end().to_string();
    let pad = " ".repeat(4 + prefix.len());
    let _ = writeln!(out, "    {prefix}{}", shown.text);
    let _ = writeln!(out, "{pad}{carets}");
}

fn render_mark(out: &mut String, trace: &Trace, mark: &Mark) {
    match mark {
        Mark::Bytes { dir, range, fault } => {
            let segs = segments(trace, *dir);
            let touched: Vec<&Seg<'_>> = segs
                .iter()
                .filter(|s| s.start < range.end && range.start < s.start + s.bytes.len())
                .collect();
            let _ = write!(
                out,
                "  {fault} {}: {dir} stream bytes {}..{}",
                count(range.len()),
                range.start,
                range.end
            );
            match touched.as_slice() {
                [] => {
                    let _ = writeln!(out, ", not on the wire");
                }
                [seg] => {
                    let _ = writeln!(
                        out,
                        ", in segment #{} at {}..{}",
                        seg.index,
                        range.start.saturating_sub(seg.start),
                        range.end - seg.start
                    );
                }
                [first, .., last] => {
                    let _ = writeln!(out, ", in segments #{} to #{}", first.index, last.index);
                }
            }
            for seg in touched.iter().take(MARKED_SEGMENTS) {
                let local = range.start.saturating_sub(seg.start)
                    ..(range.end - seg.start).min(seg.bytes.len());
                point_at(out, *dir, seg, local);
            }
            if touched.len() > MARKED_SEGMENTS {
                let _ = writeln!(
                    out,
                    "    … and {} more segments",
                    touched.len() - MARKED_SEGMENTS
                );
            }
        }
        Mark::Missing { dir, at, len } => {
            let _ = writeln!(
                out,
                "  missing {}: never on the wire; they belonged at {dir} stream byte {at}",
                count(*len)
            );
            let segs = segments(trace, *dir);
            let place = segs
                .iter()
                .find(|s| *at < s.start + s.bytes.len())
                .or(segs.last());
            if let Some(seg) = place {
                let local = at.saturating_sub(seg.start).min(seg.bytes.len());
                point_at(out, *dir, seg, local..local);
            }
        }
        Mark::Event { index } => {
            let Some(event) = trace.events.get(*index) else {
                let _ = writeln!(out, "  at event {index} (not in the trace)");
                return;
            };
            let start = event_starts(trace).get(*index).copied().unwrap_or(0);
            let line = event_line(event, start);
            let _ = writeln!(out, "  at event {index}:");
            let _ = writeln!(out, "    {line}");
            let _ = writeln!(out, "    {}", "^".repeat(line.len()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::Fault;
    use crate::wire::Event;
    use bytes::Bytes;

    #[test]
    fn carets_point_at_the_marked_bytes() {
        let trace = Trace::from(vec![Event::Segment {
            dir: Direction::ClientToServer,
            index: 0,
            bytes: Bytes::from_static(b"GET / HTTP/1.1\r\n\r\nab"),
        }]);
        let mut out = String::new();
        render_mark(
            &mut out,
            &trace,
            &Mark::Bytes {
                dir: Direction::ClientToServer,
                range: 18..19,
                fault: Fault::Lost,
            },
        );
        let lines: Vec<&str> = out.lines().collect();
        let col = lines[2].find('^').expect("a caret");
        assert_eq!(&lines[1][col..col + 1], "a", "{out}");
        assert_eq!(lines[2].trim(), "^", "{out}");
    }
}
