//! What a run found, as data: the outcome of each case against each target
//! ([`CaseResult`]), the whole run ([`RunReport`]) and the in-memory [`Run`]
//! record a case's verdict comes from.
//!
//! This floor sits between the oracle (which judges) and everything that runs
//! cases or renders them: the runner fills these types, `report` lays them out,
//! and neither knows the other. Nothing here runs a case or prints one.

use std::time::Duration;

use crate::oracle::{Verdict, Violation};
use crate::suite::{Case, Level};
use crate::wire::{Side, Trace};

pub mod leg;
pub mod run;
pub mod transport;

pub use leg::Leg;
pub use run::Run;
pub use transport::TransportInfo;

/// The verdict of one case against one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// Every checked point held.
    Pass,
    /// A MUST was broken.
    Fail,
    /// Only a SHOULD was missed.
    NonStrict,
    /// The target does not speak what the case needs (for example no `CONNECT`).
    Unsupported,
    /// The case could not be run: refused, timed out before any verdict, bad setup.
    Error,
    /// Repetitions of the case (`--repeat N`) disagreed: the counts are in
    /// [`CaseResult::repeats`]. Never silently a pass or a fail.
    Flaky,
}

impl Outcome {
    /// Its name in reports: `pass`, `fail`, `non-strict`, `unsupported`, `error`, `flaky`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::NonStrict => "non-strict",
            Outcome::Unsupported => "unsupported",
            Outcome::Error => "error",
            Outcome::Flaky => "flaky",
        }
    }

    /// The outcome called `name` (the inverse of [`Outcome::as_str`]).
    pub fn parse(name: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == name)
    }

    /// Every outcome, from best to worst-but-not-a-verdict.
    pub const ALL: [Outcome; 6] = [
        Outcome::Pass,
        Outcome::Fail,
        Outcome::NonStrict,
        Outcome::Unsupported,
        Outcome::Error,
        Outcome::Flaky,
    ];

    /// Whether this outcome deserves a person's attention: a failure, a missed
    /// SHOULD, a run that could not be made, or repetitions that disagree. These
    /// get a trace file, an open ladder diagram in HTML and a diagnosis in the
    /// text table.
    pub fn is_problem(self) -> bool {
        matches!(
            self,
            Outcome::Fail | Outcome::NonStrict | Outcome::Error | Outcome::Flaky
        )
    }

    /// Whether this outcome fails a run (exit code 1) when no expected-results
    /// file says otherwise; `strict` makes a missed SHOULD fail too.
    pub fn fails_run(self, strict: bool) -> bool {
        match self {
            Outcome::Fail | Outcome::Error | Outcome::Flaky => true,
            Outcome::NonStrict => strict,
            Outcome::Pass | Outcome::Unsupported => false,
        }
    }

    /// The outcome of a verdict for a case of `level`: a broken MUST fails, a
    /// broken SHOULD is non-strict, each violation at the level of the sentence
    /// it breaks ([`Verdict::graded`]): a SHOULD case that sees a MUST broken fails.
    pub fn of(level: Level, verdict: &Verdict) -> Outcome {
        match (verdict.strict(), verdict.graded(level)) {
            (true, _) => Outcome::Pass,
            (false, Level::Must) => Outcome::Fail,
            (false, Level::Should) => Outcome::NonStrict,
        }
    }
}

/// What a report says about a case, whatever happens on its wire: a
/// [`Case`] of a scenario, or of a Docker client's attach (container output
/// and stdin), describes itself this way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseInfo<'a> {
    /// The case's stable ID.
    pub id: &'a str,
    /// Its one-line title.
    pub title: &'a str,
    /// MUST or SHOULD.
    pub level: Level,
    /// Where the requirement is written.
    pub spec: &'a str,
    /// The real bug it comes from, if one.
    pub bug: &'a str,
}

impl Default for CaseInfo<'_> {
    fn default() -> Self {
        CaseInfo {
            id: "",
            title: "",
            level: Level::Must,
            spec: "",
            bug: "",
        }
    }
}

