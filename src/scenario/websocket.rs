//! One generated WebSocket case: the messages a scripted peer sends after the
//! opening handshake, how they are framed, and where the wire cuts them.
//!
//! WebSocket libraries hand their application messages, not bytes, so a case is
//! a list of messages ([`MessageSpec`]): text or binary, split into fragments at
//! any byte (RFC 6455 §5.4), with ping and pong frames injected before a message
//! or between its fragments, then optionally a close. The peer writes the first
//! [`MessageScenario::early`] frames in the same write as its handshake message (the
//! request, or the `101`), so they travel in the handshake's segment unless a
//! cut separates them; the rest after the handshake is done. Cuts split the
//! peer's stream at any byte, inside the head or inside a frame.
//!
//! Like [`crate::scenario::Scenario`], a case is plain data, built by a `proptest`
//! strategy ([`ws_scenario`]) and by `arbitrary` ([`crate::fuzzing::websocket::encoding`]), and every random
//! protocol value (the key, the masks, the payload bytes) comes from its
//! [`MessageScenario::seed`], so a case replays byte for byte.

use std::ops::Range;

use ::bytes::Bytes;
use proptest::prelude::*;

use crate::websocket::{Frame, Masks, OpCode, key_from_seed};

pub mod named;

/// The request target the scripted client asks for, and client subjects request.
pub const PATH: &str = "/ws";
/// The `Host` of every WebSocket request.
pub const HOST: &str = "example.test";
/// The largest payload of one generated message.
pub const MAX_MESSAGE: usize = 70_000;
/// The largest control-frame payload (RFC 6455 §5.5).
pub const MAX_CONTROL: usize = 125;

/// What a data message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// UTF-8 text (opcode `0x1`); fragments may split a character.
    Text,
    /// Bytes (opcode `0x2`).
    Binary,
}

impl Kind {
    /// The opcode of the message's first frame.
    pub fn opcode(self) -> OpCode {
        match self {
            Kind::Text => OpCode::Text,
            Kind::Binary => OpCode::Binary,
        }
    }

    /// The kind a data opcode starts, if it starts one.
    pub fn of(opcode: OpCode) -> Option<Kind> {
        match opcode {
            OpCode::Text => Some(Kind::Text),
            OpCode::Binary => Some(Kind::Binary),
            _ => None,
        }
    }
}

/// A control frame the peer injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Control {
    /// A ping: the library owes a pong with the same payload (§5.5.2).
    Ping,
    /// An unsolicited pong: nothing is owed (§5.5.3).
    Pong,
}

/// One control frame, and where in its message it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ControlSpec {
    /// Ping or pong.
    pub kind: Control,
    /// Payload length, at most [`MAX_CONTROL`].
    pub len: u8,
    /// Before which fragment of the message (taken modulo the fragment count):
    /// 0 is before the message, any other between two of its fragments.
    pub before: u8,
}

/// One data message the peer sends.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageSpec {
    /// Text or binary.
    pub kind: Kind,
    /// Its length in bytes, for text as for binary: the frame-length boundaries
    /// (§5.2: 125, 126, 65535, 65536) are in bytes, and a text of that many
    /// characters would be up to four times longer and never on a boundary.
    pub len: usize,
    /// Where its payload is split into fragments (each taken modulo the payload
    /// length plus one, then sorted): `n` splits make `n + 1` frames, empty ones included.
    pub splits: Vec<u32>,
    /// Control frames injected before it or between its fragments.
    pub controls: Vec<ControlSpec>,
}

