//! hyper 1.x against generated scenarios and configurations, over the in-memory
//! wire and loopback TCP, and differentially against the reference.

mod support;

use std::time::Duration;

use hijack_harness::check::{Run, run_client, run_server};
use hijack_harness::oracle::Point;
use hijack_harness::reference::head;
use hijack_harness::scenario::{
    Answer, AnswerWriter, Body, BodyRead, Handshake, Payload, Protocol, Scenario, scenario,
};
use hijack_harness::subject::hyper::{
    HyperClient, HyperClientOptions, HyperServer, HyperServerOptions, ServerMode, client_options,
    server_options,
};
use hijack_harness::subject::mutants::{Flaw, Mutant};
use hijack_harness::subject::reference::{ReferenceClient, ReferenceServer};
use hijack_harness::subject::{ServerHandler, ServerSubject};
use hijack_harness::wire::{Direction, Recorder};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngAlgorithm, TestRng, TestRunner};

// ---------------------------------------------------------------------------
// the differential comparison

/// What the application and the wire saw after the hand-over, normalised so that
/// two conformant libraries give equal values:
///
/// * the response (or request) head is left out: header order and case, `Date`,
///   the reason phrase and a `100 Continue` are the library's to choose;
/// * after a refusal, only the requests the handler served are compared (the
///   bytes after the head are HTTP responses, with heads of their own);
/// * after a hand-over, every byte the application read and wrote, whether it saw
///   EOF and shut down, every byte the subject's side put on the wire after the
///   head (or request message), and whether a FIN followed them.
#[derive(Debug, PartialEq, Eq)]
struct Observed {
    hijacked: bool,
    requests: Vec<(String, bytes::Bytes)>,
    read: Vec<u8>,
    written: Vec<u8>,
    saw_eof: bool,
    shut_down: bool,
    after_head: Vec<u8>,
    fin: bool,
}

fn observe(run: &Run) -> Observed {
    let app = &run.app;
    let (dir, after_head) = match run.side {
        hijack_harness::wire::Side::Server => {
            let s2c = run.trace.stream(Direction::ServerToClient);
            let end = head::parse_final_response(&s2c)
                .ok()
                .flatten()
                .map_or(s2c.len(), |(_, n)| n);
            (Direction::ServerToClient, s2c[end..].to_vec())
        }
        hijack_harness::wire::Side::Client => {
            let c2s = run.trace.stream(Direction::ClientToServer);
            let end = head::request_message_len(&c2s)
                .ok()
                .flatten()
                .map_or(c2s.len(), |(_, n)| n);
            (Direction::ClientToServer, c2s[end..].to_vec())
        }
    };
    let switched = run.scenario.accepted();
    Observed {
        hijacked: app.hijacked,
        requests: app.requests.clone(),
        read: app.read.clone(),
        written: app.written.clone(),
        saw_eof: app.saw_eof,
        shut_down: app.shut_down,
        after_head: if switched { after_head } else { Vec::new() },
        fin: switched && run.trace.fin(dir).is_some(),
    }
}

/// `Ok` when `subject` and `model` are indistinguishable after normalisation (or
/// either cannot run the case); otherwise both runs, for the message.
fn same(model: &Run, subject: &Run) -> Result<(), String> {
    if model.unsupported.is_some() || subject.unsupported.is_some() {
        return Ok(());
    }
    let (a, b) = (observe(model), observe(subject));
    if a == b {
        return Ok(());
    }
    Err(format!(
        "{} and {} differ:\n{:#?}\n-- {} --\n{:#?}\n-- {} --\n{:#?}\n{}{}",
        model.subject,
        subject.subject,
        subject.scenario,
        model.subject,
        a,
        subject.subject,
        b,
        hijack_harness::wire::text::render(&subject.trace),
        subject.verdict
    ))
}

fn server_differential(
    model: &dyn ServerSubject,
    subject: &dyn ServerSubject,
    s: &Scenario,
) -> Result<(), String> {
    same(&run_server(model, s), &run_server(subject, s))
}

// ---------------------------------------------------------------------------
// configurations (known findings: `HyperServerOptions::known_finding`)

/// hyper's defaults a quarter of the time (what most users run), any configuration otherwise.
fn server_configs() -> impl Strategy<Value = HyperServerOptions> {
    prop_oneof![1 => Just(HyperServerOptions::default()), 3 => server_options()]
}

