//! WebSocket libraries as subjects, judged by the message-level oracle: the
//! properties per library and configuration (256 cases, `PROPTEST_CASES`
//! honoured), the mutants that show the oracle can fail, the findings asserted
//! as findings, and each finding reproduced with the library alone.

use hijack_harness::check::Run;
use hijack_harness::check::websocket::{run_client, run_server};
use hijack_harness::oracle::Point;
use hijack_harness::oracle::websocket::WebSocket;
use hijack_harness::properties::websocket::{check_client, check_server};
use hijack_harness::properties::{Config, Stats, check_drawn};
use hijack_harness::scenario::websocket::{MessageScenario, named, ws_scenario};
use hijack_harness::subject::websocket::actix::{ActixServer, AwcClient};
use hijack_harness::subject::websocket::mutants::MessageMutant;
use hijack_harness::subject::websocket::soketto::{SokettoClient, SokettoServer, known_finding};
use hijack_harness::subject::websocket::tungstenite::{
    TungsteniteClient, TungsteniteServer, options,
};
use hijack_harness::suite::Level;
use proptest::strategy::Strategy;

fn report(name: &str, result: Result<Stats, Box<impl std::fmt::Display>>) {
    match result {
        Ok(s) => eprintln!(
            "{name}: {} cases, {} non-strict, {:.0} cases/s",
            s.cases,
            s.non_strict,
            s.per_second()
        ),
        Err(c) => panic!("{name}: {c}"),
    }
}

fn early_case() -> MessageScenario {
    named::early()
}

fn pong_between_fragments() -> MessageScenario {
    named::pong_between_fragments()
}

fn must(run: &Run<WebSocket>, point: Point, words: &[&str]) {
    let found = run.verdict.violations.iter().find(|v| {
        v.level == Some(Level::Must)
            && v.point == point
            && words.iter().all(|w| v.message.contains(w))
    });
    assert!(
        found.is_some(),
        "expected a {point:?} failure naming {words:?}:\n{run}"
    );
}

// ---------------------------------------------------------------------------
// properties

#[test]
fn tokio_tungstenite_server_accept_async() {
    let strategy = (options(), ws_scenario());
    report(
        "tokio-tungstenite server (accept_async, drawn options)",
        check_drawn(&Config::default(), strategy, |(options, s)| {
            run_server(
                &TungsteniteServer {
                    hdr: false,
                    options: *options,
                },
                s,
            )
        }),
    );
}

#[test]
fn tokio_tungstenite_server_accept_hdr_async() {
    let subject = TungsteniteServer {
        hdr: true,
        ..TungsteniteServer::default()
    };
    report(
        "tokio-tungstenite server (accept_hdr_async)",
        check_server(&subject, &Config::default()),
    );
}

#[test]
fn tokio_tungstenite_client() {
    let strategy = (options(), ws_scenario());
    report(
        "tokio-tungstenite client (drawn options)",
        check_drawn(&Config::default(), strategy, |(options, s)| {
            run_client(&TungsteniteClient { options: *options }, s)
        }),
    );
}

#[test]
fn soketto_server() {
    let strategy =
        ws_scenario().prop_filter("known soketto finding", |s| known_finding(s).is_none());
    report(
        "soketto server",
        check_drawn(&Config::default(), strategy, |s| {
            run_server(&SokettoServer, s)
        }),
    );
}

#[test]
fn soketto_client() {
    let strategy =
        ws_scenario().prop_filter("known soketto finding", |s| known_finding(s).is_none());
    report(
        "soketto client",
        check_drawn(&Config::default(), strategy, |s| {
            run_client(&SokettoClient, s)
        }),
    );
}

#[test]
fn actix_web_actix_ws_server() {
    report(
        "actix-web + actix-ws server",
        check_server(&ActixServer, &Config::default()),
    );
}

#[test]
fn awc_client() {
    report("awc client", check_client(&AwcClient, &Config::default()));
}

// ---------------------------------------------------------------------------
// mutants: the message-level oracle can fail

#[test]
fn mutant_dropping_the_handshake_tail_is_caught() {
    let run = run_client(&MessageMutant::DropsHandshakeTail, &early_case());
    eprintln!("{run}");
    assert!(!run.passed(), "{run}");
    must(
        &run,
        Point::Delivery,
        &["server's message 0", "s>c", "segment #0", "never delivered"],
    );
    // The same library without the flaw keeps them.
    assert!(
        run_client(&TungsteniteClient::default(), &early_case())
            .verdict
            .strict()
    );
    // And the properties find it from generated cases.
    let found = check_client(&MessageMutant::DropsHandshakeTail, &Config::seeded(7))
        .expect_err("the properties must catch the mutant");
    must(&found.run, Point::Delivery, &["message", "never delivered"]);
}

#[test]
fn mutant_delivering_a_message_twice_is_caught() {
    let run = run_server(&MessageMutant::DeliversTwice, &MessageScenario::basic());
    eprintln!("{run}");
    must(
        &run,
        Point::Delivery,
        &["client's message 0", "delivered twice", "c>s"],
    );
    assert!(
        run_server(&TungsteniteServer::default(), &MessageScenario::basic())
            .verdict
            .strict()
    );
    let found = check_server(&MessageMutant::DeliversTwice, &Config::seeded(7))
        .expect_err("the properties must catch the mutant");
    must(&found.run, Point::Delivery, &["delivered twice"]);
}

