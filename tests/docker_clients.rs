//! Real Docker clients against the stub daemon, until `hijack-harness run
//! --protocol docker --client-cmd` drives them: the interop folders
//! (`interop/docker-cli/`, `docker-py/`, `dockerode/`, `bollard/`) run
//!
//! ```text
//! HH_DOCKER_CLIENT='docker -H {host} attach c1' HH_DOCKER_TRANSPORT=unix \
//!     cargo test --test docker_clients -- --ignored --nocapture
//! ```
//!
//! and it prints one `case-id target client outcome` line per case (the
//! expected-results format, the target being `HH_DOCKER_NAME`), then every
//! diagnosis. With `HH_DOCKER_EXPECT=FILE` it fails on any difference from that
//! expected-results file; `HH_DOCKER_CASES=TEXT` runs the cases whose ID has TEXT.
//! Without `HH_DOCKER_CLIENT` the test says so and passes: it needs a client
//! that is not always installed.

use std::time::Duration;

use hijack_harness::docker::{self, DockerClient, Transport, cases};
use hijack_harness::report::{Outcome, RunReport, expect};
use hijack_harness::runner::{Options, no_progress};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a real Docker client: set HH_DOCKER_CLIENT"]
async fn real_client() {
    let Ok(command) = std::env::var("HH_DOCKER_CLIENT") else {
        eprintln!("HH_DOCKER_CLIENT is not set; nothing to run");
        return;
    };
    let transport = match std::env::var("HH_DOCKER_TRANSPORT").as_deref() {
        Ok("unix") => Transport::Unix,
        _ => Transport::Tcp,
    };
    let name = std::env::var("HH_DOCKER_NAME").unwrap_or_else(|_| command.clone());
    let filter = std::env::var("HH_DOCKER_CASES").unwrap_or_default();
    let target = DockerClient {
        command,
        name,
        transport,
    };
    let opts = Options {
        timeout: Duration::from_secs(20),
        ..Options::default()
    };
    let cases: Vec<_> = cases::all()
        .into_iter()
        .filter(|c| c.id.contains(&filter))
        .collect();
    let results = docker::run_client(&target, &cases, &opts, no_progress()).await;
    let report = RunReport {
        results,
        ..RunReport::default()
    };
    println!("{}", expect::render(&report));
    for r in report.results.iter().filter(|r| r.outcome != Outcome::Pass) {
        println!("\n{} {}:", r.case_id, r.outcome.as_str());
        for v in &r.violations {
            println!("  FAIL {}: {}", v.point, v.message);
        }
        for n in &r.notes {
            println!("  note: {n}");
        }
    }
    if let Ok(path) = std::env::var("HH_DOCKER_EXPECT") {
        let comparison = expect::compare(&report, std::path::Path::new(&path))
            .expect("the expected results read");
        assert!(
            comparison.matches(),
            "changed from {path}:\n{}",
            comparison.changed.join("\n")
        );
    }
}
