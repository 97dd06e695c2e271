//! The embedded run's known findings: what hyper (a subject of every
//! `hijack-harness run`) is known to fail, carried as built-in expected results
//! (the findings themselves are in the registry, [`crate::subject::known`]).
//!
//! hyper 1.12.0 fails four suite cases through its findings 3 and 4 (README,
//! "hyper" → "Findings": a request body the service drops is handed to the
//! upgraded stream; no `100 Continue` before the `101`). They are true findings,
//! so each result stays `fail` in every report, marked with its finding. But the
//! run is also CI's self-check, and a self-check that always exits 1 tells CI
//! nothing. So, as `--expect FILE` does for a black-box peer, the run compares
//! itself with what is known ([`crate::report::expect::Expected::compare_known`]):
//!
//! * exit 0 when exactly the known results fail, each at exactly its finding's
//!   points (a known case failing at another point is a new failure);
//! * exit 1 when anything else fails, or when a known finding stops failing: a
//!   fix upstream is news, and this list, the README and the regression tests in
//!   `tests/hyper/findings.rs` must then change with it.
//!
//! Over TCP a finding can hide behind timing: the cases whose body ends in a
//! later segment pass when a busy machine delivers both segments in one read. A
//! known result that passes (or is flaky) over TCP is therefore run again on the
//! deterministic in-memory wire, as the mutant check does for a window TCP never
//! hits, and the result shown is that run's, with a note saying so. A finding
//! stops being known only when it passes there too.

use std::fmt::Write as _;

use crate::check::{self, Run};
use crate::oracle::Point;
use crate::report::expect::{Comparison, Expected};
use crate::results::{CaseResult, Outcome, tally};
use crate::subject::known::{
    DROPPED_BODY_HANDED_TO_UPGRADE, DROPPED_BODY_SKIPS_100_BEFORE_101, Finding,
};
use crate::suite::Case;
use crate::wire::Side;

use super::{SharedClient, SharedServer};

/// A suite case a subject of the embedded run is known to fail, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    /// The case's ID.
    pub case_id: &'static str,
    /// The subject's name, as in the report's columns.
    pub target: &'static str,
    /// The side the subject plays.
    pub side: Side,
    /// The findings the case fails through.
    pub findings: &'static [Finding],
}

impl Known {
    /// The note on its results: "known finding 3 (README Findings): ...".
    pub fn reason(&self) -> String {
        let numbers: Vec<String> = self.findings.iter().map(|f| f.number.to_string()).collect();
        let what: Vec<&str> = self.findings.iter().map(|f| f.what).collect();
        format!(
            "known finding{} {} (README Findings): {}",
            if numbers.len() == 1 { "" } else { "s" },
            numbers.join(" and "),
            what.join("; ")
        )
    }

    /// The points its failures break: those of its findings, in `Point` order.
    fn points(&self) -> Vec<Point> {
        let mut points: Vec<Point> = self
            .findings
            .iter()
            .flat_map(|f| f.points.iter().copied())
            .collect();
        points.sort();
        points.dedup();
        points
    }

    fn is(&self, r: &CaseResult) -> bool {
        r.case_id == self.case_id && r.target == self.target && r.side == self.side
    }
}

/// Every known failure of the embedded run's subjects (README, "Findings").
pub const KNOWN: &[Known] = &[
    Known {
        case_id: "handoff.body.never-read",
        target: "hyper",
        side: Side::Server,
        findings: &[DROPPED_BODY_HANDED_TO_UPGRADE],
    },
    Known {
        case_id: "handoff.body.read-in-part",
        target: "hyper",
        side: Side::Server,
        findings: &[DROPPED_BODY_HANDED_TO_UPGRADE],
    },
    Known {
        case_id: "handoff.body.empty-chunked-never-read",
        target: "hyper",
        side: Side::Server,
        findings: &[DROPPED_BODY_HANDED_TO_UPGRADE],
    },
    // The client waits for the 100 that never comes, then sends its body after
    // the 101: the whole body reaches the new protocol.
    Known {
        case_id: "expect-continue.body-never-read",
        target: "hyper",
        side: Side::Server,
        findings: &[
            DROPPED_BODY_HANDED_TO_UPGRADE,
            DROPPED_BODY_SKIPS_100_BEFORE_101,
        ],
    },
];

