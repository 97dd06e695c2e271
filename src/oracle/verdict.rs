//! What the oracle says: the violations of the invariant's points
//! ([`Point`]), the marks that point renderers at the bytes, and the verdict
//! that bundles them.

use std::fmt;
use std::ops::Range;

use crate::invariant::{Level, Point};
use crate::wire::Direction;
#[cfg(doc)]
use crate::wire::Trace;

/// One broken point, with what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Which point.
    pub point: Point,
    /// What happened, in bytes and segments.
    pub message: String,
    /// Where on the wire it happened, for renderers to point at (may be empty:
    /// not every violation has bytes, e.g. an application that never saw EOF).
    pub marks: Vec<Mark>,
    /// The level of the sentence it breaks, when that is not the case's own:
    /// a MUST of the switching response (RFC 9110 §7.8) broken in a SHOULD
    /// case fails the case all the same. `None`: the case's level.
    pub level: Option<Level>,
}

impl Violation {
    /// The level this violation is graded at in a case of level `case`.
    pub fn level_in(&self, case: Level) -> Level {
        self.level.unwrap_or(case)
    }
}

/// What went wrong with marked bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// They travelled on the wire and the application never read them.
    Lost,
    /// They are not what the application wrote (the library's own bytes), or the
    /// application read them although they belonged to the HTTP message.
    Extra,
    /// The application read them twice, or they went on the wire twice.
    Duplicated,
    /// They arrived after bytes that were sent later.
    Reordered,
    /// They belong to HTTP (the next request, or the request's own body), and
    /// were handed to the application as new-protocol data.
    HandedOver,
}

impl Fault {
    /// A short word for markers: `lost`, `extra`, `duplicated`, `reordered`, `handed over`.
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Lost => "lost",
            Fault::Extra => "extra",
            Fault::Duplicated => "duplicated",
            Fault::Reordered => "reordered",
            Fault::HandedOver => "handed over",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A place in the [`Trace`] that a violation is about.
///
/// Offsets are positions in [`Trace::stream`] of one direction, so a renderer can
/// find the segment (and the bytes inside it) with [`Trace::segment_at`]: a person
/// sees *where* the lost byte travelled, not just that it is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    /// Bytes that travelled in `dir`, at `range` of its stream.
    Bytes {
        /// Which way they travelled.
        dir: Direction,
        /// Their offsets in the stream of `dir`.
        range: Range<usize>,
        /// What is wrong with them.
        fault: Fault,
    },
    /// Bytes an application wrote that never went on the wire: they belonged at
    /// offset `at` of the stream of `dir`.
    Missing {
        /// The direction they should have travelled in.
        dir: Direction,
        /// Where in that stream they belonged.
        at: usize,
        /// How many.
        len: usize,
    },
    /// An event of the trace, by its index in [`Trace::events`] (a FIN sent too early).
    Event {
        /// The event's index.
        index: usize,
    },
}

/// The judgement of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Every broken point; empty when the run conforms.
    pub violations: Vec<Violation>,
    /// Context that is not a violation by itself (the subject's error, how the run ended).
    pub notes: Vec<String>,
}

impl Verdict {
    /// A verdict with no violation and this one note: a case that was not
    /// judged (not run, unsupported, an error), and why.
    pub fn noted(note: impl Into<String>) -> Verdict {
        Verdict {
            violations: Vec::new(),
            notes: vec![note.into()],
        }
    }

    /// Whether the run conforms: no violation, or only violations of sentences
    /// that are SHOULDs by themselves (a missed SHOULD of a protocol's own rules
    /// passes, `non-strict`). A violation at the case's level fails here: the
    /// case's level grades it later ([`Verdict::graded`]).
    pub fn passed(&self) -> bool {
        self.violations
            .iter()
            .all(|v| v.level == Some(Level::Should))
    }

    /// Nothing broken at all, not even a SHOULD.
    pub fn strict(&self) -> bool {
        self.violations.is_empty()
    }

    /// `pass`, `non-strict` or `fail`, by the levels the violations carry.
    pub fn outcome(&self) -> &'static str {
        match (self.strict(), self.passed()) {
            (true, _) => "pass",
            (false, true) => "non-strict",
            (false, false) => "fail",
        }
    }

    /// Whether `point` is among the violations.
    pub fn breaks(&self, point: Point) -> bool {
        self.violations.iter().any(|v| v.point == point)
    }

    /// Whether a violation of `point` at `level` is among them (a violation
    /// without a level of its own counts as a MUST).
    pub fn breaks_at(&self, point: Point, level: Level) -> bool {
        self.violations
            .iter()
            .any(|v| v.point == point && v.level_in(Level::Must) == level)
    }

    /// A violation of a sentence of level `level`, with the bytes it is about.
    pub(crate) fn add(&mut self, level: Level, point: Point, message: String, marks: Vec<Mark>) {
        self.violations.push(Violation {
            point,
            message,
            marks,
            level: Some(level),
        });
    }

    pub(super) fn fail(&mut self, point: Point, message: impl Into<String>) {
        self.fail_marked(point, message, Vec::new());
    }

    pub(super) fn fail_marked(
        &mut self,
        point: Point,
        message: impl Into<String>,
        marks: Vec<Mark>,
    ) {
        self.violations.push(Violation {
            point,
            message: message.into(),
            marks,
            level: None,
        });
    }

    /// A violation of a MUST sentence, whatever the level of the case that saw it.
    pub(crate) fn fail_must(&mut self, point: Point, message: impl Into<String>) {
        self.violations.push(Violation {
            point,
            message: message.into(),
            marks: Vec::new(),
            level: Some(Level::Must),
        });
    }

    /// The level of the run's verdict in a case of level `case`: MUST when any
    /// violation breaks a MUST sentence (whatever case saw it), else the case's.
    pub fn graded(&self, case: Level) -> Level {
        if self
            .violations
            .iter()
            .any(|v| v.level_in(case) == Level::Must)
        {
            Level::Must
        } else {
            Level::Should
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.strict() {
            writeln!(f, "pass")?;
        }
        for v in &self.violations {
            let word = match v.level {
                Some(Level::Should) => "NON-STRICT",
                _ => "FAIL",
            };
            writeln!(f, "{word} {}: {}", v.point, v.message)?;
        }
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        Ok(())
    }
}
