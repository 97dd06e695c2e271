//! Servers wrong in the exchange before the hand-over: a body handed over, the
//! switching response, a target that does not speak the protocol, refusal, an
//! upgrade with a body ignored, `100 Continue` for a client that waits for it.

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{SWITCH_ECHO, echo_rest, harness, header, hostile, read_head_exact};

/// Answers 101 as soon as the head is in and echoes from the socket: the
/// request body (never read) is handed over; `Expect: 100-continue` gets no 100.
/// Go handlers that never read `r.Body`, Node's `'upgrade'` `head`.
fn never_reads_body(mut stream: TcpStream) {
    let _ = read_head_exact(&mut stream);
    let _ = stream.write_all(SWITCH_ECHO);
    echo_rest(stream);
}

#[test]
fn a_server_that_never_reads_the_body_hands_it_over() {
    let addr = hostile(never_reads_body).to_string();
    let (code, text) = harness(&[
        "run",
        "--server",
        &addr,
        "--cases",
        "handoff.body.*",
        "--cases",
        "handoff.expect-continue",
    ]);
    assert_eq!(code, 1, "{text}");
    for diagnosis in [
        "point 1 (read side, server): the server echoed 124 bytes of the 24 bytes the client sent after \
         the request: the server handed over before consuming the request body: echo bytes 0..100 are the \
         Content-Length body",
        "echo bytes 0..76 are the chunked body, with its chunk framing",
        "echo bytes 0..5 are the empty chunked body's last chunk `0\\r\\n\\r\\n`",
        "the request carried `Expect: 100-continue` and the server sent 101 with no 100 before it: \
         RFC 9110 §7.8: \"If a server receives both an Upgrade and an Expect header field",
    ] {
        assert!(text.contains(diagnosis), "missing {diagnosis:?}\n{text}");
    }
    assert!(
        !text.contains("never sent"),
        "the body is named, not called extra\n{text}"
    );
}

fn no_connection_in_101(mut stream: TcpStream) {
    let _ = read_head_exact(&mut stream);
    let _ = stream.write_all(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\n\r\n");
    echo_rest(stream);
}

fn length_in_101(mut stream: TcpStream) {
    let _ = read_head_exact(&mut stream);
    let _ = stream.write_all(
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\nContent-Length: 0\r\n\r\n",
    );
    echo_rest(stream);
}

#[test]
fn the_switching_response_itself_is_checked() {
    let one = ["--cases", "handoff.early-data.same-segment.1"];
    let addr = hostile(no_connection_in_101).to_string();
    let (code, text) = harness(&[&["run", "--server", &addr][..], &one].concat());
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("handshake: the 101 has no `Connection: upgrade`: RFC 9110 §7.8 says \"When Upgrade is sent"),
        "{text}"
    );
    let addr = hostile(length_in_101).to_string();
    let (code, text) = harness(&[&["run", "--server", &addr][..], &one].concat());
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("the 101 carries `content-length: 0`: RFC 9110 §8.6: \"A server MUST NOT send a Content-Length"),
        "{text}"
    );
}

static REFUSER_CONNECTIONS: AtomicUsize = AtomicUsize::new(0);

/// Speaks HTTP, not the echo protocol: 426 to every upgrade.
fn refuses_everything(mut stream: TcpStream) {
    REFUSER_CONNECTIONS.fetch_add(1, Ordering::SeqCst);
    let _ = read_head_exact(&mut stream);
    let _ = stream.write_all(
        b"HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\nContent-Length: 0\r\n\r\n",
    );
}

#[test]
fn a_target_that_does_not_speak_the_protocol_is_unsupported_once() {
    let addr = hostile(refuses_everything).to_string();
    let (code, text) = harness(&["run", "--server", &addr]);
    assert_eq!(code, 0, "unsupported is not a failure\n{text}");
    assert!(!text.contains("FAIL"), "{text}");
    assert!(
        text.contains("0 fail") && text.contains("0 pass"),
        "every case is unsupported\n{text}"
    );
    assert!(
        text.contains(&format!(
            "every case unsupported on {addr}: the target does not speak echo"
        )),
        "the reason is said once\n{text}"
    );
    let (_, json) = {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        let (code, _) = harness(&["run", "--server", &addr, "--json", path.to_str().unwrap()]);
        (code, std::fs::read_to_string(path).unwrap())
    };
    assert!(
        json.contains("the target does not speak echo: it answered a plain \\\"GET / HTTP/1.1\\\" asking for the echo protocol with 426 Upgrade Required"),
        "{json}"
    );
    // Detected once per run: two runs of 30 cases made two connections each
    // (the preflight that checks something listens, and the probe); no case connected.
    assert_eq!(REFUSER_CONNECTIONS.load(Ordering::SeqCst), 4);
}

/// Switches to whatever it is offered, even in HTTP/1.0, and echoes correctly.
fn switches_to_anything(mut stream: TcpStream) {
    let head = read_head_exact(&mut stream);
    let token = header(&head, "upgrade").unwrap_or("echo").to_string();
    let _ = stream.write_all(
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: {token}\r\n\r\n"
        )
        .as_bytes(),
    );
    echo_rest(stream);
}

