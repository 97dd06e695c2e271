//! tokio-tungstenite (on tungstenite) as a WebSocket subject, server and client.
//!
//! * **Server**: `accept_async_with_config` or `accept_hdr_async_with_config` (the
//!   callback form axum's and warp's users reach for) on the transport.
//! * **Client**: `client_async_with_config` with a request built from
//!   [`MessageApp::url`] and the case's key.
//!
//! Both run tungstenite's handshake machine (`tungstenite::handshake::machine`),
//! which reads the head in chunks and returns the bytes it read past it as a
//! `tail`. The client side gives the tail to `WebSocket::from_partially_read`
//! (`handshake/client.rs`, `stage_finished`); the server side refuses a non-empty
//! tail with `ProtocolError::JunkAfterRequest` (`handshake/server.rs`,
//! `stage_finished`: "if !tail.is_empty() { return Err(...JunkAfterRequest) }"): a
//! client's frames sent with its request make the handshake fail. RFC 6455 §4.1
//! has clients wait for the 101, so this refusal is a missed SHOULD at most
//! (`non-strict`), never a failure.
//!
//! tungstenite answers a ping with a pong and a close with a close by itself
//! (queued when read, written on the next read or write), so [`Socket::close`] does
//! nothing here: the application keeps reading until the stream ends.
//!
//! The futures need no runtime: tokio-tungstenite only uses tokio's I/O traits.

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error, Message, Utf8Bytes};

use crate::scenario::websocket::Kind;
use crate::subject::{BoxIo, SubjectError};

use super::{
    Incoming, LocalBoxFuture, MessageApp, MessageClientSubject, MessageServerSubject, Socket, Utf8,
    library,
};

/// The `WebSocketConfig` fields that touch buffering; `None` keeps tungstenite's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TungsteniteOptions {
    /// `read_buffer_size` (default 128 KiB): how much is read at a time.
    pub read_buffer_size: Option<usize>,
    /// `write_buffer_size` (default 128 KiB; 0 writes every frame at once).
    pub write_buffer_size: Option<usize>,
}

impl TungsteniteOptions {
    /// The configuration, with room for the largest generated message.
    pub fn config(&self) -> WebSocketConfig {
        let mut config = WebSocketConfig::default();
        if let Some(n) = self.read_buffer_size {
            config = config.read_buffer_size(n);
        }
        if let Some(n) = self.write_buffer_size {
            config = config.write_buffer_size(n);
        }
        config
    }
}

/// Any configuration: the defaults half of the time, small buffers otherwise.
pub fn options() -> impl proptest::strategy::Strategy<Value = TungsteniteOptions> {
    use proptest::prelude::*;
    let size = prop_oneof![Just(1usize), 2usize..=64, 65usize..=8192];
    (
        prop::option::of(size.clone()),
        prop::option::of(prop_oneof![Just(0usize), size]),
    )
        .prop_map(|(read_buffer_size, write_buffer_size)| TungsteniteOptions {
            read_buffer_size,
            write_buffer_size,
        })
}

/// tungstenite's message stream as a [`Socket`].
pub struct TungsteniteSocket<S>(pub WebSocketStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> Socket for TungsteniteSocket<S> {
    fn receive(&mut self) -> LocalBoxFuture<'_, Result<Option<Incoming>, String>> {
        Box::pin(async move {
            loop {
                let message = match self.0.next().await {
                    None | Some(Err(Error::ConnectionClosed)) => return Ok(None),
                    Some(Err(e)) => return Err(e.to_string()),
                    Some(Ok(message)) => message,
                };
                return Ok(Some(match message {
                    Message::Text(t) => Incoming::Data(Kind::Text, Bytes::from(t)),
                    Message::Binary(b) => Incoming::Data(Kind::Binary, b),
                    Message::Ping(p) => Incoming::Ping(p),
                    Message::Pong(p) => Incoming::Pong(p),
                    Message::Close(_) => Incoming::Close,
                    // Only returned when reading raw frames, which is not configured.
                    Message::Frame(_) => continue,
                }));
            }
        })
    }

    fn send(&mut self, kind: Kind, payload: Bytes) -> LocalBoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let message = match kind {
                // SAFETY: `Utf8` holds valid UTF-8 (its constructor checks it).
                Kind::Text => Message::Text(unsafe {
                    Utf8Bytes::from_bytes_unchecked(Utf8::new(payload).into_bytes())
                }),
                Kind::Binary => Message::Binary(payload),
            };
            // `SinkExt::send` flushes.
            self.0.send(message).await.map_err(|e| e.to_string())
        })
    }

    fn close(&mut self) -> LocalBoxFuture<'_, Result<(), String>> {
        // tungstenite queued the close reply when it read the close.
        Box::pin(async { Ok(()) })
    }
}

