//! The plain byte reader of the fuzz targets' own formats (the WebSocket
//! [`encoding`](super::websocket::encoding) and the [`proxy`](super::proxy)
//! case): one byte at a time, and an exhausted input reads as zeros.

/// Reads `data` from the start; past its end, every byte is zero.
pub(super) struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `data`.
    pub(super) fn new(data: &'a [u8]) -> Self {
        Reader { data, at: 0 }
    }

    /// The next byte (zero past the end).
    pub(super) fn byte(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    /// The next `N` bytes, for a little-endian number.
    pub(super) fn le<const N: usize>(&mut self) -> [u8; N] {
        std::array::from_fn(|_| self.byte())
    }

    /// A count below `max`, from one byte.
    pub(super) fn count(&mut self, max: usize) -> usize {
        usize::from(self.byte()) % max
    }
}
