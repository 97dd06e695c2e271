//! The `proptest` strategies that draw scenarios.
//!
//! The strategies draw plain integers and map them: `prop_oneof!` and per-character
//! strategies build a value tree per alternative and per character, which made
//! generating a scenario cost more than running it. Shrinking still works the way
//! it should: every integer shrinks towards 0, and bucket 0 is always the simplest
//! choice (no bytes, one-byte reads, a plain upgrade).

use proptest::prelude::*;

use super::{
    Answer, AnswerWriter, Body, BodyRead, ClientScript, Cut, Fill, FirstWrite, Handshake, Landmark,
    MAX_PAYLOAD, Payload, Protocol, Scenario, ServerApp, ServerScript,
};

/// A payload length: mostly small, sometimes around 4 KiB, rarely past 64 KiB.
pub fn payload_len() -> impl Strategy<Value = usize> {
    (0u8..100, any::<u32>()).prop_map(|(bucket, r)| {
        let r = r as usize;
        match bucket {
            0..=29 => 0,
            30..=69 => 1 + r % 32,
            70..=89 => 33 + r % 568,
            90..=97 => 4000 + r % 201,
            _ => 65_000 + r % (MAX_PAYLOAD - 65_000 + 1),
        }
    })
}

/// A payload.
pub fn payload() -> impl Strategy<Value = Payload> {
    (payload_len(), 0u8..10, any::<u8>()).prop_map(|(len, kind, seed)| Payload {
        len,
        fill: if kind == 9 {
            Fill::HttpLike
        } else {
            Fill::Noise(seed)
        },
    })
}

fn small_payload() -> impl Strategy<Value = Payload> {
    (0usize..=300, any::<u8>()).prop_map(|(len, seed)| Payload::noise(len, seed))
}

/// A library's read size: one byte, tiny, typical, 64 KiB and past it.
pub fn read_chunk() -> impl Strategy<Value = usize> {
    (0u8..7, any::<u16>()).prop_map(|(bucket, r)| {
        let r = usize::from(r);
        match bucket {
            0 => 1,
            1 => 2 + r % 15,
            2 => 17 + r % 1008,
            3 => 4096,
            4 => 8192,
            5 => 65_536,
            _ => 70_000,
        }
    })
}

/// The characters of an RFC 9110 token (field names).
const TOKEN_CHARS: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~";

/// `prefix`, then `len` characters picked from `alphabet` by a seeded
/// generator: one allocation of the final size (header text was collected a
/// `char` at a time into a growing string, then copied again for its prefix).
fn seeded_text(prefix: &str, len: usize, seed: u64, alphabet: impl Fn(u64) -> char) -> String {
    let mut text = String::with_capacity(prefix.len() + len);
    text.push_str(prefix);
    let mut x = seed | 1;
    for _ in 0..len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        text.push(alphabet(x));
    }
    text
}

fn token_char(x: u64) -> char {
    char::from(TOKEN_CHARS[(x % TOKEN_CHARS.len() as u64) as usize])
}

fn value_char(x: u64) -> char {
    char::from(0x20 + (x % 95) as u8)
}

/// An extension field name: `X-` and a token.
fn field_name() -> impl Strategy<Value = String> {
    (1usize..=12, any::<u64>()).prop_map(|(len, seed)| seeded_text("X-", len, seed, token_char))
}

fn header_value() -> impl Strategy<Value = String> {
    (0usize..=40, any::<u64>())
        .prop_map(|(len, seed)| trimmed(seeded_text("", len, seed, value_char)))
}

/// `text` without leading and trailing whitespace, copied only when it has some.
fn trimmed(text: String) -> String {
    let inner = text.trim();
    if inner.len() == text.len() {
        text
    } else {
        inner.to_owned()
    }
}

/// Extra header fields: valid tokens, none that changes framing or upgrading.
pub fn extra_headers() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec((field_name(), header_value()), 0..4)
}

const LANDMARKS: [Landmark; 3] = [Landmark::HeadEnd, Landmark::MessageEnd, Landmark::EarlyEnd];

fn cut() -> impl Strategy<Value = Cut> {
    (0u8..5, 0usize..3, -4i8..=4, any::<u32>()).prop_map(|(kind, landmark, delta, offset)| {
        if kind < 3 {
            Cut::At(LANDMARKS[landmark], delta)
        } else {
            Cut::Offset(offset)
        }
    })
}

