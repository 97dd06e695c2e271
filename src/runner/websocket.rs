//! The runner's side of a WebSocket conversation, on top of [`crate::websocket`]:
//! the server's echo unframed (for the black-box oracle), and the frames the
//! reference echo server reads and writes ([`super::serve`]). The client's
//! handshake key and masked frames come from the case's seed, in
//! [`super::black_box::websocket`].
//!
//! The oracle compares payloads, so a server may re-fragment the echo as it likes.

use crate::websocket::{Frame, OpCode, Tail, decode_all};

pub use crate::websocket::accept;

/// The most a server frame may announce before the echo is judged undecodable.
const DECODE_LIMIT: usize = 16 << 20;

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
    fn server_frames_unframe_to_their_payloads() {
        let payload: Vec<u8> = (0..70_000u32).map(|i| i as u8).collect();
        let mut stream = Vec::new();
        for chunk in payload.chunks(16 * 1024) {
            stream.extend(server_frame(0x2, chunk));
        }
        stream.extend(server_frame(0x8, b""));
        stream.extend(server_frame(0x2, b"after the close"));
        assert_eq!(unframe(&stream).unwrap(), payload);
        assert!(unframe(&stream[..10]).is_err(), "a truncated frame");
    }
}
