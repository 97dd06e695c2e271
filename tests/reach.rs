//! The black-box runner reaches targets where users run them, with the same
//! verdicts: the whole server suite against the reference echo server (`serve`'s
//! library API) over a Unix socket and over TLS (a throw-away CA made here)
//! gives exactly the verdicts it gives over plain TCP; a mutant library served
//! behind a TLS listener fails exactly the cases it fails behind a TCP one (the
//! cut in the TLS layer does not hide a lost byte); and the binary runs the
//! suite against `localhost:PORT` and `127.0.0.2:PORT` without an error, says
//! how it reached the target, and stops with exit code 2 and the transport's
//! hint when TLS cannot be set up.
//!
//! Everything here listens and connects on loopback only.

#[path = "support/binary.rs"]
mod binary;

use binary::{run as harness, totals};

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hijack_harness::oracle::Point;
use hijack_harness::results::{CaseResult, Outcome};
use hijack_harness::runner::black_box::{self, ServerTarget};
use hijack_harness::runner::embedded::SharedServer;
use hijack_harness::runner::listening::serve_subject;
use hijack_harness::runner::serve::{ServeOptions, serve_until};
use hijack_harness::runner::{Options, no_progress};
use hijack_harness::subject::mutants::Mutant;
use hijack_harness::subject::reference::ReferenceServer;
use hijack_harness::suite::{self, Proto};
use hijack_harness::wire::transport::{
    Address, ClientTls, Endpoint, Listener, ServerTls, TlsClientOptions,
};

const TIMEOUT: Duration = Duration::from_secs(5);

/// Something listening on its own thread and runtime (as a server in another
/// process would: its timing must not depend on the client's runtime), stopped
/// when dropped.
struct Background {
    address: Address,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    /// Binds `endpoint` (with `tls`) on a thread of its own, and runs
    /// `serve(listener, stop)` there.
    fn start<F, S>(endpoint: &str, tls: Option<ServerTls>, serve: S) -> Background
    where
        S: FnOnce(Listener, tokio::sync::oneshot::Receiver<()>) -> F + Send + 'static,
        F: Future<Output = ()>,
    {
        let endpoint = Endpoint::parse(endpoint).expect("endpoint");
        let (bound, bound_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = Listener::bind(&endpoint, tls).await.expect("bind");
                bound
                    .send(listener.address().clone())
                    .expect("send the address");
                serve(listener, stopped).await;
            });
        });
        let address = bound_rx.recv().expect("it listens");
        Background {
            address,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The reference echo server for `protocol` (`serve`'s library API).
    fn reference(endpoint: &str, tls: Option<ServerTls>, protocol: Proto) -> Background {
        Background::start(endpoint, tls, move |listener, stopped| async move {
            let stop = async {
                let _ = stopped.await;
            };
            serve_until(listener, ServeOptions::new(protocol), stop)
                .await
                .expect("serve");
        })
    }

    /// A server subject behind the listener, speaking `echo`.
    fn subject(endpoint: &str, tls: Option<ServerTls>, subject: SharedServer) -> Background {
        Background::start(endpoint, tls, move |listener, stopped| async move {
            let stop = async {
                let _ = stopped.await;
            };
            serve_subject(listener, subject, 16, stop).await;
        })
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A throw-away CA (written into `dir`) and a server certificate for loopback names.
fn server_tls(dir: &Path) -> (ServerTls, PathBuf) {
    let ca = dir.join("ca.pem");
    let names = ["localhost", "127.0.0.1"].map(String::from);
    (
        ServerTls::self_signed(&names, &ca).expect("a throw-away certificate"),
        ca,
    )
}

fn client_tls(ca: &Path, endpoint: &Endpoint) -> ClientTls {
    let options = TlsClientOptions {
        ca: Some(ca.to_path_buf()),
        insecure: false,
        sni: Some("localhost".into()),
    };
    ClientTls::new(&options, endpoint).expect("client TLS")
}

/// The options of a black-box run, as the binary sets them.
fn options() -> Options {
    Options {
        timeout: TIMEOUT,
        quiet: Duration::from_millis(300),
        concurrency: 1,
        ..Options::default()
    }
}

/// Runs every case against `address`, named by `endpoint`, as `run --server` does.
fn run_suite(
    endpoint: &Endpoint,
    address: &Address,
    tls: Option<ClientTls>,
    protocol: Proto,
) -> Vec<CaseResult> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let found = black_box::preflight(endpoint, tls.as_ref(), TIMEOUT)
            .await
            .expect("preflight");
        assert_eq!(&found, address, "resolved to the listener");
        let target = ServerTarget::server(endpoint, found, tls, protocol);
        black_box::run_server(&target, &suite::all(), &options(), no_progress()).await
    })
}

