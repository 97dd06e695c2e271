//! The buffered connection an HTTP/1.1 library keeps before the hand-over.
//!
//! Reading a head a byte at a time would be correct and slow, so every library
//! reads in chunks into a buffer, and that is where the hijack bug starts: the
//! chunk that ends the head usually carries the first bytes of the new protocol.
//! This type makes the buffer explicit. `read_chunk` bounds how much one read
//! asks the transport for (Go's `bufio.Reader` size, hyper's read buffer), from
//! one byte up; the buffer itself grows past it only while a head is incomplete,
//! and only up to the head limit.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::error::{Error, Result};
use super::head;
use super::hijacked::Hijacked;
use super::shared::Shared;

/// Finds a complete head at the start of a buffer: the head and its length.
pub type HeadParser<H> = fn(&[u8]) -> Result<Option<(H, usize)>>;

/// Limits and sizes of a buffered connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The most one read asks the transport for (at least 1).
    pub read_chunk: usize,
    /// The longest head accepted, in bytes.
    pub max_head: usize,
    /// How long a head may take to arrive, once asked for; `None` waits forever.
    /// Needs a tokio runtime with its timer when set.
    pub head_timeout: Option<std::time::Duration>,
    /// The most request-body bytes (framing included) a server reads and drops
    /// before a hand-over or the next request, when its application left them
    /// unread. Past it the hand-over is refused ([`Error::UnreadBodyTooLarge`]).
    pub max_discard: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            read_chunk: 8 * 1024,
            max_head: 64 * 1024,
            head_timeout: None,
            max_discard: 64 * 1024,
        }
    }
}

/// Whether `buf` has a blank line (`\n\n` or `\n\r\n`, which ends a head) that
/// ends after offset `scanned`: only the bytes new since the last look, and the
/// three before them, can complete one.
///
/// The search stops at the first blank line: a head usually arrives together
/// with the bytes after it (a body, or the new protocol's first 64 KB), and
/// scanning those is work a byte-at-a-time loop would repeat on every read.
fn has_blank_line(buf: &[u8], scanned: usize) -> bool {
    let from = scanned.saturating_sub(3);
    memchr::memchr_iter(b'\n', &buf[from..]).any(|at| {
        let rest = &buf[from + at + 1..];
        rest.first() == Some(&b'\n') || rest.starts_with(b"\r\n")
    })
}

/// A transport with a read buffer and a write buffer.
#[derive(Debug)]
pub struct BufferedConn<IO> {
    io: IO,
    read_buf: BytesMut,
    write_buf: BytesMut,
    config: Config,
}

impl<IO> BufferedConn<IO> {
    /// Wraps `io`.
    pub fn new(io: IO, config: Config) -> Self {
        let config = Config {
            read_chunk: config.read_chunk.max(1),
            ..config
        };
        BufferedConn {
            io,
            read_buf: BytesMut::new(),
            write_buf: BytesMut::new(),
            config,
        }
    }

    /// Appends `data` to the write buffer; nothing reaches the transport until a flush.
    pub fn buffer_write(&mut self, data: &[u8]) {
        self.write_buf.put_slice(data);
    }

    /// The write buffer, to write into in place (a head formatted straight
    /// into it rather than into a buffer of its own and copied).
    pub fn write_buffer(&mut self) -> &mut BytesMut {
        &mut self.write_buf
    }

    /// The bytes read but not yet consumed.
    pub fn read_ahead(&self) -> &[u8] {
        &self.read_buf
    }

    /// Takes the first `n` bytes of the read-ahead (at most all of it), without copying.
    pub fn take_read_ahead(&mut self, n: usize) -> Bytes {
        let n = n.min(self.read_buf.len());
        self.read_buf.split_to(n).freeze()
    }

    /// Drops the first `n` bytes of the read-ahead (at most all of it).
    pub fn consume_read_ahead(&mut self, n: usize) {
        let n = n.min(self.read_buf.len());
        self.read_buf.advance(n);
    }

    /// The bytes written but not yet flushed.
    pub fn unflushed(&self) -> &[u8] {
        &self.write_buf
    }

