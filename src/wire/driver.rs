//! A lockstep executor for runs over the in-memory wire.
//!
//! A run over the in-memory wire must be a pure function of its scenario, so it
//! cannot depend on a scheduler or a clock. This driver polls one future (both
//! peers joined) on the current thread with a waker that only raises a flag. When a
//! poll leaves the flag down, nothing can make progress by itself: the driver then
//! asks the wire to release held bytes (see [`memory`](super::memory)); if there
//! are none, the connection is *quiet*, which ends the run. Quiet is not an error by
//! itself: an echo that was never sent a FIN waits forever by design, and the
//! oracle decides from what was delivered whether the wait was a lost byte.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use super::memory::WireHandle;

/// How a driven run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The future finished.
    Completed,
    /// Everything was waiting and the wire held nothing: the conversation is over.
    Quiet,
    /// The poll budget ran out: something spins without making progress.
    PollLimit,
}

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

/// Polls `future` until it completes, the wire goes quiet, or `max_polls` polls were made.
///
/// The output is `Some` only when the run [`Completed`](Ending::Completed). The
/// wire's recorder is sealed before `future` is dropped, so that the teardown of
/// an unfinished run stays out of the trace.
pub fn drive<F: Future>(
    future: F,
    wire: &WireHandle,
    max_polls: usize,
) -> (Option<F::Output>, Ending) {
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    for _ in 0..max_polls {
        flag.0.store(false, Ordering::Release);
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            wire.seal();
            return (Some(output), Ending::Completed);
        }
        if flag.0.load(Ordering::Acquire) {
            continue;
        }
        if !wire.release_held() {
            wire.seal();
            return (None, Ending::Quiet);
        }
    }
    wire.seal();
    (None, Ending::PollLimit)
}

/// Runs two futures concurrently on the driver's waker; ready when both are.
pub async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (Box::pin(a), Box::pin(b));
    let (mut out_a, mut out_b) = (None, None);
    std::future::poll_fn(move |cx| {
        if out_a.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(cx)
        {
            out_a = Some(v);
        }
        if out_b.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(cx)
        {
            out_b = Some(v);
        }
        match (out_a.take(), out_b.take()) {
            (Some(x), Some(y)) => Poll::Ready((x, y)),
            (x, y) => {
                out_a = x;
                out_b = y;
                Poll::Pending
            }
        }
    })
    .await
}
