//! The attach stream after the stub answered `101 UPGRADED`: the container's
//! output goes out (the first bytes in the `101`'s write, the rest paced at the
//! case's cuts) while stdin comes in; after the client's FIN (stdin closed) the
//! output that follows it goes out, then the stub closes and the container exits.
//!
//! This is the daemon's side of the contract the judgement checks: output
//! written after a `CloseWrite` must still reach a client whose read half works.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::daemon::Daemon;

const READ_SIZE: usize = 16 * 1024;

/// Writes `bytes` (which start at wire offset `base`), pausing `pause` at each
/// cut that falls strictly inside them, so what is before a cut travels alone.
pub async fn paced_write<W: AsyncWrite + Unpin>(
    writer: &mut W,
    bytes: &[u8],
    base: usize,
    cuts: &[usize],
    pause: Duration,
) -> std::io::Result<()> {
    let mut at = 0;
    for cut in cuts {
        let Some(local) = cut.checked_sub(base) else {
            continue;
        };
        if local <= at || local >= bytes.len() {
            continue;
        }
        writer.write_all(&bytes[at..local]).await?;
        writer.flush().await?;
        tokio::time::sleep(pause).await;
        at = local;
    }
    writer.write_all(&bytes[at..]).await?;
    writer.flush().await
}

/// Runs the attach stream on `io`, whose request left `early_stdin` already
/// read past its end. `head` is the answer's head (`101 UPGRADED` or the older
/// `200 OK`). A client that attached its stdin ends it with a FIN, which the
/// output after EOF waits for; for one that did not, the container's stdin is
/// not the client's to end, and that output follows at once.
pub async fn run<IO: AsyncRead + AsyncWrite + Unpin>(
    io: IO,
    early_stdin: Vec<u8>,
    head: Vec<u8>,
    stdin_attached: bool,
    daemon: Arc<Daemon>,
) {
    let case = daemon.case.clone();
    let (mut reader, mut writer) = tokio::io::split(io);
    let (fin_tx, fin_rx) = tokio::sync::oneshot::channel::<()>();
    if !early_stdin.is_empty() {
        daemon.stdin_read(early_stdin.len(), false);
    }
    let read = async {
        let mut buf = vec![0u8; READ_SIZE];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => daemon.stdin_read(n, false),
            }
        }
        daemon.stdin_read(0, true);
        let _ = fin_tx.send(());
    };
    let write = async {
        let (before, after, _) = case.scenario.wire();
        let early = case.scenario.early.min(before.len());
        let mut first = head;
        first.extend_from_slice(&before[..early]);
        writer.write_all(&first).await?;
        writer.flush().await?;
        if early < before.len() {
            // What the case keeps out of the 101's write travels after a pause.
            tokio::time::sleep(daemon.pause).await;
            paced_write(
                &mut writer,
                &before[early..],
                early,
                &case.scenario.cuts,
                daemon.pause,
            )
            .await?;
        }
        // The container's output after stdin closed: only once the client's FIN arrived.
        if stdin_attached {
            let _ = fin_rx.await;
        }
        if !after.is_empty() {
            tokio::time::sleep(daemon.pause).await;
            paced_write(
                &mut writer,
                &after,
                before.len(),
                &case.scenario.cuts,
                daemon.pause,
            )
            .await?;
        }
        writer.shutdown().await
    };
    let (_, written) = tokio::join!(read, write);
    if let Err(e) = written {
        tracing::debug!("attach stream: {e}");
    }
    daemon.exit();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn paced_writes_split_at_the_cuts_inside_the_bytes() {
        let (mut near, mut far) = tokio::io::duplex(1024);
        let written = tokio::spawn(async move {
            paced_write(
                &mut near,
                b"abcdef",
                10,
                &[9, 12, 14, 16, 30],
                Duration::from_millis(5),
            )
            .await
            .unwrap();
        });
        let mut got = Vec::new();
        let mut buf = [0u8; 16];
        let mut total = 0;
        while total < 6 {
            let n = far.read(&mut buf).await.unwrap();
            total += n;
            got.push(buf[..n].to_vec());
        }
        written.await.unwrap();
        assert_eq!(got, [b"ab".to_vec(), b"cd".to_vec(), b"ef".to_vec()]);
    }
}
