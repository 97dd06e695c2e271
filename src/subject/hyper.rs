//! hyper 1.x as a subject: the example to follow when you plug in your own library.
//!
//! Everything here uses only the harness's public subject API ([`ServerSubject`],
//! [`ClientSubject`], [`ServerHandler`], [`ClientApp`]) and hyper's public API, the
//! way a hyper user (axum, warp, tonic, reqwest) hijacks a connection:
//!
//! * **Server**: `http1::Builder::serve_connection(io, service).with_upgrades()`;
//!   the service takes the request's [`hyper::upgrade::OnUpgrade`] with
//!   [`hyper::upgrade::on`], answers as [`ServerHandler::reply`] says, and the
//!   application awaits the upgrade and gets the stream. Three readings of that
//!   stream are offered ([`ServerMode`]): `Upgraded` itself, `Upgraded::downcast`
//!   with its `read_buf` drained first, and hyper-util's `auto::Builder` with its
//!   own `downcast` (hyper#3587: `auto` wraps the io in a private `Rewind`, so
//!   hyper's `downcast` cannot find the caller's type).
//! * **Client**: `client::conn::http1::Builder::handshake` with the connection
//!   `.with_upgrades()`; after a `101` (or a `2xx` to `CONNECT`) the response's
//!   upgrade gives the stream to [`ClientApp::run`].
//!
//! Every `http1::Builder` option that touches reading, writing or buffering is a
//! field of [`HyperServerOptions`] or [`HyperClientOptions`], with a `proptest`
//! strategy, so that properties draw the configurations users really set together
//! with the scenario.
//!
//! # What hyper cannot express, and what this subject does about it
//!
//! * hyper has no way for the application to write into the connection's buffer
//!   before the hand-over, so [`FirstWrite::WithHead`](crate::scenario::FirstWrite)
//!   and `Unflushed` are run as "first thing after the hand-over"
//!   (`first_written = false`): the application writes them itself.
//! * hyper's server cannot hand over after a normal `200` (no explicit hijack; the
//!   connection stays HTTP), and its client reads a `200` without a length as a
//!   body until EOF: [`Handshake::Explicit`] accepted is [`Support::No`] on both
//!   sides. Nor can a service take the connection before answering and write the
//!   `101` itself ([`AnswerWriter::Application`](crate::scenario::AnswerWriter)),
//!   nor a client application write before the `101` arrives (an optimistic
//!   upgrade): [`Support::No`] too.
//! * hyper sends `100 Continue` by itself, when the service first polls a body
//!   that was sent with `Expect: 100-continue`; it has no way to send one
//!   otherwise. [`Reply::send_continue`](crate::subject::Reply) is therefore not
//!   used. The service reads the body as far as the scenario says (all of it, at
//!   least a part, or none) and drops `Incoming` with the rest.
//! * With `keep_alive(false)` hyper closes the connection after the first
//!   response, by design, so a refused upgrade cannot serve the pipelined request
//!   that follows it: that combination is [`Support::No`].
//!
//! # Findings
//!
//! Four failures (hyper 1.12.0; README "Findings", and the `finding_*` regression
//! tests in `tests/hyper/findings.rs`): `pipeline_flush(true)` drops the `101` head when
//! new-protocol bytes came with the request; the default `half_close(false)` drops a
//! pipelined request after a refusal when the client half-closes; a request body
//! the service drops before its end is handed to the upgraded stream; and then no
//! `100 Continue` precedes the `101` that an `Expect: 100-continue` calls for.
//!
//! # Runtime
//!
//! The futures here need no tokio runtime: hyper's HTTP/1 connection only needs a
//! timer for timeouts, and none is configured. `header_read_timeout` has a default
//! of 30 s, which hyper ignores (with a `warn!`) when no timer is set; setting it
//! explicitly without a timer panics in `serve_connection`, so it is not an option
//! here. That is what lets the same subject run under the harness's deterministic
//! lockstep driver and on a tokio runtime over TCP.

use hyper::header::{HeaderName, HeaderValue};

use crate::reference::head::Header;

use super::SubjectError;
#[cfg(doc)]
use super::{ClientApp, ClientSubject, ServerHandler, ServerSubject, Support};
#[cfg(doc)]
use crate::scenario::Handshake;

mod client;
mod options;
mod server;

pub use client::HyperClient;
pub use options::{
    HyperClientOptions, HyperServerOptions, KNOWN_FINDINGS, ReadBuf, client_options, server_options,
};
pub use server::{HyperServer, ServerMode};

fn library(e: hyper::Error) -> SubjectError {
    SubjectError::Library(e.to_string())
}

/// A harness header as hyper's name and value.
fn header_pair(h: &Header) -> Result<(HeaderName, HeaderValue), SubjectError> {
    let name = HeaderName::from_bytes(h.name.as_bytes())
        .map_err(|e| SubjectError::Library(format!("header name {:?}: {e}", h.name)))?;
    let value = HeaderValue::from_str(&h.value)
        .map_err(|e| SubjectError::Library(format!("header value {:?}: {e}", h.value)))?;
    Ok((name, value))
}
