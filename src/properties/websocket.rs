//! Property checks for WebSocket subjects: many generated [`MessageScenario`]s against
//! one library, shrunk to a minimal counterexample when a MUST breaks.
//!
//! A missed SHOULD (the verdict `non-strict`: a server refusing or losing frames
//! a client sent before the `101`) passes the property; [`Stats::non_strict`]
//! counts those cases, so a report can say how often a library does it.

use std::fmt;

use crate::check::Run;
use crate::check::websocket as check;
use crate::oracle::websocket::WebSocket;
use crate::scenario::websocket::{MessageScenario, ws_scenario};
use crate::subject::websocket::{MessageClientSubject, MessageServerSubject};

use super::{Config, Counterexample, Stats};

impl fmt::Display for Counterexample<WebSocket> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "minimal failing case: {}", self.run)
    }
}

/// Checks any one-scenario WebSocket run: the property holds when no run breaks a MUST.
pub fn check_with(
    config: &Config,
    run: impl Fn(&MessageScenario) -> Run<WebSocket>,
) -> Result<Stats, Box<Counterexample<WebSocket>>> {
    super::check_drawn(config, ws_scenario(), run)
}

/// Checks a WebSocket server subject against generated cases.
pub fn check_server(
    subject: &dyn MessageServerSubject,
    config: &Config,
) -> Result<Stats, Box<Counterexample<WebSocket>>> {
    check_with(config, |s| check::run_server(subject, s))
}

/// Checks a WebSocket client subject against generated cases.
pub fn check_client(
    subject: &dyn MessageClientSubject,
    config: &Config,
) -> Result<Stats, Box<Counterexample<WebSocket>>> {
    check_with(config, |s| check::run_client(subject, s))
}
