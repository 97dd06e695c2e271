//! The server side of the hand-over, as Go's `http.Hijacker` offers it.
//!
//! A [`ServerConn`] reads one request at a time, lets the caller answer it, and
//! then either goes on to the next request (keep-alive) or hands the connection
//! over. It hands over by itself only when the answer switched protocols: `101` to
//! an upgrade request, or a `2xx` to `CONNECT`. Any other answer means the bytes
//! after the request are the next request (RFC 9110 §7.8: "the server ... will
//! switch ... immediately after the empty line that terminates the 101 response"),
//! so [`ServerConn::hijack`] refuses. [`ServerConn::hijack_explicit`] is Go's
//! `Hijack()`: the application takes the connection after any answer, as Docker's
//! older attach API does with `200 OK` and `application/vnd.docker.raw-stream`.

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite};

use super::body::BodyReader;
use super::buffered::{BufferedConn, Config};
use super::error::{Error, Result};
use super::head::{self, Header, RequestHead, ResponseHead};
use super::hijacked::Hijacked;
use super::shared::Shared;

/// A request, read whole: its head and its decoded body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The head.
    pub head: RequestHead,
    /// The body's payload (chunked bodies decoded).
    pub body: Bytes,
}

/// Where the request being answered stands with `Expect: 100-continue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Continue {
    /// Not asked for, and none sent.
    NotAsked,
    /// Asked for, and not sent yet: it goes out before the first body byte is
    /// read, or before a response that switches protocols.
    Due,
    /// Asked for, and left to the caller ([`ServerConn::defer_continue`]).
    Deferred,
    /// Sent.
    Sent,
}

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// The server end of an HTTP/1.1 connection.
#[derive(Debug)]
pub struct ServerConn<IO> {
    conn: BufferedConn<IO>,
    /// Whether the request being answered was a `CONNECT`.
    connect: bool,
    /// The status of the last final response written, if any.
    answered: Option<u16>,
    /// How long a close waits for the client's input to end; see [`ServerConn::set_linger`].
    linger: Option<std::time::Duration>,
    /// The body of the request being answered: how much of it is left.
    body: BodyReader,
    /// Its `100 Continue`.
    expect: Continue,
    /// The most unread body bytes dropped before a hand-over or the next request.
    max_discard: usize,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> ServerConn<IO> {
    /// Serves `io` with the given buffer sizes and limits.
    pub fn new(io: IO, config: Config) -> Self {
        ServerConn {
            conn: BufferedConn::new(io, config),
            connect: false,
            answered: None,
            linger: None,
            body: BodyReader::DONE,
            expect: Continue::NotAsked,
            max_discard: config.max_discard,
        }
    }

    /// How long [`ServerConn::close`] (and so [`ServerConn::reject`]) keeps
    /// reading and dropping the client's input after shutting down the write
    /// side, waiting for the client's FIN. `None` (the default, which needs no
    /// timer, as the lockstep in-memory wire requires) drops only what has
    /// already arrived. A server on a real network should set it: a client
    /// still sending when the socket closes gets a reset, which can destroy the
    /// answer before it reads it. `serve` uses 500 ms, Go's `rstAvoidanceDelay`.
    pub fn set_linger(&mut self, linger: Option<std::time::Duration>) {
        self.linger = linger;
    }

    /// Reads the next request, head and body. `None` when the client closed between requests.
    pub fn read_request(&mut self) -> impl Future<Output = Result<Option<Request>>> {
        Shared::new(async move {
            let Some(head) = self.read_request_head().await? else {
                return Ok(None);
            };
            // A body is part of the request message even when the request asks to
            // upgrade: the new protocol starts after it (kubernetes#117722 left an
            // empty chunked body's `0\r\n\r\n` in the stream).
            let body = self.read_request_body().await?;
            Ok(Some(Request { head, body }))
        })
    }

    /// Reads the next request head only; its body is then read with
    /// [`ServerConn::read_body_chunk`] or [`ServerConn::read_request_body`], as
    /// much of it as the application wants. What it leaves unread is discarded
    /// before the next request or the hand-over, never handed to anyone.
    pub fn read_request_head(&mut self) -> impl Future<Output = Result<Option<RequestHead>>> {
        Shared::new(async move {
            // The rest of the previous request's body, if its handler left some.
            self.body.discard(&mut self.conn, self.max_discard).await?;
            self.answered = None;
            let head = self
                .conn
                .read_head(
                    "before the end of the request head",
                    head::parse_served_request,
                )
                .await?;
            let Some(head) = head else {
                return Ok(None);
            };
            self.connect = head.is_connect();
            self.body = BodyReader::new(head.framing()?);
            self.expect = if head::has_token(&head.headers, "expect", "100-continue") {
                Continue::Due
            } else {
                Continue::NotAsked
            };
            Ok(Some(head))
        })
    }

    /// Reads the next bytes of the request body: at least one and at most `max`,
    /// or none once the body has ended.
    ///
    /// This is the application deciding to read the body, so an expected
    /// `100 Continue` goes out first (RFC 9110 §10.1.1: a server "MUST NOT wait
    /// for the content before sending the 100 (Continue) response"): a client that
    /// waits for it before sending the body would otherwise wait forever.
    pub fn read_body_chunk(&mut self, max: usize) -> impl Future<Output = Result<Bytes>> {
        Shared::new(async move {
            self.send_continue_if_due().await?;
            self.body.read(&mut self.conn, max).await
        })
    }

    /// Reads the rest of the request body.
    pub fn read_request_body(&mut self) -> impl Future<Output = Result<Bytes>> {
        Shared::new(async move {
            let mut body = BytesMut::new();
            loop {
                let chunk = self.read_body_chunk(64 * 1024).await?;
                if chunk.is_empty() {
                    return Ok(body.freeze());
                }
                body.extend_from_slice(&chunk);
            }
        })
    }

    /// Whether the request body has been read (or discarded) to its end.
    pub fn body_done(&self) -> bool {
        self.body.is_done()
    }

    /// Writes `100 Continue` to the buffer (RFC 9110 §10.1.1), unless one was
    /// already sent for this request: the connection sends an expected one by
    /// itself, so an application that also asks for it sends nothing twice.
    pub fn write_continue(&mut self) {
        if self.expect != Continue::Sent {
            self.conn.buffer_write(CONTINUE);
            self.expect = Continue::Sent;
        }
    }

    /// Leaves an expected `100 Continue` to the caller's
    /// [`ServerConn::write_continue`] instead of sending it before the first body
    /// read (for variants of the reference: the one that waits for the body first).
    pub fn defer_continue(&mut self) {
        if self.expect == Continue::Due {
            self.expect = Continue::Deferred;
        }
    }

    async fn send_continue_if_due(&mut self) -> Result<()> {
        if self.expect == Continue::Due {
            self.write_continue();
            self.conn.flush().await?;
        }
        Ok(())
    }

    /// Writes a final response head to the buffer, and `body` after it.
    ///
    /// A response that does not switch protocols gets a `Content-Length` for its
    /// body when it has none, so the connection stays usable for the next request.
    /// One that switches is preceded by an expected `100 Continue` not sent yet
    /// (RFC 9110 §7.8: the server "MUST send a 100 (Continue) response before
    /// sending a 101 (Switching Protocols) response").
    pub fn write_response(&mut self, head: &ResponseHead, body: &[u8]) {
        let switches = head.switches(self.connect);
        if switches && self.expect == Continue::Due {
            self.write_continue();
        }
        let length = (!switches && head::header_value(&head.headers, "content-length").is_none())
            .then_some(body.len());
        // The head is formatted in the write buffer, which grows once for it
        // and the body.
        let body = if switches { &[][..] } else { body };
        let out = self.conn.write_buffer();
        out.reserve(head.len_with_length(length) + body.len());
        head.put_with_length(out, length);
        out.extend_from_slice(body);
        self.answered = Some(head.status);
    }
    /// Appends raw bytes to the write buffer (the application's own, before the hand-over).
    pub fn write(&mut self, data: &[u8]) {
        self.conn.buffer_write(data);
    }

    /// Sends everything buffered.
    pub fn flush(&mut self) -> impl Future<Output = Result<()>> {
        Shared::new(async move { self.conn.flush().await })
    }

    /// Answers a request that could not be read with the matching status (`400`,
    /// `408`, `431`) and `Connection: close`, then closes gracefully (see
    /// [`ServerConn::close`]): a client that sent a broken or endless head
    /// learns why, and the server keeps nothing of it. Errors that are not the
    /// client's (i/o) get no answer.
    pub fn reject(&mut self, error: &Error) -> impl Future<Output = Result<()>> {
        Shared::new(async move {
            if let Some((status, reason)) = error.status() {
                let head = ResponseHead {
                    status,
                    reason: reason.into(),
                    headers: vec![
                        Header::new("Content-Length", "0"),
                        Header::new("Connection", "close"),
                    ],
                };
                self.conn.buffer_write(&head.to_bytes());
            }
            self.close().await
        })
    }

    /// Closes the connection gracefully, as Go's `closeWriteAndWait` does:
    /// sends what is buffered, shuts the write side down (FIN), then reads and
    /// drops the client's input until its FIN or the linger passes, so that the
    /// final close does not reset a connection whose last answer the client
    /// has not read yet.
    pub fn close(&mut self) -> impl Future<Output = Result<()>> {
        Shared::new(async move {
            self.conn.flush().await?;
            use tokio::io::AsyncWriteExt;
            self.conn.get_mut().shutdown().await?;
            self.conn.discard_input(self.linger).await;
            Ok(())
        })
    }

    /// Hands the connection over after a response that switched protocols.
    ///
    /// The request message ends first: whatever the application left unread of
    /// the body is read and dropped (up to [`Config::max_discard`] bytes; past it
    /// the hand-over is refused with [`Error::UnreadBodyTooLarge`]), because the
    /// new protocol starts after the body and body bytes must never reach it.
    /// The stream carries the read-ahead and any unflushed writes; see [`Hijacked`].
    pub fn hijack(mut self) -> impl Future<Output = Result<Hijacked<IO>>> {
        Shared::new(async move {
            head::check_switched(self.answered, self.connect)?;
            self.end_request().await?;
            Ok(self.conn.into_hijacked())
        })
    }

    /// Hands the connection over whatever the answer was, or before any answer
    /// (Go's `Hijacker.Hijack`): the application writes the response itself.
    /// The unread body is dropped first, as by [`ServerConn::hijack`].
    pub fn hijack_explicit(mut self) -> impl Future<Output = Result<Hijacked<IO>>> {
        Shared::new(async move {
            self.end_request().await?;
            Ok(self.conn.into_hijacked())
        })
    }

    /// Reads the request message to its end before the connection changes hands.
    /// Before any answer, an expected `100 Continue` goes out first: the client may
    /// be waiting for it to send the body, and the application is about to write
    /// an answer (a `101`, RFC 9110 §7.8) that must come after it.
    async fn end_request(&mut self) -> Result<()> {
        if self.answered.is_none() {
            self.send_continue_if_due().await?;
        }
        self.body.discard(&mut self.conn, self.max_discard).await
    }

    /// The buffered connection, for variants of the reference.
    pub fn into_buffered(self) -> BufferedConn<IO> {
        self.conn
    }

    /// The buffered connection, borrowed.
    pub fn buffered(&mut self) -> &mut BufferedConn<IO> {
        &mut self.conn
    }
}

/// The request message ends before the hand-over: what the application left of
/// the body, and the `100 Continue` a waiting client needs to send it.
#[cfg(test)]
mod body_tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};

    const UPGRADE_WITH_BODY: &[u8] =
        b"POST / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: echo\r\nContent-Length: 10\r\n\r\n";

    fn switching() -> ResponseHead {
        ResponseHead::switching_protocols("echo")
    }

    #[tokio::test]
    async fn an_unread_body_is_discarded_before_the_hand_over() {
        let (mut client, server) = duplex(1 << 16);
        let mut input = UPGRADE_WITH_BODY.to_vec();
        input.extend_from_slice(b"0123456789NEW");
        client.write_all(&input).await.unwrap();
        client.shutdown().await.unwrap();
        let mut conn = ServerConn::new(server, Config::default());
        conn.read_request_head().await.unwrap().unwrap();
        assert_eq!(&conn.read_body_chunk(3).await.unwrap()[..], b"012");
        conn.write_response(&switching(), b"");
        conn.flush().await.unwrap();
        let mut stream = conn.hijack().await.unwrap();
        let mut after = Vec::new();
        stream.read_to_end(&mut after).await.unwrap();
        assert_eq!(after, b"NEW");
    }

    #[tokio::test]
    async fn a_body_past_the_discard_limit_refuses_the_hand_over() {
        let (mut client, server) = duplex(1 << 16);
        client.write_all(UPGRADE_WITH_BODY).await.unwrap();
        let config = Config {
            max_discard: 9,
            ..Config::default()
        };
        let mut conn = ServerConn::new(server, config);
        conn.read_request_head().await.unwrap().unwrap();
        conn.write_response(&switching(), b"");
        let refused = conn.hijack().await.map(|_| ()).unwrap_err();
        assert!(
            matches!(refused, Error::UnreadBodyTooLarge { limit: 9 }),
            "{refused}"
        );
        assert!(refused.to_string().contains("not handed over"), "{refused}");
    }

    #[tokio::test]
    async fn continue_goes_out_before_the_first_body_read() {
        let (mut client, server) = duplex(1 << 16);
        let mut head = UPGRADE_WITH_BODY.to_vec();
        head.truncate(head.len() - 2);
        head.extend_from_slice(b"Expect: 100-continue\r\n\r\n");
        client.write_all(&head).await.unwrap();
        let mut conn = ServerConn::new(server, Config::default());
        conn.read_request_head().await.unwrap().unwrap();
        // The client sends its body only once it has the 100.
        let waiting_client = async {
            let mut interim = [0u8; 25];
            client.read_exact(&mut interim).await.unwrap();
            assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
            client.write_all(b"0123456789").await.unwrap();
        };
        let (body, ()) = tokio::join!(conn.read_request_body(), waiting_client);
        assert_eq!(&body.unwrap()[..], b"0123456789");
        // Asked for again, the 100 is not sent twice.
        conn.write_continue();
        assert!(conn.buffered().unflushed().is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};

    /// Sends `input`, reads a request, rejects it; returns what the client got.
    async fn answer_to(input: Vec<u8>, config: Config) -> (Error, String) {
        let (mut client, server) = duplex(1 << 20);
        client.write_all(&input).await.unwrap();
        let mut conn = ServerConn::new(server, config);
        let error = conn.read_request().await.expect_err("the request is bad");
        conn.reject(&error).await.unwrap();
        drop(conn);
        let mut answer = String::new();
        client.read_to_string(&mut answer).await.unwrap();
        (error, answer)
    }

    #[tokio::test]
    async fn an_oversize_head_gets_431_and_bounded_memory() {
        let mut input = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
        input.extend(std::iter::repeat_n(b'a', 100_000));
        let config = Config {
            max_head: 8 * 1024,
            read_chunk: 1024,
            ..Config::default()
        };
        let (error, answer) = answer_to(input, config).await;
        assert!(
            matches!(error, Error::HeadTooLarge { limit: 8192 }),
            "{error}"
        );
        assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
    }

    #[tokio::test]
    async fn too_many_headers_get_431() {
        let mut input = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..150 {
            input.extend(format!("X-{i}: v\r\n").bytes());
        }
        input.extend(b"\r\n");
        let (error, answer) = answer_to(input, Config::default()).await;
        assert!(matches!(error, Error::TooManyHeaders { .. }), "{error}");
        assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
    }

    #[tokio::test]
    async fn a_bad_chunk_size_gets_400() {
        let input = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec();
        let (error, answer) = answer_to(input, Config::default()).await;
        assert!(matches!(error, Error::Malformed { .. }), "{error}");
        assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    }

    #[tokio::test]
    async fn a_malformed_head_gets_400() {
        let (error, answer) = answer_to(
            b"GET / HTTP/1.1\r\nBad Header\r\n\r\n".to_vec(),
            Config::default(),
        )
        .await;
        assert!(matches!(error, Error::Malformed { .. }), "{error}");
        assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    }

    /// The graceful close: after the answer and its FIN, input the client
    /// keeps sending is read and dropped until the client's own FIN, so the
    /// connection is not closed with unread bytes (which TCP turns into a reset).
    #[tokio::test(start_paused = true)]
    async fn reject_drains_input_until_the_client_closes() {
        let (mut client, server) = duplex(64);
        let mut conn = ServerConn::new(server, Config::default());
        conn.set_linger(Some(Duration::from_secs(5)));
        let rejecting = tokio::spawn(async move {
            client.write_all(b"\0\0\0\r\n\r\n").await.unwrap();
            let mut answer = [0u8; 12];
            client.read_exact(&mut answer).await.unwrap();
            // The client goes on sending: 4 KiB through a 64-byte pipe, which
            // only completes if the server keeps reading after its answer.
            client.write_all(&[b'x'; 4096]).await.unwrap();
            client.shutdown().await.unwrap();
            answer
        });
        let error = conn.read_request().await.expect_err("a head of NUL bytes");
        let started = tokio::time::Instant::now();
        conn.reject(&error).await.unwrap();
        // Closing now breaks the client's pipe unless it has sent everything.
        drop(conn);
        assert_eq!(&rejecting.await.unwrap(), b"HTTP/1.1 400");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the drain ends at the client's FIN, not at the linger"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_drain_is_bounded_by_the_linger() {
        let (mut client, server) = duplex(1024);
        let mut conn = ServerConn::new(server, Config::default());
        conn.set_linger(Some(Duration::from_millis(500)));
        client
            .write_all(b"GET / HTTP/1.1\r\nBad Header\r\n\r\n")
            .await
            .unwrap();
        let error = conn.read_request().await.expect_err("malformed");
        let started = tokio::time::Instant::now();
        // The client never closes: the server gives up after the linger.
        conn.reject(&error).await.unwrap();
        assert_eq!(started.elapsed(), Duration::from_millis(500));
        drop(client);
    }

    #[tokio::test(start_paused = true)]
    async fn a_head_that_never_ends_gets_408() {
        let config = Config {
            head_timeout: Some(Duration::from_secs(10)),
            ..Config::default()
        };
        let (error, answer) = answer_to(b"GET / HTTP/1.1\r\nHost: slow".to_vec(), config).await;
        assert!(matches!(error, Error::HeadTimeout(_)), "{error}");
        assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    }
}
