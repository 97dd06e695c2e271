//! Client commands: every command the harness runs as a client under test
//! (`run --client-cmd`, with the echo contract or `--protocol docker`) starts
//! here, with `sh -c`, in a process group of its own. Its stdin is nothing, a
//! pipe or a pseudo-terminal ([`terminal`]) fed by the harness and closed when
//! the harness says so; its stdout and stderr are captured (bounded), thrown
//! away or passed through; and when its case ends it is killed, group and all,
//! and reaped.
//!
//! The process group matters because `sh -c 'cd x && docker ...'` forks, and a
//! client may fork helpers of its own: killing the shell alone would leave the
//! client running. The group is the one this module made for the child
//! (`process_group(0)`: its id is the shell's PID), so nothing else is ever
//! signalled, and it is signalled only while the shell is not reaped: until
//! then no other process can be given that PID, so the group id cannot name
//! anyone else's group. That is why [`ClientProcess::wait`] sees the exit
//! without reaping (`waitid` with `WNOWAIT`): the group is still killed when
//! the case ends, including children that outlived the shell, and only then is
//! the shell reaped ([`ClientProcess::finish`], or on drop).

use std::io;
use std::os::unix::process::ExitStatusExt as _;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::process::{Child, Command};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub mod terminal;

/// What a command printed on one of its output streams.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// The bytes kept (at most the cap).
    pub bytes: Vec<u8>,
    /// How many more arrived past the cap.
    pub dropped: usize,
}

/// The command's stdin.
#[derive(Debug, Clone)]
pub enum Stdin {
    /// `/dev/null`.
    Null,
    /// A pipe with these bytes written to it, closed by
    /// [`ClientProcess::close_stdin`] (end of file).
    Pipe(Bytes),
    /// A pseudo-terminal in raw mode ([`terminal`]) with these bytes written to
    /// it, hung up by [`ClientProcess::close_stdin`].
    Terminal(Bytes),
}

/// Where one of the command's output streams goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// `/dev/null`.
    Null,
    /// The harness's own stream.
    Inherit,
    /// A pipe the harness reads, keeping at most this many bytes.
    Capture(usize),
}

/// How a command's standard streams are set up.
#[derive(Debug, Clone)]
pub struct Streams {
    /// Its stdin.
    pub stdin: Stdin,
    /// Its stdout.
    pub stdout: Output,
    /// Its stderr.
    pub stderr: Output,
}

/// What a command left when it was finished.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Finished {
    /// What it printed on stdout (empty unless captured).
    pub stdout: Captured,
    /// What it printed on stderr (empty unless captured).
    pub stderr: Captured,
    /// How it exited; `None` when it had to be killed.
    pub status: Option<ExitStatus>,
}

type Capturing = Option<(JoinHandle<()>, Arc<Mutex<Captured>>)>;

/// A running client command, the leader of its own process group.
#[derive(Debug)]
pub struct ClientProcess {
    child: Child,
    /// The shell's PID, which is also its group's id.
    pid: Option<i32>,
    /// How it exited, once seen (it is not reaped until [`Self::finish`]).
    status: Option<ExitStatus>,
    reaped: bool,
    sigchld: Option<Signal>,
    close_stdin: Option<oneshot::Sender<()>>,
    stdout: Capturing,
    stderr: Capturing,
    activity: Arc<AtomicU64>,
}

/// How long the output pipes may stay open after the command ended (a
/// grandchild that kept them): what arrived by then is what was printed.
const PIPE_GRACE: Duration = Duration::from_millis(500);

/// How often the exit is looked for when no `SIGCHLD` says so (a safety net:
/// every exit raises one).
const EXIT_POLL: Duration = Duration::from_millis(100);

/// The longest wait for a killed command to be reaped; past it, the runtime
/// reaps it later.
const REAP_LIMIT: Duration = Duration::from_secs(5);

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

