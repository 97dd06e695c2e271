//! WebSocket mutants: real libraries wrapped with one deliberate flaw each, to
//! show that the message-level oracle fails when it should.
//!
//! * [`MessageMutant::DropsHandshakeTail`] (client): reads the `101` through its own
//!   buffer, then builds tungstenite's `WebSocketStream::from_raw_socket` on the
//!   bare transport, so whatever it read past the head is gone. That is the
//!   classic hand-over bug (Node's `'upgrade'` `head` ignored,
//!   http-party/node-http-proxy#473) in the shape tungstenite's own client avoids
//!   with `from_partially_read(stream, tail, ..)`.
//!
//! The others are tokio-tungstenite's server whose message stream has one flaw,
//! each aimed at one point of the message-level invariant:
//!
//! * [`MessageMutant::DeliversTwice`]: hands its first data message over twice (delivery).
//! * [`MessageMutant::InventsClose`]: reports a close before the first data message,
//!   which the client never sent (close).
//! * [`MessageMutant::DropsFirstSend`]: accepts the application's first message and
//!   never writes it (writes).
//! * [`MessageMutant::SendsUnaskedPong`]: writes a pong no ping asked for before each
//!   of the application's messages (ownership).

use bytes::Bytes;
use futures::SinkExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::peer::websocket::request_head;
use crate::reference::head;
use crate::scenario::websocket::Kind;
use crate::subject::{BoxIo, SubjectError};

use super::tungstenite::{TungsteniteClient, TungsteniteSocket};
use super::{
    Incoming, LocalBoxFuture, MessageApp, MessageClientSubject, MessageServerSubject, Socket,
    library,
};
use crate::wire::Side;

/// A deliberately broken WebSocket subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageMutant {
    /// Client: drops the bytes read past the `101` (the frames that came with it).
    DropsHandshakeTail,
    /// Server: delivers its first data message twice.
    DeliversTwice,
    /// Server: reports a close that was never sent.
    InventsClose,
    /// Server: never writes the application's first message.
    DropsFirstSend,
    /// Server: writes a pong nobody asked for.
    SendsUnaskedPong,
}

impl MessageMutant {
    /// Every WebSocket mutant.
    pub const ALL: [MessageMutant; 5] = [
        MessageMutant::DropsHandshakeTail,
        MessageMutant::DeliversTwice,
        MessageMutant::InventsClose,
        MessageMutant::DropsFirstSend,
        MessageMutant::SendsUnaskedPong,
    ];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            MessageMutant::DropsHandshakeTail => "ws-drops-handshake-tail",
            MessageMutant::DeliversTwice => "ws-delivers-twice",
            MessageMutant::InventsClose => "ws-invents-close",
            MessageMutant::DropsFirstSend => "ws-drops-first-send",
            MessageMutant::SendsUnaskedPong => "ws-sends-unasked-pong",
        }
    }

    /// The side whose library it breaks (the other side runs the library as it is).
    pub fn side(self) -> Side {
        match self {
            MessageMutant::DropsHandshakeTail => Side::Client,
            _ => Side::Server,
        }
    }
}

impl MessageClientSubject for MessageMutant {
    fn name(&self) -> String {
        MessageMutant::name(*self).into()
    }

    fn connect(
        &self,
        mut io: BoxIo,
        app: MessageApp,
    ) -> LocalBoxFuture<'static, Result<(), SubjectError>> {
        if *self != MessageMutant::DropsHandshakeTail {
            return TungsteniteClient::default().connect(io, app);
        }
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

impl MessageServerSubject for MessageMutant {
    fn name(&self) -> String {
        MessageMutant::name(*self).into()
    }

    fn serve(
        &self,
        io: BoxIo,
        app: MessageApp,
    ) -> LocalBoxFuture<'static, Result<(), SubjectError>> {
        let flaw = *self;
        Box::pin(async move {
            let stream = tokio_tungstenite::accept_async(io).await.map_err(library)?;
            let socket = Flawed {
                inner: TungsteniteSocket(stream),
                flaw,
                again: None,
                done: false,
            };
            app.run(socket).await;
            Ok(())
        })
    }
}

/// tokio-tungstenite's socket with the flaw of a server mutant.
struct Flawed {
    inner: TungsteniteSocket<BoxIo>,
    flaw: MessageMutant,
    /// A message to hand over again (`DeliversTwice`).
    again: Option<Incoming>,
    /// Whether the flaw already struck (the ones that strike once).
    done: bool,
}

impl Socket for Flawed {
    fn receive(&mut self) -> LocalBoxFuture<'_, Result<Option<Incoming>, String>> {
        Box::pin(async move {
            if let Some(again) = self.again.take() {
                return Ok(Some(again));
            }
            let got = self.inner.receive().await?;
            if self.done || !matches!(got, Some(Incoming::Data(..))) {
                return Ok(got);
            }
            match self.flaw {
                MessageMutant::DeliversTwice => {
                    self.done = true;
                    self.again = got.clone();
                }
                MessageMutant::InventsClose => {
                    self.done = true;
                    self.again = got;
                    return Ok(Some(Incoming::Close));
                }
                _ => {}
            }
            Ok(got)
        })
    }

    fn send(&mut self, kind: Kind, payload: Bytes) -> LocalBoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            match self.flaw {
                MessageMutant::DropsFirstSend if !self.done => {
                    self.done = true;
                    return Ok(());
                }
                MessageMutant::SendsUnaskedPong => {
                    let pong = Message::Pong(Bytes::from_static(b"unasked"));
                    self.inner.0.send(pong).await.map_err(|e| e.to_string())?;
                }
                _ => {}
            }
            self.inner.send(kind, payload).await
        })
    }

    fn close(&mut self) -> LocalBoxFuture<'_, Result<(), String>> {
        self.inner.close()
    }
}
