//! The scripted peers of a proxy case: the client on the client leg, and the
//! upstream on the upstream leg, which notes how much had reached it when it
//! answered (the trace of its leg has the rest: what reached it, and when).

use std::cell::Cell;
use std::future::poll_fn;
use std::io;
use std::rc::Rc;
use std::task::Poll;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::reference::head;
use crate::scenario::proxy::forwarded::forwarded_request;
use crate::scenario::proxy::{Ask, ProxyBytes, ProxyScenario, Version};

use super::{ReadBuffer, finish_client, read_to_eof, read_until, write_both};

/// The scripted client: the request and its early bytes in one write; once
/// the answer arrived, the late bytes if it switched, or its bytes after a
/// refusal if it did not (an HTTP/1.0 client knows no `101`: for it, a `101` is
/// no switch); a half-close if the case says so; then reads until EOF. A write
/// that fails because the proxy closed ends the client: the trace has the rest.
pub async fn client<IO: AsyncRead + AsyncWrite + Unpin>(
    mut io: IO,
    scenario: &ProxyScenario,
    bytes: &ProxyBytes,
) -> io::Result<()> {
    write_both(&mut io, &bytes.request, &bytes.early).await?;
    let mut received = ReadBuffer::new();
    let answer = read_until(&mut io, &mut received, |buf| {
        head::final_response_status(buf).into()
    })
    .await?;
    let connect = scenario.ask == Ask::Connect;
    let knows_101 = connect || scenario.version == Version::Http11;
    let next =
        answer.map(
            |(status, _)| match head::switches_protocols(status, connect) && knows_101 {
                true => &bytes.late[..],
                false => &bytes.after_refusal[..],
            },
        );
    let next = next.filter(|next| !next.is_empty());
    finish_client(&mut io, next, scenario.client_fin).await
}

/// The scripted upstream: reads the request message (HTTP/1.1, or HTTP/1.0
/// passed on as it came: [`forwarded_request`]), waits
/// [`ProxyScenario::delay`] polls, answers (with its first bytes in the same
/// write), and half-closes if the case says so; if not, it writes its late
/// bytes once the first byte after the request (or EOF) reached it, and
/// half-closes at EOF. `answered` gets how many bytes had reached it when it
/// answered.
pub async fn upstream<IO: AsyncRead + AsyncWrite + Unpin>(
    mut io: IO,
    scenario: &ProxyScenario,
    bytes: &ProxyBytes,
    answered: Rc<Cell<Option<usize>>>,
) -> io::Result<()> {
    let mut received = ReadBuffer::new();
    let found = read_until(&mut io, &mut received, |buf| forwarded_request(buf).into()).await?;
    let Some((_, message_len, _)) = found else {
        return Ok(());
    };
    for _ in 0..scenario.delay {
        yield_once().await;
    }
    answered.set(Some(received.len()));
    write_both(&mut io, &bytes.answer, &bytes.first).await?;
    if scenario.upstream_fin {
        io.shutdown().await?;
        return read_to_eof(&mut io).await;
    }
    if received.len() == message_len {
        let mut more = Vec::with_capacity(4096);
        io.read_buf(&mut more).await?;
    }
    // The proxy may have closed the leg already: a failed write is its verdict, not ours.
    if io.write_all(&bytes.upstream_late).await.is_err() {
        return Ok(());
    }
    read_to_eof(&mut io).await?;
    io.shutdown().await
}

/// Lets every other task run once.
async fn yield_once() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}