#[test]
fn refusal_is_tested_where_the_rfc_demands_it() {
    let addr = hostile(switches_to_anything).to_string();
    let (code, text) = harness(&[
        "run",
        "--server",
        &addr,
        "--cases",
        "refused.*",
        "--json",
        "/dev/stdout",
    ]);
    assert_eq!(code, 1, "{text}");
    // Switching to an offered token is allowed: the refusal case cannot be tested.
    assert!(
        text.contains("refused.no-hand-over") && text.contains("unsupported"),
        "{text}"
    );
    assert!(
        text.contains("switches to any token it is offered"),
        "{text}"
    );
    // An HTTP/1.0 upgrade is a MUST to ignore.
    assert!(
        text.contains("FAIL refused.http10-upgrade-ignored")
            && text.contains("\"A server that receives an Upgrade header field in an HTTP/1.0 request MUST ignore that Upgrade field\""),
        "{text}"
    );
}

/// Ignores `Upgrade` on a request with a body (as HAProxy 2.6 strips it): `200`,
/// then closes. Allowed by RFC 9110 §7.8.
fn ignores_upgrade_with_body(mut stream: TcpStream) {
    let head = read_head_exact(&mut stream);
    if header(&head, "content-length").is_some() || header(&head, "transfer-encoding").is_some() {
        let _ =
            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    }
    let _ = stream.write_all(SWITCH_ECHO);
    echo_rest(stream);
}

/// Answers `200` to a request with a body, and echoes what follows anyway.
fn hands_over_on_200(mut stream: TcpStream) {
    let head = read_head_exact(&mut stream);
    let body = header(&head, "content-length").is_some();
    let answer: &[u8] = if body {
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    } else {
        SWITCH_ECHO
    };
    let _ = stream.write_all(answer);
    echo_rest(stream);
}

#[test]
fn a_refused_upgrade_with_a_body_is_unsupported_unless_it_hands_over() {
    let addr = hostile(ignores_upgrade_with_body).to_string();
    let args = [
        "--cases",
        "handoff.body.content-length",
        "--json",
        "/dev/stdout",
    ];
    let (code, text) = harness(&[&["run", "--server", &addr][..], &args].concat());
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("\"outcome\": \"unsupported\"")
            && text.contains("it did not switch, which RFC 9110 §7.8 allows"),
        "{text}"
    );
    let addr = hostile(hands_over_on_200).to_string();
    let (code, text) = harness(&[&["run", "--server", &addr][..], &args].concat());
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("point 6 (no false upgrade): the server answered 200 OK and then echoed the bytes sent after the request raw"),
        "{text}"
    );
}

/// Reads the `Content-Length` body after `head` from `stream`, byte by byte.
fn read_body(stream: &mut TcpStream, head: &[u8]) {
    let length: usize = header(head, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    let _ = std::io::Read::read_exact(stream, &mut body);
}

/// Reads the whole body before it sends `100 Continue` (and then 101): a client
/// that waits for the 100 before sending the body waits in vain.
fn continues_after_the_body(mut stream: TcpStream) {
    let head = read_head_exact(&mut stream);
    read_body(&mut stream, &head);
    let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    let _ = stream.write_all(SWITCH_ECHO);
    echo_rest(stream);
}

/// `100 Continue` as soon as the head is in, then the body is read, then 101.
fn continues_at_once(mut stream: TcpStream) {
    let head = read_head_exact(&mut stream);
    if header(&head, "expect").is_some() {
        let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    read_body(&mut stream, &head);
    let _ = stream.write_all(SWITCH_ECHO);
    echo_rest(stream);
}

#[test]
fn a_client_that_waits_for_100_continue_is_served_by_a_correct_server_only() {
    let cases = ["--cases", "expect-continue.*"];
    let addr = hostile(continues_at_once).to_string();
    let (code, text) = harness(&[&["run", "--server", &addr][..], &cases].concat());
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("2 results: 2 pass"), "{text}");
    let addr = hostile(continues_after_the_body).to_string();
    let (code, text) = harness(&[&["run", "--server", &addr][..], &cases].concat());
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("FAIL expect-continue.client-waits")
            && text.contains(
                "waited for `100 Continue` before its body; the server sent nothing until the body came: \
                 RFC 9110 §10.1.1 says \"An origin server MUST NOT wait for the content before sending the \
                 100 (Continue) response\""
            ),
        "{text}"
    );
    // Everything else about that server is right: the body was consumed.
    assert!(!text.contains("point 1"), "{text}");
}

/// Switches to `echo` whatever it was asked for, as moby's attach switches to
/// `tcp` whenever a request carries any `Upgrade` header.
fn switches_to_its_own_protocol(mut stream: TcpStream) {
    let _ = read_head_exact(&mut stream);
    let _ = stream.write_all(SWITCH_ECHO);
    echo_rest(stream);
}

#[test]
fn a_switch_to_a_protocol_the_client_did_not_offer_fails() {
    let addr = hostile(switches_to_its_own_protocol).to_string();
    let (code, text) = harness(&["run", "--server", &addr, "--cases", "refused.no-hand-over"]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(
            "handshake: the 101 switches to `echo`, which the request did not offer (it asked for \
             `Upgrade: hijack-harness-unknown`): RFC 9110 §7.8 says \"A server MUST NOT switch to a protocol \
             that was not indicated by the client in the corresponding request's Upgrade header field\""
        ),
        "{text}"
    );
}