impl<'a, S> From<&'a Case<S>> for CaseInfo<'a> {
    fn from(case: &'a Case<S>) -> Self {
        CaseInfo {
            id: case.id,
            title: case.title,
            level: case.level,
            spec: case.spec,
            bug: case.bug,
        }
    }
}

/// One case run against one target.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The case's stable ID.
    pub case_id: String,
    /// The case's one-line title.
    pub title: String,
    /// MUST or SHOULD.
    pub level: Level,
    /// Where the requirement is written.
    pub spec: String,
    /// The real bug the case comes from, if one.
    pub bug: String,
    /// What was tested: a subject name (`reference`, `hyper`, `mutant:...`) or an address.
    pub target: String,
    /// Which side the target played.
    pub side: Side,
    /// The verdict.
    pub outcome: Outcome,
    /// The broken points, with their diagnoses.
    pub violations: Vec<Violation>,
    /// Context (errors, timeouts, how the run ended).
    pub notes: Vec<String>,
    /// What crossed the wire (capped): for a proxy, the client leg.
    pub trace: Trace,
    /// The case's further connections, for a proxy its upstream legs ([`Leg`]);
    /// empty for a server or a client.
    pub legs: Vec<Leg>,
    /// How long the case took.
    pub duration: Duration,
    /// With `--repeat N`: how many repetitions had each outcome, in the order the
    /// outcomes first appeared (empty for a single run).
    pub repeats: Vec<(Outcome, usize)>,
}

impl CaseResult {
    /// The result of one in-memory [`Run`] of `case`.
    ///
    /// The outcome follows the case's level: a broken MUST case fails, a broken
    /// SHOULD case is non-strict, a case the subject declined is unsupported. An
    /// in-memory run is never an `error` (nothing can refuse or time out there);
    /// runs over TCP, which can, use [`CaseResult::from_timed_run`].
    ///
    /// A [`Run`] does not time itself, so `duration` is zero: the caller that
    /// timed the run sets it.
    pub fn from_run(case: &Case, run: &Run) -> CaseResult {
        CaseResult::from_timed_run(case, run.clone(), false, Duration::ZERO)
    }

    /// The result of a [`Run`] of `case` that took `duration`; a run the caller
    /// stopped at its time limit (`timed_out`) is an `error`.
    pub fn from_timed_run(
        case: &Case,
        run: Run,
        timed_out: bool,
        duration: Duration,
    ) -> CaseResult {
        let mut verdict = run.verdict;
        let outcome = if let Some(why) = &run.unsupported {
            verdict.notes.push(why.clone());
            Outcome::Unsupported
        } else if timed_out {
            Outcome::Error
        } else {
            Outcome::of(case.level, &verdict)
        };
        CaseResult::new(
            case,
            &run.subject,
            run.side,
            outcome,
            verdict,
            run.trace,
            duration,
        )
    }

    /// A result with the case's metadata filled in: a suite [`Case`], a Docker
    /// client case, or any [`CaseInfo`].
    pub fn new<'a>(
        case: impl Into<CaseInfo<'a>>,
        target: &str,
        side: Side,
        outcome: Outcome,
        verdict: Verdict,
        trace: Trace,
        duration: Duration,
    ) -> CaseResult {
        let case = case.into();
        CaseResult {
            case_id: case.id.to_string(),
            title: case.title.to_string(),
            level: case.level,
            spec: case.spec.to_string(),
            bug: case.bug.to_string(),
            target: target.to_string(),
            side,
            outcome,
            violations: verdict.violations,
            notes: verdict.notes,
            trace,
            legs: Vec::new(),
            duration,
            repeats: Vec::new(),
        }
    }

    /// The repetitions of one case against one target as one result: their
    /// common outcome, or [`Outcome::Flaky`] with the counts when they disagree.
    /// The result kept (diagnosis, trace) is the first that is a problem, so a
    /// flaky case shows how it failed; the duration is the sum.
    pub fn merge(runs: Vec<CaseResult>) -> CaseResult {
        let total = runs.len();
        let mut repeats: Vec<(Outcome, usize)> = Vec::new();
        for r in &runs {
            match repeats.iter_mut().find(|(o, _)| *o == r.outcome) {
                Some((_, n)) => *n += 1,
                None => repeats.push((r.outcome, 1)),
            }
        }
        let duration = runs.iter().map(|r| r.duration).sum();
        let shown = runs
            .iter()
            .position(|r| r.outcome.is_problem())
            .unwrap_or(0);
        let Some(mut kept) = runs.into_iter().nth(shown) else {
            let none = Verdict::noted("no run was made");
            let mut empty = CaseResult::new(
                CaseInfo::default(),
                "",
                Side::Server,
                Outcome::Error,
                none,
                Trace::default(),
                duration,
            );
            empty.repeats = repeats;
            return empty;
        };
        kept.duration = duration;
        if total > 1 {
            if repeats.len() > 1 {
                kept.notes.push(format!(
                    "flaky: {} over {total} runs (the diagnosis and trace are those of run {})",
                    tally(&repeats),
                    shown + 1
                ));
                kept.outcome = Outcome::Flaky;
            }
            kept.repeats = repeats;
        }
        kept
    }
}

