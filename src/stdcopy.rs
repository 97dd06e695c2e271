//! Docker's multiplexed stream (`stdcopy`): how a container's stdout and stderr
//! share one hijacked connection when the container has no TTY.
//!
//! The Docker Engine API (`POST /containers/{id}/attach`, "Stream format"):
//! "When the TTY setting is disabled in `POST /containers/create`, the HTTP
//! Content-Type header is set to `application/vnd.docker.multiplexed-stream` and
//! the stream over the hijacked connected is multiplexed to separate out
//! `stdout` and `stderr`. The stream consists of a series of frames, each
//! containing a header and a payload. The header contains the information which
//! the stream writes (`stdout` or `stderr`). It also contains the size of the
//! associated frame encoded in the last four bytes (`uint32`). It is encoded on
//! the first eight bytes like this: `header := [8]byte{STREAM_TYPE, 0, 0, 0,
//! SIZE1, SIZE2, SIZE3, SIZE4}`." With a TTY the stream is raw: no header at all.
//!
//! [`frame`] writes one frame; [`Demux`] reads frames back incrementally, from
//! reads that may split a header or a payload at any byte, as a client must.

use std::fmt;

/// The size of a frame header.
pub const HEADER_LEN: usize = 8;

/// Which of the container's streams a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// 0: written on the container's stdin (echoed back by some daemons).
    Stdin,
    /// 1: the container's stdout.
    Stdout,
    /// 2: the container's stderr.
    Stderr,
}

impl Stream {
    /// The header's first byte.
    pub fn byte(self) -> u8 {
        match self {
            Stream::Stdin => 0,
            Stream::Stdout => 1,
            Stream::Stderr => 2,
        }
    }

    /// The stream a header's first byte names, if any.
    pub fn from_byte(byte: u8) -> Option<Stream> {
        match byte {
            0 => Some(Stream::Stdin),
            1 => Some(Stream::Stdout),
            2 => Some(Stream::Stderr),
            _ => None,
        }
    }

    /// `stdin`, `stdout` or `stderr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdin => "stdin",
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One frame: the 8-byte header for `payload` on `stream`, then the payload.
pub fn frame(stream: Stream, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&header(stream, payload.len()));
    out.extend_from_slice(payload);
    out
}

/// The header of a frame of `len` payload bytes on `stream`.
///
/// A payload longer than `u32::MAX` cannot be framed; callers split payloads far
/// below that (the daemon frames each read of the container's pipe).
pub fn header(stream: Stream, len: usize) -> [u8; HEADER_LEN] {
    let size = u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes();
    [stream.byte(), 0, 0, 0, size[0], size[1], size[2], size[3]]
}

/// A stream that is not valid `stdcopy`: a header names no stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("byte {offset} starts a frame header whose stream byte is {byte} (not 0, 1 or 2)")]
pub struct BadHeader {
    /// Where the header starts in the multiplexed stream.
    pub offset: usize,
    /// Its first byte.
    pub byte: u8,
}

/// Reads frames from a multiplexed stream fed in pieces of any size.
#[derive(Debug, Default)]
pub struct Demux {
    header: Vec<u8>,
    current: Option<(Stream, usize)>,
    offset: usize,
}

impl Demux {
    /// A demultiplexer at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds `bytes`, calling `out` with each payload piece and its stream, in order.
    pub fn feed(
        &mut self,
        mut bytes: &[u8],
        mut out: impl FnMut(Stream, &[u8]),
    ) -> Result<(), BadHeader> {
        while !bytes.is_empty() {
            match self.current {
                Some((stream, left)) => {
                    let n = left.min(bytes.len());
                    out(stream, &bytes[..n]);
                    bytes = &bytes[n..];
                    self.offset += n;
                    self.current = (left > n).then_some((stream, left - n));
                }
                None => {
                    let n = (HEADER_LEN - self.header.len()).min(bytes.len());
                    self.header.extend_from_slice(&bytes[..n]);
                    bytes = &bytes[n..];
                    self.offset += n;
                    if self.header.len() == HEADER_LEN {
                        let stream = Stream::from_byte(self.header[0]).ok_or(BadHeader {
                            offset: self.offset - HEADER_LEN,
                            byte: self.header[0],
                        })?;
                        let size = u32::from_be_bytes([
                            self.header[4],
                            self.header[5],
                            self.header[6],
                            self.header[7],
                        ]) as usize;
                        self.header.clear();
                        self.current = (size > 0).then_some((stream, size));
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether the stream ended on a frame boundary.
    pub fn at_boundary(&self) -> bool {
        self.header.is_empty() && self.current.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demux_in_pieces(wire: &[u8], piece: usize) -> Vec<(Stream, Vec<u8>)> {
        let mut demux = Demux::new();
        let mut out: Vec<(Stream, Vec<u8>)> = Vec::new();
        for chunk in wire.chunks(piece) {
            demux
                .feed(chunk, |stream, bytes| match out.last_mut() {
                    Some((s, v)) if *s == stream => v.extend_from_slice(bytes),
                    _ => out.push((stream, bytes.to_vec())),
                })
                .expect("valid");
        }
        assert!(demux.at_boundary());
        out
    }

    #[test]
    fn a_frame_is_header_then_payload() {
        assert_eq!(
            frame(Stream::Stderr, b"ab"),
            b"\x02\x00\x00\x00\x00\x00\x00\x02ab"
        );
        assert_eq!(header(Stream::Stdout, 70_000)[4..], 70_000u32.to_be_bytes());
    }

    #[test]
    fn frames_split_at_every_byte_come_back_whole() {
        let mut wire = frame(Stream::Stdout, b"hello");
        wire.extend(frame(Stream::Stderr, b"oops"));
        wire.extend(frame(Stream::Stdout, b""));
        wire.extend(frame(Stream::Stdout, b"!"));
        let want = vec![
            (Stream::Stdout, b"hello".to_vec()),
            (Stream::Stderr, b"oops".to_vec()),
            (Stream::Stdout, b"!".to_vec()),
        ];
        for piece in 1..wire.len() {
            assert_eq!(demux_in_pieces(&wire, piece), want, "pieces of {piece}");
        }
    }

    #[test]
    fn a_bad_stream_byte_is_an_error_with_its_offset() {
        let mut wire = frame(Stream::Stdout, b"x");
        wire.extend_from_slice(b"{\"message\":\"No such container\"}");
        let err = Demux::new().feed(&wire, |_, _| {}).expect_err("bad header");
        assert_eq!(
            err,
            BadHeader {
                offset: 9,
                byte: b'{'
            }
        );
    }
}