/// tokio-tungstenite's server handshake as a [`MessageServerSubject`].
#[derive(Debug, Clone, Default)]
pub struct TungsteniteServer {
    /// `accept_hdr_async` (with a callback that accepts) instead of `accept_async`.
    pub hdr: bool,
    /// The configuration.
    pub options: TungsteniteOptions,
}

impl MessageServerSubject for TungsteniteServer {
    fn name(&self) -> String {
        if self.hdr {
            "tokio-tungstenite-hdr".into()
        } else {
            "tokio-tungstenite".into()
        }
    }

    fn serve(
        &self,
        io: BoxIo,
        app: MessageApp,
    ) -> LocalBoxFuture<'static, Result<(), SubjectError>> {
        let (hdr, config) = (self.hdr, self.options.config());
        Box::pin(async move {
            let stream = if hdr {
                // tungstenite's `Callback` signature fixes the error type.
                #[allow(clippy::result_large_err)]
                let callback = |_: &Request, response: Response| Ok(response);
                tokio_tungstenite::accept_hdr_async_with_config(io, callback, Some(config)).await
            } else {
                tokio_tungstenite::accept_async_with_config(io, Some(config)).await
            }
            .map_err(library)?;
            app.run(TungsteniteSocket(stream)).await;
            Ok(())
        })
    }
}

/// tokio-tungstenite's client handshake as a [`MessageClientSubject`].
#[derive(Debug, Clone, Default)]
pub struct TungsteniteClient {
    /// The configuration.
    pub options: TungsteniteOptions,
}

/// tungstenite's client request type.
type ClientRequest = tokio_tungstenite::tungstenite::handshake::client::Request;

thread_local! {
    /// The request tungstenite builds from [`MessageApp::url`] (the same for every
    /// case), kept per thread with its URL and cloned with the case's key put in:
    /// parsing the URL and building the request each case was about 3 % of a
    /// tungstenite client case (BENCHMARKS.md, issue 26, fifth pass).
    static REQUEST: std::cell::RefCell<Option<(String, ClientRequest)>> =
        const { std::cell::RefCell::new(None) };
}

/// The client request tungstenite sends: [`MessageApp::url`], with the case's key
/// instead of a random one, so the trace is a function of the case.
pub fn client_request(app: &MessageApp) -> Result<ClientRequest, SubjectError> {
    let url = app.url();
    let built = REQUEST.with(|r| match &*r.borrow() {
        Some((built_for, request)) if *built_for == url => Some(request.clone()),
        _ => None,
    });
    let mut request = match built {
        Some(request) => request,
        None => {
            let request = url.as_str().into_client_request().map_err(library)?;
            REQUEST.with(|r| *r.borrow_mut() = Some((url, request.clone())));
            request
        }
    };
    let key = HeaderValue::from_str(&app.key()).map_err(library)?;
    request.headers_mut().insert("sec-websocket-key", key);
    Ok(request)
}

impl MessageClientSubject for TungsteniteClient {
    fn name(&self) -> String {
        "tokio-tungstenite".into()
    }

    fn connect(
        &self,
        io: BoxIo,
        app: MessageApp,
    ) -> LocalBoxFuture<'static, Result<(), SubjectError>> {
        let config = self.options.config();
        Box::pin(async move {
            let request = client_request(&app)?;
            let (stream, _response) =
                tokio_tungstenite::client_async_with_config(request, io, Some(config))
                    .await
                    .map_err(library)?;
            app.run(TungsteniteSocket(stream)).await;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::websocket::MessageScenario;
    use crate::wire::{Recorder, Side};

    fn headers(request: &ClientRequest) -> Vec<(String, Vec<u8>)> {
        request
            .headers()
            .iter()
            .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn each_case_sends_the_request_tungstenite_builds_with_its_own_key() {
        // The first builds the thread's request, the others clone it; the third
        // comes back to the first key.
        for seed in [1, 2, 1] {
            let scenario = MessageScenario {
                seed,
                ..MessageScenario::basic()
            };
            let app = MessageApp::new(scenario, Side::Client, Recorder::new());
            let request = client_request(&app).expect("a request");
            let mut fresh = app.url().into_client_request().expect("a request");
            let key = HeaderValue::from_str(&app.key()).expect("a key");
            fresh.headers_mut().insert("sec-websocket-key", key);
            assert_eq!(request.uri(), fresh.uri());
            assert_eq!(request.method(), fresh.method());
            assert_eq!(headers(&request), headers(&fresh), "seed {seed}");
        }
    }
}
