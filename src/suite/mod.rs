//! Named conformance cases: stable dotted IDs, each one function in [`cases`]
//! whose doc comment quotes the sentence of the spec it checks and names the real
//! bug it comes from. A case is a fixed [`Scenario`] plus what a report needs to
//! say about it; the same scenario runs over the in-memory wire (here, for
//! snapshots and self-checks) and over loopback TCP against any process.

use crate::scenario::Scenario;

pub mod attach;
pub mod cases;
pub mod docker;
pub mod tunnel;

pub use crate::invariant::Level;

/// The black-box protocols a case can be run with against a remote peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    /// `Upgrade: echo`, answered by 101; the server echoes until FIN.
    Echo,
    /// RFC 6455 WebSocket, echoing data frames.
    WebSocket,
    /// Docker's attach (`Upgrade: tcp`, `101 UPGRADED`, raw echo).
    Docker,
    /// A `CONNECT` proxy in front of an echo upstream.
    Connect,
}

impl Proto {
    /// Its name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Echo => "echo",
            Proto::WebSocket => "websocket",
            Proto::Docker => "docker",
            Proto::Connect => "connect",
        }
    }
}

/// Which subject sides a case tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sides {
    /// It tests servers (the scripted client drives).
    pub server: bool,
    /// It tests clients (the scripted server drives).
    pub client: bool,
}

impl Sides {
    /// Servers only.
    pub const SERVER: Sides = Sides {
        server: true,
        client: false,
    };
    /// Clients only.
    pub const CLIENT: Sides = Sides {
        server: false,
        client: true,
    };
    /// Both.
    pub const BOTH: Sides = Sides {
        server: true,
        client: true,
    };
}

/// One conformance case: what a report says about it, and `S`, what happens on
/// the wire: a [`Scenario`] for the HTTP, WebSocket and proxy cases, an
/// [`attach::Attach`] for the Docker client cases ([`docker`]).
#[derive(Debug, Clone)]
pub struct Case<S = Scenario> {
    /// Stable dotted ID, e.g. `handoff.early-data.same-segment.1`.
    pub id: &'static str,
    /// One line saying what it checks.
    pub title: &'static str,
    /// MUST or SHOULD.
    pub level: Level,
    /// Where the requirement is written (e.g. `RFC 9110 §7.8`).
    pub spec: &'static str,
    /// The real bug this case comes from, if one.
    pub bug: &'static str,
    /// Which sides it tests.
    pub sides: Sides,
    /// Which black-box protocols it applies to.
    pub protocols: &'static [Proto],
    /// What happens on the wire.
    pub scenario: S,
}

/// Every case, in a stable order.
pub fn all() -> Vec<Case> {
    cases::ALL.iter().map(|case| case()).collect()
}

/// The case with this ID.
pub fn find(id: &str) -> Option<Case> {
    all().into_iter().find(|case| case.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_dotted() {
        let mut seen = HashSet::new();
        for case in all() {
            assert!(seen.insert(case.id), "duplicate id {}", case.id);
            assert!(
                case.id.split('.').count() >= 2
                    && case.id.chars().all(|c| c.is_ascii_lowercase()
                        || c.is_ascii_digit()
                        || c == '.'
                        || c == '-'),
                "bad id {}",
                case.id
            );
            assert!(
                case.sides.server || case.sides.client,
                "{} tests nothing",
                case.id
            );
        }
    }
}
