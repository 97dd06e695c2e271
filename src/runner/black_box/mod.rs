//! Servers, proxies and clients in another process, in any language, reached
//! over TCP (any host), a Unix socket, or TLS over either ([`crate::wire::transport`]).
//! No application record exists: the black-box protocols
//! (`docs/src/invariant.md`) make the peer echo, and
//! [`crate::oracle::black_box`] judges from the wire.
//!
//! Organised by protocol, the way the QUIC interop runner is: [`echo`],
//! [`websocket`], [`docker`] and [`connect`](mod@connect) each say how their
//! request asks for the connection and how their echo is read; [`plan`] turns a
//! case into what the scripted client sends, `script` drives it and judges,
//! `probe` finds out once whether the target speaks the protocol at all, and
//! `client_cmd` tests clients ([`ClientTarget`], through [`super::target::one_at_a_time`]). Every connection to a target is
//! opened by one private function, `connect()`, after one [`preflight`] has
//! resolved the target's endpoint (and shaken hands over TLS) for the whole run;
//! a target not on this machine gets its cut-dependent diagnoses marked
//! (`elsewhere`).

use std::net::SocketAddr;
use std::time::Duration;

use crate::reference::head::Header;
use crate::results::{CaseResult, TransportInfo};
use crate::suite::{Case, Proto};
use crate::wire::Trace;
use crate::wire::transport::{self, Address, ClientTls, Connection, Endpoint, TransportError};

use super::Options;
use super::target::{Attempt, Target};
use crate::scenario::Scenario;

mod client_cmd;
pub mod connect;
pub mod docker;
pub mod echo;
pub mod elsewhere;
pub mod plan;
mod prepare;
mod probe;
mod request;
mod script;
mod sockopt;
pub mod tunnel;
pub mod websocket;

pub use client_cmd::{ClientTarget, client_case};
pub use docker::DOCKER_ATTACH;
pub use plan::case_seed;
pub use script::server_case;

/// The header fields every request's framing and hand-over depend on, which
/// the harness writes itself: `--header` cannot set them.
pub const HARNESS_FIELDS: &[&str] = &[
    "host",
    "connection",
    "upgrade",
    "content-length",
    "transfer-encoding",
    "expect",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-protocol",
];

/// A server (or a proxy in front of the harness's upstream) to test.
#[derive(Debug, Clone)]
pub struct ServerTarget {
    /// Where it listens, as the user gave it (`app:8080`, `unix:/var/run/docker.sock`):
    /// the `Host` a request names.
    pub endpoint: Endpoint,
    /// The endpoint resolved once for the run ([`preflight`]): every case
    /// connects to this same socket.
    pub address: Address,
    /// TLS on top of the connection, or `None`.
    pub tls: Option<ClientTls>,
    /// What it speaks (for a proxy: `Connect`, or `Echo` for an upgrade-forwarding proxy).
    pub protocol: Proto,
    /// The request target to use instead of the protocol's default.
    pub path: Option<String>,
    /// Header fields added to every request of the run (`--header`): an
    /// `Origin`, a cookie or a token a server requires.
    pub headers: Vec<Header>,
    /// For WebSocket: the subprotocol to offer in `Sec-WebSocket-Protocol`
    /// (`--subprotocol`), for servers that echo only on one.
    pub subprotocol: Option<String>,
    /// For a proxy: the harness's upstream, the authority to ask for.
    pub connect_to: Option<SocketAddr>,
    /// Whether the target is an intermediary in front of the harness's upstream:
    /// a half-close through it is a SHOULD (RFC 9110 §9.3.6), and diagnoses name it.
    pub proxy: bool,
    /// A name for reports.
    pub name: String,
    /// For `--protocol docker` against a real Docker Engine: the container and
    /// the endpoint the cases go through (`--container`).
    pub engine: Option<docker::Engine>,
}

impl ServerTarget {
    /// A server at `endpoint`, resolved to `address` by [`preflight`], named
    /// by its endpoint as the user typed it.
    pub fn server(
        endpoint: &Endpoint,
        address: Address,
        tls: Option<ClientTls>,
        protocol: Proto,
    ) -> ServerTarget {
        ServerTarget {
            endpoint: endpoint.clone(),
            address,
            tls,
            protocol,
            path: None,
            headers: Vec::new(),
            subprotocol: None,
            connect_to: None,
            proxy: false,
            name: endpoint.to_string(),
            engine: None,
        }
    }

