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
//!   sides.
//! * hyper sends `100 Continue` by itself, when the service first polls a body
//!   that was sent with `Expect: 100-continue`; it has no way to send one
//!   otherwise. [`Reply::send_continue`](crate::subject::Reply) is therefore not
//!   used (the oracle skips interim responses, so this changes nothing it checks).
//! * With `keep_alive(false)` hyper closes the connection after the first
//!   response, by design, so a refused upgrade cannot serve the pipelined request
//!   that follows it: that combination is [`Support::No`].
//!
//! # Findings
//!
//! Two configurations break the invariant (hyper 1.12.0; README "Findings", and the
//! `finding_*` regression tests in `tests/hyper.rs`): `pipeline_flush(true)` drops
//! the `101` head when new-protocol bytes came with the request, and the default
//! `half_close(false)` drops a pipelined request after a refusal when the client
//! half-closes.
//!
//! # Runtime
//!
//! The futures here need no tokio runtime: hyper's HTTP/1 connection only needs a
//! timer for timeouts, and none is configured. `header_read_timeout` has a default
//! of 30 s, which hyper ignores (with a `warn!`) when no timer is set; setting it
//! explicitly without a timer panics in `serve_connection`, so it is not an option
//! here. That is what lets the same subject run under the harness's deterministic
//! lockstep driver and on a tokio runtime over TCP.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{HeaderName, HeaderValue};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use proptest::prelude::*;
use tokio::sync::oneshot;

use crate::reference::head::{Header, RequestHead, ResponseHead};
use crate::reference::{Hijacked, RequestBody};
use crate::scenario::{Answer, Handshake, Scenario};

use super::{
    BoxFuture, BoxIo, ClientApp, ClientSubject, HandOver, ServerHandler, ServerSubject,
    SubjectError, Support,
};

// ---------------------------------------------------------------------------
// options

/// The `hyper::server::conn::http1::Builder` options that touch reading, writing
/// or buffering. `None` leaves hyper's default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HyperServerOptions {
    /// `half_close`: keep reading after the client's FIN in the middle of a request.
    pub half_close: bool,
    /// `keep_alive`: serve more than one request per connection.
    pub keep_alive: bool,
    /// `title_case_headers`: write `Content-Length`, not `content-length`.
    pub title_case_headers: bool,
    /// `preserve_header_case`.
    pub preserve_header_case: bool,
    /// `max_headers` (drawn at least as large as any scenario's header count).
    pub max_headers: Option<usize>,
    /// `max_header_size` (drawn larger than any scenario's head; not on `auto`).
    pub max_header_size: Option<usize>,
    /// `writev`: `Some(true)` queues buffers, `Some(false)` flattens, `None` is auto.
    pub writev: Option<bool>,
    /// `max_buf_size` (hyper's minimum is 8192).
    pub max_buf_size: Option<usize>,
    /// `auto_date_header`.
    pub auto_date_header: bool,
    /// `pipeline_flush`: aggregate flushes of pipelined responses.
    pub pipeline_flush: bool,
    /// `ignore_invalid_headers`.
    pub ignore_invalid_headers: bool,
    /// `allow_multiple_spaces_in_request_line_delimiters` (not on `auto`).
    pub allow_multiple_spaces: bool,
}

impl Default for HyperServerOptions {
    /// hyper's defaults.
    fn default() -> Self {
        HyperServerOptions {
            half_close: false,
            keep_alive: true,
            title_case_headers: false,
            preserve_header_case: false,
            max_headers: None,
            max_header_size: None,
            writev: None,
            max_buf_size: None,
            auto_date_header: true,
            pipeline_flush: false,
            ignore_invalid_headers: false,
            allow_multiple_spaces: false,
        }
    }
}

