//! The report as JUnit XML, for the test tab of a CI system.
//!
//! JUnit XML has no single standard; this writes the common core that Jenkins,
//! GitLab, GitHub test reporters and Azure read (checked against
//! `tests/data/junit.xsd` in the tests):
//!
//! * one `<testsuite>` per target and side (`reference (server)`), with the target
//!   and the side as `<properties>`, so that one peer's results stay together
//!   (and for a black-box run how it was reached: `address`, `local`, `tls`,
//!   and what its segments mean, `segments` over TLS and `cuts` beyond this machine);
//! * one `<testcase>` per case: `name` is the case ID, `classname` the ID without
//!   its last part (`handoff.early-data.same-segment.1` is in class
//!   `handoff.early-data.same-segment`), which CI tools show as a package tree;
//! * **fail** is a `<failure>`: `message` is the first broken point, `type` its
//!   point (`point-1`), the text every diagnosis and note, and `<system-out>` the
//!   text trace of the connection;
//! * **non-strict** (a SHOULD missed) is a *passed* test case whose
//!   `<system-out>` starts with `NON-STRICT:` and the diagnosis. JUnit has only
//!   passed, failed, errored and skipped. A missed SHOULD does not fail the run
//!   (exit code 0), so a `<failure>` would turn CI red where the run is green;
//!   `<skipped>` would claim the case did not run, which hides what it found. A
//!   passed case with the finding in its output is the one honest choice. (The
//!   note goes in `<system-out>`, not in a test-case `<properties>`: the widely
//!   used Jenkins schema does not allow properties on a test case.)
//! * **unsupported** is `<skipped>` with the reason: the peer does not speak the
//!   protocol, so the case was not run;
//! * **error** is an `<error>` with the notes: the case could not be run.
//! * **flaky** (repetitions with `--repeat N` disagreed) is a `<failure>` of type
//!   `flaky` whose message has the counts (`flaky: 3 pass, 2 fail over 5 runs`)
//!   and whose text is the diagnosis of the first run that was a problem: it
//!   fails the run (exit code 1), and a verdict that changes between runs is
//!   worth a red build.

use std::path::Path;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::Error;
use crate::results::transport::{BEST_EFFORT, TLS_SEGMENTS};
use crate::results::{CaseResult, Outcome, RunReport, TransportInfo};
use crate::wire::{Side, text};

/// Writes `report` as JUnit XML to `path`.
pub fn write(report: &RunReport, path: &Path) -> Result<(), Error> {
    let xml = render(report)?;
    std::fs::write(path, xml).map_err(|e| Error::io(path, e))
}

/// The report as JUnit XML (what [`write()`] writes).
pub fn render(report: &RunReport) -> Result<String, Error> {
    let mut junit = Report::new("hijack-harness");
    junit.set_time(report.duration);
    // One suite per (target, side), in the order they first appear.
    let mut keys: Vec<(&str, Side)> = Vec::new();
    for r in &report.results {
        let key = (r.target.as_str(), r.side);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    for (target, side) in keys {
        let mut suite = TestSuite::new(format!("{target} ({side})"));
        suite.add_property(Property::new("target", target));
        suite.add_property(Property::new("side", side.to_string()));
        if let Some(transport) = &report.transport {
            for (name, value) in transport_properties(transport) {
                suite.add_property(Property::new(name, value));
            }
        }
        let mut time = std::time::Duration::ZERO;
        for r in report
            .results
            .iter()
            .filter(|r| r.target == target && r.side == side)
        {
            time += r.duration;
            suite.add_test_case(test_case(r));
        }
        suite.set_time(time);
        junit.add_test_suite(suite);
    }
    Ok(drop_root_skipped(junit.to_string()?))
}

/// How a black-box run reached its target, as suite properties: `address`,
/// `local`, and when they apply `tls` (which names `--insecure`) and what the
/// segments mean (TLS records; best effort beyond this machine).
fn transport_properties(transport: &TransportInfo) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("address", transport.address.clone()),
        ("local", transport.local.to_string()),
    ];
    if let Some(tls) = &transport.tls {
        out.push(("tls", tls.clone()));
        out.push(("segments", TLS_SEGMENTS.into()));
    }
    if !transport.local {
        out.push(("cuts", BEST_EFFORT.into()));
    }
    out
}

