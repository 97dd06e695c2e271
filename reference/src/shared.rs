//! [`Shared`]: how this crate's async methods hand out their futures, so that a
//! crate downstream polls this crate's copy of them.
//!
//! The body of an `async fn` is compiled in every crate that awaits it (rustc
//! treats it like a closure: a local copy per crate, whatever the flags). The
//! `poll` of a plain generic struct is not: with `-Zshare-generics=y` a
//! downstream crate links to the copy an upstream crate compiled for the same
//! types. So every public async method here returns its body wrapped in a
//! [`Shared`], and `instances` compiles those for the harness's stream type in
//! this crate. The fuzz build relies on it: it instruments this crate and not
//! the harness (fuzz/Cargo.toml), and the hand-over's reads, buffers and
//! flushes must stay under coverage. In every other build it is a plain
//! pass-through.

use std::pin::Pin;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// A future polled through its own generic `poll` (see the module documentation).
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Shared<F> {
        #[pin]
        inner: F,
    }
}

impl<F> Shared<F> {
    /// Wraps `inner`.
    pub fn new(inner: F) -> Self {
        Shared { inner }
    }
}

impl<F: Future> Future for Shared<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().inner.poll(cx)
    }
}
