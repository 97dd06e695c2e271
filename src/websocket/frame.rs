//! One WebSocket frame (RFC 6455 §5.2): encoded for the wire, decoded from it.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! ```
//!
//! A [`Frame`] holds its payload *unmasked*; the mask, when there is one, is
//! applied on encoding and removed on decoding, so two frames compare equal when
//! they carry the same bytes whatever the mask. Decoding is strict where RFC 6455
//! says a frame is invalid (reserved opcodes, fragmented or long control frames,
//! a 64-bit length with its top bit set) and bounded: a length over the caller's
//! limit is an error before any payload is buffered, so a peer cannot make the
//! harness allocate what it announces.

use std::ops::Range;

use bytes::Bytes;

/// What a frame carries (RFC 6455 §5.2, "Opcode").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// `0x0`: the next fragment of a message.
    Continuation,
    /// `0x1`: the first (or only) frame of a text message.
    Text,
    /// `0x2`: the first (or only) frame of a binary message.
    Binary,
    /// `0x8`: the closing handshake.
    Close,
    /// `0x9`: a ping, to be answered by a pong.
    Ping,
    /// `0xA`: a pong.
    Pong,
}

impl OpCode {
    /// The four bits on the wire.
    pub fn bits(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
        }
    }

    /// The opcode for four bits, `None` for the reserved values.
    pub fn from_bits(bits: u8) -> Option<OpCode> {
        Some(match bits {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xA => OpCode::Pong,
            _ => return None,
        })
    }

    /// Close, ping and pong: never fragmented, at most 125 bytes (RFC 6455 §5.5).
    pub fn is_control(self) -> bool {
        matches!(self, OpCode::Close | OpCode::Ping | OpCode::Pong)
    }
}

/// One frame, its payload unmasked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The last frame of its message.
    pub fin: bool,
    /// RSV1..RSV3 (the low three bits); non-zero only with a negotiated extension.
    pub rsv: u8,
    /// What it carries.
    pub opcode: OpCode,
    /// The masking key on the wire: clients mask every frame, servers none (§5.1).
    pub mask: Option<[u8; 4]>,
    /// The payload, unmasked.
    pub payload: Bytes,
}

/// Why bytes are not a valid frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// An opcode RFC 6455 reserves (`0x3`..`0x7`, `0xB`..`0xF`).
    #[error("reserved opcode {0:#x}")]
    ReservedOpcode(u8),
    /// A control frame without FIN (§5.5: "Control frames MUST NOT be fragmented").
    #[error("a fragmented control frame ({0:?})")]
    FragmentedControl(OpCode),
    /// A control frame over 125 bytes (§5.5).
    #[error("a {opcode:?} frame of {len} bytes (control frames carry at most 125)")]
    ControlTooLong {
        /// The control opcode.
        opcode: OpCode,
        /// Its announced length.
        len: u64,
    },
    /// A 64-bit length with the most significant bit set (§5.2).
    #[error("a 64-bit payload length with its top bit set")]
    LengthTopBit,
    /// A payload longer than the caller accepts.
    #[error("a frame announces {len} bytes, more than the limit of {limit}")]
    TooLong {
        /// The announced length.
        len: u64,
        /// The limit.
        limit: usize,
    },
}

impl Frame {
    /// A complete (FIN) unmasked frame.
    pub fn new(opcode: OpCode, payload: impl Into<Bytes>) -> Frame {
        Frame {
            fin: true,
            rsv: 0,
            opcode,
            mask: None,
            payload: payload.into(),
        }
    }

    /// A close frame with a status code and a reason (§5.5.1).
    pub fn close(code: u16, reason: &str) -> Frame {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(reason.as_bytes());
        Frame::new(OpCode::Close, payload)
    }

    /// This frame with FIN set to `fin`.
    pub fn with_fin(mut self, fin: bool) -> Frame {
        self.fin = fin;
        self
    }

    /// This frame masked with `mask` (as a client sends it).
    pub fn masked(mut self, mask: [u8; 4]) -> Frame {
        self.mask = Some(mask);
        self
    }

