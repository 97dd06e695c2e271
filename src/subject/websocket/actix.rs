//! actix as a WebSocket subject: actix-web with actix-ws (server) and awc (client).
//!
//! * **Server**: an actix-web `App` whose `GET /ws` handler calls
//!   `actix_ws::handle(&req, body)`, served by actix-http's HTTP/1 service
//!   (`HttpService::build().h1(..)`, the service `HttpServer` runs) on the
//!   harness's transport. Like `HttpServer`, which builds the service once per
//!   worker and calls it for every connection the worker accepts, the harness
//!   builds it once per thread and calls it for each case's connection (a
//!   dispatcher, a request and a session of its own). actix-http does not hand the socket
//!   over: after the `101` its dispatcher keeps the connection and streams the
//!   bytes after the request head into the request's `Payload` (the upgrade
//!   request's body decoder reads until EOF), which actix-ws parses into frames;
//!   what the application sends goes through a channel into the response body.
//!   So the bytes that came with the request are the dispatcher's read buffer,
//!   fed to the payload like any later read.
//! * **Client**: awc's `Client::ws(url).connect()`, with a connector that hands
//!   awc the harness's transport instead of dialing; awc returns the connection as
//!   a `Framed<BoxedSocket, ws::Codec>` that keeps the read buffer of the HTTP
//!   codec it parsed the `101` with. awc gives frames, not messages: the adapter
//!   joins continuations, as an awc application must.
//!
//! # Runtime
//!
//! actix needs a tokio runtime context for its timers (keep-alive, request
//! timeouts, awc's timeout) and a `LocalSet` for `spawn_local` (actix-http's date
//! service). Both are given without giving up the lockstep driver: every poll
//! enters a current-thread runtime that is never driven (so no timer ever fires:
//! a run stays a function of its case), and the subject runs inside
//! `LocalSet::run_until`, which polls the spawned tasks from the driver's poll.
//!
//! Neither library answers pings or closes by itself: actix-ws and awc leave
//! `pong` and `close` to the application. The harness's application does not
//! pong (a missing pong is not judged) and closes through [`Socket::close`].

use std::cell::RefCell;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_codec::Framed;
use actix_http::HttpService;
use actix_http::error::DispatchError;
use actix_http::ws::Item;
use actix_service::boxed::{RcService, rc_service};
use actix_service::{Service, ServiceFactory, fn_service, map_config};
use actix_tls::connect::{ConnectError, ConnectInfo, Connection};
use actix_web::dev::AppConfig;
use actix_web::http::Uri;
use actix_web::{App, HttpRequest, web};
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, Session};
use awc::BoxedSocket;
use awc::ws::{Codec, Frame, Message};
use bytes::{Bytes, BytesMut};
use bytestring::ByteString;
use futures::{SinkExt, StreamExt};
use tokio::sync::oneshot;

use crate::scenario::websocket::{Kind, PATH};
use crate::subject::{BoxIo, SubjectError};

use super::{
    Incoming, LocalBoxFuture, MessageApp, MessageClientSubject, MessageServerSubject, Socket, Utf8,
    library,
};

/// The largest frame and message either side accepts (actix's default is 64 KiB,
/// under the largest generated message: a limit, not a hand-over question).
const MAX_SIZE: usize = 1 << 20;

thread_local! {
    /// The runtime whose context actix's timers register with; never driven.
    static RUNTIME: Option<tokio::runtime::Runtime> = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .ok();
}

/// A future polled inside the thread's runtime context and a `LocalSet`.
struct InActix<F> {
    handle: Option<tokio::runtime::Handle>,
    future: Pin<Box<F>>,
}

impl<F: Future> Future for InActix<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _entered = self.handle.as_ref().map(|h| h.enter());
        self.future.as_mut().poll(cx)
    }
}