/// The same for the client.
fn client_configs() -> impl Strategy<Value = HyperClientOptions> {
    prop_oneof![1 => Just(HyperClientOptions::default()), 3 => client_options()]
}

// ---------------------------------------------------------------------------
// properties

proptest! {
    #![proptest_config(support::proptest_config("hyper"))]

    /// hyper's server, reading `Upgraded` itself, under any configuration.
    #[test]
    fn hyper_server_direct_conforms((s, options) in (scenario(), server_configs())) {
        if options.known_finding(&s).is_some() {
            return Ok(());
        }
        let run = run_server(&HyperServer { mode: ServerMode::Direct, options: options.clone() }, &s);
        prop_assert!(run.passed(), "{options:#?}\n{}", support::report(&run));
    }

    /// hyper's server, `Upgraded::downcast` and its `read_buf` first.
    #[test]
    fn hyper_server_downcast_conforms((s, options) in (scenario(), server_configs())) {
        if options.known_finding(&s).is_some() {
            return Ok(());
        }
        let run = run_server(&HyperServer { mode: ServerMode::Downcast, options: options.clone() }, &s);
        prop_assert!(run.passed(), "{options:#?}\n{}", support::report(&run));
    }

    /// hyper-util's `auto::Builder`, HTTP/1 path, with its own `downcast`.
    #[test]
    fn hyper_util_auto_server_conforms((s, options) in (scenario(), server_configs())) {
        if options.known_finding(&s).is_some() {
            return Ok(());
        }
        let run = run_server(&HyperServer { mode: ServerMode::Auto, options: options.clone() }, &s);
        prop_assert!(run.passed(), "{options:#?}\n{}", support::report(&run));
    }

    /// hyper's client, under any configuration.
    #[test]
    fn hyper_client_conforms((s, options) in (scenario(), client_configs())) {
        let run = run_client(&HyperClient { options: options.clone() }, &s);
        prop_assert!(run.passed(), "{options:#?}\n{}", support::report(&run));
    }

    /// The reference and hyper's server, in each mode, deliver the same bytes to
    /// the application and put the same bytes on the wire after the hand-over.
    #[test]
    fn hyper_server_matches_reference((s, options) in (scenario(), server_configs())) {
        if options.known_finding(&s).is_some() {
            return Ok(());
        }
        for mode in ServerMode::ALL {
            let hyper = HyperServer { mode, options: options.clone() };
            if let Err(diff) = server_differential(&ReferenceServer::default(), &hyper, &s) {
                prop_assert!(false, "{options:#?}\n{diff}");
            }
        }
    }

    /// The same for the client.
    #[test]
    fn hyper_client_matches_reference((s, options) in (scenario(), client_configs())) {
        let model = run_client(&ReferenceClient::default(), &s);
        let run = run_client(&HyperClient { options: options.clone() }, &s);
        if let Err(diff) = same(&model, &run) {
            prop_assert!(false, "{options:#?}\n{diff}");
        }
    }
}

/// Scenarios in the class the dropped-body findings cover: an accepted upgrade
/// whose body (with content) the service leaves unread, in part or whole.
fn dropped_body_scenario() -> impl Strategy<Value = Scenario> {
    (scenario(), hijack_harness::scenario::payload()).prop_map(|(mut s, extra)| {
        if !matches!(s.handshake, Handshake::Upgrade(_)) {
            s.handshake = Handshake::Upgrade(Protocol::Echo);
        }
        s.answer = Answer::Accept;
        s.server.writer = AnswerWriter::Library;
        if !s.body.has_content() {
            s.body = Body::Length(Payload::noise(1 + extra.len % 300, 7));
        }
        if s.server.body_read == BodyRead::All {
            s.server.body_read = BodyRead::Nothing;
        }
        s.normalized()
    })
}

