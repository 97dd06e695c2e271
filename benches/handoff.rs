//! The reference hand-over's cost, against raw TCP and hyper, on loopback.
//!
//! Three comparisons, each made in one run with the variants *interleaved* round
//! by round (A B C A B C ...), so that the machine's drift (other processes, CPU
//! frequency) falls on every variant alike and the ratios hold on a noisy host.
//! Every figure is a median over the rounds, with the spread (min..max).
//!
//! * data path: after an upgrade with early data, echo `HIJACK_BENCH_MIB` MiB
//!   (default 256) through `Hijacked<TcpStream>`, a raw `TcpStream`, hyper's
//!   `Upgraded` read directly, and hyper's `Upgraded` after `downcast`;
//! * handshake + hijack rate: many concurrent clients doing upgrade, 1 KiB echo,
//!   close, against the reference server and hyper's;
//! * allocations per hijack on the reference, counted by a global allocator: the
//!   read-ahead is handed over without a copy.
//!
//! Run: `cargo bench --bench handoff` (`HIJACK_BENCH_ROUNDS`, `HIJACK_BENCH_MIB`
//! and `HIJACK_BENCH_CONNS` change the size).

use std::alloc::{GlobalAlloc, Layout, System};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use hijack_harness::reference::head::ResponseHead;
use hijack_harness::reference::{Config, Hijacked, ServerConn};

/// Counts allocations and allocated bytes.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED.fetch_add(new_size, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const UPGRADE: &[u8] =
    b"GET /upgrade HTTP/1.1\r\nHost: bench\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n";
const EARLY: &[u8] = b"early bytes in the head's segment";
const CHUNK: usize = 64 * 1024;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The server variants.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Server {
    Raw,
    Reference,
    HyperUpgraded,
    HyperDowncast,
}

impl Server {
    fn name(self) -> &'static str {
        match self {
            Server::Raw => "raw TcpStream",
            Server::Reference => "Hijacked<TcpStream>",
            Server::HyperUpgraded => "hyper Upgraded",
            Server::HyperDowncast => "hyper downcast",
        }
    }
}

async fn echo<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if stream.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
    let _ = stream.shutdown().await;
}

fn switching() -> ResponseHead {
    ResponseHead::switching_protocols("echo")
}

async fn serve_reference(stream: TcpStream) {
    let mut conn = ServerConn::new(stream, Config::default());
    if !matches!(conn.read_request().await, Ok(Some(_))) {
        return;
    }
    conn.write_response(&switching(), b"");
    if conn.flush().await.is_err() {
        return;
    }
    if let Ok(hijacked) = conn.hijack().await {
        echo(hijacked).await;
    }
}

async fn serve_hyper(stream: TcpStream, downcast: bool) {
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| async move {
        tokio::spawn(async move {
            let Ok(upgraded) = hyper::upgrade::on(&mut req).await else {
                return;
            };
            if downcast {
                match upgraded.downcast::<TokioIo<TcpStream>>() {
                    Ok(parts) => {
                        echo(Hijacked::new(
                            parts.io.into_inner(),
                            parts.read_buf,
                            Bytes::new(),
                        ))
                        .await
                    }
                    Err(_) => eprintln!("downcast failed"),
                }
            } else {
                echo(TokioIo::new(upgraded)).await;
            }
        });
        let mut res = Response::new(Empty::<Bytes>::new());
        *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        res.headers_mut()
            .insert("connection", "Upgrade".parse().expect("static header"));
        res.headers_mut()
            .insert("upgrade", "echo".parse().expect("static header"));
        Ok::<_, Infallible>(res)
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades()
        .await;
}

async fn serve_raw(mut stream: TcpStream) {
    // The raw baseline still reads the request head and answers, so every
    // variant does the same work before the data path; only the hand-over differs.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    if stream.write_all(&switching().to_bytes()).await.is_err() {
        return;
    }
    echo(stream).await;
}

async fn listen(server: Server) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                match server {
                    Server::Raw => serve_raw(stream).await,
                    Server::Reference => serve_reference(stream).await,
                    Server::HyperUpgraded => serve_hyper(stream, false).await,
                    Server::HyperDowncast => serve_hyper(stream, true).await,
                }
            });
        }
    });
    addr
}

/// Upgrades, then echoes `total` bytes through the server; returns the time for the data path.
async fn data_path(addr: SocketAddr, total: usize) -> Duration {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    // The upgrade and the first new-protocol bytes in one write: the hand-over
    // has a read-ahead to replay, as in real traffic.
    let mut first = UPGRADE.to_vec();
    first.extend_from_slice(EARLY);
    stream.write_all(&first).await.expect("write upgrade");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).await.expect("read head");
        head.push(byte[0]);
    }
    let mut echoed_early = vec![0u8; EARLY.len()];
    stream
        .read_exact(&mut echoed_early)
        .await
        .expect("early echo");
    assert_eq!(echoed_early, EARLY, "the early bytes came back");
    let (mut reader, mut writer) = stream.into_split();
    let started = Instant::now();
    let send = tokio::spawn(async move {
        let block = vec![0x5au8; CHUNK];
        let mut sent = 0;
        while sent < total {
            let n = CHUNK.min(total - sent);
            writer.write_all(&block[..n]).await.expect("send");
            sent += n;
        }
        writer.shutdown().await.expect("shutdown");
    });
    let mut buf = vec![0u8; CHUNK];
    let mut received = 0;
    loop {
        let n = reader.read(&mut buf).await.expect("receive");
        if n == 0 {
            break;
        }
        received += n;
    }
    send.await.expect("sender");
    assert_eq!(received, total, "every byte came back");
    started.elapsed()
}

