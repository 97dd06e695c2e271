//! The record of one run of one case, in memory or over TCP: what the case
//! said, what crossed the wire, what the subject's application did, and the
//! oracle's verdict. One type for every protocol ([`Protocol`]): a WebSocket
//! run is a `Run<WebSocket>`, a raw hand-over a `Run` (of [`Hijack`]).

use std::fmt;
use std::sync::Arc;

use crate::oracle::{Hijack, Protocol, Verdict};
use crate::wire::driver::Ending;
use crate::wire::{Side, Trace};

/// Everything one run produced.
#[derive(Debug)]
pub struct Run<P: Protocol = Hijack> {
    /// The case. Shared: an in-memory run of an HTTP scenario keeps the one
    /// its handler and messages were built from (`scenario::Prepared`), so a
    /// run costs no copy of it. Read it through the `Arc` as the case itself.
    pub scenario: Arc<P::Scenario>,
    /// Which side was the subject.
    pub side: Side,
    /// The subject's name.
    pub subject: String,
    /// What crossed the wire.
    pub trace: Trace,
    /// What the subject's application did.
    pub app: P::Record,
    /// How the run ended.
    pub ending: Ending,
    /// The subject's error, if any.
    pub subject_error: Option<String>,
    /// Why the subject could not run the case, if it could not.
    pub unsupported: Option<String>,
    /// The oracle's judgement.
    pub verdict: Verdict,
}

// By hand: a derive would ask `P` itself to be `Clone`.
impl<P: Protocol> Clone for Run<P> {
    fn clone(&self) -> Self {
        Run {
            scenario: Arc::clone(&self.scenario),
            side: self.side,
            subject: self.subject.clone(),
            trace: self.trace.clone(),
            app: self.app.clone(),
            ending: self.ending,
            subject_error: self.subject_error.clone(),
            unsupported: self.unsupported.clone(),
            verdict: self.verdict.clone(),
        }
    }
}

impl<P: Protocol> Run<P> {
    /// Whether the run conforms: no MUST broken (an unsupported case conforms
    /// vacuously, a missed SHOULD of the protocol's own rules passes).
    pub fn passed(&self) -> bool {
        self.verdict.passed()
    }

    /// A run that never started: the subject declined the case (`why`).
    pub fn unsupported(scenario: &P::Scenario, side: Side, subject: String, why: String) -> Self {
        Run {
            scenario: Arc::new(scenario.clone()),
            side,
            subject,
            trace: Trace::default(),
            app: P::Record::default(),
            ending: Ending::Completed,
            subject_error: None,
            unsupported: Some(why),
            verdict: Verdict::default(),
        }
    }
}

impl<P: Protocol> fmt::Display for Run<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} {} subject; scenario:", self.subject, self.side)?;
        writeln!(f, "{:#?}", self.scenario)?;
        writeln!(f, "trace:")?;
        write!(f, "{}", crate::wire::text::render(&self.trace))?;
        write!(f, "{}", self.verdict)
    }
}
