//! Servers from issue 25, each wrong (or merely particular) in a way that used
//! to mislead a user: a 101 that breaks a MUST seen by SHOULD cases, a server
//! that dies mid-run, a tunnel that answers nothing, an HTTP/1.0 upgrade
//! answered `101`, a WebSocket endpoint that needs a subprotocol or a header,
//! and WebSocket handshakes with a body.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};

use hijack_harness::websocket::{Frame, OpCode, accept, decode_all};

use super::{harness, header, hostile, read_head_exact};

/// Reads the handshake and answers `101` with `fields` (each ending in CRLF),
/// `Upgrade: websocket` and the right accept. `false` when there was no key.
fn websocket_switch(stream: &mut TcpStream, fields: &str) -> bool {
    let head = read_head_exact(stream);
    let Some(key) = header(&head, "sec-websocket-key") else {
        return false;
    };
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\n{fields}Upgrade: websocket\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        accept(key)
    );
    stream.write_all(answer.as_bytes()).is_ok()
}

/// Echoes every data frame unmasked; answers a Close frame with one and stops.
fn websocket_echo(mut stream: TcpStream) {
    let mut pending = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        let (frames, _) = decode_all(&pending, 1 << 24);
        let used = frames.last().map_or(0, |f| f.range.end);
        let mut out = Vec::new();
        let mut closed = false;
        for f in &frames {
            if f.frame.opcode == OpCode::Close {
                Frame::close(1000, "").encode_into(&mut out);
                closed = true;
                break;
            }
            if !f.frame.opcode.is_control() {
                Frame::new(f.frame.opcode, f.frame.payload.clone())
                    .with_fin(f.frame.fin)
                    .encode_into(&mut out);
            }
        }
        pending.drain(..used);
        if stream.write_all(&out).is_err() || closed {
            break;
        }
    }
    let _ = stream.shutdown(Shutdown::Write);
}

/// A WebSocket echo server whose 101 carries `Connection: close` and no
/// `upgrade` option (RFC 9110 §7.8 MUST), and is right in every other way.
fn connection_close_101(mut stream: TcpStream) {
    if websocket_switch(&mut stream, "Connection: close\r\n") {
        websocket_echo(stream);
    }
}

/// The lines of the text report that give `id` its outcome, as `(outcome, line)`.
fn outcome_of<'a>(text: &'a str, id: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|l| l.split_whitespace().any(|w| w == id))
        .collect()
}

#[test]
fn a_101_that_breaks_a_must_fails_every_case_that_sees_it() {
    let addr = hostile(connection_close_101).to_string();
    let (code, text) = harness(&[
        "run",
        "--server",
        &addr,
        "--protocol",
        "websocket",
        "--cases",
        "websocket.*",
    ]);
    assert_eq!(code, 1, "{text}");
    // The SHOULD cases (frames with the handshake, data then Close) see the
    // same 101 as the MUST one, and fail on it the same way.
    for id in [
        "websocket.early-frames.small",
        "websocket.early-frames.4k",
        "websocket.early-frames.several",
        "websocket.close-after-data",
        "websocket.frame-split",
    ] {
        let lines = outcome_of(&text, id);
        assert!(
            lines.iter().any(|l| l.starts_with(&format!("FAIL {id}"))),
            "{id} fails\n{text}"
        );
    }
    assert!(
        !text.lines().any(|l| l.ends_with("non-strict")),
        "no case is non-strict\n{text}"
    );
    assert!(
        text.contains("this case is a SHOULD, but the answer breaks a MUST"),
        "{text}"
    );
}

/// Serves the probe's request right, then one request losing its read-ahead
/// (read through a buffer, echoed from the socket), then stops listening: a
/// server that crashed on the first repetition of the first case.
///
/// It stops listening as soon as it has that request, before it answers: a
/// listener dropped only after the connection ends races the harness's next
/// connect, which the kernel may complete first (a second repetition that
/// connects and is then reset), and the test would count repetitions by timing.
fn dies_after_one_case() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        let mut requests = 0;
        loop {
            let Ok((mut stream, _)) = listener.accept() else {
                continue;
            };
            // The preflight connects and closes without a byte.
            let mut first = [0u8; 1];
            if !matches!(stream.peek(&mut first), Ok(1)) {
                continue;
            }
            requests += 1;
            if requests == 1 {
                let _ = read_head_exact(&mut stream);
            } else {
                let _ = super::read_head(&mut stream);
            }
            if requests == 2 {
                drop(listener); // from here connections are refused
                let _ = stream.write_all(super::SWITCH_ECHO);
                super::echo_rest(stream);
                return;
            }
            let _ = stream.write_all(super::SWITCH_ECHO);
            super::echo_rest(stream);
        }
    });
    addr
}