/// The verdicts of a run: one `(case, outcome)` per case, in order.
fn verdicts(results: &[CaseResult]) -> Vec<(String, Outcome)> {
    results
        .iter()
        .map(|r| (r.case_id.clone(), r.outcome))
        .collect()
}

fn endpoint_of(address: &Address) -> Endpoint {
    Endpoint::parse(&address.to_string()).expect("an address is an endpoint")
}

/// What differs between two runs' verdicts, for a readable failure.
fn differences(a: &[(String, Outcome)], b: &[(String, Outcome)]) -> Vec<String> {
    a.iter()
        .zip(b)
        .filter(|(x, y)| x != y)
        .map(|((id, x), (_, y))| format!("{id}: {} vs {}", x.as_str(), y.as_str()))
        .collect()
}

#[test]
fn the_suite_over_a_unix_socket_and_over_tls_matches_plain_tcp() {
    let dir = tempfile::tempdir().expect("tempdir");
    for protocol in [Proto::Echo, Proto::Docker, Proto::WebSocket] {
        let tcp = Background::reference("127.0.0.1:0", None, protocol);
        let plain = verdicts(&run_suite(
            &endpoint_of(&tcp.address),
            &tcp.address,
            None,
            protocol,
        ));
        assert!(
            plain
                .iter()
                .all(|(_, o)| matches!(o, Outcome::Pass | Outcome::Unsupported)),
            "{} over TCP: {plain:?}",
            protocol.as_str()
        );
        assert!(plain.iter().filter(|(_, o)| *o == Outcome::Pass).count() >= 10);

        let socket = dir.path().join(format!("{}.sock", protocol.as_str()));
        let unix = Background::reference(&format!("unix:{}", socket.display()), None, protocol);
        let over_unix = verdicts(&run_suite(
            &endpoint_of(&unix.address),
            &unix.address,
            None,
            protocol,
        ));
        assert!(
            over_unix == plain,
            "{} over a Unix socket differs from TCP: {:?}",
            protocol.as_str(),
            differences(&plain, &over_unix)
        );

        let (tls, ca) = server_tls(dir.path());
        let secure = Background::reference("127.0.0.1:0", Some(tls), protocol);
        let endpoint = endpoint_of(&secure.address);
        let over_tls = verdicts(&run_suite(
            &endpoint,
            &secure.address,
            Some(client_tls(&ca, &endpoint)),
            protocol,
        ));
        assert!(
            over_tls == plain,
            "{} over TLS differs from TCP: {:?}",
            protocol.as_str(),
            differences(&plain, &over_tls)
        );
        eprintln!(
            "{}: {} verdicts the same over TCP, a Unix socket and TLS",
            protocol.as_str(),
            plain.len()
        );
    }
}

#[test]
fn tls_over_a_unix_socket_matches_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (tls, ca) = server_tls(dir.path());
    let socket = dir.path().join("tls.sock");
    let server = Background::reference(
        &format!("unix:{}", socket.display()),
        Some(tls),
        Proto::Docker,
    );
    let endpoint = endpoint_of(&server.address);
    let results = run_suite(
        &endpoint,
        &server.address,
        Some(client_tls(&ca, &endpoint)),
        Proto::Docker,
    );
    let tcp = Background::reference("127.0.0.1:0", None, Proto::Docker);
    let plain = run_suite(
        &endpoint_of(&tcp.address),
        &tcp.address,
        None,
        Proto::Docker,
    );
    assert_eq!(verdicts(&results), verdicts(&plain));
}

/// The failing cases of a run, with the points their diagnoses name.
fn failures(results: &[CaseResult]) -> Vec<(String, Vec<Point>)> {
    results
        .iter()
        .filter(|r| r.outcome.is_problem())
        .map(|r| {
            (
                r.case_id.clone(),
                r.violations.iter().map(|v| v.point).collect(),
            )
        })
        .collect()
}

