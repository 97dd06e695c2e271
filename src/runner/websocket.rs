//! The runner's side of a WebSocket conversation, on top of [`crate::websocket`]:
//! the case's payloads as masked client frames, and the server's echo unframed.
//!
//! The case's early and late payloads become the payloads of binary frames; the
//! oracle compares payloads, so a server may re-fragment the echo as it likes.

use crate::websocket::{Frame, Masks, OpCode, Tail, decode_all};

pub use crate::websocket::accept;

/// The key the harness sends: a valid 16-byte nonce (RFC 6455 §4.1).
pub const KEY: &str = "aGlqYWNrLWhhcm5lc3MxNg==";

/// The largest payload per frame the harness sends.
const FRAME_MAX: usize = 16 * 1024;

/// The most a server frame may announce before the echo is judged undecodable.
const DECODE_LIMIT: usize = 16 << 20;

/// `payload` as masked client binary frames (none when empty), masks from `seed`.
pub fn client_frames(payload: &[u8], seed: u8) -> Vec<u8> {
    let mut masks = Masks::new(u64::from(seed));
    let mut out = Vec::new();
    for chunk in payload.chunks(FRAME_MAX) {
        Frame::new(OpCode::Binary, chunk.to_vec())
            .masked(masks.next_mask())
            .encode_into(&mut out);
    }
    out
}

/// A masked close frame with status 1000 (normal closure).
pub fn client_close() -> Vec<u8> {
    Frame::close(1000, "").masked([1, 2, 3, 4]).encode()
}

/// The payloads of the data frames in `stream` (server frames), concatenated;
/// stops at a close frame. A truncated last frame is an error.
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

/// One frame at the start of `buf`: `(opcode bits, unmasked payload, length on
/// the wire)`; `None` until a whole frame is there or when it is invalid.
pub fn parse_frame(buf: &[u8]) -> Option<(u8, Vec<u8>, usize)> {
    let (frame, used) = crate::websocket::decode(buf, DECODE_LIMIT).ok()??;
    Some((frame.opcode.bits(), frame.payload.to_vec(), used))
}

/// An unmasked server frame.
pub fn server_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let opcode = OpCode::from_bits(opcode).unwrap_or(OpCode::Binary);
    Frame::new(opcode, payload.to_vec()).encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let payload: Vec<u8> = (0..70_000u32).map(|i| i as u8).collect();
        assert_eq!(unframe(&client_frames(&payload, 7)).unwrap(), payload);
    }

    #[test]
    fn the_key_is_a_16_byte_nonce() {
        assert!(crate::websocket::valid_key(KEY));
    }
}
