//! The report for a terminal: what a person reads at a glance after a run.
//!
//! ```text
//! case                                    level  side    reference  mutant:a  
//! handoff.early-data.same-segment.1       MUST   server  pass       FAIL      
//! ...
//!
//! FAIL handoff.early-data.same-segment.1 [mutant:a server] (RFC 9110 §7.8, bug moby/moby#30154)
//!     point 1 (read side, server): server app read 0 of the 1 byte ...
//!
//! mutants
//! caught  drops-first-packet  handoff.early-data.delayed
//! 1/1 mutants caught
//!
//! 42 results: 40 pass, 2 fail, 0 non-strict, 0 unsupported, 0 error in 0.12 s
//! ```
//!
//! A proxy case's diagnosis ends with one line per leg ("client to proxy",
//! "proxy to upstream"): what crossed each, so the leg a diagnosis names can
//! be read against the other.
//!
//! The matrix comes first because the question after a run is "which peer
//! broke which case"; the diagnoses follow in the same order as the rows. A
//! black-box run starts with how it reached its target (the address, TLS, and
//! whether segment cuts were exact: [`crate::results::transport`]). Only
//! FAIL (and FLAKY) is upper case, so that it stands out in a column of passes. With many
//! targets, columns are numbered and named in a legend, and cells shortened
//! (`ns`, `unsup`, `err`), so that rows stay on one line of a terminal.

use std::fmt::Write;

use crate::results::leg::CLIENT_TO_PROXY;
use crate::results::{Outcome, RunReport};
use crate::suite::Level;
use crate::wire::{Direction, Side, Trace};

/// The widest the matrix may be before its columns are numbered instead of named.
pub const MAX_WIDTH: usize = 140;

/// A cell of the numbered (narrow) matrix: at most five characters.
pub fn short_cell(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Pass => "pass",
        Outcome::Fail => "FAIL",
        Outcome::NonStrict => "ns",
        Outcome::Unsupported => "unsup",
        Outcome::Error => "err",
        Outcome::Flaky => "FLAKY",
    }
}

/// A cell of the matrix.
pub fn cell(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Pass => "pass",
        Outcome::Fail => "FAIL",
        Outcome::NonStrict => "non-strict",
        Outcome::Unsupported => "unsupported",
        Outcome::Error => "error",
        Outcome::Flaky => "FLAKY",
    }
}

