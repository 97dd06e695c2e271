//! [`MessageScenario`] as fuzzer bytes: an `arbitrary` decoder and its exact inverse.
//!
//! The format is this module's own, one field after another, numbers as
//! little-endian bytes, so it stays stable whatever `arbitrary` does with its
//! own encodings; [`encode`] is the inverse of [`decode`] for every scenario the
//! `proptest` strategy builds (a property test checks it), which is what lets the
//! corpus be written from named scenarios. An exhausted input reads as zeros, and
//! zero is always the plainest choice: no close, nothing early, no cuts, no
//! messages.
//!
//! ```text
//! seed u64 | flags (1 close, 2 head cut) | early u8 | [head_cut u16] | greeting u16
//! | cuts (count % 32, then u32 each) | messages (count % 8, then each:
//!   kind (1 text) | len u32 % (MAX_MESSAGE + 1) | splits (count % 8, u32 each)
//!   | controls (count % 8, then each: kind (1 pong) | len % 126 | before))
//! ```

use arbitrary::{Arbitrary, Unstructured};

use crate::fuzzing::reader::Reader;

use crate::scenario::websocket::{
    Control, ControlSpec, Kind, MAX_CONTROL, MAX_MESSAGE, MessageScenario, MessageSpec,
};

/// Most items of one list the format carries (messages, splits, controls).
const MAX_ITEMS: usize = 8;
/// Most cuts it carries: enough to cut a small case at every byte.
const MAX_CUTS: usize = 32;

/// Why a scenario has no byte form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("websocket scenario cannot be encoded: {0}")]
pub struct EncodeError(&'static str);

/// The scenario `data` describes (any bytes describe one).
pub fn decode(data: &[u8]) -> MessageScenario {
    let mut r = Reader::new(data);
    let seed = u64::from_le_bytes(r.le());
    let flags = r.byte();
    let early = r.byte();
    let head_cut = (flags & 2 != 0).then(|| u16::from_le_bytes(r.le()));
    let greeting = u16::from_le_bytes(r.le());
    let cuts = (0..r.count(MAX_CUTS))
        .map(|_| u32::from_le_bytes(r.le()))
        .collect();
    let messages = (0..r.count(MAX_ITEMS))
        .map(|_| {
            let kind = if r.byte() & 1 != 0 {
                Kind::Text
            } else {
                Kind::Binary
            };
            let len = u32::from_le_bytes(r.le()) as usize % (MAX_MESSAGE + 1);
            let splits = (0..r.count(MAX_ITEMS))
                .map(|_| u32::from_le_bytes(r.le()))
                .collect();
            let controls = (0..r.count(MAX_ITEMS))
                .map(|_| ControlSpec {
                    kind: if r.byte() & 1 != 0 {
                        Control::Pong
                    } else {
                        Control::Ping
                    },
                    len: r.byte() % (MAX_CONTROL as u8 + 1),
                    before: r.byte(),
                })
                .collect();
            MessageSpec {
                kind,
                len,
                splits,
                controls,
            }
        })
        .collect();
    MessageScenario {
        seed,
        messages,
        close: flags & 1 != 0,
        early,
        head_cut,
        cuts,
        greeting,
    }
}

fn count(out: &mut Vec<u8>, n: usize, max: usize) -> Result<(), EncodeError> {
    if n >= max {
        return Err(EncodeError("a list longer than the format carries"));
    }
    out.push(n as u8);
    Ok(())
}

/// The bytes [`decode`] reads back as `s`.
pub fn encode(s: &MessageScenario) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    out.extend_from_slice(&s.seed.to_le_bytes());
    out.push(u8::from(s.close) | if s.head_cut.is_some() { 2 } else { 0 });
    out.push(s.early);
    if let Some(c) = s.head_cut {
        out.extend_from_slice(&c.to_le_bytes());
    }
    out.extend_from_slice(&s.greeting.to_le_bytes());
    count(&mut out, s.cuts.len(), MAX_CUTS)?;
    for c in &s.cuts {
        out.extend_from_slice(&c.to_le_bytes());
    }
    count(&mut out, s.messages.len(), MAX_ITEMS)?;
    for m in &s.messages {
        out.push(u8::from(m.kind == Kind::Text));
        if m.len > MAX_MESSAGE {
            return Err(EncodeError("a message longer than MAX_MESSAGE"));
        }
        out.extend_from_slice(&(m.len as u32).to_le_bytes());
        count(&mut out, m.splits.len(), MAX_ITEMS)?;
        for sp in &m.splits {
            out.extend_from_slice(&sp.to_le_bytes());
        }
        count(&mut out, m.controls.len(), MAX_ITEMS)?;
        for c in &m.controls {
            if usize::from(c.len) > MAX_CONTROL {
                return Err(EncodeError("a control payload over 125 bytes"));
            }
            out.push(u8::from(c.kind == Control::Pong));
            out.push(c.len);
            out.push(c.before);
        }
    }
    Ok(out)
}

impl<'a> Arbitrary<'a> for MessageScenario {
    /// Reads the rest of the input as [`decode`] does.
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let data = u.bytes(u.len())?;
        Ok(decode(data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::websocket::ws_scenario;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn encode_is_the_inverse_of_decode(s in ws_scenario()) {
            let bytes = encode(&s).unwrap();
            prop_assert_eq!(decode(&bytes), s);
        }
    }

    #[test]
    fn empty_input_is_the_plainest_case() {
        let s = decode(&[]);
        assert!(s.messages.is_empty() && !s.close && s.early == 0 && s.cuts.is_empty());
    }
}