impl HyperServerOptions {
    /// The known finding (README, "Findings") that hyper 1.12 with these options
    /// hits on `s`, if any, by its regression test's name in `tests/hyper.rs`.
    ///
    /// The hyper properties and fuzz targets skip these cases, so that they keep
    /// looking for new failures instead of rediscovering known ones; each
    /// finding's own regression test asserts that hyper still fails it, and fails
    /// the day hyper is fixed.
    pub fn known_finding(&self, s: &Scenario) -> Option<&'static str> {
        if self.pipeline_flush && s.accepted() && !s.client_early().is_empty() {
            return Some("pipeline_flush_loses_101_head");
        }
        if !s.accepted() && s.client.half_close && !self.half_close {
            return Some("half_close_false_drops_pipelined_request");
        }
        None
    }

    /// A `http1::Builder` with these options.
    pub fn builder(&self) -> hyper::server::conn::http1::Builder {
        let mut b = hyper::server::conn::http1::Builder::new();
        b.half_close(self.half_close)
            .keep_alive(self.keep_alive)
            .title_case_headers(self.title_case_headers)
            .preserve_header_case(self.preserve_header_case)
            .auto_date_header(self.auto_date_header)
            .pipeline_flush(self.pipeline_flush)
            .ignore_invalid_headers(self.ignore_invalid_headers)
            .allow_multiple_spaces_in_request_line_delimiters(self.allow_multiple_spaces);
        if let Some(n) = self.max_headers {
            b.max_headers(n);
        }
        if let Some(n) = self.max_header_size {
            b.max_header_size(n);
        }
        if let Some(v) = self.writev {
            b.writev(v);
        }
        if let Some(n) = self.max_buf_size {
            b.max_buf_size(n);
        }
        b
    }

    /// A hyper-util `auto::Builder`, HTTP/1 path, with the options it exposes.
    pub fn auto_builder(&self) -> hyper_util::server::conn::auto::Builder<TokioExecutor> {
        // The executor is only used for HTTP/2 streams; the HTTP/1 path never spawns.
        let mut b = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        {
            let mut h1 = b.http1();
            h1.half_close(self.half_close)
                .keep_alive(self.keep_alive)
                .title_case_headers(self.title_case_headers)
                .preserve_header_case(self.preserve_header_case)
                .auto_date_header(self.auto_date_header)
                .pipeline_flush(self.pipeline_flush)
                .ignore_invalid_headers(self.ignore_invalid_headers);
            if let Some(n) = self.max_headers {
                h1.max_headers(n);
            }
            if let Some(v) = self.writev {
                h1.writev(v);
            }
            if let Some(n) = self.max_buf_size {
                h1.max_buf_size(n);
            }
        }
        b
    }
}

/// How the client's read buffer is sized (hyper makes the two settings exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadBuf {
    /// hyper's adaptive default.
    Default,
    /// `read_buf_exact_size(Some(n))`: every read asks for exactly `n` bytes.
    Exact(usize),
    /// `max_buf_size(n)` (at least 8192).
    Max(usize),
}

/// The `hyper::client::conn::http1::Builder` options that touch reading, writing,
/// buffering or parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HyperClientOptions {
    /// `writev`.
    pub writev: Option<bool>,
    /// `read_buf_exact_size` or `max_buf_size`.
    pub read_buf: ReadBuf,
    /// `title_case_headers`.
    pub title_case_headers: bool,
    /// `preserve_header_case`.
    pub preserve_header_case: bool,
    /// `max_headers` (drawn at least as large as any scenario's header count).
    pub max_headers: Option<usize>,
    /// `max_header_size` (drawn larger than any scenario's head).
    pub max_header_size: Option<usize>,
    /// `http09_responses`.
    pub http09_responses: bool,
    /// `allow_spaces_after_header_name_in_responses`.
    pub allow_spaces_after_header_name: bool,
    /// `allow_obsolete_multiline_headers_in_responses`.
    pub allow_obsolete_multiline_headers: bool,
    /// `ignore_invalid_headers_in_responses`.
    pub ignore_invalid_headers: bool,
}

