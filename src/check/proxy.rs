//! One run of one proxy case: the same path as every protocol
//! (`Exchange`), with two wires driven as one. The client leg is the
//! run's wire and trace (the proxy is its server side); the upstream leg is a
//! second in-memory wire whose proxy end the proxy opens through its
//! [`Upstream`](crate::subject::proxy::Upstream), and whose trace the record
//! carries ([`ProxyRecord`]).

use std::cell::Cell;
use std::rc::Rc;

use crate::oracle::proxy::Proxy;
use crate::peer::proxy as peer;
use crate::scenario::proxy::ProxyScenario;
use crate::subject::proxy::{OneUpstream, ProxyRecord, ProxySubject};
use crate::wire::driver;
use crate::wire::memory::{self, Cuts};
use crate::wire::{Recorder, Side};

use super::{Exchange, Run};

/// Runs `scenario` against a proxy subject: the scripted client on the client
/// leg, the scripted upstream on the upstream leg.
pub fn run_proxy(subject: &dyn ProxySubject, scenario: &ProxyScenario) -> Run<Proxy> {
    let bytes = scenario.bytes();
    let upstream_recorder = Recorder::new();
    let upstream_cuts = Cuts {
        client_to_server: Vec::new(),
        server_to_client: scenario.upstream_cuts.clone(),
    };
    let (proxy_end, upstream_end, upstream_wire) =
        memory::pair(&upstream_cuts, upstream_recorder.clone());
    let answered = Rc::new(Cell::new(None));
    let cuts = Cuts {
        client_to_server: scenario.client_cuts.clone(),
        server_to_client: Vec::new(),
    };
    Exchange::new(
        scenario,
        &bytes,
        cuts,
        (Side::Server, subject.name()),
        Recorder::new(),
    )
    .run_beside(
        Some(&upstream_wire),
        |client_end| {
            driver::join(
                peer::client(client_end, scenario, &bytes),
                peer::upstream(upstream_end, scenario, &bytes, answered.clone()),
            )
        },
        |client_leg| {
            let upstream = OneUpstream::new(Box::new(proxy_end));
            subject.serve(Box::new(client_leg), Box::new(upstream))
        },
        || ProxyRecord {
            upstream: upstream_recorder.take(),
            answered_after: answered.get(),
        },
    )
}