/// Runs the echo suite against `subject` behind a TCP listener, a TLS one and
/// a Unix socket, in that order.
fn over_each_transport(subject: SharedServer, dir: &Path) -> [(&'static str, Vec<CaseResult>); 3] {
    let tcp = Background::subject("127.0.0.1:0", None, subject.clone());
    let plain = run_suite(&endpoint_of(&tcp.address), &tcp.address, None, Proto::Echo);
    let (tls, ca) = server_tls(dir);
    let secure = Background::subject("127.0.0.1:0", Some(tls), subject.clone());
    let endpoint = endpoint_of(&secure.address);
    let over_tls = run_suite(
        &endpoint,
        &secure.address,
        Some(client_tls(&ca, &endpoint)),
        Proto::Echo,
    );
    let socket = dir.join("subject.sock");
    let unix = Background::subject(&format!("unix:{}", socket.display()), None, subject);
    let over_unix = run_suite(
        &endpoint_of(&unix.address),
        &unix.address,
        None,
        Proto::Echo,
    );
    [
        ("TCP", plain),
        ("TLS", over_tls),
        ("a Unix socket", over_unix),
    ]
}

#[test]
fn the_reference_library_behind_a_listener_passes_over_tcp_and_tls() {
    // The baseline of the mutant test below: served the same way, the
    // reference library fails nothing, so what a mutant fails is its flaw.
    let dir = tempfile::tempdir().expect("tempdir");
    let [(_, plain), others @ ..] =
        over_each_transport(Arc::new(ReferenceServer::default()), dir.path());
    assert_eq!(failures(&plain), Vec::new());
    for (transport, results) in others {
        assert_eq!(verdicts(&plain), verdicts(&results), "over {transport}");
    }
}

#[test]
fn a_mutant_fails_the_same_cases_over_tls_and_a_unix_socket_as_over_tcp() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The flaws a black-box echo server can show: the service reads the whole
    // body and writes nothing before the hand-over (so `drops-unflushed-writes`
    // and `hands-over-unread-body` have nothing to act on); its echo shuts down
    // only after the client's FIN and then closes, so a lost `CloseWrite`
    // (`loses-close-write`) still ends in a FIN at once; and
    // `loses-background-byte` lives in a window no pacing hits over a socket.
    let visible = [
        "ignores-read-ahead",
        "drops-first-packet",
        "replays-read-ahead-twice",
        "replays-read-ahead-late",
        "leaves-chunked-body",
        "writes-after-hijack",
        "closes-after-hand-over",
        "server-hands-over-on-refusal",
    ];
    for name in visible {
        let mutant = Mutant::from_name(name).expect("a mutant");
        let server: SharedServer = Arc::new(mutant.server().expect("a server mutant"));
        let runs = over_each_transport(server, dir.path());
        let runs = runs.map(|(transport, results)| (transport, failures(&results)));
        for (transport, failed) in &runs {
            assert!(
                failed
                    .iter()
                    .any(|(_, points)| points.contains(&mutant.breaks())),
                "{name} over {transport} never failed with {}: {failed:?}",
                mutant.breaks()
            );
        }
        let cases = |failed: &[(String, Vec<Point>)]| -> Vec<String> {
            failed.iter().map(|(id, _)| id.clone()).collect()
        };
        // Per failing case, whether its diagnosis names the mutant's point:
        // the lost byte is found in the same cases whatever carried them.
        // (Other points may join it by timing: a reset that ends the case.)
        let named = |failed: &[(String, Vec<Point>)]| -> Vec<(String, bool)> {
            failed
                .iter()
                .map(|(id, points)| (id.clone(), points.contains(&mutant.breaks())))
                .collect()
        };
        let [(_, plain), others @ ..] = &runs;
        for (transport, failed) in others {
            assert_eq!(
                cases(plain),
                cases(failed),
                "{name} fails other cases over {transport} than over TCP"
            );
            // Not for the mutant that closes with the client's bytes unread:
            // that close is a reset, and whether it beats the 101 to the
            // client's read (a handshake failure instead) is a race on any
            // transport.
            if name != "closes-after-hand-over" {
                assert_eq!(named(plain), named(failed), "{name} over {transport}");
            }
        }
        eprintln!(
            "{name}: the same {} failures over TCP, TLS and a Unix socket ({})",
            plain.len(),
            mutant.breaks()
        );
    }
}

