//! The scripted peers: the harness's own client and server, which send exactly
//! what the scenario says and read everything, so that the subject on the other
//! end is the only thing that can go wrong. What they received is not kept here:
//! the trace has it, as it crossed the wire.

use std::io;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::reference::head;
use crate::scenario::{Messages, Scenario};

pub mod proxy;
pub mod websocket;

use crate::heap::ReadBuffer;

/// The most a peer buffers while looking for the end of a head.
const MAX_HEAD_SEARCH: usize = 1 << 20;
const READ_SIZE: usize = 16 * 1024;

/// Writes `a` then `b` in one write, as one segment unless the wire cuts it
/// (joined in a new buffer only when both have bytes).
async fn write_both<IO: AsyncWrite + Unpin>(io: &mut IO, a: &[u8], b: &[u8]) -> io::Result<()> {
    if a.is_empty() || b.is_empty() {
        return io.write_all(if b.is_empty() { a } else { b }).await;
    }
    let mut both = Vec::with_capacity(a.len() + b.len());
    both.extend_from_slice(a);
    both.extend_from_slice(b);
    io.write_all(&both).await
}

/// Reads until EOF, throwing the bytes away (the trace keeps them), each read
/// at most [`READ_SIZE`] bytes.
async fn read_to_eof<IO: AsyncRead + Unpin>(io: &mut IO) -> io::Result<()> {
    let mut buf = ReadBuffer::with_capacity(READ_SIZE);
    loop {
        buf.restart(READ_SIZE);
        if buf.read_from(io).await? == 0 {
            return Ok(());
        }
    }
}

/// Reads into `received` until `parse` finds what it looks for; `None` at EOF,
/// on a parse error, or past [`MAX_HEAD_SEARCH`]. Each read may take up to
/// [`READ_SIZE`] bytes more than `received` holds, the room `Vec::reserve`
/// would make for them.
async fn read_until<IO: AsyncRead + Unpin, T>(
    io: &mut IO,
    received: &mut ReadBuffer,
    parse: impl Fn(&[u8]) -> head_result::Parsed<T>,
) -> io::Result<Option<T>> {
    loop {
        match parse(received) {
            head_result::Parsed::Done(found) => return Ok(Some(found)),
            head_result::Parsed::Invalid => return Ok(None),
            head_result::Parsed::More if received.len() > MAX_HEAD_SEARCH => return Ok(None),
            head_result::Parsed::More => {}
        }
        received.reserve(READ_SIZE);
        if received.read_from(io).await? == 0 {
            return Ok(None);
        }
    }
}

/// Reads a request message: every byte received so far (the message, and
/// whatever came with it) and the message's length; `None` at EOF, on a bad
/// head, or past [`MAX_HEAD_SEARCH`].
async fn read_request<IO: AsyncRead + Unpin>(
    io: &mut IO,
) -> io::Result<Option<(ReadBuffer, usize)>> {
    let mut received = ReadBuffer::new();
    let found = read_until(io, &mut received, |buf| {
        head::request_message_len(buf).into()
    })
    .await?;
    Ok(found.map(|(_, message_len)| (received, message_len)))
}

mod head_result {
    /// The outcome of looking for something at the start of a buffer.
    pub enum Parsed<T> {
        Done(T),
        More,
        Invalid,
    }

    impl<T> From<crate::reference::Result<Option<T>>> for Parsed<T> {
        fn from(r: crate::reference::Result<Option<T>>) -> Self {
            match r {
                Ok(Some(v)) => Parsed::Done(v),
                Ok(None) => Parsed::More,
                Err(_) => Parsed::Invalid,
            }
        }
    }
}

/// The scripted client: sends the request and the early bytes in one write, waits
/// for the final answer, sends the late bytes if it switched protocols, half-closes
/// if the scenario says so, and reads until EOF.
///
/// A client that waits for `100 Continue` ([`ClientScript::waits_for_continue`])
/// sends the head alone, and the body and early bytes once the first answer
/// arrived, whatever it is: a final answer without the `100` does not end the
/// request message, whose body is still sent (RFC 9110 §10.1.1 lets the client
/// send it anyway), so the new protocol still starts after it.
///
/// [`ClientScript::waits_for_continue`]: crate::scenario::ClientScript::waits_for_continue
pub async fn client<IO: AsyncRead + AsyncWrite + Unpin>(
    mut io: IO,
    scenario: &Scenario,
    messages: &Messages,
) -> io::Result<()> {
    let mut received = ReadBuffer::new();
    // The request and the early bytes are one buffer already: one write.
    let (head, rest) = messages.request_early.split_at(messages.request_head_len);
    if scenario.client.waits_for_continue {
        io.write_all(head).await?;
        read_until(&mut io, &mut received, |buf| {
            head::response_status(buf).into()
        })
        .await?;
        io.write_all(rest).await?;
    } else {
        io.write_all(&messages.request_early).await?;
    }
    let answer = read_until(&mut io, &mut received, |buf| {
        head::final_response_status(buf).into()
    })
    .await?;
    // Its allocation goes to the next buffer (the one that reads to EOF).
    drop(received);
    let switched =
        answer.is_some_and(|(status, _)| scenario.accepted() && status == scenario.answer_status());
    finish_client(
        &mut io,
        switched.then_some(&messages.late),
        scenario.client.half_close,
    )
    .await
}

/// How a scripted client ends once it has its answer: it writes its `late`
/// bytes (when it has some to write: the answer switched), half-closes if the
/// case says so, and reads to EOF.
async fn finish_client<IO: AsyncRead + AsyncWrite + Unpin>(
    io: &mut IO,
    late: Option<&[u8]>,
    half_close: bool,
) -> io::Result<()> {
    if let Some(late) = late {
        io.write_all(late).await?;
    }
    if half_close {
        io.shutdown().await?;
    }
    read_to_eof(io).await
}

/// The scripted server: reads the request message, answers with the scenario's
/// response and first bytes in one write, then echoes until EOF and half-closes
/// (or, after a refusal, reads until EOF).
pub async fn server<IO: AsyncRead + AsyncWrite + Unpin>(
    mut io: IO,
    scenario: &Scenario,
    messages: &Messages,
) -> io::Result<()> {
    let Some((mut received, message_len)) = read_request(&mut io).await? else {
        return io.shutdown().await;
    };
    write_both(&mut io, &messages.response, &messages.first).await?;
    if scenario.accepted() {
        io.write_all(&received[message_len..]).await?;
        loop {
            received.restart(READ_SIZE);
            if received.read_from(&mut io).await? == 0 {
                break;
            }
            io.write_all(&received).await?;
        }
    } else {
        drop(received);
        read_to_eof(&mut io).await?;
    }
    io.shutdown().await
}
