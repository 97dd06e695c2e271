//! WebSocket libraries as subjects: the hand-over judged at the level of messages.
//!
//! A WebSocket library does not give its application the raw connection: it
//! gives a stream of messages. So a WebSocket subject is the library's handshake
//! *and* its frame reader and writer, seen through the one thing every such
//! library offers: a [`Socket`] that receives and sends messages. The harness
//! brings the transport (a scripted peer at the other end, see
//! [`crate::peer::websocket`]) and the application ([`MessageApp`]), which greets,
//! echoes every data message and answers a close, recording what it received and
//! sent so that [`crate::oracle::websocket`] can judge the run.
//!
//! To test a WebSocket library, implement [`MessageServerSubject`] or
//! [`MessageClientSubject`]: do the library's handshake on the given transport, adapt
//! the library's message stream to [`Socket`], and hand it to [`MessageApp::run`].
//! `tungstenite.rs` is the shortest complete example.
//!
//! The futures are not `Send`: actix's are not (its dispatcher holds `Rc`s), and
//! the lockstep driver runs every future on the current thread anyway.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;

use crate::scenario::websocket::{HOST, Kind, MessageScenario, PATH};
use crate::subject::{BoxIo, SubjectError};
use crate::wire::{Event, Recorder, Side};

#[cfg(feature = "actix")]
pub mod actix;
pub mod mutants;
pub mod soketto;
pub mod tungstenite;

/// A boxed future that need not be `Send`.
pub type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// What a library delivered to its application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A whole data message.
    Data(Kind, Bytes),
    /// A ping, for libraries that show them (the reply is the library's duty).
    Ping(Bytes),
    /// A pong, for libraries that show them.
    Pong(Bytes),
    /// The peer's close frame.
    Close,
}

/// A library's message stream after its handshake, as the application uses it.
pub trait Socket {
    /// The next message; `Ok(None)` when the library says the stream has ended.
    fn receive(&mut self) -> LocalBoxFuture<'_, Result<Option<Incoming>, String>>;
    /// Sends one whole message and flushes it.
    fn send(&mut self, kind: Kind, payload: Bytes) -> LocalBoxFuture<'_, Result<(), String>>;
    /// What the application does after the peer's close, as the library documents
    /// it: nothing where the library answers by itself, a close of its own otherwise.
    fn close(&mut self) -> LocalBoxFuture<'_, Result<(), String>>;
}

/// A WebSocket server library under test.
pub trait MessageServerSubject {
    /// A short name for reports.
    fn name(&self) -> String;

    /// Serves one connection on `io`: the opening handshake, then the message
    /// stream given to [`MessageApp::run`].
    fn serve(
        &self,
        io: BoxIo,
        app: MessageApp,
    ) -> LocalBoxFuture<'static, Result<(), SubjectError>>;
}

/// A WebSocket client library under test.
pub trait MessageClientSubject {
    /// A short name for reports.
    fn name(&self) -> String;

    /// Opens the WebSocket on `io` ([`MessageApp::url`], [`MessageApp::key`] where the library
    /// takes one), then gives the message stream to [`MessageApp::run`].
    fn connect(
        &self,
        io: BoxIo,
        app: MessageApp,
    ) -> LocalBoxFuture<'static, Result<(), SubjectError>>;
}

/// One thing the application was given, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// A data message.
    Data(Kind, Bytes),
    /// The peer's close.
    Close,
}

/// Everything the WebSocket application did, as the oracle sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageRecord {
    /// Whether the library finished its handshake and gave the application its stream.
    pub hijacked: bool,
    /// The data messages and the close the library delivered, in order.
    pub received: Vec<Delivery>,
    /// The messages the application sent (each one the library accepted), in order.
    pub sent: Vec<(Kind, Bytes)>,
    /// Whether the application asked the library to close ([`Socket::close`]).
    pub closed: bool,
    /// Whether the library said the stream ended (`Ok(None)`).
    pub saw_end: bool,
    /// The first error the library returned to the application.
    pub error: Option<String>,
}

impl MessageRecord {
    /// The data messages delivered, in order.
    pub fn data(&self) -> impl Iterator<Item = (Kind, &Bytes)> {
        self.received.iter().filter_map(|d| match d {
            Delivery::Data(kind, bytes) => Some((*kind, bytes)),
            Delivery::Close => None,
        })
    }
}

#[derive(Debug)]
struct Shared {
    scenario: MessageScenario,
    side: Side,
    record: Mutex<MessageRecord>,
    recorder: Recorder,
}

/// The harness's WebSocket application, given to a subject.
///
/// It sends its greeting ([`MessageScenario::greeting_bytes`]) first, then echoes every
/// data message as the same kind, ignores pings and pongs, and after the peer's
/// close calls [`Socket::close`] and reads until the library ends the stream.
#[derive(Debug, Clone)]
pub struct MessageApp {
    shared: Arc<Shared>,
}