/// [`KNOWN`] as expected results: each case `fail`, for its reason.
pub fn expected() -> Expected {
    let mut expected = Expected::default();
    for known in KNOWN {
        expected.insert(
            known.case_id,
            known.target,
            known.side,
            Outcome::Fail,
            Some(known.reason()),
        );
    }
    expected
}

/// How an embedded run compares with its known findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Judgement {
    /// What differs: a failure nothing expects, a known finding that stopped
    /// failing or fails at other points. Empty when the run is as known.
    pub comparison: Comparison,
    /// How many results failed as known.
    pub known: usize,
    /// The known results that passed over TCP (timing) and failed as known on
    /// the in-memory wire: `case-id [target side]`.
    pub in_memory: Vec<String>,
}

impl Judgement {
    /// Whether the run is as known: exit code 0 (mutants aside).
    pub fn matches(&self) -> bool {
        self.comparison.matches()
    }

    /// What a person reads after the report: one line, or one per change.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if self.matches() {
            let _ = write!(
                out,
                "known findings (README Findings): {} result{} fail as known, nothing else fails",
                self.known,
                if self.known == 1 { "" } else { "s" },
            );
            if !self.in_memory.is_empty() {
                let _ = write!(
                    out,
                    " ({} on the in-memory wire, which TCP timing missed: {})",
                    self.in_memory.len(),
                    self.in_memory.join(", ")
                );
            }
            out.push('\n');
            return out;
        }
        let _ = writeln!(
            out,
            "changed from the known findings (README Findings; a fixed one is removed from \
             runner::embedded::known, the README and tests/hyper/findings.rs):"
        );
        for line in &self.comparison.changed {
            let _ = writeln!(out, "  {line}");
        }
        out
    }
}

/// Judges an embedded run's `results` against [`KNOWN`]: reruns in memory the
/// known results that timing hid, marks every known failure with its finding,
/// and says what changed (a failure with `strict` as in [`Outcome::fails_run`]).
/// `cases` and the subjects are the run's.
pub fn judge(
    results: &mut [CaseResult],
    cases: &[Case],
    servers: &[SharedServer],
    clients: &[SharedClient],
    strict: bool,
) -> Judgement {
    let mut in_memory = Vec::new();
    for r in results.iter_mut() {
        if !KNOWN.iter().any(|k| k.is(r)) || !matches!(r.outcome, Outcome::Pass | Outcome::Flaky) {
            continue;
        }
        let Some(case) = cases.iter().find(|c| c.id == r.case_id) else {
            continue;
        };
        let Some(run) = run_in_memory(case, &r.target, r.side, servers, clients) else {
            continue;
        };
        let again = CaseResult::from_run(case, &run);
        if again.outcome == Outcome::Fail {
            in_memory.push(format!("{} [{} {}]", r.case_id, r.target, r.side));
            let over_tcp = match r.outcome {
                Outcome::Flaky => format!("was flaky ({})", tally(&r.repeats)),
                other => format!("had the outcome {}", other.as_str()),
            };
            let mut notes = again.notes.clone();
            notes.push(format!(
                "over TCP the case {over_tcp}: timing missed the finding's window (a later \
                 segment arrived in the same read), so this is the deterministic in-memory \
                 wire's result"
            ));
            *r = CaseResult {
                notes,
                duration: r.duration,
                ..again
            };
        }
    }
    let expected = expected();
    expected.mark(results);
    let mut comparison = expected.compare_known(results, strict);
    let mut known = 0;
    for r in results.iter().filter(|r| r.outcome == Outcome::Fail) {
        let Some(finding) = KNOWN.iter().find(|k| k.is(r)) else {
            continue;
        };
        let mut broken: Vec<Point> = r.violations.iter().map(|v| v.point).collect();
        broken.sort();
        broken.dedup();
        if broken == finding.points() {
            known += 1;
        } else {
            comparison.changed.push(format!(
                "{} {} ({}): fails at {}, where {} explains {}",
                r.case_id,
                r.target,
                r.side,
                points(&broken),
                finding.reason(),
                points(&finding.points())
            ));
        }
    }
    comparison.changed.sort();
    Judgement {
        comparison,
        known,
        in_memory,
    }
}

