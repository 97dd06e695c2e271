//! The committed fuzz corpus, replayed on stable by `cargo test`, and its generator.
//!
//! Every file under `corpus/<target>/` goes through the same function the fuzz
//! target calls (`hijack_harness::fuzzing::<target>`) against the reference, so a
//! crash the fuzzer once found, or a seed written from a real bug, stays a
//! regression test without nightly or libFuzzer. A folder that is empty fails:
//! a replay of nothing proves nothing.
//!
//! The `seed-*` files are written by `generate_seeds` from the named scenarios in
//! [`seeds`], through `fuzzing::encode` (the exact inverse of the scenario's
//! `Arbitrary` impl), so regenerating them is deterministic:
//!
//! ```text
//! cargo test --test corpus -- --ignored generate_seeds
//! ```
//!
//! `seeds_are_current` fails when a committed seed differs from what the
//! generator writes (the byte format or a seed changed): run the generator again.
//! Other files are inputs from fuzz runs, kept as they are: `mutant-<name>` is
//! the first crash `fuzz/detect.sh --save` found for that mutant from an empty
//! corpus (the reference passes it, the mutant fails it), `found-*` a minimised
//! crash of the reference, fixed since. In `corpus/hyper_server/`, `finding-*` is
//! a known hyper finding (README, "Findings"), also written by the generator: the
//! target skips it, and `hyper_findings_in_the_corpus_still_fail` checks that hyper
//! still fails it.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use hijack_harness::fuzzing::{self, HEAD_SETTINGS};
use hijack_harness::scenario::proxy::{Ask, Early, ProxyScenario};
use hijack_harness::scenario::{
    Answer, AnswerWriter, Body, BodyRead, Cut, Fill, FirstWrite, Handshake, Landmark, Payload,
    Protocol, Scenario, ServerApp,
};
use hijack_harness::subject::proxy::ReferenceProxy;
use hijack_harness::subject::proxy::mutants::{ProxyFlaw, ProxyMutant};
use hijack_harness::subject::reference::{ReferenceClient, ReferenceServer};

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target)
}

/// Runs `body` on every file of `corpus/<target>/`; fails naming each file that fails.
fn replay(target: &str, body: impl Fn(&[u8])) {
    let dir = corpus_dir(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "{} is empty: a corpus replay of nothing proves nothing",
        dir.display()
    );
    let mut failures = Vec::new();
    for file in &files {
        let data = fs::read(file).expect("a readable corpus file");
        if let Err(panic) = panic::catch_unwind(AssertUnwindSafe(|| body(&data))) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{}:\n{message}", file.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files in {} fail:\n{}",
        failures.len(),
        files.len(),
        dir.display(),
        failures.join("\n\n")
    );
    println!("{target}: {} files replayed", files.len());
}

#[test]
fn replay_server_handoff() {
    replay("server_handoff", |data| {
        fuzzing::server_handoff_with(&ReferenceServer::default(), data)
    });
}

#[test]
fn replay_client_handoff() {
    replay("client_handoff", |data| {
        fuzzing::client_handoff_with(&ReferenceClient::default(), data)
    });
}

#[test]
fn replay_head() {
    replay("head", fuzzing::head);
}

#[test]
fn replay_hyper_server() {
    replay("hyper_server", fuzzing::hyper_server);
}

#[test]
fn replay_hyper_client() {
    replay("hyper_client", fuzzing::hyper_client);
}

#[test]
fn replay_proxy_handoff() {
    replay("proxy_handoff", |data| {
        fuzzing::proxy::proxy_handoff_with(&ReferenceProxy, data)
    });
}

#[test]
fn replay_differential() {
    replay("differential", fuzzing::differential);
}

