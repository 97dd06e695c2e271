//! The Docker client judgement can fail: `examples/docker_client.rs` (the
//! reference client speaking Docker's attach) passes every case, and each of its
//! flaws fails the cases it should, with a diagnosis that names the point, the
//! stream and the bytes. Loopback only (TCP and a Unix socket).

use std::path::PathBuf;
use std::time::Duration;

use hijack_harness::docker::{self, DockerClient, Transport, cases};
use hijack_harness::oracle::Point;
use hijack_harness::report::{CaseResult, Outcome};
use hijack_harness::runner::{Options, no_progress};

/// The example binary, built (in this target directory, once) if `cargo test` did not.
fn client() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT.get_or_init(build).clone()
}

fn build() -> PathBuf {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_hijack-harness"));
    let path = exe
        .parent()
        .expect("the binary is in a directory")
        .join("examples")
        .join("docker_client");
    if !path.exists() {
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "--example", "docker_client"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(
            status.success(),
            "cargo build --example docker_client failed"
        );
    }
    assert!(path.exists(), "no {}", path.display());
    path
}

fn run(flaw: Option<&str>, verb: &str, transport: Transport, filter: &str) -> Vec<CaseResult> {
    let flaw = flaw.map(|f| format!("--flaw {f} ")).unwrap_or_default();
    let target = DockerClient {
        command: format!("{} {flaw}-H {{host}} {verb}", client().display()),
        name: "docker_client".into(),
        transport,
    };
    let opts = Options {
        timeout: Duration::from_secs(20),
        ..Options::default()
    };
    let cases: Vec<_> = cases::all()
        .into_iter()
        .filter(|c| c.id.contains(filter))
        .collect();
    assert!(!cases.is_empty(), "no case matches {filter:?}");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(docker::run_client(&target, &cases, &opts, no_progress()))
}

fn show(results: &[CaseResult]) -> String {
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

#[test]
fn the_reference_client_passes_every_case_over_tcp_and_unix() {
    for (transport, verb) in [
        (Transport::Tcp, "attach c1"),
        (Transport::Unix, "exec c1 cat"),
    ] {
        let results = run(None, verb, transport, "");
        assert!(
            results.iter().all(|r| r.outcome == Outcome::Pass),
            "{}",
            show(&results)
        );
        assert_eq!(results.len(), cases::all().len());
    }
}

#[test]
fn losing_the_read_ahead_fails_the_early_output_cases_naming_stream_and_bytes() {
    let results = run(
        Some("loses-read-ahead"),
        "attach c1",
        Transport::Tcp,
        ".early.",
    );
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
        Transport::Tcp,
        "header-like-bytes",
    );
    assert_eq!(later[0].outcome, Outcome::Pass, "{}", show(&later));
}

#[test]
fn handing_over_on_a_refusal_fails_the_refusal_cases_with_point_6() {
    let results = run(
        Some("hands-over-on-refusal"),
        "attach c1",
        Transport::Unix,
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
    let clean = run(None, "attach c1", Transport::Unix, "refusal.");
    assert!(
        clean.iter().all(|r| r.outcome == Outcome::Pass),
        "{}",
        show(&clean)
    );
}

#[test]
fn losing_close_write_fails_the_half_close_cases_with_point_5() {
    let results = run(
        Some("loses-close-write"),
        "attach c1",
        Transport::Tcp,
        "halfclose.",
    );
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
