//! The ladder diagram of one result: two vertical lines, the client on the left
//! and the server on the right, time running down; one arrow per segment, the
//! hijack as an orange bar, FIN dashed blue, RST thick red, and the segments a
//! diagnosis names in red with the point they break (see [`super`]).

use std::collections::HashMap;
use std::fmt::Write;

use super::escape;
use crate::oracle::{Point, preview};
use crate::results::CaseResult;
use crate::wire::{Closing, Direction, Event, Side};

/// At most this many events of one connection are drawn; the rest are counted.
pub const MAX_EVENTS: usize = 400;

/// How many characters a segment's preview may take once escaped: binary bytes
/// escape to four characters each (`\\x9c`), so the preview shows fewer of them
/// rather than spill out of the ladder.
pub const PREVIEW: usize = 64;

/// The longest prefix of `bytes` whose escaped preview fits in [`PREVIEW`] characters.
fn fitting(bytes: &[u8]) -> usize {
    let mut width = 0;
    for (n, &b) in bytes.iter().enumerate() {
        width += match b {
            b'\r' | b'\n' | b'\\' | b'"' => 2,
            0x20..=0x7e => 1,
            _ => 4,
        };
        if width > PREVIEW {
            return n;
        }
    }
    bytes.len()
}

/// The segments that the diagnoses name, with the points that name them.
///
/// The oracle says where bytes went wrong in words ("(c>s segment 0, the one
/// that carried the end of the message)"); reading that back is more faithful
/// than guessing again here, because the oracle saw the applications' records
/// and a report only has the wire.
pub fn flagged_segments(r: &CaseResult) -> HashMap<(Direction, usize), Vec<Point>> {
    let mut out: HashMap<(Direction, usize), Vec<Point>> = HashMap::new();
    for v in &r.violations {
        for (tag, dir) in [
            ("c>s segment ", Direction::ClientToServer),
            ("s>c segment ", Direction::ServerToClient),
        ] {
            let mut rest = v.message.as_str();
            while let Some(at) = rest.find(tag) {
                rest = &rest[at + tag.len()..];
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                if let Ok(index) = digits.parse::<usize>() {
                    let points = out.entry((dir, index)).or_default();
                    if !points.contains(&v.point) {
                        points.push(v.point);
                    }
                }
            }
        }
    }
    out
}

// Geometry of the ladder, in SVG user units (pixels).
const WIDTH: u32 = 1000;
const CLIENT_X: u32 = 190;
const SERVER_X: u32 = WIDTH - 190;
const TOP: u32 = 44;
const SEGMENT_ROW: u32 = 50;
const MARK_ROW: u32 = 26;
const LINE_ROW: u32 = 44;
const DROP: u32 = 14;

fn x_of(side: Side) -> u32 {
    match side {
        Side::Client => CLIENT_X,
        Side::Server => SERVER_X,
    }
}

fn arrow(
    out: &mut String,
    dir: Direction,
    y: u32,
    stroke: &str,
    width: f32,
    dash: &str,
    marker: &str,
) {
    let (x1, x2) = match dir {
        Direction::ClientToServer => (CLIENT_X, SERVER_X - 2),
        Direction::ServerToClient => (SERVER_X, CLIENT_X + 2),
    };
    let _ = write!(
        out,
        "<line x1=\"{x1}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{}\" stroke=\"{stroke}\" stroke-width=\"{width}\"{dash} marker-end=\"url(#{marker})\"/>",
        y + DROP
    );
}

fn label(out: &mut String, x: u32, y: u32, anchor: &str, class: &str, text: &str) {
    let _ = write!(
        out,
        "<text x=\"{x}\" y=\"{y}\" text-anchor=\"{anchor}\" class=\"{class}\">{}</text>",
        escape(text)
    );
}