/// Each seed scenario, as the bytes of every target that takes a scenario: the
/// hyper targets first read their options, and zero bytes are hyper's defaults.
fn scenario_seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    for (name, scenario) in seeds() {
        let bytes = fuzzing::encode(&scenario).expect("a seed within the decoder's range");
        let server = [vec![0; fuzzing::HYPER_SERVER_DEFAULTS], bytes.clone()].concat();
        let client = [vec![0; fuzzing::HYPER_CLIENT_DEFAULTS], bytes.clone()].concat();
        out.push(("server_handoff", format!("seed-{name}"), bytes.clone()));
        out.push(("client_handoff", format!("seed-{name}"), bytes));
        out.push(("hyper_server", format!("seed-{name}"), server.clone()));
        out.push(("hyper_client", format!("seed-{name}"), client.clone()));
        out.push((
            "differential",
            format!("seed-server-{name}"),
            [vec![0], server].concat(),
        ));
        out.push((
            "differential",
            format!("seed-client-{name}"),
            [vec![1], client].concat(),
        ));
    }
    for (finding, bytes) in hyper_finding_seeds() {
        out.push(("hyper_server", finding_file(finding), bytes));
    }
    for (name, scenario) in proxy_seeds() {
        let bytes = fuzzing::proxy::encode(&scenario).expect("a proxy seed within the format");
        out.push(("proxy_handoff", format!("seed-{name}"), bytes));
    }
    out
}

/// The `proxy_handoff` seeds: every named `tunnel.*` case, and the tunnel's
/// own shapes (a switch with bytes and FINs both ways, a `CONNECT`, cuts).
fn proxy_seeds() -> Vec<(String, ProxyScenario)> {
    let mut out: Vec<_> = hijack_harness::suite::tunnel::all()
        .into_iter()
        .map(|case| (case.id.replace('.', "-"), case.scenario))
        .collect();
    let switch = ProxyScenario {
        early: Early::Raw,
        early_len: 9,
        first: 6,
        late: 5,
        upstream_late: 4,
        client_fin: true,
        ..ProxyScenario::default()
    };
    out.push(("switch-with-fins".into(), switch.clone()));
    out.push((
        "connect-with-cuts".into(),
        ProxyScenario {
            ask: Ask::Connect,
            upstream_fin: true,
            client_cuts: vec![1, 40],
            upstream_cuts: vec![3],
            ..switch
        },
    ));
    out
}

/// Where a known hyper finding's input lives in `corpus/hyper_server/`.
fn finding_file(finding: &str) -> String {
    format!("finding-{}", finding.replace('_', "-"))
}

/// hyper's options as `fuzzing::read_hyper_server` reads them: a mode byte, then
/// one byte per option, in the order of that function. Only the bytes a finding
/// needs are named; zero is hyper's default.
const PIPELINE_FLUSH_BYTE: usize = 10;

/// The known hyper findings (README, "Findings"), each as a `hyper_server` input:
/// the options that trip it, then the scenario of its regression test in
/// `tests/hyper/findings.rs`. The target skips known findings, so replaying these passes;
/// `hyper_findings_in_the_corpus_still_fail` checks that each is the finding it
/// names and that hyper still fails it.
fn hyper_finding_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let encode = |s: &Scenario| fuzzing::encode(s).expect("a seed within the decoder's range");
    let mut flush = vec![0; fuzzing::HYPER_SERVER_DEFAULTS];
    flush[PIPELINE_FLUSH_BYTE] = 1;
    // The pipelined request after the refusal in a segment of its own, then the
    // client's FIN: hyper's default half_close(false) drops the request.
    let mut refused = upgrade();
    refused.answer = Answer::Refuse(400);
    refused.client.half_close = true;
    refused.client_cuts = vec![Cut::At(Landmark::MessageEnd, 0)];
    let refused = refused.normalized();
    let defaults = vec![0; fuzzing::HYPER_SERVER_DEFAULTS];
    // The service drops the body: three chunks (hyper drains one), or a body with
    // `Expect: 100-continue` (hyper skips the 100 before its 101).
    let mut chunked = early(4);
    chunked.body = Body::Chunked(vec![
        Payload::noise(3, 1),
        Payload::noise(3, 2),
        Payload::noise(3, 3),
    ]);
    chunked.server.body_read = BodyRead::Nothing;
    let mut expecting = early(4);
    expecting.body = Body::Length(Payload::noise(10, 1));
    expecting.expect_continue = true;
    expecting.server.body_read = BodyRead::Nothing;
    vec![
        (
            "pipeline_flush_loses_101_head",
            [flush, encode(&early(17))].concat(),
        ),
        (
            "half_close_false_drops_pipelined_request",
            [defaults.clone(), encode(&refused)].concat(),
        ),
        (
            "dropped_body_handed_to_upgrade",
            [defaults.clone(), encode(&chunked.normalized())].concat(),
        ),
        (
            "dropped_body_skips_100_before_101",
            [defaults, encode(&expecting.normalized())].concat(),
        ),
    ]
}

