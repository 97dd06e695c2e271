//! The client command of one case: run with `sh -c` in a process group of its
//! own, its stdin (a pipe, or a pseudo-terminal for a TTY case) fed by the
//! harness and closed when the harness says so, its
//! stdout and stderr captured (bounded), and killed, group and all, when the case
//! ends.
//!
//! The process group matters because `sh -c 'cd x && docker ...'` forks: killing
//! the shell alone would leave the client running. The group is the one this
//! module made for the child, so nothing else is ever signalled.

use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// What a command printed on one of its output streams.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// The bytes kept (at most the cap).
    pub bytes: Vec<u8>,
    /// How many more arrived past the cap.
    pub dropped: usize,
}

/// A running client command.
#[derive(Debug)]
pub struct ClientProcess {
    child: Child,
    pid: Option<u32>,
    status: Option<ExitStatus>,
    close_stdin: Option<oneshot::Sender<()>>,
    stdout: (JoinHandle<()>, Arc<Mutex<Captured>>),
    stderr: (JoinHandle<()>, Arc<Mutex<Captured>>),
    activity: Arc<AtomicU64>,
}

/// How long the output pipes may stay open after the command ended (a
/// grandchild that kept them): what arrived by then is what was printed.
const PIPE_GRACE: Duration = Duration::from_millis(500);

fn lock(captured: &Mutex<Captured>) -> std::sync::MutexGuard<'_, Captured> {
    captured.lock().unwrap_or_else(|p| p.into_inner())
}

fn capture<R: AsyncRead + Unpin + Send + 'static>(
    mut reader: R,
    cap: usize,
    activity: Arc<AtomicU64>,
) -> (JoinHandle<()>, Arc<Mutex<Captured>>) {
    let out = Arc::new(Mutex::new(Captured::default()));
    let shared = out.clone();
    let task = tokio::spawn(async move {
        let mut buf = vec![0u8; 16 * 1024];
        while let Ok(n) = reader.read(&mut buf).await {
            if n == 0 {
                break;
            }
            activity.fetch_add(1, Ordering::Relaxed);
            let mut out = lock(&shared);
            let room = cap.saturating_sub(out.bytes.len()).min(n);
            out.bytes.extend_from_slice(&buf[..room]);
            out.dropped += n - room;
        }
    });
    (task, out)
}

async fn collect((task, out): (JoinHandle<()>, Arc<Mutex<Captured>>)) -> Captured {
    let abort = task.abort_handle();
    if tokio::time::timeout(PIPE_GRACE, task).await.is_err() {
        abort.abort();
    }
    std::mem::take(&mut *lock(&out))
}

impl ClientProcess {
    /// Starts `command` with `sh -c`, writes `stdin` to it, and keeps its stdin
    /// open until [`ClientProcess::close_stdin`]. With `terminal`, stdin is a
    /// pseudo-terminal in raw mode ([`super::terminal`]), else a pipe.
    pub fn spawn(
        command: &str,
        stdin: Bytes,
        cap: usize,
        terminal: bool,
    ) -> std::io::Result<ClientProcess> {
        let (terminal, child_stdin) = if terminal {
            let (terminal, slave) = super::terminal::open()?;
            (Some(terminal), Stdio::from(slave))
        } else {
            (None, Stdio::piped())
        };
        // The command (and the terminal's other end in it) is dropped at the end
        // of this statement: the child holds the only copy.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(command)
            .stdin(child_stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()?;
        let activity = Arc::new(AtomicU64::new(0));
        let missing = || std::io::Error::other("the child's pipes were not set up");
        let mut input: Box<dyn AsyncWrite + Send + Unpin> = match (terminal, child.stdin.take()) {
            (Some(terminal), _) => Box::new(terminal),
            (None, Some(pipe)) => Box::new(pipe),
            (None, None) => return Err(missing()),
        };
        let stdout = child.stdout.take().ok_or_else(missing)?;
        let stderr = child.stderr.take().ok_or_else(missing)?;
        let (close_tx, close_rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            // A client that exits or never reads its stdin: the rest is not written.
            let _ = input.write_all(&stdin).await;
            let _ = input.flush().await;
            let _ = close_rx.await;
            // Closing a pipe is end of file; dropping a terminal's end hangs it up.
            drop(input);
        });
        Ok(ClientProcess {
            pid: child.id(),
            status: None,
            child,
            close_stdin: Some(close_tx),
            stdout: capture(stdout, cap, activity.clone()),
            stderr: capture(stderr, cap, activity.clone()),
            activity,
        })
    }

    /// Closes the command's stdin (after what was written): EOF for the client.
    pub fn close_stdin(&mut self) {
        if let Some(tx) = self.close_stdin.take() {
            let _ = tx.send(());
        }
    }

    /// Whether [`ClientProcess::close_stdin`] was called.
    pub fn stdin_closed(&self) -> bool {
        self.close_stdin.is_none()
    }

    /// A counter that changes whenever the command prints something.
    pub fn activity(&self) -> Arc<AtomicU64> {
        self.activity.clone()
    }

    /// Waits for the command to exit.
    pub async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        let status = self.child.wait().await?;
        self.status = Some(status);
        Ok(status)
    }

    /// Kills the command's process group (the one made for it), then the child.
    ///
    /// The group is signalled only while the child is not reaped: until then its
    /// pid, which names the group, cannot belong to another process.
    pub fn kill(&mut self) {
        if self.status.is_none()
            && let Some(pid) = self.pid.and_then(|p| i32::try_from(p).ok())
        {
            // SAFETY: killpg only sends a signal; the group id is the child's own
            // pid, which `process_group(0)` made the leader of a new group.
            unsafe {
                libc::killpg(pid, libc::SIGKILL);
            }
        }
        let _ = self.child.start_kill();
    }

    /// Kills what is left, and returns what the command printed and its exit
    /// status (`None` when it had to be killed).
    pub async fn finish(mut self) -> (Captured, Captured, Option<ExitStatus>) {
        let exited = self.status;
        self.kill();
        self.close_stdin();
        if exited.is_none() {
            let _ = self.child.wait().await;
        }
        let (stdout, stderr) = tokio::join!(collect(self.stdout), collect(self.stderr));
        (stdout, stderr, exited)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stdin_reaches_the_command_and_eof_follows_the_close() {
        let mut p = ClientProcess::spawn(
            "cat; echo done >&2",
            Bytes::from_static(b"abc"),
            1024,
            false,
        )
        .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!p.stdin_closed());
        p.close_stdin();
        let status = tokio::time::timeout(Duration::from_secs(10), p.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(status.success());
        let (out, err, _) = p.finish().await;
        assert_eq!(out.bytes, b"abc");
        assert_eq!(err.bytes, b"done\n");
    }

    #[tokio::test]
    async fn capture_is_bounded_and_kill_ends_the_whole_group() {
        // The shell forks a child that would outlive it, and prints more than the cap.
        let p = ClientProcess::spawn(
            "head -c 5000 /dev/zero; sleep 30 & wait",
            Bytes::new(),
            100,
            false,
        )
        .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = std::time::Instant::now();
        let (out, _, status) = tokio::time::timeout(Duration::from_secs(10), p.finish())
            .await
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!((out.bytes.len(), out.dropped), (100, 4900));
        assert!(status.is_none(), "killed, not exited");
    }
}
