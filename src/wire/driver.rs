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

use std::cell::RefCell;
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
    // Declared before the future and its waker, so dropped after them: the
    // flag goes back to the thread once nothing else holds it.
    let flag = Kept::take(&SPARE_FLAGS, || Flag(AtomicBool::new(false)));
    let waker = Waker::from(Arc::clone(&flag.0));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    for _ in 0..max_polls {
        flag.0.0.store(false, Ordering::Release);
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            wire.seal();
            return (Some(output), Ending::Completed);
        }
        if flag.0.0.load(Ordering::Acquire) {
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
/// Both futures are pinned inside the join's own future (no box each: two
/// allocations a run, BENCHMARKS.md, issue 26, seventh pass).
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

/// How many wake-up flags of each kind a thread keeps for the next run.
const SPARES: usize = 4;

thread_local! {
    /// The driver's flags of the runs that ended on this thread.
    static SPARE_FLAGS: RefCell<Vec<Arc<Flag>>> = const { RefCell::new(Vec::new()) };
    /// The branches' flags of the joins that ended on this thread.
    static SPARE_BRANCHES: RefCell<Vec<Arc<BranchFlag>>> = const { RefCell::new(Vec::new()) };
}

/// A wake-up flag taken from the thread's spares (a run allocated three of
/// them, and freed them, every time), given back when dropped if nothing
/// else holds it any more.
struct Kept<T: Spare + 'static>(Arc<T>, &'static std::thread::LocalKey<RefCell<Vec<Arc<T>>>>);

/// A flag that can wait among the spares.
trait Spare {
    /// Lets go of what it holds of the run that ended.
    fn release(&mut self);
}

impl Spare for Flag {
    fn release(&mut self) {}
}

impl Spare for BranchFlag {
    fn release(&mut self) {
        // The parent waker holds the ended run's driver flag.
        self.parent = Waker::noop().clone();
    }
}

impl<T: Spare> Kept<T> {
    /// A spare one made `fresh()`, or a new one.
    fn take(
        spares: &'static std::thread::LocalKey<RefCell<Vec<Arc<T>>>>,
        fresh: impl FnOnce() -> T,
    ) -> Self {
        let arc = match spares.with_borrow_mut(Vec::pop) {
            Some(mut arc) => match Arc::get_mut(&mut arc) {
                Some(slot) => {
                    *slot = fresh();
                    arc
                }
                None => Arc::new(fresh()),
            },
            None => Arc::new(fresh()),
        };
        Kept(arc, spares)
    }
}

impl<T: Spare> Drop for Kept<T> {
    fn drop(&mut self) {
        if let Some(slot) = Arc::get_mut(&mut self.0) {
            slot.release();
            let arc = Arc::clone(&self.0);
            self.1.with_borrow_mut(|spares| {
                if spares.len() < SPARES {
                    spares.push(arc);
                }
            });
        }
    }
}

/// One future of a [`join`]: whether it was woken since its last poll, and its waker.
struct Branch {
    // The waker first: dropped before the flag it holds, which then goes back.
    waker: Waker,
    woken: Kept<BranchFlag>,
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
            let woken = Kept::take(&SPARE_BRANCHES, || BranchFlag {
                woken: AtomicBool::new(true),
                parent: parent.clone(),
            });
            Branch {
                waker: Waker::from(Arc::clone(&woken.0)),
                woken,
            }
        })
    }

    /// Whether the branch was woken since its last poll (the flag is lowered).
    fn due(&self) -> bool {
        self.woken.0.woken.swap(false, Ordering::AcqRel)
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

    /// A run's wake-up flags go back to the thread, and the next run takes
    /// those same ones instead of allocating its own.
    #[test]
    fn the_next_run_reuses_the_wake_up_flags() {
        let (_client, _server, wire) = pair(&Cuts::default(), Recorder::new());
        let kept = || {
            let flags = SPARE_FLAGS.with_borrow(|s| s.iter().map(Arc::as_ptr).collect::<Vec<_>>());
            let branches =
                SPARE_BRANCHES.with_borrow(|s| s.iter().map(Arc::as_ptr).collect::<Vec<_>>());
            (flags, branches)
        };
        drive(join(yields(1), yields(2)), &wire, 100);
        let after_one = kept();
        assert_eq!((after_one.0.len(), after_one.1.len()), (1, 2));
        drive(join(yields(2), yields(1)), &wire, 100);
        let mut after_two = kept();
        after_two.1.reverse();
        assert_eq!(
            after_two, after_one,
            "the second run allocated flags of its own"
        );
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
