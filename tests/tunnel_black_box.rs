//! The `tunnel.*` cases black-box: `hijack-harness run --proxy` against
//! `hijack-harness serve --proxy` (the reference proxy, and its mutants), two
//! processes on loopback, the harness's upstream behind the proxy.
//!
//! The reference proxy passes every case; each acceptance mutant fails the
//! case that targets it, with the leg and the bytes in the diagnosis; the
//! proxy that closes both sides on one side's FIN is never a failure; and a
//! proxy that forwards one token only (`serve --proxy --only-token`) runs the
//! WebSocket and Docker suites, because the run asks with that token.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A free loopback port, released for a child to take.
fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

/// `serve --proxy` in a child process, killed (by its PID) on drop.
struct Proxy {
    child: Child,
    addr: SocketAddr,
    upstream: SocketAddr,
}

impl Proxy {
    /// The reference proxy, or `--mutant`'s, with `extra` flags, in front of a
    /// free port that the run's upstream will take.
    fn start(extra: &[&str]) -> Proxy {
        let (addr, upstream) = (free_port(), free_port());
        let child = Command::new(env!("CARGO_BIN_EXE_hijack-harness"))
            .args(["serve", "--proxy", "--listen", &addr.to_string()])
            .args(["--upstream", &upstream.to_string()])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve --proxy starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "serve --proxy never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
        Proxy {
            child,
            addr,
            upstream,
        }
    }

    /// `run --proxy` through it with `args`: the exit code and the JSON report.
    fn run(&self, args: &[&str]) -> (i32, Value) {
        let (code, report, _) = self.run_traced(args);
        (code, report)
    }

