//! hijack-harness: a fuzzing and conformance harness for HTTP/1.1 connection
//! hijacking (upgrade, `CONNECT`, Go's `Hijacker`), and the reference
//! implementation of a hand-over that loses, duplicates and reorders nothing.
//!
//! # Checking your library
//!
//! Implement [`subject::ServerSubject`] (or [`subject::ClientSubject`]) for your
//! HTTP library: parse the request, answer with what the harness's handler says,
//! and hand the connection to the handler's application. Then, in a test:
//!
//! ```
//! use hijack_harness::properties::assert_server_conforms;
//! use hijack_harness::subject::reference::ReferenceServer;
//!
//! // Your subject here: the reference implementation conforms.
//! assert_server_conforms(&ReferenceServer::default());
//! ```
//!
//! The helper runs generated scenarios (`PROPTEST_CASES` of them, 256 by default)
//! over an in-memory wire that cuts the bytes where the scenario says, and on
//! failure panics with the shrunk counterexample as a report
//! ([`counterexample`]): the verdict on the first line, the wire with carets under
//! the wrong bytes, the scenario in words, and one command that replays it
//! (`HIJACK_SCENARIO=... cargo test your_test -- --exact`).
//! `examples/byo_subject.rs` is a whole hand-written server, with the classic bug
//! and its fix.
//!
//! # The stable surface
//!
//! What a subject author touches is the API this crate keeps stable:
//!
//! * [`subject`]: the traits to implement, and what the harness hands a subject
//!   (the handler, the application, the stream types, the errors).
//! * [`properties`]: the checks and the assertion helpers, their configuration,
//!   replaying one scenario from its hex.
//! * [`scenario`]: the generated case, whose types a subject sees through the
//!   handler (heads, body framing, when the application writes).
//! * [`check`]: one run of one scenario, and the [`check::Run`] it records
//!   (one [`results::Run`] type for every protocol: `Run<WebSocket>`, `Run<Proxy>`).
//! * [`oracle`]: the invariant, the [`oracle::Protocol`] a kind of run plugs in
//!   as, and the [`oracle::Verdict`] with its diagnosis; [`invariant`] holds the
//!   points a verdict names and the levels it grades them at.
//! * [`counterexample`]: the report a failing run prints.
//! * [`reference`](mod@reference): the reference hand-over to build on ([`reference::Hijacked`]
//!   replays the read-ahead, then the transport) and its HTTP head helpers.
//! * [`wire`]: the trace a run records, its text form and its pcap export.
//!
//! The data flow of one run, and the module for each step:
//!
//! ```text
//! Scenario ──> Wire ──> Subject ──> Trace ──> Oracle ──> Verdict
//! scenario     wire     subject     wire      oracle     oracle
//! ```
//!
//! [`check`] runs one scenario; [`properties`] runs many and shrinks failures.
//!
//! # Not a stable API
//!
//! The command line (`hijack-harness run`, `trace`, `serve`), its conformance
//! suite and reports, and the fuzz targets are built from modules that are
//! public only so that the binary, the examples, the benchmarks and the `fuzz/`
//! crate can reach them. They are hidden from these docs and may change in any
//! release; use the command line, not them.
#![deny(missing_docs)]

pub mod check;
pub mod counterexample;
pub mod invariant;
pub mod oracle;
pub mod properties;
pub mod reference;
pub mod results;
pub mod scenario;
pub mod subject;
pub mod wire;

// The tool's machinery, not a stable API (see "Not a stable API" above): public
// for the binary (cli), the examples, the benches and the `fuzz/` crate, hidden
// from the docs so that nobody mistakes it for the surface a subject author uses.
#[doc(hidden)]
pub mod fuzzing;
#[doc(hidden)]
pub mod heap;
#[doc(hidden)]
pub mod inspect;
#[doc(hidden)]
pub mod peer;
#[doc(hidden)]
pub mod report;
#[doc(hidden)]
pub mod runner;
#[doc(hidden)]
pub mod stdcopy;
#[doc(hidden)]
pub mod suite;
#[doc(hidden)]
pub mod websocket;
