//! A [`RunReport`] from real runs: every suite case against the reference and
//! against every mutant, over the in-memory wire. Failing results carry the
//! oracle's real diagnoses and traces, so the report formats are tested on what
//! they will really show, not on hand-made structs.

use std::time::Instant;

use hijack_harness::check::{run_client, run_server};
use hijack_harness::results::{CaseResult, MutantResult, RunReport};
use hijack_harness::subject::mutants::Mutant;
use hijack_harness::subject::reference::{ReferenceClient, ReferenceServer};
use hijack_harness::suite;

/// Runs the suite against the reference (both sides) and each mutant (its side).
pub fn suite_report() -> RunReport {
    let started = Instant::now();
    let cases = suite::all();
    let mut results = Vec::new();
    let mut targets: Vec<(Option<ReferenceServer>, Option<ReferenceClient>)> = vec![(
        Some(ReferenceServer::default()),
        Some(ReferenceClient::default()),
    )];
    targets.extend(Mutant::all().into_iter().map(|m| (m.server(), m.client())));
    for (server, client) in &targets {
        for case in &cases {
            if let (true, Some(server)) = (case.sides.server, server) {
                let t = Instant::now();
                let run = run_server(server, &case.scenario);
                let mut result = CaseResult::from_run(case, &run);
                result.duration = t.elapsed();
                results.push(result);
            }
            if let (true, Some(client)) = (case.sides.client, client) {
                let t = Instant::now();
                let run = run_client(client, &case.scenario);
                let mut result = CaseResult::from_run(case, &run);
                result.duration = t.elapsed();
                results.push(result);
            }
        }
    }
    let mutants = Mutant::all()
        .into_iter()
        .map(|m| {
            let target = format!("mutant:{}", m.name());
            let caught: Vec<&str> = results
                .iter()
                .filter(|r| {
                    r.target == target && r.violations.iter().any(|v| v.point == m.breaks())
                })
                .map(|r| r.case_id.as_str())
                .collect();
            MutantResult {
                name: m.name().to_string(),
                caught: !caught.is_empty(),
                detail: if caught.is_empty() {
                    format!("no case broke {}", m.breaks())
                } else {
                    let more = match caught.len() {
                        0..=3 => String::new(),
                        n => format!(" and {} more", n - 3),
                    };
                    let first: Vec<&str> = caught.iter().take(3).copied().collect();
                    format!("{} by {}{more}", m.breaks(), first.join(", "))
                },
            }
        })
        .collect();
    RunReport {
        results,
        mutants,
        duration: started.elapsed(),
        transport: None,
    }
}
