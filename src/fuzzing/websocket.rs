//! The WebSocket fuzz targets: a library picked by the first byte, then a
//! [`MessageScenario`](crate::scenario::websocket::MessageScenario)
//! ([`encoding`]), run under the lockstep wire and
//! judged by the message-level oracle.
//!
//! The first byte's low two bits pick the library (server: tokio-tungstenite,
//! its `accept_hdr_async`, soketto, actix-ws; client: tokio-tungstenite, soketto,
//! awc, and tokio-tungstenite again), the next two bits tokio-tungstenite's read
//! buffer (its default, 1, 7 or 4096 bytes). Zero is tokio-tungstenite with its
//! defaults. A missed SHOULD (`non-strict`) is not a crash; the known soketto
//! finding is skipped, as the properties skip it. `HIJACK_WS_MUTANT=<name>`
//! (read once) runs that WebSocket mutant instead, for `fuzz/detect.sh`:
//! `ws-drops-handshake-tail` with `ws_client`, the others with `ws_server`.

use std::sync::OnceLock;

use crate::check::Run;
use crate::check::websocket::{run_client, run_server};
use crate::oracle::websocket::WebSocket;
use encoding::decode;

pub mod encoding;
use crate::subject::websocket::mutants::MessageMutant;
use crate::subject::websocket::soketto::{self, SokettoClient, SokettoServer};
use crate::subject::websocket::tungstenite::{
    TungsteniteClient, TungsteniteOptions, TungsteniteServer,
};
use crate::subject::websocket::{MessageClientSubject, MessageServerSubject};
use crate::wire::{Side, text};

use super::FAILURE_MARK;

/// The environment variable that selects a WebSocket mutant for a fuzz run.
pub const WS_MUTANT_VAR: &str = "HIJACK_WS_MUTANT";

/// The mutant `HIJACK_WS_MUTANT` names, if it breaks `side`.
///
/// # Panics
///
/// When it names no WebSocket mutant, or one of the other side.
fn selected_mutant_for(side: Side) -> Option<MessageMutant> {
    let mutant = selected_mutant()?;
    if mutant.side() != side {
        panic!(
            "{WS_MUTANT_VAR}={} breaks the {} side: fuzz it with ws_{}",
            mutant.name(),
            mutant.side(),
            mutant.side()
        );
    }
    Some(mutant)
}

fn selected_mutant() -> Option<MessageMutant> {
    static SELECTED: OnceLock<Option<MessageMutant>> = OnceLock::new();
    *SELECTED.get_or_init(|| {
        let name = std::env::var(WS_MUTANT_VAR)
            .ok()
            .filter(|n| !n.is_empty())?;
        match MessageMutant::ALL
            .into_iter()
            .find(|m| MessageMutant::name(*m) == name)
        {
            Some(mutant) => Some(mutant),
            None => {
                let known: Vec<_> = MessageMutant::ALL
                    .into_iter()
                    .map(MessageMutant::name)
                    .collect();
                panic!("{WS_MUTANT_VAR}={name} names no WebSocket mutant; known: {known:?}")
            }
        }
    })
}

fn options(b: u8) -> TungsteniteOptions {
    TungsteniteOptions {
        read_buffer_size: [None, Some(1), Some(7), Some(4096)][usize::from(b >> 2) % 4],
        write_buffer_size: None,
    }
}

/// The server subject the first byte `b` picks (see the module doc).
pub fn server_subject(b: u8) -> Box<dyn MessageServerSubject> {
    if let Some(mutant) = selected_mutant_for(Side::Server) {
        return Box::new(mutant);
    }
    match b % 4 {
        0 | 1 => Box::new(TungsteniteServer {
            hdr: b % 4 == 1,
            options: options(b),
        }),
        2 => Box::new(SokettoServer),
        #[cfg(feature = "actix")]
        _ => Box::new(crate::subject::websocket::actix::ActixServer),
        #[cfg(not(feature = "actix"))]
        _ => Box::new(SokettoServer),
    }
}

/// The client subject the first byte `b` picks (see the module doc).
pub fn client_subject(b: u8) -> Box<dyn MessageClientSubject> {
    if let Some(mutant) = selected_mutant_for(Side::Client) {
        return Box::new(mutant);
    }
    match b % 4 {
        1 => Box::new(SokettoClient),
        #[cfg(feature = "actix")]
        2 => Box::new(crate::subject::websocket::actix::AwcClient),
        _ => Box::new(TungsteniteClient {
            options: options(b),
        }),
    }
}

fn fail(run: &Run<WebSocket>) -> ! {
    panic!(
        "{FAILURE_MARK}: {} websocket subject {}\n{:#?}\n{}{}",
        run.side,
        run.subject,
        run.scenario,
        text::render(&run.trace),
        run.verdict
    )
}

/// Whether `subject` on this case is a known finding the targets skip.
fn known(subject: &str, scenario: &crate::scenario::websocket::MessageScenario) -> bool {
    subject == "soketto" && soketto::known_finding(scenario).is_some()
}

/// The `ws_server` target: a WebSocket server library, then a case.
pub fn ws_server(data: &[u8]) {
    let (&b, rest) = data.split_first().unwrap_or((&0, &[]));
    let subject = server_subject(b);
    let scenario = decode(rest);
    if known(&subject.name(), &scenario) {
        return;
    }
    let run = run_server(subject.as_ref(), &scenario);
    if !run.passed() {
        fail(&run);
    }
}

/// The `ws_client` target: a WebSocket client library, then a case.
pub fn ws_client(data: &[u8]) {
    let (&b, rest) = data.split_first().unwrap_or((&0, &[]));
    let subject = client_subject(b);
    let scenario = decode(rest);
    if known(&subject.name(), &scenario) {
        return;
    }
    let run = run_client(subject.as_ref(), &scenario);
    if !run.passed() {
        fail(&run);
    }
}
