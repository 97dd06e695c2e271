//! The request body, read at the application's pace.
//!
//! A server application decides how much of a request body it reads: a
//! WebSocket or `CONNECT` handler usually reads none, a Go handler may call
//! `Hijack()` halfway through. The library must still know where the request
//! message ends, because the new protocol starts there and not a byte earlier
//! (RFC 9112 §6.3, §7.1): body bytes left in the stream would be handed to the
//! new protocol as its first bytes (kubernetes/kubernetes#117722, nodejs/node#58394).
//!
//! A [`BodyReader`] is that knowledge: where the body stands under its framing.
//! Its contract:
//!
//! * [`BodyReader::read`] gives the next payload bytes (chunk framing removed),
//!   at most as many as asked, and an empty result only once the body has ended;
//!   it consumes exactly the bytes of the body from the connection, never one
//!   past its end.
//! * [`BodyReader::discard`] reads and drops the rest of the body, counting every
//!   byte it consumes (payload and framing); past the limit it stops and fails with
//!   [`Error::UnreadBodyTooLarge`], without reading more, so a client cannot make
//!   the server read an endless body it never wanted.

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};

use super::buffered::BufferedConn;
use super::error::{Error, Result};
use super::head::{self, Framing};
use super::shared::Shared;

/// Where a request body stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyReader {
    state: State,
    /// Bytes of the connection consumed so far, payload and framing.
    consumed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// This many payload bytes of a `Content-Length` body are left.
    Length(u64),
    /// Before a chunk-size line.
    ChunkSize,
    /// This many bytes of a chunk's data are left.
    ChunkData(u64),
    /// The CRLF after a chunk's data.
    ChunkEnd,
    /// The trailer section after the last chunk.
    Trailers,
    /// The body has ended (or there was none).
    Done,
}

impl BodyReader {
    /// A body that has ended (or never began): nothing to read.
    pub const DONE: BodyReader = BodyReader {
        state: State::Done,
        consumed: 0,
    };

    /// The body of a request with `framing`, before its first byte.
    pub fn new(framing: Framing) -> Self {
        let state = match framing {
            Framing::Empty | Framing::UntilClose | Framing::Length(0) => State::Done,
            Framing::Length(n) => State::Length(n),
            Framing::Chunked => State::ChunkSize,
        };
        BodyReader { state, consumed: 0 }
    }

