//! Property checks for WebSocket subjects: many generated [`MessageScenario`]s against
//! one library, shrunk to a minimal counterexample when a MUST breaks.
//!
//! A missed SHOULD (the verdict `non-strict`: a server refusing or losing frames
//! a client sent before the `101`) passes the property; [`MessageStats::non_strict`]
//! counts those cases, so a report can say how often a library does it.

use std::cell::Cell;
use std::fmt;
use std::time::Instant;

use proptest::strategy::Strategy;
use proptest::test_runner::{TestCaseError, TestError};

use crate::check::Run;
use crate::check::websocket as check;
use crate::oracle::websocket::WebSocket;
use crate::scenario::websocket::{MessageScenario, ws_scenario};
use crate::subject::websocket::{MessageClientSubject, MessageServerSubject};

use super::{Config, Stats, runner};

/// What a passing check did.
#[derive(Debug, Clone, Copy)]
pub struct MessageStats {
    /// Scenarios run, and how long they took.
    pub stats: Stats,
    /// How many of them missed a SHOULD.
    pub non_strict: u32,
}

/// A failing check: the shrunk scenario and its run.
#[derive(Debug, Clone)]
pub struct MessageCounterexample {
    /// The shrunk run, with its trace and verdict.
    pub run: Run<WebSocket>,
}

impl fmt::Display for MessageCounterexample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "minimal failing case: {}", self.run)
    }
}

/// Checks any one-scenario WebSocket run: the property holds when no run breaks a MUST.
pub fn check_with(
    config: &Config,
    run: impl Fn(&MessageScenario) -> Run<WebSocket>,
) -> Result<MessageStats, Box<MessageCounterexample>> {
    check_drawn(config, ws_scenario(), run)
}

/// Checks runs drawn from any strategy (a library's options with a case, say):
/// the property holds when no run breaks a MUST.
pub fn check_drawn<S: Strategy>(
    config: &Config,
    strategy: S,
    run: impl Fn(&S::Value) -> Run<WebSocket>,
) -> Result<MessageStats, Box<MessageCounterexample>> {
    let mut runner = runner(config);
    let started = Instant::now();
    let non_strict = Cell::new(0u32);
    let result = runner.run(&strategy, |drawn| {
        let outcome = run(&drawn);
        if !outcome.passed() {
            return Err(TestCaseError::fail(outcome.verdict.to_string()));
        }
        if !outcome.verdict.strict() {
            non_strict.set(non_strict.get() + 1);
        }
        Ok(())
    });
    match result {
        Ok(()) => Ok(MessageStats {
            stats: Stats {
                cases: config.cases,
                elapsed: started.elapsed(),
            },
            non_strict: non_strict.get(),
        }),
        Err(TestError::Fail(_, minimal)) => {
            Err(Box::new(MessageCounterexample { run: run(&minimal) }))
        }
        Err(TestError::Abort(why)) => panic!("property check aborted: {why}"),
    }
}

/// Checks a WebSocket server subject against generated cases.
pub fn check_server(
    subject: &dyn MessageServerSubject,
    config: &Config,
) -> Result<MessageStats, Box<MessageCounterexample>> {
    check_with(config, |s| check::run_server(subject, s))
}

/// Checks a WebSocket client subject against generated cases.
pub fn check_client(
    subject: &dyn MessageClientSubject,
    config: &Config,
) -> Result<MessageStats, Box<MessageCounterexample>> {
    check_with(config, |s| check::run_client(subject, s))
}
