//! Choices as bytes: the reader and writer of the fuzz input format.
//!
//! Every choice the decoders make reads one byte through [`pick`] (or a
//! little-endian number composed from bytes), and every choice has an inverse
//! ([`unpick`], [`Writer`]) that the encoder uses, so the format is this crate's,
//! stable across `arbitrary` versions.

use arbitrary::Unstructured;

/// Which of `weights` a byte selects (the byte range is split in proportion).
const fn pick(b: u8, weights: &[u32]) -> usize {
    let mut total = 0;
    let mut i = 0;
    while i < weights.len() {
        total += weights[i];
        i += 1;
    }
    let x = b as u32 * total / 256;
    let mut acc = 0;
    let mut i = 0;
    while i < weights.len() {
        acc += weights[i];
        if x < acc {
            return i;
        }
        i += 1;
    }
    weights.len() - 1
}

/// The smallest byte that [`pick`] maps to `index`.
fn unpick(index: usize, weights: &[u32]) -> u8 {
    (0..=255u8)
        .find(|&b| pick(b, weights) == index)
        .unwrap_or_default()
}

/// The weights of one choice, with [`pick`] for every byte worked out at
/// compile time: the decoder looks its choice up in `table` instead of
/// walking the weights. Under the fuzzer each walk was a loop of compared
/// sums, a comparison callback and coverage counters at every choice of every
/// execution, for an answer that depends on one byte.
pub(super) struct Weights<const N: usize> {
    weights: [u32; N],
    table: [u8; 256],
}

impl<const N: usize> Weights<N> {
    /// The choice among `N` whose weights are `weights`.
    pub(super) const fn new(weights: [u32; N]) -> Self {
        assert!(N > 0 && N <= 256);
        let mut table = [0u8; 256];
        let mut b = 0;
        while b < 256 {
            table[b] = pick(b as u8, &weights) as u8;
            b += 1;
        }
        Weights { weights, table }
    }

    /// Which of the `N` a byte selects (the byte range is split in proportion).
    pub(super) fn pick(&self, b: u8) -> usize {
        usize::from(self.table[usize::from(b)])
    }

    /// The smallest byte that [`Weights::pick`] maps to `index`.
    pub(super) fn unpick(&self, index: usize) -> u8 {
        unpick(index, &self.weights)
    }

    /// Checks the table against the walk, byte by byte (for the tests).
    #[cfg(test)]
    pub(super) fn check_table(&self) {
        for b in 0..=255u8 {
            assert_eq!(self.pick(b), pick(b, &self.weights), "byte {b}");
        }
    }
}

/// How many bytes of the input a [`Reader`] holds. The scenario decoder reads
/// at most 416 (two sets of three headers of 54 bytes, three payloads of 7,
/// two read sizes of 5, six cuts of 5 and their counts, the body, the answer
/// and the choices); the hyper option readers fewer than 20.
pub(super) const HELD: usize = 512;

/// Reads the input one byte at a time, from a zero-padded copy of its first
/// [`HELD`] bytes: a byte is one load at a masked index, with no test for the
/// end of the input. Going through `Unstructured` for each byte cost a
/// bounds-checked copy per byte, and even a plain slice's end test was, under
/// the fuzzer, a comparison callback and two coverage counters at every one
/// of the decoder's sixty-odd reads. The bytes read are consumed from the
/// `Unstructured` when the reader is dropped.
pub(super) struct Reader<'u, 'a> {
    input: &'u mut Unstructured<'a>,
    held: [u8; HELD],
    len: usize,
    read: usize,
}

impl<'u, 'a> Reader<'u, 'a> {
    pub(super) fn new(input: &'u mut Unstructured<'a>) -> Self {
        let data = input.peek_bytes(input.len()).unwrap_or_default();
        let len = data.len().min(HELD);
        let mut held = [0; HELD];
        held[..len].copy_from_slice(&data[..len]);
        Reader {
            input,
            held,
            len,
            read: 0,
        }
    }

    pub(super) fn byte(&mut self) -> arbitrary::Result<u8> {
        // One byte, or 0 past the end of the input: never an error. The mask
        // only matters past `HELD` bytes, which no decoder reads.
        let b = self.held[self.read % HELD];
        self.read += 1;
        Ok(b)
    }

    pub(super) fn u16(&mut self) -> arbitrary::Result<u16> {
        Ok(u16::from_le_bytes([self.byte()?, self.byte()?]))
    }

    pub(super) fn u32(&mut self) -> arbitrary::Result<u32> {
        Ok(u32::from_le_bytes([
            self.byte()?,
            self.byte()?,
            self.byte()?,
            self.byte()?,
        ]))
    }
}

impl Drop for Reader<'_, '_> {
    fn drop(&mut self) {
        // At most what the input holds, so this cannot fail.
        let _ = self.input.bytes(self.read.min(self.len));
    }
}

/// Why a scenario has no byte form: a field outside what the decoder can produce.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("scenario cannot be encoded: {0}")]
pub struct EncodeError(pub(super) &'static str);

#[derive(Default)]
pub(super) struct Writer(pub(super) Vec<u8>);

impl Writer {
    pub(super) fn byte(&mut self, b: u8) {
        self.0.push(b);
    }
    pub(super) fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(super) fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
}

/// Reads `Some(v)` or `None` with one byte deciding (odd: some).
pub(super) fn read_option<T>(
    r: &mut Reader<'_, '_>,
    value: impl FnOnce(&mut Reader<'_, '_>) -> arbitrary::Result<T>,
) -> arbitrary::Result<Option<T>> {
    if r.byte()? & 1 == 1 {
        Ok(Some(value(r)?))
    } else {
        Ok(None)
    }
}

/// Reads a flag: the byte's low bit.
pub(super) fn read_bool(r: &mut Reader<'_, '_>) -> arbitrary::Result<bool> {
    Ok(r.byte()? & 1 == 1)
}
