//! Servers wrong in how a connection ends, or from one run to the next:
//! disagreeing repetitions, bytes lost on the client's FIN, a tunnel that
//! closes both ways, a WebSocket server that answers the Close first.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use super::{SWITCH_ECHO, echo_rest, harness, header, hostile, read_head, read_head_exact};

static ALTERNATING: AtomicUsize = AtomicUsize::new(0);

/// Every other request is read through a buffer and then echoed from the raw
/// socket (losing the read-ahead): a server whose verdict changes from one run
/// to the next.
///
/// Only connections that carry a request count. The preflight connects and
/// closes without a byte, and its thread may run after the next connection's:
/// counting it made the parity a race (3 fail, 1 pass on a loaded machine).
/// Requests come one at a time, each answered before the next connects, so
/// their order is the count's.
fn alternating(mut stream: TcpStream) {
    let mut first = [0u8; 1];
    if !matches!(stream.peek(&mut first), Ok(1)) {
        return;
    }
    if ALTERNATING.fetch_add(1, Ordering::SeqCst) % 2 == 1 {
        let _ = read_head(&mut stream);
    } else {
        let _ = read_head_exact(&mut stream);
    }
    let _ = stream.write_all(SWITCH_ECHO);
    echo_rest(stream);
}

#[test]
fn disagreeing_repetitions_are_flaky_with_their_counts() {
    let addr = hostile(alternating).to_string();
    let case = "handoff.early-data.same-segment.small";
    // The probe's request is number 0 (read exactly); the four repetitions
    // alternate from number 1 (buffered: the first run fails).
    let (code, text) = harness(&["run", "--server", &addr, "--cases", case, "--repeat", "4"]);
    assert_eq!(code, 1, "flaky fails the run\n{text}");
    assert!(text.contains(&format!("FLAKY {case}")), "{text}");
    assert!(text.contains("flaky: 2 fail, 2 pass"), "{text}");
    assert!(
        text.contains("point 1 (read side, server)"),
        "the failing run's diagnosis\n{text}"
    );
    // Expected to be flaky: no change, exit 0.
    let dir = tempfile::tempdir().unwrap();
    let expect = dir.path().join("expected.txt");
    std::fs::write(&expect, format!("{case} {addr} server flaky\n")).unwrap();
    let (code, text) = harness(&[
        "run",
        "--server",
        &addr,
        "--cases",
        case,
        "--repeat",
        "4",
        "--expect",
        expect.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{text}");
}

/// Whether the peer's FIN is already waiting behind the bytes just read: the
/// "data and EOF in one wake-up" that makes nginx end a tunnel at once.
/// (A read timeout, not non-blocking mode: that flag is shared with the clone
/// the other thread writes through.)
///
/// How long to wait sits between two clocks of the harness's scripted client:
/// in `halfclose.*` it sends its FIN right after its last bytes, and on a loaded
/// machine "right after" was once more than the 1 ms this waited before (the
/// stub then echoed what it should have lost); in the other cases it waits at
/// least 25 ms (`MIN_ECHO_WAIT`) for an echo before its FIN, so a wait that long
/// loses every case's bytes.
const FIN_WAIT: Duration = Duration::from_millis(8);

fn fin_pending(stream: &TcpStream) -> bool {
    let mut probe = [0u8; 1];
    let _ = stream.set_read_timeout(Some(FIN_WAIT));
    let eof = matches!(stream.peek(&mut probe), Ok(0));
    let _ = stream.set_read_timeout(None);
    eof
}

/// Copies `from` into `to` until `closing` is set (or either end fails).
fn copy_until_closing(mut from: TcpStream, mut to: TcpStream, closing: Arc<AtomicBool>) {
    let mut buf = [0u8; 16384];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || closing.load(Ordering::SeqCst) || to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Reads `client` and forwards to `to`; when the client's FIN came with its last
/// bytes, marks `closing` before forwarding them (so nothing answering them is
/// passed back: nginx's upgrade tunnel, deterministically), then closes both.
fn forward_until_fin(mut client: TcpStream, mut to: TcpStream, closing: &AtomicBool) {
    let mut buf = [0u8; 16384];
    while let Ok(n) = client.read(&mut buf) {
        if n == 0 {
            closing.store(true, Ordering::SeqCst);
            break;
        }
        let fin = fin_pending(&client);
        if fin {
            closing.store(true, Ordering::SeqCst);
        }
        if to.write_all(&buf[..n]).is_err() || fin {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = client.shutdown(Shutdown::Both);
}

/// A server that echoes, but when the client's FIN comes with its last bytes
/// closes without echoing them: the bytes in flight are lost. Everything else
/// is echoed before the next read, so only a FIN with data can cost bytes.
fn loses_bytes_on_fin(mut stream: TcpStream) {
    let _ = read_head_exact(&mut stream);
    let _ = stream.set_nodelay(true);
    let _ = stream.write_all(SWITCH_ECHO);
    let mut buf = [0u8; 16384];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 || fin_pending(&stream) || stream.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
}

#[test]
fn a_server_that_loses_in_flight_bytes_on_fin_fails_half_close_only() {
    let addr = hostile(loses_bytes_on_fin).to_string();
    let (code, text) = harness(&[
        "run",
        "--server",
        &addr,
        "--cases",
        "handoff.early-data.*",
        "--cases",
        "halfclose.client-fin-drains",
    ]);
    assert_eq!(code, 1, "{text}");
    let failed: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("FAIL "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        failed,
        ["halfclose.client-fin-drains"],
        "one point per case\n{text}"
    );
    assert!(
        text.contains(
            "point 5 (half-close): the client half-closed (FIN) right after its last bytes"
        ),
        "the diagnosis names the FIN\n{text}"
    );
}

/// An upgrade proxy to `--upstream`: forwards the head, then copies both ways;
/// on the client's FIN it closes both connections at once (RFC 9110 §9.3.6
/// allows an intermediary this).
fn tunnel_closing_both(mut client: TcpStream, upstream: SocketAddr) {
    let head = read_head_exact(&mut client);
    let Ok(mut up) = TcpStream::connect(upstream) else {
        return;
    };
    let _ = (up.set_nodelay(true), client.set_nodelay(true));
    if up.write_all(&head).is_err() {
        return;
    }
    let (Ok(up_reader), Ok(client_writer)) = (up.try_clone(), client.try_clone()) else {
        return;
    };
    let closing = Arc::new(AtomicBool::new(false));
    let back = {
        let closing = closing.clone();
        std::thread::spawn(move || copy_until_closing(up_reader, client_writer, closing))
    };
    forward_until_fin(client, up, &closing);
    let _ = back.join();
}

#[test]
fn a_tunnel_that_closes_both_on_fin_is_non_strict_with_the_rfc_quoted() {
    let upstream = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let proxy = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || tunnel_closing_both(stream, upstream));
        }
    });
    let (code, text) = harness(&[
        "run",
        "--proxy",
        &proxy.to_string(),
        "--via",
        "upgrade",
        "--upstream",
        &upstream.to_string(),
        "--cases",
        "handoff.early-data.*",
        "--cases",
        "halfclose.client-fin-drains",
    ]);
    assert_eq!(code, 0, "a missed SHOULD does not fail the run\n{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("halfclose.client-fin-drains") && l.ends_with("non-strict")),
        "{text}"
    );
    assert!(
        !text.contains("FAIL"),
        "every early-data case passes\n{text}"
    );
    assert!(
        text.contains(
            "the client half-closed (FIN) right after its last bytes, and the proxy closed"
        ),
        "{text}"
    );
    assert!(
        text.contains("\"the intermediary MUST attempt to send any outstanding data that came from the closed side \
                       to the other side, close both connections, and then discard any remaining data left undelivered\""),
        "{text}"
    );
}

/// A WebSocket server whose `Sec-WebSocket-Accept` is not the key's.
fn wrong_accept(mut stream: TcpStream) {
    let _ = read_head_exact(&mut stream);
    let _ = stream.write_all(
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
          Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
    );
    echo_rest(stream);
}

#[test]
fn a_wrong_websocket_accept_fails_the_handshake() {
    let addr = hostile(wrong_accept).to_string();
    let (code, text) = harness(&[
        "run",
        "--server",
        &addr,
        "--protocol",
        "websocket",
        "--cases",
        "ownership.nothing-after-hijack",
    ]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(
            "handshake: Sec-WebSocket-Accept is Some(\"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\") for the key"
        ) && text.contains("RFC 6455 §4.2.2 requires"),
        "{text}"
    );
}

/// A WebSocket server that answers a Close frame at once, echoing none of the
/// data frames that came with it (RFC 6455 §5.5.1 lets it: python-websockets
/// does, after handing the messages to its application). Data frames that come
/// without a Close are echoed (the probe's plain message is).
fn closes_before_echoing(mut stream: TcpStream) {
    let head = read_head_exact(&mut stream);
    let key = header(&head, "sec-websocket-key").unwrap_or("").to_string();
    let _ = stream.write_all(
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Accept: {}\r\n\r\n",
            hijack_harness::websocket::accept(&key)
        )
        .as_bytes(),
    );
    let mut pending = Vec::new();
    let mut buf = [0u8; 16384];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        pending.extend_from_slice(&buf[..n]);
        let (frames, _) = hijack_harness::websocket::decode_all(&pending, 1 << 20);
        if frames
            .iter()
            .any(|f| f.frame.opcode == hijack_harness::websocket::OpCode::Close)
        {
            let close = hijack_harness::websocket::Frame::close(1000, "").encode();
            let _ = stream.write_all(&close);
            break;
        }
        if let Some(last) = frames.last() {
            let mut echo = Vec::new();
            for f in &frames {
                hijack_harness::websocket::Frame::new(f.frame.opcode, f.frame.payload.clone())
                    .encode_into(&mut echo);
            }
            let _ = stream.write_all(&echo);
            pending.drain(..last.range.end);
        }
    }
    let _ = stream.shutdown(Shutdown::Write);
}

#[test]
fn a_websocket_server_that_answers_the_close_first_is_unsupported_with_the_rfc_quoted() {
    let addr = hostile(closes_before_echoing).to_string();
    let (code, text) = harness(&[
        "run",
        "--server",
        &addr,
        "--protocol",
        "websocket",
        "--cases",
        "websocket.close-after-data",
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("unsupported websocket.close-after-data")
            && text.contains(
                "the server answered the client's Close frame before echoing the messages sent with it (0 bytes \
                 of the 200 bytes came back), which RFC 6455 §5.5.1 lets it do"
            ),
        "{text}"
    );
}
