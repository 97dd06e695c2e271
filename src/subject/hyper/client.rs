//! hyper's HTTP/1 client as a [`ClientSubject`].

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use hyper::upgrade::Upgraded;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;

use super::{HyperClientOptions, header_pair, library};
use crate::reference::RequestBody;
use crate::scenario::{Answer, Handshake, Scenario};
use crate::subject::{BoxFuture, BoxIo, ClientApp, ClientSubject, SubjectError, Support};

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
        if scenario.client.optimistic && scenario.client.early.len > 0 {
            return Support::No(
                "hyper's client owns the connection until the response: its application cannot \
                 write before the 101 (optimistic upgrade)"
                    .into(),
            );
        }
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
        let (name, value) = header_pair(h)?;
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
