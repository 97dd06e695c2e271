//! Property checks: many generated scenarios against one subject, shrunk to a
//! minimal counterexample on failure. This is the entry point for library authors:
//!
//! ```no_run
//! use hijack_harness::properties::{check_server, Config};
//! use hijack_harness::subject::reference::ReferenceServer;
//!
//! let report = check_server(&ReferenceServer::default(), &Config::default());
//! assert!(report.is_ok(), "{}", report.unwrap_err());
//! ```

use std::fmt;
use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{
    Config as ProptestConfig, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
};

use crate::check::{self, Run};
use crate::scenario::{self, Scenario};
use crate::subject::{ClientSubject, ServerSubject};

pub mod websocket;

/// How a property check runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// How many scenarios to try (`PROPTEST_CASES` overrides the default of 256).
    pub cases: u32,
    /// A seed for a reproducible run; `None` draws a fresh one.
    pub seed: Option<[u8; 32]>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            cases: ProptestConfig::default().cases,
            seed: None,
        }
    }
}

impl Config {
    /// The default number of cases from a fixed seed: the same scenarios on every run.
    pub fn seeded(seed: u8) -> Self {
        Config {
            seed: Some([seed; 32]),
            ..Config::default()
        }
    }
}

/// What a passing check did.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    /// Scenarios run.
    pub cases: u32,
    /// How long they took.
    pub elapsed: Duration,
}

impl Stats {
    /// Scenarios per second.
    pub fn per_second(&self) -> f64 {
        f64::from(self.cases) / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// A failing check: the minimal scenario proptest shrank to, and its run.
#[derive(Debug, Clone)]
pub struct Counterexample {
    /// The shrunk run, with its trace and verdict.
    pub run: Run,
}

impl fmt::Display for Counterexample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let run = &self.run;
        writeln!(
            f,
            "{} {} subject failed; minimal scenario:",
            run.subject, run.side
        )?;
        writeln!(f, "{:#?}", run.scenario)?;
        writeln!(f, "trace:")?;
        write!(f, "{}", crate::wire::text::render(&run.trace))?;
        write!(f, "{}", run.verdict)
    }
}

fn runner(config: &Config) -> TestRunner {
    let proptest_config = ProptestConfig {
        cases: config.cases,
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..ProptestConfig::default()
    };
    match config.seed {
        Some(seed) => TestRunner::new_with_rng(
            proptest_config,
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
        ),
        None => TestRunner::new(proptest_config),
    }
}

/// Checks any one-scenario run (a differential, a subject under faults) against
/// generated scenarios: the property holds when every run passes.
pub fn check_with(
    config: &Config,
    run: impl Fn(&Scenario) -> Run,
) -> Result<Stats, Box<Counterexample>> {
    check(config, run)
}

fn check(config: &Config, run: impl Fn(&Scenario) -> Run) -> Result<Stats, Box<Counterexample>> {
    let mut runner = runner(config);
    let started = Instant::now();
    let result = runner.run(&scenario::scenario().boxed(), |s| {
        let outcome = run(&s);
        if outcome.passed() {
            Ok(())
        } else {
            Err(TestCaseError::fail(outcome.verdict.to_string()))
        }
    });
    match result {
        Ok(()) => Ok(Stats {
            cases: config.cases,
            elapsed: started.elapsed(),
        }),
        Err(TestError::Fail(_, minimal)) => Err(Box::new(Counterexample { run: run(&minimal) })),
        Err(TestError::Abort(why)) => panic!("property check aborted: {why}"),
    }
}

/// Checks a server subject against generated scenarios.
pub fn check_server(
    subject: &dyn ServerSubject,
    config: &Config,
) -> Result<Stats, Box<Counterexample>> {
    check(config, |s| check::run_server(subject, s))
}

/// Checks a client subject against generated scenarios.
pub fn check_client(
    subject: &dyn ClientSubject,
    config: &Config,
) -> Result<Stats, Box<Counterexample>> {
    check(config, |s| check::run_client(subject, s))
}