/// Each `finding-*` file decodes to the finding it is named after, and hyper
/// still fails it: the day hyper fixes one, this fails and the finding (its
/// filter, its file, its regression test) should go.
#[test]
fn hyper_findings_in_the_corpus_still_fail() {
    use arbitrary::{Arbitrary, Unstructured};
    let dir = corpus_dir("hyper_server");
    let mut seen = 0;
    for entry in fs::read_dir(&dir).expect("corpus dir") {
        let path = entry.expect("dir entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let Some(finding) = name.strip_prefix("finding-") else {
            continue;
        };
        let data = fs::read(&path).expect("finding input");
        let mut u = Unstructured::new(&data);
        let server = fuzzing::read_hyper_server(&mut u).expect("options decode");
        let scenario = Scenario::arbitrary(&mut u).expect("scenario decodes");
        assert_eq!(
            server
                .options
                .known_finding(&scenario)
                .map(|f| f.replace('_', "-")),
            Some(finding.to_string()),
            "{name} is not the finding it is named after"
        );
        let run = hijack_harness::check::run_server(&server, &scenario);
        assert!(
            !run.passed(),
            "hyper no longer fails {name}: remove the finding\n{}",
            run.verdict
        );
        seen += 1;
    }
    assert_eq!(
        seen,
        hyper_finding_seeds().len(),
        "finding files in {}",
        dir.display()
    );
}

// ---------------------------------------------------------------------------
// Seeds written from real bugs.

fn upgrade() -> Scenario {
    Scenario::basic()
}

fn early(len: usize) -> Scenario {
    let mut s = upgrade();
    s.client.early = Payload::noise(len, 1);
    s
}

