//! The report as one self-contained HTML file: a summary (with how a black-box
//! run reached its target), a matrix of cases by targets, the mutants, then per
//! result a ladder diagram of the connection (for a proxy case one per leg,
//! labelled "client to proxy", "proxy to upstream").
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

use crate::results::leg::CLIENT_TO_PROXY;
use crate::results::{CaseResult, Outcome, RunReport};
use crate::wire::Side;

mod ladder;

use ladder::ladder;
pub use ladder::{MAX_EVENTS, PREVIEW, flagged_segments};

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
:root { --pass:#1a7f37; --fail:#cf222e; --ns:#9a6700; --unsup:#6e7781; --err:#8250df; --flaky:#bc4c00; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; padding: 24px 32px; color: #1f2328; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
.muted { color: #656d76; }
.chips { display: flex; gap: 8px; flex-wrap: wrap; margin: 10px 0; }
.chip { border-radius: 12px; padding: 2px 10px; color: #fff; font-weight: 600; font-size: 13px; }
.o-pass { background: var(--pass); } .o-fail { background: var(--fail); } .o-non-strict { background: var(--ns); }
.o-unsupported { background: var(--unsup); } .o-error { background: var(--err); } .o-flaky { background: var(--flaky); }
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
details.case.error { border-left-color: var(--err); } details.case.flaky { border-left-color: var(--flaky); }
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
    if let Some(transport) = &report.transport {
        out.push_str("<ul class=\"transport\">");
        for sentence in transport.sentences() {
            let _ = write!(out, "<li>{}</li>", escape(&sentence));
        }
        out.push_str("</ul>\n");
    }
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
    if !r.repeats.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"repeats\">repetitions: {}</p>",
            escape(&crate::results::tally(&r.repeats))
        );
    }
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
        // A proxy case: one ladder per leg, each under its label.
        if !r.legs.is_empty() {
            let _ = writeln!(out, "<p class=\"leg\">{CLIENT_TO_PROXY}</p>");
        }
        out.push_str("<div class=\"ladder\">");
        ladder(out, r);
        out.push_str("</div>\n");
        for leg in &r.legs {
            let _ = writeln!(out, "<p class=\"leg\">{}</p>", escape(&leg.label));
            // The diagnoses' marks point into the client leg: none here.
            let shown = CaseResult {
                trace: leg.trace.clone(),
                violations: Vec::new(),
                legs: Vec::new(),
                ..r.clone()
            };
            out.push_str("<div class=\"ladder\">");
            ladder(out, &shown);
            out.push_str("</div>\n");
        }
    }
    out.push_str("</details>\n");
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
