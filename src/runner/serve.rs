//! The reference echo servers, for testing clients and proxies by hand and as
//! the upstream of a proxy under test: `echo`, `docker` and `websocket` over
//! HTTP/1.1 with the reference hand-over, and a raw echo (what a `CONNECT`
//! tunnel reaches); over TCP or a Unix socket, with TLS or without.
//!
//! A server people poke at by hand meets bad input, so every connection is
//! served through the reference [`ServerConn`] and its `reject`: `400` for a
//! malformed head or chunk size, `431` for a head over the limit or with too
//! many fields, `408` for a head that does not end within
//! [`ServeOptions::head_timeout`]; connections past
//! [`ServeOptions::max_connections`] get `503`. Every such answer is followed
//! by a graceful close ([`ServerConn::close`]: FIN, then the client's input is
//! read and dropped for up to [`ServeOptions::linger`]), so the status reaches
//! a client that is still sending instead of being destroyed by a reset.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::reference::head::{self, Header, ResponseHead};
use crate::reference::{Config, ServerConn};
use crate::suite::Proto;
use crate::wire::transport::{Accepted, Listener, TransportError};

use crate::websocket::{self, DECODE_LIMIT, Frame, OpCode};

pub mod proxy;

const READ_SIZE: usize = 16 * 1024;

/// How `serve` serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeOptions {
    /// What to speak (`Connect` is the raw echo).
    pub protocol: Proto,
    /// The most connections served at once; as many again are answered `503`,
    /// and any beyond that are closed unanswered.
    pub max_connections: usize,
    /// How long a request head (and a TLS handshake) may take: `408` after it.
    pub head_timeout: Duration,
    /// How long a graceful close waits for the client's FIN.
    pub linger: Duration,
}

impl ServeOptions {
    /// The defaults for `protocol`: 256 connections, a 10 s head timeout, and
    /// a 500 ms linger (Go's `rstAvoidanceDelay`).
    pub fn new(protocol: Proto) -> Self {
        ServeOptions {
            protocol,
            max_connections: 256,
            head_timeout: Duration::from_secs(10),
            linger: Duration::from_millis(500),
        }
    }

    /// The most a final answer and its graceful close may take: a client that
    /// reads nothing cannot hold the connection by filling its buffers.
    fn closing_limit(&self) -> Duration {
        self.head_timeout + self.linger
    }

    fn config(&self) -> Config {
        Config {
            head_timeout: Some(self.head_timeout),
            ..Config::default()
        }
    }
}

/// Accepts connections on `listener` forever, serving each with the reference
/// echo server for `protocol` (`Connect` means a raw echo), with the default
/// [`ServeOptions`].
pub async fn serve(listener: TcpListener, protocol: Proto) -> io::Result<()> {
    let listener = Listener::from_tcp(listener, None)?;
    serve_until(
        listener,
        ServeOptions::new(protocol),
        std::future::pending(),
    )
    .await
    .map_err(io::Error::other)
}

/// Serves `listener` until `stop` completes, then stops accepting, gives the
/// open connections [`ServeOptions::linger`] to finish, and ends the rest.
/// The listener is dropped before it returns (a Unix socket's file with it).
pub async fn serve_until(
    listener: Listener,
    options: ServeOptions,
    stop: impl Future<Output = ()>,
) -> Result<(), TransportError> {
    let options = Arc::new(options);
    let serving = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let refusing = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let mut tasks = JoinSet::new();
    accept_until(&listener, stop, &mut tasks, |accepted, tasks| {
        let options = options.clone();
        if let Ok(permit) = serving.clone().try_acquire_owned() {
            tasks.spawn(async move {
                connection(accepted, &options).await;
                drop(permit);
            });
        } else if let Ok(permit) = refusing.clone().try_acquire_owned() {
            tasks.spawn(async move {
                over_capacity(accepted, &options).await;
                drop(permit);
            });
        } else {
            tracing::debug!(
                peer = accepted.peer(),
                "far over capacity: closed unanswered"
            );
        }
    })
    .await;
    drop(listener);
    let grace = options.linger;
    let _ = tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
    tasks.shutdown().await;
    Ok(())
}

