//! WebSocket mutants: real libraries wrapped with one deliberate flaw each, to
//! show that the message-level oracle fails when it should.
//!
//! * [`WsMutant::DropsHandshakeTail`] (client): reads the `101` through its own
//!   buffer, then builds tungstenite's `WebSocketStream::from_raw_socket` on the
//!   bare transport, so whatever it read past the head is gone. That is the
//!   classic hand-over bug (Node's `'upgrade'` `head` ignored,
//!   http-party/node-http-proxy#473) in the shape tungstenite's own client avoids
//!   with `from_partially_read(stream, tail, ..)`.
//! * [`WsMutant::DeliversTwice`] (server): tokio-tungstenite's server whose
//!   message stream hands its first data message to the application twice.

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::peer::websocket::request_head;
use crate::reference::head;
use crate::scenario::websocket::Kind;
use crate::subject::{BoxIo, SubjectError};

use super::tungstenite::TungsteniteSocket;
use super::{Incoming, LocalBoxFuture, Socket, WsApp, WsClientSubject, WsServerSubject, library};

/// A deliberately broken WebSocket subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsMutant {
    /// Client: drops the bytes read past the `101` (the frames that came with it).
    DropsHandshakeTail,
    /// Server: delivers its first data message twice.
    DeliversTwice,
}

impl WsMutant {
    /// Every WebSocket mutant.
    pub const ALL: [WsMutant; 2] = [WsMutant::DropsHandshakeTail, WsMutant::DeliversTwice];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            WsMutant::DropsHandshakeTail => "ws-drops-handshake-tail",
            WsMutant::DeliversTwice => "ws-delivers-twice",
        }
    }
}

impl WsClientSubject for WsMutant {
    fn name(&self) -> String {
        WsMutant::name(*self).into()
    }

    fn connect(
        &self,
        mut io: BoxIo,
        app: WsApp,
    ) -> LocalBoxFuture<'static, Result<(), SubjectError>> {
        Box::pin(async move {
            io.write_all(&request_head(&app.key())).await?;
            let mut buf = Vec::with_capacity(4096);
            loop {
                match head::parse_final_response(&buf) {
                    Ok(Some((response, _))) if response.status == 101 => break,
                    Ok(Some((response, _))) => {
                        return Err(library(format!("answered {}", response.status)));
                    }
                    Err(e) => return Err(library(e)),
                    Ok(None) => {}
                }
                buf.reserve(4096);
                if io.read_buf(&mut buf).await? == 0 {
                    return Err(library("EOF before the response head"));
                }
            }
            // The flaw: `buf` past the head is dropped here.
            let stream = WebSocketStream::from_raw_socket(io, Role::Client, None).await;
            app.run(TungsteniteSocket(stream)).await;
            Ok(())
        })
    }
}

impl WsServerSubject for WsMutant {
    fn name(&self) -> String {
        WsMutant::name(*self).into()
    }

    fn serve(&self, io: BoxIo, app: WsApp) -> LocalBoxFuture<'static, Result<(), SubjectError>> {
        Box::pin(async move {
            let stream = tokio_tungstenite::accept_async(io).await.map_err(library)?;
            let socket = Twice {
                inner: TungsteniteSocket(stream),
                again: None,
                done: false,
            };
            app.run(socket).await;
            Ok(())
        })
    }
}

/// A socket that returns its first data message a second time.
struct Twice<S> {
    inner: S,
    again: Option<Incoming>,
    done: bool,
}

impl<S: Socket> Socket for Twice<S> {
    fn receive(&mut self) -> LocalBoxFuture<'_, Result<Option<Incoming>, String>> {
        Box::pin(async move {
            if let Some(again) = self.again.take() {
                return Ok(Some(again));
            }
            let got = self.inner.receive().await?;
            if !self.done && matches!(got, Some(Incoming::Data(..))) {
                self.done = true;
                self.again = got.clone();
            }
            Ok(got)
        })
    }

    fn send(&mut self, kind: Kind, payload: Bytes) -> LocalBoxFuture<'_, Result<(), String>> {
        self.inner.send(kind, payload)
    }

    fn close(&mut self) -> LocalBoxFuture<'_, Result<(), String>> {
        self.inner.close()
    }
}
