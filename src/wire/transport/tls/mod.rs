//! TLS over any transport, with rustls (the `ring` provider: it builds with a
//! C compiler alone, where `aws-lc-rs` wants cmake, which this machine lacks)
//! through tokio-rustls.
//!
//! TLS sits *below* the harness's recording and pacing wrappers, so traces
//! show plaintext (what the peers' HTTP layers read and wrote), and pacing
//! turns into TLS records: the bytes of one paced write travel as one record
//! (up to 16 KiB) in one segment, and a cut starts a new record after the
//! pause, so a server's read-ahead sits in its TLS layer as well as its HTTP
//! buffer. [`TlsIo`] is what makes that hold; see its module.

use std::io;

use rustls::crypto::CryptoProvider;

mod client;
mod self_signed;
mod server;
mod stream;

pub use client::{ClientTls, TlsClientOptions};
pub use server::ServerTls;
pub use stream::TlsIo;

/// HTTP/1.1's ALPN name: offered by the client and accepted by the server, so
/// a server that speaks HTTP/2 as well keeps to HTTP/1.1 with the harness.
const ALPN_HTTP1: &[u8] = b"http/1.1";

/// The one crypto provider every configuration here is built with.
fn provider() -> std::sync::Arc<CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}

/// What went wrong in a handshake, and what the user can do about it.
fn explain(error: &io::Error, server_name: &str) -> String {
    use rustls::{CertificateError, Error, InvalidMessage};
    if error.kind() == io::ErrorKind::UnexpectedEof {
        return "the peer closed the connection during the handshake: does it speak TLS on this port?"
            .into();
    }
    let Some(tls) = error.get_ref().and_then(|e| e.downcast_ref::<Error>()) else {
        return error.to_string();
    };
    match tls {
        Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "the server's certificate is not signed by a CA this run trusts: pass --ca FILE with the CA that signed it, or --insecure to skip verification".into()
        }
        Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => format!(
            "the server's certificate is not valid for the name {server_name:?}: pass --sni NAME with a name it holds"
        ),
        Error::InvalidMessage(InvalidMessage::InvalidContentType) => {
            "the peer does not speak TLS on this port (a plain HTTP answer?): drop --tls".into()
        }
        other => other.to_string(),
    }
}