/// Removes the `skipped` count from the root `<testsuites>` element.
///
/// quick-junit writes it, but Jenkins' widely used `junit-10.xsd` does not
/// allow it there (only on `<testsuite>`), and it is the one attribute that
/// keeps the output from validating against that schema. Every consumer counts
/// skipped cases from the suites, so nothing is lost.
fn drop_root_skipped(xml: String) -> String {
    let Some(start) = xml.find("<testsuites") else {
        return xml;
    };
    let Some(len) = xml[start..].find('>') else {
        return xml;
    };
    let tag = &xml[start..start + len];
    let Some(at) = tag.find(" skipped=\"") else {
        return xml;
    };
    let value_start = at + " skipped=\"".len();
    let Some(value_len) = tag[value_start..].find('"') else {
        return xml;
    };
    let cut = start + at..start + value_start + value_len + 1;
    let mut out = xml;
    out.replace_range(cut, "");
    out
}

/// The class a case belongs to: its ID without the last dotted part.
pub fn classname(case_id: &str) -> &str {
    case_id.rsplit_once('.').map_or(case_id, |(class, _)| class)
}

/// Every violation and note, one per line: the body of a failure.
fn diagnosis(r: &CaseResult) -> String {
    let mut out = String::new();
    for v in &r.violations {
        out.push_str(&format!("FAIL {}: {}\n", v.point, v.message));
    }
    for note in &r.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}

/// What the case is, for the head of `<system-out>`.
fn header(r: &CaseResult) -> String {
    let mut out = format!(
        "{} [{}] {}\nspec: {}\n",
        r.case_id,
        r.level.as_str(),
        r.title,
        r.spec
    );
    if !r.bug.is_empty() {
        out.push_str(&format!("bug: {}\n", r.bug));
    }
    out
}

fn test_case(r: &CaseResult) -> TestCase {
    let first = r
        .violations
        .first()
        .map(|v| format!("{}: {}", v.point, v.message));
    let status = match r.outcome {
        Outcome::Pass | Outcome::NonStrict => TestCaseStatus::success(),
        Outcome::Fail => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(first.unwrap_or_else(|| "failed".into()))
                .set_type(
                    r.violations
                        .first()
                        .map_or("fail".into(), |v| format!("point-{}", v.point.number())),
                )
                .set_description(diagnosis(r));
            status
        }
        Outcome::Unsupported => {
            let mut status = TestCaseStatus::skipped();
            status
                .set_message(
                    r.notes
                        .first()
                        .cloned()
                        .unwrap_or_else(|| "unsupported".into()),
                )
                .set_type("unsupported");
            status
        }
        Outcome::Flaky => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(format!(
                    "flaky: {} over {} runs",
                    crate::results::tally(&r.repeats),
                    r.repeats.iter().map(|(_, n)| n).sum::<usize>()
                ))
                .set_type("flaky")
                .set_description(diagnosis(r));
            status
        }
        Outcome::Error => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status
                .set_message(
                    r.notes
                        .first()
                        .cloned()
                        .unwrap_or_else(|| "the case could not be run".into()),
                )
                .set_type("error")
                .set_description(diagnosis(r));
            status
        }
    };
    let mut case = TestCase::new(r.case_id.as_str(), status);
    case.set_classname(classname(&r.case_id));
    case.set_time(r.duration);
    let mut out = String::new();
    if r.outcome == Outcome::NonStrict {
        out.push_str("NON-STRICT: a SHOULD was missed; this does not fail the run.\n");
        out.push_str(&diagnosis(r));
        out.push('\n');
    }
    // Passed cases carry no output: a trace per passing case would make the file
    // mostly noise, and the JSON report has their summaries.
    if r.outcome.is_problem() {
        out.push_str(&header(r));
        out.push_str("\ntrace:\n");
        out.push_str(&text::render(&r.trace));
        case.set_system_out(out);
    }
    case
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_root_loses_its_skipped_count() {
        let xml = "<?xml?>\n<testsuites name=\"h\" tests=\"2\" skipped=\"1\" failures=\"0\">\
                   <testsuite name=\"s\" skipped=\"1\"/></testsuites>";
        assert_eq!(
            drop_root_skipped(xml.to_string()),
            "<?xml?>\n<testsuites name=\"h\" tests=\"2\" failures=\"0\">\
             <testsuite name=\"s\" skipped=\"1\"/></testsuites>"
        );
    }

    #[test]
    fn classname_drops_the_last_part() {
        assert_eq!(
            classname("handoff.early-data.same-segment.1"),
            "handoff.early-data.same-segment"
        );
        assert_eq!(classname("handoff.head-split"), "handoff");
        assert_eq!(classname("plain"), "plain");
    }
}
