//! Every mutant is caught by the properties, with a diagnosis that names the
//! invariant point its bug breaks. The shrunk counterexample is printed (run with
//! `--nocapture` to see it).

mod support;

use std::collections::BTreeSet;

use hijack_harness::subject::mutants::{ClientFlaw, Flaw, Mutant};

/// Caught, with the diagnosis of the broken point containing `words`.
fn assert_caught_naming(mutant: Mutant, words: &str) {
    let counterexample = support::counterexample(mutant);
    println!(
        "{} caught; shrunk counterexample:\n{counterexample}",
        mutant.name()
    );
    let verdict = &counterexample.run.verdict;
    assert!(
        verdict.breaks(mutant.breaks()),
        "{} should break {}, but the diagnosis was:\n{verdict}",
        mutant.name(),
        mutant.breaks()
    );
    assert!(
        verdict
            .violations
            .iter()
            .any(|v| v.point == mutant.breaks() && v.message.contains(words)),
        "{}'s diagnosis should name {words:?}:\n{verdict}",
        mutant.name()
    );
}

macro_rules! mutant_tests {
    ($($test:ident => $mutant:expr $(, naming $words:literal)?;)*) => {
        $(
            #[test]
            fn $test() {
                assert_caught_naming($mutant, concat!("" $(, $words)?));
            }
        )*

        /// The mutants that have a test above.
        const TESTED: &[Mutant] = &[$($mutant),*];
    };
}

mutant_tests! {
    ignores_read_ahead => Mutant::Server(Flaw::IgnoresReadAhead);
    drops_first_packet => Mutant::Server(Flaw::DropsFirstPacket);
    loses_background_byte => Mutant::Server(Flaw::LosesBackgroundByte);
    replays_read_ahead_twice => Mutant::Server(Flaw::ReplaysReadAheadTwice);
    replays_read_ahead_late => Mutant::Server(Flaw::ReplaysReadAheadLate);
    drops_unflushed_writes => Mutant::Server(Flaw::DropsUnflushed);
    writes_after_hijack => Mutant::Server(Flaw::WritesAfterHijack);
    closes_after_hand_over => Mutant::Server(Flaw::ClosesAfterHandOver);
    leaves_chunked_body => Mutant::Server(Flaw::LeavesChunkedBody);
    loses_close_write => Mutant::Server(Flaw::LosesCloseWrite);
    server_hands_over_on_refusal => Mutant::Server(Flaw::HandsOverOnRefusal);
    client_reads_past_head => Mutant::Client(ClientFlaw::ReadsPastHead);
    client_hands_over_on_refusal => Mutant::Client(ClientFlaw::HandsOverOnRefusal);
    hands_over_unread_body => Mutant::Server(Flaw::HandsOverUnreadBody), naming "request body";
    sends_continue_late => Mutant::Server(Flaw::SendsContinueLate), naming "100 Continue";
}

/// A mutant without a test above would be a bug nobody checks for.
#[test]
fn every_mutant_has_a_test() {
    let all: BTreeSet<&str> = Mutant::all().into_iter().map(Mutant::name).collect();
    let tested: BTreeSet<&str> = TESTED.iter().map(|m| m.name()).collect();
    let untested: Vec<_> = all.difference(&tested).collect();
    assert!(untested.is_empty(), "mutants without a test: {untested:?}");
}
