//! Expected results: run a peer with known failures in CI, and fail only when
//! something changes.
//!
//! A real library rarely passes every case on day one. Committing what it does
//! today turns the run into a regression test: a case that starts failing fails
//! CI, and so does a case that starts *passing* (so that the file is updated and
//! the fix cannot silently regress later). The file is plain text, one line per
//! result, sorted, so a change to it reads well in a diff:
//!
//! ```text
//! # hijack-harness expected results: case-id target side outcome
//! handoff.early-data.same-segment.1 127.0.0.1:8080 server fail
//! handoff.head-split 127.0.0.1:8080 server pass
//! ```
//!
//! Fields are separated by spaces: the case ID first, the side and the outcome
//! last, the target in between (so a target may itself contain spaces).
//! `#` starts a comment line; blank lines are ignored.
//!
//! Rules of [`compare`]:
//! * a result whose line says another outcome is a change;
//! * a result with no line is expected to `pass`, so a new case that passes needs
//!   no edit here and a new case that fails does;
//! * a line for a target and side that this run tested, whose case did not run,
//!   is a change ("not run"): a case was renamed or removed and the file is stale;
//! * lines for targets or sides the run did not test are ignored, so one file can
//!   hold the expectations of several peers and a run can test one of them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{Error, Outcome, RunReport};
use crate::wire::Side;

/// How a run differs from the expected results.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// One sentence per difference, sorted, e.g.
    /// `handoff.head-split reference (server): expected fail, got pass`.
    /// Empty when the run matches the file.
    pub changed: Vec<String>,
}

impl Comparison {
    /// Whether the run matches the file.
    pub fn matches(&self) -> bool {
        self.changed.is_empty()
    }
}

type Key = (String, String, &'static str);

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Client => "client",
        Side::Server => "server",
    }
}

/// The expected-results file for `report`: one sorted line per result.
pub fn render(report: &RunReport) -> String {
    let mut lines = BTreeSet::new();
    for r in &report.results {
        lines.insert(format!(
            "{} {} {} {}",
            r.case_id,
            r.target,
            side_name(r.side),
            r.outcome.as_str()
        ));
    }
    let mut out = String::from("# hijack-harness expected results: case-id target side outcome\n");
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Creates or replaces the expected-results file at `path` with what `report` found.
pub fn write(report: &RunReport, path: &Path) -> Result<(), Error> {
    std::fs::write(path, render(report)).map_err(|e| Error::io(path, e))
}

/// Compares `report` with the expected-results file at `path`.
pub fn compare(report: &RunReport, path: &Path) -> Result<Comparison, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let expected = parse(&text).map_err(|(line, message)| Error::Expect {
        path: path.to_path_buf(),
        line,
        message,
    })?;
    Ok(compare_with(report, &expected))
}

/// Parses the file: (case, target, side) to outcome, or (line number, problem).
fn parse(text: &str) -> Result<BTreeMap<Key, Outcome>, (usize, String)> {
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [id, target @ .., side, outcome] = fields.as_slice() else {
            return Err((
                line_no,
                format!("expected `case-id target side outcome`, found `{line}`"),
            ));
        };
        if target.is_empty() {
            return Err((
                line_no,
                format!("expected `case-id target side outcome`, found `{line}`"),
            ));
        }
        let side = match *side {
            "client" => "client",
            "server" => "server",
            other => {
                return Err((
                    line_no,
                    format!("side must be `client` or `server`, found `{other}`"),
                ));
            }
        };
        let Some(outcome) = Outcome::parse(outcome) else {
            return Err((
                line_no,
                format!(
                    "outcome must be one of pass, fail, non-strict, unsupported, error, flaky; found `{outcome}`"
                ),
            ));
        };
        let key = (id.to_string(), target.join(" "), side);
        if out.insert(key, outcome).is_some() {
            return Err((
                line_no,
                format!("a second line for {id} {} {side}", target.join(" ")),
            ));
        }
    }
    Ok(out)
}

fn compare_with(report: &RunReport, expected: &BTreeMap<Key, Outcome>) -> Comparison {
    let mut changed = Vec::new();
    let mut seen = BTreeSet::new();
    let mut tested = BTreeSet::new();
    for r in &report.results {
        let side = side_name(r.side);
        let target = r.target.split_whitespace().collect::<Vec<_>>().join(" ");
        let key = (r.case_id.clone(), target.clone(), side);
        tested.insert((target.clone(), side));
        let want = expected.get(&key).copied();
        let want_or_pass = want.unwrap_or(Outcome::Pass);
        if r.outcome != want_or_pass {
            changed.push(format!(
                "{} {target} ({side}): expected {}{}, got {}",
                r.case_id,
                want_or_pass.as_str(),
                if want.is_none() {
                    " (no line: a new case)"
                } else {
                    ""
                },
                r.outcome.as_str()
            ));
        }
        seen.insert(key);
    }
    for ((id, target, side), want) in expected {
        if tested.contains(&(target.clone(), *side))
            && !seen.contains(&(id.clone(), target.clone(), *side))
        {
            changed.push(format!(
                "{id} {target} ({side}): expected {}, not run (renamed or removed? update the file)",
                want.as_str()
            ));
        }
    }
    changed.sort();
    Comparison { changed }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_line_names_its_number() {
        let err = parse("# c\n\nhandoff.x reference server maybe\n").unwrap_err();
        assert_eq!(err.0, 3);
        assert!(err.1.contains("maybe"), "{}", err.1);
        assert_eq!(parse("handoff.x server pass\n").unwrap_err().0, 1);
        assert_eq!(parse("handoff.x t sideways pass\n").unwrap_err().0, 1);
        assert_eq!(
            parse("a t server pass\na t server fail\n").unwrap_err().0,
            2
        );
    }

    #[test]
    fn a_target_may_hold_spaces() {
        let parsed = parse("a my peer server fail\n").unwrap();
        assert_eq!(
            parsed.get(&("a".into(), "my peer".into(), "server")),
            Some(&Outcome::Fail)
        );
    }
}
