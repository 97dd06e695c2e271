//! hyper's known findings (README, "Findings"): each regression test asserts that
//! hyper still fails, so that a fix is noticed; and the property that keeps the
//! class the dropped-body findings cover under test.

use std::time::Duration;

use hijack_harness::check::run_server;
use hijack_harness::oracle::Point;
use hijack_harness::scenario::{
    Answer, AnswerWriter, Body, BodyRead, Cut, Handshake, Landmark, Payload, Protocol, Scenario,
    scenario,
};
use hijack_harness::subject::hyper::{HyperServer, HyperServerOptions, ServerMode};
use hijack_harness::subject::reference::ReferenceServer;
use hijack_harness::subject::{ServerHandler, ServerSubject};
use hijack_harness::wire::Recorder;
use proptest::prelude::*;

use super::{server_configs, support};

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
    assert_hyper_still_fails(&Finding {
        // The control: the same case without pipeline_flush conforms.
        control: (s.clone(), HyperServerOptions::default()),
        scenario: s,
        options,
        name: Some("pipeline_flush_loses_101_head"),
        point: Point::Handshake,
        words: "response head",
    });
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
    s.answer = Answer::Refuse(400);
    s.client.half_close = true;
    s.client_cuts = vec![Cut::At(Landmark::MessageEnd, 0)];
    let s = s.normalized();
    let served = HyperServerOptions {
        half_close: true,
        ..HyperServerOptions::default()
    };
    assert_hyper_still_fails(&Finding {
        control: (s.clone(), served),
        scenario: s,
        options: HyperServerOptions::default(),
        name: Some("half_close_false_drops_pipelined_request"),
        point: Point::NoFalseUpgrade,
        words: "pipelined request",
    });
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
    assert_hyper_still_fails(&dropped_body_finding(
        dropped_chunked_body(),
        Some("dropped_body_handed_to_upgrade"),
        Point::ServerRead,
        "of the request body",
    ));
}

/// Finding 3 with a client that waits for `100 Continue` (curl, Apache's
/// mod_proxy): hyper sends the 101 without the 100 (finding 4), the client then
/// sends the body, and all of it reaches the application as new-protocol data.
#[test]
fn finding_dropped_body_reaches_upgrade_from_a_waiting_client() {
    let mut s = dropped_body_with_expect();
    s.client.waits_for_continue = true;
    assert_hyper_still_fails(&dropped_body_finding(
        s.normalized(),
        None,
        Point::ServerRead,
        "10 bytes of the request body",
    ));
}

/// Finding 4 (hyper 1.12.0, every server mode): a 101 to a request with
/// `Expect: 100-continue` and a body the service dropped unread goes out without
/// the `100 Continue` that RFC 9110 §7.8 requires before it. hyper sends the 100
/// only when the body is first polled (hyper#2119), and
/// `Conn::poll_drain_or_close_read` deliberately skips it for a dropped body
/// (hyper#3137), which is right for a final answer but not for a 101.
#[test]
fn finding_dropped_body_skips_100_before_101() {
    assert_hyper_still_fails(&dropped_body_finding(
        dropped_body_with_expect(),
        Some("dropped_body_skips_100_before_101"),
        Point::Handshake,
        "RFC 9110 §7.8",
    ));
}

/// Findings 3 and 4 with hyper's defaults; the control reads the body.
fn dropped_body_finding(
    scenario: Scenario,
    name: Option<&'static str>,
    point: Point,
    words: &'static str,
) -> Finding {
    let mut read = scenario.clone();
    read.server.body_read = BodyRead::All;
    Finding {
        control: (read, HyperServerOptions::default()),
        scenario,
        options: HyperServerOptions::default(),
        name,
        point,
        words,
    }
}

/// A known finding's regression test.
struct Finding {
    /// The case hyper fails.
    scenario: Scenario,
    /// With these options.
    options: HyperServerOptions,
    /// Its name in `HyperServerOptions::known_finding`, when the case is the one
    /// the filter names.
    name: Option<&'static str>,
    /// The point it breaks.
    point: Point,
    /// Words of the diagnosis.
    words: &'static str,
    /// The same case without what sets the finding off, which hyper passes.
    control: (Scenario, HyperServerOptions),
}

/// hyper still fails `finding` in every server mode, with its point and words;
/// the control passes in every mode; the reference passes the case.
fn assert_hyper_still_fails(finding: &Finding) {
    let s = &finding.scenario;
    if let Some(name) = finding.name {
        assert_eq!(finding.options.known_finding(s), Some(name));
    }
    for mode in ServerMode::ALL {
        let hyper = |options: &HyperServerOptions| HyperServer {
            mode,
            options: options.clone(),
        };
        let run = run_server(&hyper(&finding.options), s);
        println!("{mode:?}:\n{}", support::report(&run));
        assert!(
            run.verdict
                .violations
                .iter()
                .any(|v| v.point == finding.point && v.message.contains(finding.words)),
            "{mode:?}: hyper no longer fails this way ({}, {:?}); remove the finding and its \
             filter\n{}",
            finding.point,
            finding.words,
            support::report(&run)
        );
        let (case, options) = &finding.control;
        let control = run_server(&hyper(options), case);
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
