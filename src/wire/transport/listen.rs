//! Listening for peers: `serve`, the upstream echo server of proxy runs, and
//! the harness's server in client runs. TCP or a Unix socket, with TLS when
//! the listener has a [`ServerTls`]; every accepted connection becomes the same
//! [`BoxIo`] a client connection is.
//!
//! Accepting is split in two so that one slow or silent peer cannot stall the
//! accept loop: [`Listener::accept`] takes the socket, and
//! [`Accepted::establish`] (in the connection's own task) runs the TLS
//! handshake within a time limit.
//!
//! A Unix listener removes its socket file when dropped, and replaces a stale
//! one (a socket file nothing listens on, left by a crash) when it binds; a
//! path that is not a socket, or a socket something still listens on, is left
//! alone and reported.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::net::{TcpListener, UnixListener};

use super::tls::ServerTls;
use super::{Address, BoxIo, Endpoint, TransportError};

/// A bound listener.
#[derive(Debug)]
pub struct Listener {
    socket: Socket,
    tls: Option<ServerTls>,
    address: Address,
}

#[derive(Debug)]
enum Socket {
    Tcp(TcpListener),
    /// The listener and the socket file it owns.
    Unix(UnixListener, PathBuf),
}

impl Listener {
    /// Binds `endpoint` (the first of its addresses that binds), with TLS when given.
    pub async fn bind(
        endpoint: &Endpoint,
        tls: Option<ServerTls>,
    ) -> Result<Listener, TransportError> {
        let failed = |error| TransportError::Listen {
            endpoint: endpoint.to_string(),
            error,
        };
        let mut last = None;
        for address in endpoint.lookup().await? {
            let bound = match &address {
                Address::Tcp(addr) => TcpListener::bind(addr).await.map(Socket::Tcp),
                Address::Unix(path) => bind_unix(path).map(|l| Socket::Unix(l, path.clone())),
            };
            match bound {
                Ok(socket) => return Listener::new(socket, tls).map_err(failed),
                Err(e) => last = Some(e),
            }
        }
        Err(failed(
            last.unwrap_or_else(|| io::ErrorKind::AddrNotAvailable.into()),
        ))
    }

    /// A listener over an already bound TCP socket.
    pub fn from_tcp(listener: TcpListener, tls: Option<ServerTls>) -> io::Result<Listener> {
        Listener::new(Socket::Tcp(listener), tls)
    }

    fn new(socket: Socket, tls: Option<ServerTls>) -> io::Result<Listener> {
        let address = match &socket {
            Socket::Tcp(l) => Address::Tcp(l.local_addr()?),
            Socket::Unix(_, path) => Address::Unix(path.clone()),
        };
        Ok(Listener {
            socket,
            tls,
            address,
        })
    }

    /// Where it listens (with the port the system chose, if it was 0).
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// Its TLS configuration, if it speaks TLS.
    pub fn tls(&self) -> Option<&ServerTls> {
        self.tls.as_ref()
    }

    /// Takes the next connection, before any TLS handshake.
    pub async fn accept(&self) -> Result<Accepted, TransportError> {
        let failed = |error| TransportError::Io {
            address: self.address.to_string(),
            error,
        };
        let (stream, peer): (BoxIo, String) = match &self.socket {
            Socket::Tcp(l) => {
                let (stream, peer) = l.accept().await.map_err(failed)?;
                // Best effort: a peer that already left is not the listener's problem.
                let _ = stream.set_nodelay(true);
                (Box::new(stream), peer.to_string())
            }
            Socket::Unix(l, path) => {
                let (stream, _) = l.accept().await.map_err(failed)?;
                (
                    Box::new(stream),
                    format!("a peer on unix:{}", path.display()),
                )
            }
        };
        Ok(Accepted {
            stream,
            peer,
            tls: self.tls.clone(),
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Socket::Unix(_, path) = &self.socket {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Binds a Unix socket at `path`, replacing a stale socket file.
fn bind_unix(path: &Path) -> io::Result<UnixListener> {
    match UnixListener::bind(path) {
        Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
            use std::os::unix::fs::FileTypeExt;
            let is_socket = std::fs::symlink_metadata(path)?.file_type().is_socket();
            let alive = std::os::unix::net::UnixStream::connect(path).is_ok();
            if !is_socket || alive {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    if alive {
                        "something is listening there already"
                    } else {
                        "the path exists and is not a socket"
                    },
                ));
            }
            std::fs::remove_file(path)?;
            UnixListener::bind(path)
        }
        other => other,
    }
}

/// A connection taken from a [`Listener`], its TLS handshake still to come.
pub struct Accepted {
    stream: BoxIo,
    peer: String,
    tls: Option<ServerTls>,
}

impl std::fmt::Debug for Accepted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accepted")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

impl Accepted {
    /// Who connected (an address, or the socket path).
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// The stream, after the TLS handshake if the listener speaks TLS, which
    /// must finish within `timeout`.
    pub async fn establish(self, timeout: Duration) -> Result<BoxIo, TransportError> {
        let Some(tls) = self.tls else {
            return Ok(self.stream);
        };
        tokio::time::timeout(timeout, tls.handshake(self.stream, &self.peer))
            .await
            .map_err(|_| TransportError::Timeout {
                address: self.peer.clone(),
                after: timeout,
            })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stale_socket_file_is_replaced_and_removed_on_drop() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.sock");
        // A socket file nothing listens on: what a crashed server leaves.
        drop(std::os::unix::net::UnixListener::bind(&path).expect("bind"));
        assert!(path.exists());
        let endpoint = Endpoint::Unix(path.clone());
        let listener = Listener::bind(&endpoint, None)
            .await
            .expect("rebinds a stale socket");
        assert_eq!(listener.address(), &Address::Unix(path.clone()));
        drop(listener);
        assert!(!path.exists(), "the socket file is removed on drop");
    }

    #[tokio::test]
    async fn a_live_socket_or_a_regular_file_is_left_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let live = dir.path().join("live.sock");
        let _first = Listener::bind(&Endpoint::Unix(live.clone()), None)
            .await
            .expect("bind");
        let err = Listener::bind(&Endpoint::Unix(live.clone()), None)
            .await
            .expect_err("in use");
        assert!(
            err.to_string()
                .contains("something is listening there already"),
            "{err}"
        );
        let file = dir.path().join("notes.txt");
        std::fs::write(&file, b"keep me").expect("write");
        let err = Listener::bind(&Endpoint::Unix(file.clone()), None)
            .await
            .expect_err("not a socket");
        assert!(err.to_string().contains("not a socket"), "{err}");
        assert_eq!(std::fs::read(&file).expect("still there"), b"keep me");
    }
}
