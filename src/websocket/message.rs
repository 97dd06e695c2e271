//! Frames reassembled into messages (RFC 6455 §5.4), keeping where each frame was.
//!
//! "A fragmented message consists of a single frame with the FIN bit clear and an
//! opcode other than 0, followed by zero or more frames with the FIN bit clear and
//! the opcode set to 0, and terminated by a single frame with the FIN bit set and
//! an opcode of 0." Control frames "MAY be injected in the middle of a fragmented
//! message"; each is a message of its own here, delivered when it arrives.
//!
//! A WebSocket library hands its application messages, not bytes, so the
//! message-level oracle compares messages; a [`Message`] remembers the byte range
//! of every frame it was built from, so that a lost or duplicated message can be
//! shown on the wire as precisely as a lost byte.

use std::ops::Range;

use bytes::{Bytes, BytesMut};

use super::frame::{Located, OpCode, Tail, decode_all};

/// One message: a data message (text or binary, possibly fragmented) or a control frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `Text` or `Binary` for data, `Close`, `Ping` or `Pong` for control.
    pub opcode: OpCode,
    /// The payloads of its frames, joined (a single frame's payload is shared, not copied).
    pub payload: Bytes,
    /// The byte range of each of its frames in the stream, in order.
    pub frames: Vec<Range<usize>>,
}

/// Why a sequence of frames is not a sequence of messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// A continuation frame with no message to continue.
    #[error("a continuation frame at byte {0} continues no message")]
    StrayContinuation(usize),
    /// A new data frame while a fragmented message was still open.
    #[error("a new {opcode:?} frame at byte {at} interrupts a fragmented message")]
    Interrupted {
        /// The new frame's opcode.
        opcode: OpCode,
        /// Where it starts.
        at: usize,
    },
}

/// Builds messages from frames one at a time.
#[derive(Debug, Default)]
pub struct Reassembler {
    /// The open message, and its payload joined so far once a continuation came
    /// (until then the first frame's payload is the message's, shared).
    open: Option<(Message, Option<BytesMut>)>,
}

impl Reassembler {
    /// A reassembler with no message open.
    pub fn new() -> Self {
        Reassembler::default()
    }

    /// Feeds one frame; returns the message it completes, if any.
    pub fn push(&mut self, located: &Located) -> Result<Option<Message>, MessageError> {
        self.push_owned(located.clone())
    }

    /// [`Reassembler::push`] of a frame the caller is done with: its payload
    /// moves into the message instead of being shared with the caller's copy
    /// (sharing a payload decoded into a `Vec` allocates its reference count,
    /// one block a frame: BENCHMARKS.md, issue 26, seventh pass).
    pub fn push_owned(&mut self, located: Located) -> Result<Option<Message>, MessageError> {
        let Located { frame, range } = located;
        if frame.opcode.is_control() {
            return Ok(Some(Message {
                opcode: frame.opcode,
                payload: frame.payload,
                frames: vec![range],
            }));
        }
        let (mut message, mut joined) = match (frame.opcode, self.open.take()) {
            (OpCode::Continuation, None) => {
                return Err(MessageError::StrayContinuation(range.start));
            }
            (OpCode::Continuation, Some((mut open, joined))) => {
                let mut joined = joined.unwrap_or_else(|| BytesMut::from(&open.payload[..]));
                joined.extend_from_slice(&frame.payload);
                open.frames.push(range);
                (open, Some(joined))
            }
            (opcode, Some(_)) => {
                return Err(MessageError::Interrupted {
                    opcode,
                    at: range.start,
                });
            }
            (opcode, None) => (
                Message {
                    opcode,
                    payload: frame.payload,
                    frames: vec![range],
                },
                None,
            ),
        };
        if frame.fin {
            if let Some(joined) = joined.take() {
                message.payload = joined.freeze();
            }
            Ok(Some(message))
        } else {
            self.open = Some((message, joined));
            Ok(None)
        }
    }
}

/// Every complete message in `frames`, in order of completion.
pub fn messages(frames: &[Located]) -> Result<Vec<Message>, MessageError> {
    let mut reassembler = Reassembler::new();
    let mut out = Vec::new();
    for frame in frames {
        if let Some(message) = reassembler.push(frame)? {
            out.push(message);
        }
    }
    Ok(out)
}

/// The most a frame may announce before a stream of frames is judged
/// undecodable by [`unframe`] (and by the reference echo).
pub const DECODE_LIMIT: usize = 16 << 20;

