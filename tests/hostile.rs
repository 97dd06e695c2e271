//! The black-box runner against hostile servers: no answer, garbage, an endless
//! head, an endless body, a reset mid-case, a 101 without `Upgrade`, an echo that
//! floods. Each must give a clear `error` or `fail` verdict within the per-case
//! timeout, with capped capture, and the run must go on to the next case.
//!
//! The servers run on threads in this process; every loop that sends is bounded
//! (a byte budget, and a write to a closed socket ends it).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use assert_cmd::Command;

/// How much a flooding server sends at most per connection.
const FLOOD_BUDGET: usize = 64 << 20;

/// Starts `behave` for every connection accepted on a fresh loopback port.
fn hostile(behave: fn(TcpStream)) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || behave(stream));
        }
    });
    addr
}

/// Reads until the end of a request head (or 64 KiB, or an error).
fn read_head(stream: &mut TcpStream) -> Vec<u8> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    head
}

/// Writes `chunk` again and again, up to the budget or until the peer is gone.
fn flood(stream: &mut TcpStream, chunk: &[u8]) {
    let mut sent = 0;
    while sent < FLOOD_BUDGET && stream.write_all(chunk).is_ok() {
        sent += chunk.len();
    }
}

fn no_answer(mut stream: TcpStream) {
    let _ = read_head(&mut stream);
    std::thread::sleep(Duration::from_secs(5));
}

fn garbage(mut stream: TcpStream) {
    let _ = read_head(&mut stream);
    let _ = stream.write_all(b"\x00\xffnot http at all\r\n\r\n");
}

fn endless_head(mut stream: TcpStream) {
    let _ = read_head(&mut stream);
    let _ = stream.write_all(b"HTTP/1.1 101 Switching Protocols\r\nX-Endless: ");
    flood(&mut stream, &[b'a'; 4096]);
}

fn endless_body(mut stream: TcpStream) {
    let _ = read_head(&mut stream);
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    flood(&mut stream, b"1000\r\n");
}

fn reset_mid_case(mut stream: TcpStream) {
    let _ = read_head(&mut stream);
    let _ = stream.write_all(
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n",
    );
    // SO_LINGER 0: close sends RST, not FIN.
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
}

fn no_upgrade_header(mut stream: TcpStream) {
    let head = read_head(&mut stream);
    let end = head
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(head.len(), |p| p + 4);
    let _ = stream.write_all(b"HTTP/1.1 101 Switching Protocols\r\n\r\n");
    let _ = stream.write_all(&head[end..]);
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 || stream.write_all(&buf[..n]).is_err() {
            break;
        }
    }
}

fn flooding_echo(mut stream: TcpStream) {
    let _ = read_head(&mut stream);
    let _ = stream.write_all(
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n",
    );
    flood(&mut stream, &[b'!'; 4096]);
}

