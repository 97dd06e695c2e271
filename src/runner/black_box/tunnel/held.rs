//! The scripted upstream's wait, in real time: [`Held`] holds its first write
//! (the answer) back for a while after it is asked for, and keeps reading
//! meanwhile, so that what a proxy sends before the answer reaches the
//! upstream (and its trace) before the answer leaves it. What it read while
//! waiting is handed to the upstream's next reads, in order.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// A stream whose first write waits `delay`, reading, before it goes out.
#[derive(Debug)]
pub struct Held<S> {
    inner: S,
    /// The wait still to begin, then the one running; `None` once over.
    delay: Option<Duration>,
    waiting: Option<Pin<Box<Sleep>>>,
    /// What was read while waiting and not yet handed on.
    stash: Vec<u8>,
    /// The peer's EOF (or a read error) was seen while waiting.
    ended: Option<io::Result<()>>,
}

impl<S> Held<S> {
    /// Wraps `inner`; no wait when `delay` is zero.
    pub fn new(inner: S, delay: Duration) -> Self {
        Held {
            inner,
            delay: (!delay.is_zero()).then_some(delay),
            waiting: None,
            stash: Vec::new(),
            ended: None,
        }
    }
}

impl<S: AsyncRead + Unpin> Held<S> {
    /// Reads into the stash until the wait is over.
    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(delay) = self.delay.take() {
            self.waiting = Some(Box::pin(tokio::time::sleep(delay)));
        }
        let Some(waiting) = self.waiting.as_mut() else {
            return Poll::Ready(());
        };
        while self.ended.is_none() {
            let mut buf = [0u8; 4096];
            let mut read = ReadBuf::new(&mut buf);
            match Pin::new(&mut self.inner).poll_read(cx, &mut read) {
                Poll::Ready(Ok(())) if read.filled().is_empty() => self.ended = Some(Ok(())),
                Poll::Ready(Ok(())) => self.stash.extend_from_slice(read.filled()),
                Poll::Ready(Err(e)) => self.ended = Some(Err(e)),
                Poll::Pending => break,
            }
        }
        std::task::ready!(waiting.as_mut().poll(cx));
        self.waiting = None;
        Poll::Ready(())
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Held<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if !this.stash.is_empty() {
            let n = this.stash.len().min(buf.remaining());
            buf.put_slice(&this.stash[..n]);
            this.stash.drain(..n);
            return Poll::Ready(Ok(()));
        }
        if let Some(ended) = this.ended.take() {
            // EOF stays EOF; an error is reported once, then EOF.
            if ended.is_ok() {
                this.ended = Some(Ok(()));
            }
            return Poll::Ready(ended);
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Held<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(self.poll_wait(cx));
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_wait(cx));
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn the_answer_waits_and_what_came_meanwhile_is_read_in_order() {
        let (near, mut far) = tokio::io::duplex(64);
        let mut held = Held::new(near, Duration::from_millis(100));
        let writing = async {
            held.write_all(b"answer").await.expect("write");
            let mut got = Vec::new();
            held.read_to_end(&mut got).await.expect("read");
            got
        };
        let peer = async {
            far.write_all(b"early").await.expect("write");
            let mut answer = [0u8; 6];
            far.read_exact(&mut answer).await.expect("read");
            far.shutdown().await.expect("shutdown");
            answer
        };
        let (got, answer) = tokio::join!(writing, peer);
        assert_eq!(&answer, b"answer");
        assert_eq!(got, b"early");
    }
}
