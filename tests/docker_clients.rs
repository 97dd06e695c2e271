//! The findings in real Docker clients, each against the client it was found
//! in, when that client is installed where `interop/docker-matrix` puts it
//! (`HH_DOCKER_CLIENTS`, default `interop/.build/docker-clients`); without it
//! the test says so and passes. Each asserts the failure, so a fixed client is
//! noticed (and its expected.txt updated). The whole matrix (every client,
//! every case, TCP and Unix) is `interop/docker-matrix`, through the command line.

use hijack_harness::oracle::Point;
use hijack_harness::results::Outcome;
use hijack_harness::runner::client_listener::ClientListener;
use hijack_harness::suite::docker as cases;

#[path = "support/docker.rs"]
mod support;
use support::{options, show, tcp, unix};

/// Runs `case_id` against `command` (`$DIR` is the install directory) and
/// asserts that it fails at `point` with `text` in the diagnosis.
fn finding(
    client: &str,
    command: &str,
    listen: ClientListener,
    case_id: &str,
    point: Point,
    text: &str,
) {
    let dir = std::env::var("HH_DOCKER_CLIENTS").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/interop/.build/docker-clients").into()
    });
    let binary = command
        .split_whitespace()
        .find(|word| word.starts_with("$DIR"))
        .unwrap_or_default()
        .replace("$DIR", &dir);
    if !std::path::Path::new(&binary).exists() {
        eprintln!(
            "{client} is not installed at {binary} (interop/docker-matrix installs it); skipping"
        );
        return;
    }
    let case = cases::all()
        .into_iter()
        .find(|c| c.id == case_id)
        .expect("the case exists");
    let result = support::run_one(&command.replace("$DIR", &dir), listen, &case, &options(20));
    let shown = show(std::slice::from_ref(&result));
    assert_eq!(result.outcome, Outcome::Fail, "{shown}");
    assert!(
        result
            .violations
            .iter()
            .any(|v| v.point == point && v.message.contains(text)),
        "{shown}"
    );
}

#[test]
fn finding_docker_cli_hands_over_after_a_refusal_with_connection_close() {
    finding(
        "docker-cli",
        "DOCKER_CONFIG=$DIR/docker-cli/config $DIR/docker-cli/root/usr/bin/docker -H {host} attach c1",
        unix(),
        "docker.refusal.not-found.close",
        Point::NoFalseUpgrade,
        "the case's stdin, bytes 0..300",
    );
}

#[test]
fn finding_docker_cli_prints_a_refusal_body_as_tty_output() {
    // With a terminal on stdin the CLI attaches to a TTY container, and the
    // same path prints the 404's body as container output.
    finding(
        "docker-cli",
        "DOCKER_CONFIG=$DIR/docker-cli/config $DIR/docker-cli/root/usr/bin/docker -H {host} attach c1",
        tcp(),
        "docker.refusal.not-found.close.tty",
        Point::NoFalseUpgrade,
        "the answer's JSON body",
    );
}

#[test]
fn finding_docker_py_loses_output_that_shares_the_101_segment() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/interop/docker-py/attach.py");
    finding(
        "docker-py",
        &format!("$DIR/docker-py/venv/bin/python {script} {{host}} attach"),
        tcp(),
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
        tcp(),
        "docker.output.tty.header-like-bytes",
        Point::ClientRead,
        "bytes 0..8 (8 bytes) the container wrote never arrived",
    );
}
