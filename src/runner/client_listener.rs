//! Where the harness listens in a client run, and how the client command is
//! told: one setup for the echo contract (`--client-cmd`) and for Docker
//! clients (`--client-cmd --protocol docker`), over TCP, a Unix socket, and TLS
//! over either, through [`crate::wire::transport::Listener`].
//!
//! A [`ClientListener`] is what the user asked for, made ready once per run
//! (the throw-away certificate is made, and its CA file written, only once);
//! [`ClientListener::bind`] gives each case a [`Listening`] of its own: a fresh
//! port (or socket), so nothing a killed client of the last case left in the
//! accept queue reaches the next one.
//!
//! The command's placeholders ([`Listening::command`]):
//!
//! | placeholder | TCP                    | Unix socket              |
//! |-------------|------------------------|--------------------------|
//! | `{addr}`    | `127.0.0.1:PORT`       | `/tmp/.../hijack-harness.sock` |
//! | `{host}`    | `tcp://127.0.0.1:PORT` | `unix:///tmp/.../hijack-harness.sock` (Docker's `-H`, `DOCKER_HOST`) |
//! | `{ca}`      | the CA file of the harness's throw-away certificate (TLS only) | the same |
//!
//! `{ca}` without TLS is an error that says so, never an empty string: a client
//! told to trust nothing would fail for a reason that is not its own.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::wire::transport::{Accepted, Address, Endpoint, Listener, ServerTls, TransportError};

/// The file name of a fresh socket, in a temporary directory of its own.
const SOCKET_NAME: &str = "hijack-harness.sock";

/// Where to listen, as the user typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAt {
    /// A TCP address (port 0: a free one) or a Unix socket path.
    Endpoint(Endpoint),
    /// A fresh Unix socket in a new temporary directory, per case (`unix:` with
    /// no path).
    FreshUnixSocket,
}

impl ListenAt {
    /// Parses `--listen`: `HOST:PORT`, `tcp://HOST:PORT`, `unix:PATH`,
    /// `unix://PATH`, or `unix:` alone for a fresh socket.
    pub fn parse(text: &str) -> Result<ListenAt, TransportError> {
        match text.trim() {
            "unix:" | "unix://" => Ok(ListenAt::FreshUnixSocket),
            other => Endpoint::parse(other).map(ListenAt::Endpoint),
        }
    }
}

impl Default for ListenAt {
    /// `127.0.0.1:0`: loopback, a free port per case.
    fn default() -> Self {
        ListenAt::Endpoint(Endpoint::Tcp {
            host: "127.0.0.1".into(),
            port: 0,
        })
    }
}

impl fmt::Display for ListenAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenAt::Endpoint(e) => write!(f, "{e}"),
            ListenAt::FreshUnixSocket => f.write_str("unix: (a fresh socket per case)"),
        }
    }
}

/// Whether and how the harness speaks TLS to the client.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TlsChoice {
    /// Plain TCP or Unix.
    #[default]
    Plain,
    /// A throw-away CA and a certificate it signs (rcgen), the CA file given to
    /// the command as `{ca}`.
    SelfSigned,
    /// The user's certificate chain and key (PEM).
    Files {
        /// `--tls-cert`.
        cert: PathBuf,
        /// `--tls-key`.
        key: PathBuf,
    },
}

/// Why a client command cannot be built from its template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceholderError {
    /// `{ca}` in a run without TLS.
    #[error(
        "the command uses {{ca}}, the CA file of the harness's TLS certificate, but this run is not over TLS: add --tls"
    )]
    CaWithoutTls,
    /// `{ca}` with the user's own certificate: the harness has no CA file to give.
    #[error(
        "the command uses {{ca}}, but with --tls-cert the certificate is yours and the harness has no CA file: write the path of your CA instead of {{ca}}"
    )]
    CaOfUserCertificate,
    /// Neither `{addr}` nor `{host}`: the client would not know where to connect.
    #[error(
        "the command has neither {{addr}} nor {{host}}: the client must be told where the harness listens"
    )]
    NoAddress,
}

#[derive(Debug)]
struct Ready {
    at: ListenAt,
    tls: Option<ServerTls>,
    user_certificate: bool,
    /// Holds the throw-away CA file for the whole run.
    _ca_dir: Option<tempfile::TempDir>,
}

