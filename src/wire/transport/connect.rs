//! Connecting to a resolved [`Address`]: TCP with `TCP_NODELAY` (so Nagle
//! never holds a small paced write back to merge it with the next), or a Unix
//! stream socket, then TLS on top when asked. The whole of it, TLS handshake
//! included, is bounded by one timeout.
//!
//! Resolving an [`Endpoint`] is connecting too ([`Endpoint::resolve`]): the
//! first of its addresses that accepts a plain connection.
//!
//! [`connect_tuned`] also hands back the TCP socket itself (a duplicate of its
//! descriptor), for a caller that sets socket options while the stream is
//! wrapped in TLS and recording layers that hide it.

use std::time::Duration;

use tokio::net::{TcpStream, UnixStream};

use super::tls::ClientTls;
use super::{Address, BoxIo, Endpoint, TransportError};

/// Connects to `address`, with TLS when `tls` is given, within `timeout`.
pub async fn connect(
    address: &Address,
    tls: Option<&ClientTls>,
    timeout: Duration,
) -> Result<BoxIo, TransportError> {
    connect_tuned(address, tls, timeout)
        .await
        .map(|connection| connection.io)
}

/// A connection, and its TCP socket for setting options on.
pub struct Connection {
    /// The stream: plain, or TLS over the socket.
    pub io: BoxIo,
    /// The TCP socket under `io` (a duplicate of its descriptor: options set
    /// on it are the connection's), or `None` over a Unix socket, where TCP's
    /// options do not exist.
    pub tcp: Option<std::net::TcpStream>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("tcp", &self.tcp)
            .finish_non_exhaustive()
    }
}

/// Like [`connect`], keeping a handle on the TCP socket under the stream.
pub async fn connect_tuned(
    address: &Address,
    tls: Option<&ClientTls>,
    timeout: Duration,
) -> Result<Connection, TransportError> {
    let attempt = async {
        let (stream, tcp) = match address {
            Address::Tcp(addr) => {
                let stream = tcp(address, *addr).await?;
                let handle = duplicate(&stream);
                (Box::new(stream) as BoxIo, handle)
            }
            Address::Unix(_) => (plain(address).await?, None),
        };
        let io = match tls {
            None => stream,
            Some(tls) => tls.handshake(stream, address).await?,
        };
        Ok(Connection { io, tcp })
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .map_err(|_| TransportError::Timeout {
            address: address.to_string(),
            after: timeout,
        })?
}

impl Endpoint {
    /// Resolves the endpoint once: the first of its addresses that accepts a
    /// connection (plain, without TLS; the probe connection is closed at once).
    /// When none does, the error is the first address's.
    pub async fn resolve(&self, timeout: Duration) -> Result<Address, TransportError> {
        let candidates = self.lookup().await?;
        let mut first_error = None;
        for address in candidates {
            match open(&address, timeout).await {
                Ok(_probe) => return Ok(address),
                Err(e) => {
                    tracing::debug!(%address, error = %e, "candidate address refused");
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or_else(|| TransportError::Resolve {
            host: self.to_string(),
            reason: "no address".into(),
        }))
    }
}

/// Connects without TLS, within `timeout`: what resolving probes with.
async fn open(address: &Address, timeout: Duration) -> Result<BoxIo, TransportError> {
    tokio::time::timeout(timeout, plain(address))
        .await
        .map_err(|_| TransportError::Timeout {
            address: address.to_string(),
            after: timeout,
        })?
}

async fn plain(address: &Address) -> Result<BoxIo, TransportError> {
    match address {
        Address::Tcp(addr) => Ok(Box::new(tcp(address, *addr).await?)),
        Address::Unix(path) => Ok(Box::new(
            UnixStream::connect(path)
                .await
                .map_err(|e| TransportError::connecting(address, e))?,
        )),
    }
}

/// A second handle on `stream`'s socket (`None` if the descriptor cannot be
/// duplicated: the options are then left as they are).
fn duplicate(stream: &TcpStream) -> Option<std::net::TcpStream> {
    use std::os::fd::AsFd;
    stream
        .as_fd()
        .try_clone_to_owned()
        .ok()
        .map(std::net::TcpStream::from)
}

async fn tcp(address: &Address, addr: std::net::SocketAddr) -> Result<TcpStream, TransportError> {
    let failed = |e| TransportError::connecting(address, e);
    let stream = TcpStream::connect(addr).await.map_err(failed)?;
    stream.set_nodelay(true).map_err(failed)?;
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_unix_socket_carries_bytes_and_half_close() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("echo.sock");
        let listener = tokio::net::UnixListener::bind(&path).expect("bind");
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.expect("accept");
            let mut got = Vec::new();
            stream.read_to_end(&mut got).await.expect("read");
            stream.write_all(&got).await.expect("write");
        });
        let address = Address::Unix(path);
        let mut stream = connect(&address, None, Duration::from_secs(2))
            .await
            .expect("connect");
        stream.write_all(b"ping").await.expect("write");
        stream.shutdown().await.expect("half-close");
        let mut back = Vec::new();
        stream.read_to_end(&mut back).await.expect("read");
        assert_eq!(back, b"ping");
        server.await.expect("server");
    }

    #[tokio::test]
    async fn no_socket_file_is_named_with_its_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let address = Address::Unix(dir.path().join("docker.sock"));
        let Err(err) = connect(&address, None, Duration::from_secs(2)).await else {
            panic!("connected to a socket that does not exist");
        };
        let text = err.to_string();
        assert!(text.starts_with("nothing is listening on unix:"), "{text}");
        assert!(
            text.ends_with("docker.sock (no such socket file): is the daemon running?"),
            "{text}"
        );
    }

    #[test]
    fn a_socket_the_user_may_not_open_says_so() {
        // Mapped, not provoked: as root (CI) a mode-000 socket opens anyway.
        let address = Address::Unix("/var/run/docker.sock".into());
        let err = TransportError::connecting(&address, std::io::ErrorKind::PermissionDenied.into());
        assert!(
            err.to_string()
                .starts_with("permission denied on unix:/var/run/docker.sock: the socket belongs to another user or group"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn tcp_connections_have_nodelay() {
        let listener = tokio::net::TcpListener::bind("127.0.0.2:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let stream = tcp(&Address::Tcp(addr), addr).await.expect("connect");
        assert!(stream.nodelay().expect("read the option"));
    }
}
