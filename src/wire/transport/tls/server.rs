//! The server side of TLS: a certificate and key from PEM files
//! (`--tls-cert`/`--tls-key`), or a throw-away CA and certificate made for
//! this run, whose CA file is written where a client can be told to read it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use super::{TlsIo, self_signed};
use crate::wire::transport::{BoxIo, Io, TransportError};

/// A ready TLS server configuration.
#[derive(Clone)]
pub struct ServerTls {
    acceptor: TlsAcceptor,
    ca_file: Option<PathBuf>,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls")
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    /// Serves the certificate chain in `cert` with the private key in `key` (PEM).
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<ServerTls, TransportError> {
        let bad = |what, path: &Path, reason: String| TransportError::TlsFile {
            what,
            path: path.to_path_buf(),
            reason,
        };
        let chain = CertificateDer::pem_file_iter(cert)
            .map_err(|e| bad("--tls-cert", cert, e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad("--tls-cert", cert, e.to_string()))?;
        if chain.is_empty() {
            return Err(bad("--tls-cert", cert, "no PEM certificate in it".into()));
        }
        let key =
            PrivateKeyDer::from_pem_file(key).map_err(|e| bad("--tls-key", key, e.to_string()))?;
        Ok(ServerTls {
            acceptor: acceptor(chain, key)?,
            ca_file: None,
        })
    }

    /// Makes a throw-away CA and a certificate it signs for `names` (host
    /// names or IP addresses), and writes the CA certificate (PEM) to `ca_file`.
    pub fn self_signed(names: &[String], ca_file: &Path) -> Result<ServerTls, TransportError> {
        let made = self_signed::make(names)
            .map_err(|e| TransportError::TlsSetup(format!("cannot make a certificate: {e}")))?;
        std::fs::write(ca_file, made.ca_pem.as_bytes()).map_err(|e| TransportError::TlsFile {
            what: "the CA file",
            path: ca_file.to_path_buf(),
            reason: e.to_string(),
        })?;
        Ok(ServerTls {
            acceptor: acceptor(made.chain, made.key)?,
            ca_file: Some(ca_file.to_path_buf()),
        })
    }

    /// Where the throw-away CA was written, if this certificate is one.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    /// Runs the server handshake over `stream`, accepted from `peer`.
    pub async fn handshake<S: Io + 'static>(
        &self,
        stream: S,
        peer: &str,
    ) -> Result<BoxIo, TransportError> {
        match self.acceptor.accept(stream).await {
            Ok(tls) => Ok(Box::new(TlsIo::new(tokio_rustls::TlsStream::Server(tls)))),
            Err(e) => Err(TransportError::Handshake {
                address: peer.to_string(),
                reason: super::explain(&e, ""),
            }),
        }
    }
}

fn acceptor(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<TlsAcceptor, TransportError> {
    let mut config = ServerConfig::builder_with_provider(super::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::TlsSetup(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| {
            TransportError::TlsSetup(format!("the certificate and key do not go together: {e}"))
        })?;
    config.alpn_protocols = vec![super::ALPN_HTTP1.to_vec()];
    // No session tickets: the harness never resumes, and tickets would be
    // records after the handshake that no case asked for.
    config.send_tls13_tickets = 0;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