/// Renders `report` as a table, the diagnoses, the mutants and a totals line.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    let targets = report.targets();

    // Rows: (case id, side, level), in the order they first appear.
    let mut rows: Vec<(&str, Side, Level)> = Vec::new();
    for r in &report.results {
        if !rows
            .iter()
            .any(|(id, side, _)| *id == r.case_id && *side == r.side)
        {
            rows.push((&r.case_id, r.side, r.level));
        }
    }
    let id_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(4).max(4);
    let named_width = targets.iter().map(|t| t.len()).max().unwrap_or(0).max(11);
    let fixed = id_width + 2 + 6 + 1 + 7 + 1;
    let numbered = fixed + targets.len() * (named_width + 1) > MAX_WIDTH;
    let cell_of = if numbered { short_cell } else { cell };
    // Numbered columns are as wide as their labels and the cells they hold.
    let numbered_width = report
        .results
        .iter()
        .map(|r| short_cell(r.outcome).len())
        .chain(std::iter::once(format!("[{}]", targets.len()).len()))
        .max()
        .unwrap_or(4);
    let col = if numbered {
        numbered_width
    } else {
        named_width
    };

    // How the target was reached comes first: over TLS, or beyond this
    // machine, every verdict below is read with it.
    if let Some(transport) = &report.transport {
        for sentence in transport.sentences() {
            let _ = writeln!(out, "{sentence}");
        }
        out.push('\n');
    }

    if !rows.is_empty() {
        if numbered {
            for (i, t) in targets.iter().enumerate() {
                let _ = writeln!(out, "[{}] {t}", i + 1);
            }
            out.push_str("(ns = non-strict, unsup = unsupported, err = error)\n\n");
        }
        let _ = write!(out, "{:<id_width$}  {:<6} {:<7}", "case", "level", "side");
        for (i, t) in targets.iter().enumerate() {
            let label = if numbered {
                format!("[{}]", i + 1)
            } else {
                t.to_string()
            };
            let _ = write!(out, " {label:<col$}");
        }
        trim_end(&mut out);
        out.push('\n');
        for (id, side, level) in &rows {
            let _ = write!(out, "{id:<id_width$}  {:<6} {:<7}", level.as_str(), side);
            for t in &targets {
                let found = report
                    .results
                    .iter()
                    .find(|r| r.case_id == *id && r.side == *side && r.target == *t);
                let text = found.map_or("-", |r| cell_of(r.outcome));
                let _ = write!(out, " {text:<col$}");
            }
            trim_end(&mut out);
            out.push('\n');
        }
    }

    let problems: Vec<_> = report
        .results
        .iter()
        .filter(|r| r.outcome.is_problem())
        .collect();
    if !problems.is_empty() {
        out.push('\n');
    }
    for r in problems {
        // The spec and the real bug come with the diagnosis: whoever reads it
        // next asks "says who?" and "has this shipped before?".
        let bug = if r.bug.is_empty() {
            String::new()
        } else {
            format!(", bug {}", r.bug)
        };
        let _ = writeln!(
            out,
            "{} {} [{} {}] ({}{bug})",
            cell(r.outcome),
            r.case_id,
            r.target,
            r.side,
            r.spec
        );
        if r.outcome == Outcome::Flaky {
            let _ = writeln!(
                out,
                "    flaky: {} (the first problem run follows)",
                crate::results::tally(&r.repeats)
            );
        }
        for v in &r.violations {
            let _ = writeln!(out, "    {}: {}", v.point, v.message);
        }
        for note in &r.notes {
            let _ = writeln!(out, "    note: {note}");
        }
        if !r.legs.is_empty() {
            let _ = writeln!(out, "    {CLIENT_TO_PROXY}: {}", leg_summary(&r.trace));
            for leg in &r.legs {
                let _ = writeln!(out, "    {}: {}", leg.label, leg_summary(&leg.trace));
            }
        }
    }

    // A target none of whose cases could run (it does not speak the protocol)
    // is one line with the reason, not a column of bare "unsupported".
    for t in &targets {
        let mut of_target = report.results.iter().filter(|r| r.target == *t);
        let first = of_target.next();
        if let Some(reason) = first
            .filter(|r| r.outcome == Outcome::Unsupported)
            .and_then(|r| r.notes.first())
            && of_target
                .all(|r| r.outcome == Outcome::Unsupported && r.notes.first() == Some(reason))
        {
            let _ = writeln!(out, "\nevery case unsupported on {t}: {reason}");
        }
    }

    if !report.mutants.is_empty() {
        out.push_str("\nmutants\n");
        let width = report
            .mutants
            .iter()
            .map(|m| m.name.len())
            .max()
            .unwrap_or(0);
        for m in &report.mutants {
            let _ = writeln!(
                out,
                "{:<6}  {:<width$}  {}",
                if m.caught { "caught" } else { "MISSED" },
                m.name,
                m.detail
            );
        }
        let missed = report.mutants.iter().filter(|m| !m.caught).count();
        let _ = writeln!(
            out,
            "{}/{} mutants caught",
            report.mutants.len() - missed,
            report.mutants.len()
        );
    }

    let t = report.totals();
    let _ = writeln!(
        out,
        "\n{} results: {} pass, {} fail, {} non-strict, {} unsupported, {} error{} in {:.2} s",
        t.cases,
        t.pass,
        t.fail,
        t.non_strict,
        t.unsupported,
        t.error,
        if t.flaky > 0 {
            format!(", {} flaky", t.flaky)
        } else {
            String::new()
        },
        report.duration.as_secs_f64()
    );
    out
}

/// What crossed one leg of a proxy case, in a line: the bytes each way (`c>s`
/// towards the proxy on the client leg, towards the upstream on an upstream
/// leg) and the FINs.
fn leg_summary(trace: &Trace) -> String {
    let mut parts = Vec::new();
    for dir in [Direction::ClientToServer, Direction::ServerToClient] {
        let segments = trace.segments(dir).count();
        let bytes: usize = trace.segments(dir).map(|b| b.len()).sum();
        let plural = if segments == 1 { "" } else { "s" };
        parts.push(format!("{dir} {bytes} bytes in {segments} segment{plural}"));
        if trace.fin(dir).is_some() {
            parts.push(format!("FIN {dir}"));
        }
    }
    parts.join(", ")
}

fn trim_end(s: &mut String) {
    let len = s.trim_end_matches(' ').len();
    s.truncate(len);
}
