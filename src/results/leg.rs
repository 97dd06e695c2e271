//! A connection of a case beside the one its trace records: a proxy case has
//! two legs, the client's (the result's own trace, "client to proxy") and the
//! upstream's ("proxy to upstream"), and a real proxy may open more than one
//! connection to the upstream during a case. Each is a [`Leg`], in the order
//! it was opened; reports show every leg under its label, and a pcap holds
//! each as a TCP stream of its own.

use crate::wire::Trace;

/// The label of a proxy case's client leg (the result's own trace).
pub const CLIENT_TO_PROXY: &str = "client to proxy";

/// The label of a proxy case's first upstream leg.
pub const PROXY_TO_UPSTREAM: &str = "proxy to upstream";

/// One further connection of a case, with what crossed it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Leg {
    /// What the connection is, in reports: [`PROXY_TO_UPSTREAM`], or that with
    /// the connection's number after the first.
    pub label: String,
    /// What crossed it (`c>s`: towards the upstream).
    pub trace: Trace,
}

impl Leg {
    /// The upstream legs of a proxy case, labelled in the order the proxy opened them.
    pub fn upstream(traces: Vec<Trace>) -> Vec<Leg> {
        traces
            .into_iter()
            .enumerate()
            .map(|(i, trace)| Leg {
                label: match i {
                    0 => PROXY_TO_UPSTREAM.to_string(),
                    _ => format!("{PROXY_TO_UPSTREAM} (connection {})", i + 1),
                },
                trace,
            })
            .collect()
    }
}