    /// How many bytes the frame takes on the wire.
    pub fn encoded_len(&self) -> usize {
        let len = self.payload.len();
        let extended = match len {
            0..=125 => 0,
            126..=0xffff => 2,
            _ => 8,
        };
        2 + extended + if self.mask.is_some() { 4 } else { 0 } + len
    }

    /// Appends the frame's wire bytes to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.reserve(self.encoded_len());
        out.push(u8::from(self.fin) << 7 | (self.rsv & 0x7) << 4 | self.opcode.bits());
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let len = self.payload.len();
        match len {
            0..=125 => out.push(mask_bit | len as u8),
            126..=0xffff => {
                out.push(mask_bit | 126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        match self.mask {
            None => out.extend_from_slice(&self.payload),
            Some(mask) => {
                out.extend_from_slice(&mask);
                let start = out.len();
                out.extend_from_slice(&self.payload);
                apply_mask(&mut out[start..], mask);
            }
        }
    }

    /// The frame's wire bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }
}

/// XORs `data` with `mask` in place, which masks and unmasks alike (§5.3): byte
/// `i` with `mask[i % 4]`, eight bytes at a time (the bytewise form was a tenth
/// of a WebSocket property case's instructions).
fn apply_mask(data: &mut [u8], mask: [u8; 4]) {
    let [a, b, c, d] = mask;
    let word = u64::from_ne_bytes([a, b, c, d, a, b, c, d]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ word).to_ne_bytes());
    }
    // The remainder starts at a multiple of 8, so its own index keeps the phase.
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= mask[i % 4];
    }
}

/// A frame's header: what [`decode`] reads before the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The FIN bit.
    pub fin: bool,
    /// The RSV1-3 bits.
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, if the frame is masked.
    pub mask: Option<[u8; 4]>,
    /// How many bytes the header takes (the payload starts there).
    pub header_len: usize,
    /// The payload's length.
    pub payload_len: usize,
}

impl Header {
    /// The whole frame's length on the wire.
    pub fn frame_len(&self) -> usize {
        self.header_len + self.payload_len
    }
}

/// Reads the header of the frame at the start of `buf`, with [`decode`]'s checks,
/// without touching the payload: `Ok(None)` while the header is incomplete. The
/// frame is whole when `buf.len() >= header.frame_len()`.
pub fn header(buf: &[u8], limit: usize) -> Result<Option<Header>, DecodeError> {
    let [first, second, ..] = *buf else {
        return Ok(None);
    };
    let bits = first & 0x0f;
    let opcode = OpCode::from_bits(bits).ok_or(DecodeError::ReservedOpcode(bits))?;
    let fin = first & 0x80 != 0;
    let (len, mut header) = match second & 0x7f {
        126 => match buf.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10) {
            Some(b) => {
                let mut be = [0u8; 8];
                be.copy_from_slice(b);
                (u64::from_be_bytes(be), 10)
            }
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    if len >> 63 != 0 {
        return Err(DecodeError::LengthTopBit);
    }
    if opcode.is_control() {
        if !fin {
            return Err(DecodeError::FragmentedControl(opcode));
        }
        if len > 125 {
            return Err(DecodeError::ControlTooLong { opcode, len });
        }
    }
    let len = match usize::try_from(len) {
        Ok(len) if len <= limit => len,
        _ => return Err(DecodeError::TooLong { len, limit }),
    };
    let mask = if second & 0x80 != 0 {
        let Some(m) = buf.get(header..header + 4) else {
            return Ok(None);
        };
        header += 4;
        Some([m[0], m[1], m[2], m[3]])
    } else {
        None
    };
    Ok(Some(Header {
        fin,
        rsv: (first >> 4) & 0x7,
        opcode,
        mask,
        header_len: header,
        payload_len: len,
    }))
}

/// Whether `buf` starts with one whole frame: `Ok(Some(header))` when it does,
/// `Ok(None)` while it is incomplete (as [`decode`], without copying the payload).
pub fn whole(buf: &[u8], limit: usize) -> Result<Option<Header>, DecodeError> {
    Ok(header(buf, limit)?.filter(|h| buf.len() >= h.frame_len()))
}

/// Decodes the frame at the start of `buf`: the frame and how many bytes it took,
/// `Ok(None)` while the frame is incomplete. A payload longer than `limit` is an
/// error as soon as its length is read.
pub fn decode(buf: &[u8], limit: usize) -> Result<Option<(Frame, usize)>, DecodeError> {
    decode_with(buf, limit, |raw| Bytes::copy_from_slice(&buf[raw]))
}

/// [`decode`], with `unmasked` making the payload of an unmasked frame from its
/// range in `buf` (a copy, or a slice of a shared buffer).
fn decode_with(
    buf: &[u8],
    limit: usize,
    unmasked: impl FnOnce(Range<usize>) -> Bytes,
) -> Result<Option<(Frame, usize)>, DecodeError> {
    let Some(h) = whole(buf, limit)? else {
        return Ok(None);
    };
    let raw = h.header_len..h.frame_len();
    let payload = match h.mask {
        None => unmasked(raw),
        Some(mask) => {
            let mut payload = buf[raw].to_vec();
            apply_mask(&mut payload, mask);
            payload.into()
        }
    };
    let frame = Frame {
        fin: h.fin,
        rsv: h.rsv,
        opcode: h.opcode,
        mask: h.mask,
        payload,
    };
    Ok(Some((frame, h.frame_len())))
}

/// A frame and the bytes it occupied in the stream it was decoded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The frame.
    pub frame: Frame,
    /// Where it was in the stream.
    pub range: Range<usize>,
}