impl Default for HyperClientOptions {
    /// hyper's defaults.
    fn default() -> Self {
        HyperClientOptions {
            writev: None,
            read_buf: ReadBuf::Default,
            title_case_headers: false,
            preserve_header_case: false,
            max_headers: None,
            max_header_size: None,
            http09_responses: false,
            allow_spaces_after_header_name: false,
            allow_obsolete_multiline_headers: false,
            ignore_invalid_headers: false,
        }
    }
}

impl HyperClientOptions {
    /// A client `http1::Builder` with these options.
    pub fn builder(&self) -> hyper::client::conn::http1::Builder {
        let mut b = hyper::client::conn::http1::Builder::new();
        b.title_case_headers(self.title_case_headers)
            .preserve_header_case(self.preserve_header_case)
            .http09_responses(self.http09_responses)
            .allow_spaces_after_header_name_in_responses(self.allow_spaces_after_header_name)
            .allow_obsolete_multiline_headers_in_responses(self.allow_obsolete_multiline_headers)
            .ignore_invalid_headers_in_responses(self.ignore_invalid_headers);
        if let Some(v) = self.writev {
            b.writev(v);
        }
        match self.read_buf {
            ReadBuf::Default => {}
            ReadBuf::Exact(n) => {
                b.read_buf_exact_size(Some(n));
            }
            ReadBuf::Max(n) => {
                b.max_buf_size(n);
            }
        }
        if let Some(n) = self.max_headers {
            b.max_headers(n);
        }
        if let Some(n) = self.max_header_size {
            b.max_header_size(n);
        }
        b
    }
}

/// A scenario's heads carry at most this many fields (host, upgrade pair,
/// framing, expect, four extras); `max_headers` is drawn at or above it, since a
/// smaller limit is a `431`, not a hand-over question.
const MOST_HEADERS: usize = 10;

/// A scenario's longest response, interim `100 Continue` included, is under this.
const MOST_HEAD: usize = 512;

fn max_buf_size() -> impl Strategy<Value = usize> {
    prop_oneof![Just(8192usize), 8193usize..=70_000, Just(400 * 1024)]
}

fn max_header_size() -> impl Strategy<Value = Option<usize>> {
    // The longest generated head is well under 1 KiB.
    prop::option::of(prop_oneof![Just(2048usize), 2049usize..=65_536])
}

/// Any server configuration.
pub fn server_options() -> impl Strategy<Value = HyperServerOptions> {
    (
        (
            any::<bool>(),
            prop::bool::weighted(0.8),
            any::<bool>(),
            any::<bool>(),
        ),
        (
            prop::option::of(MOST_HEADERS..=200),
            max_header_size(),
            prop::option::of(any::<bool>()),
            prop::option::of(max_buf_size()),
        ),
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(
                (half_close, keep_alive, title_case_headers, preserve_header_case),
                (max_headers, max_header_size, writev, max_buf_size),
                (auto_date_header, pipeline_flush, ignore_invalid_headers, allow_multiple_spaces),
            )| HyperServerOptions {
                half_close,
                keep_alive,
                title_case_headers,
                preserve_header_case,
                max_headers,
                max_header_size,
                writev,
                max_buf_size,
                auto_date_header,
                pipeline_flush,
                ignore_invalid_headers,
                allow_multiple_spaces,
            },
        )
}

/// Any client configuration.
pub fn client_options() -> impl Strategy<Value = HyperClientOptions> {
    let read_buf = prop_oneof![
        2 => Just(ReadBuf::Default),
        // hyper's exact read size is also the largest head it reads (a smaller one is
        // "message head is too large"), so it is drawn above a scenario's longest head.
        2 => prop_oneof![Just(MOST_HEAD), (MOST_HEAD + 1)..=4096, Just(8192usize), Just(65_536usize)]
            .prop_map(ReadBuf::Exact),
        1 => max_buf_size().prop_map(ReadBuf::Max),
    ];
    (
        (
            prop::option::of(any::<bool>()),
            read_buf,
            any::<bool>(),
            any::<bool>(),
        ),
        (prop::option::of(MOST_HEADERS..=200), max_header_size()),
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(
                (writev, read_buf, title_case_headers, preserve_header_case),
                (max_headers, max_header_size),
                (
                    http09_responses,
                    allow_spaces_after_header_name,
                    allow_obsolete_multiline_headers,
                    ignore_invalid_headers,
                ),
            )| HyperClientOptions {
                writev,
                read_buf,
                title_case_headers,
                preserve_header_case,
                max_headers,
                max_header_size,
                http09_responses,
                allow_spaces_after_header_name,
                allow_obsolete_multiline_headers,
                ignore_invalid_headers,
            },
        )
}