/// Where client runs listen, ready for every case of a run (cheap to clone).
#[derive(Debug, Clone)]
pub struct ClientListener {
    ready: Arc<Ready>,
}

impl Default for ClientListener {
    /// Plain TCP on `127.0.0.1`, a free port per case.
    fn default() -> Self {
        ClientListener::plain(ListenAt::default())
    }
}

impl ClientListener {
    /// Plain TCP or Unix, no TLS.
    pub fn plain(at: ListenAt) -> ClientListener {
        ClientListener {
            ready: Arc::new(Ready {
                at,
                tls: None,
                user_certificate: false,
                _ca_dir: None,
            }),
        }
    }

    /// A fresh Unix socket per case, no TLS.
    pub fn unix() -> ClientListener {
        ClientListener::plain(ListenAt::FreshUnixSocket)
    }

    /// Makes `at` and `tls` ready: reads the user's certificate, or makes a
    /// throw-away one (for `localhost`, `127.0.0.1`, `::1` and the listening
    /// host) and writes its CA file into a temporary directory kept until the
    /// last clone is dropped.
    pub fn new(at: ListenAt, tls: TlsChoice) -> Result<ClientListener, TransportError> {
        let (tls, user_certificate, ca_dir) = match tls {
            TlsChoice::Plain => (None, false, None),
            TlsChoice::Files { cert, key } => {
                (Some(ServerTls::from_pem_files(&cert, &key)?), true, None)
            }
            TlsChoice::SelfSigned => {
                let dir = temp_dir("ca")?;
                let mut names: Vec<String> =
                    ["localhost", "127.0.0.1", "::1"].map(String::from).into();
                if let ListenAt::Endpoint(endpoint) = &at
                    && let Some(host) = endpoint.host()
                    && !names.iter().any(|n| n == host)
                    && !host
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_unspecified())
                {
                    names.push(host.to_string());
                }
                let tls = ServerTls::self_signed(&names, &dir.path().join("ca.pem"))?;
                (Some(tls), false, Some(dir))
            }
        };
        Ok(ClientListener {
            ready: Arc::new(Ready {
                at,
                tls,
                user_certificate,
                _ca_dir: ca_dir,
            }),
        })
    }

    /// Whether the harness speaks TLS to the client.
    pub fn is_tls(&self) -> bool {
        self.ready.tls.is_some()
    }

    /// The throw-away CA file, when the harness made the certificate.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ready.tls.as_ref().and_then(|t| t.ca_file())
    }

    /// Where it listens, as typed.
    pub fn at(&self) -> &ListenAt {
        &self.ready.at
    }

    /// Checks a command template once, before any case runs.
    pub fn check(&self, template: &str) -> Result<(), PlaceholderError> {
        if !template.contains("{addr}") && !template.contains("{host}") {
            return Err(PlaceholderError::NoAddress);
        }
        if template.contains("{ca}") {
            if self.ready.user_certificate {
                return Err(PlaceholderError::CaOfUserCertificate);
            }
            if self.ready.tls.is_none() {
                return Err(PlaceholderError::CaWithoutTls);
            }
        }
        Ok(())
    }

    /// Binds the listener of one case.
    pub async fn bind(&self) -> Result<Listening, TransportError> {
        let (endpoint, dir) = match &self.ready.at {
            ListenAt::Endpoint(endpoint) => (endpoint.clone(), None),
            ListenAt::FreshUnixSocket => {
                let dir = temp_dir("sock")?;
                (Endpoint::Unix(dir.path().join(SOCKET_NAME)), Some(dir))
            }
        };
        let listener = Listener::bind(&endpoint, self.ready.tls.clone()).await?;
        let (addr, host) = match listener.address() {
            Address::Tcp(addr) => (addr.to_string(), format!("tcp://{addr}")),
            Address::Unix(path) => (
                path.display().to_string(),
                format!("unix://{}", path.display()),
            ),
        };
        Ok(Listening {
            ca: listener
                .tls()
                .and_then(|t| t.ca_file())
                .map(Path::to_path_buf),
            listener,
            addr,
            host,
            run: self.clone(),
            _dir: dir,
        })
    }
}

