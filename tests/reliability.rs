//! Faults in the wire: short writes, spurious `Pending`s, a reset or an early FIN
//! at any byte, either way. The reference either delivers every byte or reports
//! what happened; it never loses a byte silently, panics or spins.

mod support;

use hijack_harness::check::{Run, run_client_with_faults, run_server_with_faults};
use hijack_harness::oracle::{Observation, Verdict, judge_under_faults};
use hijack_harness::scenario::scenario;
use hijack_harness::subject::mutants::Flaw;
use hijack_harness::subject::reference::{ReferenceClient, ReferenceServer};
use hijack_harness::wire::memory::{Faults, faults};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn verdict(run: &Run, faults: &Faults) -> Verdict {
    judge_under_faults(
        &Observation {
            scenario: &run.scenario,
            sent: &run.scenario.messages(),
            subject: run.side,
            trace: &run.trace,
            app: &run.app,
            ending: run.ending,
            subject_error: run.subject_error.as_deref(),
        },
        faults,
    )
}

proptest! {
    #![proptest_config(support::proptest_config("reliability"))]

    #[test]
    fn reference_server_survives_faults(s in scenario(), f in faults()) {
        let run = run_server_with_faults(&ReferenceServer::default(), &s, f);
        let v = verdict(&run, &f);
        prop_assert!(v.passed(), "{f:?}\n{}{v}", support::report(&run));
    }

    #[test]
    fn reference_client_survives_faults(s in scenario(), f in faults()) {
        let run = run_client_with_faults(&ReferenceClient::default(), &s, f);
        let v = verdict(&run, &f);
        prop_assert!(v.passed(), "{f:?}\n{}{v}", support::report(&run));
    }
}

/// The fault property is not blind: a server that drops its read-ahead fails it.
#[test]
fn the_fault_property_catches_a_lossy_server() {
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 512,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[3; 32]),
    );
    let lossy = ReferenceServer {
        flaw: Some(Flaw::IgnoresReadAhead),
    };
    let result = runner.run(&(scenario(), faults()), |(s, f)| {
        let run = run_server_with_faults(&lossy, &s, f);
        prop_assert!(verdict(&run, &f).passed());
        Ok(())
    });
    assert!(result.is_err(), "the lossy server passed every faulty case");
}
