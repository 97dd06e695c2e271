//! The reference echo servers, for testing clients and proxies by hand and as
//! the upstream of a proxy under test: `echo`, `docker` and `websocket` over
//! HTTP/1.1 with the reference hand-over, and a raw TCP echo (what a `CONNECT`
//! tunnel reaches).

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::reference::head::{self, Header, ResponseHead};
use crate::reference::{Config, ServerConn};
use crate::suite::Proto;

use super::websocket;

const READ_SIZE: usize = 16 * 1024;

/// Accepts connections on `listener` forever, serving each with the reference
/// echo server for `protocol` (`Connect` means a raw TCP echo).
pub async fn serve(listener: TcpListener, protocol: Proto) -> io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        // Best effort: a peer that already left is not the server's problem.
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let result = match protocol {
                Proto::Connect => raw_echo(stream).await.map_err(|e| e.to_string()),
                _ => serve_conn(stream, protocol).await,
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}

fn response(status: u16, reason: &str, headers: Vec<Header>) -> ResponseHead {
    ResponseHead {
        status,
        reason: reason.into(),
        headers,
    }
}

/// Serves one HTTP/1.1 connection: switches on the protocol's upgrade, answers
/// `426` to any other upgrade and `200` to plain requests (keep-alive).
pub async fn serve_conn(stream: TcpStream, protocol: Proto) -> Result<(), String> {
    let mut conn = ServerConn::new(stream, Config::default());
    loop {
        let Some(request) = conn.read_request().await.map_err(|e| e.to_string())? else {
            return Ok(());
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
                        Header::new("Content-Type", crate::subject::app::RAW_STREAM),
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
                vec![Header::new("Content-Type", crate::subject::app::RAW_STREAM)],
            );
            conn.write_response(&answer, &[]);
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
        while let Some((opcode, payload, used)) = websocket::parse_frame(&pending) {
            pending.drain(..used);
            match opcode {
                0x0..=0x2 => {
                    stream
                        .write_all(&websocket::server_frame(opcode, &payload))
                        .await?
                }
                0x8 => {
                    stream
                        .write_all(&websocket::server_frame(0x8, &payload))
                        .await?;
                    stream.shutdown().await?;
                    while stream.read(&mut buf).await? > 0 {}
                    return Ok(());
                }
                0x9 => {
                    stream
                        .write_all(&websocket::server_frame(0xA, &payload))
                        .await?
                }
                _ => {}
            }
        }
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return stream.shutdown().await;
        }
        pending.extend_from_slice(&buf[..n]);
    }
}
