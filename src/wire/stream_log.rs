//! The bytes of one direction of the in-memory wire, kept in one buffer.
//!
//! The wire's pipe owns this log: a write appends to it, a read copies out of
//! it, under the pipe's one lock (before, the bytes sat in the recorder, and
//! each of a WebSocket case's ~270 reads took the wire's lock and then the
//! recorder's: BENCHMARKS.md, issue 26, seventh pass). When the trace is
//! taken, the log is frozen and lent to it ([`StreamLog::freeze`]): the
//! segments become slices of this one buffer, not copies.

use std::ops::Range;

use bytes::{Bytes, BytesMut};

/// The bytes of one direction, from its first: `taken` (frozen when the trace
/// was taken, and still read by a teardown), then `open`.
#[derive(Debug, Default)]
pub(crate) struct StreamLog {
    taken: Bytes,
    open: BytesMut,
}

impl StreamLog {
    /// Appends `data`, first making room for at least `room` bytes when it
    /// does not fit; returns whether the buffer had to grow (a copy of the
    /// open bytes so far).
    pub(crate) fn write(&mut self, data: &[u8], room: usize) -> bool {
        let grows = self.open.capacity() - self.open.len() < data.len();
        if grows {
            self.open.reserve(room.max(data.len()));
        }
        self.open.extend_from_slice(data);
        grows
    }

    /// Makes room for `bytes` more bytes, so that writes up to that many do
    /// not regrow (and copy) the buffer.
    pub(crate) fn reserve(&mut self, bytes: usize) {
        self.open.reserve(bytes);
    }

    /// Every byte so far, as one buffer: without a copy the first time (the
    /// open bytes are frozen into `taken`), with one only if bytes came after that.
    pub(crate) fn freeze(&mut self) -> Bytes {
        if !self.open.is_empty() {
            self.taken = if self.taken.is_empty() {
                self.open.split().freeze()
            } else {
                [&self.taken[..], &self.open.split()[..]].concat().into()
            };
        }
        self.taken.clone()
    }

    /// Every byte so far, copied.
    pub(crate) fn copy(&self) -> Bytes {
        [&self.taken[..], &self.open[..]].concat().into()
    }

    /// The bytes of `range` (stream offsets) that are in one buffer: all of
    /// them, or those before the point where the log was frozen; none past
    /// what was written.
    pub(crate) fn bytes(&self, range: Range<usize>) -> &[u8] {
        let frozen = self.taken.len();
        if range.start < frozen {
            self.taken
                .get(range.start..range.end.min(frozen))
                .unwrap_or_default()
        } else {
            self.open
                .get(range.start - frozen..range.end - frozen)
                .unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frozen_log_is_lent_and_a_teardown_reads_past_it() {
        let mut log = StreamLog::default();
        log.reserve(8);
        assert!(!log.write(b"abc", 0));
        assert!(!log.write(b"def", 0));
        let whole = log.freeze();
        assert_eq!(whole, &b"abcdef"[..]);
        // The buffer itself, not a copy of it.
        assert_eq!(whole.as_ptr(), log.bytes(0..6).as_ptr());
        // The wire goes on after the trace is taken (a teardown): new bytes
        // are readable, the frozen ones too.
        log.write(b"gh", 0);
        assert_eq!(log.bytes(6..8), b"gh");
        assert_eq!(log.bytes(1..3), b"bc");
        assert_eq!(
            log.bytes(4..8),
            b"ef",
            "a read does not straddle the freeze"
        );
        assert_eq!(log.bytes(8..12), b"", "nothing past what was written");
        assert_eq!(log.copy(), &b"abcdefgh"[..]);
        assert_eq!(log.freeze(), &b"abcdefgh"[..]);
    }

    #[test]
    fn a_write_that_does_not_fit_grows_the_buffer_by_its_room() {
        let mut log = StreamLog::default();
        assert!(log.write(b"ab", 100));
        assert!(
            !log.write(&[0; 98], 100),
            "the room was made the first time"
        );
        assert!(log.write(b"c", 0));
    }
}
