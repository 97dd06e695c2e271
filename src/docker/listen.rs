//! Where the stub daemon listens for one case, and how a client command is told.
//!
//! Docker clients name the daemon as `-H tcp://HOST:PORT` or `-H
//! unix:///path/docker.sock` (`DOCKER_HOST`). The command's placeholders:
//! `{addr}` is `HOST:PORT` (or the socket's path), `{host}` the Docker form.
//! `{ca}` (a TLS daemon's CA file) needs the TLS transport, which is not here yet.
//!
//! Each accepted connection is a boxed `AsyncRead + AsyncWrite`, so the stub
//! serves any transport; another listener (TLS over either) only has to hand
//! over such a box.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpListener, UnixListener};

use crate::subject::BoxIo;

/// The transport a case's daemon listens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// TCP on 127.0.0.1, a free port.
    Tcp,
    /// A Unix stream socket in the temporary directory (Docker's default transport).
    Unix,
}

impl Transport {
    /// `tcp` or `unix`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Unix => "unix",
        }
    }
}

enum Inner {
    Tcp(TcpListener),
    Unix(UnixListener, PathBuf),
}

/// A bound listener, and the names a client command uses for it.
pub struct Listening {
    inner: Inner,
    /// `HOST:PORT`, or the socket's path.
    pub addr: String,
    /// Docker's form: `tcp://HOST:PORT` or `unix:///path`.
    pub host: String,
}

impl std::fmt::Debug for Listening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listening")
            .field("host", &self.host)
            .finish()
    }
}

/// Why a client command cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the command uses {0}, which needs the TLS transport (not available here yet)")]
pub struct NeedsTls(pub &'static str);

static SOCKETS: AtomicUsize = AtomicUsize::new(0);

impl Listening {
    /// Binds a listener on loopback or in the temporary directory.
    pub async fn bind(transport: Transport) -> io::Result<Listening> {
        match transport {
            Transport::Tcp => {
                let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
                let addr = listener.local_addr()?.to_string();
                Ok(Listening {
                    inner: Inner::Tcp(listener),
                    host: format!("tcp://{addr}"),
                    addr,
                })
            }
            Transport::Unix => {
                let n = SOCKETS.fetch_add(1, Ordering::Relaxed);
                let path = std::env::temp_dir().join(format!(
                    "hijack-harness-docker-{}-{n}.sock",
                    std::process::id()
                ));
                // A socket file left by a killed earlier run of this process id.
                let _ = std::fs::remove_file(&path);
                let listener = UnixListener::bind(&path)?;
                let addr = path.display().to_string();
                Ok(Listening {
                    host: format!("unix://{addr}"),
                    addr,
                    inner: Inner::Unix(listener, path),
                })
            }
        }
    }

    /// Accepts one connection (`TCP_NODELAY` on TCP, so cuts hold).
    pub async fn accept(&self) -> io::Result<BoxIo> {
        match &self.inner {
            Inner::Tcp(listener) => {
                let (stream, _) = listener.accept().await?;
                stream.set_nodelay(true)?;
                Ok(Box::new(stream))
            }
            Inner::Unix(listener, _) => {
                let (stream, _) = listener.accept().await?;
                Ok(Box::new(stream))
            }
        }
    }

    /// `command` with its placeholders replaced.
    pub fn command(&self, command: &str) -> Result<String, NeedsTls> {
        if command.contains("{ca}") {
            return Err(NeedsTls("{ca}"));
        }
        Ok(command
            .replace("{addr}", &self.addr)
            .replace("{host}", &self.host))
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        if let Inner::Unix(_, path) = &self.inner {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn placeholders_take_docker_forms_and_the_socket_is_removed() {
        let tcp = Listening::bind(Transport::Tcp).await.unwrap();
        let cmd = tcp.command("docker -H {host} attach c1 # {addr}").unwrap();
        assert!(cmd.starts_with("docker -H tcp://127.0.0.1:"), "{cmd}");
        assert!(cmd.ends_with(&format!("# {}", tcp.addr)));
        let unix = Listening::bind(Transport::Unix).await.unwrap();
        assert!(unix.host.starts_with("unix:///"), "{}", unix.host);
        let path = PathBuf::from(&unix.addr);
        assert!(path.exists());
        drop(unix);
        assert!(!path.exists());
        assert_eq!(tcp.command("x --tlscacert {ca}"), Err(NeedsTls("{ca}")));
    }
}
