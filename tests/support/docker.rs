//! Running Docker client cases from tests: one command against the cases
//! whose ID contains a filter, on a runtime of its own (the tests are plain
//! `#[test]`s), and a readable dump of the results for assertion messages.
#![allow(dead_code)]

use std::time::Duration;

use hijack_harness::results::CaseResult;
use hijack_harness::runner::client_listener::ClientListener;
use hijack_harness::runner::docker::{self, DockerClient};
use hijack_harness::runner::target::one_at_a_time;
use hijack_harness::runner::{Options, no_progress};
use hijack_harness::suite::Case;
use hijack_harness::suite::attach::Attach;
use hijack_harness::suite::docker as cases;

/// Plain TCP on loopback, a free port per case.
pub fn tcp() -> ClientListener {
    ClientListener::default()
}

/// A fresh Unix socket per case.
pub fn unix() -> ClientListener {
    ClientListener::unix()
}

/// Options with a time limit of `secs` seconds a case.
pub fn options(secs: u64) -> Options {
    Options {
        timeout: Duration::from_secs(secs),
        ..Options::default()
    }
}

/// The cases whose ID contains `filter` (at least one).
pub fn cases_matching(filter: &str) -> Vec<Case<Attach>> {
    let found: Vec<_> = cases::all()
        .into_iter()
        .filter(|c| c.id.contains(filter))
        .collect();
    assert!(!found.is_empty(), "no case matches {filter:?}");
    found
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

fn target(command: &str, listen: ClientListener) -> DockerClient {
    DockerClient {
        command: command.into(),
        name: "under-test".into(),
        listen,
    }
}

/// Runs `command` against every case whose ID contains `filter`.
pub fn run(command: &str, listen: ClientListener, filter: &str, opts: &Options) -> Vec<CaseResult> {
    let cases = cases_matching(filter);
    runtime().block_on(one_at_a_time(
        &target(command, listen),
        &cases,
        opts,
        no_progress(),
    ))
}

/// Runs `command` against one case.
pub fn run_one(
    command: &str,
    listen: ClientListener,
    case: &Case<Attach>,
    opts: &Options,
) -> CaseResult {
    runtime().block_on(docker::client_case(&target(command, listen), case, opts))
}

/// Every result with its violations and notes, one block each.
pub fn show(results: &[CaseResult]) -> String {
    results
        .iter()
        .map(|r| {
            let mut line = format!("{} {}", r.case_id, r.outcome.as_str());
            for v in &r.violations {
                line.push_str(&format!("\n    {}: {}", v.point, v.message));
            }
            for n in &r.notes {
                line.push_str(&format!("\n    note: {n}"));
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}