#[test]
fn a_server_that_dies_mid_run_is_a_crash_not_flaky() {
    let addr = dies_after_one_case().to_string();
    let (code, text) = harness(&[
        "run",
        "--server",
        &addr,
        "--cases",
        "handoff.early-data.same-segment.small",
        "--cases",
        "handoff.early-data.same-segment.4k",
        "--repeat",
        "5",
    ]);
    assert_eq!(code, 1, "{text}");
    assert!(
        !text.contains("FLAKY") && !text.contains("flaky:") && !text.contains(" flaky"),
        "a crash is not flakiness\n{text}"
    );
    // The first repetition's verdict is kept, with its diagnosis.
    assert!(
        text.lines()
            .any(|l| l.starts_with("FAIL handoff.early-data.same-segment.small")),
        "{text}"
    );
    assert!(text.contains("point 1 (read side, server)"), "{text}");
    assert!(
        text.contains(
            "the server stopped accepting connections after repetition 1 of this case (it may have crashed): \
             the 4 repetitions after it could not connect and are not counted"
        ),
        "{text}"
    );
    // The next case cannot connect, and says where the server stopped.
    assert!(
        text.contains(
            "the server stopped accepting connections after repetition 1 of \
             handoff.early-data.same-segment.small (it may have crashed)"
        ),
        "{text}"
    );
}

/// A plain TCP echo: no response at all, every byte the client sent comes
/// back (a proxy that tunnels to an echo without answering; a harness pointed
/// at the wrong port).
fn raw_echo(stream: TcpStream) {
    super::echo_rest(stream);
}

#[test]
fn a_tunnel_without_a_response_names_the_echoed_bytes_as_the_clients_own() {
    let addr = hostile(raw_echo).to_string();
    let (code, text) = harness(&[
        "run",
        "--server",
        &addr,
        "--timeout",
        "2000",
        "--cases",
        "refused.http10-upgrade-ignored",
    ]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(
            "point 6 (no false upgrade): no response came: the server sent no response head, and the"
        ) && text.contains(
            "are the client's own, echoed from byte 0 of what it sent (its own request head: \"GET / HTTP/1.0"
        ) && text.contains("the connection became a tunnel without a 101"),
        "{text}"
    );
    assert!(!text.contains("does not parse"), "{text}");
}

/// Answers 101 to any upgrade, HTTP/1.0 included, but closes without a word a
/// connection whose request came with bytes after its head (as some servers
/// do with unread bytes before they answer).
fn closes_on_trailing_bytes(mut stream: TcpStream) {
    let _ = read_head_exact(&mut stream);
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(100)));
    let mut next = [0u8; 1];
    if matches!(stream.peek(&mut next), Ok(1)) {
        let _ = stream.shutdown(Shutdown::Both);
        return;
    }
    let _ = stream.set_read_timeout(None);
    let _ = stream.write_all(super::SWITCH_ECHO);
    super::echo_rest(stream);
}

#[test]
fn a_101_to_a_bare_http10_upgrade_fails_also_when_trailing_bytes_close() {
    let addr = hostile(closes_on_trailing_bytes).to_string();
    let (code, text) = harness(&[
        "run",
        "--server",
        &addr,
        "--cases",
        "refused.http10-upgrade-ignored",
    ]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("FAIL refused.http10-upgrade-ignored")),
        "{text}"
    );
    assert!(
        text.contains(
            "to the bare HTTP/1.0 upgrade request (its head alone, nothing after it), the server answered 101 \
             to an HTTP/1.0 request: RFC 9110 §7.8 says \"A server that receives an Upgrade header field in an HTTP/1.0 request MUST ignore that Upgrade field"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "with the pipelined request after its head, the same upgrade request gave pass: the server closed \
             the connection without an answer"
        ),
        "{text}"
    );
}

/// A WebSocket server that wants an `Origin` (403 without one) and echoes
/// only on the subprotocol `echo`; a connection that offers none gets a
/// `welcome` text frame, and nothing it sends is ever echoed.
fn needs_subprotocol(mut stream: TcpStream) {
    let head = read_head_exact(&mut stream);
    let Some(key) = header(&head, "sec-websocket-key") else {
        return;
    };
    if header(&head, "origin") != Some("http://localhost") {
        let _ = stream.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
        return;
    }
    let echo = header(&head, "sec-websocket-protocol") == Some("echo");
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Accept: {}\r\n{}\r\n",
        accept(key),
        if echo {
            "Sec-WebSocket-Protocol: echo\r\n"
        } else {
            ""
        }
    );
    if stream.write_all(answer.as_bytes()).is_err() {
        return;
    }
    if echo {
        websocket_echo(stream);
        return;
    }
    let _ = stream.write_all(&Frame::new(OpCode::Text, &b"welcome"[..]).encode());
    let mut buf = [0u8; 16384];
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
    let _ = stream.shutdown(Shutdown::Write);
}