fn temp_dir(what: &str) -> Result<tempfile::TempDir, TransportError> {
    tempfile::Builder::new()
        .prefix(&format!("hijack-harness-{what}-"))
        .tempdir()
        .map_err(|error| TransportError::Listen {
            endpoint: format!("a temporary directory for the {what}"),
            error,
        })
}

/// One case's bound listener, and the names a client command uses for it.
pub struct Listening {
    listener: Listener,
    addr: String,
    host: String,
    ca: Option<PathBuf>,
    run: ClientListener,
    /// The fresh socket's directory, removed after the listener (fields drop in order).
    _dir: Option<tempfile::TempDir>,
}

impl fmt::Debug for Listening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listening")
            .field("host", &self.host)
            .field("ca", &self.ca)
            .finish_non_exhaustive()
    }
}

impl Listening {
    /// `HOST:PORT`, or the socket's path.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Docker's form: `tcp://HOST:PORT` or `unix:///PATH`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The throw-away CA file, over TLS with a certificate the harness made.
    pub fn ca(&self) -> Option<&Path> {
        self.ca.as_deref()
    }

    /// Whether connections are TLS.
    pub fn is_tls(&self) -> bool {
        self.listener.tls().is_some()
    }

    /// `template` with `{addr}`, `{host}` and `{ca}` replaced.
    pub fn command(&self, template: &str) -> Result<String, PlaceholderError> {
        self.run.check(template)?;
        let ca = self
            .ca
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        Ok(template
            .replace("{addr}", &self.addr)
            .replace("{host}", &self.host)
            .replace("{ca}", &ca))
    }

    /// Takes the next connection; [`Accepted::establish`] (in the connection's
    /// own task) runs the TLS handshake.
    pub async fn accept(&self) -> Result<Accepted, TransportError> {
        self.listener.accept().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_parses_every_form() {
        assert_eq!(ListenAt::parse("unix:").unwrap(), ListenAt::FreshUnixSocket);
        assert_eq!(
            ListenAt::parse("unix://").unwrap(),
            ListenAt::FreshUnixSocket
        );
        assert_eq!(
            ListenAt::parse("unix:///run/x.sock").unwrap(),
            ListenAt::Endpoint(Endpoint::Unix("/run/x.sock".into()))
        );
        assert_eq!(ListenAt::parse("127.0.0.1:0").unwrap(), ListenAt::default());
        assert!(ListenAt::parse("http://x").is_err());
    }

    #[tokio::test]
    async fn placeholders_take_docker_forms_and_the_socket_is_removed() {
        let tcp = ClientListener::default().bind().await.unwrap();
        let cmd = tcp.command("docker -H {host} attach c1 # {addr}").unwrap();
        assert!(cmd.starts_with("docker -H tcp://127.0.0.1:"), "{cmd}");
        assert!(cmd.ends_with(&format!("# {}", tcp.addr())));
        assert_eq!(
            tcp.command("x --cacert {ca} {addr}"),
            Err(PlaceholderError::CaWithoutTls)
        );
        assert_eq!(tcp.command("x"), Err(PlaceholderError::NoAddress));

        let unix = ClientListener::unix().bind().await.unwrap();
        assert!(unix.host().starts_with("unix:///"), "{}", unix.host());
        let path = PathBuf::from(unix.addr());
        assert!(path.exists());
        let dir = path.parent().unwrap().to_path_buf();
        drop(unix);
        assert!(
            !path.exists() && !dir.exists(),
            "socket and directory removed"
        );
    }

    #[tokio::test]
    async fn a_tls_listener_gives_its_ca_file_once_per_run() {
        let listener =
            ClientListener::new(ListenAt::FreshUnixSocket, TlsChoice::SelfSigned).unwrap();
        let a = listener.bind().await.unwrap();
        let b = listener.bind().await.unwrap();
        assert!(a.is_tls());
        let ca = a.ca().unwrap().to_path_buf();
        assert_eq!(Some(ca.as_path()), b.ca(), "one certificate for the run");
        let text = std::fs::read_to_string(&ca).unwrap();
        assert!(text.starts_with("-----BEGIN CERTIFICATE-----"), "{text}");
        let cmd = a.command("client --ca {ca} {addr}").unwrap();
        assert_eq!(cmd, format!("client --ca {} {}", ca.display(), a.addr()));
        drop((a, b, listener));
        assert!(!ca.exists(), "the CA file goes with the run");
    }
}