    /// Hands the transport over with both buffers, without copying them.
    ///
    /// `freeze` keeps the bytes where they are; the only allocation it can make is
    /// `bytes`' small shared header for a buffer that is not full, and an empty
    /// buffer is not frozen at all.
    pub fn into_hijacked(self) -> Hijacked<IO> {
        let freeze = |buf: BytesMut| {
            if buf.is_empty() {
                Bytes::new()
            } else {
                buf.freeze()
            }
        };
        Hijacked::new(self.io, freeze(self.read_buf), freeze(self.write_buf))
    }

    /// [`BufferedConn::into_hijacked`], only if `answer` (the final status, if a
    /// response was written or read) switched protocols for this request.
    pub fn hijack_after(self, answer: Option<u16>, connect: bool) -> Result<Hijacked<IO>> {
        head::check_switched(answer, connect)?;
        Ok(self.into_hijacked())
    }

    /// The transport and both buffers, for variants that mishandle them on purpose.
    pub fn into_inner(self) -> (IO, BytesMut, BytesMut) {
        (self.io, self.read_buf, self.write_buf)
    }

    /// The transport.
    pub fn get_mut(&mut self) -> &mut IO {
        &mut self.io
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> BufferedConn<IO> {
    /// Reads once from the transport, at most `read_chunk` bytes; returns how many (0 at EOF).
    pub fn fill(&mut self) -> impl Future<Output = Result<usize>> {
        Shared::new(async move {
            let chunk = self.config.read_chunk;
            self.make_room(chunk);
            let n = self
                .io
                .read_buf(&mut (&mut self.read_buf).limit(chunk))
                .await?;
            Ok(n)
        })
    }

    /// Makes room for `chunk` more bytes in the read buffer.
    ///
    /// Not `BytesMut::reserve`: when the allocation must grow, it grows it with
    /// `realloc`, which copies the whole old allocation, so a 70 kB read
    /// chunk's buffer holding a 200-byte head was copied in full to make room
    /// for the next read. Room at the front is taken back first (a move of the
    /// unread bytes, no allocation); otherwise a new buffer gets only the
    /// unread bytes, and at least doubles them so that a head read a byte at a
    /// time is still copied O(n) times in all, not O(n²).
    fn make_room(&mut self, chunk: usize) {
        if self.read_buf.try_reclaim(chunk) {
            return;
        }
        let unread = self.read_buf.len();
        let mut fresh = BytesMut::with_capacity((unread + chunk).max(2 * unread));
        fresh.extend_from_slice(&self.read_buf);
        self.read_buf = fresh;
    }

    /// Reads until `parse` finds a complete head at the start of the buffer, and consumes it.
    ///
    /// Returns `None` when the peer closes before sending a single byte (a clean end
    /// between messages).
    pub fn read_head<H>(
        &mut self,
        what: &'static str,
        parse: HeadParser<H>,
    ) -> impl Future<Output = Result<Option<H>>> {
        Shared::new(async move {
            match self.config.head_timeout {
                None => self.read_head_untimed(what, parse).await,
                Some(limit) => tokio::time::timeout(limit, self.read_head_untimed(what, parse))
                    .await
                    .map_err(|_| Error::HeadTimeout(limit))?,
            }
        })
    }

    async fn read_head_untimed<H>(
        &mut self,
        what: &'static str,
        parse: HeadParser<H>,
    ) -> Result<Option<H>> {
        // Parsing is only worth trying once the buffer holds a blank line: a head
        // arriving a byte at a time would otherwise be parsed once per byte.
        let mut scanned = 0;
        loop {
            if has_blank_line(&self.read_buf, scanned)
                && let Some((head, len)) = parse(&self.read_buf)?
            {
                self.read_buf.advance(len);
                return Ok(Some(head));
            }
            scanned = self.read_buf.len();
            if self.read_buf.len() >= self.config.max_head {
                return Err(Error::HeadTooLarge {
                    limit: self.config.max_head,
                });
            }
            if self.fill().await? == 0 {
                if self.read_buf.is_empty() {
                    return Ok(None);
                }
                // Let the parser say what is wrong with a truncated head, if anything.
                parse(&self.read_buf)?;
                return Err(Error::UnexpectedEof(what));
            }
        }
    }

    /// Reads once more, or fails with [`Error::UnexpectedEof`] (`what` says where).
    pub fn fill_or_eof(&mut self, what: &'static str) -> impl Future<Output = Result<()>> {
        Shared::new(async move {
            if self.fill().await? == 0 {
                return Err(Error::UnexpectedEof(what));
            }
            Ok(())
        })
    }

    /// Reads and drops the peer's input so that closing the socket afterwards
    /// does not turn unread bytes into a reset (RFC 9112 §9.6: a server "continues
    /// to read from the connection until it receives a corresponding close by
    /// the client"). With `linger`, until the peer's EOF or for at most that
    /// long (needs a tokio timer); without, only what has already arrived, at
    /// most 256 KiB, never waiting.
    pub fn discard_input(
        &mut self,
        linger: Option<std::time::Duration>,
    ) -> impl Future<Output = ()> {
        Shared::new(async move {
            // The read buffer is the scratch space, cleared before each read
            // (a 4 KiB array here made every future that holds this one,
            // such as a subject's boxed one, 4 KiB larger for the whole run).
            const SCRATCH: usize = 4096;
            self.read_buf.clear();
            self.read_buf.reserve(SCRATCH);
            match linger {
                Some(limit) => {
                    let deadline = tokio::time::Instant::now() + limit;
                    loop {
                        self.read_buf.clear();
                        let mut limited = (&mut self.read_buf).limit(SCRATCH);
                        let read = self.io.read_buf(&mut limited);
                        if !matches!(tokio::time::timeout_at(deadline, read).await, Ok(Ok(1..))) {
                            break;
                        }
                    }
                }
                None => {
                    for _ in 0..64 {
                        self.read_buf.clear();
                        let got = std::future::poll_fn(|cx| {
                            let mut limited = (&mut self.read_buf).limit(SCRATCH);
                            let read = self.io.read_buf(&mut limited);
                            match std::pin::pin!(read).poll(cx) {
                                std::task::Poll::Ready(Ok(n)) => std::task::Poll::Ready(n > 0),
                                _ => std::task::Poll::Ready(false),
                            }
                        })
                        .await;
                        if !got {
                            break;
                        }
                    }
                }
            }
            self.read_buf.clear();
        })
    }

    /// Writes the write buffer to the transport and flushes it.
    pub fn flush(&mut self) -> impl Future<Output = Result<()>> {
        Shared::new(async move {
            self.io.write_all(&self.write_buf).await?;
            self.write_buf.clear();
            self.io.flush().await?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::has_blank_line;
    use super::{BufferedConn, Config};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Discarding input keeps no scratch array in its future (the caller's
    /// future holds it for a whole connection), and still drops what has
    /// arrived, up to the peer's close, leaving nothing in the read buffer.
    #[tokio::test]
    async fn discarding_input_is_a_small_future_and_drops_what_arrived() {
        for linger in [None, Some(std::time::Duration::from_secs(5))] {
            let (mut client, server) = tokio::io::duplex(1 << 16);
            let mut conn = BufferedConn::new(server, Config::default());
            let size = std::mem::size_of_val(&conn.discard_input(linger));
            assert!(size < 512, "a future of {size} bytes");
            client.write_all(&[b'x'; 10_000]).await.unwrap();
            client.shutdown().await.unwrap();
            conn.discard_input(linger).await;
            assert!(conn.read_ahead().is_empty(), "{linger:?}");
            let (mut server, _, _) = conn.into_inner();
            let mut rest = Vec::new();
            server.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty(), "{} bytes left, {linger:?}", rest.len());
        }
    }

    #[test]
    fn blank_line_is_found_where_it_ends() {
        assert!(has_blank_line(b"GET / HTTP/1.1\r\n\r\n", 0));
        assert!(has_blank_line(b"GET / HTTP/1.1\n\n", 0));
        assert!(!has_blank_line(b"GET / HTTP/1.1\r\nHost: a\r\n", 0));
        // Completed by the newest byte: the three before the scan point count.
        assert!(has_blank_line(b"GET / HTTP/1.1\r\n\r\n", 17));
        assert!(has_blank_line(b"GET / HTTP/1.1\n\n", 15));
        // The bytes after the head (read-ahead) do not hide it, and do not fake one.
        let mut with_early = b"GET / HTTP/1.1\r\n\r\n".to_vec();
        with_early.extend_from_slice(&[b'x'; 70_000]);
        assert!(has_blank_line(&with_early, 0));
        assert!(!has_blank_line(b"GET / HTTP/1.1\r\nX: \r\r\n", 0));
    }
}
