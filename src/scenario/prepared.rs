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
//!
//! A property draws a new scenario for every case, so the one kept is
//! replaced at each case. When no run holds it any more (the runs of the last
//! case ended), it is refilled in place instead of built anew: the header
//! strings, the cut vectors and the response head take the new case's values
//! in the allocations they have. A fresh copy and a fresh head were about
//! twenty allocations a case, and as many frees (BENCHMARKS.md, issue 26,
//! seventh pass).

use std::cell::RefCell;
use std::sync::Arc;

use super::{Body, Messages, Scenario};

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
    /// Header strings a refill let go, for the next one that needs more.
    static SPARE_TEXT: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
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
    ///
    /// The one kept, when nothing else holds it, is refilled in place with
    /// `scenario` ([`Prepared::refill`]) rather than dropped for a new one.
    pub fn of(scenario: &Scenario) -> Arc<Prepared> {
        LAST.with(|last| {
            let mut last = last.borrow_mut();
            if let Some(kept) = last.as_mut() {
                if *kept.scenario == *scenario {
                    return Arc::clone(kept);
                }
                if let Some(prepared) = Arc::get_mut(kept)
                    && prepared.refill(scenario)
                {
                    return Arc::clone(kept);
                }
            }
            let prepared = Arc::new(Prepared::new(scenario.clone()));
            *last = Some(Arc::clone(&prepared));
            prepared
        })
    }

    /// Makes this `scenario` with its messages, in the allocations it has;
    /// `false` (and nothing changed) when its scenario is shared.
    fn refill(&mut self, scenario: &Scenario) -> bool {
        let Some(slot) = Arc::get_mut(&mut self.scenario) else {
            return false;
        };
        SPARE_TEXT.with_borrow_mut(|spare| assign(slot, scenario, spare));
        self.messages.renew(slot);
        true
    }
}

/// `*to = from.clone()`, but every vector and string keeps its allocation
/// (a derived `clone_from` would clone, and header pairs have none of their
/// own); header strings come from and go to `spare`.
fn assign(to: &mut Scenario, from: &Scenario, spare: &mut Vec<String>) {
    // Every field named: a new one does not compile until it is assigned here.
    let Scenario {
        handshake,
        request_headers,
        body,
        expect_continue,
        answer,
        interim_continue,
        response_headers,
        client,
        server,
        client_cuts,
        server_cuts,
    } = from;
    to.handshake = *handshake;
    assign_headers(&mut to.request_headers, request_headers, spare);
    match (&mut to.body, body) {
        (Body::Chunked(to), Body::Chunked(from)) => to.clone_from(from),
        (to, from) => *to = from.clone(),
    }
    to.expect_continue = *expect_continue;
    to.answer = *answer;
    to.interim_continue = *interim_continue;
    assign_headers(&mut to.response_headers, response_headers, spare);
    to.client = client.clone();
    to.server = server.clone();
    to.client_cuts.clone_from(client_cuts);
    to.server_cuts.clone_from(server_cuts);
}

/// How many header strings [`SPARE_TEXT`] keeps.
const SPARE_TEXTS: usize = 16;

/// `*to = from.to_vec()`, in the strings `to` has, then in those of `spare`;
/// the strings `to` no longer needs go to `spare`.
fn assign_headers(
    to: &mut Vec<(String, String)>,
    from: &[(String, String)],
    spare: &mut Vec<String>,
) {
    while to.len() > from.len() {
        if let Some((name, value)) = to.pop()
            && spare.len() < SPARE_TEXTS
        {
            spare.extend([name, value]);
        }
    }
    for ((name, value), (from_name, from_value)) in to.iter_mut().zip(from) {
        name.clone_from(from_name);
        value.clone_from(from_value);
    }
    let kept = to.len();
    for (name, value) in &from[kept..] {
        let mut text = |from: &str| {
            let mut text = spare.pop().unwrap_or_default();
            from.clone_into(&mut text);
            text
        };
        to.push((text(name), text(value)));
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

    proptest::proptest! {
        /// A kept scenario that no run holds is refilled in place (the same
        /// allocations: the same `Prepared`, the same response head), and the
        /// refilled one is the scenario and the messages a fresh build gives.
        #[test]
        fn an_unshared_one_is_refilled_in_place_as_built_anew(
            a in crate::scenario::scenario(),
            b in crate::scenario::scenario(),
        ) {
            let first = Prepared::of(&a);
            let (prepared, head) = (Arc::as_ptr(&first), Arc::as_ptr(&first.messages.response_head));
            drop(first);
            let refilled = Prepared::of(&b);
            proptest::prop_assert_eq!(Arc::as_ptr(&refilled), prepared);
            proptest::prop_assert_eq!(Arc::as_ptr(&refilled.messages.response_head), head);
            proptest::prop_assert_eq!(&*refilled.scenario, &b);
            let fresh = Messages::new(&b);
            let m = &refilled.messages;
            proptest::prop_assert_eq!(&m.request_early, &fresh.request_early);
            proptest::prop_assert_eq!(&m.response, &fresh.response);
            proptest::prop_assert_eq!(&*m.response_head, &*fresh.response_head);
            proptest::prop_assert_eq!(&m.body, &fresh.body);
            proptest::prop_assert_eq!(&m.first, &fresh.first);
            proptest::prop_assert_eq!(m.sizes(), fresh.sizes());
        }
    }

    #[test]
    fn a_shared_one_is_left_alone() {
        let mut scenario = Scenario::basic();
        let held = Prepared::of(&scenario);
        scenario.request_headers.push(("X-A".into(), "1".into()));
        let other = Prepared::of(&scenario);
        assert!(!Arc::ptr_eq(&held, &other));
        assert!(held.scenario.request_headers.is_empty());
        assert_eq!(*other.scenario, scenario);
    }
}
