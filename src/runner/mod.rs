//! Running the conformance suite over loopback TCP: against subjects in this
//! process ([`embedded`]), and against any server, proxy or client in another
//! process ([`black_box`]).
//!
//! Every case is bounded in time. A run ends when both peers are done, when the
//! connection has been *quiet* for [`Options::quiet`] (nothing moved on either
//! recorded end: the conversation is over, as on the in-memory wire, and the
//! oracle judges what was delivered), or at [`Options::timeout`], which is an
//! error verdict, never a hang of the tool.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::results::CaseResult;
use crate::wire::Recorder;
use crate::wire::tcp::Capture;

pub mod black_box;
pub mod client_listener;
pub mod docker;
pub mod embedded;
pub mod listening;
pub mod process;
pub mod serve;
pub mod target;

/// How cases are run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The most one case may take.
    pub timeout: Duration,
    /// How long nothing may move before the conversation counts as over.
    pub quiet: Duration,
    /// The pause at each cut point.
    pub pause: Duration,
    /// The most bytes of trace kept per connection.
    pub capture_cap: usize,
    /// How many cases run at once.
    pub concurrency: usize,
    /// How many times each case runs; repetitions that disagree make the case
    /// `flaky` ([`crate::results::CaseResult::merge`]).
    pub repeat: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_secs(5),
            quiet: Duration::from_millis(250),
            pause: crate::wire::tcp::CUT_PAUSE,
            capture_cap: crate::wire::tcp::DEFAULT_CAP,
            concurrency: 8,
            repeat: 1,
        }
    }
}

/// The notes a case over TCP carries about what the transport did to it, worded
/// once for the embedded and the black-box runners.
impl Options {
    /// The case was stopped at [`Options::timeout`] with bytes still moving.
    pub(crate) fn timed_out_note(&self) -> String {
        format!(
            "timed out after {} ms with bytes still moving",
            self.timeout.as_millis()
        )
    }

    /// Nothing moved for [`Options::quiet`]: the case was judged as it stood.
    pub(crate) fn quiet_note(&self) -> String {
        format!(
            "the connection went quiet for {} ms; judged as it stood",
            self.quiet.as_millis()
        )
    }

    /// The trace hit [`Options::capture_cap`] and `dropped` bytes were not stored.
    pub(crate) fn capped_note(&self, dropped: usize) -> String {
        format!(
            "capture capped at {} bytes: {dropped} more were not stored, so the verdict may be wrong",
            self.capture_cap
        )
    }
}

/// Errors that stop a run before any case could be judged.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The target could not be reached.
    #[error(transparent)]
    Connect(#[from] crate::wire::tcp::TcpError),
    /// A local socket could not be set up.
    #[error("could not set up a local socket: {0}")]
    Io(#[from] std::io::Error),
    /// The arguments do not make a run.
    #[error("{0}")]
    Usage(String),
}

/// How waiting for a run ended.
pub(crate) enum Settled<T> {
    /// Both peers finished.
    Done(T),
    /// Nothing moved for the quiet period.
    Quiet,
    /// The case timeout passed while bytes were still moving.
    TimedOut,
}

/// Waits for `fut`, ending early when `capture` shows no activity for `quiet`,
/// or at `timeout`. The recorder is sealed before `fut` is dropped, so that the
/// teardown of an unfinished run (sockets dropped) stays out of the trace.
pub(crate) async fn settle<F: Future>(
    fut: F,
    capture: &Capture,
    recorder: &Recorder,
    quiet: Duration,
    timeout: Duration,
) -> Settled<F::Output> {
    let mut fut = std::pin::pin!(fut);
    let deadline = tokio::time::Instant::now() + timeout;
    let watch = async {
        let tick = (quiet / 5).max(Duration::from_millis(2));
        let mut last = capture.activity();
        let mut since = Instant::now();
        // Wall time alone is not enough: if the runtime was busy elsewhere (a big
        // diff in another case's oracle), this connection was not polled either.
        // Quiet needs several ticks in a row that each saw nothing move.
        let mut still = 0u32;
        loop {
            tokio::time::sleep(tick).await;
            let now = capture.activity();
            if now != last {
                last = now;
                since = Instant::now();
                still = 0;
            } else {
                still += 1;
                if still >= 5 && since.elapsed() >= quiet {
                    return;
                }
            }
        }
    };
    let settled = tokio::select! {
        out = &mut fut => Settled::Done(out),
        () = watch => Settled::Quiet,
        () = tokio::time::sleep_until(deadline) => Settled::TimedOut,
    };
    recorder.seal();
    settled
}

/// Called with each case result as it is made (for progress bars and plain lines).
pub type Progress = Arc<dyn Fn(&CaseResult) + Send + Sync>;

/// A progress callback that does nothing.
pub fn no_progress() -> Progress {
    Arc::new(|_| {})
}

/// Runs `jobs` at most `limit` at a time on the current runtime, keeping their
/// order, calling `done` as each finishes.
pub(crate) async fn bounded<F>(jobs: Vec<F>, limit: usize, done: Progress) -> Vec<CaseResult>
where
    F: Future<Output = CaseResult> + Send + 'static,
{
    let semaphore = Arc::new(tokio::sync::Semaphore::new(limit.max(1)));
    let mut handles = Vec::with_capacity(jobs.len());
    for job in jobs {
        let semaphore = semaphore.clone();
        let done = done.clone();
        handles.push(tokio::spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            let result = job.await;
            done(&result);
            result
        }));
    }
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        match handle.await {
            Ok(value) => out.push(value),
            // A panicking case is a harness bug; surface it where it happened.
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    out
}