/// One WebSocket case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageScenario {
    /// The source of the key, the masks and every payload byte.
    pub seed: u64,
    /// The peer's data messages, in order.
    pub messages: Vec<MessageSpec>,
    /// Whether a close frame (1000) follows the messages.
    pub close: bool,
    /// How many of the peer's frames (from its first) it writes together with its
    /// handshake message: they arrive before (server subject) or with (client
    /// subject) the `101`.
    pub early: u8,
    /// A cut inside the peer's handshake head (taken modulo its length).
    pub head_cut: Option<u16>,
    /// Cuts in the peer's frames, as offsets after its head (each modulo the
    /// frames' length plus one: 0 is the end of the head).
    pub cuts: Vec<u32>,
    /// The length of the message the application sends first thing after the
    /// hand-over (binary; it also tells the peer when to send its late frames).
    pub greeting: u16,
}

impl MessageScenario {
    /// The plainest case: one small binary message after the handshake, then close.
    pub fn basic() -> Self {
        MessageScenario {
            seed: 1,
            messages: vec![MessageSpec {
                kind: Kind::Binary,
                len: 5,
                splits: Vec::new(),
                controls: Vec::new(),
            }],
            close: true,
            early: 0,
            head_cut: None,
            cuts: Vec::new(),
            greeting: 3,
        }
    }

    /// The `Sec-WebSocket-Key` the scripted client sends (16 bytes from the seed).
    pub fn key(&self) -> String {
        key_from_seed(self.seed)
    }

    /// The application's greeting: `greeting` bytes from the seed.
    pub fn greeting_bytes(&self) -> Bytes {
        noise(
            self.seed ^ 0x6772_6565_7469_6e67,
            usize::from(self.greeting),
        )
    }

    /// The peer's frames, masked when the peer is a client (`masked`), as it writes
    /// them after its handshake head.
    pub fn peer_frames(&self, masked: bool) -> PeerFrames {
        let mut masks = Masks::new(self.seed);
        let mut out = PeerFrames::default();
        // Room for every frame at its largest header (14 bytes), so the stream is
        // never copied as it grows (it reaches a few hundred KB).
        let frames = |m: &MessageSpec| m.splits.len() + 1 + m.controls.len();
        // And room for every frame, message and ping they describe: the
        // lists are not regrown push by push (a few allocations a case).
        out.frames
            .reserve(self.messages.iter().map(frames).sum::<usize>() + usize::from(self.close));
        out.messages.reserve(self.messages.len());
        out.pings.reserve(
            self.messages
                .iter()
                .flat_map(|m| &m.controls)
                .filter(|c| c.kind == Control::Ping)
                .count(),
        );
        out.bytes.reserve(
            self.messages
                .iter()
                .map(|m| m.len.min(MAX_MESSAGE) + m.controls.len() * MAX_CONTROL + 14 * frames(m))
                .sum::<usize>()
                + 16,
        );
        let mut push = |frame: Frame, message: Option<usize>, out: &mut PeerFrames| {
            let frame = if masked {
                frame.masked(masks.next_mask())
            } else {
                frame
            };
            let start = out.bytes.len();
            frame.encode_into(&mut out.bytes);
            out.frames.push(PeerFrame {
                range: start..out.bytes.len(),
                opcode: frame.opcode,
                message,
            });
        };
        for (index, spec) in self.messages.iter().enumerate() {
            let payload = spec.payload(self.seed, index);
            let fragments = spec.fragments(&payload);
            let count = fragments.len();
            for (f, fragment) in fragments.into_iter().enumerate() {
                for control in spec
                    .controls
                    .iter()
                    .filter(|c| usize::from(c.before) % count == f)
                {
                    let (opcode, salt) = match control.kind {
                        Control::Ping => (OpCode::Ping, 0x70),
                        Control::Pong => (OpCode::Pong, 0x71),
                    };
                    let len = usize::from(control.len).min(MAX_CONTROL);
                    let bytes = noise(
                        self.seed ^ salt ^ ((index as u64) << 8 | f as u64) << 16,
                        len,
                    );
                    if control.kind == Control::Ping {
                        out.pings.push(bytes.clone());
                    }
                    push(Frame::new(opcode, bytes), None, &mut out);
                }
                let opcode = if f == 0 {
                    spec.kind.opcode()
                } else {
                    OpCode::Continuation
                };
                let frame = Frame::new(opcode, fragment).with_fin(f + 1 == count);
                push(frame, Some(index), &mut out);
            }
            out.messages.push((spec.kind, payload));
        }
        if self.close {
            push(Frame::close(1000, ""), None, &mut out);
            out.close = true;
        }
        let early = usize::from(self.early).min(out.frames.len());
        out.early_end = out.frames[..early].last().map_or(0, |f| f.range.end);
        out
    }

