//! One way to drive a target: whatever the suite runs against (a server or a
//! proxy at an address, a client command, a Docker client, a subject in this
//! process) is a [`Target`]: it runs one case once and judges it
//! ([`Target::attempt`]). How the attempts are scheduled is the runner's, in
//! one place for every kind of target: [`one_at_a_time`] for another process
//! (a real peer's timing should not depend on the harness's parallelism),
//! with repetitions merged and a crash told from a verdict that changed;
//! `embedded` runs subjects in this process concurrently, over the same trait.

use std::future::Future;

use crate::results::CaseResult;
use crate::suite::Case;

use super::{Options, Progress};

/// Something the suite runs against.
pub trait Target: Sync {
    /// What happens on the wire in its cases: a [`Scenario`](crate::scenario::Scenario),
    /// or a Docker client's [`Attach`](crate::suite::attach::Attach).
    type Script: Sync;

    /// Who the target is in a note: "the server", "the proxy", "the client".
    fn who(&self) -> &'static str;

    /// Runs `case` once against the target, and judges it.
    fn attempt(
        &self,
        case: &Case<Self::Script>,
        opts: &Options,
    ) -> impl Future<Output = Attempt> + Send;
}

/// One attempt at a case, and whether its connection was refused.
#[derive(Debug)]
pub struct Attempt {
    /// The attempt's result.
    pub result: CaseResult,
    /// Whether nothing accepted its connection: after an attempt that
    /// connected, the target stopped.
    pub refused: bool,
}

impl From<CaseResult> for Attempt {
    fn from(result: CaseResult) -> Attempt {
        Attempt {
            result,
            refused: false,
        }
    }
}

/// Runs each case against `target` in order, [`Options::repeat`] times each,
/// each attempt after the last has finished; the repetitions of a case become
/// one result ([`CaseResult::merge`]: `flaky` when they disagree), reported to
/// `progress` as it is made.
///
/// A target that refuses a connection after a repetition of a case connected
/// has stopped (it may have crashed, on that case or on the one before): the
/// case keeps the verdict of the repetitions before, with a note saying so
/// (never `flaky`: a crash is not a verdict that changes), the repetitions
/// left are not made, and every later case that cannot connect says where the
/// target stopped (after which case, when it died between two).
pub async fn one_at_a_time<T: Target>(
    target: &T,
    cases: &[Case<T::Script>],
    opts: &Options,
    progress: Progress,
) -> Vec<CaseResult> {
    let (repeat, who) = (opts.repeat.max(1), target.who());
    let mut out = Vec::with_capacity(cases.len());
    let mut stopped: Option<String> = None;
    let mut last_connected: Option<&str> = None;
    for case in cases {
        let mut runs = Vec::with_capacity(repeat);
        let mut crashed = false;
        for done in 0..repeat {
            let mut this = target.attempt(case, opts).await;
            if !this.refused {
                last_connected = Some(case.id);
                runs.push(this.result);
                continue;
            }
            if done > 0 {
                crashed = true;
                break;
            }
            // Nothing listens: every repetition would say the same.
            if stopped.is_none() {
                stopped = last_connected.map(|id| format!("after {id}"));
            }
            if let Some(where_) = &stopped {
                this.result.notes.push(format!(
                    "{who} stopped accepting connections {where_} (it may have crashed)"
                ));
            }
            runs.push(this.result);
            break;
        }
        let done = runs.len();
        let mut result = CaseResult::merge(runs);
        if crashed {
            result.notes.push(stopped_note(who, done, repeat));
            stopped = Some(format!("after repetition {done} of {}", case.id));
        }
        progress(&result);
        out.push(result);
    }
    out
}

/// Runs each case against its target in this process, at most
/// [`Options::concurrency`] at a time, reporting each result to `progress` as
/// it is made; the results keep the order of `pairs`. For subjects in this
/// process only: their cases share nothing but the runtime.
pub async fn concurrently<T>(
    pairs: Vec<(T, Case<T::Script>)>,
    opts: &Options,
    progress: Progress,
) -> Vec<CaseResult>
where
    T: Target + Send + 'static,
    T::Script: Send + 'static,
{
    let jobs = pairs
        .into_iter()
        .map(|(target, case)| {
            let opts = opts.clone();
            async move { target.attempt(&case, &opts).await.result }
        })
        .collect();
    super::bounded(jobs, opts.concurrency, progress).await
}

/// What a case says when `who` stopped accepting connections after
/// `done` of its `repeat` repetitions.
fn stopped_note(who: &str, done: usize, repeat: usize) -> String {
    let left = repeat - done;
    format!(
        "{who} stopped accepting connections after repetition {done} of this case (it may have crashed): \
         the {left} repetition{} after it could not connect and {} not counted; the verdict is that of the \
         {done} before it (a crash, not a verdict that changed)",
        if left == 1 { "" } else { "s" },
        if left == 1 { "is" } else { "are" },
    )
}
