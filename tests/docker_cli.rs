//! Docker clients through the command line, as a user runs them:
//! `run --client-cmd ... --protocol docker` over TCP and a Unix socket (the
//! reference client passes, its flaws fail naming the stream and the bytes, a
//! command that does not speak Docker is `unsupported` or `error`, never
//! `fail`), `list` shows the Docker cases, and `serve --protocol
//! docker-engine` serves the stub to a client. Loopback and Unix sockets only.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;

#[path = "support/examples.rs"]
mod examples;

fn harness() -> Command {
    let mut cmd = Command::cargo_bin("hijack-harness").expect("the binary is built");
    cmd.timeout(Duration::from_secs(120));
    cmd
}

/// Runs `hijack-harness ARGS`: exit code, stdout and stderr together.
fn output(args: &[&str]) -> (i32, String) {
    let out = harness().args(args).output().expect("the binary runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// `docker_client [--flaw FLAW] -H {host} VERB`.
fn client(flaw: Option<&str>, verb: &str) -> String {
    let flaw = flaw.map(|f| format!("--flaw {f} ")).unwrap_or_default();
    format!(
        "{} {flaw}-H {{host}} {verb}",
        examples::example("docker_client").display()
    )
}

/// The summary line's count of `what` (`pass`, `fail`, ...).
fn count(text: &str, what: &str) -> usize {
    let line = text
        .lines()
        .find(|l| l.contains(" results: "))
        .unwrap_or_else(|| panic!("no summary line in {text}"));
    let counts = line.rsplit_once(" in ").map_or(line, |(counts, _)| counts);
    counts
        .split(", ")
        .find_map(|part| {
            let part = part.rsplit(": ").next().unwrap_or(part);
            part.strip_suffix(&format!(" {what}"))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or_else(|| panic!("no {what} count in {line}"))
}

#[test]
fn the_reference_docker_client_passes_every_case_over_tcp_and_unix() {
    let cases = hijack_harness::suite::docker::all().len();
    for (listen, verb) in [("127.0.0.1:0", "attach c1"), ("unix:", "exec c1 cat")] {
        let command = client(None, verb);
        let (code, text) = output(&[
            "run",
            "--client-cmd",
            &command,
            "--protocol",
            "docker",
            "--listen",
            listen,
        ]);
        assert_eq!(code, 0, "{text}");
        assert_eq!(count(&text, "pass"), cases, "{text}");
    }
}

#[test]
fn a_flawed_docker_client_fails_naming_the_stream_and_the_bytes() {
    let command = client(Some("loses-read-ahead"), "attach c1");
    let (code, text) = output(&[
        "run",
        "--client-cmd",
        &command,
        "--protocol",
        "docker",
        "--cases",
        "docker.output.tty.early.300",
    ]);
    assert_eq!(code, 1, "{text}");
    assert_eq!(count(&text, "fail"), 1, "{text}");
    assert!(
        text.contains("printed 0 bytes on stdout of the 300 bytes")
            && text.contains("bytes 0..300 (300 bytes)")
            && text.contains("the one that carried the 101 head"),
        "{text}"
    );

    let command = client(Some("hands-over-on-refusal"), "attach c1");
    let (code, text) = output(&[
        "run",
        "--client-cmd",
        &command,
        "--protocol",
        "docker",
        "--listen",
        "unix:",
        "--cases",
        "docker.refusal.*",
    ]);
    assert_eq!(code, 1, "{text}");
    assert_eq!(count(&text, "fail"), 8, "{text}");
    assert!(text.contains("the case's stdin, bytes 0..300"), "{text}");
}

#[test]
fn commands_that_do_not_speak_docker_are_unsupported_or_error_never_fail() {
    // curl asks `GET /` and never attaches; `true` never connects; the echo
    // contract's client asks for `Upgrade: echo`.
    let echo = format!("{} {{addr}}", examples::example("echo_client").display());
    for (command, verdict) in [
        ("curl -sS -m 2 http://{addr}/", "unsupported"),
        ("true {host}", "error"),
        (echo.as_str(), "unsupported"),
    ] {
        let (code, text) = output(&[
            "run",
            "--client-cmd",
            command,
            "--protocol",
            "docker",
            "--timeout",
            "3000",
            "--cases",
            "docker.output.mux.*",
        ]);
        assert_eq!(count(&text, "fail"), 0, "{command}: {text}");
        assert_eq!(count(&text, verdict), 5, "{command}: {text}");
        // Unsupported does not fail a run; an error does.
        assert_eq!(code, i32::from(verdict == "error"), "{command}: {text}");
    }
    // The other way round: a Docker client in an echo-contract run.
    let dir = tempfile::tempdir().expect("a directory");
    let json = dir.path().join("r.json");
    let json_arg = json.display().to_string();
    let command = client(None, "attach c1");
    let (_, text) = output(&[
        "run",
        "--json",
        &json_arg,
        "--client-cmd",
        &command,
        "--cases",
        "handoff.*",
        "--timeout",
        "3000",
    ]);
    assert_eq!(count(&text, "fail"), 0, "{text}");
    let json = std::fs::read_to_string(&json).expect("the JSON report");
    assert!(json.contains("run it with --protocol docker"), "{json}");
}

#[test]
fn bad_client_runs_are_refused_with_a_reason() {
    for (command, cases, says) in [
        ("docker attach c1", "docker.*", "neither {addr} nor {host}"),
        ("x --tlscacert {ca} -H {host}", "docker.*", "add --tls"),
        ("x -H {host}", "handoff.*", "no Docker client case matches"),
    ] {
        let (code, text) = output(&[
            "run",
            "--client-cmd",
            command,
            "--protocol",
            "docker",
            "--cases",
            cases,
        ]);
        assert_eq!(code, 2, "{command}: {text}");
        assert!(text.contains(says), "{command}: {text}");
    }
}

#[test]
fn a_tls_run_gives_the_client_the_ca_file() {
    // curl trusts the throw-away CA through {ca}: the TLS handshake succeeds and
    // the stub logs its request (it never attaches: unsupported, with what it
    // asked). Without --cacert it does not trust the certificate: an error that
    // names the handshake. Neither is a failure.
    for (command, verdict, says) in [
        (
            "curl -sS -m 2 --cacert {ca} https://{addr}/_ping",
            "unsupported",
            "GET /_ping -> 200",
        ),
        (
            "curl -sS -m 2 https://{addr}/_ping; exit 7",
            "error",
            "TLS handshake",
        ),
    ] {
        let dir = tempfile::tempdir().expect("a directory");
        let json = dir.path().join("r.json");
        let json_arg = json.display().to_string();
        let (code, text) = output(&[
            "run",
            "--json",
            &json_arg,
            "--client-cmd",
            command,
            "--protocol",
            "docker",
            "--tls",
            "--timeout",
            "3000",
            "--cases",
            "docker.output.*.early.300",
        ]);
        assert!(text.contains("over TLS ({ca} is "), "{text}");
        assert_eq!(count(&text, "fail"), 0, "{command}: {text}");
        assert_eq!(count(&text, verdict), 2, "{command}: {text}");
        let json = std::fs::read_to_string(&json).expect("the JSON report");
        assert!(json.contains(says), "{command}: {json}");
        // Unsupported does not fail a run; an error does.
        assert_eq!(code, i32::from(verdict == "error"), "{command}: {text}");
    }
}

#[test]
fn list_shows_the_docker_cases() {
    let (code, text) = output(&["list", "--cases", "docker.*"]);
    assert_eq!(code, 0, "{text}");
    let rows = text.lines().filter(|l| l.starts_with("docker.")).count();
    assert_eq!(rows, hijack_harness::suite::docker::all().len(), "{text}");
    assert!(text.contains("docker (--client-cmd)"), "{text}");
}

/// `serve` in a child process, killed (by its PID) on drop.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_docker_engine_answers_a_docker_client() {
    let dir = tempfile::tempdir().expect("a directory");
    let socket = dir.path().join("d.sock");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_hijack-harness"))
        .args(["serve", "--protocol", "docker-engine", "--case"])
        .arg("docker.output.tty.early.300")
        .arg("--listen")
        .arg(format!("unix:{}", socket.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let _served = Served(child);
    let started = Instant::now();
    while !socket.exists() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let case = hijack_harness::suite::docker::tty_early(300);
    let out = std::process::Command::new(examples::example("docker_client"))
        .arg("-H")
        .arg(format!("unix://{}", socket.display()))
        .args(["attach", "c1"])
        .stdin(Stdio::null())
        .output()
        .expect("the client runs");
    assert_eq!(
        out.stdout,
        case.scenario.output[0].1.as_ref(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
