//! Property checks: many generated scenarios against one subject, shrunk to a
//! minimal counterexample on failure. This is the entry point for library authors.
//!
//! In a test, the assertion helpers are all there is to it:
//!
//! ```
//! use hijack_harness::properties::assert_server_conforms;
//! use hijack_harness::subject::reference::ReferenceServer;
//!
//! assert_server_conforms(&ReferenceServer::default());
//! ```
//!
//! A subject that breaks the invariant makes them panic with the shrunk
//! counterexample as a report ([`crate::counterexample`]): the verdict on the
//! first line, the wire with carets under the wrong bytes, the scenario in words,
//! and one command that replays it:
//!
//! ```should_panic
//! use hijack_harness::properties::assert_server_conforms;
//! use hijack_harness::subject::mutants::{Flaw, Mutant};
//!
//! let ignores_read_ahead = Mutant::Server(Flaw::IgnoresReadAhead).server().unwrap();
//! assert_server_conforms(&ignores_read_ahead); // panics: "FAIL point 1 (read side, server): ..."
//! ```
//!
//! Two environment variables steer every check in this module:
//!
//! * `PROPTEST_CASES`: how many scenarios to generate (256 by default).
//! * `HIJACK_SCENARIO=HEX`: run only the scenario whose bytes these are, the one a
//!   report's `replay:` line names, instead of generating any. The line is the
//!   command to type: `HIJACK_SCENARIO=... cargo test my_test -- --exact`.
//!
//! [`check_server`] and [`check_client`] return the counterexample instead of
//! panicking, for programs that print it themselves (`examples/byo_subject.rs`);
//! [`replay_server`] and [`replay_client`] run one scenario from its hex.

use std::cell::Cell;
use std::fmt;
use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{
    Config as ProptestConfig, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
};

use crate::check::{self, Run};
use crate::counterexample::{self, HexError, Replay, Report, SCENARIO_VAR};
use crate::fuzzing;
use crate::oracle::{Hijack, Protocol};
use crate::scenario::{self, Scenario};
use crate::subject::{ClientSubject, ServerSubject};

pub mod proxy;
pub mod websocket;

/// How a property check runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// How many scenarios to try (`PROPTEST_CASES` overrides the default of 256).
    pub cases: u32,
    /// A seed for a reproducible run; `None` draws a fresh one. The draws come
    /// from proptest's XorShift, started from these 32 bytes folded into 16.
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
    /// How many of them missed a SHOULD of the protocol's own rules (they
    /// pass: a WebSocket server losing frames sent before its `101`).
    pub non_strict: u32,
}

impl Stats {
    /// Scenarios per second.
    pub fn per_second(&self) -> f64 {
        f64::from(self.cases) / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// A failing check: the minimal scenario proptest shrank to, and its run.
///
/// `Display` is the report a person reads ([`crate::counterexample`]): the
/// verdict first, then the wire, the scenario in words and the command that
/// replays it. `{:#?}` shows every field, the whole scenario included.
#[derive(Debug, Clone)]
pub struct Counterexample<P: Protocol = Hijack> {
    /// The shrunk run, with its trace and verdict.
    pub run: Run<P>,
}

impl Counterexample {
    /// The hex of the scenario's bytes, as the `replay:` line prints it, when the
    /// scenario has a byte form (every generated one does).
    pub fn scenario_hex(&self) -> Option<String> {
        scenario_hex(&self.run.scenario)
    }
}

impl fmt::Display for Counterexample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", report(&self.run))
    }
}

/// The report of any failing run (see [`crate::counterexample`]), replayed by
/// running this program again with `HIJACK_SCENARIO` set: for test code that
/// runs scenarios itself and wants its failures to read like a property's.
pub fn report(run: &Run) -> String {
    Report {
        run,
        scenario_bytes: fuzzing::encode(&run.scenario).ok(),
        replay: Replay::Rerun,
        configuration: String::new(),
    }
    .to_string()
}

