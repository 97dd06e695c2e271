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
//! An outcome may name two, `pass|flaky`: the result may be either. It is for a
//! race in the peer itself, one that a probe has seen go both ways (the comment
//! above the line says so); anything else keeps one outcome.
//!
//! Rules of [`compare`]:
//! * a result whose line says another outcome is a change;
//! * a result with no line is expected to `pass`, so a new case that passes needs
//!   no edit here and a new case that fails does;
//! * a line for a target and side that this run tested, whose case did not run,
//!   is a change ("not run"): a case was renamed or removed and the file is stale;
//! * lines for targets or sides the run did not test are ignored, so one file can
//!   hold the expectations of several peers and a run can test one of them.
//!
//! The same expectations can be built in ([`Expected::insert`]): the embedded
//! run carries hyper's known findings that way, each with its reason, and judges
//! them by the rules of expected failures ([`Expected::compare_known`]): the
//! listed results keep their outcome, nothing else fails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::Error;

use crate::results::{CaseResult, Outcome, RunReport};
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

/// The key of a result: its case, its target with white space folded, its side.
fn key_of(r: &CaseResult) -> Key {
    let target = r.target.split_whitespace().collect::<Vec<_>>().join(" ");
    (r.case_id.clone(), target, side_name(r.side))
}

/// One expected result: its outcome, and why, when someone said why (a known
/// finding, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// The outcome the result should have.
    pub outcome: Outcome,
    /// Why, in a few words; results that meet the expectation carry it as a note
    /// ([`Expected::mark`]).
    pub reason: Option<String>,
    /// A second outcome the result may have (`pass|flaky` in a file): a race in
    /// the peer that goes either way.
    pub or: Option<Outcome>,
}

impl Expectation {
    /// Whether `outcome` meets this expectation.
    pub fn allows(&self, outcome: Outcome) -> bool {
        self.outcome == outcome || self.or == Some(outcome)
    }

    /// The outcome as a file writes it: `pass`, or `pass|flaky`.
    fn describe(&self) -> String {
        match self.or {
            Some(or) => format!("{}|{}", self.outcome.as_str(), or.as_str()),
            None => self.outcome.as_str().to_string(),
        }
    }
}

/// Expected results keyed by case, target and side: the lines of an
/// expected-results file ([`compare`] reads one), or a list a runner carries
/// built in ([`Expected::insert`]; the embedded run's known findings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    lines: BTreeMap<Key, Expectation>,
}

impl Expected {
    /// Expects `outcome` (for `reason`, if given) of `case_id` against `target` on `side`.
    pub fn insert(
        &mut self,
        case_id: &str,
        target: &str,
        side: Side,
        outcome: Outcome,
        reason: Option<String>,
    ) {
        let target = target.split_whitespace().collect::<Vec<_>>().join(" ");
        self.lines.insert(
            (case_id.to_string(), target, side_name(side)),
            Expectation {
                outcome,
                reason,
                or: None,
            },
        );
    }

    /// What is expected of `result`, if anything is.
    pub fn of(&self, result: &CaseResult) -> Option<&Expectation> {
        self.lines.get(&key_of(result))
    }

    /// Notes on each result that meets an expectation with a reason, first, so
    /// that every report (text, JSON, JUnit, HTML, traces) says why it is expected.
    pub fn mark(&self, results: &mut [CaseResult]) {
        for r in results {
            if let Some(
                want @ Expectation {
                    reason: Some(reason),
                    ..
                },
            ) = self.of(r)
                && want.allows(r.outcome)
                && !r.notes.contains(reason)
            {
                r.notes.insert(0, reason.clone());
            }
        }
    }

    /// The rules of an expected-results file (the module docs): a result with no
    /// line is expected to `pass`, and a line for a tested target and side whose
    /// case did not run is a change.
    pub fn compare(&self, report: &RunReport) -> Comparison {
        let mut comparison = self.differences(&report.results, |r| {
            (r.outcome != Outcome::Pass).then(|| {
                format!(
                    "expected pass (no line: a new case), got {}",
                    r.outcome.as_str()
                )
            })
        });
        let tested: BTreeSet<(String, &str)> = report
            .results
            .iter()
            .map(|r| {
                let (_, target, side) = key_of(r);
                (target, side)
            })
            .collect();
        let seen: BTreeSet<Key> = report.results.iter().map(key_of).collect();
        for (key, want) in &self.lines {
            let (id, target, side) = key;
            if tested.contains(&(target.clone(), *side)) && !seen.contains(key) {
                comparison.changed.push(format!(
                    "{id} {target} ({side}): expected {}, not run (renamed or removed? update the file)",
                    want.describe()
                ));
            }
        }
        comparison.changed.sort();
        comparison
    }

