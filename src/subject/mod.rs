//! What is tested: an HTTP/1.1 library's hand-over, behind one trait per side.
//!
//! A subject is the *library*; the harness brings everything around it. For a
//! server subject the harness provides the transport (whose other end is a
//! scripted client) and a [`ServerHandler`]: the handler decides each answer, and
//! its [`ServerHandler::run`] is the application that takes the hijacked stream.
//! A client subject gets a transport (a scripted server at the other end) and a
//! [`ClientApp`] that says what to request and takes the stream. The subject's job
//! is only what a library does: parse, answer, and hand over. Because the
//! application is the harness's, what it read and wrote is recorded truthfully,
//! whoever the subject is.
//!
//! To test your own library, implement [`ServerSubject`] or [`ClientSubject`]
//! (see `src/subject/reference.rs` for a complete one) and call
//! [`crate::properties::check_server`] or [`crate::properties::check_client`].

use std::future::Future;
use std::io;
use std::pin::Pin;

use crate::scenario::Scenario;

pub mod app;
mod flaws;
pub mod hyper;
pub mod known;
pub mod mutants;
pub mod proxy;
pub mod reference;
pub mod websocket;

pub use app::{AppRecord, ClientApp, HandOver, Reply, ServerHandler};

/// The transport a subject is given: see [`crate::wire::transport`].
pub use crate::wire::transport::{BoxIo, Io};

/// A boxed future, for object-safe async trait methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a subject stopped with an error. An error is not a verdict: the oracle
/// judges from what reached the application and the wire, and shows the error
/// beside its diagnosis.
#[derive(Debug, thiserror::Error)]
pub enum SubjectError {
    /// The transport or the hijacked stream failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// The library reported an error of its own.
    #[error("{0}")]
    Library(String),
}

/// Whether a subject can run a scenario at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Support {
    /// It can.
    Yes,
    /// It cannot, and this is why (for example, no explicit hijack after a `200`).
    No(String),
}

/// An HTTP/1.1 server library under test.
pub trait ServerSubject: Send + Sync {
    /// A short name for reports (`reference`, `hyper`, ...).
    fn name(&self) -> String;

    /// Whether the library can run `scenario` (default: yes).
    fn supports(&self, _scenario: &Scenario) -> Support {
        Support::Yes
    }

    /// Serves one connection on `io`: read requests, answer each with
    /// [`ServerHandler::reply`], and when the reply hands over, give the stream to
    /// [`ServerHandler::run`].
    fn serve(
        &self,
        io: BoxIo,
        handler: ServerHandler,
    ) -> BoxFuture<'static, Result<(), SubjectError>>;
}

/// An HTTP/1.1 client library under test.
pub trait ClientSubject: Send + Sync {
    /// A short name for reports.
    fn name(&self) -> String;

    /// Whether the library can run `scenario` (default: yes).
    fn supports(&self, _scenario: &Scenario) -> Support {
        Support::Yes
    }

    /// Sends [`ClientApp::request`] on `io`, reads the answer, and when the
    /// connection switches protocols (or [`ClientApp::explicit_hijack`] asks for it),
    /// gives the stream to [`ClientApp::run`].
    fn connect(&self, io: BoxIo, app: ClientApp) -> BoxFuture<'static, Result<(), SubjectError>>;
}