/// Named scenarios, each the shape of a bug that shipped (see
/// `docs/src/invariant.md`, "Mutants").
/// They are written to both handoff targets.
pub fn seeds() -> Vec<(&'static str, Scenario)> {
    let mut out = Vec::new();
    // Early data in the head's segment: the bytes a library reads along with the
    // head (moby/moby#30154, node-http-proxy#473).
    out.push(("early-data-same-segment", early(17)));
    // The same bytes in a segment of their own: a background read catches one
    // (golang/go#18535).
    let mut s = early(9);
    s.client_cuts = vec![Cut::At(Landmark::MessageEnd, 0)];
    s.client.half_close = true;
    out.push(("early-data-own-segment", s));
    // More than 4 KiB of read-ahead: past Go's default bufio size.
    let mut s = early(4100);
    s.server.read_chunk = 65_536;
    s.client.read_chunk = 65_536;
    out.push(("read-ahead-over-4k", s));
    // One-byte reads: the head ends exactly at a read boundary.
    let mut s = early(40);
    s.server.read_chunk = 1;
    s.client.read_chunk = 1;
    out.push(("one-byte-reads", s));
    // An empty chunked body before the 101 (kubernetes/kubernetes#117722).
    let mut s = early(12);
    s.body = Body::Chunked(Vec::new());
    out.push(("chunked-empty-body", s));
    let mut s = early(12);
    s.body = Body::Chunked(vec![Payload::noise(5, 2), Payload::noise(300, 3)]);
    s.client_cuts = vec![Cut::At(Landmark::HeadEnd, 2)];
    out.push(("chunked-body-cut", s));
    let mut s = early(20);
    s.body = Body::Length(Payload::noise(33, 4));
    s.expect_continue = true;
    out.push(("expect-continue-with-body", s.normalized()));
    // The server's first frame coalesced with the 101 (a MUST for WebSocket clients;
    // rancher-desktop#8311).
    let mut s = upgrade();
    s.handshake = Handshake::Upgrade(Protocol::WebSocket);
    s.server.first = Payload::noise(20, 5);
    s.server.first_write = FirstWrite::WithHead;
    out.push(("server-frame-with-101", s));
    // Bytes written but not flushed before the hijack.
    let mut s = early(3);
    s.server.first = Payload::noise(30, 6);
    s.server.first_write = FirstWrite::Unflushed;
    out.push(("unflushed-before-hijack", s));
    // Half-close on the buffered path (moby/moby#36516).
    let mut s = early(25);
    s.server.app = ServerApp::CloseWriteFirst;
    s.client.half_close = true;
    out.push(("half-close-buffered", s));
    let mut s = early(25);
    s.client.late = Payload::noise(50, 7);
    s.client.half_close = true;
    out.push(("client-fin-drains", s));
    // A refused upgrade followed by a pipelined request (websocket-smuggle).
    let mut s = early(0);
    s.answer = Answer::Refuse(426);
    out.push(("refused-upgrade-pipelined", s));
    let mut s = early(0);
    s.answer = Answer::Refuse(200);
    s.client_cuts = vec![Cut::At(Landmark::MessageEnd, 0)];
    out.push(("refused-with-200", s));
    // CONNECT tunnels and Docker's explicit hijack after a 200.
    let mut s = early(30);
    s.handshake = Handshake::Connect;
    out.push(("connect-early-data", s));
    let mut s = early(30);
    s.handshake = Handshake::Explicit;
    s.server.first = Payload::noise(8, 8);
    s.server.first_write = FirstWrite::WithHead;
    out.push(("docker-raw-stream", s));
    // New-protocol bytes that look like HTTP: a library must not parse them.
    let mut s = upgrade();
    s.handshake = Handshake::Upgrade(Protocol::Tcp);
    s.client.early = Payload {
        len: 70,
        fill: Fill::HttpLike,
    };
    out.push(("http-like-early-data", s));
    // Past 64 KiB, the largest common read buffer.
    let mut s = early(10);
    s.client.late = Payload::noise(65_600, 9);
    s.server.first = Payload::noise(65_600, 10);
    s.server_cuts = vec![Cut::Offset(70_000)];
    out.push(("past-64k", s));
    // An interim 100 Continue before the 101.
    let mut s = early(5);
    s.interim_continue = true;
    s.server_cuts = vec![Cut::At(Landmark::HeadEnd, -1)];
    out.push(("interim-continue", s));
    // The application's choices (`docs/src/invariant.md`). An upgrade whose body
    // the handler never reads, its end in a later segment (kubernetes#117722, nodejs#58394).
    let mut s = early(6);
    s.body = Body::Length(Payload::noise(40, 11));
    s.server.body_read = BodyRead::Nothing;
    s.client_cuts = vec![Cut::At(Landmark::MessageEnd, -4)];
    out.push(("body-never-read", s.normalized()));
    // A chunked body read in part: the rest, framing included, is the library's.
    let mut s = early(6);
    s.body = Body::Chunked(vec![Payload::noise(20, 12), Payload::noise(7, 13)]);
    s.server.body_read = BodyRead::Part(5);
    out.push(("body-read-in-part", s.normalized()));
    // A client that waits for 100 Continue before its body.
    let mut s = early(6);
    s.body = Body::Length(Payload::noise(12, 14));
    s.expect_continue = true;
    s.client.waits_for_continue = true;
    out.push(("client-waits-for-continue", s.normalized()));
    // Go's Hijack() before any answer, then a raw 101 (Docker's daemon), with
    // the body unread.
    let mut s = early(6);
    s.handshake = Handshake::Upgrade(Protocol::Tcp);
    s.body = Body::Chunked(vec![Payload::noise(9, 15)]);
    s.server.body_read = BodyRead::Nothing;
    s.server.writer = AnswerWriter::Application;
    s.server.first = Payload::noise(8, 16);
    out.push(("application-writes-101", s.normalized()));
    // A client application that writes before the 101 arrives.
    let mut s = early(24);
    s.client.optimistic = true;
    s.server.first = Payload::noise(8, 17);
    out.push(("optimistic-client", s.normalized()));
    out
}

