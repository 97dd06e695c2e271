//! Named WebSocket cases: the fuzz corpus seeds and the regression tests' cases,
//! each one shape the properties also draw at random.

use super::{Control, ControlSpec, Kind, MessageScenario, MessageSpec};

fn message(kind: Kind, len: usize, splits: Vec<u32>, controls: Vec<ControlSpec>) -> MessageSpec {
    MessageSpec {
        kind,
        len,
        splits,
        controls,
    }
}

fn control(kind: Control, before: u8) -> ControlSpec {
    ControlSpec {
        kind,
        len: 3,
        before,
    }
}

/// Two binary messages, the first written with the handshake (a client's
/// frames with its request, or a server's with its `101`).
pub fn early() -> MessageScenario {
    MessageScenario {
        messages: vec![
            message(Kind::Binary, 4, vec![], vec![]),
            message(Kind::Binary, 3, vec![], vec![]),
        ],
        early: 1,
        ..MessageScenario::basic()
    }
}

/// One binary message in two fragments with a pong between them: the soketto finding.
pub fn pong_between_fragments() -> MessageScenario {
    let pong = ControlSpec {
        kind: Control::Pong,
        len: 0,
        before: 1,
    };
    MessageScenario {
        messages: vec![message(Kind::Binary, 2, vec![1], vec![pong])],
        ..MessageScenario::basic()
    }
}

/// Every named case, by name.
pub fn all() -> Vec<(&'static str, MessageScenario)> {
    let basic = MessageScenario::basic();
    vec![
        ("basic", basic.clone()),
        ("early", early()),
        (
            "early-in-own-segment",
            MessageScenario {
                cuts: vec![0],
                ..early()
            },
        ),
        (
            "head-split",
            MessageScenario {
                head_cut: Some(40),
                ..early()
            },
        ),
        (
            "fragmented-with-ping",
            MessageScenario {
                messages: vec![message(
                    Kind::Binary,
                    30,
                    vec![10, 20],
                    vec![control(Control::Ping, 1), control(Control::Ping, 2)],
                )],
                ..basic.clone()
            },
        ),
        (
            "text-split-inside-a-character",
            MessageScenario {
                messages: vec![message(Kind::Text, 12, vec![1, 5, 9], vec![])],
                ..basic.clone()
            },
        ),
        (
            "length-encodings",
            MessageScenario {
                messages: vec![
                    message(Kind::Binary, 125, vec![], vec![]),
                    message(Kind::Binary, 126, vec![], vec![]),
                    message(Kind::Binary, 65_536, vec![], vec![]),
                ],
                ..basic.clone()
            },
        ),
        (
            "every-frame-split",
            MessageScenario {
                messages: vec![message(
                    Kind::Binary,
                    6,
                    vec![2],
                    vec![control(Control::Pong, 0)],
                )],
                early: 2,
                cuts: (1..24).collect(),
                ..basic.clone()
            },
        ),
        (
            "no-close",
            MessageScenario {
                close: false,
                ..early()
            },
        ),
        ("pong-between-fragments", pong_between_fragments()),
    ]
}