/// `conns` clients, `concurrency` at a time: upgrade, echo 1 KiB, close. Returns connections per second.
async fn handshake_rate(addr: SocketAddr, conns: usize, concurrency: usize) -> f64 {
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let per_task = conns / concurrency;
    for _ in 0..concurrency {
        tasks.spawn(async move {
            for _ in 0..per_task {
                let mut stream = TcpStream::connect(addr).await.expect("connect");
                stream.set_nodelay(true).expect("nodelay");
                let payload = [0xa5u8; 1024];
                let mut first = UPGRADE.to_vec();
                first.extend_from_slice(&payload);
                stream.write_all(&first).await.expect("write");
                stream.shutdown().await.expect("shutdown");
                let mut all = Vec::new();
                stream.read_to_end(&mut all).await.expect("read");
                assert!(all.ends_with(&payload), "echo came back");
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    (per_task * concurrency) as f64 / started.elapsed().as_secs_f64()
}

fn median(mut xs: Vec<f64>) -> (f64, f64, f64) {
    xs.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    (xs[xs.len() / 2], xs[0], xs[xs.len() - 1])
}

/// Allocations made by one upgrade with 4 KiB of early data, read-ahead handed over.
async fn allocations_per_hijack() -> (usize, usize, usize, usize, bool) {
    let (mut client, server) = tokio::io::duplex(1 << 20);
    let early = vec![0x42u8; 4096];
    let mut first = UPGRADE.to_vec();
    first.extend_from_slice(&early);
    client.write_all(&first).await.expect("write");
    let mut conn = ServerConn::new(
        server,
        Config {
            read_chunk: 16 * 1024,
            ..Config::default()
        },
    );
    let before = (
        ALLOCATIONS.load(Ordering::Relaxed),
        ALLOCATED.load(Ordering::Relaxed),
    );
    let request = conn
        .read_request()
        .await
        .expect("request")
        .expect("one request");
    conn.write_response(&switching(), b"");
    conn.flush().await.expect("flush");
    let at_hand_over = (
        ALLOCATIONS.load(Ordering::Relaxed),
        ALLOCATED.load(Ordering::Relaxed),
    );
    let buffered = conn.into_buffered();
    let origin = buffered.read_ahead().as_ptr();
    // The same steps as `ServerConn::hijack` after a 101.
    let parts = buffered.into_hijacked().into_parts();
    let after = (
        ALLOCATIONS.load(Ordering::Relaxed),
        ALLOCATED.load(Ordering::Relaxed),
    );
    drop(request);
    // The read-ahead is the 4 KiB the client sent, at the address it was read to.
    let whole = parts.read_buf[..] == early[..] && parts.read_buf.as_ptr() == origin;
    (
        after.0 - before.0,
        after.1 - before.1,
        after.0 - at_hand_over.0,
        after.1 - at_hand_over.1,
        whole,
    )
}

fn main() {
    let rounds = env("HIJACK_BENCH_ROUNDS", 7);
    let mib = env("HIJACK_BENCH_MIB", 256);
    let conns = env("HIJACK_BENCH_CONNS", 4000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        println!("# data path: echo {mib} MiB after an upgrade with early data; {rounds} interleaved rounds");
        let variants = [Server::Raw, Server::Reference, Server::HyperUpgraded, Server::HyperDowncast];
        let mut addrs = Vec::new();
        for v in variants {
            addrs.push(listen(v).await);
        }
        let mut samples: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
        for _ in 0..rounds {
            for (i, addr) in addrs.iter().enumerate() {
                let took = data_path(*addr, mib << 20).await;
                samples[i].push((mib as f64) / took.as_secs_f64());
            }
        }
        let medians: Vec<_> = samples.into_iter().map(median).collect();
        let raw = medians[0].0;
        for (v, (m, lo, hi)) in variants.iter().zip(&medians) {
            println!("{:<22} {:>8.0} MiB/s  (min {:.0}, max {:.0})  ratio to raw {:.3}", v.name(), m, lo, hi, m / raw);
        }
        println!(
            "Hijacked / hyper Upgraded: {:.3}; Hijacked / hyper downcast: {:.3}",
            medians[1].0 / medians[2].0,
            medians[1].0 / medians[3].0
        );

        println!("\n# handshake + hijack + 1 KiB echo + close: {conns} connections, 32 at a time; {rounds} interleaved rounds");
        let pair = [Server::Reference, Server::HyperUpgraded];
        let mut rates: Vec<Vec<f64>> = vec![Vec::new(); 2];
        for _ in 0..rounds {
            for (i, v) in pair.iter().enumerate() {
                let addr = addrs[variants.iter().position(|x| x == v).expect("listed")];
                rates[i].push(handshake_rate(addr, conns, 32).await);
            }
        }
        let rates: Vec<_> = rates.into_iter().map(median).collect();
        for (v, (m, lo, hi)) in pair.iter().zip(&rates) {
            println!("{:<22} {:>8.0} conn/s  (min {:.0}, max {:.0})", v.name(), m, lo, hi);
        }
        println!("reference / hyper: {:.3}", rates[0].0 / rates[1].0);

        let (allocs, bytes, hand_over, hand_over_bytes, whole) = allocations_per_hijack().await;
        println!(
            "\n# allocations, one upgrade with a 4 KiB read-ahead: {allocs} allocations ({bytes} bytes) from reading the \
             request to into_parts(); the hand-over itself: {hand_over} allocations ({hand_over_bytes} bytes); \
             read-ahead handed over in place (same address, same bytes): {whole}"
        );
        assert!(whole, "the read-ahead must be handed over in place");
        assert!(hand_over_bytes < 4096, "the hand-over allocated as much as the read-ahead: a copy");
    });
}