    /// The peer's cut points as offsets in its whole stream, given its head's length.
    pub fn resolve_cuts(&self, head_len: usize, frames_len: usize) -> Vec<usize> {
        let mut cuts: Vec<usize> = self
            .cuts
            .iter()
            .map(|&c| head_len + c as usize % (frames_len + 1))
            .collect();
        if let Some(c) = self.head_cut
            && head_len > 1
        {
            cuts.push(1 + usize::from(c) % (head_len - 1));
        }
        cuts.sort_unstable();
        cuts.dedup();
        cuts
    }
}

impl MessageSpec {
    /// The message's payload: noise for binary, mixed-width UTF-8 for text.
    pub fn payload(&self, seed: u64, index: usize) -> Bytes {
        let seed = seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        match self.kind {
            Kind::Binary => noise(seed, self.len.min(MAX_MESSAGE)),
            Kind::Text => text(seed, self.len.min(MAX_MESSAGE)),
        }
    }

    /// The payload split at the message's split points.
    fn fragments(&self, payload: &Bytes) -> Vec<Bytes> {
        let mut at: Vec<usize> = self
            .splits
            .iter()
            .map(|&s| s as usize % (payload.len() + 1))
            .collect();
        at.sort_unstable();
        let mut out = Vec::with_capacity(at.len() + 1);
        let mut start = 0;
        for cut in at {
            out.push(payload.slice(start..cut));
            start = cut;
        }
        out.push(payload.slice(start..));
        out
    }
}

/// One frame of the peer's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerFrame {
    /// Where it is in [`PeerFrames::bytes`].
    pub range: Range<usize>,
    /// Its opcode.
    pub opcode: OpCode,
    /// The data message it belongs to, by index.
    pub message: Option<usize>,
}

/// What the peer writes after its head, and what it means.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerFrames {
    /// The length of the peer's handshake head, before these frames on the
    /// wire (set by whoever knows the head: the run, not the scenario).
    pub head_len: usize,
    /// Every frame's wire bytes, in order.
    pub bytes: Vec<u8>,
    /// Each frame, with its range in `bytes`.
    pub frames: Vec<PeerFrame>,
    /// The data messages, in order: what the application must receive.
    pub messages: Vec<(Kind, Bytes)>,
    /// The payloads of the pings, in order: what a pong may answer.
    pub pings: Vec<Bytes>,
    /// Whether the last frame is a close.
    pub close: bool,
    /// Where the frames written with the handshake end in `bytes`.
    pub early_end: usize,
}

/// SplitMix64's step: what is added to the state before each eight bytes.
const SPLITMIX_STEP: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64-style noise: `len` bytes from `seed`.
///
/// Eight bytes pushed a step, room checked each time: the loop stays scalar.
/// Four steps into one 32-byte block pushed at once was 10 % fewer
/// instructions, but the compiler then ran SplitMix on vector lanes, whose
/// 64-bit multiplies SSE2 has to build from three each; writing into a zeroed
/// buffer instead paid more for the zeroing than it saved (BENCHMARKS.md,
/// issue 26, seventh pass).
fn noise(seed: u64, len: usize) -> Bytes {
    let mut state = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(SPLITMIX_STEP);
        out.extend_from_slice(&splitmix(state).to_le_bytes());
    }
    out.truncate(len);
    out.into()
}

