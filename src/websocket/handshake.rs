//! The opening handshake's key and accept (RFC 6455 §4), and the client's masks.
//!
//! §4.1: the key "MUST be a nonce consisting of a randomly selected 16-byte value
//! that has been base64-encoded". Real servers check this (Python `websockets`
//! and Node `ws` answer 400 to any other length), so the key is always 16 bytes.
//! "Randomly selected" is drawn from the case's seed: a run is a function of its
//! case, so the same case gives the same trace. §5.3 asks the same of the masking
//! key ("derived from a strong source of entropy"); for a test peer, repeatability
//! is worth more than unpredictability, and no server may depend on a mask's value.

use base64::Engine as _;
use sha1::{Digest, Sha1};

/// The GUID §1.3 appends to the key before hashing.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// SplitMix64: a small, well-mixed generator, so nearby seeds give unrelated keys.
pub(crate) fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A `Sec-WebSocket-Key`: 16 bytes from `seed`, base64-encoded (24 characters).
pub fn key_from_seed(seed: u64) -> String {
    let mut state = seed;
    let mut nonce = [0u8; 16];
    nonce[..8].copy_from_slice(&splitmix(&mut state).to_le_bytes());
    nonce[8..].copy_from_slice(&splitmix(&mut state).to_le_bytes());
    base64::engine::general_purpose::STANDARD.encode(nonce)
}

/// Whether `key` is what §4.1 requires: base64 of exactly 16 bytes.
pub fn valid_key(key: &str) -> bool {
    base64::engine::general_purpose::STANDARD
        .decode(key.trim())
        .is_ok_and(|nonce| nonce.len() == 16)
}

/// The `Sec-WebSocket-Accept` a server must answer to `key` (§4.2.2): base64 of
/// the SHA-1 of the key (as sent, trimmed) and the GUID.
pub fn accept(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.trim().as_bytes());
    sha.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

/// The masking keys of one connection's client frames, drawn from a seed.
#[derive(Debug, Clone)]
pub struct Masks {
    state: u64,
}

impl Masks {
    /// The masks for the connection with this seed (the key uses the seed as is;
    /// the masks a different stream of the same generator).
    pub fn new(seed: u64) -> Self {
        Masks {
            state: seed ^ 0x6d61_736b_6d61_736b,
        }
    }

    /// The next frame's mask.
    pub fn next_mask(&mut self) -> [u8; 4] {
        let word = splitmix(&mut self.state) as u32;
        word.to_le_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_matches_the_rfc_example() {
        // RFC 6455 §1.3.
        assert_eq!(
            accept("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn seeded_keys_are_valid_stable_and_distinct() {
        let keys: Vec<String> = (0..64).map(key_from_seed).collect();
        for key in &keys {
            assert_eq!(key.len(), 24);
            assert!(valid_key(key), "{key}");
        }
        assert_eq!(keys[7], key_from_seed(7));
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len());
        // The key the harness used to send decodes to 17 bytes: servers refuse it.
        assert!(!valid_key("aGlqYWNrLWhhcm5lc3MtMTY="));
    }

    #[test]
    fn masks_repeat_per_seed() {
        let a: Vec<_> = std::iter::repeat_with({
            let mut m = Masks::new(3);
            move || m.next_mask()
        })
        .take(4)
        .collect();
        let mut again = Masks::new(3);
        assert_eq!(a[0], again.next_mask());
        assert_ne!(a[0], a[1]);
    }
}