// ---------------------------------------------------------------------------
// server

/// How the server gets and reads the upgraded connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerMode {
    /// `http1::Builder`, reading `Upgraded` itself (hyper replays its read-ahead
    /// through an internal `Rewind`).
    Direct,
    /// `http1::Builder`, then `Upgraded::downcast::<TokioIo<BoxIo>>()`: the raw io
    /// back, with `Parts::read_buf`, which the application must read first.
    Downcast,
    /// hyper-util's `auto::Builder` (HTTP/1 path) and
    /// `hyper_util::server::conn::auto::upgrade::downcast`.
    Auto,
}

impl ServerMode {
    /// Every mode.
    pub const ALL: [ServerMode; 3] = [ServerMode::Direct, ServerMode::Downcast, ServerMode::Auto];

    fn name(self) -> &'static str {
        match self {
            ServerMode::Direct => "hyper",
            ServerMode::Downcast => "hyper-downcast",
            ServerMode::Auto => "hyper-util-auto",
        }
    }
}

/// hyper's HTTP/1 server as a [`ServerSubject`].
#[derive(Debug, Clone)]
pub struct HyperServer {
    /// How the upgraded connection is read.
    pub mode: ServerMode,
    /// The builder's options.
    pub options: HyperServerOptions,
}

impl HyperServer {
    /// A server in `mode` with hyper's default options.
    pub fn new(mode: ServerMode) -> Self {
        HyperServer {
            mode,
            options: HyperServerOptions::default(),
        }
    }
}

/// What the service passes to the application once it answered with a hand-over.
type Pending = oneshot::Sender<OnUpgrade>;

impl ServerSubject for HyperServer {
    fn name(&self) -> String {
        self.mode.name().into()
    }

    fn supports(&self, scenario: &Scenario) -> Support {
        if scenario.handshake == Handshake::Explicit && scenario.accepted() {
            return Support::No(
                "hyper cannot hand a connection over after a 200 that does not switch protocols"
                    .into(),
            );
        }
        if !scenario.accepted() && !self.options.keep_alive {
            return Support::No(
                "with keep_alive(false) hyper closes after a refusal, so the pipelined request is not served"
                    .into(),
            );
        }
        Support::Yes
    }

    fn serve(
        &self,
        io: BoxIo,
        handler: ServerHandler,
    ) -> BoxFuture<'static, Result<(), SubjectError>> {
        Box::pin(serve(self.mode, self.options.clone(), io, handler))
    }
}