#[test]
fn mutant_inventing_a_close_is_caught() {
    let run = run_server(&MessageMutant::InventsClose, &MessageScenario::basic());
    must(
        &run,
        Point::Close,
        &["client's close", "delivered before its data"],
    );
    let no_close = MessageScenario {
        close: false,
        ..MessageScenario::basic()
    };
    let run = run_server(&MessageMutant::InventsClose, &no_close);
    must(
        &run,
        Point::Close,
        &["given a close (as delivery 0)", "never sent"],
    );
}

#[test]
fn mutant_dropping_the_first_send_is_caught() {
    let run = run_server(&MessageMutant::DropsFirstSend, &MessageScenario::basic());
    must(
        &run,
        Point::Writes,
        &["server application's message 0", "never reached the wire"],
    );
}

#[test]
fn mutant_sending_an_unasked_pong_is_caught() {
    let run = run_server(&MessageMutant::SendsUnaskedPong, &MessageScenario::basic());
    must(
        &run,
        Point::MessageOwnership,
        &["a pong", "answers no ping", "s>c"],
    );
    let found = check_server(&MessageMutant::SendsUnaskedPong, &Config::seeded(7))
        .expect_err("the properties must catch the mutant");
    must(&found.run, Point::MessageOwnership, &["pong"]);
}

// ---------------------------------------------------------------------------
// findings and non-strict behaviour

/// soketto 0.8.1 loses a fragmented message with a pong between its fragments
/// (`docs/src/findings/soketto.md`): asserted on both sides, so a fix is noticed.
#[test]
fn finding_soketto_pong_between_fragments_loses_the_message() {
    let s = pong_between_fragments();
    assert_eq!(
        known_finding(&s),
        Some("soketto_pong_between_fragments_loses_the_message")
    );
    let server = run_server(&SokettoServer, &s);
    eprintln!("{server}");
    must(
        &server,
        Point::Delivery,
        &["client's message 0", "2 frames", "never delivered"],
    );
    assert!(
        server.app.error.as_deref() == Some("unexpected opcode: Continue"),
        "{server}"
    );
    let client = run_client(&SokettoClient, &s);
    must(
        &client,
        Point::Delivery,
        &["server's message 0", "never delivered"],
    );
    // Every other library delivers it.
    assert!(
        run_server(&TungsteniteServer::default(), &s)
            .verdict
            .strict()
    );
    assert!(run_server(&ActixServer, &s).verdict.strict());
    assert!(
        run_client(&TungsteniteClient::default(), &s)
            .verdict
            .strict()
    );
    assert!(run_client(&AwcClient, &s).verdict.strict());
}

/// The finding with soketto alone: three raw frames over a tokio duplex, no harness code.
#[tokio::test]
async fn soketto_pong_between_fragments_minimal_reproduction() {
    use tokio::io::AsyncWriteExt;
    use tokio_util::compat::TokioAsyncReadCompatExt;
    let (mut peer, socket) = tokio::io::duplex(1024);
    // Masked client frames with a zero mask: binary "a" (no FIN), pong, continuation "b" (FIN).
    let frames = [
        0x02, 0x81, 0, 0, 0, 0, b'a', 0x8a, 0x80, 0, 0, 0, 0, 0x80, 0x81, 0, 0, 0, 0, b'b',
    ];
    peer.write_all(&frames).await.unwrap();
    let builder =
        soketto::connection::Builder::new(socket.compat(), soketto::connection::Mode::Server);
    let (_sender, mut receiver) = builder.finish();
    let mut message = Vec::new();
    let first = receiver.receive(&mut message).await.unwrap();
    assert!(first.is_pong(), "{first:?}");
    let second = receiver.receive(&mut message).await;
    assert!(
        matches!(
            second,
            Err(soketto::connection::Error::UnexpectedOpCode(
                soketto::base::OpCode::Continue
            ))
        ),
        "soketto no longer loses the message: {second:?}"
    );
}

/// tungstenite's server refuses a client's frames sent with its request
/// (`JunkAfterRequest`): allowed by RFC 6455 §4.1, so `non-strict`, not a failure.
#[test]
fn tungstenite_server_refuses_frames_sent_with_the_request() {
    let run = run_server(&TungsteniteServer::default(), &early_case());
    eprintln!("{run}");
    assert!(run.passed() && !run.verdict.strict(), "{run}");
    assert!(
        run.verdict.breaks_at(Point::Handshake, Level::Should),
        "{run}"
    );
    assert!(
        run.subject_error
            .as_deref()
            .is_some_and(|e| e.contains("Junk after client request")),
        "{run}"
    );
}

/// soketto's server answers 101 and then loses a client's frames sent with its
/// request (`send_response` clears the buffer): a missed SHOULD, `non-strict`.
#[test]
fn soketto_server_loses_frames_sent_with_the_request() {
    let run = run_server(&SokettoServer, &early_case());
    eprintln!("{run}");
    assert!(run.passed() && !run.verdict.strict(), "{run}");
    assert!(
        run.verdict.breaks_at(Point::Delivery, Level::Should),
        "{run}"
    );
    // The second message, sent after the 101, is delivered.
    assert_eq!(run.app.data().count(), 1, "{run}");
}

/// actix keeps the frames sent with the request: they are its read buffer, fed to the payload.
#[test]
fn actix_server_keeps_frames_sent_with_the_request() {
    assert!(run_server(&ActixServer, &early_case()).verdict.strict());
}

/// Every client library keeps the frames a server sends with its 101 (a MUST).
#[test]
fn clients_keep_frames_sent_with_the_101() {
    for run in [
        run_client(&TungsteniteClient::default(), &early_case()),
        run_client(&SokettoClient, &early_case()),
        run_client(&AwcClient, &early_case()),
    ] {
        assert!(run.verdict.strict(), "{run}");
    }
}
