//! hijack-harness: a fuzzing and conformance harness for HTTP/1.1 connection
//! hijacking (upgrade, `CONNECT`, Go's `Hijacker`), and the reference
//! implementation of a hand-over that loses, duplicates and reorders nothing.
//!
//! The data flow of one run, and the module for each step:
//!
//! ```text
//! Scenario ──> Wire ──> Subject ──> Trace ──> Oracle ──> Verdict
//! scenario     wire     subject     wire      oracle     oracle
//! ```
//!
//! [`check`] runs one scenario; [`properties`] runs many and shrinks failures.
#![deny(missing_docs)]

pub mod check;
pub mod counterexample;
pub mod fuzzing;
pub mod inspect;
pub mod oracle;
pub mod peer;
pub mod properties;
pub mod reference;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod subject;
pub mod suite;
pub mod websocket;
pub mod wire;