async fn serve(
    mode: ServerMode,
    options: HyperServerOptions,
    io: BoxIo,
    handler: ServerHandler,
) -> Result<(), SubjectError> {
    // The service answers; when its answer hands over, it passes the request's
    // `OnUpgrade` to the application half below through this channel. (A real
    // server would `tokio::spawn` the application; here both halves are joined on
    // one task so that the run stays deterministic.)
    let (tx, rx) = oneshot::channel::<OnUpgrade>();
    let pending = Arc::new(Mutex::new(Some(tx)));
    let service = {
        let handler = handler.clone();
        hyper::service::service_fn(move |req| answer(req, handler.clone(), pending.clone()))
    };
    let io = TokioIo::new(io);
    let connection = async {
        match mode {
            ServerMode::Direct | ServerMode::Downcast => options
                .builder()
                .serve_connection(io, service)
                .with_upgrades()
                .await
                .map_err(library),
            ServerMode::Auto => options
                .auto_builder()
                .serve_connection_with_upgrades(io, service)
                .await
                .map_err(|e| SubjectError::Library(e.to_string())),
        }
    };
    let application = async {
        // The sender is dropped with the service when the connection ends without
        // a hand-over: then there is nothing to run.
        let Ok(on_upgrade) = rx.await else {
            return Ok(());
        };
        let upgraded = on_upgrade.await.map_err(library)?;
        // hyper wrote nothing of the application's before the hand-over.
        let first_written = false;
        match mode {
            ServerMode::Direct => handler.run(TokioIo::new(upgraded), first_written).await,
            ServerMode::Downcast => {
                let parts = upgraded.downcast::<TokioIo<BoxIo>>().map_err(|_| {
                    SubjectError::Library("downcast to the served io failed".into())
                })?;
                // `read_buf` holds what hyper read past the request: it comes first.
                let stream = Hijacked::new(parts.io.into_inner(), parts.read_buf, Bytes::new());
                handler.run(stream, first_written).await
            }
            ServerMode::Auto => {
                let parts =
                    hyper_util::server::conn::auto::upgrade::downcast::<TokioIo<BoxIo>>(upgraded)
                        .map_err(|_| {
                        SubjectError::Library("auto downcast to the served io failed".into())
                    })?;
                let stream = Hijacked::new(parts.io.into_inner(), parts.read_buf, Bytes::new());
                handler.run(stream, first_written).await
            }
        }
        Ok::<(), SubjectError>(())
    };
    let (served, ran) = tokio::join!(connection, application);
    served.and(ran)
}

/// The service: one request in, the handler's answer out.
async fn answer(
    mut req: Request<Incoming>,
    handler: ServerHandler,
    pending: Arc<Mutex<Option<Pending>>>,
) -> Result<Response<Full<Bytes>>, SubjectError> {
    // Taken before the body is read: `on` removes the extension from the request.
    let on_upgrade = hyper::upgrade::on(&mut req);
    let head = request_head(&req);
    // Reading the body is what makes hyper send `100 Continue` to `Expect`.
    let body = req.into_body().collect().await.map_err(library)?.to_bytes();
    let reply = handler.reply(&head, &body);
    let response = response(&reply.head, reply.body.clone())?;
    match reply.hand_over {
        HandOver::Switch => {
            let sender = pending
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .take();
            if let Some(sender) = sender {
                // The receiver only goes away with the whole connection.
                let _ = sender.send(on_upgrade);
            }
        }
        HandOver::No => {}
        HandOver::Explicit => {
            tracing::warn!("explicit hijack requested; hyper cannot, the connection stays HTTP");
        }
    }
    Ok(response)
}

fn request_head(req: &Request<Incoming>) -> RequestHead {
    RequestHead {
        method: req.method().as_str().to_owned(),
        target: req.uri().to_string(),
        headers: req
            .headers()
            .iter()
            .map(|(name, value)| {
                Header::new(name.as_str(), String::from_utf8_lossy(value.as_bytes()))
            })
            .collect(),
    }
}

fn response(head: &ResponseHead, body: Bytes) -> Result<Response<Full<Bytes>>, SubjectError> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = StatusCode::from_u16(head.status)
        .map_err(|e| SubjectError::Library(format!("status {}: {e}", head.status)))?;
    // The reason phrase as the handler gave it (hyper writes the canonical one otherwise).
    if let Ok(reason) = hyper::ext::ReasonPhrase::try_from(head.reason.clone()) {
        response.extensions_mut().insert(reason);
    }
    let headers = response.headers_mut();
    for h in &head.headers {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|e| SubjectError::Library(format!("header name {:?}: {e}", h.name)))?;
        let value = HeaderValue::from_str(&h.value)
            .map_err(|e| SubjectError::Library(format!("header value {:?}: {e}", h.value)))?;
        headers.append(name, value);
    }
    Ok(response)
}

fn library(e: hyper::Error) -> SubjectError {
    SubjectError::Library(e.to_string())
}

