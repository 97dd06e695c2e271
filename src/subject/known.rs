//! The known findings: what the libraries the harness ships as subjects are
//! known to fail (README: hyper's "Findings", and "WebSocket libraries"). One
//! list, read by every place that must tell a known failure from a new one:
//!
//! * hyper's options ([`super::hyper::HyperServerOptions::known_finding`]) and
//!   the WebSocket subjects ([`super::websocket::soketto::known_finding`]) name
//!   the finding a scenario runs into, so that the properties and fuzz targets
//!   skip it;
//! * the embedded run (`runner::embedded::known`) expects the suite results
//!   hyper fails through its findings, at exactly their points.
//!
//! Each finding is kept as a regression test (`tests/hyper/findings.rs`,
//! `tests/websocket.rs`) that asserts the library still fails it: a fix upstream
//! is noticed, and then removed here, in the README and in those tests.

use crate::oracle::Point;

/// One known finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    /// The library it is in, by its subject's name (`hyper`, `soketto`).
    pub library: &'static str,
    /// Its number among its library's findings in the README.
    pub number: u8,
    /// Its name: its regression test's, without the `finding_` prefix.
    pub name: &'static str,
    /// What goes wrong, in a few words.
    pub what: &'static str,
    /// The invariant points its failures break.
    pub points: &'static [Point],
}

/// hyper's finding 1: with `pipeline_flush(true)` the `101` head is never
/// written when new-protocol bytes came with the request.
pub const PIPELINE_FLUSH_LOSES_101_HEAD: Finding = Finding {
    library: "hyper",
    number: 1,
    name: "pipeline_flush_loses_101_head",
    what: "`pipeline_flush(true)` loses the `101` head",
    points: &[Point::Handshake],
};

/// hyper's finding 2: without `half_close`, the client's FIN after a refusal
/// aborts the pipelined request that follows it.
pub const HALF_CLOSE_FALSE_DROPS_PIPELINED_REQUEST: Finding = Finding {
    library: "hyper",
    number: 2,
    name: "half_close_false_drops_pipelined_request",
    what: "default `half_close(false)` drops a pipelined request after a refusal",
    points: &[Point::NoFalseUpgrade],
};

/// hyper's finding 3: the rest of a dropped body becomes the new protocol's first bytes.
pub const DROPPED_BODY_HANDED_TO_UPGRADE: Finding = Finding {
    library: "hyper",
    number: 3,
    name: "dropped_body_handed_to_upgrade",
    what: "a request body the service drops is handed to the upgraded stream",
    points: &[Point::ServerRead],
};

/// hyper's finding 4: a dropped body skips the `100 Continue` owed before the `101`.
pub const DROPPED_BODY_SKIPS_100_BEFORE_101: Finding = Finding {
    library: "hyper",
    number: 4,
    name: "dropped_body_skips_100_before_101",
    what: "no `100 Continue` before the `101` when the service drops the body",
    points: &[Point::Handshake],
};

/// soketto's finding: a pong between two fragments of a message loses the message.
pub const SOKETTO_PONG_BETWEEN_FRAGMENTS: Finding = Finding {
    library: "soketto",
    number: 1,
    name: "soketto_pong_between_fragments_loses_the_message",
    what: "a pong between two fragments of a message loses the message",
    // It breaks the message-level oracle's delivery point, which is not a
    // `Point` yet (issue 23 makes the two point types one).
    points: &[],
};

/// Every known finding, library by library, in the README's order.
pub const FINDINGS: &[Finding] = &[
    PIPELINE_FLUSH_LOSES_101_HEAD,
    HALF_CLOSE_FALSE_DROPS_PIPELINED_REQUEST,
    DROPPED_BODY_HANDED_TO_UPGRADE,
    DROPPED_BODY_SKIPS_100_BEFORE_101,
    SOKETTO_PONG_BETWEEN_FRAGMENTS,
];

/// The known findings of `library`, in the README's order.
pub fn of(library: &str) -> impl Iterator<Item = &'static Finding> {
    FINDINGS.iter().filter(move |f| f.library == library)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_and_numbers_count_from_one_per_library() {
        let mut names: Vec<&str> = FINDINGS.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FINDINGS.len());
        for library in ["hyper", "soketto"] {
            let numbers: Vec<u8> = of(library).map(|f| f.number).collect();
            let expected: Vec<u8> = (1..=numbers.len() as u8).collect();
            assert_eq!(numbers, expected, "{library}");
        }
    }
}
