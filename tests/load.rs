//! Load: the reference server holds 10,000 concurrent hijacked echo connections
//! on loopback, each exchanging data, with zero bytes lost and the process's open
//! descriptors back to the baseline after; and 100,000 sequential
//! upgrade-echo-close cycles with no leak.
//!
//! Both are `#[ignore]`d (they take a while); run them with
//! `cargo test --release --test load -- --ignored --nocapture`.
//! The clients run in a child process (this test binary again), because 10,000
//! connections with both ends in one process need more descriptors than the
//! 20,000 this machine allows a process.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hijack_harness::reference::head::ResponseHead;
use hijack_harness::reference::{Config, ServerConn};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const UPGRADE: &[u8] =
    b"GET /upgrade HTTP/1.1\r\nHost: load\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n";
const PAYLOAD: usize = 512;

/// Held by each test that compares `/proc/self/fd` before and after: the count
/// is the whole process's, so another such test running beside it (the test
/// harness runs tests on parallel threads) would show up as a leak or hide one.
static DESCRIPTOR_COUNT: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Serves upgrades with the reference and echoes; counts echoed bytes.
async fn serve(listener: TcpListener, echoed: Arc<AtomicUsize>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let echoed = echoed.clone();
        tokio::spawn(async move {
            let mut conn = ServerConn::new(stream, Config::default());
            let Ok(Some(_)) = conn.read_request().await else {
                return;
            };
            let head = ResponseHead::switching_protocols("echo");
            conn.write_response(&head, b"");
            if conn.flush().await.is_err() {
                return;
            }
            let Ok(mut stream) = conn.hijack().await else {
                return;
            };
            let mut buf = vec![0u8; 4096];
            while let Ok(n) = stream.read(&mut buf).await {
                if n == 0 || stream.write_all(&buf[..n]).await.is_err() {
                    break;
                }
                echoed.fetch_add(n, Ordering::Relaxed);
            }
            let _ = stream.shutdown().await;
        });
    }
}

/// Connections that may be waiting for their `101` at once: half the listen
/// backlog tokio's `TcpListener::bind` asks for (mio's 128, the standard library's).
///
/// Pacing the connects by the clock (a pause every few hundred) assumed the server
/// accepts that many in the pause; on a loaded machine it does not, the accept
/// queue overflows, the kernel falls back to SYN cookies and resets some
/// connections (`ListenOverflows`, `SyncookiesFailed` in `nstat`). Waiting for
/// the answer instead keeps the queue short however slow the server is.
const CONNECTING: usize = 64;

/// One client: upgrade with early bytes, wait for the `101`, wait for every other
/// client, send more, half-close, check the echo. `admit` bounds how many clients
/// are between their connect and their `101` at once.
async fn client(
    addr: SocketAddr,
    id: usize,
    admit: Arc<tokio::sync::Semaphore>,
    hold: Arc<tokio::sync::Barrier>,
) -> Result<(), String> {
    let permit = admit.acquire().await.map_err(|e| format!("admit: {e}"))?;
    let mut stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let early: Vec<u8> = (0..PAYLOAD).map(|i| (i * 7 + id) as u8).collect();
    let late: Vec<u8> = (0..PAYLOAD).map(|i| (i * 13 + id) as u8).collect();
    let mut first = UPGRADE.to_vec();
    first.extend_from_slice(&early);
    stream
        .write_all(&first)
        .await
        .map_err(|e| format!("write: {e}"))?;
    // The head, and whatever echo came with it, stays in `all`.
    let mut all = Vec::new();
    let head_end = loop {
        if let Some(at) = all.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let mut chunk = [0u8; 1024];
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("read head: {e}"))?;
        if n == 0 {
            return Err(format!("connection {id}: closed before the 101"));
        }
        all.extend_from_slice(&chunk[..n]);
    };
    drop(permit);
    // Every connection is open and hijacked before any of them finishes.
    hold.wait().await;
    stream
        .write_all(&late)
        .await
        .map_err(|e| format!("write late: {e}"))?;
    stream
        .shutdown()
        .await
        .map_err(|e| format!("shutdown: {e}"))?;
    stream
        .read_to_end(&mut all)
        .await
        .map_err(|e| format!("read: {e}"))?;
    let expected: Vec<u8> = early.iter().chain(&late).copied().collect();
    if all[head_end..] != expected[..] {
        return Err(format!(
            "connection {id}: {} bytes back, {} sent",
            all.len() - head_end,
            expected.len()
        ));
    }
    Ok(())
}