/// Runs `work` the way actix needs (see the module doc).
fn in_actix<T: 'static>(
    work: impl Future<Output = Result<T, SubjectError>> + 'static,
) -> LocalBoxFuture<'static, Result<T, SubjectError>> {
    let handle = RUNTIME.with(|rt| rt.as_ref().map(|rt| rt.handle().clone()));
    Box::pin(async move {
        if handle.is_none() {
            return Err(library("could not build a tokio runtime for actix"));
        }
        let local = tokio::task::LocalSet::new();
        InActix {
            handle,
            future: Box::pin(local.run_until(work)),
        }
        .await
    })
}

/// A text the application echoes, as actix's text type: the delivered bytes,
/// not a copy (see [`Utf8`]).
fn byte_string(payload: Bytes) -> ByteString {
    // SAFETY: `Utf8` holds valid UTF-8 (its constructor checks it).
    unsafe { ByteString::from_bytes_unchecked(Utf8::new(payload).into_bytes()) }
}

// ---------------------------------------------------------------------------
// server

/// actix-ws's session and aggregated message stream as a [`Socket`].
pub struct ActixWsSocket {
    session: Option<Session>,
    stream: AggregatedMessageStream,
}

impl Socket for ActixWsSocket {
    fn receive(&mut self) -> LocalBoxFuture<'_, Result<Option<Incoming>, String>> {
        Box::pin(async move {
            Ok(Some(match self.stream.recv().await {
                None => return Ok(None),
                Some(Err(e)) => return Err(e.to_string()),
                Some(Ok(AggregatedMessage::Text(t))) => Incoming::Data(Kind::Text, t.into_bytes()),
                Some(Ok(AggregatedMessage::Binary(b))) => Incoming::Data(Kind::Binary, b),
                Some(Ok(AggregatedMessage::Ping(p))) => Incoming::Ping(p),
                Some(Ok(AggregatedMessage::Pong(p))) => Incoming::Pong(p),
                Some(Ok(AggregatedMessage::Close(_))) => Incoming::Close,
            }))
        })
    }

    fn send(&mut self, kind: Kind, payload: Bytes) -> LocalBoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let session = self.session.as_mut().ok_or("the session is closed")?;
            match kind {
                Kind::Text => session.text(byte_string(payload)).await,
                Kind::Binary => session.binary(payload).await,
            }
            .map_err(|e| e.to_string())
        })
    }

    fn close(&mut self) -> LocalBoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            match self.session.take() {
                Some(session) => session
                    .close(Some(CloseReason::from(CloseCode::Normal)))
                    .await
                    .map_err(|e| e.to_string()),
                None => Ok(()),
            }
        })
    }
}

/// actix-web with actix-ws as a [`MessageServerSubject`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ActixServer;

type Handed = (Session, AggregatedMessageStream);

impl MessageServerSubject for ActixServer {
    fn name(&self) -> String {
        "actix-ws".into()
    }

    fn serve(
        &self,
        io: BoxIo,
        app: MessageApp,
    ) -> LocalBoxFuture<'static, Result<(), SubjectError>> {
        in_actix(serve(io, app))
    }
}

/// One connection of the thread's HTTP service, as `HttpServer` serves each
/// connection a worker accepts.
type Accepted = (BoxIo, Option<std::net::SocketAddr>);

/// The thread's actix-web service (see [`service`]).
type Served = RcService<Accepted, (), DispatchError>;

thread_local! {
    /// The `App` and HTTP/1 service, built once per thread and given every
    /// connection after that, the way `HttpServer` builds them once per worker:
    /// building and dropping them per case was about 7 % of an actix-ws case's
    /// instructions (BENCHMARKS.md, issue 26, fifth pass). Each connection still
    /// gets a dispatcher, a request and a WebSocket session of its own.
    ///
    /// Never dropped: at thread exit actix's own thread-locals (the pool its
    /// request heads go back to) may be gone before this one, and dropping the
    /// service's pooled requests then panics, which aborts the process. One
    /// service per thread is left to the process instead.
    static SERVICE: RefCell<Option<ManuallyDrop<Served>>> = const { RefCell::new(None) };

    /// Where the `GET /ws` handler hands the session and stream of the
    /// connection being served: set by [`serve`] before the connection starts.
    /// One connection at a time runs on a thread (the lockstep driver).
    static HANDOFF: RefCell<Option<oneshot::Sender<Handed>>> = const { RefCell::new(None) };
}

