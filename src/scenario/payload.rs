//! Payloads: described by a length and a seed, materialised on demand.
//!
//! A scenario never stores payload bytes. A [`Payload`] is a length and a
//! [`Fill`]; its bytes are the first `len` bytes of a stream fixed by the fill and
//! the [`Role`] the payload plays, so every payload of a run differs from the
//! others, and a byte that shows up in the wrong place can be traced back to where
//! it came from. The streams are cached for the process.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use bytes::Bytes;

use super::MAX_PAYLOAD;

/// What a payload looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fill {
    /// Bytes from a seeded generator, all 256 values.
    Noise(u8),
    /// Repeated `GET / HTTP/1.1` requests: new-protocol bytes that look like HTTP, to
    /// catch a library that parses what it should hand over.
    HttpLike,
}

/// How many bytes of payload streams the process keeps: every stream a run
/// asks for stays until the total passes this, so a property's or a fuzzer's
/// payloads are generated about once each (256 seeds, a few roles, most of
/// them short), while a long run with many 70 kB streams stays bounded.
const PAYLOAD_CACHE_BYTES: usize = 64 << 20;

/// The cache of payload streams, by [`stream_key`]: one slot per stream, so two
/// streams never evict each other (the direct-mapped cache this replaced missed
/// on most lookups: about 1,800 streams shared 256 slots, BENCHMARKS.md).
/// Shared by every thread: a lookup holds the lock for a hash and a clone of
/// `Bytes`; a stream is generated outside it.
static PAYLOAD_CACHE: std::sync::Mutex<StreamCache> =
    std::sync::Mutex::new(StreamCache::new(PAYLOAD_CACHE_BYTES));

/// The payload streams kept, and their total length.
struct StreamCache {
    streams: Option<HashMap<u32, Bytes, BuildHasherDefault<KeyHasher>>>,
    bytes: usize,
    budget: usize,
}

impl StreamCache {
    /// An empty cache that keeps at most `budget` bytes.
    const fn new(budget: usize) -> Self {
        StreamCache {
            streams: None,
            bytes: 0,
            budget,
        }
    }

    /// The stream of `key`, if one of at least `len` bytes is kept.
    fn get(&self, key: u32, len: usize) -> Option<Bytes> {
        let stream = self.streams.as_ref()?.get(&key)?;
        (stream.len() >= len).then(|| stream.slice(..len))
    }

    /// The stream of `key`, whatever its length, if one is kept.
    fn kept(&self, key: u32) -> Option<Bytes> {
        self.streams.as_ref()?.get(&key).cloned()
    }

    /// Keeps `stream` as the stream of `key`, first letting go of others
    /// (in no particular order) until it fits the budget.
    fn put(&mut self, key: u32, stream: Bytes) {
        let streams = self.streams.get_or_insert_with(HashMap::default);
        if let Some(old) = streams.remove(&key) {
            self.bytes -= old.len();
        }
        while self.bytes + stream.len() > self.budget {
            let Some(&victim) = streams.keys().next() else {
                break;
            };
            if let Some(old) = streams.remove(&victim) {
                self.bytes -= old.len();
            }
        }
        self.bytes += stream.len();
        streams.insert(key, stream);
    }
}

/// A hasher for stream keys: they are small distinct integers, so one
/// multiplication spreads them well enough (SipHash would cost more than the
/// lookup it serves).
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
        }
    }

    fn write_u32(&mut self, key: u32) {
        self.0 = u64::from(key).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// The stream a payload is a prefix of: its fill and role, as one number.
fn stream_key(fill: Fill, role: Role) -> u32 {
    match fill {
        Fill::HttpLike => u32::MAX,
        Fill::Noise(seed) => u32::from(seed) << 16 | role.salt(),
    }
}

/// A payload, described by its length and content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Payload {
    /// How many bytes.
    pub len: usize,
    /// What they look like.
    pub fill: Fill,
}