/// How a stream of frames ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tail {
    /// Every byte belonged to a whole frame.
    Clean,
    /// The last frame starting at this offset is incomplete.
    Truncated(usize),
    /// The bytes at this offset are not a valid frame.
    Invalid(usize, DecodeError),
}

/// Decodes every whole frame in `stream`, in order, and says how the stream ended.
pub fn decode_all(stream: &[u8], limit: usize) -> (Vec<Located>, Tail) {
    decode_frames(stream, limit, None)
}

/// [`decode_all`] of a shared buffer: the payloads of unmasked frames are slices
/// of `stream`, not copies (the oracle decodes a whole side of every run).
pub fn decode_all_shared(stream: &Bytes, limit: usize) -> (Vec<Located>, Tail) {
    decode_frames(stream, limit, Some(stream))
}

fn decode_frames(stream: &[u8], limit: usize, shared: Option<&Bytes>) -> (Vec<Located>, Tail) {
    let mut frames = Vec::new();
    let mut at = 0;
    while at < stream.len() {
        let decoded = match shared {
            Some(shared) => decode_with(&stream[at..], limit, |raw| {
                shared.slice(at + raw.start..at + raw.end)
            }),
            None => decode(&stream[at..], limit),
        };
        match decoded {
            Ok(Some((frame, used))) => {
                frames.push(Located {
                    frame,
                    range: at..at + used,
                });
                at += used;
            }
            Ok(None) => return (frames, Tail::Truncated(at)),
            Err(e) => return (frames, Tail::Invalid(at, e)),
        }
    }
    (frames, Tail::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 1 << 20;

    #[test]
    fn rfc_examples_decode() {
        // RFC 6455 §5.7: "A single-frame unmasked text message" and its masked form.
        let unmasked = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
        let masked = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        for wire in [&unmasked[..], &masked[..]] {
            let (frame, used) = decode(wire, LIMIT).unwrap().unwrap();
            assert_eq!(used, wire.len());
            assert_eq!(frame.opcode, OpCode::Text);
            assert_eq!(&frame.payload[..], b"Hello");
            assert_eq!(frame.encode(), wire);
        }
    }

    #[test]
    fn every_length_form_round_trips_and_is_incomplete_until_whole() {
        for len in [0, 1, 125, 126, 300, 0xffff, 0x10000, 70_000] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            for mask in [None, Some([1, 2, 3, 4])] {
                let mut frame = Frame::new(OpCode::Binary, payload.clone()).with_fin(len % 2 == 0);
                frame.mask = mask;
                let wire = frame.encode();
                assert_eq!(wire.len(), frame.encoded_len());
                assert_eq!(decode(&wire, LIMIT).unwrap(), Some((frame, wire.len())));
                for cut in [0, 1, wire.len() / 2, wire.len() - 1] {
                    assert_eq!(decode(&wire[..cut], LIMIT).unwrap(), None, "cut at {cut}");
                }
            }
        }
    }

    #[test]
    fn masking_matches_the_bytewise_definition_at_every_length_and_phase() {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        for len in 0..40 {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let mut fast = data.clone();
            apply_mask(&mut fast, mask);
            let slow: Vec<u8> = data
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ mask[i % 4])
                .collect();
            assert_eq!(fast, slow, "length {len}");
            apply_mask(&mut fast, mask);
            assert_eq!(fast, data, "length {len}: masking twice is the identity");
        }
    }

    #[test]
    fn invalid_frames_are_errors() {
        assert_eq!(
            decode(&[0x83, 0x00], LIMIT),
            Err(DecodeError::ReservedOpcode(3))
        );
        assert_eq!(
            decode(&[0x09, 0x00], LIMIT),
            Err(DecodeError::FragmentedControl(OpCode::Ping))
        );
        assert!(matches!(
            decode(&[0x88, 126, 0, 126], LIMIT),
            Err(DecodeError::ControlTooLong { .. })
        ));
        let mut huge = vec![0x82, 127];
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(decode(&huge, LIMIT), Err(DecodeError::LengthTopBit));
        let mut long = vec![0x82, 127];
        long.extend_from_slice(&(1u64 << 40).to_be_bytes());
        assert!(matches!(
            decode(&long, LIMIT),
            Err(DecodeError::TooLong { .. })
        ));
    }

    #[test]
    fn decode_all_locates_frames_and_reports_the_tail() {
        let a = Frame::new(OpCode::Binary, &b"ab"[..]).encode();
        let b = Frame::close(1000, "").encode();
        let mut stream = a.clone();
        stream.extend_from_slice(&b);
        stream.push(0x82);
        let (frames, tail) = decode_all(&stream, LIMIT);
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].range, 0..a.len());
        assert_eq!(frames[1].range, a.len()..a.len() + b.len());
        assert_eq!(tail, Tail::Truncated(a.len() + b.len()));
    }

    #[test]
    fn decode_all_shared_is_decode_all_with_unmasked_payloads_sliced_from_the_stream() {
        let frames = [
            Frame::new(OpCode::Text, &b"hello"[..]),
            Frame::new(OpCode::Binary, vec![7u8; 300]).masked([1, 2, 3, 4]),
            Frame::new(OpCode::Binary, vec![9u8; 70_000]).with_fin(false),
            Frame::new(OpCode::Continuation, &b""[..]),
            Frame::close(1000, "bye"),
        ];
        let mut bytes = Vec::new();
        for frame in &frames {
            frame.encode_into(&mut bytes);
        }
        let whole = Bytes::from(bytes);
        // Every prefix: clean, truncated in a header or in a payload; and an invalid tail.
        let mut invalid = whole.to_vec();
        invalid.push(0x83);
        let cases = (0..=whole.len())
            .step_by(97)
            .chain([whole.len()])
            .map(|n| whole.slice(..n))
            .chain([Bytes::from(invalid)]);
        for stream in cases {
            let shared = decode_all_shared(&stream, LIMIT);
            assert_eq!(shared, decode_all(&stream, LIMIT), "{}", stream.len());
            let range = stream.as_ptr_range();
            for located in &shared.0 {
                let payload = &located.frame.payload;
                let inside = range.contains(&payload.as_ptr()) || payload.is_empty();
                assert_eq!(inside, located.frame.mask.is_none(), "{:?}", located.range);
            }
        }
    }
}