/// The thread's service, built the first time (inside [`in_actix`]: actix-http's
/// date service spawns a local task).
async fn service() -> Result<Served, SubjectError> {
    if let Some(service) = SERVICE.with(|s| s.borrow().as_deref().cloned()) {
        return Ok(service);
    }
    let web_app = App::new().route(
        PATH,
        web::get().to(|req: HttpRequest, body: web::Payload| async move {
            let (response, session, stream) = actix_ws::handle(&req, body)?;
            let stream = stream
                .max_frame_size(MAX_SIZE)
                .aggregate_continuations()
                .max_continuation_size(MAX_SIZE);
            if let Some(tx) = HANDOFF.with(|slot| slot.borrow_mut().take()) {
                // The receiver only goes away with the whole connection.
                let _ = tx.send((session, stream));
            }
            Ok::<_, actix_web::Error>(response)
        }),
    );
    let factory = HttpService::build()
        .client_request_timeout(Duration::ZERO)
        .h1(map_config(web_app, |_| AppConfig::default()));
    let service = rc_service(
        factory
            .new_service(())
            .await
            .map_err(|e| library(format!("{e:?}")))?,
    );
    SERVICE.with(|s| *s.borrow_mut() = Some(ManuallyDrop::new(service.clone())));
    Ok(service)
}

async fn serve(io: BoxIo, app: MessageApp) -> Result<(), SubjectError> {
    // The handler passes the session and stream to the application half below:
    // a real server would `spawn_local` the application; joining both halves on
    // one future keeps the run deterministic.
    let (tx, rx) = oneshot::channel::<Handed>();
    let service = service().await?;
    HANDOFF.with(|slot| *slot.borrow_mut() = Some(tx));
    let connection = async { service.call((io, None)).await.map_err(library) };
    let application = async {
        if let Ok((session, stream)) = rx.await {
            let socket = ActixWsSocket {
                session: Some(session),
                stream,
            };
            app.run(socket).await;
        }
    };
    let (served, ()) = tokio::join!(connection, application);
    // A connection that never reached the handler leaves nothing for the next.
    HANDOFF.with(|slot| slot.borrow_mut().take());
    served
}

// ---------------------------------------------------------------------------
// client

/// awc's framed WebSocket as a [`Socket`]: continuations joined into messages.
pub struct AwcSocket {
    framed: Framed<BoxedSocket, Codec>,
    partial: Option<(Kind, BytesMut)>,
}

impl Socket for AwcSocket {
    fn receive(&mut self) -> LocalBoxFuture<'_, Result<Option<Incoming>, String>> {
        Box::pin(async move {
            loop {
                let frame = match self.framed.next().await {
                    None => return Ok(None),
                    Some(Err(e)) => return Err(e.to_string()),
                    Some(Ok(frame)) => frame,
                };
                let whole = |kind, b: Bytes| Ok(Some(Incoming::Data(kind, b)));
                match frame {
                    Frame::Text(b) => return whole(Kind::Text, b),
                    Frame::Binary(b) => return whole(Kind::Binary, b),
                    Frame::Ping(p) => return Ok(Some(Incoming::Ping(p))),
                    Frame::Pong(p) => return Ok(Some(Incoming::Pong(p))),
                    Frame::Close(_) => return Ok(Some(Incoming::Close)),
                    Frame::Continuation(Item::FirstText(b)) => {
                        self.partial = Some((Kind::Text, BytesMut::from(&b[..])));
                    }
                    Frame::Continuation(Item::FirstBinary(b)) => {
                        self.partial = Some((Kind::Binary, BytesMut::from(&b[..])));
                    }
                    Frame::Continuation(Item::Continue(b)) => match &mut self.partial {
                        Some((_, buf)) => buf.extend_from_slice(&b),
                        None => return Err("a continuation with no message".into()),
                    },
                    Frame::Continuation(Item::Last(b)) => match self.partial.take() {
                        Some((kind, mut buf)) => {
                            buf.extend_from_slice(&b);
                            return whole(kind, buf.freeze());
                        }
                        None => return Err("a last fragment with no message".into()),
                    },
                }
            }
        })
    }

    fn send(&mut self, kind: Kind, payload: Bytes) -> LocalBoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let message = match kind {
                Kind::Text => Message::Text(byte_string(payload)),
                Kind::Binary => Message::Binary(payload),
            };
            self.framed.send(message).await.map_err(|e| e.to_string())
        })
    }

    fn close(&mut self) -> LocalBoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let reason = CloseReason::from(CloseCode::Normal);
            self.framed
                .send(Message::Close(Some(reason)))
                .await
                .map_err(|e| e.to_string())
        })
    }
}

