//! The report as one self-contained HTML file: a summary, a matrix of cases by
//! targets, the mutants, then per result a ladder diagram of the connection.
//!
//! The file has no script and fetches nothing (inline CSS, inline SVG), so it
//! can be attached to a CI run, mailed, or opened from disk years later. A
//! `Content-Security-Policy` forbids scripts and every external load anyway.
//!
//! **Everything a peer controls is untrusted.** Bytes from the wire, the target
//! name, error messages from a remote process: all of it goes through [`escape`]
//! before it reaches the page, and bytes are first shown through
//! [`oracle::preview`](crate::oracle::preview), which turns everything outside
//! printable ASCII into `\xNN`. The CSP is the second wall, not the first.
//!
//! ## The ladder
//!
//! Two vertical lines, the client on the left and the server on the right; time
//! runs down. Each segment is an arrow from its sender to its receiver, labelled
//! with its direction index (`#3`), its size and an escaped preview of its bytes.
//! The hijack is an orange bar on the side that hijacked; FIN a dashed blue
//! arrow, RST a thick red one; what the applications did (shut down, done) is
//! written beside their line. A segment that a diagnosis names ("lost bytes …
//! (c>s segment 0, …)", "wrote 5 bytes of its own … (s>c segment 2)") is red
//! and says which point it breaks: that is where the lost or extra bytes
//! travelled.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::Path;

use super::{CaseResult, Outcome, RunReport};
use crate::oracle::{Point, preview};
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

/// Writes `report` as HTML to `path`.
pub fn write(report: &RunReport, path: &Path) -> std::io::Result<()> {
    std::fs::write(path, render(report))
}