/// SplitMix64's output function: eight bytes of noise from one state.
fn splitmix(state: u64) -> u64 {
    let mut z = state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `len` bytes of UTF-8 text from `seed`, characters of 1 to 4 bytes each (an
/// ASCII one where a wider one would not fit): a fragment split then often falls
/// inside a character, which RFC 6455 allows (§5.6: only the whole message must
/// be valid UTF-8).
///
/// Each random byte picks one character of [`TEXT_ALPHABET`] (its low three bits).
/// While eight bytes or more are left, any two characters fit, so two bytes are
/// taken at a time through [`TEXT_PAIRS`]: one fixed eight-byte copy, then the
/// unused bytes taken back (one character at a time, with a table lookup and a
/// copy each, was a tenth of a WebSocket property case's wall time). While 32
/// bytes or more are left, all four pairs of a random word fit: they are
/// written into one 32-byte window, their indices taken out of the word at
/// once ([`pair_indices`]), which is a third fewer instructions than checking
/// the room pair by pair (BENCHMARKS.md, issue 26, seventh pass). The last few
/// bytes go one character at a time, where the width check matters. The same
/// text as pushing the characters one by one (a unit test compares them).
fn text(seed: u64, len: usize) -> Bytes {
    // Written at `at` into a buffer with room for a whole pair past `len`.
    let mut out = vec![0u8; len + 8];
    let mut at = 0;
    let mut state = seed;
    loop {
        state = state.wrapping_add(SPLITMIX_STEP);
        let random = splitmix(state);
        if len - at >= 32 {
            let indices = pair_indices(random);
            let window = &mut out[at..at + 32];
            let mut used = 0;
            for lane in 0..4 {
                let pair = usize::from((indices >> (16 * lane)) as u16);
                window[used..used + 8].copy_from_slice(&TEXT_PAIR_BYTES[pair].to_le_bytes());
                used += usize::from(TEXT_PAIR_WIDTHS[pair]);
            }
            at += used;
            continue;
        }
        let mut k = 0;
        while k < 8 && len - at >= 8 {
            let pair = (random >> (8 * k)) & 7 | ((random >> (8 * k + 8)) & 7) << 3;
            let (bytes, width) = &TEXT_PAIRS[pair as usize];
            out[at..at + 8].copy_from_slice(bytes);
            at += usize::from(*width);
            k += 2;
        }
        while k < 8 {
            let left = len - at;
            if left == 0 {
                out.truncate(len);
                return out.into();
            }
            let b = (random >> (8 * k)) as u8;
            let (bytes, width) = match &TEXT_ALPHABET[usize::from(b % 8)] {
                (_, width) if *width > left => &TEXT_ALPHABET[usize::from(b % 4)],
                fits => fits,
            };
            out[at..at + 4].copy_from_slice(bytes);
            at += width;
            k += 1;
        }
    }
}

/// The four [`TEXT_PAIRS`] indices of a random word, one in each 16-bit lane:
/// lane `j` holds the character of byte `2j` (its low three bits) plus eight
/// times that of byte `2j + 1`, as the pair-at-a-time path computes them.
fn pair_indices(random: u64) -> u64 {
    random & 0x0007_0007_0007_0007 | (random >> 5) & 0x0038_0038_0038_0038
}

/// [`TEXT_PAIRS`]' bytes as one little-endian word each.
const TEXT_PAIR_BYTES: [u64; 64] = {
    let mut out = [0u64; 64];
    let mut i = 0;
    while i < 64 {
        out[i] = u64::from_le_bytes(TEXT_PAIRS[i].0);
        i += 1;
    }
    out
};

/// [`TEXT_PAIRS`]' widths.
const TEXT_PAIR_WIDTHS: [u8; 64] = {
    let mut out = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        out[i] = TEXT_PAIRS[i].1;
        i += 1;
    }
    out
};

/// Every two characters of [`TEXT_ALPHABET`] back to back, indexed by the first
/// one's index plus eight times the second's: their bytes (zero after them) and
/// their width together.
const TEXT_PAIRS: [([u8; 8], u8); 64] = text_pairs();

const fn text_pairs() -> [([u8; 8], u8); 64] {
    let mut out = [([0u8; 8], 0u8); 64];
    let mut i = 0;
    while i < 64 {
        let (first, first_width) = TEXT_ALPHABET[i & 7];
        let (second, second_width) = TEXT_ALPHABET[i >> 3];
        let mut bytes = [0u8; 8];
        let mut k = 0;
        while k < first_width {
            bytes[k] = first[k];
            k += 1;
        }
        k = 0;
        while k < second_width {
            bytes[first_width + k] = second[k];
            k += 1;
        }
        out[i] = (bytes, (first_width + second_width) as u8);
        i += 1;
    }
    out
}

/// The characters of generated text (a table of their UTF-8 below: pushing
/// `char`s into a `String` was a fifth of a WebSocket property case's instructions).
#[cfg(test)]
const TEXT_CHARS: [char; 8] = ['a', 'Z', '0', ' ', 'é', 'ж', '€', '😀'];

/// [`TEXT_CHARS`] encoded: the bytes and how many of them count.
const TEXT_ALPHABET: [([u8; 4], usize); 8] = [
    ([b'a', 0, 0, 0], 1),
    ([b'Z', 0, 0, 0], 1),
    ([b'0', 0, 0, 0], 1),
    ([b' ', 0, 0, 0], 1),
    ([0xc3, 0xa9, 0, 0], 2),
    ([0xd0, 0xb6, 0, 0], 2),
    ([0xe2, 0x82, 0xac, 0], 3),
    ([0xf0, 0x9f, 0x98, 0x80], 4),
];

/// A message length: mostly small, sometimes across the 16-bit and 64-bit
/// length encodings (§5.2: 125, 126, 65535, 65536), rarely up to [`MAX_MESSAGE`].
pub fn message_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        6 => 0usize..=40,
        2 => 100usize..=300,
        1 => prop_oneof![Just(125usize), Just(126), Just(65_535), Just(65_536)],
        1 => 0usize..=MAX_MESSAGE,
    ]
}

