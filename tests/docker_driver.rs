//! A client command that does not speak the case's contract gets `unsupported`
//! or `error`, with the reason, never `fail`: one that never connects, one that
//! hangs, one that speaks another protocol (the echo contract's client), one
//! that asks for TLS the run does not have, and one that does not trust the
//! harness's certificate. Loopback only.

use hijack_harness::results::{CaseResult, Outcome};
use hijack_harness::runner::client_listener::{ClientListener, ListenAt, TlsChoice};
use hijack_harness::suite::docker as cases;

#[path = "support/docker.rs"]
mod support;
use support::{options, tcp, unix};

fn run(command: &str, listen: ClientListener) -> CaseResult {
    support::run_one(command, listen, &cases::mux_early(300), &options(2))
}

fn notes(r: &CaseResult) -> String {
    r.notes.join(" | ")
}

#[test]
fn a_command_that_never_connects_is_an_error_that_says_so() {
    let r = run("echo hello {host}; exit 3", tcp());
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
    let r = run("sleep 30 # {host}", unix());
    assert_eq!(r.outcome, Outcome::Error, "{}", notes(&r));
    assert!(
        notes(&r).contains("did not connect to unix:///"),
        "{}",
        notes(&r)
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
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
    let r = run(client, tcp());
    assert_eq!(r.outcome, Outcome::Unsupported, "{}", notes(&r));
    assert!(notes(&r).contains("never asked to attach"), "{}", notes(&r));
    assert!(notes(&r).contains("GET / -> 404"), "{}", notes(&r));
    assert!(r.violations.is_empty());
}

#[test]
fn a_command_that_needs_tls_in_a_plain_run_is_an_error_that_says_add_tls() {
    let r = run("docker --tlscacert {ca} -H {host} attach c1", tcp());
    assert_eq!(r.outcome, Outcome::Error, "{}", notes(&r));
    assert!(notes(&r).contains("add --tls"), "{}", notes(&r));
}

#[test]
fn a_client_that_does_not_trust_the_certificate_is_an_error_naming_the_handshake() {
    // curl without --cacert {ca}: the throw-away CA is not in the system's store.
    let tls =
        ClientListener::new(ListenAt::default(), TlsChoice::SelfSigned).expect("a certificate");
    let r = run("curl -sS https://{addr}/_ping; exit 7", tls);
    assert_eq!(r.outcome, Outcome::Error, "{}", notes(&r));
    assert!(notes(&r).contains("TLS handshake"), "{}", notes(&r));
    assert!(r.violations.is_empty());
}
