//! The client side of TLS: which CAs to trust (`--ca FILE`, else the system's
//! store), whether to verify at all (`--insecure`), and which name to ask for
//! and check (`--sni NAME`, else the host as typed; `localhost` for a Unix socket).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::TlsConnector;

use super::TlsIo;
use crate::wire::transport::{Address, BoxIo, Endpoint, Io, TransportError};

/// What a user asked of TLS on the client side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsClientOptions {
    /// Trust only the CA certificates in this PEM file (else the system's store).
    pub ca: Option<PathBuf>,
    /// Do not verify the server's certificate at all.
    pub insecure: bool,
    /// The server name to send and verify (else the host as typed).
    pub sni: Option<String>,
}

/// A ready TLS client configuration for one endpoint.
#[derive(Clone)]
pub struct ClientTls {
    connector: TlsConnector,
    name: ServerName<'static>,
    insecure: bool,
}

impl fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl ClientTls {
    /// Builds the configuration for connecting to `endpoint`.
    pub fn new(
        options: &TlsClientOptions,
        endpoint: &Endpoint,
    ) -> Result<ClientTls, TransportError> {
        let provider = super::provider();
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TransportError::TlsSetup(e.to_string()))?;
        let mut config = if options.insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Unverified(provider)))
                .with_no_client_auth()
        } else {
            builder
                .with_root_certificates(roots(options.ca.as_ref())?)
                .with_no_client_auth()
        };
        config.alpn_protocols = vec![super::ALPN_HTTP1.to_vec()];
        let text = options
            .sni
            .clone()
            .or_else(|| endpoint.host().map(str::to_string))
            .unwrap_or_else(|| "localhost".into());
        let name = ServerName::try_from(text.clone()).map_err(|_| {
            TransportError::TlsSetup(format!(
                "{text:?} is not a server name (a DNS name or an IP address): set --sni NAME"
            ))
        })?;
        Ok(ClientTls {
            connector: TlsConnector::from(Arc::new(config)),
            name,
            insecure: options.insecure,
        })
    }

    /// Whether certificates go unverified (`--insecure`).
    pub fn insecure(&self) -> bool {
        self.insecure
    }

    /// One line for reports: the name, and whether it was verified.
    pub fn describe(&self) -> String {
        let name = self.name.to_str();
        if self.insecure {
            format!("TLS to {name}, certificate NOT verified (--insecure)")
        } else {
            format!("TLS to {name}, certificate verified")
        }
    }

    /// Runs the handshake over `stream`, connected to `address`.
    pub async fn handshake<S: Io + 'static>(
        &self,
        stream: S,
        address: &Address,
    ) -> Result<BoxIo, TransportError> {
        match self.connector.connect(self.name.clone(), stream).await {
            Ok(tls) => Ok(Box::new(TlsIo::new(tokio_rustls::TlsStream::Client(tls)))),
            Err(e) => Err(TransportError::Handshake {
                address: address.to_string(),
                reason: super::explain(&e, &self.name.to_str()),
            }),
        }
    }
}

/// The trust anchors: the CA file's certificates, or the system's store.
fn roots(ca: Option<&PathBuf>) -> Result<RootCertStore, TransportError> {
    let mut store = RootCertStore::empty();
    match ca {
        Some(path) => {
            let bad = |reason: String| TransportError::TlsFile {
                what: "--ca",
                path: path.clone(),
                reason,
            };
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| bad(e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad(e.to_string()))?;
            if certs.is_empty() {
                return Err(bad("no PEM certificate in it".into()));
            }
            for cert in certs {
                store.add(cert).map_err(|e| bad(e.to_string()))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                return Err(TransportError::TlsSetup(
                    "no CA certificates found in the system's store: pass --ca FILE, or --insecure"
                        .into(),
                ));
            }
        }
    }
    Ok(store)
}

/// `--insecure`: any certificate is accepted, but the handshake's signatures
/// are still checked, so the connection is real TLS with an unknown peer.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
