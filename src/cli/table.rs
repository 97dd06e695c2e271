//! The terminal table: one row per case, one column per target, read at a glance;
//! then what failed and why, then the mutant self-check.

use std::fmt::Write as _;

use hijack_harness::report::{CaseResult, Outcome, RunReport};
use hijack_harness::wire::Side;

/// A column: a target playing one side.
fn column(result: &CaseResult) -> String {
    match result.side {
        Side::Server => format!("{} server", result.target),
        Side::Client => format!("{} client", result.target),
    }
}

fn cell(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Pass => "pass",
        Outcome::Fail => "FAIL",
        Outcome::NonStrict => "non-strict",
        Outcome::Unsupported => "-",
        Outcome::Error => "ERROR",
    }
}

/// Renders the case table, the failure details and the mutant table.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    let mut columns: Vec<String> = Vec::new();
    let mut rows: Vec<(&str, &str)> = Vec::new();
    for r in &report.results {
        let c = column(r);
        if !columns.contains(&c) {
            columns.push(c);
        }
        if !rows.iter().any(|(id, _)| *id == r.case_id) {
            rows.push((&r.case_id, r.level.as_str()));
        }
    }
    let id_width = rows
        .iter()
        .map(|(id, _)| id.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let widths: Vec<usize> = columns.iter().map(|c| c.len().max(10)).collect();
    let _ = write!(out, "{:<id_width$}  {:<6}", "case", "level");
    for (c, w) in columns.iter().zip(&widths) {
        let _ = write!(out, "  {c:<w$}");
    }
    out.push('\n');
    for (id, level) in &rows {
        let _ = write!(out, "{id:<id_width$}  {level:<6}");
        for (c, w) in columns.iter().zip(&widths) {
            let text = report
                .results
                .iter()
                .find(|r| r.case_id == *id && column(r) == *c)
                .map(|r| cell(r.outcome))
                .unwrap_or("");
            let _ = write!(out, "  {text:<w$}");
        }
        out.push('\n');
    }
    out.push_str("(- : the case does not apply to this target)\n");

    let problems: Vec<&CaseResult> = report
        .results
        .iter()
        .filter(|r| {
            matches!(
                r.outcome,
                Outcome::Fail | Outcome::NonStrict | Outcome::Error
            )
        })
        .collect();
    if !problems.is_empty() {
        out.push('\n');
        for r in problems {
            let _ = writeln!(
                out,
                "{} {} [{}] ({}{})",
                cell(r.outcome),
                r.case_id,
                column(r),
                r.spec,
                if r.bug.is_empty() {
                    String::new()
                } else {
                    format!(", bug {}", r.bug)
                }
            );
            for v in &r.violations {
                let _ = writeln!(out, "    {}: {}", v.point, v.message);
            }
            for n in &r.notes {
                let _ = writeln!(out, "    note: {n}");
            }
        }
    }

    if !report.mutants.is_empty() {
        let width = report
            .mutants
            .iter()
            .map(|m| m.name.len())
            .max()
            .unwrap_or(6);
        let _ = writeln!(out, "\n{:<width$}  {:<8}  caught by", "mutant", "verdict");
        for m in &report.mutants {
            let mut detail = m.detail.clone();
            if detail.chars().count() > 110 {
                detail = detail.chars().take(107).collect::<String>() + "...";
            }
            let _ = writeln!(
                out,
                "{:<width$}  {:<8}  {}",
                m.name,
                if m.caught { "caught" } else { "MISSED" },
                detail
            );
        }
    }

    let count = |o: Outcome| report.results.iter().filter(|r| r.outcome == o).count();
    let _ = write!(
        out,
        "\n{} pass, {} fail, {} non-strict, {} error, {} not applicable",
        count(Outcome::Pass),
        count(Outcome::Fail),
        count(Outcome::NonStrict),
        count(Outcome::Error),
        count(Outcome::Unsupported),
    );
    if !report.mutants.is_empty() {
        let caught = report.mutants.iter().filter(|m| m.caught).count();
        let _ = write!(out, "; {caught}/{} mutants caught", report.mutants.len());
    }
    let _ = writeln!(out, "; {:.2} s", report.duration.as_secs_f64());
    // Padding is for alignment only: no trailing blanks in logs and diffs.
    out.lines()
        .map(|l| l.trim_end().to_string() + "\n")
        .collect()
}