fn body() -> impl Strategy<Value = Body> {
    (
        0u8..10,
        small_payload(),
        proptest::collection::vec(small_payload(), 1..4),
    )
        .prop_map(|(kind, single, chunks)| match kind {
            0..=5 => Body::None,
            6 | 7 => Body::Length(single),
            8 => Body::Chunked(Vec::new()),
            _ => Body::Chunked(chunks),
        })
}

/// How much of the body the server application reads: all of it half the time,
/// a part or none a quarter each.
pub fn body_read() -> impl Strategy<Value = BodyRead> {
    (0u8..4, 1u16..=300).prop_map(|(kind, n)| match kind {
        0 | 1 => BodyRead::All,
        2 => BodyRead::Part(n),
        _ => BodyRead::Nothing,
    })
}

const PROTOCOLS: [Protocol; 3] = [Protocol::Echo, Protocol::WebSocket, Protocol::Tcp];
const REFUSALS: [u16; 4] = [200, 400, 403, 426];
const FIRST_WRITES: [FirstWrite; 3] = [
    FirstWrite::AfterHijack,
    FirstWrite::WithHead,
    FirstWrite::Unflushed,
];

/// Any scenario.
pub fn scenario() -> impl Strategy<Value = Scenario> {
    let handshake = (0u8..9).prop_map(|kind| match kind {
        0..=5 => Handshake::Upgrade(PROTOCOLS[usize::from(kind % 3)]),
        6 | 7 => Handshake::Connect,
        _ => Handshake::Explicit,
    });
    let answer = (0u8..10, 0usize..4).prop_map(|(kind, status)| {
        if kind < 9 {
            Answer::Accept
        } else {
            Answer::Refuse(REFUSALS[status])
        }
    });
    let client = (
        payload(),
        payload(),
        any::<bool>(),
        read_chunk(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(early, late, half_close, read_chunk, waits_for_continue, optimistic)| ClientScript {
                early,
                late,
                half_close,
                read_chunk,
                waits_for_continue,
                optimistic,
            },
        );
    let server = (
        payload(),
        0usize..3,
        0u8..4,
        read_chunk(),
        body_read(),
        0u8..4,
    )
        .prop_map(
            |(first, first_write, app, read_chunk, body_read, writer)| ServerScript {
                first,
                first_write: FIRST_WRITES[first_write],
                app: if app < 3 {
                    ServerApp::Echo
                } else {
                    ServerApp::CloseWriteFirst
                },
                read_chunk,
                body_read,
                writer: if writer < 3 {
                    AnswerWriter::Library
                } else {
                    AnswerWriter::Application
                },
            },
        );
    let heads = (extra_headers(), extra_headers(), 0u8..10, 0u8..7);
    let cuts = (
        proptest::collection::vec(cut(), 0..5),
        proptest::collection::vec(cut(), 0..3),
    );
    (handshake, body(), answer, heads, client, server, cuts).prop_map(
        |(
            handshake,
            body,
            answer,
            (request_headers, response_headers, expect, interim),
            client,
            server,
            (client_cuts, server_cuts),
        )| {
            Scenario {
                handshake,
                request_headers,
                body,
                expect_continue: expect >= 5,
                answer,
                interim_continue: interim == 6,
                response_headers,
                client,
                server,
                client_cuts,
                server_cuts,
            }
            .normalized()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header text as it was drawn before [`seeded_text`] took a prefix:
    /// collected a `char` at a time, then prefixed or trimmed (seeds, snapshots
    /// and replays depend on every byte).
    fn longhand(len: usize, seed: u64, alphabet: impl Fn(u64) -> char) -> String {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                alphabet(x)
            })
            .collect()
    }

    #[test]
    fn header_text_is_the_text_drawn_before() {
        let mut trimmed_some = 0;
        for seed in 0..3000u64 {
            let len = (seed % 41) as usize;
            let value = longhand(len, seed, value_char);
            trimmed_some += usize::from(value.trim().len() != value.len());
            assert_eq!(
                trimmed(seeded_text("", len, seed, value_char)),
                value.trim(),
                "value, seed {seed}"
            );
            let len = 1 + (seed % 12) as usize;
            assert_eq!(
                seeded_text("X-", len, seed, token_char),
                format!("X-{}", longhand(len, seed, token_char)),
                "name, seed {seed}"
            );
        }
        assert!(
            trimmed_some > 10,
            "the values tried have no whitespace to trim"
        );
    }
}