async fn collect(capturing: Capturing) -> Captured {
    let Some((task, out)) = capturing else {
        return Captured::default();
    };
    let abort = task.abort_handle();
    if tokio::time::timeout(PIPE_GRACE, task).await.is_err() {
        abort.abort();
    }
    std::mem::take(&mut *lock(&out))
}

/// The capture of one output stream, if it is captured.
fn capturing<R: AsyncRead + Unpin + Send + 'static>(
    output: Output,
    pipe: Option<R>,
    activity: &Arc<AtomicU64>,
) -> io::Result<Capturing> {
    match (output, pipe) {
        (Output::Capture(cap), Some(pipe)) => Ok(Some(capture(pipe, cap, activity.clone()))),
        (Output::Capture(_), None) => Err(io::Error::other("the child's pipes were not set up")),
        _ => Ok(None),
    }
}

fn stdio(output: Output) -> Stdio {
    match output {
        Output::Null => Stdio::null(),
        Output::Inherit => Stdio::inherit(),
        Output::Capture(_) => Stdio::piped(),
    }
}

/// How child `pid` exited, if it has, leaving it unreaped (`WNOWAIT`).
fn exited(pid: i32) -> io::Result<Option<ExitStatus>> {
    let id = libc::id_t::try_from(pid).map_err(io::Error::other)?;
    // SAFETY: an all-zero siginfo_t is a valid value (plain integers), and
    // waitid only writes into the one it is given; WNOWAIT leaves the child
    // as it is, WNOHANG returns at once.
    let (code, status) = unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
        if libc::waitid(libc::P_PID, id, &mut info, flags) == -1 {
            return Err(io::Error::last_os_error());
        }
        if info.si_pid() == 0 {
            return Ok(None);
        }
        (info.si_code, info.si_status())
    };
    // The wait status `waitpid` would have given.
    let raw = match code {
        libc::CLD_EXITED => (status & 0xff) << 8,
        libc::CLD_KILLED => status & 0x7f,
        libc::CLD_DUMPED => (status & 0x7f) | 0x80,
        _ => return Ok(None),
    };
    Ok(Some(ExitStatus::from_raw(raw)))
}

impl ClientProcess {
    /// Starts `command` with `sh -c` in a new process group, with `streams`.
    /// Stdin bytes are written at once, and a pipe or terminal stays open until
    /// [`ClientProcess::close_stdin`].
    pub fn spawn(command: &str, streams: Streams) -> io::Result<ClientProcess> {
        // Listening before the child exists: its SIGCHLD cannot be missed.
        let sigchld = signal(SignalKind::child()).ok();
        let piped = !matches!(streams.stdin, Stdin::Null);
        let (stdin, terminal, child_stdin) = match streams.stdin {
            Stdin::Null => (Bytes::new(), None, Stdio::null()),
            Stdin::Pipe(bytes) => (bytes, None, Stdio::piped()),
            Stdin::Terminal(bytes) => {
                let (terminal, slave) = terminal::open()?;
                (bytes, Some(terminal), Stdio::from(slave))
            }
        };
        // The command (and the terminal's other end in it) is dropped at the end
        // of this statement: the child holds the only copy.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(command)
            .stdin(child_stdin)
            .stdout(stdio(streams.stdout))
            .stderr(stdio(streams.stderr))
            .process_group(0)
            .kill_on_drop(true)
            .spawn()?;
        let activity = Arc::new(AtomicU64::new(0));
        let missing = || io::Error::other("the child's pipes were not set up");
        let close_stdin = if piped {
            let mut input: Box<dyn AsyncWrite + Send + Unpin> = match (terminal, child.stdin.take())
            {
                (Some(terminal), _) => Box::new(terminal),
                (None, Some(pipe)) => Box::new(pipe),
                (None, None) => return Err(missing()),
            };
            let (close_tx, close_rx) = oneshot::channel::<()>();
            tokio::spawn(async move {
                // A client that exits or never reads its stdin: the rest is not written.
                let _ = input.write_all(&stdin).await;
                let _ = input.flush().await;
                let _ = close_rx.await;
                // Closing a pipe is end of file; dropping a terminal's end hangs it up.
                drop(input);
            });
            Some(close_tx)
        } else {
            None
        };
        let stdout = capturing(streams.stdout, child.stdout.take(), &activity)?;
        let stderr = capturing(streams.stderr, child.stderr.take(), &activity)?;
        Ok(ClientProcess {
            pid: child.id().and_then(|p| i32::try_from(p).ok()),
            status: None,
            reaped: false,
            sigchld,
            child,
            close_stdin,
            stdout,
            stderr,
            activity,
        })
    }