impl MessageApp {
    /// The application of `side` for `scenario`, logging into `recorder`.
    pub fn new(scenario: MessageScenario, side: Side, recorder: Recorder) -> Self {
        MessageApp {
            shared: Arc::new(Shared {
                scenario,
                side,
                record: Mutex::default(),
                recorder,
            }),
        }
    }

    /// The case.
    pub fn scenario(&self) -> &MessageScenario {
        &self.shared.scenario
    }

    /// The URL a client subject opens (the host is a name: the transport is given).
    pub fn url(&self) -> String {
        format!("ws://{HOST}{PATH}")
    }

    /// The `Sec-WebSocket-Key` for libraries that let the caller choose it.
    pub fn key(&self) -> String {
        self.shared.scenario.key()
    }

    fn record(&self) -> MutexGuard<'_, MessageRecord> {
        self.shared
            .record
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What the application did, taken out (the record is left empty).
    pub fn take_record(&self) -> MessageRecord {
        std::mem::take(&mut *self.record())
    }

    /// Runs the application on the library's message stream.
    pub async fn run(&self, mut socket: impl Socket) {
        let side = self.shared.side;
        self.shared.recorder.record(Event::Hijack { side });
        self.record().hijacked = true;
        if let Err(e) = self.session(&mut socket).await {
            tracing::debug!(%side, error = %e, "websocket application stream failed");
            self.record().error.get_or_insert(e);
        }
        self.shared.recorder.record(Event::AppEnd { side });
    }

    async fn session(&self, socket: &mut impl Socket) -> Result<(), String> {
        self.send(socket, Kind::Binary, self.shared.scenario.greeting_bytes())
            .await?;
        let mut closing = false;
        loop {
            match socket.receive().await? {
                None => {
                    self.record().saw_end = true;
                    return Ok(());
                }
                Some(Incoming::Data(kind, payload)) => {
                    self.record()
                        .received
                        .push(Delivery::Data(kind, payload.clone()));
                    if !closing {
                        self.send(socket, kind, payload).await?;
                    }
                }
                Some(Incoming::Ping(_) | Incoming::Pong(_)) => {}
                Some(Incoming::Close) => {
                    self.record().received.push(Delivery::Close);
                    if !closing {
                        closing = true;
                        self.record().closed = true;
                        socket.close().await?;
                    }
                }
            }
        }
    }

    async fn send(
        &self,
        socket: &mut impl Socket,
        kind: Kind,
        payload: Bytes,
    ) -> Result<(), String> {
        socket.send(kind, payload.clone()).await?;
        // Recorded once accepted: a message the library refused was never its to deliver.
        self.record().sent.push((kind, payload));
        Ok(())
    }
}

/// A library's error as a [`SubjectError`].
pub fn library(e: impl std::fmt::Display) -> SubjectError {
    SubjectError::Library(e.to_string())
}

/// A text payload as a `str`: the application only echoes text the library
/// delivered as valid UTF-8, so the lossy path is never taken by a conformant run.
pub fn text(payload: &Bytes) -> Cow<'_, str> {
    // Validated once, with SIMD (`from_utf8_lossy`, then `str::from_utf8`, was a
    // sixth of a WebSocket property case's time on mixed-width text).
    match simdutf8::basic::from_utf8(payload) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(payload),
    }
}

/// A text payload known to be UTF-8, for libraries whose text type can take
/// shared bytes without checking them (`from_bytes_unchecked`): the bytes the
/// library delivered, validated once with SIMD and handed back without a copy
/// (copying each echoed text into a `String` was about 2 % of a case), or their
/// lossy repair, which a conformant run never needs (see [`text`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utf8(Bytes);

impl Utf8 {
    /// `payload` if it is UTF-8, else its lossy repair.
    pub fn new(payload: Bytes) -> Utf8 {
        match text(&payload) {
            Cow::Borrowed(_) => Utf8(payload),
            Cow::Owned(repaired) => Utf8(Bytes::from(repaired)),
        }
    }

    /// The bytes: valid UTF-8 (the constructor's check), fit for a library's
    /// `from_bytes_unchecked`.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_text_is_handed_back_without_a_copy_and_invalid_text_is_repaired() {
        let valid = Bytes::from("héllo, wörld €😀".repeat(100));
        let kept = Utf8::new(valid.clone()).into_bytes();
        assert_eq!(kept, valid);
        assert_eq!(kept.as_ptr(), valid.as_ptr(), "copied");
        assert!(matches!(text(&valid), Cow::Borrowed(_)));
        let invalid = Bytes::from_static(b"ab\xffc\xe2\x82");
        let repaired = Utf8::new(invalid.clone()).into_bytes();
        assert_eq!(&repaired[..], "ab\u{FFFD}c\u{FFFD}".as_bytes());
        assert_eq!(text(&invalid), "ab\u{FFFD}c\u{FFFD}");
    }
}
