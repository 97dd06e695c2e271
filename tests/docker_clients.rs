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
use hijack_harness::oracle::Point;
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

/// The findings, each against the client it was found in, when that client is
/// installed where `interop/*/install.sh` puts it (`HH_INTEROP_DIR`, default
/// `/tmp/hh-interop`); without it the test says so and passes. Each asserts the
/// failure, so a fixed client is noticed (and its expected.txt updated).
fn finding(
    client: &str,
    command: &str,
    transport: Transport,
    case_id: &str,
    point: Point,
    text: &str,
) {
    let dir = std::env::var("HH_INTEROP_DIR").unwrap_or_else(|_| "/tmp/hh-interop".into());
    let binary = command
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .replace("$DIR", &dir);
    if !std::path::Path::new(&binary).exists() {
        eprintln!("{client} is not installed at {binary} (interop/{client}/install.sh); skipping");
        return;
    }
    let target = DockerClient {
        command: command.replace("$DIR", &dir),
        name: client.into(),
        transport,
    };
    let opts = Options {
        timeout: Duration::from_secs(20),
        ..Options::default()
    };
    let case = cases::all()
        .into_iter()
        .find(|c| c.id == case_id)
        .expect("the case exists");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let result = runtime.block_on(docker::client_case(&target, &case, &opts));
    assert_eq!(
        result.outcome,
        Outcome::Fail,
        "{:?} {:?}",
        result.violations,
        result.notes
    );
    assert!(
        result
            .violations
            .iter()
            .any(|v| v.point == point && v.message.contains(text)),
        "{:?}",
        result.violations
    );
}

#[test]
fn finding_docker_cli_hands_over_after_a_refusal_with_connection_close() {
    finding(
        "docker-cli",
        "$DIR/docker-cli/root/usr/bin/docker -H {host} attach c1",
        Transport::Unix,
        "docker.refusal.not-found.close",
        Point::NoFalseUpgrade,
        "the case's stdin, bytes 0..300",
    );
}

#[test]
fn finding_docker_py_loses_output_that_shares_the_101_segment() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/interop/docker-py/attach.py");
    finding(
        "docker-py",
        &format!("$DIR/docker-py/venv/bin/python {script} {{host}} attach"),
        Transport::Tcp,
        "docker.output.mux.early.300",
        Point::ClientRead,
        "the one that carried the 101 head",
    );
}

#[test]
fn finding_bollard_reads_raw_tty_bytes_as_frame_headers() {
    finding(
        "bollard",
        "$DIR/bollard/target/debug/bollard-attach {host} attach",
        Transport::Tcp,
        "docker.output.tty.header-like-bytes",
        Point::ClientRead,
        "bytes 0..8 (8 bytes) the container wrote never arrived",
    );
}
