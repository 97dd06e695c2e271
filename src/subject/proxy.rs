//! What is tested in the third role: a proxy (an intermediary) that carries an
//! upgrade or a `CONNECT`.
//!
//! A proxy subject gets the client leg's stream (a scripted client at the
//! other end) and an [`Upstream`]: the way to open the upstream leg, which the
//! harness provides (in memory, a scripted upstream that records what reached
//! it and when). It serves one connection: reads the request, forwards it,
//! relays the answer, and tunnels if, and only if, the upstream switched. The
//! oracle judges both legs ([`crate::oracle::proxy`]).
//!
//! To test your own proxy, implement [`ProxySubject`] and call
//! [`crate::properties::proxy::assert_proxy_conforms`].

use std::io;

use super::{BoxFuture, BoxIo, SubjectError};
use crate::reference::proxy as reference;

pub mod mutants;
pub mod version_blind;

/// The way to open the upstream leg, given to a proxy subject.
pub trait Upstream: Send {
    /// Opens a connection to the upstream for a request to `authority` (the
    /// `Host`, or the `CONNECT` target). The harness has one upstream, so the
    /// authority only names it.
    fn connect(&mut self, authority: &str) -> BoxFuture<'_, io::Result<BoxIo>>;
}

/// An [`Upstream`] that hands out one stream, once: the upstream leg of an
/// in-memory run.
pub struct OneUpstream(Option<BoxIo>);

impl OneUpstream {
    /// An upstream whose one connection is `io`.
    pub fn new(io: BoxIo) -> Self {
        OneUpstream(Some(io))
    }
}

impl Upstream for OneUpstream {
    fn connect(&mut self, authority: &str) -> BoxFuture<'_, io::Result<BoxIo>> {
        let io = self.0.take().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::ConnectionRefused,
                format!("the upstream for {authority} takes one connection per case"),
            )
        });
        Box::pin(async move { io })
    }
}

/// An HTTP/1.1 proxy under test.
pub trait ProxySubject: Send + Sync {
    /// A short name for reports.
    fn name(&self) -> String;

    /// Serves one client connection on `client`, opening the upstream leg
    /// through `upstream`.
    fn serve(
        &self,
        client: BoxIo,
        upstream: Box<dyn Upstream>,
    ) -> BoxFuture<'static, Result<(), SubjectError>>;
}

/// The reference proxy ([`crate::reference::proxy`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct ReferenceProxy;

impl ProxySubject for ReferenceProxy {
    fn name(&self) -> String {
        "reference-proxy".into()
    }

    fn serve(
        &self,
        client: BoxIo,
        upstream: Box<dyn Upstream>,
    ) -> BoxFuture<'static, Result<(), SubjectError>> {
        Box::pin(async move {
            // Boxed, so that the fuzz build runs the copy of `serve` compiled
            // (and instrumented) in the reference crate.
            let connect: reference::Connect =
                Box::new(move |authority| Box::pin(open(upstream, authority)));
            reference::serve(client, connect)
                .await
                .map_err(|e| SubjectError::Library(e.to_string()))
        })
    }
}

/// Opens the upstream leg through `upstream`: the reference proxy's `connect`.
pub(crate) async fn open(mut upstream: Box<dyn Upstream>, authority: String) -> io::Result<BoxIo> {
    upstream.connect(&authority).await
}

/// What a proxy run records beside the client leg's trace: the upstream leg.
#[derive(Debug, Clone, Default)]
pub struct ProxyRecord {
    /// Everything that crossed the upstream leg (`c>s`: proxy to upstream).
    pub upstream: crate::wire::Trace,
    /// How many bytes had reached the upstream when it answered, if it did.
    pub answered_after: Option<usize>,
}