/// Whether `violation` is finding 3 or 4 (body bytes handed to the new
/// protocol, marked in the request; a 101 without the `100 Continue`), or, with
/// `pipeline_flush(true)`, finding 1 set off by the body's rest left in hyper's
/// read buffer (the 101 head lost).
fn is_dropped_body_finding(
    options: &HyperServerOptions,
    violation: &hijack_harness::oracle::Violation,
) -> bool {
    use hijack_harness::oracle::{Fault, Mark, Point};
    match violation.point {
        Point::ServerRead => violation.marks.iter().any(|m| {
            matches!(
                m,
                Mark::Bytes {
                    fault: Fault::HandedOver,
                    ..
                }
            )
        }),
        Point::Handshake => {
            violation.message.contains("RFC 9110 §7.8")
                || (options.pipeline_flush && violation.message.contains("response head"))
        }
        _ => false,
    }
}

proptest! {
    #![proptest_config(support::proptest_config("hyper"))]

    /// The properties above skip every unread body (findings 3 and 4 depend on
    /// segments and chunks in ways a filter cannot say exactly); here hyper runs
    /// them all, and every failure must be one of those two findings.
    #[test]
    fn hyper_dropped_bodies_fail_only_as_known((s, options) in (dropped_body_scenario(), server_configs())) {
        if !matches!(
            options.known_finding(&s),
            Some("dropped_body_handed_to_upgrade" | "dropped_body_skips_100_before_101")
        ) {
            // Finding 1's class (pipeline_flush with early bytes) comes first.
            return Ok(());
        }
        for mode in ServerMode::ALL {
            let run = run_server(&HyperServer { mode, options: options.clone() }, &s);
            prop_assert!(
                run.verdict
                    .violations
                    .iter()
                    .all(|v| is_dropped_body_finding(&options, v)),
                "{mode:?} {options:#?}\n{}",
                support::report(&run)
            );
        }
    }
}

/// The differential property can fail: against a mutant that ignores the
/// read-ahead, it finds a scenario where the two differ.
#[test]
fn differential_catches_a_mutant() {
    let mutant = Mutant::Server(Flaw::IgnoresReadAhead)
        .server()
        .expect("a server mutant");
    let hyper = HyperServer::new(ServerMode::Direct);
    let mut runner = TestRunner::new_with_rng(
        ProptestConfig {
            cases: support::cases().max(256),
            failure_persistence: None,
            ..ProptestConfig::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let result = runner.run(&scenario(), |s| {
        server_differential(&hyper, &mutant, &s).map_err(TestCaseError::fail)
    });
    match result {
        Ok(()) => panic!(
            "the differential property did not tell hyper from a mutant that ignores the read-ahead"
        ),
        Err(e) => println!("differential caught the mutant:\n{e}"),
    }
}

// ---------------------------------------------------------------------------
// loopback TCP

/// hyper's server on a real socket: a tokio `TcpListener` on 127.0.0.1:0, the
/// scripted client over a `TcpStream`, the application's record checked after.
#[test]
fn hyper_server_over_tcp() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    for mode in ServerMode::ALL {
        let mut s = Scenario::basic();
        s.client.early = Payload::noise(300, 1);
        s.client.late = Payload::noise(5000, 2);
        s.server.first = Payload::noise(40, 3);
        let (record, served) = rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("address");
            let handler = ServerHandler::new(s.clone(), Recorder::new());
            let subject = HyperServer::new(mode);
            let server = {
                let handler = handler.clone();
                async move {
                    let (stream, _) = listener.accept().await?;
                    stream.set_nodelay(true)?;
                    subject
                        .serve(Box::new(stream), handler)
                        .await
                        .map_err(std::io::Error::other)
                }
            };
            let client = async {
                let stream = tokio::net::TcpStream::connect(addr).await?;
                stream.set_nodelay(true)?;
                hijack_harness::peer::client(stream, &s, &s.messages()).await
            };
            let (served, client) = tokio::time::timeout(Duration::from_secs(10), async {
                tokio::join!(server, client)
            })
            .await
            .expect("the TCP run finished in time");
            client.expect("the scripted client");
            (handler.record(), served)
        });
        served.expect("the hyper server");
        let mut sent = s.client_early().to_vec();
        sent.extend_from_slice(&s.client_late());
        assert!(record.hijacked, "{mode:?}: no hand-over");
        assert_eq!(
            record.read, sent,
            "{mode:?}: the application read other bytes"
        );
        assert!(record.saw_eof, "{mode:?}: no EOF");
        let mut written = s.server_first().to_vec();
        written.extend_from_slice(&sent);
        assert_eq!(record.written, written, "{mode:?}: the echo differs");
        assert!(record.shut_down, "{mode:?}: no shutdown");
    }
}

