//! hyper 1.x against generated scenarios and configurations, over the in-memory
//! wire and loopback TCP, and differentially against the reference.

#[path = "hyper/findings.rs"]
mod findings;
mod support;

use std::time::Duration;

use hijack_harness::check::{Run, run_client, run_server};
use hijack_harness::reference::head;
use hijack_harness::scenario::{Payload, Scenario, scenario};
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
