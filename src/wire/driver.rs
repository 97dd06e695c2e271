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
///
/// Each is polled first, and after that only when it was woken (each gets a
/// waker of its own that also wakes the driver), the way an executor polls its
/// tasks: a poll that nothing asked for cannot make progress, and in some
/// libraries it is not free (tungstenite zeroes its 128 KiB read buffer before
/// every read, a `Pending` one included). In one round `a` is polled before `b`,
/// so `b` still sees in the same round whatever `a` just did.
///
/// The two futures are pinned in the join's own future, not boxed: two
/// allocations a run fewer.
pub async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut out_a, mut out_b) = (None, None);
    let mut branches: Option<(Waker, [Branch; 2])> = None;
    std::future::poll_fn(move |cx| {
        // On the first poll, or under a new driver waker, every branch is due.
        if branches
            .as_ref()
            .is_some_and(|(parent, _)| !parent.will_wake(cx.waker()))
        {
            branches = None;
        }
        let (_, [wake_a, wake_b]) =
            branches.get_or_insert_with(|| (cx.waker().clone(), Branch::pair(cx.waker())));
        if out_a.is_none()
            && wake_a.due()
            && let Poll::Ready(v) = a.as_mut().poll(&mut Context::from_waker(&wake_a.waker))
        {
            out_a = Some(v);
        }
        if out_b.is_none()
            && wake_b.due()
            && let Poll::Ready(v) = b.as_mut().poll(&mut Context::from_waker(&wake_b.waker))
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

/// One future of a [`join`]: whether it was woken since its last poll, and its waker.
struct Branch {
    woken: Arc<BranchFlag>,
    waker: Waker,
}

/// A branch's wake-up: raises its flag and wakes the driver.
struct BranchFlag {
    woken: AtomicBool,
    parent: Waker,
}

impl Wake for BranchFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.parent.wake_by_ref();
    }
}

impl Branch {
    /// Two branches under `parent`, both due for their first poll.
    fn pair(parent: &Waker) -> [Branch; 2] {
        [(); 2].map(|()| {
            let woken = Arc::new(BranchFlag {
                woken: AtomicBool::new(true),
                parent: parent.clone(),
            });
            Branch {
                waker: Waker::from(woken.clone()),
                woken,
            }
        })
    }

    /// Whether the branch was woken since its last poll (the flag is lowered).
    fn due(&self) -> bool {
        self.woken.woken.swap(false, Ordering::AcqRel)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::wire::memory::{Cuts, pair};
    use crate::wire::trace::Recorder;

    /// Pending forever without asking to be woken, counting its polls.
    async fn never_woken(polls: &Cell<u32>) {
        std::future::poll_fn(|_| {
            polls.set(polls.get() + 1);
            Poll::<()>::Pending
        })
        .await
    }

    /// Wakes itself `n` times, then is done.
    async fn yields(n: u32) {
        let mut left = n;
        std::future::poll_fn(|cx| {
            if left == 0 {
                return Poll::Ready(());
            }
            left -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        })
        .await
    }

    #[test]
    fn join_polls_only_the_woken_future() {
        let (_client, _server, wire) = pair(&Cuts::default(), Recorder::new());
        let polls = Cell::new(0);
        let (out, ending) = drive(join(never_woken(&polls), yields(5)), &wire, 100);
        assert!(out.is_none());
        assert_eq!(ending, Ending::Quiet);
        // Polled once at the start; the other's five wake-ups are not its own.
        assert_eq!(polls.get(), 1);
        // In the other order too.
        let polls = Cell::new(0);
        let (_, ending) = drive(join(yields(5), never_woken(&polls)), &wire, 100);
        assert_eq!((ending, polls.get()), (Ending::Quiet, 1));
    }
}