/// Draws the ladder of one result's trace as an inline SVG.
pub(super) fn ladder(out: &mut String, r: &CaseResult) {
    let flagged = flagged_segments(r);
    let events = &r.trace.events;
    let shown = &events[..events.len().min(MAX_EVENTS)];
    let mut body = String::new();
    let mut y = TOP;
    for event in shown {
        match event {
            Event::Segment { dir, index, bytes } => {
                let points = flagged.get(&(*dir, *index));
                let (stroke, width, class) = match points {
                    Some(_) => ("#cf222e", 2.5, "seg bad"),
                    None => ("#57606a", 1.2, "seg"),
                };
                let marker = if points.is_some() { "ab" } else { "an" };
                arrow(&mut body, *dir, y + 17, stroke, width, "", marker);
                let mut text = format!("{dir} #{index} · {}", crate::oracle::count(bytes.len()));
                if let Some(points) = points {
                    let names: Vec<String> = points.iter().map(|p| p.to_string()).collect();
                    text.push_str(&format!(" · ⚠ {}", names.join(", ")));
                }
                label(&mut body, WIDTH / 2, y + 12, "middle", class, &text);
                label(
                    &mut body,
                    WIDTH / 2,
                    y + 45,
                    "middle",
                    &format!("{class} bytes"),
                    &preview(bytes, fitting(bytes)),
                );
                y += SEGMENT_ROW;
            }
            Event::Fin { dir, how } => {
                arrow(
                    &mut body,
                    *dir,
                    y + 14,
                    "#0969da",
                    1.6,
                    " stroke-dasharray=\"6 4\"",
                    "af",
                );
                let how = match how {
                    Closing::Shutdown => "shutdown",
                    Closing::Dropped => "dropped",
                };
                label(
                    &mut body,
                    WIDTH / 2,
                    y + 11,
                    "middle",
                    "fin",
                    &format!("{dir} FIN ({how})"),
                );
                y += LINE_ROW;
            }
            Event::Reset { dir } => {
                arrow(&mut body, *dir, y + 14, "#cf222e", 4.0, "", "ab");
                label(
                    &mut body,
                    WIDTH / 2,
                    y + 11,
                    "middle",
                    "rst",
                    &format!("{dir} RST"),
                );
                y += LINE_ROW;
            }
            Event::Hijack { side } => {
                let x = x_of(*side);
                let _ = write!(
                    body,
                    "<rect x=\"{}\" y=\"{}\" width=\"44\" height=\"7\" rx=\"2\" fill=\"#e36209\"/>",
                    x - 22,
                    y + 6
                );
                side_note(
                    &mut body,
                    *side,
                    y + 13,
                    "hijack",
                    &format!("{side} hijacked"),
                );
                y += MARK_ROW;
            }
            Event::AppShutdown { side } => {
                side_note(&mut body, *side, y + 12, "app", "app shut down write");
                y += MARK_ROW;
            }
            Event::AppEnd { side } => {
                side_note(&mut body, *side, y + 12, "app", "app done");
                y += MARK_ROW;
            }
        }
    }
    if events.len() > shown.len() {
        label(
            &mut body,
            WIDTH / 2,
            y + 14,
            "middle",
            "more",
            &format!("… {} more events not drawn", events.len() - shown.len()),
        );
        y += MARK_ROW;
    }
    if events.is_empty() {
        label(
            &mut body,
            WIDTH / 2,
            y + 14,
            "middle",
            "more",
            "nothing crossed the wire",
        );
        y += MARK_ROW;
    }
    let height = y + 16;
    let subject = |side: Side| {
        if side == r.side {
            format!("{side}: {} (subject)", clip(&r.target, 40))
        } else {
            format!("{side}: harness")
        }
    };
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" class=\"lad\" style=\"max-width:100%;height:auto\" role=\"img\">"
    );
    // Anchored at the outer edges, so that a long target name grows inwards
    // instead of out of the picture.
    label(out, 10, 18, "start", "head", &subject(Side::Client));
    label(out, WIDTH - 10, 18, "end", "head", &subject(Side::Server));
    for x in [CLIENT_X, SERVER_X] {
        let _ = write!(
            out,
            "<line x1=\"{x}\" y1=\"26\" x2=\"{x}\" y2=\"{}\" stroke=\"#1f2328\" stroke-width=\"2\"/>",
            height - 6
        );
    }
    out.push_str(&body);
    out.push_str("</svg>");
}

/// `s` cut to `max` characters, with an ellipsis if it was longer.
fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

/// A note written outside the ladder, beside `side`'s line.
fn side_note(out: &mut String, side: Side, y: u32, class: &str, text: &str) {
    match side {
        Side::Client => label(out, CLIENT_X - 28, y, "end", class, text),
        Side::Server => label(out, SERVER_X + 28, y, "start", class, text),
    }
}
