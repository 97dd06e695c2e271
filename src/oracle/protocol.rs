//! What the pipeline is generic over: a protocol.
//!
//! Every run, in memory or over TCP, is the same five steps whatever travels
//! after the hand-over (`docs/src/invariant.md`): a scenario, a scripted peer that sends
//! what the scenario says, a subject, a trace, and the oracle's [`Verdict`].
//! What changes with the protocol is only what a scenario says, what the peer
//! sent, and what the subject's application records; a [`Protocol`] names those
//! three types and the oracle that reads them. The run record
//! ([`crate::results::Run`]), the verdict, its points and levels are one type
//! for every protocol: a new protocol is a new `impl Protocol`, not a copy of
//! the pipeline.
//!
//! | protocol | after the hand-over | scenario | application record |
//! |---|---|---|---|
//! | [`Hijack`] | raw bytes (upgrade, `CONNECT`, Go's `Hijacker`) | [`Scenario`] | [`AppRecord`] |
//! | [`WebSocket`](super::websocket::WebSocket) | RFC 6455 messages | [`websocket::Scenario`](crate::scenario::websocket::Scenario) | [`websocket::Record`](crate::subject::websocket::Record) |

use std::fmt;

use super::Verdict;
use crate::scenario::{Messages, Scenario};
use crate::subject::AppRecord;
use crate::wire::driver::Ending;
use crate::wire::{Side, Trace};

/// A protocol the pipeline runs and the oracle judges.
pub trait Protocol: 'static {
    /// What a case says happens on the wire.
    type Scenario: Clone + fmt::Debug;
    /// What the scripted peer sent, as the oracle compares it.
    type Sent: fmt::Debug;
    /// What the subject's application did.
    type Record: Clone + fmt::Debug + Default;

    /// Judges one run.
    fn judge(obs: &Observation<'_, Self>) -> Verdict;
}

/// Raw bytes after the hand-over: the HTTP exchange, then whatever the
/// application writes, byte for byte (the six points of `docs/src/invariant.md`).
#[derive(Debug, Clone, Copy)]
pub struct Hijack;

impl Protocol for Hijack {
    type Scenario = Scenario;
    type Sent = Messages;
    type Record = AppRecord;

    fn judge(obs: &Observation<'_, Self>) -> Verdict {
        super::judge(obs)
    }
}

/// What one run produced, for the oracle.
#[derive(Debug)]
pub struct Observation<'a, P: Protocol + ?Sized = Hijack> {
    /// The case.
    pub scenario: &'a P::Scenario,
    /// What the scripted peer sent.
    pub sent: &'a P::Sent,
    /// Which side was the subject (the other was the scripted peer).
    pub subject: Side,
    /// Everything that crossed the wire.
    pub trace: &'a Trace,
    /// What the subject's application did.
    pub app: &'a P::Record,
    /// How the run ended.
    pub ending: Ending,
    /// The subject's error, if it returned one.
    pub subject_error: Option<&'a str>,
}

// Copy by hand: a derive would ask `P` itself to be `Copy`.
impl<P: Protocol + ?Sized> Clone for Observation<'_, P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P: Protocol + ?Sized> Copy for Observation<'_, P> {}
