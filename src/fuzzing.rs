//! Coverage-guided fuzzing: the `arbitrary` form of [`Scenario`], and the bodies of
//! the `cargo fuzz` targets.
//!
//! Property tests explore what we thought of; a coverage-guided fuzzer explores
//! what we did not. Both ask the same oracle about the same [`Scenario`] type, so
//! a fuzz crash replays as a scenario and a proptest counterexample can become a
//! fuzz seed.
//!
//! # Why the target bodies live here and are always compiled
//!
//! The files in `fuzz/fuzz_targets/` are one-liners that call the functions below.
//! Keeping the bodies in the library means `cargo test` (stable, no libFuzzer)
//! replays the committed corpus through exactly the code the fuzzer runs
//! (`tests/corpus.rs`), and a crash file reproduces with a plain test. The module is
//! not behind a feature: `arbitrary` is already a dependency, the code is small,
//! and a feature would be one more build configuration for CI to forget.
//!
//! # The byte format
//!
//! [`Scenario`]'s [`Arbitrary`] impl reads the input one byte at a time (and
//! multi-byte numbers as little-endian bytes it composes itself), never through
//! `arbitrary`'s own integer or collection encodings. `arbitrary` does not promise
//! a stable wire format across versions; this module does, because [`encode`] is its
//! exact inverse: `decode(encode(s)) == s` for every scenario the `proptest`
//! strategy builds (a property test checks it). That is what makes the corpus
//! generator (`tests/corpus.rs`, `generate_seeds`) re-runnable: the seeds are
//! written from named scenarios, not from random bytes. An exhausted input reads as
//! zero bytes, and a zero byte always means the plainest choice (upgrade, no body,
//! accept, no cuts), so short inputs are simple cases. The application's choices
//! (how much of the body it reads, who writes the answer, whether the client waits
//! for `100 Continue` or writes early) come last, and [`encode`] leaves their
//! trailing zero bytes out: an input written before they existed is still its
//! scenario's encoding, and decodes as it did.
//!
//! The distributions mirror [`crate::scenario::scenario`]: payloads mostly small,
//! sometimes about 4 KiB, rarely past 64 KiB (plus any length up to
//! [`MAX_PAYLOAD`]), read sizes from 1 to 70 000.
//!
//! # Selecting a mutant
//!
//! `HIJACK_MUTANT=<name>` (read once, at the first input) makes [`server_handoff`]
//! or [`client_handoff`] run that mutant instead of the reference; `fuzz/detect.sh`
//! uses it to show that fuzzing from an empty corpus finds every planted bug.
//! `HIJACK_FINDING=<name>` likewise makes [`hyper_server`] hunt one known hyper
//! finding, with the findings filter off for it and every other case skipped, so
//! that `fuzz/detect.sh` can time how long the fuzzer takes to find it.
//! `HIJACK_PROXY_MUTANT=<name>` makes [`proxy::proxy_handoff`] run that proxy
//! mutant instead of the reference proxy.

use std::sync::OnceLock;

#[cfg(doc)]
use crate::scenario::{MAX_PAYLOAD, Scenario};
#[cfg(doc)]
use arbitrary::Arbitrary;

use crate::check::{self, Run};
use crate::subject::mutants::Mutant;
use crate::subject::reference::{ReferenceClient, ReferenceServer};
use crate::subject::{ClientSubject, ServerSubject};

mod bytes;
mod head;
mod hyper;
pub mod proxy;
mod reader;
mod scenario;
pub mod websocket;

pub use bytes::EncodeError;
pub use head::{HEAD_SETTINGS, head};
pub use hyper::{
    FINDING_VAR, HYPER_CLIENT_DEFAULTS, HYPER_SERVER_DEFAULTS, differential, hyper_client,
    hyper_server, read_hyper_client, read_hyper_server,
};
pub use scenario::{decode, encode};

/// The environment variable that selects a mutant for a fuzz run.
pub const MUTANT_VAR: &str = "HIJACK_MUTANT";

/// The first line of every oracle failure a target reports, for scripts to grep.
pub const FAILURE_MARK: &str = "hijack-harness: oracle verdict failed";

/// Once per fuzzing process, before the first input: keeps freed memory in the
/// process ([`crate::heap::keep_freed_memory`]).
pub fn init() {
    crate::heap::keep_freed_memory();
}

fn fail(run: &Run) -> ! {
    fail_with(run, "")
}

fn fail_with(run: &Run, configuration: &str) -> ! {
    panic!("{FAILURE_MARK}: {}", crash_report(run, configuration))
}

/// `run` told top-down ([`crate::counterexample`]), with its replay command.
fn crash_report(run: &Run, configuration: &str) -> String {
    crate::counterexample::fuzz_crash(run, configuration, encode(&run.scenario).ok())
}

fn selected_mutant() -> Option<Mutant> {
    static SELECTED: OnceLock<Option<Mutant>> = OnceLock::new();
    *SELECTED.get_or_init(|| {
        let name = std::env::var(MUTANT_VAR).ok().filter(|n| !n.is_empty())?;
        match Mutant::from_name(&name) {
            Some(mutant) => Some(mutant),
            None => {
                let known: Vec<_> = Mutant::all().into_iter().map(Mutant::name).collect();
                panic!("{MUTANT_VAR}={name} names no mutant; known: {known:?}")
            }
        }
    })
}

/// The server under test: the reference, or the mutant `HIJACK_MUTANT` names.
///
/// # Panics
///
/// When `HIJACK_MUTANT` names no mutant, or a client mutant.
pub fn selected_server() -> ReferenceServer {
    match selected_mutant() {
        None => ReferenceServer::default(),
        Some(mutant) => mutant.server().unwrap_or_else(|| {
            panic!(
                "{MUTANT_VAR}={} is a client mutant: fuzz it with client_handoff",
                mutant.name()
            )
        }),
    }
}

/// The client under test: the reference, or the mutant `HIJACK_MUTANT` names.
///
/// # Panics
///
/// When `HIJACK_MUTANT` names no mutant, or a server mutant.
pub fn selected_client() -> ReferenceClient {
    match selected_mutant() {
        None => ReferenceClient::default(),
        Some(mutant) => mutant.client().unwrap_or_else(|| {
            panic!(
                "{MUTANT_VAR}={} is a server mutant: fuzz it with server_handoff",
                mutant.name()
            )
        }),
    }
}

/// Runs the scenario `data` decodes to against `subject`; panics with the verdict
/// and the trace when the oracle finds a violation.
pub fn server_handoff_with(subject: &dyn ServerSubject, data: &[u8]) {
    let run = check::run_server(subject, &decode(data));
    if !run.passed() {
        fail(&run);
    }
}

/// Runs the scenario `data` decodes to against `subject` on the client side; panics
/// with the verdict and the trace when the oracle finds a violation.
pub fn client_handoff_with(subject: &dyn ClientSubject, data: &[u8]) {
    let run = check::run_client(subject, &decode(data));
    if !run.passed() {
        fail(&run);
    }
}

/// The `server_handoff` target: the reference server (or `HIJACK_MUTANT`), any scenario.
pub fn server_handoff(data: &[u8]) {
    static SUBJECT: OnceLock<ReferenceServer> = OnceLock::new();
    server_handoff_with(SUBJECT.get_or_init(selected_server), data);
}

/// The `client_handoff` target: the reference client (or `HIJACK_MUTANT`), any scenario.
pub fn client_handoff(data: &[u8]) {
    static SUBJECT: OnceLock<ReferenceClient> = OnceLock::new();
    client_handoff_with(SUBJECT.get_or_init(selected_client), data);
}
