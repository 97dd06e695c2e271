//! What a conformance run found, in the shapes people and CI read: a table on the
//! terminal, JSON, JUnit XML, an HTML report with a ladder diagram per case.
//!
//! Everything here renders a [`RunReport`]; nothing here runs a case.

use std::time::Duration;

use crate::oracle::Violation;
use crate::suite::Level;
use crate::wire::{Side, Trace};

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
}

impl Outcome {
    /// Its name in reports: `pass`, `fail`, `non-strict`, `unsupported`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::NonStrict => "non-strict",
            Outcome::Unsupported => "unsupported",
            Outcome::Error => "error",
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
    /// What crossed the wire (capped).
    pub trace: Trace,
    /// How long the case took.
    pub duration: Duration,
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
}