#[test]
fn the_binary_runs_the_suite_against_localhost_and_127_0_0_2() {
    // A name that resolves (to 127.0.0.1 or ::1, whichever accepts), and a
    // loopback address that is not 127.0.0.1: both are this machine.
    for listen in ["localhost:0", "127.0.0.2:0"] {
        let server = Background::reference(listen, None, Proto::Echo);
        let port = match &server.address {
            Address::Tcp(addr) => addr.port(),
            Address::Unix(_) => unreachable!("a TCP listener"),
        };
        let host = listen.split(':').next().unwrap_or_default();
        let target = format!("{host}:{port}");
        let (code, stdout, stderr) = harness(&["run", "--server", &target, "--protocol", "echo"]);
        assert_eq!(code, Some(0), "{target}: {stdout}\n{stderr}");
        assert!(
            stdout.starts_with(&format!("target address: {}\n", server.address)),
            "{target}: the report names the address it resolved to: {stdout}"
        );
        assert!(
            !stdout.contains("best effort"),
            "{target} is local: {stdout}"
        );
        let line = totals(&stdout);
        assert!(
            line.contains(" 0 fail, 0 non-strict, ") && line.contains(" 0 error"),
            "{line}"
        );
        eprintln!("{target} ({}): {line}", server.address);
    }
}

#[test]
fn the_binary_reaches_a_unix_socket_and_tls_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("docker.sock");
    let unix = Background::reference(&format!("unix:{}", socket.display()), None, Proto::Docker);
    let target = format!("unix://{}", socket.display());
    let (code, stdout, stderr) = harness(&["run", "--server", &target, "--protocol", "docker"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with(&format!("target address: {}\n", unix.address)),
        "{stdout}"
    );

    let (tls, ca) = server_tls(dir.path());
    let secure = Background::reference("127.0.0.1:0", Some(tls), Proto::WebSocket);
    let Address::Tcp(addr) = &secure.address else {
        unreachable!("a TCP listener")
    };
    let wss = format!("wss://localhost:{}/", addr.port());
    let ca = ca.to_string_lossy().into_owned();
    let (code, stdout, stderr) = harness(&[
        "run",
        "--server",
        &wss,
        "--protocol",
        "websocket",
        "--ca",
        &ca,
    ]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("TLS to localhost, certificate verified"),
        "{stdout}"
    );
    let with_ca = totals(&stdout).to_string();

    // Without the CA the certificate does not verify: one line before any
    // case, exit code 2; with --insecure it runs, and the report says so.
    let plain = format!("localhost:{}", addr.port());
    let (code, stdout, stderr) = harness(&[
        "run",
        "--server",
        &plain,
        "--tls",
        "--protocol",
        "websocket",
    ]);
    assert_eq!(code, Some(2), "{stdout}\n{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("--server"), "{stderr}");
    assert!(stdout.is_empty(), "no case ran: {stdout}");
    let (code, stdout, stderr) = harness(&[
        "run",
        "--server",
        &plain,
        "--insecure",
        "--protocol",
        "websocket",
    ]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("certificate NOT verified (--insecure)"),
        "{stdout}"
    );
    let counts = |line: &str| line.split(" in ").next().unwrap_or_default().to_string();
    assert_eq!(counts(totals(&stdout)), counts(&with_ca));

    // Nothing listening any more: one line, exit code 2, no column of errors.
    drop(secure);
    let (code, _, stderr) = harness(&["run", "--server", &plain, "--tls"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
}

#[test]
fn a_plain_run_against_a_tls_port_is_an_error_that_says_add_tls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (tls, _ca) = server_tls(dir.path());
    let secure = Background::reference("127.0.0.1:0", Some(tls), Proto::Echo);
    let endpoint = endpoint_of(&secure.address);
    let results = run_suite(&endpoint, &secure.address, None, Proto::Echo);
    assert!(!results.is_empty());
    for r in &results {
        assert_eq!(r.outcome, Outcome::Error, "{}: {:?}", r.case_id, r.notes);
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("it speaks TLS on this port; run with --tls")),
            "{}: {:?}",
            r.case_id,
            r.notes
        );
    }
    // The same server spoken to with TLS passes: the error is the missing flag.
    let plain = Background::reference("127.0.0.1:0", None, Proto::Echo);
    let endpoint = endpoint_of(&plain.address);
    let results = run_suite(&endpoint, &plain.address, None, Proto::Echo);
    assert!(results.iter().all(|r| r.outcome != Outcome::Error));
}