/// Accepts connections on `listener` until `stop` completes, handing each to
/// `accept` (which spawns its task on `tasks`) and reaping finished tasks as
/// it goes. A failed accept (out of file descriptors, or a peer that left
/// during accept) is logged, and accepting goes on after a breath, as Go's
/// server does.
pub(crate) async fn accept_until(
    listener: &Listener,
    stop: impl Future<Output = ()>,
    tasks: &mut JoinSet<()>,
    mut accept: impl FnMut(Accepted, &mut JoinSet<()>),
) {
    let mut stop = std::pin::pin!(stop);
    loop {
        let accepted = tokio::select! {
            () = &mut stop => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok(accepted) => accept(accepted, tasks),
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Serves one accepted connection to its end.
async fn connection(accepted: Accepted, options: &ServeOptions) {
    let peer = accepted.peer().to_string();
    let stream = match accepted.establish(options.head_timeout).await {
        Ok(stream) => stream,
        Err(e) => {
            tracing::debug!(%peer, error = %e, "no connection");
            return;
        }
    };
    let result = match options.protocol {
        Proto::Connect => raw_echo(stream).await.map_err(|e| e.to_string()),
        _ => serve_conn(stream, options).await,
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// Answers `503` to a connection the server has no room for, and closes it
/// gracefully; the raw echo, which has no HTTP to answer with, just closes.
async fn over_capacity(accepted: Accepted, options: &ServeOptions) {
    let Ok(stream) = accepted.establish(options.head_timeout).await else {
        return;
    };
    if options.protocol == Proto::Connect {
        return;
    }
    let mut conn = ServerConn::new(stream, options.config());
    conn.set_linger(Some(options.linger));
    let answer = response(
        503,
        "Service Unavailable",
        vec![
            Header::new("Connection", "close"),
            Header::new("Retry-After", "1"),
        ],
    );
    conn.write_response(&answer, b"too many connections\n");
    let _ = tokio::time::timeout(options.closing_limit(), conn.close()).await;
}

fn response(status: u16, reason: &str, headers: Vec<Header>) -> ResponseHead {
    ResponseHead {
        status,
        reason: reason.into(),
        headers,
    }
}

/// Serves one HTTP/1.1 connection: switches on the protocol's upgrade, answers
/// `426` to any other upgrade and `200` to plain requests (keep-alive), and a
/// request it cannot read with `reject`'s status and a graceful close.
pub async fn serve_conn<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    options: &ServeOptions,
) -> Result<(), String> {
    let protocol = options.protocol;
    let mut conn = ServerConn::new(stream, options.config());
    conn.set_linger(Some(options.linger));
    loop {
        let request = match conn.read_request().await {
            Ok(Some(request)) => request,
            Ok(None) => {
                let _ = tokio::time::timeout(options.closing_limit(), conn.close()).await;
                return Ok(());
            }
            Err(e) => {
                let _ = tokio::time::timeout(options.closing_limit(), conn.reject(&e)).await;
                return Err(e.to_string());
            }
        };
        let head = &request.head;
        if head::has_token(&head.headers, "expect", "100-continue") {
            conn.write_continue();
        }
        let token = head::header_value(&head.headers, "upgrade").map(str::to_ascii_lowercase);
        let wanted = match protocol {
            Proto::Echo => "echo",
            Proto::Docker => "tcp",
            Proto::WebSocket => "websocket",
            Proto::Connect => "",
        };
        let switch = head.wants_upgrade() && token.as_deref() == Some(wanted);
        let attach = protocol == Proto::Docker
            && !head.wants_upgrade()
            && head.method.eq_ignore_ascii_case("POST")
            && head.target.contains("/attach");
        if switch {
            let answer = match protocol {
                Proto::Docker => response(
                    101,
                    "UPGRADED",
                    vec![
                        Header::new("Content-Type", crate::scenario::RAW_STREAM),
                        Header::new("Connection", "Upgrade"),
                        Header::new("Upgrade", "tcp"),
                    ],
                ),
                Proto::WebSocket => {
                    let key = head::header_value(&head.headers, "sec-websocket-key").unwrap_or("");
                    response(
                        101,
                        "Switching Protocols",
                        vec![
                            Header::new("Connection", "Upgrade"),
                            Header::new("Upgrade", "websocket"),
                            Header::new("Sec-WebSocket-Accept", websocket::accept(key.trim())),
                        ],
                    )
                }
                _ => response(
                    101,
                    "Switching Protocols",
                    vec![
                        Header::new("Connection", "Upgrade"),
                        Header::new("Upgrade", wanted),
                    ],
                ),
            };
            conn.write_response(&answer, &[]);
            conn.flush().await.map_err(|e| e.to_string())?;
            let stream = conn.hijack().await.map_err(|e| e.to_string())?;
            return match protocol {
                Proto::WebSocket => ws_echo(stream).await,
                _ => raw_echo(stream).await,
            }
            .map_err(|e| e.to_string());
        }
        if attach {
            let answer = response(
                200,
                "OK",
                vec![Header::new("Content-Type", crate::scenario::RAW_STREAM)],
            );
            // Docker's own bytes (moby's postContainersAttach): no Content-Length,
            // which `write_response` would add; a `Content-Length: 0` tells a proxy
            // the response is over and the connection reusable (Varnish then pipes
            // the next upgrade over this hijacked connection).
            conn.write(&answer.to_bytes());
            conn.flush().await.map_err(|e| e.to_string())?;
            let stream = conn.hijack_explicit().await.map_err(|e| e.to_string())?;
            return raw_echo(stream).await.map_err(|e| e.to_string());
        }
        if head.wants_upgrade() {
            let answer = response(
                426,
                "Upgrade Required",
                vec![Header::new("Upgrade", wanted)],
            );
            conn.write_response(&answer, b"unsupported upgrade\n");
        } else {
            let answer = response(200, "OK", Vec::new());
            conn.write_response(&answer, b"hijack-harness echo server\n");
        }
        conn.flush().await.map_err(|e| e.to_string())?;
        // RFC 9112 §9.6: a server that receives "close" "MUST initiate closure of
        // the connection after it sends the final response" (an HTTP/1.0 request
        // without keep-alive carries it from the parser).
        if head::has_token(&head.headers, "connection", "close") {
            let _ = tokio::time::timeout(options.closing_limit(), conn.close()).await;
            return Ok(());
        }
    }
}

/// Echoes every byte until EOF, then shuts down the write half.
pub async fn raw_echo<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) -> io::Result<()> {
    let mut buf = vec![0u8; READ_SIZE];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        stream.write_all(&buf[..n]).await?;
    }
    stream.shutdown().await
}

/// Echoes WebSocket data frames; answers a close frame with a close frame and
/// shuts down; shuts down at EOF.
pub async fn ws_echo<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) -> io::Result<()> {
    let mut pending = Vec::new();
    let mut buf = vec![0u8; READ_SIZE];
    loop {
        // An invalid frame is left pending, as an incomplete one is: the echo
        // answers nothing more, and the client's FIN ends the conversation.
        while let Ok(Some((frame, used))) = websocket::decode(&pending, DECODE_LIMIT) {
            pending.drain(..used);
            let answer = match frame.opcode {
                OpCode::Continuation | OpCode::Text | OpCode::Binary => frame.opcode,
                OpCode::Close => {
                    let close = Frame::new(OpCode::Close, frame.payload).encode();
                    stream.write_all(&close).await?;
                    stream.shutdown().await?;
                    while stream.read(&mut buf).await? > 0 {}
                    return Ok(());
                }
                OpCode::Ping => OpCode::Pong,
                OpCode::Pong => continue,
            };
            stream
                .write_all(&Frame::new(answer, frame.payload).encode())
                .await?;
        }
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return stream.shutdown().await;
        }
        pending.extend_from_slice(&buf[..n]);
    }
}