fn control() -> impl Strategy<Value = ControlSpec> {
    (
        prop_oneof![3 => Just(Control::Ping), 1 => Just(Control::Pong)],
        prop_oneof![3 => 0u8..=8, 1 => 0u8..=125],
        any::<u8>(),
    )
        .prop_map(|(kind, len, before)| ControlSpec { kind, len, before })
}

fn message() -> impl Strategy<Value = MessageSpec> {
    (
        prop_oneof![Just(Kind::Binary), Just(Kind::Text)],
        message_len(),
        prop::collection::vec(any::<u32>(), 0..4),
        prop::collection::vec(control(), 0..3),
    )
        .prop_map(|(kind, len, splits, controls)| MessageSpec {
            kind,
            len,
            splits,
            controls,
        })
}

/// Any WebSocket case.
pub fn ws_scenario() -> impl Strategy<Value = MessageScenario> {
    (
        any::<u64>(),
        prop::collection::vec(message(), 0..5),
        prop::bool::weighted(0.6),
        prop_oneof![2 => Just(0u8), 2 => 1u8..=3, 1 => any::<u8>()],
        prop::option::of(any::<u16>()),
        prop::collection::vec(any::<u32>(), 0..5),
        prop_oneof![Just(0u16), 1u16..=64, Just(300u16)],
    )
        .prop_map(
            |(seed, messages, close, early, head_cut, cuts, greeting)| MessageScenario {
                seed,
                messages,
                close,
                early,
                head_cut,
                cuts,
                greeting,
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::websocket::{decode_all, messages};
    use proptest::strategy::ValueTree;

    #[test]
    fn peer_frames_decode_to_the_scenario_messages() {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        for _ in 0..64 {
            let s = ws_scenario().new_tree(&mut runner).unwrap().current();
            for masked in [false, true] {
                let peer = s.peer_frames(masked);
                let (frames, _) = decode_all(&peer.bytes, 1 << 20);
                assert_eq!(frames.len(), peer.frames.len());
                assert!(frames.iter().all(|f| f.frame.mask.is_some() == masked));
                let data: Vec<_> = messages(&frames)
                    .unwrap()
                    .into_iter()
                    .filter_map(|m| Some((Kind::of(m.opcode)?, m.payload)))
                    .collect();
                assert_eq!(data, peer.messages);
                for (kind, payload) in &data {
                    if *kind == Kind::Text {
                        assert!(std::str::from_utf8(payload).is_ok());
                    }
                }
            }
        }
    }

    /// Noise is SplitMix64's outputs, eight little-endian bytes a step, cut
    /// at `len`: pinned against the plain definition (the text test below
    /// reads its characters from noise, so it cannot catch a change here).
    #[test]
    fn noise_is_the_splitmix_stream() {
        for (seed, len) in
            (0..8u64).flat_map(|seed| (0..=40).chain([4099]).map(move |len| (seed, len)))
        {
            let mut plain = Vec::new();
            let mut state = seed;
            while plain.len() < len {
                state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                plain.extend_from_slice(&splitmix(state).to_le_bytes());
            }
            plain.truncate(len);
            assert_eq!(&noise(seed, len)[..], &plain[..], "{seed} {len}");
        }
    }

    #[test]
    fn the_text_table_is_the_alphabet_in_utf8() {
        for (c, (bytes, len)) in TEXT_CHARS.iter().zip(&TEXT_ALPHABET) {
            let mut buf = [0u8; 4];
            assert_eq!(c.encode_utf8(&mut buf).as_bytes(), &bytes[..*len], "{c}");
        }
        // The same text as pushing the characters one by one, an ASCII one where
        // a wider one would not fit, at every length up to 100 (every phase of the
        // eight-byte fast path's end) and long ones, for several seeds.
        // (Two four-byte characters where exactly seven bytes are left is one pair
        // in 64 at one phase in eight: 64 seeds meet it.)
        for (seed, len) in (0..64u64)
            .chain([u64::MAX, 0x1234_5678_9abc_def0])
            .flat_map(|seed| (0..=100).chain([500, 4099]).map(move |len| (seed, len)))
            .chain([(7, 65_536)])
        {
            let mut pushed = String::new();
            for b in noise(seed, len).iter() {
                let left = len - pushed.len();
                if left == 0 {
                    break;
                }
                let c = TEXT_CHARS[usize::from(b % 8)];
                pushed.push(if c.len_utf8() > left {
                    TEXT_CHARS[usize::from(b % 4)]
                } else {
                    c
                });
            }
            assert_eq!(&text(seed, len)[..], pushed.as_bytes(), "{seed} {len}");
            assert_eq!(text(seed, len).len(), len);
        }
        // Wide characters stay common: about half the bytes are inside one.
        let long = text(7, 10_000);
        let inside = long.iter().filter(|&&b| b & 0xc0 == 0x80).count();
        assert!((3_500..6_000).contains(&inside), "{inside}");
    }

    #[test]
    fn the_named_text_case_splits_inside_a_character() {
        let (_, s) = named::all()
            .into_iter()
            .find(|(name, _)| *name == "text-split-inside-a-character")
            .expect("the named case");
        let spec = &s.messages[0];
        let payload = spec.payload(s.seed, 0);
        let fragments = spec.fragments(&payload);
        assert!(
            fragments[1..]
                .iter()
                .any(|f| f.first().is_some_and(|b| b & 0xc0 == 0x80)),
            "{payload:?} {fragments:?}"
        );
    }

    #[test]
    fn early_frames_end_on_a_frame_boundary() {
        let mut s = MessageScenario::basic();
        s.early = 1;
        let peer = s.peer_frames(true);
        assert_eq!(peer.early_end, peer.frames[0].range.end);
        s.early = 200;
        assert_eq!(
            s.peer_frames(true).early_end,
            s.peer_frames(true).bytes.len()
        );
    }
}