// ---------------------------------------------------------------------------
// client

/// hyper's HTTP/1 client as a [`ClientSubject`].
#[derive(Debug, Clone, Default)]
pub struct HyperClient {
    /// The builder's options.
    pub options: HyperClientOptions,
}

impl ClientSubject for HyperClient {
    fn name(&self) -> String {
        "hyper".into()
    }

    fn supports(&self, scenario: &Scenario) -> Support {
        if scenario.handshake == Handshake::Explicit && scenario.answer == Answer::Accept {
            return Support::No(
                "hyper's client reads a 200 without a length as a body until EOF; it cannot hijack after it"
                    .into(),
            );
        }
        Support::Yes
    }

    fn connect(&self, io: BoxIo, app: ClientApp) -> BoxFuture<'static, Result<(), SubjectError>> {
        Box::pin(connect(self.options.clone(), io, app))
    }
}

/// A request body, framed by the headers the request already carries: a
/// `Content-Length` body is one frame of known size, a chunked one is a frame per
/// chunk of unknown total size (so hyper chunk-encodes it).
#[derive(Debug)]
struct RequestFrames {
    frames: std::collections::VecDeque<Bytes>,
    exact: Option<u64>,
}

impl RequestFrames {
    fn new(body: RequestBody) -> Self {
        match body {
            RequestBody::Empty => RequestFrames {
                frames: Default::default(),
                exact: Some(0),
            },
            RequestBody::Length(bytes) => RequestFrames {
                exact: Some(bytes.len() as u64),
                frames: [bytes].into(),
            },
            RequestBody::Chunked(chunks) => RequestFrames {
                frames: chunks.into_iter().filter(|c| !c.is_empty()).collect(),
                exact: None,
            },
        }
    }
}

impl Body for RequestFrames {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.frames.pop_front().map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.exact.is_some() && self.frames.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        match self.exact {
            Some(n) => SizeHint::with_exact(n),
            None => SizeHint::default(),
        }
    }
}

async fn connect(
    options: HyperClientOptions,
    io: BoxIo,
    app: ClientApp,
) -> Result<(), SubjectError> {
    let (head, body) = app.request();
    let is_connect = head.is_connect();
    let mut request = Request::new(RequestFrames::new(body));
    *request.method_mut() = hyper::Method::from_bytes(head.method.as_bytes())
        .map_err(|e| SubjectError::Library(format!("method {:?}: {e}", head.method)))?;
    *request.uri_mut() = head
        .target
        .parse()
        .map_err(|e| SubjectError::Library(format!("target {:?}: {e}", head.target)))?;
    for h in &head.headers {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|e| SubjectError::Library(format!("header name {:?}: {e}", h.name)))?;
        let value = HeaderValue::from_str(&h.value)
            .map_err(|e| SubjectError::Library(format!("header value {:?}: {e}", h.value)))?;
        request.headers_mut().append(name, value);
    }
    let (mut sender, connection) = options
        .builder()
        .handshake::<_, RequestFrames>(TokioIo::new(io))
        .await
        .map_err(library)?;
    // The connection future drives the socket; with upgrades, it finishes once it
    // has handed the socket to the response's `OnUpgrade`.
    let connection = async { connection.with_upgrades().await.map_err(library) };
    let exchange = async move {
        let mut response = sender.send_request(request).await.map_err(library)?;
        let status = response.status();
        app.saw_response(status.as_u16());
        let switched =
            status == StatusCode::SWITCHING_PROTOCOLS || (is_connect && status.is_success());
        if !switched {
            // Not upgraded: read the answer and let the connection go.
            let _ = response.body_mut().collect().await;
            drop(sender);
            return Ok(());
        }
        let upgraded: Upgraded = hyper::upgrade::on(response).await.map_err(library)?;
        drop(sender);
        app.run(TokioIo::new(upgraded)).await;
        Ok::<(), SubjectError>(())
    };
    let (connected, exchanged) = tokio::join!(connection, exchange);
    exchanged.and(connected)
}
