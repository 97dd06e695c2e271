//! Property checks for proxy subjects: many generated [`ProxyScenario`]s
//! against one proxy, shrunk to a minimal counterexample when a MUST breaks.
//!
//! A missed SHOULD passes and is counted ([`Stats::non_strict`]): a proxy
//! that closes both legs when one side closes, dropping what was in flight
//! towards it (RFC 9110 §9.3.6 allows it).

use std::fmt;

use crate::check::Run;
use crate::check::proxy::run_proxy;
use crate::oracle::proxy::Proxy;
use crate::scenario::proxy::{ProxyScenario, proxy_scenario};
use crate::subject::proxy::ProxySubject;

use super::{Config, Counterexample, Stats, check_drawn};

impl fmt::Display for Counterexample<Proxy> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", report(&self.run))
    }
}

/// A proxy run as a person reads it: the verdict first, then both legs.
pub fn report(run: &Run<Proxy>) -> String {
    format!(
        "{}minimal failing case: {:?}\nclient leg (c>s client to proxy, s>c proxy to client):\n{}upstream leg (c>s proxy to upstream, s>c upstream to proxy):\n{}",
        run.verdict,
        run.scenario,
        crate::wire::text::render(&run.trace),
        crate::wire::text::render(&run.app.upstream),
    )
}

/// Checks any one-scenario proxy run: the property holds when no run breaks a MUST.
pub fn check_with(
    config: &Config,
    run: impl Fn(&ProxyScenario) -> Run<Proxy>,
) -> Result<Stats, Box<Counterexample<Proxy>>> {
    check_drawn(config, proxy_scenario(), run)
}

/// Checks a proxy subject against generated cases.
pub fn check_proxy(
    subject: &dyn ProxySubject,
    config: &Config,
) -> Result<Stats, Box<Counterexample<Proxy>>> {
    check_with(config, |s| run_proxy(subject, s))
}

/// Asserts that a proxy conforms: runs [`check_proxy`] with the default
/// [`Config`] (`PROPTEST_CASES` cases, 256 unless set) and panics with the
/// counterexample's report.
#[track_caller]
pub fn assert_proxy_conforms(subject: &dyn ProxySubject) {
    if let Err(counterexample) = check_proxy(subject, &Config::default()) {
        panic!("{counterexample}");
    }
}
