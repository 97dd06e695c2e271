//! The black-box runner against hostile servers: no answer, garbage, an endless
//! head, an endless body, a reset mid-case, a 101 without `Upgrade`, an echo that
//! floods. Each must give a clear `error` or `fail` verdict within the per-case
//! timeout, with capped capture, and the run must go on to the next case.
//!
//! The servers run on threads in this process; every loop that sends is bounded
//! (a byte budget, and a write to a closed socket ends it).

//!
//! Servers that are wrong in one precise way, each making one black-box check
//! fail with its own diagnosis, are in [`handshake`] (the exchange before the
//! hand-over: body, `100 Continue`, the switching response, refusal) and
//! [`closing`] (repetitions, half-close, WebSocket closing).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
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
// Shared by the servers of the modules below.

#[path = "hostile/closing.rs"]
mod closing;
#[path = "hostile/handshake.rs"]
mod handshake;
#[path = "hostile/precision.rs"]
mod precision;

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
