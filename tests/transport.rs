//! The transport layer end to end over loopback: TLS with a throw-away CA,
//! the ways a handshake goes wrong and what the user is told, TLS over a Unix
//! socket and on non-`127.0.0.1` loopback, and the property pacing needs from
//! TLS: one paced write is one TLS record in one segment, and a cut starts a
//! new record after the pause (checked in a raw capture under the TLS layer).

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use hijack_harness::wire::tcp::{CUT_PAUSE, Capture, DEFAULT_CAP, Paced, Recording};
use hijack_harness::wire::transport::{
    Address, ClientTls, Endpoint, Listener, ServerTls, TlsClientOptions, TransportError, connect,
};
use hijack_harness::wire::{Direction, Recorder};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

const TIMEOUT: Duration = Duration::from_secs(5);

/// A TLS listener on `endpoint` with a throw-away CA written into `dir`.
async fn tls_listener(endpoint: &str, dir: &Path) -> (Listener, PathBuf) {
    let ca = dir.join("ca.pem");
    let names = ["localhost", "127.0.0.1", "127.0.0.2", "::1"].map(String::from);
    let tls = ServerTls::self_signed(&names, &ca).expect("a throw-away certificate");
    let endpoint = Endpoint::parse(endpoint).expect("endpoint");
    let listener = Listener::bind(&endpoint, Some(tls)).await.expect("bind");
    (listener, ca)
}

/// Echoes on every connection until EOF, then half-closes. Connections whose
/// handshake fails (the resolver's probe, the clients that refuse the
/// certificate) are dropped. Stops when the test drops the handle's runtime.
fn serve_echo(listener: Listener) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        for _ in 0..32 {
            let Ok(accepted) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let Ok(mut stream) = accepted.establish(TIMEOUT).await else {
                    return;
                };
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = stream.read(&mut buf).await {
                    if stream.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
                let _ = stream.shutdown().await;
            });
        }
    })
}

fn client_tls(endpoint: &str, ca: Option<&Path>, sni: Option<&str>, insecure: bool) -> ClientTls {
    let options = TlsClientOptions {
        ca: ca.map(Path::to_path_buf),
        insecure,
        sni: sni.map(String::from),
    };
    ClientTls::new(&options, &Endpoint::parse(endpoint).expect("endpoint")).expect("client config")
}

/// Connects, sends `ping`, half-closes, and reads the echo to the end.
async fn ping(address: &Address, tls: &ClientTls) -> Result<Vec<u8>, TransportError> {
    let mut stream = connect(address, Some(tls), TIMEOUT).await?;
    stream.write_all(b"ping").await.expect("write");
    stream.shutdown().await.expect("half-close");
    let mut back = Vec::new();
    stream.read_to_end(&mut back).await.expect("read");
    Ok(back)
}

async fn resolve(endpoint: &str) -> Address {
    Endpoint::parse(endpoint)
        .expect("endpoint")
        .resolve(TIMEOUT)
        .await
        .expect("resolves to a listening address")
}

fn port(listener: &Listener) -> u16 {
    match listener.address() {
        Address::Tcp(addr) => addr.port(),
        Address::Unix(_) => panic!("a TCP listener"),
    }
}

#[tokio::test]
async fn tls_with_a_throwaway_ca_echoes_after_a_half_close() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (listener, ca) = tls_listener("127.0.0.1:0", dir.path()).await;
    let endpoint = format!("localhost:{}", port(&listener));
    let server = serve_echo(listener);
    let address = resolve(&endpoint).await;
    assert!(address.is_local());
    // By name, as a user types it: `localhost` is checked against the certificate.
    let tls = client_tls(&endpoint, Some(&ca), None, false);
    assert_eq!(tls.describe(), "TLS to localhost, certificate verified");
    // The echo comes back after the client's close_notify and FIN: TLS half-close.
    assert_eq!(ping(&address, &tls).await.expect("ping"), b"ping");
    server.abort();
}

