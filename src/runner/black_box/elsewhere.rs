//! A target that is not on this machine: what its verdicts can and cannot say.
//!
//! On this machine (loopback, a local interface's address, a Unix socket) a
//! paced write leaves as one segment and arrives as one, and a pause at a cut
//! keeps the two sides of the cut apart: the harness decides what the server's
//! first read holds. Beyond it, routers, middleboxes and NIC offloads (GRO, LRO,
//! TSO) may merge segments or split them. A lost byte is still a lost byte, but
//! a case that puts bytes in the request's segment, or cuts the stream, may not
//! have reached the server in the shape the case meant: a pass may not have
//! exercised the read-ahead, and a diagnosis that names "the head's segment"
//! names it as the harness sent it. So the report says so, once for the run
//! ([`crate::results::transport::BEST_EFFORT`]) and on each diagnosis that
//! depends on a cut (`mark`).

use crate::oracle::Point;
use crate::results::CaseResult;
use crate::suite::Case;

/// The note on a diagnosis that depends on a cut, for a target not on this machine.
const CUT_NOTE: &str = "this diagnosis depends on where the client's segments were cut (bytes sent \
     in the request's segment, or a pause between segments), and the target is not on this machine: \
     the segments it names are the ones the harness sent, which a router or offload may have merged \
     or split before the server read them";

/// Whether `case` puts client bytes against a segment boundary: bytes after
/// the request sent in the request's own segment (what a server's read-ahead
/// holds), or a cut with a pause.
pub fn depends_on_cuts(case: &Case) -> bool {
    let scenario = &case.scenario;
    !scenario.client_cuts.is_empty() || !scenario.client_early().is_empty()
}

/// Whether a diagnosis of `point` rests on where the client's bytes were cut:
/// what the server read (point 1), what a refusal handed over (point 6: the
/// next request rides in the refused one's segment) and a FIN that follows
/// data at once (point 5). A wrong status line, a write after the hand-over or
/// a broken write order is the server's own doing, however its input arrived.
fn rests_on_cuts(point: Point) -> bool {
    matches!(
        point,
        Point::ServerRead | Point::NoFalseUpgrade | Point::HalfClose
    )
}

/// Marks `result` of `case` against a target not on this machine: a
/// diagnosis that depends on a cut says so.
pub(super) fn mark(case: &Case, result: &mut CaseResult) {
    if depends_on_cuts(case) && result.violations.iter().any(|v| rests_on_cuts(v.point)) {
        result.notes.push(CUT_NOTE.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite;

    fn case(id: &str) -> Case {
        suite::all()
            .into_iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("no case {id}"))
    }

    #[test]
    fn cases_that_place_bytes_against_a_boundary_depend_on_cuts() {
        // Early bytes in the head's segment; a cut in the head; a cut before the early bytes.
        for id in [
            "handoff.early-data.same-segment.1",
            "handoff.head-split",
            "handoff.early-data.delayed",
        ] {
            assert!(depends_on_cuts(&case(id)), "{id}");
        }
        // Nothing sent before the answer, no cut: the segments do not matter.
        assert!(!depends_on_cuts(&case("handoff.server-speaks-first")));
    }

    #[test]
    fn only_diagnoses_are_marked() {
        let case = case("handoff.early-data.same-segment.1");
        let run = crate::check::run_server(
            &crate::subject::reference::ReferenceServer::default(),
            &case.scenario,
        );
        let mut passed = CaseResult::from_run(&case, &run);
        mark(&case, &mut passed);
        assert!(
            passed.notes.iter().all(|n| n != CUT_NOTE),
            "a pass has no diagnosis"
        );

        let mutant = crate::subject::mutants::Mutant::all()
            .into_iter()
            .find(|m| m.name() == "ignores-read-ahead")
            .and_then(|m| m.server())
            .expect("the mutant");
        let run = crate::check::run_server(&mutant, &case.scenario);
        let mut failed = CaseResult::from_run(&case, &run);
        assert!(!failed.violations.is_empty());
        mark(&case, &mut failed);
        assert!(failed.notes.iter().any(|n| n == CUT_NOTE));

        // A wrong status line is the server's own, whatever the segments.
        let mut handshake = CaseResult::from_run(&case, &run);
        for v in &mut handshake.violations {
            v.point = Point::Handshake;
        }
        mark(&case, &mut handshake);
        assert!(handshake.notes.iter().all(|n| n != CUT_NOTE));
    }
}