#[test]
fn a_websocket_server_that_needs_a_subprotocol_and_a_header() {
    let addr = hostile(needs_subprotocol).to_string();
    let run = |more: &[&str]| {
        let mut args = vec![
            "run",
            "--server",
            &addr,
            "--protocol",
            "websocket",
            "--cases",
            "websocket.*",
        ];
        args.extend_from_slice(more);
        harness(&args)
    };
    // Without the subprotocol: one note, every case unsupported, no fail.
    let (code, text) = run(&["--header", "Origin: http://localhost"]);
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("FAIL") && text.contains(" 0 fail"), "{text}");
    assert!(
        text.contains(&format!(
            "every case unsupported on {addr}: the endpoint does not echo: it answered a plain \"GET / HTTP/1.1\" \
             asking for the websocket protocol with 101 Switching Protocols, and sent back none of a plain \
             16-byte message in a binary frame sent after it (it sent a Text frame of its own"
        )) && text.contains("needs --subprotocol NAME"),
        "{text}"
    );
    // With both: the cases run and pass.
    let (code, text) = run(&[
        "--header",
        "Origin: http://localhost",
        "--subprotocol",
        "echo",
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(" 0 fail") && !text.contains(" 0 pass"),
        "{text}"
    );
    // Without the header, the server refuses the handshake: unsupported, said once.
    let (code, text) = run(&["--subprotocol", "echo"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("with 403 Forbidden"), "{text}");
}

#[test]
fn header_and_subprotocol_flags_are_checked() {
    let addr = hostile(needs_subprotocol).to_string();
    let (code, text) = harness(&["run", "--server", &addr, "--subprotocol", "echo"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("add --protocol websocket"), "{text}");
    let (code, text) = harness(&["run", "--server", &addr, "--header", "Upgrade: h2c"]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("the harness writes this field itself"),
        "{text}"
    );
}

/// The length of the request body `head` announces (0 without one; chunked
/// bodies count as 1: there is one).
fn body_len(head: &[u8]) -> usize {
    if header(head, "transfer-encoding").is_some() {
        return 1;
    }
    header(head, "content-length").map_or(0, |v| v.parse().unwrap_or(0))
}

/// A WebSocket server that answers 101 to a handshake with a body without
/// consuming it, reads the body as frames, and closes with 1002.
fn reads_body_as_frames(mut stream: TcpStream) {
    let head = read_head_exact(&mut stream);
    let with_body = body_len(&head) > 0;
    let Some(key) = header(&head, "sec-websocket-key") else {
        return;
    };
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        accept(key)
    );
    if stream.write_all(answer.as_bytes()).is_err() {
        return;
    }
    if !with_body {
        websocket_echo(stream);
        return;
    }
    let _ = stream.write_all(&Frame::close(1002, "").encode());
    let _ = stream.shutdown(Shutdown::Write);
    let mut buf = [0u8; 16384];
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}

/// A WebSocket server whose library writes `400 Bad Request` after its own
/// 101 when the handshake has a body (the hand-over done, the body refused).
fn writes_400_after_101(mut stream: TcpStream) {
    let head = read_head_exact(&mut stream);
    let with_body = body_len(&head) > 0;
    let Some(key) = header(&head, "sec-websocket-key") else {
        return;
    };
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n{}",
        accept(key),
        if with_body {
            "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        } else {
            ""
        }
    );
    if stream.write_all(answer.as_bytes()).is_err() {
        return;
    }
    if !with_body {
        websocket_echo(stream);
        return;
    }
    let _ = stream.shutdown(Shutdown::Write);
    let mut buf = [0u8; 16384];
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}

/// A WebSocket server that consumes a `Content-Length` body (after a `100
/// Continue` when the request expects one) and then echoes frames.
fn consumes_the_body(mut stream: TcpStream) {
    let head = read_head_exact(&mut stream);
    let Some(key) = header(&head, "sec-websocket-key") else {
        return;
    };
    if header(&head, "expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
        && stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err()
    {
        return;
    }
    let mut body = vec![0u8; body_len(&head)];
    if stream.read_exact(&mut body).is_err() {
        return;
    }
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        accept(key)
    );
    if stream.write_all(answer.as_bytes()).is_ok() {
        websocket_echo(stream);
    }
}

/// Runs the WebSocket body and expect cases that use a `Content-Length` body.
fn websocket_body_cases(addr: &str) -> (i32, String) {
    harness(&[
        "run",
        "--server",
        addr,
        "--protocol",
        "websocket",
        "--cases",
        "handoff.body.content-length",
        "--cases",
        "handoff.expect-continue",
        "--cases",
        "expect-continue.client-waits",
    ])
}

#[test]
fn websocket_handshakes_with_a_body_are_judged_by_the_echo_rules() {
    let addr = hostile(consumes_the_body).to_string();
    let (code, text) = websocket_body_cases(&addr);
    assert_eq!(code, 0, "a server that consumes the body passes\n{text}");
    assert!(text.contains("3 pass, 0 fail"), "{text}");

    let addr = hostile(reads_body_as_frames).to_string();
    let (code, text) = websocket_body_cases(&addr);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("FAIL handoff.body.content-length")),
        "{text}"
    );
    assert!(
        text.contains("sent a Close frame with code 1002 (protocol error) after 0 bytes of echo: a server that \
             reads the request body as WebSocket frames finds a protocol error in it"),
        "{text}"
    );

    let addr = hostile(writes_400_after_101).to_string();
    let (code, text) = websocket_body_cases(&addr);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(
            "point 4 (ownership): the server wrote an HTTP response after its own 101, into the new protocol: \
             bytes 0..66 after the 101's head are \"HTTP/1.1 400 Bad Request\" (66 bytes)"
        ),
        "{text}"
    );
}