/// hyper's client on a real socket, against the scripted server on a tokio listener.
#[test]
fn hyper_client_over_tcp() {
    use hijack_harness::subject::{ClientApp, ClientSubject};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut s = Scenario::basic();
    s.server.first = Payload::noise(300, 4);
    s.client.late = Payload::noise(5000, 5);
    let record = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let server = async {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            hijack_harness::peer::server(stream, &s, &s.messages()).await
        };
        let app = ClientApp::new(s.clone(), Recorder::new());
        let client = async {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            HyperClient::default()
                .connect(Box::new(stream), app.clone())
                .await
                .map_err(std::io::Error::other)
        };
        let (served, connected) = tokio::time::timeout(Duration::from_secs(10), async {
            tokio::join!(server, client)
        })
        .await
        .expect("the TCP run finished in time");
        served.expect("the scripted server");
        connected.expect("the hyper client");
        app.record()
    });
    // The scripted server sends the first bytes, then echoes the late ones.
    let mut expected = s.server_first().to_vec();
    expected.extend_from_slice(&s.client_late());
    assert!(record.hijacked, "no hand-over");
    assert_eq!(record.response_status, Some(101));
    assert_eq!(record.read, expected, "the application read other bytes");
    assert!(record.saw_eof, "no EOF");
    assert_eq!(record.written, s.client_late().to_vec());
}

// ---------------------------------------------------------------------------
// throughput

/// Cases per second, hyper next to the reference. Run with
/// `cargo test --release --test hyper -- --ignored --nocapture throughput`.
#[test]
#[ignore]
fn throughput() {
    let config = hijack_harness::properties::Config {
        cases: 2000,
        ..hijack_harness::properties::Config::seeded(3)
    };
    let report = |name: &str,
                  stats: Result<
        hijack_harness::properties::Stats,
        Box<hijack_harness::properties::Counterexample>,
    >| {
        match stats {
            Ok(stats) => println!("{name:<24} {:>9.0} cases/s", stats.per_second()),
            Err(c) => println!("{name:<24} failed: {}", c.run.verdict),
        }
    };
    report(
        "reference server",
        hijack_harness::properties::check_server(&ReferenceServer::default(), &config),
    );
    for mode in ServerMode::ALL {
        report(
            &format!("{mode:?} server"),
            // `half_close(true)`: the default trips finding 2, and a failing check
            // spends its time shrinking.
            hijack_harness::properties::check_server(
                &HyperServer {
                    mode,
                    options: HyperServerOptions {
                        half_close: true,
                        ..HyperServerOptions::default()
                    },
                },
                &config,
            ),
        );
    }
    report(
        "reference client",
        hijack_harness::properties::check_client(&ReferenceClient::default(), &config),
    );
    report(
        "hyper client",
        hijack_harness::properties::check_client(&HyperClient::default(), &config),
    );
}

// ---------------------------------------------------------------------------
// findings: each asserts that hyper still fails, so that a fix is noticed

/// Finding 1 (hyper 1.12.0, every server mode): with `pipeline_flush(true)`, a
/// `101` whose request was followed by new-protocol bytes in the same read is
/// never written. `Buffered::poll_flush` returns `Ready(Ok)` without writing while
/// the read buffer is not empty (it expects more pipelined requests), and on the
/// hand-over `Buffered::into_inner` returns only `(io, read_buf)`: the write buffer
/// holding the `101` head is dropped. The application's first bytes then reach the
/// client where the response head should be.
#[test]
fn finding_pipeline_flush_loses_101_head() {
    let mut s = Scenario::basic();
    s.client.early = Payload::noise(2, 0);
    s.client.half_close = false;
    let options = HyperServerOptions {
        pipeline_flush: true,
        ..HyperServerOptions::default()
    };
    assert_eq!(
        options.known_finding(&s),
        Some("pipeline_flush_loses_101_head")
    );
    for mode in ServerMode::ALL {
        let run = run_server(
            &HyperServer {
                mode,
                options: options.clone(),
            },
            &s,
        );
        println!("{mode:?}:\n{}", support::report(&run));
        assert!(
            run.verdict.breaks(Point::Handshake),
            "{mode:?}: hyper no longer loses the 101 head with pipeline_flush; \
             remove this finding and its filter\n{}",
            support::report(&run)
        );
        // The control: the same case without pipeline_flush conforms.
        let control = run_server(&HyperServer::new(mode), &s);
        assert!(control.passed(), "{}", support::report(&control));
    }
}

