//! soketto as a WebSocket subject, server and client, over futures' I/O traits
//! (the transport adapted with `tokio_util::compat`).
//!
//! * **Server**: `handshake::Server::receive_request`, `send_response(Accept)`,
//!   `into_builder().finish()`: jsonrpsee's server path.
//! * **Client**: `handshake::Client::handshake`, `into_builder().finish()`.
//!
//! Both handshakes read into one `BytesMut` buffer (`crate::read`, blocks of
//! `BLOCK_SIZE`) that `into_builder` hands to the connection (`set_buffer`), so
//! bytes read past the head can survive the hand-over. The client advances the
//! buffer past the response head and keeps the rest (`handshake/client.rs`,
//! `handshake`: `self.buffer.advance(offset)`). The server does not: it parses
//! the request in place and `send_response` starts with `self.buffer.clear()`
//! (`handshake/server.rs`), which discards whatever came after the request head.
//! Frames a client sends with its request are therefore lost after a `101`; RFC
//! 6455 §4.1 has clients wait, so that is a missed SHOULD (`non-strict`).
//!
//! # Finding
//!
//! `Receiver::receive` returns a pong the moment it reads one, even between two
//! fragments of a message (`connection.rs` line 232, `return
//! Ok(Incoming::Pong(..))`), and the message's state is a local of that call
//! (line 213, `let mut first_fragment_opcode = None`): the next call meets the
//! rest of the message as a continuation of nothing and fails with
//! `UnexpectedOpCode(Continue)` (line 287). RFC 6455 §5.4: "An endpoint MUST be
//! capable of handling control frames in the middle of a fragmented message."
//! [`known_finding`] names the cases it covers, which the properties and fuzz
//! targets skip (`docs/src/findings/soketto.md`).
//!
//! soketto answers a ping with a pong and a close with a close as it reads them
//! (`Receiver::on_control`), so [`Socket::close`] does nothing here; after the
//! close, `receive` returns `Error::Closed`, which is the end of the stream.

use bytes::Bytes;
use soketto::connection::{Error, Receiver, Sender};
use soketto::handshake::{self, ServerResponse};
use tokio_util::compat::{Compat, TokioAsyncReadCompatExt};

use crate::scenario::websocket::{Control, HOST, Kind, MessageScenario, PATH};
use crate::subject::{BoxIo, SubjectError, known};

use super::{
    Incoming, LocalBoxFuture, MessageApp, MessageClientSubject, MessageServerSubject, Socket,
    library, text,
};

type Io = Compat<BoxIo>;

/// The known soketto finding (module doc) that `s` runs into, if any: a pong
/// between two fragments of a message.
pub fn known_finding(s: &MessageScenario) -> Option<&'static str> {
    let mid_message_pong = s.messages.iter().any(|m| {
        let fragments = m.splits.len() + 1;
        m.controls
            .iter()
            .any(|c| c.kind == Control::Pong && usize::from(c.before) % fragments != 0)
    });
    mid_message_pong.then_some(known::SOKETTO_PONG_BETWEEN_FRAGMENTS.name)
}

/// soketto's sender and receiver as a [`Socket`].
pub struct SokettoSocket {
    sender: Sender<Io>,
    receiver: Receiver<Io>,
    buffer: Vec<u8>,
}

impl SokettoSocket {
    fn new((sender, receiver): (Sender<Io>, Receiver<Io>)) -> Self {
        SokettoSocket {
            sender,
            receiver,
            buffer: Vec::new(),
        }
    }
}

impl Socket for SokettoSocket {
    fn receive(&mut self) -> LocalBoxFuture<'_, Result<Option<Incoming>, String>> {
        Box::pin(async move {
            self.buffer.clear();
            let incoming = match self.receiver.receive(&mut self.buffer).await {
                Err(Error::Closed) => return Ok(None),
                Err(e) => return Err(e.to_string()),
                Ok(incoming) => incoming,
            };
            Ok(Some(match incoming {
                soketto::Incoming::Data(data) => {
                    let kind = if data.is_text() {
                        Kind::Text
                    } else {
                        Kind::Binary
                    };
                    Incoming::Data(kind, Bytes::copy_from_slice(&self.buffer))
                }
                soketto::Incoming::Pong(p) => Incoming::Pong(Bytes::copy_from_slice(p)),
                soketto::Incoming::Closed(_) => Incoming::Close,
            }))
        })
    }

    fn send(&mut self, kind: Kind, payload: Bytes) -> LocalBoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            match kind {
                Kind::Text => self.sender.send_text(text(&payload)).await,
                Kind::Binary => self.sender.send_binary(&payload).await,
            }
            .map_err(|e| e.to_string())?;
            self.sender.flush().await.map_err(|e| e.to_string())
        })
    }

    fn close(&mut self) -> LocalBoxFuture<'_, Result<(), String>> {
        // The receiver already answered the close.
        Box::pin(async { Ok(()) })
    }
}

/// soketto's server handshake as a [`MessageServerSubject`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SokettoServer;

impl MessageServerSubject for SokettoServer {
    fn name(&self) -> String {
        "soketto".into()
    }

    fn serve(
        &self,
        io: BoxIo,
        app: MessageApp,
    ) -> LocalBoxFuture<'static, Result<(), SubjectError>> {
        Box::pin(async move {
            let mut server = handshake::Server::new(io.compat());
            let key = {
                let request = server.receive_request().await.map_err(library)?;
                request.key()
            };
            let accept = handshake::server::Response::Accept {
                key,
                protocol: None,
            };
            server.send_response(&accept).await.map_err(library)?;
            let socket = SokettoSocket::new(server.into_builder().finish());
            app.run(socket).await;
            Ok(())
        })
    }
}

/// soketto's client handshake as a [`MessageClientSubject`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SokettoClient;

impl MessageClientSubject for SokettoClient {
    fn name(&self) -> String {
        "soketto".into()
    }

    fn connect(
        &self,
        io: BoxIo,
        app: MessageApp,
    ) -> LocalBoxFuture<'static, Result<(), SubjectError>> {
        Box::pin(async move {
            // soketto draws its own key (`rand`): the request's key is not the case's.
            let mut client = handshake::Client::new(io.compat(), HOST, PATH);
            match client.handshake().await.map_err(library)? {
                ServerResponse::Accepted { .. } => {}
                other => {
                    return Err(SubjectError::Library(format!(
                        "the server did not accept: {other:?}"
                    )));
                }
            }
            let socket = SokettoSocket::new(client.into_builder().finish());
            app.run(socket).await;
            Ok(())
        })
    }
}
