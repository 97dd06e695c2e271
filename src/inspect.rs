//! Looking at one case closely: `hijack-harness trace CASE` and
//! `hijack-harness trace --scenario HEX`.
//!
//! A verdict says *that* a subject broke the invariant; the wire trace shows
//! *how*. This module runs one conformance case, or one scenario given as the hex
//! of its bytes (what a counterexample's `replay:` line prints, see
//! [`crate::counterexample`]), over the in-memory wire (so the trace is the same
//! on every run) against one named subject, and gives back the runs for
//! [`crate::report::trace_text::render_run`] and, on request, a pcap of each for
//! Wireshark ([`crate::wire::pcap`]). The command line only parses and prints.

use std::path::{Path, PathBuf};

use crate::check::{self, Run};
use crate::counterexample::HexError;
use crate::properties;
use crate::report::trace_text;
use crate::scenario::{Scenario, summary};
use crate::subject::hyper::{HyperClient, HyperServer, HyperServerOptions, ServerMode};
use crate::subject::mutants::Mutant;
use crate::subject::reference::{ReferenceClient, ReferenceServer};
use crate::subject::{ClientSubject, ServerSubject};
use crate::suite;
use crate::wire::Side;
use crate::wire::pcap::{self, PcapExportError};

/// Why a case could not be traced.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// No case has this ID.
    #[error("no case `{0}` (see the case IDs in src/suite/cases.rs)")]
    UnknownCase(String),
    /// No subject has this name.
    #[error(
        "no subject `{0}`: use `reference`, `hyper`, `hyper-downcast`, `hyper-util-auto` or `mutant:<name>`, \
         with one of: {1}"
    )]
    UnknownSubject(String, String),
    /// `--side` is not `server` or `client`.
    #[error("no side `{0}`: use `server` or `client`")]
    UnknownSide(String),
    /// The case, or the subject, does not test the side asked for.
    #[error("{0}")]
    NoSuchRun(String),
    /// The scenario's hex is not hex.
    #[error("--scenario: {0}")]
    BadScenario(#[from] HexError),
    /// A pcap was asked for, but there is more than one run to write.
    #[error("{0} runs against both sides; choose one with --side to write a pcap")]
    AmbiguousPcap(String),
    /// The pcap could not be written.
    #[error("{path}: {source}")]
    Pcap {
        /// Where it was to be written.
        path: PathBuf,
        /// Why it failed.
        source: PcapExportError,
    },
}

/// A subject that can be traced by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectName {
    /// The reference implementation (both sides).
    Reference,
    /// hyper 1.x: its server read in `mode` (`hyper`, `hyper-downcast`,
    /// `hyper-util-auto`), and its client (with `hyper` only).
    Hyper(ServerMode),
    /// A mutant of the reference (one side).
    Mutant(Mutant),
}

impl SubjectName {
    /// Parses `reference`, `hyper`, `hyper-downcast`, `hyper-util-auto` or `mutant:<name>`.
    pub fn parse(name: &str) -> Result<SubjectName, TraceError> {
        match name {
            "reference" => return Ok(SubjectName::Reference),
            "hyper" => return Ok(SubjectName::Hyper(ServerMode::Direct)),
            "hyper-downcast" => return Ok(SubjectName::Hyper(ServerMode::Downcast)),
            "hyper-util-auto" => return Ok(SubjectName::Hyper(ServerMode::Auto)),
            _ => {}
        }
        name.strip_prefix("mutant:")
            .and_then(Mutant::from_name)
            .map(SubjectName::Mutant)
            .ok_or_else(|| {
                let names: Vec<&str> = Mutant::all().into_iter().map(Mutant::name).collect();
                TraceError::UnknownSubject(name.to_string(), names.join(", "))
            })
    }

    /// The server subject, if this subject has a server side.
    ///
    /// hyper runs with its defaults except `auto_date_header(false)`: its `date:`
    /// header would put the wall clock into the trace, which must be the same on
    /// every run (snapshots, diffs between two runs).
    pub fn server(self) -> Option<Box<dyn ServerSubject>> {
        match self {
            SubjectName::Reference => Some(Box::new(ReferenceServer::default())),
            SubjectName::Hyper(mode) => Some(Box::new(HyperServer {
                mode,
                options: HyperServerOptions {
                    auto_date_header: false,
                    ..HyperServerOptions::default()
                },
            })),
            SubjectName::Mutant(m) => m.server().map(|s| Box::new(s) as Box<dyn ServerSubject>),
        }
    }

    /// The client subject, if this subject has a client side.
    pub fn client(self) -> Option<Box<dyn ClientSubject>> {
        match self {
            SubjectName::Reference => Some(Box::new(ReferenceClient::default())),
            SubjectName::Hyper(ServerMode::Direct) => Some(Box::new(HyperClient::default())),
            SubjectName::Hyper(_) => None,
            SubjectName::Mutant(m) => m.client().map(|c| Box::new(c) as Box<dyn ClientSubject>),
        }
    }