/// The transport as awc's connector returns it: awc asks for `ActixStream`
/// (readiness polls, used on pooled connections) and `Debug`.
struct AwcIo(BoxIo);

impl std::fmt::Debug for AwcIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AwcIo")
    }
}

impl tokio::io::AsyncRead for AwcIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for AwcIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl actix_rt::net::ActixStream for AwcIo {
    fn poll_read_ready(&self, _cx: &mut Context<'_>) -> Poll<std::io::Result<tokio::io::Ready>> {
        Poll::Ready(Ok(tokio::io::Ready::READABLE))
    }

    fn poll_write_ready(&self, _cx: &mut Context<'_>) -> Poll<std::io::Result<tokio::io::Ready>> {
        Poll::Ready(Ok(tokio::io::Ready::WRITABLE))
    }
}

/// awc's WebSocket client as a [`MessageClientSubject`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AwcClient;

impl MessageClientSubject for AwcClient {
    fn name(&self) -> String {
        "awc".into()
    }

    fn connect(
        &self,
        io: BoxIo,
        app: MessageApp,
    ) -> LocalBoxFuture<'static, Result<(), SubjectError>> {
        in_actix(connect(io, app))
    }
}

async fn connect(io: BoxIo, app: MessageApp) -> Result<(), SubjectError> {
    // awc dials through its connector: this one hands over the harness's transport once.
    let slot = Rc::new(RefCell::new(Some(AwcIo(io))));
    let dial = fn_service(move |info: ConnectInfo<Uri>| {
        let io = slot.borrow_mut().take();
        async move {
            match io {
                Some(io) => Ok(Connection::new(info.request().clone(), io)),
                None => Err(ConnectError::Unresolved),
            }
        }
    });
    let client = awc::Client::builder()
        .connector(awc::Connector::new().connector(dial))
        .finish();
    // awc draws its own key: the request's key is not the case's.
    let (_response, framed) = client
        .ws(app.url())
        .max_frame_size(MAX_SIZE)
        .connect()
        .await
        .map_err(library)?;
    let socket = AwcSocket {
        framed,
        partial: None,
    };
    app.run(socket).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Run;
    use crate::check::websocket::run_server;
    use crate::oracle::websocket::WebSocket;
    use crate::scenario::websocket::named;
    use crate::wire::Direction;

    /// What must not depend on the cases the thread's service served before:
    /// everything but the `101`'s head (actix writes the time in its `date`).
    fn outcome(run: &Run<WebSocket>) -> impl PartialEq + std::fmt::Debug + use<> {
        let stream = run.trace.stream(Direction::ServerToClient);
        let after_head = stream
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(stream.clone(), |at| stream.slice(at + 4..));
        (
            run.verdict.clone(),
            run.app.clone(),
            run.ending,
            run.subject_error.clone(),
            after_head,
        )
    }

    #[test]
    fn each_connection_of_the_threads_service_runs_as_on_a_fresh_thread() {
        let cases: Vec<_> = named::all().into_iter().map(|(_, s)| s).collect();
        // One thread's service for every case, in turn.
        let shared: Vec<_> = cases
            .iter()
            .map(|s| outcome(&run_server(&ActixServer, s)))
            .collect();
        for (s, shared) in cases.iter().zip(shared) {
            let s = s.clone();
            let fresh = std::thread::spawn(move || outcome(&run_server(&ActixServer, &s)))
                .join()
                .expect("the fresh thread");
            assert_eq!(shared, fresh);
        }
    }
}