/// Finding 2 (hyper 1.12.0, default `half_close(false)`, every server mode): a
/// complete pipelined request after a refused upgrade is never served when it
/// arrives in its own segment and the client half-closes after reading the
/// refusal. hyper parses it, and while it is mid-message with an empty read
/// buffer `Conn::mid_message_detect_eof` reads the FIN and fails the connection
/// with "connection closed before message completed" before the service runs.
/// This is what `half_close(false)` documents ("closing the connection
/// immediately if read detects an EOF in the middle of a request"), but it breaks
/// point 6 as stated: the bytes after the refusal are an HTTP request and must
/// be served. With `half_close(true)` the request is served.
#[test]
fn finding_half_close_false_drops_pipelined_request() {
    let mut s = Scenario::basic();
    s.answer = hijack_harness::scenario::Answer::Refuse(400);
    s.client.half_close = true;
    s.client_cuts = vec![hijack_harness::scenario::Cut::At(
        hijack_harness::scenario::Landmark::MessageEnd,
        0,
    )];
    let s = s.normalized();
    let options = HyperServerOptions::default();
    assert_eq!(
        options.known_finding(&s),
        Some("half_close_false_drops_pipelined_request")
    );
    for mode in ServerMode::ALL {
        let run = run_server(
            &HyperServer {
                mode,
                options: options.clone(),
            },
            &s,
        );
        println!("{mode:?}:\n{}", support::report(&run));
        assert!(
            run.verdict.breaks(Point::NoFalseUpgrade),
            "{mode:?}: hyper now serves the pipelined request; remove this finding and its filter\n{}",
            support::report(&run)
        );
        let control = run_server(
            &HyperServer {
                mode,
                options: HyperServerOptions {
                    half_close: true,
                    ..HyperServerOptions::default()
                },
            },
            &s,
        );
        assert!(control.passed(), "{}", support::report(&control));
        // The reference serves it.
        let reference = run_server(&ReferenceServer::default(), &s);
        assert!(reference.passed(), "{}", support::report(&reference));
    }
}

/// The scenario of finding 3: an upgrade whose chunked body the service drops
/// unread, every byte in one segment with the client's first new-protocol bytes.
fn dropped_chunked_body() -> Scenario {
    let mut s = Scenario::basic();
    s.client.early = Payload::noise(4, 9);
    s.body = Body::Chunked(vec![
        Payload::noise(3, 1),
        Payload::noise(3, 2),
        Payload::noise(3, 3),
    ]);
    s.server.body_read = BodyRead::Nothing;
    s.normalized()
}

/// The scenario of finding 4: an upgrade with `Expect: 100-continue` and a
/// 10-byte body the service drops unread.
fn dropped_body_with_expect() -> Scenario {
    let mut s = Scenario::basic();
    s.client.early = Payload::noise(4, 9);
    s.body = Body::Length(Payload::noise(10, 1));
    s.expect_continue = true;
    s.server.body_read = BodyRead::Nothing;
    s.normalized()
}

/// Finding 3 (hyper 1.12.0, every server mode): when the service drops the
/// request body before its end and answers 101, the rest of the body reaches the
/// upgraded stream. `Dispatcher::poll_read` sees the body's receiver gone and calls
/// `Conn::poll_drain_or_close_read`, which makes one `poll_read_body` and, if the
/// body has not ended, `close_read()`s; with reading closed and the 101 written,
/// `Dispatcher::is_done` holds and `poll_inner` fulfils the pending upgrade with
/// `Conn::into_inner()`, `(io, read_buf)`: the body's rest, in `read_buf` or still
/// in the socket, is the new protocol's first bytes. A chunked body of three
/// chunks is enough: one `poll_read_body` decodes one chunk.
#[test]
fn finding_dropped_body_handed_to_upgrade() {
    assert_hyper_still_fails_dropped_body(
        &dropped_chunked_body(),
        Some("dropped_body_handed_to_upgrade"),
        Point::ServerRead,
        "of the request body",
    );
}