/// The hex of `scenario`'s bytes in the fuzzing format (`fuzzing::encode`),
/// when it has them: what `HIJACK_SCENARIO`, [`replay_server`] and
/// `hijack-harness trace --scenario` take.
pub fn scenario_hex(scenario: &Scenario) -> Option<String> {
    fuzzing::encode(scenario)
        .ok()
        .map(|bytes| counterexample::to_hex(&bytes))
}

/// The scenario whose bytes `hex` spells, as a report's `replay:` line prints it.
///
/// Any bytes decode to a scenario (the fuzzing format reads missing bytes as the
/// plainest choice), so only bad hex is an error.
pub fn scenario_from_hex(hex: &str) -> Result<Scenario, HexError> {
    Ok(fuzzing::decode(&counterexample::from_hex(hex)?))
}

/// Runs the scenario `hex` spells against a server subject: a counterexample
/// from a report, replayed in code (for a debugger, or a regression test).
pub fn replay_server(subject: &dyn ServerSubject, hex: &str) -> Result<Run, HexError> {
    Ok(check::run_server(subject, &scenario_from_hex(hex)?))
}

/// Runs the scenario `hex` spells against a client subject ([`replay_server`]).
pub fn replay_client(subject: &dyn ClientSubject, hex: &str) -> Result<Run, HexError> {
    Ok(check::run_client(subject, &scenario_from_hex(hex)?))
}

/// The scenario `HIJACK_SCENARIO` names, if it is set.
///
/// # Panics
///
/// When it is set to something that is not hex: a replay the user asked for
/// must not turn silently into a run of generated scenarios.
fn scenario_from_env() -> Option<Scenario> {
    let hex = std::env::var(SCENARIO_VAR)
        .ok()
        .filter(|v| !v.trim().is_empty())?;
    match scenario_from_hex(&hex) {
        Ok(scenario) => Some(scenario),
        Err(e) => panic!("{SCENARIO_VAR}: {e}"),
    }
}

/// The random source of every check: proptest's XorShift, not its default
/// ChaCha. proptest forks a fresh generator for every case and draws each
/// value of the scenario from it; ChaCha's blocks were 5 % of a reference
/// server case's instructions (callgrind), XorShift's words cost a few
/// instructions each. Test data needs no cryptographic quality, and a seed
/// still names the same scenarios on every run.
const RNG: RngAlgorithm = RngAlgorithm::XorShift;

fn runner(config: &Config) -> TestRunner {
    let proptest_config = ProptestConfig {
        cases: config.cases,
        failure_persistence: None,
        max_shrink_iters: 4096,
        rng_algorithm: RNG,
        ..ProptestConfig::default()
    };
    match config.seed {
        Some(seed) => {
            TestRunner::new_with_rng(proptest_config, TestRng::from_seed(RNG, &fold_seed(&seed)))
        }
        None => TestRunner::new(proptest_config),
    }
}

/// A [`Config::seed`]'s 32 bytes as XorShift's 16, through SplitMix64: its
/// four words are mixed in one after the other (every bit of the seed counts,
/// and no two words can cancel), then two outputs are drawn. A seed of one
/// repeated byte ([`Config::seeded`]) would otherwise start XorShift from four
/// equal words, a state whose first outputs are poorly mixed.
fn fold_seed(seed: &[u8; 32]) -> [u8; 16] {
    // The next output of a SplitMix64 generator whose state is `state`.
    let splitmix = |mut state: u64| crate::websocket::splitmix(&mut state);
    let state = seed.chunks_exact(8).fold(0u64, |state, word| {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        splitmix(state ^ u64::from_le_bytes(w))
    });
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&splitmix(state).to_le_bytes());
    out[8..].copy_from_slice(&splitmix(state ^ 1).to_le_bytes());
    out
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
    let started = Instant::now();
    if let Some(scenario) = scenario_from_env() {
        let outcome = run(&scenario);
        return if outcome.passed() {
            Ok(Stats {
                cases: 1,
                elapsed: started.elapsed(),
                non_strict: 0,
            })
        } else {
            Err(Box::new(Counterexample { run: outcome }))
        };
    }
    // Not boxed: a boxed strategy puts each case's whole value tree in one
    // large heap allocation, which cost more than the rest of drawing the case.
    check_drawn(config, scenario::scenario(), run)
}

