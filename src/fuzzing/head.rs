//! The `head` target: arbitrary bytes into the reference's incremental head
//! reader, compared with one `httparse` parse of the whole input.

use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use bytes::{Buf, Bytes};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::reference::head::{self, MAX_HEADERS};
use crate::reference::{BoxIo, BufferedConn, Config, Error};

/// How many bytes of a `head` input are settings; the rest is the stream.
pub const HEAD_SETTINGS: usize = 8;

/// A transport that delivers `data` in segments whose sizes cycle through `sizes`,
/// then EOF; writes are accepted and dropped. Always ready, so a future over it
/// completes in one poll. It owns its bytes and shares its count, so that the
/// reader runs over a [`BoxIo`], the stream type whose reader the fuzz build keeps
/// under coverage (`reference/src/instances.rs`).
#[derive(Debug)]
struct Segments {
    data: Bytes,
    sizes: [usize; 4],
    next: usize,
    delivered: Arc<AtomicUsize>,
}

impl AsyncRead for Segments {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let segment = this.sizes[this.next % this.sizes.len()];
        this.next += 1;
        let n = segment.min(buf.remaining()).min(this.data.len());
        buf.put_slice(&this.data[..n]);
        this.data.advance(n);
        this.delivered.fetch_add(n, Ordering::Relaxed);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Segments {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(b.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn segment_size(b: u8) -> usize {
    // 1..=128 one by one, then 512-byte steps up to 64 KiB.
    if b < 128 {
        1 + usize::from(b)
    } else {
        usize::from(b - 127) * 512
    }
}

/// What a direct `httparse` parse of the whole stream says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direct {
    /// A complete head of this length (`http11`: whether the version is 1.1).
    Complete {
        len: usize,
        http11: bool,
    },
    Partial,
    /// `httparse` refused it for having more than [`MAX_HEADERS`] fields.
    TooManyHeaders,
    Invalid,
}

fn direct_parse(response: bool, stream: &[u8]) -> Direct {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let (status, version) = if response {
        let mut res = httparse::Response::new(&mut headers);
        let status = res.parse(stream);
        (status, res.version)
    } else {
        let mut req = httparse::Request::new(&mut headers);
        let status = req.parse(stream);
        (status, req.version)
    };
    match status {
        Ok(httparse::Status::Complete(len)) => Direct::Complete {
            len,
            // The reference accepts only HTTP/1.1 requests; any response version.
            http11: response || version == Some(1),
        },
        Ok(httparse::Status::Partial) => Direct::Partial,
        Err(httparse::Error::TooManyHeaders) => Direct::TooManyHeaders,
        Err(_) => Direct::Invalid,
    }
}

/// The `head` target: arbitrary bytes into the reference's incremental head reader
/// ([`BufferedConn::read_head`]), delivered in arbitrary segments with an arbitrary
/// read size and head limit, compared with one `httparse` parse of the whole input.
///
/// Settings come first (`HEAD_SETTINGS` bytes): request or response, the head
/// limit, the read size, four segment sizes; the rest is the stream. The reader
/// must never panic, must never buffer more than the limit plus one read, and must
/// find the head's end exactly where `httparse` does: a reader that stopped early
/// or late would hand the wrong bytes to the new protocol.
pub fn head(data: &[u8]) {
    let setting = |i: usize| data.get(i).copied().unwrap_or(0);
    let response = setting(0) & 1 == 1;
    let max_head = match setting(1) % 4 {
        0 => Config::default().max_head,
        1 => 1 + usize::from(setting(2)),
        2 => 256 + usize::from(setting(2)) * 16,
        _ => 4096 + usize::from(setting(2)) * 64,
    };
    let read_chunk = segment_size(setting(3));
    let sizes = [4, 5, 6, 7].map(|i| segment_size(setting(i)));
    let stream = data.get(HEAD_SETTINGS..).unwrap_or_default();

    let config = Config {
        read_chunk,
        max_head,
        // No timer: the reader must finish on bytes alone.
        head_timeout: None,
        ..Config::default()
    };
    let delivered = Arc::new(AtomicUsize::new(0));
    let io: BoxIo = Box::new(Segments {
        data: Bytes::copy_from_slice(stream),
        sizes,
        next: 0,
        delivered: Arc::clone(&delivered),
    });
    let (outcome, read_ahead) = {
        let mut conn = BufferedConn::new(io, config);
        let outcome = if response {
            poll_ready(conn.read_head("a response head", head::parse_response))
                .map(|r| r.map(|h| h.is_some()))
        } else {
            poll_ready(conn.read_head("a request head", head::parse_request))
                .map(|r| r.map(|h| h.is_some()))
        };
        (outcome, conn.read_ahead().len())
    };
    let delivered = delivered.load(Ordering::Relaxed);
    let consumed = delivered - read_ahead;
    let direct = direct_parse(response, stream);
    let context = || {
        format!(
            "response={response} max_head={max_head} read_chunk={read_chunk} sizes={sizes:?} \
             stream={} bytes, delivered={delivered}, read-ahead={read_ahead}, direct={direct:?}, \
             stream head: {:?}",
            stream.len(),
            String::from_utf8_lossy(&stream[..stream.len().min(200)])
        )
    };
    assert!(
        delivered < max_head + read_chunk,
        "the head reader buffered {delivered} bytes, past the limit plus one read: {}",
        context()
    );
    match outcome {
        None => panic!(
            "the head reader did not finish over an always-ready transport: {}",
            context()
        ),
        Some(Ok(true)) => assert!(
            direct
                == Direct::Complete {
                    len: consumed,
                    http11: true
                },
            "the head reader ended a head after {consumed} bytes; httparse disagrees: {}",
            context()
        ),
        Some(Ok(false)) => assert!(
            stream.is_empty(),
            "the head reader saw a clean EOF on a non-empty stream: {}",
            context()
        ),
        Some(Err(Error::HeadTooLarge { .. })) => assert!(
            delivered >= max_head
                && !matches!(direct, Direct::Complete { len, .. } if len <= delivered),
            "the head reader refused a head as too large: {}",
            context()
        ),
        Some(Err(Error::UnexpectedEof(_))) => assert!(
            direct == Direct::Partial && !stream.is_empty() && delivered == stream.len(),
            "the head reader reported EOF inside a head: {}",
            context()
        ),
        Some(Err(Error::Malformed { .. })) => assert!(
            matches!(
                direct,
                Direct::Invalid | Direct::Complete { http11: false, .. }
            ),
            "the head reader called a head malformed: {}",
            context()
        ),
        Some(Err(Error::TooManyHeaders { .. })) => assert!(
            direct == Direct::TooManyHeaders,
            "the head reader counted too many headers: {}",
            context()
        ),
        Some(Err(other)) => panic!("unexpected error {other}: {}", context()),
    }
}

/// Polls `future` a few times with a no-op waker: `Some` if it finished.
fn poll_ready<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..4 {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return Some(out);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Arbitrary bytes never break the head reader's agreement with httparse.
        #[test]
        fn head_target_holds(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            head(&data);
        }
    }
}