/// The client side, in a child process: `LOAD_ADDR` and `LOAD_CONNS` say where and how many.
#[test]
#[ignore = "child process of concurrent_hijacked_connections"]
fn load_clients() {
    let Ok(addr) = std::env::var("LOAD_ADDR") else {
        return;
    };
    let addr: SocketAddr = addr.parse().expect("LOAD_ADDR");
    let conns: usize = std::env::var("LOAD_CONNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let admit = Arc::new(tokio::sync::Semaphore::new(CONNECTING));
        let hold = Arc::new(tokio::sync::Barrier::new(conns));
        let mut tasks = tokio::task::JoinSet::new();
        for id in 0..conns {
            let (admit, hold) = (admit.clone(), hold.clone());
            tasks.spawn(async move { client(addr, id, admit, hold).await });
        }
        let mut failures = Vec::new();
        while let Some(result) = tasks.join_next().await {
            if let Err(e) = result.expect("client task") {
                failures.push(e);
            }
        }
        assert!(
            failures.is_empty(),
            "{} clients failed, first: {:?}",
            failures.len(),
            failures.first()
        );
    });
}

#[test]
#[ignore = "load test: cargo test --release --test load -- --ignored --nocapture"]
fn concurrent_hijacked_connections() {
    let _alone = DESCRIPTOR_COUNT.lock().unwrap_or_else(|e| e.into_inner());
    let conns = 10_000;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let baseline = open_descriptors();
    let echoed = Arc::new(AtomicUsize::new(0));
    let (addr, server) = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        (addr, tokio::spawn(serve(listener, echoed.clone())))
    });
    let started = Instant::now();
    let status = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "load_clients", "--ignored", "--nocapture"])
        .env("LOAD_ADDR", addr.to_string())
        .env("LOAD_CONNS", conns.to_string())
        .status()
        .expect("run the clients");
    assert!(status.success(), "the client process failed");
    let took = started.elapsed();
    // Let the server tasks finish their shutdowns, then stop accepting.
    rt.block_on(async { tokio::time::sleep(Duration::from_millis(500)).await });
    server.abort();
    drop(rt);
    let bytes = echoed.load(Ordering::Relaxed);
    println!(
        "{conns} concurrent hijacked connections: {bytes} bytes echoed (expected {}), {took:?}, \
         descriptors {} before, {} after",
        conns * 2 * PAYLOAD,
        baseline,
        open_descriptors()
    );
    assert_eq!(bytes, conns * 2 * PAYLOAD, "bytes lost");
    assert!(open_descriptors() <= baseline, "descriptors leaked");
}

#[test]
#[ignore = "load test: cargo test --release --test load -- --ignored --nocapture"]
fn sequential_cycles_do_not_leak() {
    let _alone = DESCRIPTOR_COUNT.lock().unwrap_or_else(|e| e.into_inner());
    let cycles = 100_000;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let echoed = Arc::new(AtomicUsize::new(0));
    let baseline = open_descriptors();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(serve(listener, echoed.clone()));
        let started = Instant::now();
        let admit = Arc::new(tokio::sync::Semaphore::new(1));
        let hold = Arc::new(tokio::sync::Barrier::new(1));
        for id in 0..cycles {
            client(addr, id, admit.clone(), hold.clone())
                .await
                .expect("cycle");
        }
        println!(
            "{cycles} sequential upgrade-echo-close cycles in {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        server.abort();
    });
    drop(rt);
    assert_eq!(
        echoed.load(Ordering::Relaxed),
        cycles * 2 * PAYLOAD,
        "bytes lost"
    );
    let after = open_descriptors();
    println!("descriptors {baseline} before, {after} after");
    assert!(after <= baseline, "descriptors leaked");
}