#[tokio::test]
async fn each_way_a_handshake_fails_tells_the_user_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (listener, ca) = tls_listener("127.0.0.1:0", dir.path()).await;
    let endpoint = format!("127.0.0.1:{}", port(&listener));
    let server = serve_echo(listener);
    let address = resolve(&endpoint).await;

    // A private CA the client was not given: the system's store does not know it.
    let unknown = ClientTls::new(
        &TlsClientOptions::default(),
        &Endpoint::parse(&endpoint).expect("endpoint"),
    );
    let message = match unknown {
        Ok(tls) => ping(&address, &tls)
            .await
            .expect_err("unknown CA")
            .to_string(),
        // No system store on this machine: the setup error says the same.
        Err(e) => e.to_string(),
    };
    assert!(message.contains("--ca FILE"), "{message}");

    // The right CA, the wrong name.
    let wrong_name = client_tls(&endpoint, Some(&ca), Some("example.test"), false);
    let message = ping(&address, &wrong_name)
        .await
        .expect_err("wrong name")
        .to_string();
    assert!(
        message.contains("not valid for the name \"example.test\": pass --sni NAME"),
        "{message}"
    );

    // --insecure connects anyway, and says so.
    let insecure = client_tls(&endpoint, None, Some("example.test"), true);
    assert!(insecure.describe().contains("NOT verified (--insecure)"));
    assert_eq!(ping(&address, &insecure).await.expect("ping"), b"ping");
    server.abort();
}

#[tokio::test]
async fn tls_to_a_plain_http_server_says_it_does_not_speak_tls() {
    let plain = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = plain.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let (mut stream, _) = plain.accept().await.expect("accept");
        let mut buf = [0u8; 1024];
        let _ = stream.read(&mut buf).await;
        let _ = stream
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await;
    });
    let tls = client_tls(&addr.to_string(), None, None, true);
    let message = ping(&Address::Tcp(addr), &tls)
        .await
        .expect_err("plain HTTP")
        .to_string();
    assert!(
        message.contains("does not speak TLS on this port"),
        "{message}"
    );
    server.await.expect("server");
}

#[tokio::test]
async fn tls_over_a_unix_socket_and_on_127_0_0_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = format!("unix:{}", dir.path().join("tls.sock").display());
    let (listener, ca) = tls_listener(&socket, dir.path()).await;
    let server = serve_echo(listener);
    // A Unix socket has no host: the name checked is `localhost`.
    let tls = client_tls(&socket, Some(&ca), None, false);
    assert_eq!(
        ping(&resolve(&socket).await, &tls).await.expect("unix"),
        b"ping"
    );
    server.abort();

    let (listener, ca) = tls_listener("127.0.0.2:0", dir.path()).await;
    let endpoint = format!("127.0.0.2:{}", port(&listener));
    let server = serve_echo(listener);
    let tls = client_tls(&endpoint, Some(&ca), None, false);
    let address = resolve(&endpoint).await;
    assert!(address.is_local());
    assert_eq!(ping(&address, &tls).await.expect("127.0.0.2"), b"ping");
    server.abort();
}

/// The raw bytes under the server's TLS layer, one entry per socket read.
#[derive(Clone, Default)]
struct Reads(Arc<Mutex<Vec<Vec<u8>>>>);

impl Reads {
    fn take(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut *self.0.lock().expect("lock"))
    }
}

/// A socket that logs every read: on loopback with the writer pausing between
/// writes, one read is one arriving segment.
struct Tap<S> {
    inner: S,
    reads: Reads,
}