/// Finding 3 with a client that waits for `100 Continue` (curl, Apache's
/// mod_proxy): hyper sends the 101 without the 100 (finding 4), the client then
/// sends the body, and all of it reaches the application as new-protocol data.
#[test]
fn finding_dropped_body_reaches_upgrade_from_a_waiting_client() {
    let mut s = dropped_body_with_expect();
    s.client.waits_for_continue = true;
    assert_hyper_still_fails_dropped_body(
        &s.normalized(),
        None,
        Point::ServerRead,
        "10 bytes of the request body",
    );
}

/// Finding 4 (hyper 1.12.0, every server mode): a 101 to a request with
/// `Expect: 100-continue` and a body the service dropped unread goes out without
/// the `100 Continue` that RFC 9110 §7.8 requires before it. hyper sends the 100
/// only when the body is first polled (hyper#2119), and
/// `Conn::poll_drain_or_close_read` deliberately skips it for a dropped body
/// (hyper#3137), which is right for a final answer but not for a 101.
#[test]
fn finding_dropped_body_skips_100_before_101() {
    assert_hyper_still_fails_dropped_body(
        &dropped_body_with_expect(),
        Some("dropped_body_skips_100_before_101"),
        Point::Handshake,
        "RFC 9110 §7.8",
    );
}

/// Findings 3 and 4: `s` is the finding `name` (when given), hyper with its
/// defaults still fails it in every mode with `point` and a diagnosis containing
/// `words`, the same case with the body read passes (the control), and so does
/// the reference.
fn assert_hyper_still_fails_dropped_body(
    s: &Scenario,
    name: Option<&str>,
    point: Point,
    words: &str,
) {
    let options = HyperServerOptions::default();
    if let Some(name) = name {
        assert_eq!(options.known_finding(s), Some(name));
    }
    for mode in ServerMode::ALL {
        let run = run_server(&HyperServer::new(mode), s);
        println!("{mode:?}:\n{}", support::report(&run));
        assert!(
            run.verdict
                .violations
                .iter()
                .any(|v| v.point == point && v.message.contains(words)),
            "{mode:?}: hyper no longer fails this way ({point}, {words:?}); remove the finding \
             and its filter\n{}",
            support::report(&run)
        );
        let mut read = s.clone();
        read.server.body_read = BodyRead::All;
        let control = run_server(&HyperServer::new(mode), &read);
        assert!(control.passed(), "{}", support::report(&control));
    }
    let reference = run_server(&ReferenceServer::default(), s);
    assert!(reference.passed(), "{}", support::report(&reference));
}

/// Finding 1 on a real socket: over loopback TCP, a request and its early bytes
/// written at once reach hyper in one read, and with `pipeline_flush(true)` the
/// client receives the echo of its early bytes and never a `101`.
#[test]
fn finding_pipeline_flush_loses_101_head_over_tcp() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut s = Scenario::basic();
    s.client.early = Payload::noise(16, 5);
    let received = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let subject = HyperServer {
            mode: ServerMode::Direct,
            options: HyperServerOptions {
                pipeline_flush: true,
                ..HyperServerOptions::default()
            },
        };
        let handler = ServerHandler::new(s.clone(), Recorder::new());
        let server = async move {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            subject
                .serve(Box::new(stream), handler)
                .await
                .map_err(std::io::Error::other)
        };
        let client = async {
            let mut stream = tokio::net::TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let (message, _) = s.request_message();
            let mut out = message.to_vec();
            out.extend_from_slice(&s.client_early());
            stream.write_all(&out).await?;
            stream.shutdown().await?;
            let mut received = Vec::new();
            stream.read_to_end(&mut received).await?;
            Ok::<_, std::io::Error>(received)
        };
        let (served, received) = tokio::time::timeout(Duration::from_secs(10), async {
            tokio::join!(server, client)
        })
        .await
        .expect("the TCP run finished in time");
        served.expect("the hyper server");
        received.expect("the raw client")
    });
    println!(
        "the client received {:?}",
        bytes::Bytes::from(received.clone())
    );
    assert_eq!(
        received,
        s.client_early().to_vec(),
        "hyper no longer loses the 101 head with pipeline_flush over TCP; remove this finding"
    );
}
