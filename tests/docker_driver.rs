//! A client command that does not speak the case's contract gets `unsupported`
//! or `error`, with the reason, never `fail`: one that never connects, one that
//! hangs, one that speaks another protocol (the echo contract's client), one
//! that needs TLS. Loopback only.

use std::time::Duration;

use hijack_harness::docker::{self, DockerClient, Transport, cases};
use hijack_harness::report::{CaseResult, Outcome};
use hijack_harness::runner::Options;

fn run(command: &str, transport: Transport) -> CaseResult {
    let target = DockerClient {
        command: command.into(),
        name: "off-contract".into(),
        transport,
    };
    let opts = Options {
        timeout: Duration::from_secs(2),
        ..Options::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(docker::client_case(&target, &cases::mux_early(300), &opts))
}

fn notes(r: &CaseResult) -> String {
    r.notes.join(" | ")
}

#[test]
fn a_command_that_never_connects_is_an_error_that_says_so() {
    let r = run("echo hello; exit 3", Transport::Tcp);
    assert_eq!(r.outcome, Outcome::Error, "{}", notes(&r));
    assert!(
        notes(&r).contains("ended without connecting to tcp://127.0.0.1:"),
        "{}",
        notes(&r)
    );
    assert!(notes(&r).contains("exit status: 3"), "{}", notes(&r));
}

#[test]
fn a_command_that_hangs_is_an_error_at_the_time_limit() {
    let started = std::time::Instant::now();
    let r = run("sleep 30", Transport::Unix);
    assert_eq!(r.outcome, Outcome::Error, "{}", notes(&r));
    assert!(
        notes(&r).contains("did not connect to unix:///"),
        "{}",
        notes(&r)
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the sleep was killed"
    );
}

#[test]
fn a_client_of_another_protocol_is_unsupported_with_its_requests() {
    // Speaks HTTP, but asks `GET /` with `Upgrade: echo`, never an attach.
    let client = r#"python3 -c 'import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
print(s.recv(12))' {addr}"#;
    let r = run(client, Transport::Tcp);
    assert_eq!(r.outcome, Outcome::Unsupported, "{}", notes(&r));
    assert!(notes(&r).contains("never asked to attach"), "{}", notes(&r));
    assert!(notes(&r).contains("GET / -> 404"), "{}", notes(&r));
    assert!(r.violations.is_empty());
}

#[test]
fn a_command_that_needs_tls_is_an_error_until_the_transport_has_it() {
    let r = run(
        "docker --tlscacert {ca} -H {host} attach c1",
        Transport::Tcp,
    );
    assert_eq!(r.outcome, Outcome::Error, "{}", notes(&r));
    assert!(
        notes(&r).contains("needs the TLS transport"),
        "{}",
        notes(&r)
    );
}
