//! What a conformance run found, in the shapes people and CI read: a table on the
//! terminal, JSON, JUnit XML, an HTML report with a ladder diagram per case.
//!
//! Everything here renders a [`RunReport`](crate::results::RunReport); nothing here runs a case. Each format
//! has its own module and one `write` function the command line calls:
//!
//! | module     | for                        | call                                   |
//! |------------|----------------------------|----------------------------------------|
//! | [`text`]   | a person at a terminal     | [`text::render`]                       |
//! | [`json`]   | scripts, dashboards        | [`json::write`] (schema: `docs/report.schema.json`) |
//! | [`junit`]  | CI test tabs (Jenkins, GitLab, GitHub) | [`junit::write`]           |
//! | [`html`]   | a person with a browser: ladder diagrams | [`html::write`]          |
//! | [`traces`] | a person debugging one failure: text trace (and pcap) | [`traces::write_dir`] |
//! | [`expect`] | CI against a peer with known failures | [`expect::compare`], [`expect::write`] |
//!
//! A black-box run also says how it reached its target ([`transport`](crate::results::transport)): the
//! address, whether it is on this machine, and TLS; every format shows it.
//!
//! The formats never re-judge a run: the verdict, the violations and their
//! diagnoses come from the oracle, and each format only lays them out.

use std::path::PathBuf;

pub mod expect;
pub mod html;
pub mod json;
pub mod junit;
pub mod text;
pub mod trace_text;
pub mod traces;

/// Why a report could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The JUnit serializer refused the report (it should not: every string is escaped).
    #[error("cannot serialize the JUnit report: {0}")]
    Junit(#[from] quick_junit::SerializeError),
    /// A line of an expected-results file does not parse.
    #[error("{}:{line}: {message}", path.display())]
    Expect {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
}

impl Error {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