    /// [`Proxy::run`], and the run's stdout and trace files (`--traces`):
    /// (name, contents) for each text trace, and each capture's length.
    fn run_traced(&self, args: &[&str]) -> (i32, Value, Vec<(String, Vec<u8>)>) {
        let dir = std::env::temp_dir().join(format!(
            "hh-tunnel-bb-{}-{}",
            std::process::id(),
            self.addr.port()
        ));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let json = dir.join("report.json");
        let traces = dir.join("traces");
        let out = Command::new(env!("CARGO_BIN_EXE_hijack-harness"))
            .args(["run", "--proxy", &self.addr.to_string()])
            .args(["--upstream", &self.upstream.to_string()])
            .args(["--json", json.to_str().expect("a UTF-8 path")])
            .args(["--traces", traces.to_str().expect("a UTF-8 path")])
            .args([
                "--html",
                dir.join("report.html").to_str().expect("a UTF-8 path"),
            ])
            .args(args)
            .args(if args.contains(&"--via") {
                &[][..]
            } else {
                &["--via", "upgrade"][..]
            })
            .output()
            .expect("run --proxy runs");
        let text = std::fs::read_to_string(&json).unwrap_or_else(|e| {
            panic!(
                "no JSON report ({e}): {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let mut files = vec![("stdout".to_string(), out.stdout.clone())];
        files.push((
            "report.html".to_string(),
            std::fs::read(dir.join("report.html")).unwrap_or_default(),
        ));
        for entry in std::fs::read_dir(&traces).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            files.push((name, std::fs::read(entry.path()).unwrap_or_default()));
        }
        let _ = std::fs::remove_dir_all(&dir);
        let report = serde_json::from_str(&text).expect("a JSON report");
        (out.status.code().unwrap_or(-1), report, files)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every result of `report`, as (case ID, outcome, its diagnoses joined).
fn results(report: &Value) -> Vec<(String, String, String)> {
    report["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            let said: Vec<String> = r["violations"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| v["message"].as_str().unwrap_or_default().to_string())
                .collect();
            (
                r["id"].as_str().unwrap_or_default().to_string(),
                r["outcome"].as_str().unwrap_or_default().to_string(),
                said.join("\n"),
            )
        })
        .collect()
}

fn outcome_of<'a>(
    results: &'a [(String, String, String)],
    id: &str,
) -> &'a (String, String, String) {
    results
        .iter()
        .find(|(case, ..)| case == id)
        .unwrap_or_else(|| panic!("{id} did not run: {results:?}"))
}

const TUNNEL_CASES: usize = 9;

#[test]
fn the_reference_proxy_passes_every_tunnel_case_twice() {
    let proxy = Proxy::start(&[]);
    let (code, report) = proxy.run(&["--cases", "tunnel.*", "--repeat", "2"]);
    let results = results(&report);
    assert_eq!(results.len(), TUNNEL_CASES, "{results:?}");
    for (id, outcome, said) in &results {
        assert_eq!(outcome, "pass", "{id}: {said}");
    }
    assert_eq!(code, 0);
    // Both legs are in the report: the upstream leg of a case carries the
    // forwarded request.
    let refused = report["results"]
        .as_array()
        .and_then(|r| {
            r.iter()
                .find(|r| r["id"] == "tunnel.refused-stays-http.426")
        })
        .expect("the 426 case");
    assert_eq!(
        refused["legs"][0]["label"], "proxy to upstream",
        "{refused}"
    );
    assert!(refused["legs"][0]["trace"]["client_to_server"]["bytes"].as_u64() > Some(0));
}

/// Runs the tunnel cases against `serve --proxy --mutant MUTANT` and checks
/// that `case` fails with every one of `said` in its diagnosis.
fn caught(mutant: &str, case: &str, said: &[&str]) {
    let proxy = Proxy::start(&["--mutant", mutant]);
    let (code, report) = proxy.run(&["--cases", "tunnel.*"]);
    let results = results(&report);
    let (_, outcome, diagnosis) = outcome_of(&results, case);
    assert_eq!(outcome, "fail", "{mutant} passed {case}: {results:?}");
    for words in said {
        assert!(
            diagnosis.contains(words),
            "{mutant}, {case}: {words:?} not in {diagnosis}"
        );
    }
    assert_eq!(code, 1);
}

#[test]
fn a_proxy_that_tunnels_after_a_refusal_fails_refused_stays_http() {
    caught(
        "TunnelsAfterRefusal",
        "tunnel.refused-stays-http.426",
        &[
            "proxy to upstream",
            "reached the upstream raw",
            "after its 426 answer",
        ],
    );
}

#[test]
fn a_proxy_that_forwards_early_fails_refused_early_bytes() {
    caught(
        "ForwardsEarly",
        "tunnel.refused-early-bytes",
        &["proxy to upstream", "GET /next", "before its answer"],
    );
}

#[test]
fn a_proxy_that_relays_an_unoffered_token_fails_unoffered_token() {
    caught(
        "RelaysUnofferedToken",
        "tunnel.unoffered-token",
        &["proxy to client", "101 relayed", "did not offer"],
    );
}

#[test]
fn a_proxy_that_forwards_h2c_fails_h2c_not_forwarded() {
    caught(
        "ForwardsH2c",
        "tunnel.h2c-not-forwarded",
        &["proxy to upstream", "Upgrade: h2c", "HTTP2-Settings"],
    );
}

#[test]
fn a_proxy_that_forwards_connect_early_data_fails_connect_refused_early_data() {
    caught(
        "ForwardsConnectEarlyDataOnRefusal",
        "tunnel.connect-refused-early-data",
        &["proxy to upstream", "GET /next", "after its 403 answer"],
    );
}

#[test]
fn a_proxy_that_honours_an_http10_upgrade_fails_http10_no_switch() {
    caught(
        "HonoursHttp10Upgrade",
        "tunnel.http10-no-switch",
        &["proxy to upstream", "HTTP/1.0", "went on as HTTP/1.1"],
    );
}

/// A proxy that parses the bytes sent with a refused CONNECT as a request
/// answers them: a second response, which the case rates non-strict (RFC 9110
/// §9.3.6 leaves their meaning to the HTTP version), never a pass.
#[test]
fn a_proxy_that_parses_connect_early_data_is_non_strict() {
    let proxy = Proxy::start(&["--mutant", "ParsesConnectEarlyData"]);
    let (code, report) = proxy.run(&["--cases", "tunnel.connect-refused-early-data"]);
    let results = results(&report);
    let (_, outcome, said) = outcome_of(&results, "tunnel.connect-refused-early-data");
    assert_eq!(outcome, "non-strict", "{results:?}");
    assert!(
        said.contains("proxy to client: a second response"),
        "{said}"
    );
    assert_eq!(code, 0);
}

/// No `tunnel.*` case switches with bytes in flight yet, so the proxy that
/// splices the raw connections is caught by the echo suite through it: the
/// early data that arrived with the request never crosses.
#[test]
fn a_proxy_that_loses_its_read_ahead_fails_the_early_data_cases() {
    let proxy = Proxy::start(&["--mutant", "LosesReadAhead"]);
    let (code, report) = proxy.run(&["--cases", "handoff.early-data.same-segment.1"]);
    let results = results(&report);
    let (_, outcome, diagnosis) = outcome_of(&results, "handoff.early-data.same-segment.1");
    assert_eq!(outcome, "fail", "{results:?}");
    assert!(!diagnosis.is_empty());
    assert_eq!(code, 1);
}

/// RFC 9110 §9.3.6 lets a tunnel close both sides on one side's close: the
/// whole run through that proxy has no failure (non-strict at most).
#[test]
fn a_proxy_that_closes_both_on_fin_never_fails() {
    let proxy = Proxy::start(&["--mutant", "ClosesBothOnFin"]);
    let (code, report) = proxy.run(&[]);
    let results = results(&report);
    assert!(results.len() > TUNNEL_CASES, "{results:?}");
    for (id, outcome, said) in &results {
        assert!(
            ["pass", "non-strict", "unsupported"].contains(&outcome.as_str()),
            "{id}: {outcome}: {said}"
        );
    }
    assert_eq!(code, 0);
}

/// A proxy that forwards only one token runs the suite of the protocol that
/// asks for it, tunnel cases included; the wrong protocol through it is all
/// `unsupported`, which shows the filter bites.
fn through_a_token_only_proxy(token: &str, protocol: &str, prefix: &str) {
    let proxy = Proxy::start(&["--only-token", token]);
    let (_, report) = proxy.run(&["--protocol", protocol]);
    let results = results(&report);
    let suite: Vec<_> = results
        .iter()
        .filter(|(id, ..)| id.starts_with(prefix))
        .collect();
    assert!(!suite.is_empty(), "{results:?}");
    assert!(
        suite.iter().any(|(_, outcome, _)| outcome == "pass"),
        "no {prefix} case passed through a proxy that forwards {token}: {results:?}"
    );
    let tunnel: Vec<_> = results
        .iter()
        .filter(|(id, ..)| id.starts_with("tunnel."))
        .collect();
    assert_eq!(tunnel.len(), TUNNEL_CASES);
    for (id, outcome, said) in tunnel {
        assert_eq!(outcome, "pass", "{id} through a {token}-only proxy: {said}");
    }
    let other = if protocol == "docker" {
        "websocket"
    } else {
        "docker"
    };
    let (_, report) = proxy.run(&["--protocol", other, "--cases", "handoff.*"]);
    let refused = self::results(&report);
    assert!(
        refused
            .iter()
            .all(|(_, outcome, _)| outcome == "unsupported"),
        "--protocol {other} through a {token}-only proxy: {refused:?}"
    );
}

#[test]
fn websocket_runs_through_a_proxy_that_forwards_only_websocket() {
    through_a_token_only_proxy("websocket", "websocket", "websocket.");
}

#[test]
fn docker_runs_through_a_proxy_that_forwards_only_tcp() {
    through_a_token_only_proxy("tcp", "docker", "handoff.");
}

/// Through `--via connect` (a forward proxy: the upgrades in absolute form,
/// the CONNECT to a closed port and to `--connect-denied`), the reference
/// proxy, which sends every request and CONNECT to its upstream as its next
/// hop, passes every tunnel case; the mutant that forwards a refused
/// CONNECT's early data fails that case with the bytes named.
#[test]
fn through_via_connect_the_connect_case_tells_the_reference_from_its_mutant() {
    let args = [
        "--via",
        "connect",
        "--cases",
        "tunnel.*",
        "--connect-denied",
        "127.0.0.1:25",
    ];
    let reference = Proxy::start(&[]);
    let (code, report) = reference.run(&args);
    let results = results(&report);
    assert_eq!(results.len(), TUNNEL_CASES, "{results:?}");
    for (id, outcome, said) in &results {
        assert_eq!(outcome, "pass", "{id}: {said}");
    }
    assert_eq!(code, 0);
    let mutant = Proxy::start(&["--mutant", "ForwardsConnectEarlyDataOnRefusal"]);
    let (code, report) = mutant.run(&args);
    let results = self::results(&report);
    let (_, outcome, said) = outcome_of(&results, "tunnel.connect-refused-early-data");
    assert_eq!(outcome, "fail", "{results:?}");
    assert!(
        said.contains("proxy to upstream") && said.contains("GET /next"),
        "{said}"
    );
    assert_eq!(code, 1);
}

/// `--expect` holds the tunnel cases like any other: the known failure of a
/// proxy is no change, and the same run without the line is one.
#[test]
fn expected_tunnel_failures_are_no_change() {
    let proxy = Proxy::start(&["--mutant", "ForwardsH2c"]);
    let dir = std::env::temp_dir().join(format!("hh-tunnel-expect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let file = dir.join("expected.txt");
    let args = |file: &std::path::Path| {
        vec![
            "--cases".to_string(),
            "tunnel.h2c-*".to_string(),
            "--name".to_string(),
            "h2c-proxy".to_string(),
            "--expect".to_string(),
            file.display().to_string(),
        ]
    };
    std::fs::write(&file, "tunnel.h2c-not-forwarded h2c-proxy server fail\n").expect("write");
    let expected = args(&file);
    let (code, _) = proxy.run(&expected.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "the expected failure is a change");
    std::fs::write(&file, "# nothing expected to fail\n").expect("write");
    let (code, _) = proxy.run(&expected.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 1, "an unexpected failure is no change");
    let _ = std::fs::remove_dir_all(&dir);
}
