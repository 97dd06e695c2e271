//! The `tunnel.*` cases against a real proxy (`run --proxy P --via upgrade|connect`):
//! the harness's scripted client on the client leg, over the run's transport
//! like any black-box target, and the harness's upstream on the upstream leg,
//! on the same listener the echo suite goes through ([`HarnessUpstream`]),
//! playing each case's scripted upstream while it runs.
//!
//! Both legs are recorded and judged as in process
//! ([`crate::oracle::proxy::judge`] over a [`ProxyRecord`](crate::subject::proxy::ProxyRecord)),
//! plus what only a real proxy can do ([`extra`]): open further connections to
//! the upstream, or refuse a `CONNECT` itself. A [`ProxyTarget`] is a
//! [`Target`] like every other, scheduled by
//! [`one_at_a_time`](super::super::target::one_at_a_time); the cases run one at
//! a time, which is what lets one upstream listener serve whichever is running.
//!
//! `tunnel.connect-refused-early-data` asks for a `CONNECT` to a loopback port
//! of the harness's that nothing listens on, and to the `--connect-denied`
//! target when the run names one ([`ProxyTarget::connect_denied`]); a proxy
//! that has the harness's upstream as its next hop forwards the `CONNECT`
//! there, and the case's scripted upstream refuses it as in process.

use std::sync::Arc;

use crate::results::CaseResult;
use crate::scenario::proxy::ProxyScenario;
use crate::suite::Case;

use super::super::target::{Attempt, Target};
use super::super::{Options, Progress};
use super::ServerTarget;

mod ask;
mod extra;
mod held;
mod run;
mod session;
mod upstream;

pub use upstream::{HarnessUpstream, Slot};

/// A proxy in front of the harness's upstream, for the `tunnel.*` cases.
#[derive(Debug)]
pub struct ProxyTarget {
    /// The proxy as the echo suite reaches it: its address, TLS, name, the
    /// protocol asked for (`Connect` for `--via connect`), and the upstream's
    /// authority in `connect_to`.
    pub server: ServerTarget,
    /// A `CONNECT` target the proxy's policy refuses (`--connect-denied`).
    pub connect_denied: Option<String>,
    slot: Arc<Slot>,
}

impl ProxyTarget {
    /// The proxy `server`, in front of `upstream`.
    pub fn new(
        server: ServerTarget,
        upstream: &HarnessUpstream,
        connect_denied: Option<String>,
    ) -> ProxyTarget {
        ProxyTarget {
            server,
            connect_denied,
            slot: upstream.slot(),
        }
    }
}

impl Target for ProxyTarget {
    type Script = ProxyScenario;

    fn who(&self) -> &'static str {
        "the proxy"
    }

    async fn attempt(&self, case: &Case<ProxyScenario>, opts: &Options) -> Attempt {
        run::attempt(self, case, opts).await
    }
}

/// Runs the tunnel `cases` against `target`, one at a time, each
/// [`Options::repeat`] times.
pub async fn run_tunnel(
    target: &ProxyTarget,
    cases: &[Case<ProxyScenario>],
    opts: &Options,
    progress: Progress,
) -> Vec<CaseResult> {
    super::super::target::one_at_a_time(target, cases, opts, progress).await
}