/// Escapes `s` for HTML text and attribute values (quoted with `"` or `'`), and
/// replaces control characters, which HTML forbids, with U+FFFD.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { --pass:#1a7f37; --fail:#cf222e; --ns:#9a6700; --unsup:#6e7781; --err:#8250df; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; padding: 24px 32px; color: #1f2328; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
.muted { color: #656d76; }
.chips { display: flex; gap: 8px; flex-wrap: wrap; margin: 10px 0; }
.chip { border-radius: 12px; padding: 2px 10px; color: #fff; font-weight: 600; font-size: 13px; }
.o-pass { background: var(--pass); } .o-fail { background: var(--fail); } .o-non-strict { background: var(--ns); }
.o-unsupported { background: var(--unsup); } .o-error { background: var(--err); }
.chip.zero { background: #eaeef2; color: #656d76; }
table { border-collapse: collapse; }
table.matrix td, table.matrix th { border: 1px solid #d0d7de; padding: 2px 6px; }
table.matrix th.t { vertical-align: bottom; font-weight: 500; }
table.matrix:not(.many) th.t { white-space: normal; overflow-wrap: anywhere; max-width: 240px; }
table.matrix.many th.t span { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; font-size: 12px; }
table.matrix td.c { text-align: center; padding: 0; }
table.matrix td.c a { display: block; padding: 2px 3px; color: #fff; text-decoration: none; font-size: 11px; font-weight: 600; }
table.matrix td.id { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; white-space: nowrap; }
table.mutants td { padding: 2px 10px 2px 0; vertical-align: top; }
table.mutants td code { white-space: nowrap; }
table.matrix td, table.matrix th { white-space: nowrap; }
table.matrix td.c { min-width: 40px; }
.wide { overflow-x: auto; }
details.case { border: 1px solid #d0d7de; border-left-width: 6px; border-radius: 6px; margin: 8px 0; padding: 4px 12px; }
details.case.pass { border-left-color: var(--pass); } details.case.fail { border-left-color: var(--fail); }
details.case.non-strict { border-left-color: var(--ns); } details.case.unsupported { border-left-color: var(--unsup); }
details.case.error { border-left-color: var(--err); }
details.case > summary { cursor: pointer; padding: 4px 0; }
summary .chip { font-size: 11px; padding: 1px 8px; margin-right: 6px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 0 12px; margin: 6px 0; }
dl.meta dt { color: #656d76; } dl.meta dd { margin: 0; }
ul.violations { margin: 6px 0; padding-left: 20px; }
ul.violations li { color: var(--fail); margin: 2px 0; }
ul.violations li span { color: #1f2328; }
ul.notes { margin: 6px 0; padding-left: 20px; color: #656d76; }
.ladder { overflow-x: auto; margin: 8px 0; }
.legend svg { vertical-align: middle; }
svg.lad text { font: 12px ui-monospace, Menlo, Consolas, monospace; fill: #1f2328; }
svg.lad text.bytes { fill: #57606a; font-size: 11px; } svg.lad text.bad { fill: #cf222e; font-weight: 600; }
svg.lad text.bad.bytes { font-weight: 400; } svg.lad text.fin { fill: #0969da; }
svg.lad text.rst { fill: #cf222e; font-weight: 700; } svg.lad text.hijack { fill: #e36209; font-weight: 700; }
svg.lad text.app { fill: #656d76; font-style: italic; } svg.lad text.more { fill: #656d76; }
svg.lad text.head { font: 600 13px system-ui, sans-serif; }
"#;

/// Arrowheads, defined once for every ladder in the page (IDs must be unique in
/// a document, and every ladder is inline in the same one).
fn markers(out: &mut String) {
    out.push_str(
        "<svg width=\"0\" height=\"0\" style=\"position:absolute\" aria-hidden=\"true\"><defs>",
    );
    for (id, color) in [("an", "#57606a"), ("ab", "#cf222e"), ("af", "#0969da")] {
        let _ = write!(
            out,
            "<marker id=\"{id}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"10\" markerHeight=\"10\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{color}\"/></marker>"
        );
    }
    out.push_str("</defs></svg>\n");
}

/// The whole page.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n",
    );
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>hijack-harness report</title>\n<style>");
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n<body>\n");
    markers(&mut out);
    summary(&mut out, report);
    matrix(&mut out, report);
    mutants(&mut out, report);
    // Problems first: they are what a person opened the report for.
    let (problems, others): (Vec<_>, Vec<_>) = report
        .results
        .iter()
        .enumerate()
        .partition(|(_, r)| r.outcome.is_problem());
    for (title, results) in [("Problems", problems), ("Other results", others)] {
        if results.is_empty() {
            continue;
        }
        let _ = writeln!(out, "<h2>{title} ({})</h2>", results.len());
        legend(&mut out);
        for (i, r) in results {
            case(&mut out, i, r);
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn class(outcome: Outcome) -> &'static str {
    outcome.as_str()
}

fn summary(out: &mut String, report: &RunReport) {
    let t = report.totals();
    let _ = writeln!(
        out,
        "<h1>hijack-harness report</h1>\n<p class=\"muted\">{} result{} against {} target(s) in {:.2} s · {} {}</p>",
        t.cases,
        if t.cases == 1 { "" } else { "s" },
        report.targets().len(),
        report.duration.as_secs_f64(),
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION")
    );
    out.push_str("<div class=\"chips\">");
    for o in Outcome::ALL {
        let n = t.of(o);
        let _ = write!(
            out,
            "<span class=\"chip {}\">{n} {}</span>",
            if n == 0 {
                "zero".to_string()
            } else {
                format!("o-{}", class(o))
            },
            o.as_str()
        );
    }
    if !report.mutants.is_empty() {
        let caught = report.mutants.iter().filter(|m| m.caught).count();
        let _ = write!(
            out,
            "<span class=\"chip {}\">{caught}/{} mutants caught</span>",
            if caught == report.mutants.len() {
                "o-pass"
            } else {
                "o-fail"
            },
            report.mutants.len()
        );
    }
    out.push_str("</div>\n");
}

fn matrix(out: &mut String, report: &RunReport) {
    if report.results.is_empty() {
        out.push_str("<p>No results.</p>\n");
        return;
    }
    let targets = report.targets();
    // (case, side) -> (level, target -> result index)
    let mut rows: Vec<(&str, Side)> = Vec::new();
    let mut cells: HashMap<(&str, Side, &str), usize> = HashMap::new();
    for (i, r) in report.results.iter().enumerate() {
        if !rows.contains(&(r.case_id.as_str(), r.side)) {
            rows.push((&r.case_id, r.side));
        }
        cells.entry((&r.case_id, r.side, &r.target)).or_insert(i);
    }
    // Few targets: names read across; many: they stand up and cells are
    // abbreviated (`ns`, `unsup`, `err`, full name on hover), so columns stay narrow.
    let many = targets.len() > 4;
    let _ = write!(
        out,
        "<h2>Results</h2>\n<div class=\"wide\"><table class=\"matrix{}\">\n<tr><th>case</th><th>level</th><th>side</th>",
        if many { " many" } else { "" }
    );
    for t in &targets {
        let _ = write!(out, "<th class=\"t\"><span>{}</span></th>", escape(t));
    }
    out.push_str("</tr>\n");
    for (id, side) in rows {
        let level = report
            .results
            .iter()
            .find(|r| r.case_id == id)
            .map_or("", |r| r.level.as_str());
        let _ = write!(
            out,
            "<tr><td class=\"id\">{}</td><td>{level}</td><td>{side}</td>",
            escape(id)
        );
        for t in &targets {
            match cells.get(&(id, side, *t)) {
                Some(&i) => {
                    let o = report.results[i].outcome;
                    let _ = write!(
                        out,
                        "<td class=\"c o-{}\"><a href=\"#r{i}\" title=\"{}\">{}</a></td>",
                        class(o),
                        o.as_str(),
                        if many {
                            super::text::short_cell(o)
                        } else {
                            super::text::cell(o)
                        }
                    );
                }
                None => out.push_str("<td class=\"c muted\">–</td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></div>\n");
    let _ = writeln!(
        out,
        "<p class=\"muted\">{}Click a cell for its diagnosis and ladder diagram.</p>",
        if many {
            "ns = non-strict (a SHOULD missed), unsup = unsupported, err = error. "
        } else {
            ""
        }
    );
}

fn mutants(out: &mut String, report: &RunReport) {
    if report.mutants.is_empty() {
        return;
    }
    out.push_str("<h2>Mutants</h2>\n<p class=\"muted\">Each mutant is the reference with one real bug put back; the harness must catch every one.</p>\n<table class=\"mutants\">\n");
    for m in &report.mutants {
        let _ = writeln!(
            out,
            "<tr><td><span class=\"chip {}\">{}</span></td><td><code>{}</code></td><td>{}</td></tr>",
            if m.caught { "o-pass" } else { "o-fail" },
            if m.caught { "caught" } else { "MISSED" },
            escape(&m.name),
            escape(&m.detail)
        );
    }
    out.push_str("</table>\n");
}

fn legend(out: &mut String) {
    out.push_str(
        "<p class=\"legend muted\">Ladder: client on the left, server on the right, time runs down. \
         Arrows are segments (<code>#index</code>, size, escaped bytes); \
         <svg width=\"26\" height=\"10\"><rect x=\"0\" y=\"2\" width=\"26\" height=\"6\" fill=\"#e36209\"/></svg> hijack; \
         <svg width=\"30\" height=\"10\"><line x1=\"0\" y1=\"5\" x2=\"30\" y2=\"5\" stroke=\"#0969da\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/></svg> FIN; \
         <svg width=\"30\" height=\"10\"><line x1=\"0\" y1=\"5\" x2=\"30\" y2=\"5\" stroke=\"#cf222e\" stroke-width=\"4\"/></svg> RST; \
         <span style=\"color:#cf222e;font-weight:600\">red segments</span> carried bytes a diagnosis names (lost, duplicated, extra). \
         Failing results are open; click any other to open it.</p>\n",
    );
}

fn case(out: &mut String, i: usize, r: &CaseResult) {
    let o = r.outcome;
    let _ = writeln!(
        out,
        "<details class=\"case {}\" id=\"r{i}\"{}>\n<summary><span class=\"chip o-{}\">{}</span><code>{}</code> · {} ({}) · {}</summary>",
        class(o),
        if o.is_problem() { " open" } else { "" },
        class(o),
        o.as_str(),
        escape(&r.case_id),
        escape(&r.target),
        r.side,
        escape(&r.title)
    );
    out.push_str("<dl class=\"meta\">");
    let _ = write!(
        out,
        "<dt>level</dt><dd>{}</dd><dt>spec</dt><dd>{}</dd>",
        r.level.as_str(),
        escape(&r.spec)
    );
    if !r.bug.is_empty() {
        let _ = write!(out, "<dt>bug</dt><dd>{}</dd>", escape(&r.bug));
    }
    let _ = writeln!(
        out,
        "<dt>target</dt><dd><code>{}</code> as the {}</dd><dt>time</dt><dd>{:.2} ms</dd></dl>",
        escape(&r.target),
        r.side,
        r.duration.as_secs_f64() * 1000.0
    );
    if !r.violations.is_empty() {
        out.push_str("<ul class=\"violations\">");
        for v in &r.violations {
            let _ = write!(
                out,
                "<li><b>{}</b>: <span>{}</span></li>",
                escape(&v.point.to_string()),
                escape(&v.message)
            );
        }
        out.push_str("</ul>\n");
    }
    if !r.notes.is_empty() {
        out.push_str("<ul class=\"notes\">");
        for n in &r.notes {
            let _ = write!(out, "<li>{}</li>", escape(n));
        }
        out.push_str("</ul>\n");
    }
    if r.outcome != Outcome::Unsupported {
        out.push_str("<div class=\"ladder\">");
        ladder(out, r);
        out.push_str("</div>\n");
    }
    out.push_str("</details>\n");
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
fn ladder(out: &mut String, r: &CaseResult) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup() {
        assert_eq!(
            escape("<script>alert('x')</script>&\"\u{0}"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;\u{fffd}"
        );
    }
}