/// Which payload a byte belongs to; mixed into the generator so payloads differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The request body (or one chunk of it).
    Body(u8),
    /// The client's early bytes.
    Early,
    /// The client's late bytes.
    Late,
    /// The server application's first bytes.
    First,
}

impl Payload {
    /// No bytes.
    pub const EMPTY: Payload = Payload {
        len: 0,
        fill: Fill::Noise(0),
    };

    /// `len` noise bytes from `seed`.
    pub fn noise(len: usize, seed: u8) -> Self {
        Payload {
            len,
            fill: Fill::Noise(seed),
        }
    }

    /// The bytes, for the payload in `role`.
    ///
    /// One run asks for the same payload several times (the peer sends it, the
    /// oracle compares against it, the cut points are measured on it), and runs
    /// draw from 256 seeds, so streams are kept ([`PAYLOAD_CACHE`]): a clone of
    /// `Bytes` is a reference count, while generating 70 kB again is not.
    pub fn bytes(&self, role: Role) -> Bytes {
        // A payload of length n is the first n bytes of a stream fixed by its fill
        // and role, so the cache keeps streams, not payloads: a hit is a zero-copy slice, and the same seed at another length hits too
        // (a fuzzer varies lengths far more often than seeds).
        let len = self.len.min(MAX_PAYLOAD);
        if len == 0 {
            return Bytes::new();
        }
        let key = stream_key(self.fill, role);
        let cache = || {
            PAYLOAD_CACHE
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        };
        let kept = {
            let cache = cache();
            if let Some(hit) = cache.get(key, len) {
                return hit;
            }
            cache.kept(key)
        };
        // The next power of two: a growing length grows the stream O(log n)
        // times, each time from the shorter one kept.
        let stream = generate(
            self.fill,
            role,
            len.max(64).next_power_of_two().min(MAX_PAYLOAD),
            &kept.unwrap_or_default(),
        );
        let out = stream.slice(..len);
        cache().put(key, stream);
        out
    }
}

impl Role {
    fn salt(self) -> u32 {
        match self {
            Role::Body(i) => 0x100 + u32::from(i),
            Role::Early => 0x200,
            Role::Late => 0x300,
            Role::First => 0x400,
        }
    }
}