/// `point 1 (read side, server), handshake`.
fn points(points: &[Point]) -> String {
    points
        .iter()
        .map(Point::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The case run again on the in-memory wire against the run's subject of that
/// name and side, if it has one.
fn run_in_memory(
    case: &Case,
    target: &str,
    side: Side,
    servers: &[SharedServer],
    clients: &[SharedClient],
) -> Option<Run> {
    match side {
        Side::Server => servers
            .iter()
            .find(|s| s.name() == target)
            .map(|s| check::run_server(s.as_ref(), &case.scenario)),
        Side::Client => clients
            .iter()
            .find(|c| c.name() == target)
            .map(|c| check::run_client(c.as_ref(), &case.scenario)),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::oracle::Violation;
    use crate::subject::hyper::{HyperServer, ServerMode};
    use crate::subject::mutants::Mutant;
    use crate::subject::reference::ReferenceServer;
    use crate::subject::{BoxFuture, BoxIo, ServerHandler, ServerSubject, SubjectError, Support};
    use crate::suite;

    /// hyper with its findings fixed: the reference, under hyper's name.
    struct FixedHyper(ReferenceServer);

    impl ServerSubject for FixedHyper {
        fn name(&self) -> String {
            "hyper".into()
        }

        fn supports(&self, scenario: &crate::scenario::Scenario) -> Support {
            self.0.supports(scenario)
        }

        fn serve(
            &self,
            io: BoxIo,
            handler: ServerHandler,
        ) -> BoxFuture<'static, Result<(), SubjectError>> {
            self.0.serve(io, handler)
        }
    }

    fn reference() -> SharedServer {
        Arc::new(ReferenceServer::default())
    }

    fn hyper() -> SharedServer {
        Arc::new(HyperServer::new(ServerMode::Direct))
    }

    /// Every server case of the suite against each of `servers`, on the
    /// in-memory wire (deterministic: the TCP run's verdicts, without its timing).
    fn run(servers: &[SharedServer]) -> (Vec<CaseResult>, Vec<Case>) {
        let cases: Vec<Case> = suite::all()
            .into_iter()
            .filter(|c| c.sides.server)
            .collect();
        let results = cases
            .iter()
            .flat_map(|case| {
                servers.iter().map(move |s| {
                    CaseResult::from_run(case, &check::run_server(s.as_ref(), &case.scenario))
                })
            })
            .collect();
        (results, cases)
    }

    fn judged(results: &mut [CaseResult], cases: &[Case], servers: &[SharedServer]) -> Judgement {
        judge(results, cases, servers, &[], false)
    }

    fn result<'a>(results: &'a [CaseResult], case_id: &str, target: &str) -> &'a CaseResult {
        results
            .iter()
            .find(|r| r.case_id == case_id && r.target == target)
            .expect("the case ran against the target")
    }

    #[test]
    fn exactly_the_known_failures_are_as_known_and_stay_fail() {
        let servers = [reference(), hyper()];
        let (mut results, cases) = run(&servers);
        let judgement = judged(&mut results, &cases, &servers);
        assert!(judgement.matches(), "{}", judgement.render());
        assert_eq!(judgement.known, KNOWN.len());
        assert!(judgement.in_memory.is_empty());
        let never_read = result(&results, "handoff.body.never-read", "hyper");
        assert_eq!(never_read.outcome, Outcome::Fail);
        assert_eq!(
            never_read.notes[0],
            "known finding 3 (README Findings): a request body the service drops is handed \
             to the upgraded stream"
        );
        let both = result(&results, "expect-continue.body-never-read", "hyper");
        assert!(
            both.notes[0].starts_with("known findings 3 and 4 (README Findings): "),
            "{:?}",
            both.notes
        );
        // The reference fails nothing, and nothing of it is marked.
        assert!(
            results
                .iter()
                .filter(|r| r.target == "reference")
                .all(|r| !r.notes.iter().any(|n| n.contains("known finding")))
        );
        assert!(judgement.render().starts_with(
            "known findings (README Findings): 4 results fail as known, nothing else fails"
        ));
    }

    #[test]
    fn a_known_finding_that_stops_failing_is_a_change() {
        let servers: [SharedServer; 2] = [
            reference(),
            Arc::new(FixedHyper(ReferenceServer::default())),
        ];
        let (mut results, cases) = run(&servers);
        let judgement = judged(&mut results, &cases, &servers);
        assert!(!judgement.matches());
        assert_eq!(
            judgement.comparison.changed.len(),
            KNOWN.len(),
            "{}",
            judgement.render()
        );
        assert!(
            judgement.comparison.changed.contains(
                &"handoff.body.never-read hyper (server): expected fail (known finding 3 \
                  (README Findings): a request body the service drops is handed to the \
                  upgraded stream), got pass"
                    .to_string()
            ),
            "{}",
            judgement.render()
        );
        // A pass is not marked as a known failure.
        let never_read = result(&results, "handoff.body.never-read", "hyper");
        assert!(!never_read.notes.iter().any(|n| n.contains("known finding")));
    }

    #[test]
    fn any_other_failure_is_a_change() {
        let mutant = Mutant::from_name("hands-over-unread-body")
            .and_then(Mutant::server)
            .expect("a server mutant");
        let servers: [SharedServer; 2] = [hyper(), Arc::new(mutant)];
        let (mut results, cases) = run(&servers);
        let judgement = judged(&mut results, &cases, &servers);
        assert!(!judgement.matches());
        // The mutant fails the same cases as hyper, and more: each is a change.
        let changed = &judgement.comparison.changed;
        assert!(
            changed.contains(
                &"handoff.body.never-read mutant:hands-over-unread-body (server): fail, and no \
                  known finding says so"
                    .to_string()
            ),
            "{changed:?}"
        );
        assert!(changed.iter().all(|c| c.contains("mutant:")), "{changed:?}");
        assert_eq!(judgement.known, KNOWN.len());
    }

    #[test]
    fn a_known_case_failing_at_another_point_is_a_change() {
        let servers = [hyper()];
        let (mut results, cases) = run(&servers);
        let i = results
            .iter()
            .position(|r| r.case_id == "handoff.body.never-read")
            .expect("the case ran");
        results[i].violations.push(Violation {
            point: Point::Ownership,
            message: "the library wrote after the hand-over".into(),
            marks: Vec::new(),
            level: None,
        });
        let judgement = judged(&mut results, &cases, &servers);
        assert_eq!(
            judgement.comparison.changed,
            [
                "handoff.body.never-read hyper (server): fails at point 1 (read side, server), \
              point 4 (ownership), where known finding 3 (README Findings): a request body the \
              service drops is handed to the upgraded stream explains point 1 (read side, server)"
            ]
        );
        assert_eq!(judgement.known, KNOWN.len() - 1);
    }

    /// Over TCP a later segment may arrive in the same read and hide the
    /// finding: the in-memory wire decides, and its result is shown.
    #[test]
    fn a_finding_hidden_by_timing_is_confirmed_on_the_in_memory_wire() {
        // The reference's passing results, as if hyper had passed over TCP.
        let (mut results, cases) = run(&[reference()]);
        for r in &mut results {
            r.target = "hyper".into();
        }
        let judgement = judged(&mut results, &cases, &[hyper()]);
        assert!(judgement.matches(), "{}", judgement.render());
        assert_eq!(judgement.in_memory.len(), KNOWN.len());
        let never_read = result(&results, "handoff.body.never-read", "hyper");
        assert_eq!(never_read.outcome, Outcome::Fail);
        assert!(
            never_read
                .notes
                .iter()
                .any(|n| n.starts_with("over TCP the case had the outcome pass: timing missed")),
            "{:?}",
            never_read.notes
        );
        assert!(
            judgement
                .render()
                .contains("on the in-memory wire, which TCP timing missed")
        );
    }

    #[test]
    fn every_known_case_is_a_suite_case_of_its_side() {
        let all = suite::all();
        for known in KNOWN {
            let case = all.iter().find(|c| c.id == known.case_id);
            assert!(
                case.is_some_and(|c| match known.side {
                    Side::Server => c.sides.server,
                    Side::Client => c.sides.client,
                }),
                "{} is not a {} case of the suite",
                known.case_id,
                known.side
            );
        }
    }
}