impl<S: AsyncRead + Unpin> AsyncRead for Tap<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled
            && buf.filled().len() > before
        {
            let got = buf.filled()[before..].to_vec();
            self.reads.0.lock().expect("lock").push(got);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tap<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The lengths of the TLS records in `raw`, which must hold whole records only.
fn record_lengths(raw: &[u8]) -> Vec<usize> {
    let mut lengths = Vec::new();
    let mut rest = raw;
    while !rest.is_empty() {
        assert!(rest.len() >= 5, "a partial record header: {rest:?}");
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        assert!(rest.len() >= 5 + len, "a record split across segments");
        assert_eq!(
            rest[0], 23,
            "after the handshake every record is application data (outer type 23)"
        );
        lengths.push(5 + len);
        rest = &rest[5 + len..];
    }
    lengths
}

/// A TLS server whose raw reads are logged; it signals when its handshake is
/// done and returns the plaintext it read.
async fn tapped_tls_server(
    dir: &Path,
) -> (
    Address,
    ClientTls,
    Reads,
    tokio::sync::oneshot::Receiver<()>,
    tokio::task::JoinHandle<Vec<u8>>,
) {
    let ca = dir.join("ca.pem");
    let server_tls = ServerTls::self_signed(&["127.0.0.1".to_string()], &ca).expect("cert");
    let raw = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = raw.local_addr().expect("addr");
    let reads = Reads::default();
    let (ready, handshaken) = tokio::sync::oneshot::channel();
    let tap_reads = reads.clone();
    let server = tokio::spawn(async move {
        let (stream, peer) = raw.accept().await.expect("accept");
        let tap = Tap {
            inner: stream,
            reads: tap_reads.clone(),
        };
        let mut tls = server_tls
            .handshake(tap, &peer.to_string())
            .await
            .expect("handshake");
        tap_reads.take(); // the handshake's own records are not under test
        let _ = ready.send(());
        let mut got = Vec::new();
        tls.read_to_end(&mut got).await.expect("read");
        got
    });
    let tls = client_tls(&addr.to_string(), Some(&ca), None, false);
    (Address::Tcp(addr), tls, reads, handshaken, server)
}

/// TLS 1.3 adds 22 bytes to a record of application data: the 5-byte header,
/// the inner content type, and the 16-byte AEAD tag.
const TLS13_OVERHEAD: usize = 5 + 1 + 16;

#[tokio::test]
async fn each_paced_write_is_one_tls_record_in_one_segment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (address, tls, reads, handshaken, server) = tapped_tls_server(dir.path()).await;
    let stream = connect(&address, Some(&tls), TIMEOUT)
        .await
        .expect("connect");
    handshaken.await.expect("the server finished its handshake");
    let recorder = Recorder::new();
    let capture = Capture::new(DEFAULT_CAP);
    // The stack the black-box runner builds: pacing over recording over TLS.
    let mut paced = Paced::new(
        Recording::new(
            stream,
            recorder.clone(),
            capture,
            Direction::ClientToServer,
            true,
        ),
        vec![10, 25],
        CUT_PAUSE,
    );
    let payload: Vec<u8> = (0u8..40).collect();
    paced.write_all(&payload).await.expect("write");
    paced.shutdown().await.expect("shutdown");
    assert_eq!(
        server.await.expect("server"),
        payload,
        "TLS delivered the bytes"
    );

    // The trace holds plaintext, cut where the case cuts it.
    let trace = recorder.snapshot();
    let segments: Vec<usize> = trace
        .segments(Direction::ClientToServer)
        .map(|b| b.len())
        .collect();
    assert_eq!(segments, [10, 15, 15]);

    // On the wire: each cut's bytes are one record, alone in their segment.
    let reads = reads.take();
    let per_read: Vec<Vec<usize>> = reads.iter().map(|r| record_lengths(r)).collect();
    let close_notify = 2 + TLS13_OVERHEAD;
    assert_eq!(per_read[0], [10 + TLS13_OVERHEAD], "{per_read:?}");
    assert_eq!(per_read[1], [15 + TLS13_OVERHEAD], "{per_read:?}");
    let rest: Vec<usize> = per_read[2..].concat();
    assert_eq!(rest, [15 + TLS13_OVERHEAD, close_notify], "{per_read:?}");
}

