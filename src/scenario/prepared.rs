//! A scenario with its [`Messages`], built once and shared by the runs of it.
//!
//! A run needs its own copy of the scenario (the handler and the application
//! outlive the caller's borrow) and its messages. A differential runs every
//! scenario against two subjects, one after the other on the same thread, and
//! building both twice was a tenth of the second run's instructions (scenario
//! clones and drops, heads with their header strings, payload look-ups;
//! BENCHMARKS.md, issue 26, fourth pass). [`Prepared::of`] keeps the last one
//! built on each thread and hands it out again while the scenario is equal.
//! Messages are a function of the scenario alone (payloads are fixed by their
//! fill and role), so a shared one is the one a fresh build would give.
//!
//! The scenario itself is behind its own `Arc`, which the run's record
//! ([`crate::results::Run::scenario`]) shares: a run keeps the case without
//! cloning it (a vector of header strings) and dropping the clone.

use std::cell::RefCell;
use std::sync::Arc;

use super::{Messages, Scenario};

/// A scenario and the messages it puts on the wire.
#[derive(Debug)]
pub struct Prepared {
    /// The case, shared with the records of its runs.
    pub scenario: Arc<Scenario>,
    /// Everything both sides of it send.
    pub messages: Messages,
}

thread_local! {
    /// The last scenario prepared on this thread.
    static LAST: RefCell<Option<Arc<Prepared>>> = const { RefCell::new(None) };
}

impl Prepared {
    /// `scenario` with its messages, built now.
    pub fn new(scenario: Scenario) -> Self {
        Prepared {
            messages: Messages::new(&scenario),
            scenario: Arc::new(scenario),
        }
    }

    /// `scenario` with its messages: the ones this thread built last when that
    /// scenario equals `scenario`, otherwise built now (and kept for next time).
    pub fn of(scenario: &Scenario) -> Arc<Prepared> {
        LAST.with(|last| {
            let mut last = last.borrow_mut();
            if let Some(kept) = last.as_ref()
                && *kept.scenario == *scenario
            {
                return Arc::clone(kept);
            }
            let prepared = Arc::new(Prepared::new(scenario.clone()));
            *last = Some(Arc::clone(&prepared));
            prepared
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Body, Payload};

    #[test]
    fn an_equal_scenario_shares_the_last_one_and_another_gets_its_own() {
        let mut scenario = Scenario::basic();
        scenario.body = Body::Length(Payload::noise(300, 7));
        let first = Prepared::of(&scenario);
        let again = Prepared::of(&scenario.clone());
        assert!(
            Arc::ptr_eq(&first, &again),
            "an equal scenario is built again"
        );

        let mut other = scenario.clone();
        other.body = Body::Length(Payload::noise(301, 7));
        let theirs = Prepared::of(&other);
        assert!(
            !Arc::ptr_eq(&first, &theirs),
            "another scenario shares messages"
        );
        assert_eq!(*theirs.scenario, other);
        assert_eq!(theirs.messages.body.len(), 301);
        // What is shared is what a fresh build gives.
        let fresh = Messages::new(&other);
        assert_eq!(theirs.messages.request, fresh.request);
        assert_eq!(theirs.messages.response, fresh.response);
    }
}
