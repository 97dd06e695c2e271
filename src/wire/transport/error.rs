//! Why a connection or a listener could not be set up, worded for the person
//! who typed the address: what was tried, and what to do about it.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use super::Address;

/// A transport that could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// What was typed is not an address.
    #[error(
        "{input:?} is not an address: {reason} (expected HOST:PORT, [IPv6]:PORT, tcp://HOST:PORT, unix:PATH or unix://PATH)"
    )]
    Parse {
        /// What was typed.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A host name did not resolve to any address.
    #[error("the name {host:?} does not resolve: {reason}")]
    Resolve {
        /// The name.
        host: String,
        /// The resolver's answer.
        reason: String,
    },
    /// Nothing accepted the connection: a refused port, or no socket at the path.
    #[error("nothing is listening on {address}{detail}: is the {} running?", .address.listener_noun())]
    Refused {
        /// Where.
        address: Address,
        /// More about it, starting with a space (or empty).
        detail: &'static str,
    },
    /// The socket exists but this user may not use it.
    #[error("permission denied on {address}: {hint}")]
    PermissionDenied {
        /// Where.
        address: Address,
        /// What to do about it.
        hint: &'static str,
    },
    /// The connection, or its TLS handshake, took too long.
    #[error("connecting to {address} timed out after {} ms", .after.as_millis())]
    Timeout {
        /// Where.
        address: String,
        /// The limit.
        after: Duration,
    },
    /// The TLS handshake failed.
    #[error("the TLS handshake with {address} failed: {reason}")]
    Handshake {
        /// Where.
        address: String,
        /// What rustls said, and what to do about it.
        reason: String,
    },
    /// A certificate, key or CA file could not be used.
    #[error("{what} {}: {reason}", .path.display())]
    TlsFile {
        /// Which file it is ("--ca", "--tls-cert", ...).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The TLS configuration could not be built.
    #[error("TLS setup failed: {0}")]
    TlsSetup(String),
    /// A listener could not be opened.
    #[error("cannot listen on {endpoint}: {error}")]
    Listen {
        /// Where.
        endpoint: String,
        /// The socket error (in the message, not a `source`, so that it is
        /// not printed twice in an error chain).
        error: io::Error,
    },
    /// Another socket error.
    #[error("{address}: {error}")]
    Io {
        /// Where.
        address: String,
        /// The socket error.
        error: io::Error,
    },
}

impl TransportError {
    /// The error for a failed connect to `address`, named by what the user can do.
    pub(crate) fn connecting(address: &Address, source: io::Error) -> Self {
        let unix = matches!(address, Address::Unix(_));
        match source.kind() {
            io::ErrorKind::ConnectionRefused => TransportError::Refused {
                address: address.clone(),
                detail: if unix { " (a stale socket file)" } else { "" },
            },
            io::ErrorKind::NotFound if unix => TransportError::Refused {
                address: address.clone(),
                detail: " (no such socket file)",
            },
            io::ErrorKind::PermissionDenied => TransportError::PermissionDenied {
                address: address.clone(),
                hint: if unix {
                    "the socket belongs to another user or group (for Docker: join the docker group, or run with sudo)"
                } else {
                    "a firewall or policy forbids this connection"
                },
            },
            _ => TransportError::Io {
                address: address.to_string(),
                error: source,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_docker_socket_says_what_to_check() {
        let address = Address::Unix("/var/run/docker.sock".into());
        let err = TransportError::connecting(&address, io::ErrorKind::NotFound.into());
        assert_eq!(
            err.to_string(),
            "nothing is listening on unix:/var/run/docker.sock (no such socket file): is the daemon running?"
        );
    }

    #[test]
    fn a_refused_port_keeps_the_old_wording() {
        let address = Address::Tcp(([127, 0, 0, 1], 9).into());
        let err = TransportError::connecting(&address, io::ErrorKind::ConnectionRefused.into());
        assert_eq!(
            err.to_string(),
            "nothing is listening on 127.0.0.1:9: is the server running?"
        );
    }
}