/// The counter-check: without cuts, back-to-back writes are still one record
/// each, but nothing keeps them apart on the wire, so the server reads them
/// together. What separates segments is the pause, not the record.
#[tokio::test(flavor = "current_thread")]
async fn without_a_cut_records_of_separate_writes_arrive_together() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (address, tls, reads, handshaken, server) = tapped_tls_server(dir.path()).await;
    let mut stream = connect(&address, Some(&tls), TIMEOUT)
        .await
        .expect("connect");
    handshaken.await.expect("the server finished its handshake");
    // Three writes with no await point between them that could yield to the
    // server task (on this single-threaded runtime): all three are in the
    // socket before the server reads.
    for chunk in [&b"aaaaaaaaaa"[..], b"bbbbbbbbbbbbbbb", b"ccccccccccccccc"] {
        stream.write_all(chunk).await.expect("write");
    }
    stream.shutdown().await.expect("shutdown");
    assert_eq!(server.await.expect("server").len(), 40);
    let per_read: Vec<Vec<usize>> = reads.take().iter().map(|r| record_lengths(r)).collect();
    assert_eq!(
        per_read[0],
        [
            10 + TLS13_OVERHEAD,
            15 + TLS13_OVERHEAD,
            15 + TLS13_OVERHEAD,
            2 + TLS13_OVERHEAD
        ],
        "{per_read:?}"
    );
}

/// Set for the inner run: the non-loopback address given to this machine
/// inside the namespace.
const NAMESPACE_ADDRESS: &str = "HH_NAMESPACE_ADDRESS";

/// An address of one of this machine's interfaces that is not loopback is
/// "on this machine" (its cuts are exact); an address of no interface is not.
/// Checked in a network namespace this test makes (`unshare -n`), where
/// 192.0.2.10 (TEST-NET-1) is given to the namespace's own `lo`: whatever is
/// sent to it stays inside the namespace.
#[test]
fn a_local_interface_address_is_local_in_a_namespace_of_its_own() {
    let exe = std::env::current_exe().expect("the test binary");
    let script = format!(
        "ip link set lo up && ip addr add 192.0.2.10/32 dev lo && exec '{}' --ignored --exact inside_a_namespace_with_192_0_2_10",
        exe.display()
    );
    let out = match std::process::Command::new("unshare")
        .args(["-n", "sh", "-c", &script])
        .env(NAMESPACE_ADDRESS, "192.0.2.10")
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("SKIPPED: cannot run unshare: {e}");
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !stdout.contains("running 1 test") {
        // No namespace (no privilege, no `ip`): nothing ran, nothing to judge.
        eprintln!("SKIPPED: no network namespace here: {stderr}");
        return;
    }
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the check inside the namespace failed:\n{stdout}\n{stderr}"
    );
}

#[tokio::test]
#[ignore = "run inside a network namespace by a_local_interface_address_is_local_in_a_namespace_of_its_own"]
async fn inside_a_namespace_with_192_0_2_10() {
    let ip = std::env::var(NAMESPACE_ADDRESS)
        .expect("run by the namespace test, which sets the address");
    let dir = tempfile::tempdir().expect("tempdir");
    let (listener, ca) = tls_listener(&format!("{ip}:0"), dir.path()).await;
    let endpoint = format!("{ip}:{}", port(&listener));
    let server = serve_echo(listener);
    let address = resolve(&endpoint).await;
    assert!(
        address.is_local(),
        "{address} is an address of this machine's lo"
    );
    let tls = client_tls(&endpoint, Some(&ca), Some("localhost"), false);
    assert_eq!(ping(&address, &tls).await.expect("ping"), b"ping");
    // The next address is on no interface: not local (checked by binding; nothing is sent).
    let other: std::net::SocketAddr = "192.0.2.11:80".parse().expect("address");
    assert!(!Address::Tcp(other).is_local());
    server.abort();
}
