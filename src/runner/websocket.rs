//! Just enough RFC 6455 to run the suite against a WebSocket echo server: the
//! handshake's key and accept, masked client frames, and unframing the echo.
//!
//! The case's early and late payloads become the payloads of binary frames; the
//! oracle compares payloads, so a server may re-fragment the echo as it likes.

use base64::Engine as _;
use sha1::{Digest, Sha1};

/// The GUID RFC 6455 §1.3 appends to the key.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The key the harness sends (16 bytes, base64; fixed, so traces are stable).
pub const KEY: &str = "aGlqYWNrLWhhcm5lc3MtMTY=";

/// The `Sec-WebSocket-Accept` a server must answer to `key`.
pub fn accept(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

/// The largest payload per frame the harness sends.
const FRAME_MAX: usize = 16 * 1024;

/// `payload` as masked client binary frames (none when empty).
pub fn client_frames(payload: &[u8], mask_seed: u8) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, chunk) in payload.chunks(FRAME_MAX).enumerate() {
        // 0x82: FIN + binary. Continuations would also be valid; whole frames keep it simple.
        out.push(0x82);
        push_len(&mut out, chunk.len(), true);
        let mask = [mask_seed, 0x5a ^ i as u8, 0xa5, 0x3c];
        out.extend_from_slice(&mask);
        out.extend(chunk.iter().enumerate().map(|(j, b)| b ^ mask[j % 4]));
    }
    out
}

/// A masked close frame with status 1000 (normal closure).
pub fn client_close() -> Vec<u8> {
    let mask = [1u8, 2, 3, 4];
    let body = [0x03u8, 0xe8];
    let mut out = vec![0x88, 0x80 | 2];
    out.extend_from_slice(&mask);
    out.extend(body.iter().enumerate().map(|(j, b)| b ^ mask[j % 4]));
    out
}

fn push_len(out: &mut Vec<u8>, len: usize, masked: bool) {
    let bit = if masked { 0x80 } else { 0 };
    if len < 126 {
        out.push(bit | len as u8);
    } else if len <= 0xffff {
        out.push(bit | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(bit | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

/// The payloads of the data frames in `stream` (server frames, unmasked),
/// concatenated; stops at a close frame. A truncated last frame is an error only
/// when `stream` has bytes after the last whole frame that do not form one.
pub fn unframe(stream: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < stream.len() {
        let rest = &stream[at..];
        if rest.len() < 2 {
            return Err(format!("a truncated frame header at byte {at}"));
        }
        let opcode = rest[0] & 0x0f;
        let masked = rest[1] & 0x80 != 0;
        let (len, mut header) = match rest[1] & 0x7f {
            126 if rest.len() >= 4 => (usize::from(u16::from_be_bytes([rest[2], rest[3]])), 4),
            127 if rest.len() >= 10 => {
                let mut be = [0u8; 8];
                be.copy_from_slice(&rest[2..10]);
                (
                    usize::try_from(u64::from_be_bytes(be)).unwrap_or(usize::MAX),
                    10,
                )
            }
            126 | 127 => return Err(format!("a truncated frame header at byte {at}")),
            n => (usize::from(n), 2),
        };
        let mask = if masked {
            let Some(m) = rest.get(header..header + 4) else {
                return Err(format!("a truncated mask at byte {at}"));
            };
            header += 4;
            Some([m[0], m[1], m[2], m[3]])
        } else {
            None
        };
        let Some(payload) = rest.get(header..header.saturating_add(len)) else {
            return Err(format!(
                "a frame at byte {at} announces {len} bytes, only {} arrived",
                rest.len() - header.min(rest.len())
            ));
        };
        match opcode {
            0x0..=0x2 => match mask {
                None => out.extend_from_slice(payload),
                Some(m) => out.extend(payload.iter().enumerate().map(|(j, b)| b ^ m[j % 4])),
            },
            0x8 => break,
            // Ping and pong carry no echo.
            _ => {}
        }
        at += header + len;
    }
    Ok(out)
}

/// One frame at the start of `buf`: `(opcode, unmasked payload, length on the
/// wire)`; `None` until a whole frame is there.
pub fn parse_frame(buf: &[u8]) -> Option<(u8, Vec<u8>, usize)> {
    if buf.len() < 2 {
        return None;
    }
    let opcode = buf[0] & 0x0f;
    let masked = buf[1] & 0x80 != 0;
    let (len, mut header) = match buf[1] & 0x7f {
        126 => (
            usize::from(u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?])),
            4,
        ),
        127 => {
            let mut be = [0u8; 8];
            be.copy_from_slice(buf.get(2..10)?);
            (usize::try_from(u64::from_be_bytes(be)).ok()?, 10)
        }
        n => (usize::from(n), 2),
    };
    let mask = if masked {
        let m = buf.get(header..header + 4)?;
        header += 4;
        Some([m[0], m[1], m[2], m[3]])
    } else {
        None
    };
    let payload = buf.get(header..header.checked_add(len)?)?;
    let payload = match mask {
        None => payload.to_vec(),
        Some(m) => payload
            .iter()
            .enumerate()
            .map(|(j, b)| b ^ m[j % 4])
            .collect(),
    };
    Some((opcode, payload, header + len))
}

/// An unmasked server frame.
pub fn server_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x80 | (opcode & 0x0f)];
    push_len(&mut out, payload.len(), false);
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_matches_rfc_example() {
        assert_eq!(
            accept("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn frames_round_trip() {
        let payload: Vec<u8> = (0..70_000u32).map(|i| i as u8).collect();
        assert_eq!(unframe(&client_frames(&payload, 7)).unwrap(), payload);
    }
}
