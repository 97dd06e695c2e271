//! The Docker client judgement can fail: `examples/docker_client.rs` (the
//! reference client speaking Docker's attach) passes every case, and each of its
//! flaws fails the cases it should, with a diagnosis that names the point, the
//! stream and the bytes. Loopback only (TCP and a Unix socket).

use std::path::PathBuf;

use hijack_harness::oracle::Point;
use hijack_harness::results::{CaseResult, Outcome};
use hijack_harness::runner::client_listener::ClientListener;

#[path = "support/docker.rs"]
mod support;
use support::{options, show, tcp, unix};
#[path = "support/examples.rs"]
mod examples;

fn client() -> PathBuf {
    examples::example("docker_client")
}

fn run(flaw: Option<&str>, verb: &str, listen: ClientListener, filter: &str) -> Vec<CaseResult> {
    let flaw = flaw.map(|f| format!("--flaw {f} ")).unwrap_or_default();
    let command = format!("{} {flaw}-H {{host}} {verb}", client().display());
    support::run(&command, listen, filter, &options(20))
}

#[test]
fn the_reference_client_passes_every_case_over_tcp_and_unix() {
    for (listen, verb) in [(tcp(), "attach c1"), (unix(), "exec c1 cat")] {
        let results = run(None, verb, listen, "");
        assert!(
            results.iter().all(|r| r.outcome == Outcome::Pass),
            "{}",
            show(&results)
        );
        assert_eq!(results.len(), hijack_harness::suite::docker::all().len());
    }
}

#[test]
fn losing_the_read_ahead_fails_the_early_output_cases_naming_stream_and_bytes() {
    let results = run(Some("loses-read-ahead"), "attach c1", tcp(), ".early.");
    assert!(
        results.iter().all(|r| r.outcome == Outcome::Fail
            && r.violations.iter().any(|v| v.point == Point::ClientRead)),
        "{}",
        show(&results)
    );
    let tty = results
        .iter()
        .find(|r| r.case_id == "docker.output.tty.early.300")
        .expect("the case ran");
    let text = &tty.violations[0].message;
    assert!(
        text.contains("printed 0 bytes on stdout of the 300 bytes")
            && text.contains("bytes 0..300 (300 bytes)")
            && text.contains("the one that carried the 101 head"),
        "{text}"
    );
    let mux = results
        .iter()
        .find(|r| r.case_id == "docker.output.mux.early.300")
        .expect("the case ran");
    assert!(
        mux.violations
            .iter()
            .any(|v| v.message.contains("on stdout") && v.message.contains("frame 0's payload")),
        "{}",
        show(&results)
    );
    // Output that arrives after the head's segment is not in the read-ahead.
    let later = run(
        Some("loses-read-ahead"),
        "attach c1",
        tcp(),
        "header-like-bytes",
    );
    assert_eq!(later[0].outcome, Outcome::Pass, "{}", show(&later));
}

#[test]
fn handing_over_on_a_refusal_fails_the_refusal_cases_with_point_6() {
    let results = run(
        Some("hands-over-on-refusal"),
        "attach c1",
        unix(),
        "refusal.",
    );
    assert_eq!(results.len(), 8);
    for r in &results {
        assert_eq!(r.outcome, Outcome::Fail, "{}", show(&results));
        let point_6 = |text: &str| {
            r.violations
                .iter()
                .any(|v| v.point == Point::NoFalseUpgrade && v.message.contains(text))
        };
        // Its stdin goes raw onto the refused connection, named as the case's stdin;
        // with a TTY the JSON body is printed as container output too.
        assert!(
            point_6("the case's stdin, bytes 0..300"),
            "{}",
            show(&results)
        );
        if r.case_id.ends_with(".tty") {
            assert!(point_6("the answer's JSON body"), "{}", show(&results));
            assert!(point_6("at stdout byte 0"), "{}", show(&results));
        }
    }
    let clean = run(None, "attach c1", unix(), "refusal.");
    assert!(
        clean.iter().all(|r| r.outcome == Outcome::Pass),
        "{}",
        show(&clean)
    );
}

#[test]
fn losing_close_write_fails_the_half_close_cases_with_point_5() {
    let results = run(Some("loses-close-write"), "attach c1", tcp(), "halfclose.");
    assert_eq!(results.len(), 2);
    for r in &results {
        assert_eq!(r.outcome, Outcome::Fail, "{}", show(&results));
        let v = &r.violations[0];
        assert_eq!(v.point, Point::HalfClose, "{}", show(&results));
        assert!(
            v.message
                .contains("no FIN arrived on the attach connection"),
            "{}",
            v.message
        );
        assert!(
            v.message
                .contains("bytes it writes after EOF were never sent"),
            "{}",
            v.message
        );
    }
}