    /// The shell's PID, which is also its process group's id.
    pub fn id(&self) -> Option<u32> {
        self.pid.and_then(|p| u32::try_from(p).ok())
    }

    /// Closes the command's stdin (after what was written): EOF for the client.
    pub fn close_stdin(&mut self) {
        if let Some(tx) = self.close_stdin.take() {
            let _ = tx.send(());
        }
    }

    /// Whether the command's stdin is closed (or never was a pipe or terminal).
    pub fn stdin_closed(&self) -> bool {
        self.close_stdin.is_none()
    }

    /// A counter that changes whenever the command prints something captured.
    pub fn activity(&self) -> Arc<AtomicU64> {
        self.activity.clone()
    }

    /// Waits for the command (the shell) to exit, without reaping it: its
    /// group can still be killed safely. Cancel-safe, and may be called again.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        loop {
            if let Some(status) = self.status {
                return Ok(status);
            }
            let Some(pid) = self.pid else {
                // A child without a PID was reaped already.
                let status = self.child.wait().await?;
                self.reaped = true;
                self.status = Some(status);
                continue;
            };
            self.status = exited(pid)?;
            if self.status.is_none() {
                match &mut self.sigchld {
                    Some(sigchld) => {
                        let _ = tokio::time::timeout(EXIT_POLL, sigchld.recv()).await;
                    }
                    None => tokio::time::sleep(EXIT_POLL).await,
                }
            }
        }
    }

    /// Waits at most `limit` for the command to exit: its status, or `None`
    /// if it still runs.
    pub async fn wait_timeout(&mut self, limit: Duration) -> io::Result<Option<ExitStatus>> {
        match tokio::time::timeout(limit, self.wait()).await {
            Ok(status) => status.map(Some),
            Err(_) => Ok(None),
        }
    }

    /// Kills the command's process group (the one made for it), and the shell.
    pub fn kill(&mut self) {
        if !self.reaped
            && let Some(pid) = self.pid
        {
            // SAFETY: killpg only sends a signal; the group id is the shell's
            // own PID, which `process_group(0)` made the leader of a new group,
            // and the shell is not reaped: the PID is not anyone else's.
            unsafe {
                libc::killpg(pid, libc::SIGKILL);
            }
        }
        let _ = self.child.start_kill();
    }

    /// Ends the command: kills its whole group (children that outlived the
    /// shell too), reaps the shell, and returns what it printed and how it
    /// exited (`None` when it had to be killed).
    ///
    /// A command that exited first gets [`PIPE_GRACE`] for what its children
    /// still print on the captured pipes before the group is killed; one that
    /// still runs is killed first.
    pub async fn finish(mut self) -> Finished {
        if self.status.is_none()
            && let Some(pid) = self.pid
        {
            self.status = exited(pid).ok().flatten();
        }
        let exited = self.status;
        let (stdout, stderr) = (self.stdout.take(), self.stderr.take());
        let (stdout, stderr) = if exited.is_some() {
            let collected = tokio::join!(collect(stdout), collect(stderr));
            self.kill();
            collected
        } else {
            self.kill();
            tokio::join!(collect(stdout), collect(stderr))
        };
        self.close_stdin();
        if let Ok(Ok(_)) = tokio::time::timeout(REAP_LIMIT, self.child.wait()).await {
            self.reaped = true;
        }
        Finished {
            stdout,
            stderr,
            status: exited,
        }
    }
}