fn write_if_changed(path: &Path, data: &[u8]) {
    if fs::read(path).ok().as_deref() != Some(data) {
        fs::write(path, data).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
}

/// Head-target seeds: settings bytes, then the stream.
fn head_seeds() -> Vec<(&'static str, Vec<u8>)> {
    // [response?, limit selector, limit parameter, read size, 4 segment sizes]
    let settings = |response: u8, limit: [u8; 2], read: u8, segments: [u8; 4]| {
        let mut out = vec![response, limit[0], limit[1], read];
        out.extend_from_slice(&segments);
        assert_eq!(out.len(), HEAD_SETTINGS);
        out
    };
    let with = |s: Vec<u8>, stream: &[u8]| [s, stream.to_vec()].concat();
    let request = b"GET /upgrade HTTP/1.1\r\nHost: example.test\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nEARLY";
    let response =
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nFRAME";
    vec![
        (
            "request-early-data",
            with(settings(0, [0, 0], 0xff, [0xff; 4]), request),
        ),
        (
            "request-one-byte-segments",
            with(settings(0, [0, 0], 0, [0; 4]), request),
        ),
        (
            "request-uneven-segments",
            with(settings(0, [0, 0], 20, [3, 50, 1, 127]), request),
        ),
        (
            "response-101-frame",
            with(settings(1, [0, 0], 7, [9, 2, 30, 1]), response),
        ),
        (
            "request-limit-exact",
            with(settings(0, [1, 80], 16, [16; 4]), request),
        ),
        (
            "request-too-large",
            with(settings(0, [1, 10], 4, [4; 4]), request),
        ),
        (
            "request-http10",
            with(
                settings(0, [0, 0], 0xff, [0xff; 4]),
                b"GET / HTTP/1.0\r\n\r\n",
            ),
        ),
        (
            "request-bare-lf",
            with(
                settings(0, [0, 0], 5, [5; 4]),
                b"GET / HTTP/1.1\nHost: a\n\nrest",
            ),
        ),
        (
            "request-truncated",
            with(
                settings(0, [2, 1], 0xff, [0xff; 4]),
                b"GET / HTTP/1.1\r\nHost: a\r\n",
            ),
        ),
        (
            "request-malformed",
            with(
                settings(0, [0, 0], 3, [3; 4]),
                b"GET / HTTP/1.1\r\nHo st: a\r\n\r\n",
            ),
        ),
        ("empty", settings(0, [0, 0], 0, [0; 4])),
    ]
}

/// Writes the `seed-*` files. Re-runnable: the same bytes every time.
#[test]
#[ignore = "writes corpus/; run by hand to regenerate the seeds"]
fn generate_seeds() {
    for (target, name, bytes) in scenario_seeds() {
        let dir = corpus_dir(target);
        fs::create_dir_all(&dir).expect("corpus dir");
        write_if_changed(&dir.join(name), &bytes);
    }
    let dir = corpus_dir("head");
    fs::create_dir_all(&dir).expect("corpus dir");
    for (name, bytes) in head_seeds() {
        write_if_changed(&dir.join(format!("seed-{name}")), &bytes);
    }
}

/// The committed seeds are what the generator writes today.
#[test]
fn seeds_are_current() {
    let mut stale = Vec::new();
    for (target, name, bytes) in scenario_seeds() {
        let path = corpus_dir(target).join(name);
        if fs::read(&path).ok() != Some(bytes) {
            stale.push(path.display().to_string());
        }
    }
    for (name, bytes) in head_seeds() {
        let path = corpus_dir("head").join(format!("seed-{name}"));
        if fs::read(&path).ok() != Some(bytes) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale or missing seeds (run `cargo test --test corpus -- --ignored generate_seeds`): {stale:?}"
    );
}

/// `fuzz/detect.sh` names every mutant, with the target that can see it.
#[test]
fn detect_script_lists_every_mutant() {
    use hijack_harness::subject::mutants::Mutant;
    let script = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/detect.sh"))
        .expect("fuzz/detect.sh");
    let missing: Vec<String> = Mutant::all()
        .into_iter()
        .map(|m| {
            let target = if m.server().is_some() {
                "server_handoff"
            } else {
                "client_handoff"
            };
            format!("\"{} {target}\"", m.name())
        })
        .filter(|line| !script.contains(line.as_str()))
        .collect();
    assert!(missing.is_empty(), "fuzz/detect.sh lacks {missing:?}");
}

/// `fuzz/detect.sh` names every WebSocket mutant, with the target of its side.
#[test]
fn detect_script_lists_every_websocket_mutant() {
    use hijack_harness::subject::websocket::mutants::MessageMutant;
    let script = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/detect.sh"))
        .expect("fuzz/detect.sh");
    let missing: Vec<String> = MessageMutant::ALL
        .into_iter()
        .map(|m| format!("\"{} ws_{}\"", m.name(), m.side()))
        .filter(|line| !script.contains(line.as_str()))
        .collect();
    assert!(missing.is_empty(), "fuzz/detect.sh lacks {missing:?}");
}

/// `fuzz/detect.sh` names every proxy mutant that breaks a MUST, with `proxy_handoff`,
/// and no non-strict one (those pass the target by design).
#[test]
fn detect_script_lists_every_proxy_mutant() {
    let script = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/detect.sh"))
        .expect("fuzz/detect.sh");
    for flaw in ProxyFlaw::ALL {
        let line = format!("\"{} proxy_handoff\"", flaw.name());
        assert_eq!(
            script.contains(&line),
            !flaw.non_strict(),
            "fuzz/detect.sh and {line}: listed iff the mutant breaks a MUST"
        );
    }
}

/// Every failing proxy mutant fails its own `mutant-<name>` input (kept by
/// `fuzz/detect.sh --save`), and every non-strict one passes every proxy input.
#[test]
fn proxy_corpus_catches_every_failing_mutant() {
    let dir = corpus_dir("proxy_handoff");
    let mut wrong = Vec::new();
    for flaw in ProxyFlaw::ALL {
        let run = |data: &[u8]| {
            panic::catch_unwind(AssertUnwindSafe(|| {
                fuzzing::proxy::proxy_handoff_with(&ProxyMutant(flaw), data)
            }))
            .is_ok()
        };
        if flaw.non_strict() {
            for entry in fs::read_dir(&dir).expect("corpus/proxy_handoff") {
                let path = entry.expect("an entry").path();
                if !run(&fs::read(&path).expect("a corpus file")) {
                    wrong.push(format!("{} fails {}", flaw.name(), path.display()));
                }
            }
            continue;
        }
        let own = dir.join(format!("mutant-{}", flaw.name()));
        let data = fs::read(&own).unwrap_or_else(|e| panic!("{}: {e}", own.display()));
        if run(&data) {
            wrong.push(format!("{} passes {}", flaw.name(), own.display()));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// `fuzz/detect.sh` hunts every known hyper finding.
#[test]
fn detect_script_lists_every_finding() {
    let script = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/detect.sh"))
        .expect("fuzz/detect.sh");
    let missing: Vec<&str> = hijack_harness::subject::hyper::KNOWN_FINDINGS
        .into_iter()
        .filter(|finding| !script.contains(&format!("\"{finding}\"")))
        .collect();
    assert!(missing.is_empty(), "fuzz/detect.sh lacks {missing:?}");
    // And the corpus has a file for each.
    let files: Vec<String> = hyper_finding_seeds()
        .into_iter()
        .map(|(finding, _)| finding.to_string())
        .collect();
    for finding in hijack_harness::subject::hyper::KNOWN_FINDINGS {
        assert!(
            files.iter().any(|f| f == finding),
            "no corpus/hyper_server/{} seed",
            finding_file(finding)
        );
    }
}

/// A target body with its subject chosen.
type Target = Box<dyn Fn(&[u8])>;

/// The corpus is not only passing inputs: for every mutant, its `mutant-<name>`
/// file in its target's folder fails. A mutant its file no longer catches would
/// mean the corpus lost the shape of that bug (or the byte format moved under it).
#[test]
fn corpus_catches_every_mutant() {
    use hijack_harness::subject::mutants::Mutant;
    let mut uncaught = Vec::new();
    for mutant in Mutant::all() {
        let (target, run): (&str, Target) = match (mutant.server(), mutant.client()) {
            (Some(server), _) => (
                "server_handoff",
                Box::new(move |d| fuzzing::server_handoff_with(&server, d)),
            ),
            (_, Some(client)) => (
                "client_handoff",
                Box::new(move |d| fuzzing::client_handoff_with(&client, d)),
            ),
            _ => unreachable!("a mutant is a server or a client"),
        };
        // Its own file, the one `fuzz/detect.sh --save` kept (minimised since
        // with `-minimize_crash=1`), still catches it.
        let own = corpus_dir(target).join(format!("mutant-{}", mutant.name()));
        let data = fs::read(&own).unwrap_or_else(|e| panic!("{}: {e}", own.display()));
        if panic::catch_unwind(AssertUnwindSafe(|| run(&data))).is_ok() {
            uncaught.push(mutant.name());
        }
    }
    assert!(
        uncaught.is_empty(),
        "these mutants pass their own corpus file: {uncaught:?}"
    );
}
