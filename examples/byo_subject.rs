//! Bring your own subject: plug a third-party HTTP/1.1 server into the harness's
//! public trait and run the properties against it.
//!
//! The server below is what a hand-rolled upgrade endpoint typically looks like:
//! read into a buffer until the end of the head, parse it with `httparse`, answer
//! `101`, and give the socket to the application. It has the classic bug: bytes the
//! client sent right after the request (in the same segment) sit in the buffer and
//! the application never sees them. Run it:
//!
//! ```text
//! cargo run --example byo_subject            # the naive server: a counterexample
//! cargo run --example byo_subject -- --fixed # hands over the buffer too: passes
//! ```
//!
//! The counterexample is a report ([`hijack_harness::counterexample`]): the
//! verdict on its first line, the wire with carets under the lost byte, the
//! scenario in words, and a `replay:` line. That line is a command: run as
//! printed, it runs this example again on that one scenario (`HIJACK_SCENARIO`),
//! so the failure comes back at once, and with `--fixed` it passes.
//!
//! Only the crate's public API is used: [`ServerSubject`], [`ServerHandler`],
//! [`Hijacked`] and [`check_server`]. In a test, [`assert_server_conforms`] does
//! the checking and the printing in one call.
//!
//! [`assert_server_conforms`]: hijack_harness::properties::assert_server_conforms

use std::process::ExitCode;

use bytes::{Buf, Bytes, BytesMut};
use hijack_harness::properties::{Config, check_server};
use hijack_harness::reference::Hijacked;
use hijack_harness::reference::head::{ChunkStep, Header, RequestHead, chunk_step};
use hijack_harness::subject::{
    BoxFuture, BoxIo, HandOver, ServerHandler, ServerSubject, SubjectError,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A hand-rolled server; `fixed` hands over what it read past the request.
struct NaiveServer {
    fixed: bool,
}

impl ServerSubject for NaiveServer {
    fn name(&self) -> String {
        if self.fixed {
            "naive-httparse (fixed)".into()
        } else {
            "naive-httparse".into()
        }
    }

    fn serve(
        &self,
        io: BoxIo,
        handler: ServerHandler,
    ) -> BoxFuture<'static, Result<(), SubjectError>> {
        Box::pin(serve(io, handler, self.fixed))
    }
}

fn bad(what: impl Into<String>) -> SubjectError {
    SubjectError::Library(what.into())
}

async fn serve(mut io: BoxIo, handler: ServerHandler, fixed: bool) -> Result<(), SubjectError> {
    let mut buf = BytesMut::with_capacity(8192);
    loop {
        // Read until a whole head is in the buffer.
        let (head, head_len) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut req = httparse::Request::new(&mut headers);
            if let httparse::Status::Complete(n) =
                req.parse(&buf).map_err(|e| bad(e.to_string()))?
            {
                let head = RequestHead {
                    method: req.method.unwrap_or_default().to_owned(),
                    target: req.path.unwrap_or_default().to_owned(),
                    headers: req
                        .headers
                        .iter()
                        .map(|h| Header::new(h.name, String::from_utf8_lossy(h.value)))
                        .collect(),
                };
                break (head, n);
            }
            if io.read_buf(&mut buf).await? == 0 {
                return Ok(());
            }
        };
        buf.advance(head_len);
        // A client that asked for `100 Continue` may wait for it before sending
        // the body: it goes out before the body is read (RFC 9110 §10.1.1).
        let expects_continue = head.headers.iter().any(|h| {
            h.name.eq_ignore_ascii_case("expect") && h.value.eq_ignore_ascii_case("100-continue")
        });
        if expects_continue {
            io.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
            io.flush().await?;
        }
        let body = read_body(&mut io, &mut buf, &head).await?;

        let reply = handler.reply(&head, &body);
        // An application that takes the connection before answering (Go's
        // `Hijack()` first) writes the answer itself: the server writes nothing.
        let answers_itself = reply.hand_over == HandOver::BeforeAnswer;
        let mut out = Vec::new();
        if !answers_itself {
            out.extend_from_slice(&reply.head.to_bytes());
            out.extend_from_slice(&reply.body);
        }
        if reply.hand_over == HandOver::No {
            io.write_all(&out).await?;
            io.flush().await?;
            continue;
        }
        // The application's first bytes go with the head if it wants them there.
        let first_written = !answers_itself
            && !matches!(
                reply.first_write,
                hijack_harness::scenario::FirstWrite::AfterHijack
            );
        if first_written {
            out.extend_from_slice(&reply.first);
        }
        io.write_all(&out).await?;
        io.flush().await?;
        if fixed {
            // What was read past the request belongs to the new protocol: first.
            let stream = Hijacked::new(io, buf.freeze(), Bytes::new());
            handler.run(stream, first_written).await;
        } else {
            // The bug: `buf` may hold the client's first new-protocol bytes.
            handler.run(io, first_written).await;
        }
        return Ok(());
    }
}

/// Reads the request body from `buf` (refilled from `io`): `Content-Length` or
/// chunked (decoded with the harness's `chunk_step`), leaving what follows in `buf`.
async fn read_body(
    io: &mut BoxIo,
    buf: &mut BytesMut,
    head: &RequestHead,
) -> Result<Bytes, SubjectError> {
    let value = |name: &str| {
        head.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.trim().to_owned())
    };
    if value("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut body = BytesMut::new();
        loop {
            match chunk_step(buf).map_err(|e| bad(e.to_string()))? {
                ChunkStep::Partial => {
                    if io.read_buf(buf).await? == 0 {
                        return Err(bad("EOF in the body"));
                    }
                }
                ChunkStep::Data {
                    start,
                    len,
                    consumed,
                } => {
                    body.extend_from_slice(&buf[start..start + len]);
                    buf.advance(consumed);
                }
                ChunkStep::Last { consumed } => {
                    buf.advance(consumed);
                    return Ok(body.freeze());
                }
            }
        }
    }
    let len = value("content-length")
        .map(|v| v.parse::<usize>())
        .transpose()
        .map_err(|e| bad(e.to_string()))?
        .unwrap_or(0);
    while buf.len() < len {
        if io.read_buf(buf).await? == 0 {
            return Err(bad("EOF in the body"));
        }
    }
    Ok(buf.split_to(len).freeze())
}

fn main() -> ExitCode {
    let fixed = std::env::args().any(|a| a == "--fixed");
    let subject = NaiveServer { fixed };
    match check_server(&subject, &Config::seeded(1)) {
        Ok(stats) => {
            println!(
                "{}: {} scenario{} passed ({:.0} per second)",
                subject.name(),
                stats.cases,
                if stats.cases == 1 { "" } else { "s" },
                stats.per_second()
            );
            ExitCode::SUCCESS
        }
        Err(counterexample) => {
            // The report ends with its own newline; `{counterexample:#?}` would
            // print every field of the run instead.
            print!("{counterexample}");
            ExitCode::FAILURE
        }
    }
}
