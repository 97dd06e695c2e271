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
//! expected-results format), then every diagnosis. Without `HH_DOCKER_CLIENT`
//! the test says so and passes: it needs a client that is not always installed.

use std::time::Duration;

use hijack_harness::docker::{self, DockerClient, Transport, cases};
use hijack_harness::report::Outcome;
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
    let mut lines: Vec<String> = results
        .iter()
        .map(|r| {
            format!(
                "{} {} client {}",
                r.case_id,
                transport.as_str(),
                r.outcome.as_str()
            )
        })
        .collect();
    lines.sort();
    println!("{}", lines.join("\n"));
    for r in results.iter().filter(|r| r.outcome != Outcome::Pass) {
        println!("\n{} {}:", r.case_id, r.outcome.as_str());
        for v in &r.violations {
            println!("  FAIL {}: {}", v.point, v.message);
        }
        for n in &r.notes {
            println!("  note: {n}");
        }
    }
    if let Ok(path) = std::env::var("HH_DOCKER_RESULTS") {
        std::fs::write(&path, lines.join("\n") + "\n").expect("write the results");
    }
}
