//! The verdict of the message-level oracle: each broken requirement with its
//! RFC 6455 level, so a missed SHOULD (`non-strict`) is told from a failure.

use std::fmt;

use crate::oracle::Mark;

/// How binding a broken requirement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// A MUST: the run fails.
    Must,
    /// A SHOULD at most: the run is `non-strict`.
    Should,
}

/// What part of the message-level invariant a violation breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WsPoint {
    /// The opening handshake.
    Handshake,
    /// The peer's data messages reach the application exactly once, in order.
    Delivery,
    /// The peer's close reaches the application after its data.
    Close,
    /// The application's messages reach the wire, in order.
    Writes,
    /// The library writes nothing but the application's messages and its protocol duties.
    Ownership,
    /// The subject's frames are valid for its role.
    Framing,
}

impl WsPoint {
    /// The point's short title.
    pub fn title(self) -> &'static str {
        match self {
            WsPoint::Handshake => "handshake",
            WsPoint::Delivery => "delivery",
            WsPoint::Close => "close",
            WsPoint::Writes => "writes",
            WsPoint::Ownership => "ownership",
            WsPoint::Framing => "framing",
        }
    }
}

/// One broken requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsViolation {
    /// MUST or SHOULD.
    pub level: Level,
    /// Which part of the invariant.
    pub point: WsPoint,
    /// What happened: which message, which frames, where on the wire.
    pub message: String,
    /// The bytes it is about.
    pub marks: Vec<Mark>,
}

/// The judgement of one WebSocket run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WsVerdict {
    /// Every broken requirement.
    pub violations: Vec<WsViolation>,
    /// Context that is not a violation (the subject's error, how the run ended).
    pub notes: Vec<String>,
}

impl WsVerdict {
    /// No MUST broken.
    pub fn passed(&self) -> bool {
        self.violations.iter().all(|v| v.level == Level::Should)
    }

    /// Nothing broken at all.
    pub fn strict(&self) -> bool {
        self.violations.is_empty()
    }

    /// `pass`, `non-strict` or `fail`.
    pub fn outcome(&self) -> &'static str {
        match (self.strict(), self.passed()) {
            (true, _) => "pass",
            (false, true) => "non-strict",
            (false, false) => "fail",
        }
    }

    /// Whether a violation of `point` at `level` is among them.
    pub fn breaks(&self, point: WsPoint, level: Level) -> bool {
        self.violations
            .iter()
            .any(|v| v.point == point && v.level == level)
    }

    pub(super) fn add(&mut self, level: Level, point: WsPoint, message: String, marks: Vec<Mark>) {
        self.violations.push(WsViolation {
            level,
            point,
            message,
            marks,
        });
    }
}

impl fmt::Display for WsVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.strict() {
            writeln!(f, "pass")?;
        }
        for v in &self.violations {
            let word = match v.level {
                Level::Must => "FAIL",
                Level::Should => "NON-STRICT",
            };
            writeln!(f, "{word} {}: {}", v.point.title(), v.message)?;
        }
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        Ok(())
    }
}