    /// The authority a request names: the proxy's upstream, else the endpoint
    /// as given (so a virtual host or a service name is what the server sees);
    /// `localhost` for a Unix socket, which has no host.
    pub(crate) fn authority(&self) -> String {
        match (&self.connect_to, &self.endpoint) {
            (Some(upstream), _) => upstream.to_string(),
            (None, Endpoint::Unix(_)) => "localhost".into(),
            (None, endpoint) => endpoint.to_string(),
        }
    }

    /// How the run reaches the target, for the report.
    pub fn transport(&self) -> TransportInfo {
        TransportInfo {
            address: self.address.to_string(),
            local: self.address.is_local(),
            tls: self.tls.as_ref().map(ClientTls::describe),
        }
    }
}

/// Opens one connection to `target`, TLS handshake included, with a handle on
/// its TCP socket for `sockopt`: the one place that reaches a target.
pub async fn connect(
    target: &ServerTarget,
    timeout: Duration,
) -> Result<Connection, TransportError> {
    transport::connect_tuned(&target.address, target.tls.as_ref(), timeout).await
}

/// Resolves `endpoint` once for the run and opens one connection to it (with
/// the TLS handshake when `tls` is given), so that a run against nothing, a
/// name that does not resolve or a certificate that does not verify is one
/// clear error before the suite, not a column of failed cases.
pub async fn preflight(
    endpoint: &Endpoint,
    tls: Option<&ClientTls>,
    timeout: Duration,
) -> Result<Address, TransportError> {
    // One connection per candidate address, handshake included, and the first
    // that works is the run's ([`Endpoint::resolve`] without its extra probe
    // connection: a target counts what it gets).
    let mut first_error = None;
    for address in endpoint.lookup().await? {
        match transport::connect(&address, tls, timeout).await {
            Ok(_) => return Ok(address),
            Err(e) => {
                tracing::debug!(%address, error = %e, "candidate address failed");
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| TransportError::Resolve {
        host: endpoint.to_string(),
        reason: "no address".into(),
    }))
}

/// Runs every case against a black-box server, one at a time (a real server's
/// timing should not depend on the harness's parallelism), each
/// [`Options::repeat`] times. When the target answers a plain request of its
/// protocol without switching, every case is `unsupported` with that reason,
/// and when it answers with TLS to a run without it, `error` (detected once,
/// by the private `probe`).
pub async fn run_server(
    target: &ServerTarget,
    cases: &[Case],
    opts: &Options,
    progress: super::Progress,
) -> Vec<CaseResult> {
    if let Some((outcome, why)) = probe::does_not_speak(target, opts).await {
        let mut out = Vec::with_capacity(cases.len());
        for case in cases {
            let result = CaseResult::new(
                case,
                &target.name,
                crate::wire::Side::Server,
                outcome,
                crate::oracle::Verdict::noted(why.clone()),
                Trace::default(),
                Duration::ZERO,
            );
            progress(&result);
            out.push(result);
        }
        return out;
    }
    super::target::one_at_a_time(target, cases, opts, progress).await
}

impl Target for ServerTarget {
    type Script = Scenario;

    fn who(&self) -> &'static str {
        if self.proxy {
            "the proxy"
        } else {
            "the server"
        }
    }

    async fn attempt(&self, case: &Case, opts: &Options) -> Attempt {
        script::server_run(self, case, opts).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(endpoint: &str, address: &str) -> ServerTarget {
        let endpoint = Endpoint::parse(endpoint).expect("an endpoint");
        let address = match address.strip_prefix("unix:") {
            Some(path) => Address::Unix(path.into()),
            None => Address::Tcp(address.parse().expect("a socket address")),
        };
        ServerTarget::server(&endpoint, address, None, Proto::Echo)
    }

    #[test]
    fn the_request_names_the_host_the_user_typed() {
        // A service name or a virtual host is what the server sees, not the
        // address it resolved to.
        let app = target("app:8080", "192.0.2.10:8080");
        assert_eq!(app.authority(), "app:8080");
        assert_eq!(app.name, "app:8080");
        assert!(!app.transport().local);
        assert_eq!(app.transport().address, "192.0.2.10:8080");
        // A Unix socket has no host: `localhost`, as Docker's clients send.
        let docker = target("unix:///var/run/docker.sock", "unix:/var/run/docker.sock");
        assert_eq!(docker.authority(), "localhost");
        assert!(docker.transport().local);
        // Through a proxy, the request asks for the harness's upstream.
        let mut proxy = target("localhost:3128", "127.0.0.1:3128");
        proxy.connect_to = Some("127.0.0.1:9000".parse().expect("an address"));
        assert_eq!(proxy.authority(), "127.0.0.1:9000");
        assert!(proxy.transport().local);
    }
}
