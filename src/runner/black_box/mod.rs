//! Servers, proxies and clients in another process, in any language, over
//! loopback TCP. No application record exists: the black-box protocols (DESIGN.md)
//! make the peer echo, and [`crate::oracle::black_box`] judges from the wire.
//!
//! Organised by protocol, the way the QUIC interop runner is: [`echo`],
//! [`websocket`], [`docker`] and [`connect`](mod@connect) each say how their
//! request asks for the connection and how their echo is read; [`plan`] turns a
//! case into what the scripted client sends, `script` drives it and judges,
//! `probe` finds out once whether the target speaks the protocol at all, and
//! `client_cmd` tests clients ([`run_client`]). Every connection to a target is
//! opened by one private function, `connect()`.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

use crate::report::{CaseResult, Outcome};
use crate::suite::{Case, Proto};
use crate::wire::Trace;
use crate::wire::tcp::{self, TcpError};

use super::Options;

mod client_cmd;
pub mod connect;
pub mod docker;
pub mod echo;
pub mod plan;
mod probe;
mod script;
mod sockopt;
pub mod websocket;

pub use client_cmd::{ClientTarget, client_case, run_client};
pub use docker::DOCKER_ATTACH;
pub use plan::case_seed;
pub use script::server_case;

/// The upgrade token a conformant server cannot know: the refusal case uses it.
pub const UNKNOWN_TOKEN: &str = "hijack-harness-unknown";

/// A server (or a proxy in front of the harness's upstream) to test.
#[derive(Debug, Clone)]
pub struct ServerTarget {
    /// Where it listens.
    pub addr: SocketAddr,
    /// What it speaks (for a proxy: `Connect`, or `Echo` for an upgrade-forwarding proxy).
    pub protocol: Proto,
    /// The request target to use instead of the protocol's default.
    pub path: Option<String>,
    /// For a proxy: the harness's upstream, the authority to ask for.
    pub connect_to: Option<SocketAddr>,
    /// Whether the target is an intermediary in front of the harness's upstream:
    /// a half-close through it is a SHOULD (RFC 9110 §9.3.6), and diagnoses name it.
    pub proxy: bool,
    /// A name for reports.
    pub name: String,
}

/// Opens one connection to `target`: the one place that reaches a target, so a
/// new transport (a Unix socket, TLS) is one edit here.
pub async fn connect(target: &ServerTarget, timeout: Duration) -> Result<TcpStream, TcpError> {
    tcp::connect(target.addr, timeout).await
}

/// Checks that something listens at `target`, so that a run against nothing is
/// one clear error, not a column of refused cases.
pub async fn preflight(target: &ServerTarget, timeout: Duration) -> Result<(), TcpError> {
    connect(target, timeout).await.map(drop)
}

/// Runs every case against a black-box server, one at a time (a real server's
/// timing should not depend on the harness's parallelism), each
/// [`Options::repeat`] times. When the target answers a plain request of its
/// protocol without switching, every case is `unsupported` with that reason
/// (detected once, by the private `probe`).
pub async fn run_server(
    target: &ServerTarget,
    cases: &[Case],
    opts: &Options,
    progress: super::Progress,
) -> Vec<CaseResult> {
    if let Some(why) = probe::does_not_speak(target, opts).await {
        let mut out = Vec::with_capacity(cases.len());
        for case in cases {
            let result = CaseResult::new(
                case,
                &target.name,
                crate::wire::Side::Server,
                Outcome::Unsupported,
                crate::oracle::Verdict {
                    violations: Vec::new(),
                    notes: vec![why.clone()],
                },
                Trace::default(),
                Duration::ZERO,
            );
            progress(&result);
            out.push(result);
        }
        return out;
    }
    one_at_a_time(cases, opts.repeat, progress, |case| {
        server_case(target, case, opts)
    })
    .await
}

/// Runs `run` on each case in order, `repeat` times each, each run after the
/// last has finished; the repetitions of a case become one result
/// ([`CaseResult::merge`]: `flaky` when they disagree).
async fn one_at_a_time<'a, F, R>(
    cases: &'a [Case],
    repeat: usize,
    progress: super::Progress,
    mut run: R,
) -> Vec<CaseResult>
where
    R: FnMut(&'a Case) -> F,
    F: Future<Output = CaseResult>,
{
    let mut out = Vec::with_capacity(cases.len());
    for case in cases {
        let mut runs = Vec::with_capacity(repeat.max(1));
        for _ in 0..repeat.max(1) {
            runs.push(run(case).await);
        }
        let result = CaseResult::merge(runs);
        progress(&result);
        out.push(result);
    }
    out
}