impl Drop for ClientProcess {
    /// A command dropped before [`ClientProcess::finish`] (a case that returned
    /// early) is killed, group and all; the runtime reaps the shell
    /// (`kill_on_drop`).
    fn drop(&mut self) {
        if !self.reaped {
            self.kill();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piped(stdin: &'static [u8], cap: usize) -> Streams {
        Streams {
            stdin: Stdin::Pipe(Bytes::from_static(stdin)),
            stdout: Output::Capture(cap),
            stderr: Output::Capture(cap),
        }
    }

    #[tokio::test]
    async fn stdin_reaches_the_command_and_eof_follows_the_close() {
        let mut p = ClientProcess::spawn("cat; echo done >&2", piped(b"abc", 1024)).unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!p.stdin_closed());
        p.close_stdin();
        let status = p
            .wait_timeout(Duration::from_secs(10))
            .await
            .unwrap()
            .unwrap();
        assert!(status.success());
        let finished = p.finish().await;
        assert_eq!(finished.stdout.bytes, b"abc");
        assert_eq!(finished.stderr.bytes, b"done\n");
        assert_eq!(finished.status, Some(status));
    }

    #[tokio::test]
    async fn the_exit_status_is_the_one_waitpid_gives() {
        for (command, code, signal) in [
            ("exit 3", Some(3), None),
            ("kill -TERM $$", None, Some(libc::SIGTERM)),
        ] {
            let mut p = ClientProcess::spawn(
                command,
                Streams {
                    stdin: Stdin::Null,
                    stdout: Output::Null,
                    stderr: Output::Null,
                },
            )
            .unwrap();
            let status = p.wait().await.unwrap();
            assert_eq!(
                (status.code(), status.signal()),
                (code, signal),
                "{command}"
            );
            // Seen twice, reaped once: finish gives the same status.
            assert_eq!(p.wait().await.unwrap(), status);
            assert_eq!(p.finish().await.status, Some(status));
        }
    }

    /// Whether process `pid` is gone (or a zombie: its parent, PID 1 once
    /// the group is killed, may not reap it), waiting at most 5 s.
    async fn gone_soon(pid: &str) -> bool {
        for _ in 0..250 {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
            if state.is_none_or(|s| s.starts_with('Z') || s.starts_with('X')) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    #[tokio::test]
    async fn capture_is_bounded_and_kill_ends_the_whole_group() {
        // The shell forks a child that would outlive it (and says its PID), and
        // prints more than the cap.
        let mut p = ClientProcess::spawn(
            "head -c 5000 /dev/zero; sleep 30 & echo $! >&2; wait",
            piped(b"", 100),
        )
        .unwrap();
        assert_eq!(
            p.wait_timeout(Duration::from_millis(200)).await.unwrap(),
            None
        );
        let finished = tokio::time::timeout(Duration::from_secs(10), p.finish())
            .await
            .unwrap();
        assert_eq!(
            (finished.stdout.bytes.len(), finished.stdout.dropped),
            (100, 4900)
        );
        assert!(finished.status.is_none(), "killed, not exited");
        let child = String::from_utf8(finished.stderr.bytes).unwrap();
        assert!(
            gone_soon(child.trim()).await,
            "the child {child} still runs"
        );
    }

    #[tokio::test]
    async fn a_child_that_outlives_the_shell_goes_with_the_group() {
        let mut p = ClientProcess::spawn(
            "sleep 30 </dev/null >/dev/null 2>&1 & echo $!",
            piped(b"", 100),
        )
        .unwrap();
        let status = p.wait_timeout(Duration::from_secs(10)).await.unwrap();
        assert!(status.is_some_and(|s| s.success()));
        let finished = p.finish().await;
        assert_eq!(finished.status, status);
        let child = String::from_utf8(finished.stdout.bytes).unwrap();
        assert!(
            gone_soon(child.trim()).await,
            "the child {child} still runs"
        );
    }
}
