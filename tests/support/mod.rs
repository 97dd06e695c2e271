//! Shared test support: one place for how tests run properties and report runs.
#![allow(dead_code)]

use hijack_harness::check::Run;
use hijack_harness::properties::{self, Config, Counterexample, Stats};
use hijack_harness::subject::mutants::Mutant;

/// The cases per property: `PROPTEST_CASES`, or 256.
pub fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// The proptest configuration of the property files: `PROPTEST_CASES` cases, and
/// failures persisted to `proptest-regressions/<name>.txt`, which is committed so
/// that every later run replays them first. (proptest's default looks for
/// `lib.rs` above the test's source and finds none for files under `tests/`.)
pub fn proptest_config(name: &str) -> proptest::test_runner::Config {
    let path: &'static str = Box::leak(format!("proptest-regressions/{name}.txt").into_boxed_str());
    proptest::test_runner::Config {
        cases: cases(),
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(path),
        )),
        ..proptest::test_runner::Config::default()
    }
}

/// A run as text for assertion messages: the report a property failure prints
/// (verdict first, the wire, the scenario in words, the replay line).
pub fn report(run: &Run) -> String {
    properties::report(run)
}

/// Runs the property that `mutant` breaks and returns the shrunk counterexample.
///
/// Seeded, so that the same scenarios run every time: a mutant caught today is
/// caught tomorrow, and a survivor is a real regression of the harness.
pub fn counterexample(mutant: Mutant) -> Box<Counterexample> {
    let config = Config {
        cases: cases().max(256),
        ..Config::seeded(7)
    };
    let result: Result<Stats, Box<Counterexample>> = match (mutant.server(), mutant.client()) {
        (Some(server), _) => properties::check_server(&server, &config),
        (_, Some(client)) => properties::check_client(&client, &config),
        _ => unreachable!("a mutant is a server or a client"),
    };
    match result {
        Ok(stats) => panic!(
            "mutant {} survived {} cases: the properties cannot see its bug",
            mutant.name(),
            stats.cases
        ),
        Err(counterexample) => counterexample,
    }
}
