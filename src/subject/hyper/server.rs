//! hyper's HTTP/1 server as a [`ServerSubject`].

use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::upgrade::OnUpgrade;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

use super::{HyperServerOptions, header_pair, library};
use crate::reference::Hijacked;
use crate::reference::head::ResponseHead;
use crate::scenario::{AnswerWriter, BodyRead, Handshake, Scenario};
use crate::subject::{
    BoxFuture, BoxIo, HandOver, ServerHandler, ServerSubject, SubjectError, Support,
};

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
        if scenario.accepted() && scenario.server.writer == AnswerWriter::Application {
            return Support::No(
                "hyper has no explicit hijack before a response: a service hands the connection \
                 over only by answering 101 (or a 2xx to CONNECT) through hyper"
                    .into(),
            );
        }
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
    let target = req.uri().to_string();
    // Reading the body is what makes hyper send `100 Continue` to `Expect`. The
    // application reads as much of it as the scenario says, and drops the rest
    // (`Incoming` dropped unread, or after a part): hyper's to deal with.
    let body = read_body(req.into_body(), handler.body_to_read()).await?;
    let reply = handler.reply_to(target, body);
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
        HandOver::Explicit | HandOver::BeforeAnswer => {
            tracing::warn!("explicit hijack requested; hyper cannot, the connection stays HTTP");
        }
    }
    Ok(response)
}

/// Reads `body` as far as the application wants, frame by frame: all of it, at
/// least the first `n` bytes (a frame is read whole, so it may be more), or
/// nothing. What is not read is dropped with `body`.
async fn read_body(mut body: Incoming, wanted: BodyRead) -> Result<Bytes, SubjectError> {
    let want = match wanted {
        BodyRead::All => usize::MAX,
        BodyRead::Part(n) => usize::from(n),
        BodyRead::Nothing => return Ok(Bytes::new()),
    };
    let mut read = BytesMut::new();
    while read.len() < want {
        let Some(frame) = body.frame().await else {
            break;
        };
        if let Ok(data) = frame.map_err(library)?.into_data() {
            read.extend_from_slice(&data);
        }
    }
    Ok(read.freeze())
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
        let (name, value) = header_pair(h)?;
        headers.append(name, value);
    }
    Ok(response)
}