/// The first `len` bytes of the stream of `fill` in `role`.
///
/// Noise is written 64 bytes at a time, each block's sixteen words in a loop
/// of a fixed count (unrolled: no test per word, which under the fuzzer's
/// comparison tracing is a callback per word), and never through a
/// `copy_from_slice` of a length the compiler cannot see: written that way, each
/// word was a call to `memcpy`, and generating payloads was a quarter of a
/// property case's instructions (BENCHMARKS.md, 2026-12-07).
///
/// Noise is not written over zeroes: each block is made on the stack and
/// appended, so the buffer is written once (zeroing a 70 kB stream first was a
/// pass of its own over it).
///
/// `before` is a prefix of the same stream (a shorter one kept, or nothing):
/// its whole words are copied, and the noise goes on from its last word, which
/// is the generator's state after it (xorshift's state is the word it
/// outputs). Copying is a small part of generating the bytes again.
fn generate(fill: Fill, role: Role, len: usize, before: &[u8]) -> Bytes {
    // Room for the last whole block, wherever the copied words leave off.
    let mut out = Vec::with_capacity(len.next_multiple_of(64) + before.len() % 64);
    match fill {
        Fill::HttpLike => {
            let pattern = b"GET / HTTP/1.1\r\nHost: smuggled\r\n\r\n";
            while out.len() < len {
                out.extend_from_slice(pattern);
            }
        }
        Fill::Noise(seed) => {
            // xorshift32, four bytes a step: cheap, and distinct per (seed, role).
            let mut x = (u32::from(seed) << 16 | role.salt()) ^ 0x9E37_79B9;
            let words = before.len().min(len) / 4;
            if let Some(last) = before[..words * 4].last_chunk::<4>() {
                out.extend_from_slice(&before[..words * 4]);
                x = u32::from_le_bytes(*last);
            }
            let mut block = [[0u8; 4]; 16];
            while out.len() < len {
                for word in &mut block {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    *word = x.to_le_bytes();
                }
                out.extend_from_slice(block.as_flattened());
            }
        }
    }
    out.truncate(len);
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The payload bytes as defined before the stream cache: the cache must not
    /// change a single byte (snapshots and seeds depend on them).
    fn uncached(p: &Payload, role: Role) -> Vec<u8> {
        let len = p.len.min(MAX_PAYLOAD);
        match p.fill {
            Fill::HttpLike => b"GET / HTTP/1.1\r\nHost: smuggled\r\n\r\n"
                .iter()
                .copied()
                .cycle()
                .take(len)
                .collect(),
            Fill::Noise(seed) => {
                let mut x = (u32::from(seed) << 16 | role.salt()) ^ 0x9E37_79B9;
                let mut out = Vec::with_capacity(len + 3);
                while out.len() < len {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    out.extend_from_slice(&x.to_le_bytes());
                }
                out.truncate(len);
                out
            }
        }
    }

    proptest! {
        #[test]
        fn cached_payloads_are_the_uncached_bytes(
            lens in proptest::collection::vec(0usize..=MAX_PAYLOAD + 10, 1..6),
            seeds in proptest::collection::vec(any::<u8>(), 1..4),
            http_like in any::<bool>(),
        ) {
            for len in lens {
                for &seed in &seeds {
                    let fill = if http_like { Fill::HttpLike } else { Fill::Noise(seed) };
                    let p = Payload { len, fill };
                    for role in [Role::Early, Role::Late, Role::First, Role::Body(3)] {
                        prop_assert_eq!(p.bytes(role).to_vec(), uncached(&p, role));
                    }
                }
            }
        }
    }

    /// A stream grown from a shorter one kept is the stream generated whole,
    /// whatever the kept length (a whole number of words or not).
    #[test]
    fn a_stream_grown_from_a_kept_prefix_is_the_whole_stream() {
        for fill in [Fill::Noise(0), Fill::Noise(201), Fill::HttpLike] {
            for role in [Role::Early, Role::Body(2)] {
                let whole = generate(fill, role, 5000, &[]);
                let p = Payload { len: 5000, fill };
                assert_eq!(whole.to_vec(), uncached(&p, role));
                for kept in [0, 3, 4, 64, 101, 256, 4096, 5000, 6000] {
                    let before = generate(fill, role, kept, &[]);
                    let grown = generate(fill, role, 5000, &before);
                    assert_eq!(grown, whole, "{fill:?} {role:?} from {kept}");
                }
            }
        }
    }

    #[test]
    fn the_stream_cache_stays_within_its_budget_and_returns_the_kept_bytes() {
        let mut cache = StreamCache::new(1000);
        for key in 0..10u32 {
            let stream = generate(Fill::Noise(key as u8), Role::Early, 300, &[]);
            cache.put(key, stream.clone());
            assert!(cache.bytes <= 1000, "{} bytes kept", cache.bytes);
            assert_eq!(cache.get(key, 200), Some(stream.slice(..200)));
            assert_eq!(cache.get(key, 301), None, "a longer stream than kept");
        }
        let kept: usize = cache.streams.iter().flatten().map(|(_, s)| s.len()).sum();
        assert_eq!(kept, cache.bytes);
        // A stream replaced by a longer one is counted once.
        cache.put(3, generate(Fill::Noise(3), Role::Early, 600, &[]));
        let kept: usize = cache.streams.iter().flatten().map(|(_, s)| s.len()).sum();
        assert_eq!((kept, cache.bytes <= 1000), (cache.bytes, true));
    }

    #[test]
    fn payloads_differ_by_role() {
        let p = Payload::noise(16, 7);
        assert_ne!(p.bytes(Role::Early), p.bytes(Role::Late));
        assert_eq!(p.bytes(Role::Early), p.bytes(Role::Early));
    }
}
