//! Every conformance case over the in-memory wire: the reference passes each, and
//! every mutant fails at least one, with the point of the invariant its bug breaks.

use hijack_harness::check::{Run, run_client, run_server};
use hijack_harness::subject::mutants::Mutant;
use hijack_harness::subject::reference::{ReferenceClient, ReferenceServer};
use hijack_harness::suite::{self, Case};
use hijack_harness::wire::text;

fn runs(case: &Case, server: &ReferenceServer, client: &ReferenceClient) -> Vec<Run> {
    let mut out = Vec::new();
    if case.sides.server {
        out.push(run_server(server, &case.scenario));
    }
    if case.sides.client {
        out.push(run_client(client, &case.scenario));
    }
    out
}

#[test]
fn the_reference_passes_every_case() {
    for case in suite::all() {
        for run in runs(
            &case,
            &ReferenceServer::default(),
            &ReferenceClient::default(),
        ) {
            assert!(
                run.passed(),
                "{} ({}):\n{}{}",
                case.id,
                run.side,
                text::render(&run.trace),
                run.verdict
            );
        }
    }
}

#[test]
fn every_mutant_fails_a_case_for_the_right_reason() {
    for mutant in Mutant::all() {
        let server = mutant.server().unwrap_or_default();
        let client = mutant.client().unwrap_or_default();
        let caught: Vec<&str> = suite::all()
            .iter()
            .filter(|case| {
                runs(case, &server, &client)
                    .iter()
                    .any(|run| run.verdict.breaks(mutant.breaks()))
            })
            .map(|case| case.id)
            .collect::<Vec<_>>()
            .into_iter()
            .collect();
        assert!(
            !caught.is_empty(),
            "mutant {} passes every case",
            mutant.name()
        );
    }
}
