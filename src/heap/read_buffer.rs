//! A read buffer: every read as large as a fresh `Vec` would allow it, in an
//! allocation reused from run to run.
//!
//! How much one read may take is the buffer's spare capacity, and that decides
//! how the bytes on the in-memory wire are split between reads (the trace
//! records each read). The scripted peers and the harness's applications used
//! to allocate their buffers on every run (16 KiB to find the answer's head,
//! 16 KiB more to read to EOF, 8 KiB for the application's reads): large
//! blocks, which took glibc's slow path and a consolidation of its fast bins
//! each time, about 2,000 instructions a case (BENCHMARKS.md, issue 26, seventh
//! pass). [`ReadBuffer`] keeps the capacity a `Vec` would have had as a number,
//! lets a read take at most up to it, and takes its allocation from the spares
//! kept on the thread, where it goes back when dropped: the runs stay the same,
//! read by read, and in a steady run these buffers allocate nothing.

use std::cell::RefCell;
use std::io;
use std::ops::Deref;

use bytes::BufMut;
use tokio::io::{AsyncRead, AsyncReadExt};

/// The largest allocation kept for the next buffer (a peer that searched far
/// for a head lets its buffer go).
const KEEP_AT_MOST: usize = 256 << 10;

/// How many allocations a thread keeps: as many buffers as one run has at
/// once (a peer's and an application's), and a few more.
const SPARES: usize = 4;

thread_local! {
    /// The allocations of the last buffers dropped on this thread.
    static SPARE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// Bytes read, and the capacity a `Vec` holding them would have.
#[derive(Debug)]
pub struct ReadBuffer {
    bytes: Vec<u8>,
    capacity: usize,
}

impl ReadBuffer {
    /// An empty buffer, as `Vec::new()`: no room yet.
    pub fn new() -> Self {
        let mut bytes = SPARE.with_borrow_mut(Vec::pop).unwrap_or_default();
        bytes.clear();
        ReadBuffer { bytes, capacity: 0 }
    }

    /// An empty buffer with room for `capacity` bytes, as `Vec::with_capacity`.
    pub fn with_capacity(capacity: usize) -> Self {
        let mut buffer = ReadBuffer::new();
        buffer.restart(capacity);
        buffer
    }

    /// Empties the buffer, with room for `capacity` bytes: as a fresh
    /// `Vec::with_capacity(capacity)`.
    pub fn restart(&mut self, capacity: usize) {
        self.bytes.clear();
        self.capacity = capacity;
        self.bytes.reserve(capacity);
    }

    /// Room for `additional` more bytes, grown as `Vec::reserve` grows: to the
    /// larger of what is needed and twice the capacity (at least 8).
    pub fn reserve(&mut self, additional: usize) {
        let len = self.bytes.len();
        if self.capacity - len >= additional {
            return;
        }
        self.capacity = (len + additional).max(2 * self.capacity).max(8);
        self.bytes.reserve(self.capacity - len);
    }

    /// Reads once, at most the room left (which the caller made: with none,
    /// this reads nothing and returns 0, as at EOF).
    pub async fn read_from<IO: AsyncRead + Unpin>(&mut self, io: &mut IO) -> io::Result<usize> {
        let room = self.capacity - self.bytes.len();
        debug_assert!(room > 0, "a read into a full buffer");
        // `read_buf` fills spare capacity (never zeroed), here no more than the room.
        io.read_buf(&mut (&mut self.bytes).limit(room)).await
    }
}

impl Default for ReadBuffer {
    fn default() -> Self {
        ReadBuffer::new()
    }
}

impl Deref for ReadBuffer {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for ReadBuffer {
    fn drop(&mut self) {
        let bytes = std::mem::take(&mut self.bytes);
        if bytes.capacity() == 0 || bytes.capacity() > KEEP_AT_MOST {
            return;
        }
        SPARE.with_borrow_mut(|spares| {
            if spares.len() < SPARES {
                spares.push(bytes);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The capacities are `Vec`'s: a buffer that reserves as a `Vec` does has
    /// the capacity the `Vec` gets, however large the reused allocation is.
    #[test]
    fn capacities_follow_vec_whatever_the_allocation() {
        drop(ReadBuffer::with_capacity(100_000));
        let mut buffer = ReadBuffer::new();
        assert!(buffer.bytes.capacity() >= 100_000, "the spare is reused");
        let mut vec: Vec<u8> = Vec::new();
        // Room made, then filled (never past the room, as a read fills it).
        for (additional, fill) in [(16_384, 16_384), (16_384, 100), (5, 5), (16_384, 16_000)] {
            buffer.reserve(additional);
            vec.reserve(additional);
            assert_eq!(buffer.capacity, vec.capacity(), "{additional} more");
            buffer.bytes.extend(std::iter::repeat_n(1, fill));
            vec.extend(std::iter::repeat_n(1, fill));
        }
        buffer.restart(16_384);
        assert_eq!((buffer.len(), buffer.capacity), (0, 16_384));
    }

    /// A read takes at most the room a `Vec` would have, not the allocation's.
    #[tokio::test]
    async fn a_read_takes_at_most_the_room_left() {
        drop(ReadBuffer::with_capacity(100_000));
        let mut buffer = ReadBuffer::with_capacity(10);
        let mut source: &[u8] = &[7; 50];
        assert_eq!(buffer.read_from(&mut source).await.unwrap(), 10);
        buffer.reserve(5);
        assert_eq!(buffer.capacity, 20);
        assert_eq!(buffer.read_from(&mut source).await.unwrap(), 10);
        assert_eq!(buffer.len(), 20);
    }
}