/// Runs two cases against `addr` with a 1 s per-case timeout; returns exit code and output.
fn run_against(addr: SocketAddr) -> (i32, String, Duration) {
    let started = Instant::now();
    let out = Command::cargo_bin("hijack-harness")
        .expect("the binary is built")
        .args([
            "run",
            "--server",
            &addr.to_string(),
            "--protocol",
            "echo",
            "--timeout",
            "1000",
            "--cases",
            "handoff.early-data.same-segment.1",
            "--cases",
            "halfclose.client-fin-drains",
        ])
        .timeout(Duration::from_secs(60))
        .output()
        .expect("the binary runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text, started.elapsed())
}

fn assert_clear_verdicts(name: &str, behave: fn(TcpStream)) -> String {
    let (code, text, took) = run_against(hostile(behave));
    println!("--- {name} ({took:?}, exit {code})\n{text}");
    assert_eq!(
        code, 1,
        "{name}: a hostile server must fail the run (exit 1)\n{text}"
    );
    // Both cases got a verdict: the run went on after the first.
    for id in [
        "handoff.early-data.same-segment.1",
        "halfclose.client-fin-drains",
    ] {
        assert!(
            text.lines().any(|l| l.contains(id)
                && (l.contains("FAIL") || l.contains("fail") || l.contains("error"))),
            "{name}: no failing verdict for {id}\n{text}"
        );
    }
    // Two cases of at most a second each, plus start-up: no hang.
    assert!(took < Duration::from_secs(20), "{name}: took {took:?}");
    text
}

#[test]
fn no_answer_is_a_timeout_error() {
    let text = assert_clear_verdicts("no answer", no_answer);
    assert!(text.contains("no complete response head arrived"), "{text}");
}

#[test]
fn garbage_is_a_clear_verdict() {
    assert_clear_verdicts("garbage", garbage);
}

#[test]
fn an_endless_head_is_cut_off() {
    assert_clear_verdicts("endless head", endless_head);
}

#[test]
fn an_endless_body_is_cut_off() {
    assert_clear_verdicts("endless body", endless_body);
}

#[test]
fn a_reset_mid_case_is_a_verdict() {
    assert_clear_verdicts("reset", reset_mid_case);
}

#[test]
fn a_101_without_upgrade_is_a_verdict() {
    let text = assert_clear_verdicts("101 without Upgrade", no_upgrade_header);
    assert!(text.contains("without an Upgrade header"), "{text}");
}

#[test]
fn a_flooding_echo_fails_with_capped_capture() {
    let text = assert_clear_verdicts("flooding echo", flooding_echo);
    assert!(
        text.contains("never sent"),
        "the extra bytes are named\n{text}"
    );
}

// ------------------------------------------------------------------------
// Servers that are wrong in one precise way, each making one black-box check
// fail with its own diagnosis.

use std::net::Shutdown;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Runs the binary with `args`; returns the exit code and everything it printed.
fn harness(args: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("hijack-harness")
        .expect("the binary is built")
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .expect("the binary runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// Reads one request head byte by byte, so that nothing after it is consumed.
fn read_head_exact(stream: &mut TcpStream) -> Vec<u8> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    head
}

/// The value of header `name` in `head`, if any.
fn header<'a>(head: &'a [u8], name: &str) -> Option<&'a str> {
    std::str::from_utf8(head).ok()?.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Echoes every byte until EOF, then shuts down the write half.
fn echo_rest(mut stream: TcpStream) {
    let mut buf = [0u8; 16384];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 || stream.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = stream.shutdown(Shutdown::Write);
}

const SWITCH_ECHO: &[u8] =
    b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n";

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
            && text.contains("\"A server MUST ignore an Upgrade header field that is received in an HTTP/1.0 request\""),
        "{text}"
    );
}

static ALTERNATING: AtomicUsize = AtomicUsize::new(0);

/// Every other connection reads the head through a buffer and then echoes from
/// the raw socket (losing the read-ahead): a server whose verdict changes from
/// one run to the next.
fn alternating(mut stream: TcpStream) {
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
    // The probe takes connection 0; the four repetitions alternate.
    let (code, text) = harness(&["run", "--server", &addr, "--cases", case, "--repeat", "4"]);
    assert_eq!(code, 1, "flaky fails the run\n{text}");
    assert!(text.contains(&format!("FLAKY {case}")), "{text}");
    assert!(text.contains("flaky: 2 pass, 2 fail"), "{text}");
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
fn fin_pending(stream: &TcpStream) -> bool {
    let mut probe = [0u8; 1];
    let _ = stream.set_read_timeout(Some(Duration::from_millis(1)));
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

/// A WebSocket server that answers a Close frame at once, dropping the data
/// frames that came with it (RFC 6455 §5.5.1 lets it: a SHOULD here).
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
    }
    let _ = stream.shutdown(Shutdown::Write);
}

#[test]
fn a_websocket_server_that_closes_before_echoing_is_non_strict() {
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
    assert_eq!(code, 0, "a SHOULD\n{text}");
    assert!(
        text.contains("non-strict websocket.close-after-data")
            && text.contains("point 1 (read side, server): the client sent its Close frame right after its last bytes"),
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