/// Several rounds of the same runs (each the same cases against the same
/// targets, in the same order) as one list of results, position by position
/// ([`CaseResult::merge`]).
pub fn merge_rounds(rounds: Vec<Vec<CaseResult>>) -> Vec<CaseResult> {
    let len = rounds.first().map_or(0, Vec::len);
    let mut columns: Vec<Vec<CaseResult>> = (0..len).map(|_| Vec::new()).collect();
    for round in rounds {
        for (column, result) in columns.iter_mut().zip(round) {
            column.push(result);
        }
    }
    columns.into_iter().map(CaseResult::merge).collect()
}

/// "3 pass, 2 fail".
pub fn tally(repeats: &[(Outcome, usize)]) -> String {
    repeats
        .iter()
        .map(|(o, n)| format!("{n} {}", o.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How many results had each outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Every result.
    pub cases: usize,
    /// [`Outcome::Pass`].
    pub pass: usize,
    /// [`Outcome::Fail`].
    pub fail: usize,
    /// [`Outcome::NonStrict`].
    pub non_strict: usize,
    /// [`Outcome::Unsupported`].
    pub unsupported: usize,
    /// [`Outcome::Error`].
    pub error: usize,
    /// [`Outcome::Flaky`].
    pub flaky: usize,
}

impl Totals {
    /// How many results had `outcome`.
    pub fn of(&self, outcome: Outcome) -> usize {
        match outcome {
            Outcome::Pass => self.pass,
            Outcome::Fail => self.fail,
            Outcome::NonStrict => self.non_strict,
            Outcome::Unsupported => self.unsupported,
            Outcome::Error => self.error,
            Outcome::Flaky => self.flaky,
        }
    }
}

impl RunReport {
    /// The count of each outcome.
    pub fn totals(&self) -> Totals {
        let mut totals = Totals {
            cases: self.results.len(),
            ..Totals::default()
        };
        for result in &self.results {
            *match result.outcome {
                Outcome::Pass => &mut totals.pass,
                Outcome::Fail => &mut totals.fail,
                Outcome::NonStrict => &mut totals.non_strict,
                Outcome::Unsupported => &mut totals.unsupported,
                Outcome::Error => &mut totals.error,
                Outcome::Flaky => &mut totals.flaky,
            } += 1;
        }
        totals
    }

    /// Every target, in the order it first appears in the results.
    pub fn targets(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for result in &self.results {
            if !out.contains(&result.target.as_str()) {
                out.push(&result.target);
            }
        }
        out
    }
}

/// Whether one mutant was caught by the self-check.
#[derive(Debug, Clone)]
pub struct MutantResult {
    /// The mutant's name.
    pub name: String,
    /// Whether a case or property failed with the point the mutant breaks.
    pub caught: bool,
    /// What caught it (case ID or property), or why it was not caught.
    pub detail: String,
}

/// A whole run.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    /// Every case result, in run order.
    pub results: Vec<CaseResult>,
    /// The mutant self-check, when it ran.
    pub mutants: Vec<MutantResult>,
    /// How long the run took.
    pub duration: Duration,
    /// How a black-box server or proxy run reached its target (`None` for
    /// the embedded run and client runs).
    pub transport: Option<TransportInfo>,
}
