//! Mutants: the reference with one deliberate flaw each, every one a bug that
//! shipped in a real library. A check that no mutant fails proves nothing; each
//! mutant here must be caught by the properties, the fuzz targets and the suite,
//! with a diagnosis that names the invariant point it breaks.

use crate::oracle::Point;

use super::reference::{ReferenceClient, ReferenceServer};

pub use super::flaws::{ClientFlaw, Flaw};

/// A mutant of either side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mutant {
    /// A flawed reference server.
    Server(Flaw),
    /// A flawed reference client.
    Client(ClientFlaw),
}

impl Mutant {
    /// Every mutant.
    pub fn all() -> Vec<Mutant> {
        Flaw::ALL
            .into_iter()
            .map(Mutant::Server)
            .chain(ClientFlaw::ALL.into_iter().map(Mutant::Client))
            .collect()
    }

    /// Its stable name.
    pub fn name(self) -> &'static str {
        match self {
            Mutant::Server(flaw) => flaw.name(),
            Mutant::Client(flaw) => flaw.name(),
        }
    }

    /// The mutant called `name`.
    pub fn from_name(name: &str) -> Option<Mutant> {
        Mutant::all().into_iter().find(|m| m.name() == name)
    }

    /// The invariant point it breaks.
    pub fn breaks(self) -> Point {
        match self {
            Mutant::Server(flaw) => flaw.breaks(),
            Mutant::Client(flaw) => flaw.breaks(),
        }
    }

    /// The flawed server, for a server mutant.
    pub fn server(self) -> Option<ReferenceServer> {
        match self {
            Mutant::Server(flaw) => Some(ReferenceServer { flaw: Some(flaw) }),
            Mutant::Client(_) => None,
        }
    }

    /// The flawed client, for a client mutant.
    pub fn client(self) -> Option<ReferenceClient> {
        match self {
            Mutant::Client(flaw) => Some(ReferenceClient { flaw: Some(flaw) }),
            Mutant::Server(_) => None,
        }
    }
}