    /// Whether the body has ended: the next byte on the connection is after it.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Reads the next payload bytes: at least one and at most `max` (taken as at
    /// least 1), or none once the body has ended.
    pub fn read<IO: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        conn: &mut BufferedConn<IO>,
        max: usize,
    ) -> impl Future<Output = Result<Bytes>> {
        Shared::new(async move {
            loop {
                match self.state {
                    State::Done => return Ok(Bytes::new()),
                    State::Length(left) | State::ChunkData(left) => {
                        if conn.read_ahead().is_empty() {
                            conn.fill_or_eof("inside a body").await?;
                        }
                        let available = conn.read_ahead().len();
                        let n = usize::try_from(left)
                            .unwrap_or(usize::MAX)
                            .min(max.max(1))
                            .min(available);
                        let data = conn.take_read_ahead(n);
                        self.consumed += n as u64;
                        let left = left - n as u64;
                        self.state = match (self.state, left) {
                            (State::Length(_), 0) => State::Done,
                            (State::Length(_), _) => State::Length(left),
                            (_, 0) => State::ChunkEnd,
                            _ => State::ChunkData(left),
                        };
                        return Ok(data);
                    }
                    State::ChunkSize | State::ChunkEnd | State::Trailers => {
                        self.step_framing(conn).await?
                    }
                }
            }
        })
    }

    /// Consumes the chunk framing the body is at: a size line, a chunk's CRLF, or
    /// the trailer section.
    async fn step_framing<IO: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        conn: &mut BufferedConn<IO>,
    ) -> Result<()> {
        loop {
            let buf = conn.read_ahead();
            let step = match self.state {
                State::ChunkSize => head::chunk_size_line(buf)?.map(|(size, len)| {
                    let next = if size == 0 {
                        State::Trailers
                    } else {
                        State::ChunkData(size)
                    };
                    (next, len)
                }),
                State::ChunkEnd if buf.len() < 2 => None,
                State::ChunkEnd if buf.starts_with(b"\r\n") => Some((State::ChunkSize, 2)),
                State::ChunkEnd => {
                    return Err(Error::Malformed {
                        what: "chunked body",
                        reason: "chunk data not followed by CRLF".into(),
                    });
                }
                State::Trailers => head::trailers_len(buf)?.map(|len| (State::Done, len)),
                State::Length(_) | State::ChunkData(_) | State::Done => return Ok(()),
            };
            match step {
                Some((next, len)) => {
                    conn.consume_read_ahead(len);
                    self.consumed += len as u64;
                    self.state = next;
                    return Ok(());
                }
                None => conn.fill_or_eof("inside a chunked body").await?,
            }
        }
    }

    /// Reads and drops the rest of the body, consuming at most `limit` more bytes
    /// of the connection (payload and framing); past that it fails with
    /// [`Error::UnreadBodyTooLarge`]. A `Content-Length` body whose rest is over
    /// the limit fails at once, without reading.
    pub fn discard<IO: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        conn: &mut BufferedConn<IO>,
        limit: usize,
    ) -> impl Future<Output = Result<()>> {
        Shared::new(async move {
            let too_large = Error::UnreadBodyTooLarge { limit };
            if let State::Length(left) = self.state
                && left > limit as u64
            {
                return Err(too_large);
            }
            let budget_end = self.consumed + limit as u64;
            while !self.is_done() {
                let left = budget_end.saturating_sub(self.consumed);
                if left == 0 {
                    return Err(too_large);
                }
                self.read(conn, usize::try_from(left).unwrap_or(usize::MAX))
                    .await?;
                if self.consumed > budget_end {
                    return Err(too_large);
                }
            }
            tracing::trace!(
                consumed = self.consumed,
                "the rest of the request body discarded"
            );
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use std::io::Cursor;

    fn over(wire: &[u8], config: Config) -> BufferedConn<Cursor<Vec<u8>>> {
        BufferedConn::new(Cursor::new(wire.to_vec()), config)
    }

    /// Reads a body of `framing` from `wire` with reads of at most `max`; returns
    /// the payload and what was left on the connection after it.
    async fn read_all(framing: Framing, wire: &[u8], max: usize) -> Result<(Vec<u8>, Vec<u8>)> {
        let config = Config {
            read_chunk: 3,
            ..Config::default()
        };
        let mut conn = over(wire, config);
        let mut body = BodyReader::new(framing);
        let mut out = Vec::new();
        loop {
            let data = body.read(&mut conn, max).await?;
            if data.is_empty() {
                break;
            }
            assert!(data.len() <= max.max(1));
            out.extend_from_slice(&data);
        }
        assert!(body.is_done());
        let mut rest = conn.read_ahead().to_vec();
        let (io, _, _) = conn.into_inner();
        let at = io.position() as usize;
        rest.extend_from_slice(&io.get_ref()[at..]);
        Ok((out, rest))
    }

    #[tokio::test]
    async fn a_length_body_ends_exactly_at_its_length() {
        for max in [1, 2, 5, 100] {
            let (body, rest) = read_all(Framing::Length(5), b"helloNEXT", max)
                .await
                .unwrap();
            assert_eq!(body, b"hello");
            assert_eq!(rest, b"NEXT");
        }
    }

    #[tokio::test]
    async fn a_chunked_body_is_decoded_and_ends_after_its_trailers() {
        let wire = b"3\r\nabc\r\n11\r\n0123456789abcdefg\r\n0\r\nX-T: 1\r\n\r\nNEXT";
        for max in [1, 4, 1000] {
            let (body, rest) = read_all(Framing::Chunked, wire, max).await.unwrap();
            assert_eq!(body, b"abc0123456789abcdefg");
            assert_eq!(rest, b"NEXT");
        }
        let (body, rest) = read_all(Framing::Chunked, b"0\r\n\r\nNEXT", 8)
            .await
            .unwrap();
        assert!(body.is_empty());
        assert_eq!(rest, b"NEXT");
    }

    #[tokio::test]
    async fn bad_framing_and_early_eof_are_errors() {
        let missing_crlf = read_all(Framing::Chunked, b"3\r\nabcX\r\n0\r\n\r\n", 10).await;
        assert!(matches!(missing_crlf, Err(Error::Malformed { .. })));
        let cut = read_all(Framing::Length(10), b"short", 10).await;
        assert!(matches!(cut, Err(Error::UnexpectedEof(_))));
    }

    #[tokio::test]
    async fn discard_drops_the_rest_and_stops_at_the_message_end() {
        let wire = b"5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\nNEXT";
        let mut conn = over(wire, Config::default());
        let mut body = BodyReader::new(Framing::Chunked);
        assert_eq!(&body.read(&mut conn, 2).await.unwrap()[..], b"he");
        body.discard(&mut conn, 100).await.unwrap();
        assert!(body.is_done());
        assert_eq!(conn.read_ahead(), b"NEXT");
    }

    #[tokio::test]
    async fn discard_refuses_past_its_limit() {
        let mut conn = over(b"0123456789", Config::default());
        let mut body = BodyReader::new(Framing::Length(10));
        let refused = body.discard(&mut conn, 9).await;
        assert!(matches!(
            refused,
            Err(Error::UnreadBodyTooLarge { limit: 9 })
        ));
        // Refused before reading a byte.
        assert!(conn.read_ahead().is_empty());

        let wire = b"4\r\nabcd\r\n4\r\nefgh\r\n0\r\n\r\n";
        let mut conn = over(wire, Config::default());
        let mut body = BodyReader::new(Framing::Chunked);
        let refused = body.discard(&mut conn, 12).await;
        assert!(matches!(
            refused,
            Err(Error::UnreadBodyTooLarge { limit: 12 })
        ));
        let mut conn = over(wire, Config::default());
        let mut body = BodyReader::new(Framing::Chunked);
        body.discard(&mut conn, wire.len()).await.unwrap();
    }
}