    /// The rules of known failures, as a test framework's expected failures: a
    /// listed result must have its outcome (a known failure that starts passing
    /// is a change: it was fixed, and the list must say so), and any other result
    /// must not fail the run ([`Outcome::fails_run`] with `strict`). Listed cases
    /// that did not run are not a change: a run may pick its cases.
    pub fn compare_known(&self, results: &[CaseResult], strict: bool) -> Comparison {
        let mut comparison = self.differences(results, |r| {
            r.outcome
                .fails_run(strict)
                .then(|| format!("{}, and no known finding says so", r.outcome.as_str()))
        });
        comparison.changed.sort();
        comparison
    }

    /// A sentence for each result whose listed outcome differs, or, for a result
    /// with no line, what `unlisted` says about it.
    fn differences(
        &self,
        results: &[CaseResult],
        unlisted: impl Fn(&CaseResult) -> Option<String>,
    ) -> Comparison {
        let mut changed = Vec::new();
        for r in results {
            let (id, target, side) = key_of(r);
            let problem = match self.of(r) {
                Some(want) if !want.allows(r.outcome) => Some(format!(
                    "expected {}{}, got {}",
                    want.describe(),
                    want.reason
                        .as_ref()
                        .map(|why| format!(" ({why})"))
                        .unwrap_or_default(),
                    r.outcome.as_str()
                )),
                Some(_) => None,
                None => unlisted(r),
            };
            if let Some(problem) = problem {
                changed.push(format!("{id} {target} ({side}): {problem}"));
            }
        }
        Comparison { changed }
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
    Ok(expected.compare(report))
}

/// Parses the file, or says which line is wrong and how.
fn parse(text: &str) -> Result<Expected, (usize, String)> {
    let mut out = Expected::default();
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
            "client" => Side::Client,
            "server" => Side::Server,
            other => {
                return Err((
                    line_no,
                    format!("side must be `client` or `server`, found `{other}`"),
                ));
            }
        };
        let outcomes: Vec<Option<Outcome>> = outcome.split('|').map(Outcome::parse).collect();
        let (outcome, or) = match outcomes.as_slice() {
            [Some(one)] => (*one, None),
            [Some(one), Some(or)] if one != or => (*one, Some(*or)),
            _ => {
                return Err((
                    line_no,
                    format!(
                        "outcome must be one of pass, fail, non-strict, unsupported, error, flaky, \
                         or two of them as `pass|flaky`; found `{outcome}`"
                    ),
                ));
            }
        };
        let target = target.join(" ");
        let key = (id.to_string(), target.clone(), side_name(side));
        if out.lines.contains_key(&key) {
            return Err((
                line_no,
                format!("a second line for {id} {target} {}", side_name(side)),
            ));
        }
        out.lines.insert(
            key,
            Expectation {
                outcome,
                reason: None,
                or,
            },
        );
    }
    Ok(out)
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

    /// `pass|flaky` allows either outcome and no other; one outcome allows one.
    #[test]
    fn two_outcomes_allow_either() {
        let parsed = parse("a t server pass|flaky\nb t server pass\n").unwrap();
        let a = &parsed.lines[&("a".into(), "t".into(), "server")];
        assert!(a.allows(Outcome::Pass) && a.allows(Outcome::Flaky));
        assert!(!a.allows(Outcome::Fail));
        assert_eq!(a.describe(), "pass|flaky");
        let b = &parsed.lines[&("b".into(), "t".into(), "server")];
        assert!(b.allows(Outcome::Pass) && !b.allows(Outcome::Flaky));
        for bad in [
            "a t server pass|",
            "a t server pass|pass",
            "a t server pass|fail|flaky",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_target_may_hold_spaces() {
        let parsed = parse("a my peer server fail\n").unwrap();
        assert_eq!(
            parsed
                .lines
                .get(&("a".into(), "my peer".into(), "server"))
                .map(|e| e.outcome),
            Some(Outcome::Fail)
        );
    }
}
