//! How a black-box run reached its target, for every shape of the report: the
//! address every case connected to, whether it is on this machine, and TLS.
//!
//! Two things change what a verdict means, and a reader must see both next to
//! it. A target away from this machine gets segment boundaries on a best
//! effort basis ([`BEST_EFFORT`]): routers and NIC offloads may merge or split
//! what the harness cut. Over TLS the traced segments are plaintext
//! ([`TLS_SEGMENTS`]): what the harness wrote went out as TLS records, one per
//! paced write, and what it read is what each read of the TLS stream returned.

/// What the report says once when the target is not on this machine.
pub const BEST_EFFORT: &str = "the target is not on this machine: segment boundaries are best effort \
     (routers and offloads may merge or split the segments the harness sent)";

/// What the report, a trace file and a pcap say about segments over TLS.
pub const TLS_SEGMENTS: &str = "segments carried in TLS records: the trace shows plaintext; each c>s \
     segment is one paced write, sent as one TLS record in one TCP segment; each s>c segment is \
     what one read of the TLS stream returned";

/// How the run reached its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportInfo {
    /// The address every case connected to, as resolved (`127.0.0.1:8080`,
    /// `unix:/var/run/docker.sock`).
    pub address: String,
    /// Whether it is on this machine (loopback, a local interface, a Unix
    /// socket): only then are segment cuts exact.
    pub local: bool,
    /// TLS as [`ClientTls::describe`](crate::wire::transport::ClientTls::describe)
    /// says it (the name, and whether the certificate was verified), or `None`.
    pub tls: Option<String>,
}

impl TransportInfo {
    /// What the report says about the transport, one sentence each: where,
    /// TLS and what its segments are, and best effort beyond this machine.
    pub fn sentences(&self) -> Vec<String> {
        let mut out = vec![format!("target address: {}", self.address)];
        if let Some(tls) = &self.tls {
            out.push(format!("{tls}; {TLS_SEGMENTS}"));
        }
        if !self.local {
            out.push(BEST_EFFORT.into());
        }
        out
    }

    /// The label a trace file or pcap carries for its segments, if they need one.
    pub fn segment_label(&self) -> Option<String> {
        self.tls
            .as_ref()
            .map(|tls| format!("{tls}; {TLS_SEGMENTS}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_plain_target_is_one_sentence() {
        let info = TransportInfo {
            address: "127.0.0.1:8080".into(),
            local: true,
            tls: None,
        };
        assert_eq!(info.sentences(), ["target address: 127.0.0.1:8080"]);
        assert_eq!(info.segment_label(), None);
    }

    #[test]
    fn tls_and_distance_are_both_said() {
        let info = TransportInfo {
            address: "192.0.2.1:443".into(),
            local: false,
            tls: Some("TLS to app, certificate NOT verified (--insecure)".into()),
        };
        let all = info.sentences().join("\n");
        assert!(all.contains("NOT verified (--insecure)"), "{all}");
        assert!(all.contains("segments carried in TLS records"), "{all}");
        assert!(all.contains("segment boundaries are best effort"), "{all}");
    }
}