/// Checks runs of any protocol drawn from any strategy (a library's options
/// with a case, say): the property holds when no run breaks a MUST. A run
/// that misses a SHOULD passes, and is counted ([`Stats::non_strict`]).
///
/// Every check first keeps freed memory in the process
/// ([`crate::heap::keep_freed_memory`], once per process): a case
/// allocates and frees read buffers and payloads of up to a few hundred KB,
/// and glibc's default trimming gave them back to the kernel after each case,
/// so the next case paid page faults on fresh pages (a third of a WebSocket
/// case's wall time, measured with `perf`).
pub fn check_drawn<P: Protocol, S: Strategy>(
    config: &Config,
    strategy: S,
    run: impl Fn(&S::Value) -> Run<P>,
) -> Result<Stats, Box<Counterexample<P>>> {
    crate::heap::keep_freed_memory();
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
        Ok(()) => Ok(Stats {
            cases: config.cases,
            elapsed: started.elapsed(),
            non_strict: non_strict.get(),
        }),
        Err(TestError::Fail(_, minimal)) => Err(Box::new(Counterexample { run: run(&minimal) })),
        Err(TestError::Abort(why)) => panic!("property check aborted: {why}"),
    }
}

/// Checks a server subject against generated scenarios
/// (or the one `HIJACK_SCENARIO` names).
pub fn check_server(
    subject: &dyn ServerSubject,
    config: &Config,
) -> Result<Stats, Box<Counterexample>> {
    check(config, |s| check::run_server(subject, s))
}

/// Checks a client subject against generated scenarios
/// (or the one `HIJACK_SCENARIO` names).
pub fn check_client(
    subject: &dyn ClientSubject,
    config: &Config,
) -> Result<Stats, Box<Counterexample>> {
    check(config, |s| check::run_client(subject, s))
}

/// Asserts that a server subject conforms: runs [`check_server`] with the
/// default [`Config`] (`PROPTEST_CASES` scenarios, 256 unless set; or only the
/// one `HIJACK_SCENARIO` names) and panics with the counterexample's report.
#[track_caller]
pub fn assert_server_conforms(subject: &dyn ServerSubject) {
    if let Err(counterexample) = check_server(subject, &Config::default()) {
        panic!("{counterexample}");
    }
}

/// Asserts that a client subject conforms ([`assert_server_conforms`], client side).
#[track_caller]
pub fn assert_client_conforms(subject: &dyn ClientSubject) {
    if let Err(counterexample) = check_client(subject, &Config::default()) {
        panic!("{counterexample}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;

    #[test]
    fn every_repeated_byte_seed_folds_to_its_own_well_mixed_state() {
        let folded: Vec<[u8; 16]> = (0..=255u8).map(|b| fold_seed(&[b; 32])).collect();
        let mut distinct = folded.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 256, "two seeds fold to the same state");
        for state in &folded {
            let words: Vec<&[u8]> = state.chunks(4).collect();
            assert!(words[1..].iter().any(|w| *w != words[0]), "{state:?}");
        }
        let mut seed = [0u8; 32];
        seed[31] = 1;
        assert_ne!(
            fold_seed(&seed),
            fold_seed(&[0; 32]),
            "the last byte counts"
        );
    }

    #[test]
    fn a_seeded_runner_draws_the_same_values_and_another_seed_others() {
        let draw = |seed: u8| {
            let mut runner = runner(&Config::seeded(seed));
            (0..8)
                .map(|_| {
                    proptest::num::u64::ANY
                        .new_tree(&mut runner)
                        .map(|t| t.current())
                        .unwrap_or_default()
                })
                .collect::<Vec<u64>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
    }
}
