//! The client side of the hand-over: Go's `ClientConn` + `Hijack`, Docker's `hijack.go`.
//!
//! A [`ClientConn`] writes a request, reads the response head (skipping interim
//! `1xx` answers such as `100 Continue`), and hands over what it read past that
//! head. It reads nothing beyond the head before the hand-over: a client that
//! reads on, looking for a body a `101` cannot have, swallows the first bytes the
//! server sent in the new protocol.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::buffered::{BufferedConn, Config};
use super::error::{Error, Result};
use super::head::{self, RequestHead, ResponseHead};
use super::hijacked::Hijacked;
use super::shared::Shared;

/// How a request body is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestBody {
    /// No body.
    Empty,
    /// A body with `Content-Length` (the header must be in the head).
    Length(Bytes),
    /// A chunked body (the `Transfer-Encoding` header must be in the head); no chunks
    /// means only the last chunk `0\r\n\r\n`.
    Chunked(Vec<Bytes>),
}

/// The client end of an HTTP/1.1 connection.
#[derive(Debug)]
pub struct ClientConn<IO> {
    conn: BufferedConn<IO>,
    connect: bool,
    response: Option<u16>,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> ClientConn<IO> {
    /// A client over `io` with the given buffer sizes and limits.
    pub fn new(io: IO, config: Config) -> Self {
        ClientConn {
            conn: BufferedConn::new(io, config),
            connect: false,
            response: None,
        }
    }

    /// Writes and flushes a request.
    pub fn send(
        &mut self,
        head: &RequestHead,
        body: &RequestBody,
    ) -> impl Future<Output = Result<()>> {
        Shared::new(async move {
            self.connect = head.is_connect();
            self.response = None;
            self.conn.buffer_write(&head.to_bytes());
            match body {
                RequestBody::Empty => {}
                RequestBody::Length(bytes) => self.conn.buffer_write(bytes),
                RequestBody::Chunked(chunks) => {
                    self.conn.buffer_write(&head::encode_chunked(chunks))
                }
            }
            self.conn.flush().await
        })
    }

    /// Writes and flushes the application's own bytes after the request, before
    /// the response has arrived: an optimistic upgrade
    /// (draft-ietf-httpbis-optimistic-upgrade). They are the new protocol's first
    /// bytes if the answer switches; if it does not, the server reads them as the
    /// next request, so a client that sent them does not use the connection again.
    pub fn write_early(&mut self, data: &[u8]) -> impl Future<Output = Result<()>> {
        Shared::new(async move {
            self.conn.buffer_write(data);
            self.conn.flush().await
        })
    }

    /// Reads the final response head, skipping interim (`1xx`, not `101`) responses.
    pub fn read_response(&mut self) -> impl Future<Output = Result<ResponseHead>> {
        Shared::new(async move {
            loop {
                let head = self
                    .conn
                    .read_head("before the end of the response head", head::parse_response)
                    .await?
                    .ok_or(Error::UnexpectedEof("before the response"))?;
                if !head.is_interim() {
                    self.response = Some(head.status);
                    return Ok(head);
                }
            }
        })
    }

    /// Hands the connection over after a response that switched protocols.
    pub fn hijack(self) -> Result<Hijacked<IO>> {
        self.conn.hijack_after(self.response, self.connect)
    }

    /// Hands the connection over after any response head (Go's `ClientConn.Hijack`).
    pub fn hijack_explicit(self) -> Hijacked<IO> {
        self.conn.into_hijacked()
    }

    /// The buffered connection, for variants of the reference.
    pub fn into_buffered(self) -> BufferedConn<IO> {
        self.conn
    }
}

/// How long a connection may sit idle before the kernel probes it (Docker uses 30 s).
pub const KEEPALIVE: Duration = Duration::from_secs(30);

/// Opens a TCP connection for a client that will hijack it.
///
/// Sets `TCP_NODELAY` (the new protocol is often interactive) and TCP keepalive,
/// because a hijacked stream can stay quiet for hours (an attached shell) and
/// middleboxes drop idle flows silently. "Connection refused" becomes an error that
/// names the address and asks whether the server is running.
pub async fn connect(addr: SocketAddr) -> Result<TcpStream> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::ConnectionRefused => Error::ConnectionRefused {
                addr: addr.to_string(),
                source,
            },
            _ => Error::Io(source),
        })?;
    stream.set_nodelay(true)?;
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(KEEPALIVE)
        .with_interval(KEEPALIVE);
    socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive)?;
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_response_that_never_comes_times_out() {
        let (near, _far) = tokio::io::duplex(1024);
        let config = Config {
            head_timeout: Some(std::time::Duration::from_secs(30)),
            ..Config::default()
        };
        let mut conn = ClientConn::new(near, config);
        let head = RequestHead {
            method: "GET".into(),
            target: "/".into(),
            headers: vec![],
        };
        conn.send(&head, &RequestBody::Empty).await.unwrap();
        let err = conn.read_response().await.unwrap_err();
        assert!(matches!(err, Error::HeadTimeout(_)), "{err}");
    }

    #[tokio::test]
    async fn refused_connection_names_the_address() {
        // Bind and drop to find a port that nothing listens on.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let err = connect(addr).await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&addr.to_string()) && text.contains("is the server running"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn connect_sets_keepalive() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stream = connect(listener.local_addr().unwrap()).await.unwrap();
        let sock = socket2::SockRef::from(&stream);
        assert!(sock.keepalive().unwrap());
        assert_eq!(sock.keepalive_time().unwrap(), KEEPALIVE);
        assert!(stream.nodelay().unwrap());
    }
}
