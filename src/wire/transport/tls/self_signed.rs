//! A throw-away certificate authority and a server certificate it signs, made
//! with `rcgen` when a run needs TLS and the user brought no certificate.
//!
//! Two certificates rather than one self-signed leaf: every TLS stack accepts a
//! CA file that holds a real CA (`basicConstraints: CA`), while a self-signed
//! *leaf* used as a trust anchor is refused by some (webpki, which rustls uses,
//! among them). The CA's key is dropped once the leaf is signed: nothing else
//! can ever be signed by it.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A made certificate chain, its key, and the CA to trust it with.
pub(super) struct Made {
    /// The server certificate, then the CA's.
    pub chain: Vec<CertificateDer<'static>>,
    /// The server certificate's key.
    pub key: PrivateKeyDer<'static>,
    /// The CA certificate, PEM: what a client's `--cacert`/`--ca` reads.
    pub ca_pem: String,
}

/// Makes a CA and a server certificate for `names` (host names or IP
/// addresses; each becomes a subject alternative name of its kind).
pub(super) fn make(names: &[String]) -> Result<Made, rcgen::Error> {
    let mut ca = CertificateParams::new(Vec::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "hijack-harness throw-away CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate()?)?;

    let mut leaf = CertificateParams::new(names.to_vec())?;
    if let Some(first) = names.first() {
        leaf.distinguished_name
            .push(DnType::CommonName, first.as_str());
    }
    let leaf_key = KeyPair::generate()?;
    let leaf_cert = leaf.signed_by(&leaf_key, &ca)?;
    Ok(Made {
        chain: vec![leaf_cert.der().clone(), ca.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        ca_pem: ca.pem(),
    })
}