    /// Whether this subject has `side`.
    fn has(self, side: Side) -> bool {
        match side {
            Side::Server => self.server().is_some(),
            Side::Client => self.client().is_some(),
        }
    }
}

/// Parses `server` or `client`.
pub fn parse_side(side: &str) -> Result<Side, TraceError> {
    match side {
        "server" => Ok(Side::Server),
        "client" => Ok(Side::Client),
        other => Err(TraceError::UnknownSide(other.to_string())),
    }
}

/// Runs case `case_id` against `subject` over the in-memory wire: on `side` only,
/// or on every side both the case and the subject have (server first).
pub fn trace_case(
    case_id: &str,
    subject: SubjectName,
    side: Option<Side>,
) -> Result<Vec<Run>, TraceError> {
    let case = suite::find(case_id).ok_or_else(|| TraceError::UnknownCase(case_id.into()))?;
    let tests = |s: Side| match s {
        Side::Server => case.sides.server,
        Side::Client => case.sides.client,
    };
    if let Some(s) = side
        && !tests(s)
    {
        return Err(TraceError::NoSuchRun(format!(
            "case `{case_id}` does not test {s}s"
        )));
    }
    let sides = sides(subject, side, tests)?;
    if sides.is_empty() {
        return Err(TraceError::NoSuchRun(format!(
            "case `{case_id}` tests no side this subject has"
        )));
    }
    Ok(run_sides(subject, &sides, &case.scenario))
}

/// Runs `scenario` against `subject`: on `side` only, or on every side the
/// subject has (server first). A scenario is a whole exchange, so it tests both.
pub fn trace_scenario(
    scenario: &Scenario,
    subject: SubjectName,
    side: Option<Side>,
) -> Result<Vec<Run>, TraceError> {
    let sides = sides(subject, side, |_| true)?;
    Ok(run_sides(subject, &sides, scenario))
}

/// The sides to run: `side` if the subject has it, else every side that
/// `tests` and the subject has.
fn sides(
    subject: SubjectName,
    side: Option<Side>,
    tests: impl Fn(Side) -> bool,
) -> Result<Vec<Side>, TraceError> {
    match side {
        Some(s) if !subject.has(s) => Err(TraceError::NoSuchRun(format!(
            "this subject has no {s} side"
        ))),
        Some(s) => Ok(vec![s]),
        None => Ok([Side::Server, Side::Client]
            .into_iter()
            .filter(|&s| tests(s) && subject.has(s))
            .collect()),
    }
}

fn run_sides(subject: SubjectName, sides: &[Side], scenario: &Scenario) -> Vec<Run> {
    sides
        .iter()
        .filter_map(|s| match s {
            Side::Server => subject
                .server()
                .map(|server| check::run_server(server.as_ref(), scenario)),
            Side::Client => subject
                .client()
                .map(|client| check::run_client(client.as_ref(), scenario)),
        })
        .collect()
}

/// What `hijack-harness trace` looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Traced<'a> {
    /// A conformance case, by ID.
    Case(&'a str),
    /// A scenario, by the hex of its bytes in the fuzzing format.
    Scenario(&'a str),
}

/// What `hijack-harness trace` prints, and whether every run passed.
#[derive(Debug, Clone)]
pub struct TraceOutput {
    /// The text trace and verdict of each run.
    pub text: String,
    /// Whether every run conformed.
    pub passed: bool,
}

/// The whole `trace` command: parse the names, run, render, and write the pcap
/// to `pcap_path` if given (which needs exactly one run: pass `side` when the case
/// tests both). A scenario's output ends with the scenario in words.
pub fn trace_command(
    traced: Traced<'_>,
    subject: &str,
    side: Option<&str>,
    pcap_path: Option<&Path>,
) -> Result<TraceOutput, TraceError> {
    let subject = SubjectName::parse(subject)?;
    let side = side.map(parse_side).transpose()?;
    let (runs, label, scenario) = match traced {
        Traced::Case(case_id) => (
            trace_case(case_id, subject, side)?,
            format!("case `{case_id}`"),
            None,
        ),
        Traced::Scenario(hex) => {
            let scenario = properties::scenario_from_hex(hex)?;
            let runs = trace_scenario(&scenario, subject, side)?;
            (runs, "the scenario".to_string(), Some(scenario))
        }
    };
    if let Some(path) = pcap_path {
        let [run] = runs.as_slice() else {
            return Err(TraceError::AmbiguousPcap(label));
        };
        pcap::write_file(&run.trace, path).map_err(|source| TraceError::Pcap {
            path: path.to_path_buf(),
            source,
        })?;
    }
    let mut out = String::new();
    for run in &runs {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&trace_text::render_run(run));
    }
    if let Some(scenario) = scenario {
        out.push_str("\nthe scenario:\n");
        for line in summary::describe(&scenario) {
            out.push_str("  ");
            out.push_str(&line);
            out.push('\n');
        }
    }
    Ok(TraceOutput {
        text: out,
        passed: runs.iter().all(Run::passed),
    })
}
