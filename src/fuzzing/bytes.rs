//! Choices as bytes: the reader and writer of the fuzz input format.
//!
//! Every choice the decoders make reads one byte through [`pick`] (or a
//! little-endian number composed from bytes), and every choice has an inverse
//! ([`unpick`], [`Writer`]) that the encoder uses, so the format is this crate's,
//! stable across `arbitrary` versions.

use arbitrary::Unstructured;

/// Which of `weights` a byte selects (the byte range is split in proportion).
pub(super) fn pick(b: u8, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let x = u32::from(b) * total / 256;
    let mut acc = 0;
    for (i, w) in weights.iter().enumerate() {
        acc += w;
        if x < acc {
            return i;
        }
    }
    weights.len() - 1
}

/// The smallest byte that [`pick`] maps to `index`.
pub(super) fn unpick(index: usize, weights: &[u32]) -> u8 {
    (0..=255u8)
        .find(|&b| pick(b, weights) == index)
        .unwrap_or_default()
}

/// Reads the input one byte at a time, from a plain slice: going through
/// `Unstructured` for each byte costs a bounds-checked copy per byte, which under
/// coverage instrumentation was a measurable share of every fuzz run. The bytes
/// read are consumed from the `Unstructured` when the reader is dropped.
pub(super) struct Reader<'u, 'a> {
    input: &'u mut Unstructured<'a>,
    data: &'a [u8],
    read: usize,
}

impl<'u, 'a> Reader<'u, 'a> {
    pub(super) fn new(input: &'u mut Unstructured<'a>) -> Self {
        let data = input.peek_bytes(input.len()).unwrap_or_default();
        Reader {
            input,
            data,
            read: 0,
        }
    }

    pub(super) fn byte(&mut self) -> arbitrary::Result<u8> {
        // One byte, or 0 once the input is exhausted: never an error.
        match self.data.get(self.read) {
            Some(&b) => {
                self.read += 1;
                Ok(b)
            }
            None => Ok(0),
        }
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
        // `read` never passes the end, so this cannot fail.
        let _ = self.input.bytes(self.read);
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