/// The payloads of the data frames in `stream` (a server's frames),
/// concatenated; stops at a close frame. A truncated last frame is an error.
/// The black-box oracle compares payloads, so a server may re-fragment its
/// echo as it likes.
pub fn unframe(stream: &[u8]) -> Result<Vec<u8>, String> {
    let (frames, tail) = decode_all(stream, DECODE_LIMIT);
    let mut out = Vec::new();
    for located in &frames {
        match located.frame.opcode {
            OpCode::Continuation | OpCode::Text | OpCode::Binary => {
                out.extend_from_slice(&located.frame.payload)
            }
            OpCode::Close => return Ok(out),
            // Ping and pong carry no echo.
            OpCode::Ping | OpCode::Pong => {}
        }
    }
    match tail {
        Tail::Clean => Ok(out),
        Tail::Truncated(at) => Err(format!("a truncated frame at byte {at}")),
        Tail::Invalid(at, e) => Err(format!("an invalid frame at byte {at}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::websocket::frame::{Frame, decode_all};

    fn stream(frames: &[Frame]) -> Vec<u8> {
        let mut out = Vec::new();
        for f in frames {
            f.encode_into(&mut out);
        }
        out
    }

    #[test]
    fn fragments_join_and_control_frames_interleave() {
        let wire = stream(&[
            Frame::new(OpCode::Text, &b"Hel"[..]).with_fin(false),
            Frame::new(OpCode::Ping, &b"p"[..]),
            Frame::new(OpCode::Continuation, &b"lo"[..]),
            Frame::new(OpCode::Binary, &b"\x00"[..]),
        ]);
        let (frames, _) = decode_all(&wire, 1024);
        let got = messages(&frames).unwrap();
        let kinds: Vec<_> = got.iter().map(|m| (m.opcode, m.payload.to_vec())).collect();
        assert_eq!(
            kinds,
            vec![
                (OpCode::Ping, b"p".to_vec()),
                (OpCode::Text, b"Hello".to_vec()),
                (OpCode::Binary, b"\x00".to_vec()),
            ]
        );
        assert_eq!(
            got[1].frames,
            vec![frames[0].range.clone(), frames[2].range.clone()]
        );
    }

    #[test]
    fn many_fragments_join_in_order_and_a_single_frame_is_shared() {
        let wire = stream(&[
            Frame::new(OpCode::Binary, &b"a"[..]).with_fin(false),
            Frame::new(OpCode::Continuation, &b"bc"[..]).with_fin(false),
            Frame::new(OpCode::Pong, &b""[..]),
            Frame::new(OpCode::Continuation, &b""[..]).with_fin(false),
            Frame::new(OpCode::Continuation, &b"d"[..]),
            Frame::new(OpCode::Text, &b"whole"[..]),
        ]);
        let (frames, _) = decode_all(&wire, 1024);
        let got = messages(&frames).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(&got[1].payload[..], b"abcd");
        assert_eq!(got[1].frames.len(), 4);
        assert_eq!(got[2].payload.as_ptr(), frames[5].frame.payload.as_ptr());
    }

    #[test]
    fn broken_fragmentation_is_an_error() {
        let stray = stream(&[Frame::new(OpCode::Continuation, &b"x"[..])]);
        let (frames, _) = decode_all(&stray, 1024);
        assert_eq!(messages(&frames), Err(MessageError::StrayContinuation(0)));
        let interrupted = stream(&[
            Frame::new(OpCode::Text, &b"a"[..]).with_fin(false),
            Frame::new(OpCode::Binary, &b"b"[..]),
        ]);
        let (frames, _) = decode_all(&interrupted, 1024);
        assert!(matches!(
            messages(&frames),
            Err(MessageError::Interrupted { .. })
        ));
    }

    #[test]
    fn server_frames_unframe_to_their_payloads() {
        let payload: Vec<u8> = (0..70_000u32).map(|i| i as u8).collect();
        let mut stream = Vec::new();
        for chunk in payload.chunks(16 * 1024) {
            stream.extend(Frame::new(OpCode::Binary, chunk.to_vec()).encode());
        }
        stream.extend(Frame::new(OpCode::Close, Vec::new()).encode());
        stream.extend(Frame::new(OpCode::Binary, &b"after the close"[..]).encode());
        assert_eq!(unframe(&stream).unwrap(), payload);
        assert!(unframe(&stream[..10]).is_err(), "a truncated frame");
    }
}
