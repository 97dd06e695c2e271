//! `websocket`: RFC 6455. The handshake carries a 16-byte nonce key drawn from
//! the case's seed (§4.1; traces stay deterministic), the answer's
//! `Sec-WebSocket-Accept` is verified (§4.2.2), and the case's payloads travel as
//! masked client frames (§5.3, masks from the same seed). The server echoes data
//! frames; the oracle compares payloads, so the server may re-fragment as it likes.
//!
//! Under RFC 6455 a client waits for the 101 before it sends frames, so frames
//! sent with the handshake are a SHOULD for the server here (the case's level is
//! lowered, with a note saying why).
//!
//! The body and `Expect: 100-continue` cases of the echo family apply here too,
//! judged by the same rules: the handshake is a `GET` with that body, the frames
//! follow the 101, and the new protocol starts after the request message (RFC
//! 9110 §7.8), so a server that reads the body as frames, or whose library
//! writes an HTTP response after its own 101, fails.

use crate::oracle::{Point, Verdict, Violation};
use crate::reference::head::{self, Header};
use crate::scenario::Scenario;
use crate::suite::{Case, Level};
use crate::websocket::{Frame, Masks, OpCode, accept, key_from_seed};
use crate::wire::{Direction, Trace};

use super::request::{self, Plan, Request};

/// The cases whose point is frames sent with the handshake; every other case
/// sends its early payload after the 101, as RFC 6455 clients do, so that it
/// tests only its own point.
pub const EARLY_FRAMES: &str = "websocket.early-frames.";

/// The case that sends its early payload as several small frames.
pub const SEVERAL_FRAMES: &str = "websocket.early-frames.several";

/// The case whose close frame follows its data at once.
pub const CLOSE_AFTER_DATA: &str = "websocket.close-after-data";

/// The largest payload per frame the harness sends.
const FRAME_MAX: usize = 16 * 1024;

/// The payload per frame in [`SEVERAL_FRAMES`].
const SMALL_FRAME: usize = 100;

/// The opening handshake (RFC 6455 §4.1) with the key for `seed`.
pub(super) fn request(
    path: Option<String>,
    refused: bool,
    seed: u64,
    scenario: &Scenario,
) -> Result<Request, String> {
    request::explicit_needs_docker(scenario.handshake)?;
    // RFC 6455 §4.1: "The method of the request MUST be GET", with a body too
    // (the body cases: the new protocol starts after it, RFC 9110 §7.8).
    let mut head = request::head("GET", request::path_or(path, "/"));
    request::upgrade(&mut head, "websocket", refused);
    head.headers
        .push(Header::new("Sec-WebSocket-Key", key_from_seed(seed)));
    head.headers
        .push(Header::new("Sec-WebSocket-Version", "13"));
    Ok(Request {
        head,
        expect: request::upgrade_expect(refused),
    })
}

/// Turns the plan's raw payloads into masked frames (and its closing into a close
/// frame), and lowers early frames to a SHOULD.
pub(super) fn frame(plan: &mut Plan, case: &Case, seed: u64) {
    let mut masks = Masks::new(seed);
    let size = if case.id == SEVERAL_FRAMES {
        SMALL_FRAME
    } else {
        FRAME_MAX
    };
    let mut early_payload = std::mem::take(&mut plan.early);
    let mut late = std::mem::take(&mut plan.late).to_vec();
    if !case.id.starts_with(EARLY_FRAMES) {
        late.splice(0..0, early_payload.iter().copied());
        early_payload = bytes::Bytes::new();
    }
    plan.early = frames(&early_payload, size, &mut masks).into();
    plan.late = frames(&late, size, &mut masks).into();
    if case.scenario.client.half_close {
        plan.closing = Frame::close(1000, "")
            .masked(masks.next_mask())
            .encode()
            .into();
    }
    plan.websocket_key = Some(key_from_seed(seed));
    if !early_payload.is_empty() && plan.level == Level::Must {
        plan.level = Level::Should;
        plan.notes.push(
            "RFC 6455 clients wait for the 101 before sending, so frames sent with the handshake are a SHOULD here"
                .into(),
        );
    }
}

/// `payload` as masked binary frames of at most `size` bytes (none when empty).
fn frames(payload: &[u8], size: usize, masks: &mut Masks) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in payload.chunks(size) {
        Frame::new(OpCode::Binary, chunk.to_vec())
            .masked(masks.next_mask())
            .encode_into(&mut out);
    }
    out
}

/// RFC 6455 §4.2.2: the 101 carries `Sec-WebSocket-Accept`, the base64 SHA-1 of
/// the key and the GUID; §4.1 has the client fail the connection otherwise.
pub(super) fn check_accept(trace: &Trace, key: &str, verdict: &mut Verdict) {
    let s2c = trace.stream(Direction::ServerToClient);
    if let Ok(Some((response, _))) = head::parse_final_response(&s2c)
        && response.status == 101
    {
        let want = accept(key);
        let got = head::header_value(&response.headers, "sec-websocket-accept");
        if got.map(str::trim) != Some(want.as_str()) {
            verdict.violations.push(Violation {
                point: Point::Handshake,
                message: format!(
                    "Sec-WebSocket-Accept is {got:?} for the key {key:?}; RFC 6455 §4.2.2 requires {want:?}"
                ),
                marks: Vec::new(),
                level: Some(Level::Must),
            });
        }
    }
}

/// The payloads of the server's data frames, as the oracle's decoder.
pub(super) fn unframe(stream: &[u8]) -> Result<Vec<u8>, String> {
    crate::websocket::unframe(stream)
}

/// How much echo payload `after` (the server's bytes after its head) holds so far.
pub(super) fn echoed_len(after: &[u8]) -> usize {
    let (frames, _) = crate::websocket::decode_all(after, 16 << 20);
    frames
        .iter()
        .take_while(|f| f.frame.opcode != OpCode::Close)
        .filter(|f| {
            matches!(
                f.frame.opcode,
                OpCode::Binary | OpCode::Text | OpCode::Continuation
            )
        })
        .map(|f| f.frame.payload.len())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_split_by_size() {
        let payload: Vec<u8> = (0..350u32).map(|i| i as u8).collect();
        let mut masks = Masks::new(9);
        let wire = frames(&payload, SMALL_FRAME, &mut masks);
        let (decoded, _) = crate::websocket::decode_all(&wire, 1 << 20);
        assert_eq!(decoded.len(), 4);
        assert!(decoded.iter().all(|f| f.frame.mask.is_some()));
        assert_eq!(unframe(&unmasked(&wire)).unwrap(), payload);
    }

    /// The frames re-encoded unmasked, as a server sends them.
    fn unmasked(wire: &[u8]) -> Vec<u8> {
        let (decoded, _) = crate::websocket::decode_all(wire, 1 << 20);
        let mut out = Vec::new();
        for f in decoded {
            Frame::new(f.frame.opcode, f.frame.payload.to_vec()).encode_into(&mut out);
        }
        out
    }
}
