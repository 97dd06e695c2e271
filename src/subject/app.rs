//! The harness's side of the boundary: the handler that answers, and the
//! applications that take the hijacked stream and record what they read and wrote.

use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::heap::ReadBuffer;

use crate::reference::RequestBody;
use crate::reference::head::{Header, RequestHead, ResponseHead};
use crate::scenario::{
    AnswerWriter, BodyRead, FirstWrite, Handshake, Messages, Prepared, RAW_STREAM, Scenario,
    ServerApp,
};
use crate::wire::{Event, Recorder, Side};

/// How many bytes the applications ask for per read.
const APP_READ: usize = 8192;

/// Everything one application did, as the oracle sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppRecord {
    /// Server: the requests the handler answered (target and body), in order.
    pub requests: Vec<(String, Bytes)>,
    /// Client: the status of the final response the library reported.
    pub response_status: Option<u16>,
    /// Whether the library handed the stream to the application.
    pub hijacked: bool,
    /// How many of `written`'s first bytes were written before the hand-over.
    pub written_before_hijack: usize,
    /// Every byte the application read from the hijacked stream, in order.
    pub read: Vec<u8>,
    /// Whether a read returned EOF.
    pub saw_eof: bool,
    /// Every byte the application wrote, in order.
    pub written: Vec<u8>,
    /// Whether the application shut down its write half.
    pub shut_down: bool,
    /// The first error the hijacked stream returned, if any.
    pub error: Option<String>,
}

#[derive(Debug)]
struct Shared {
    /// The scenario and its messages, shared with other runs of it ([`Prepared::of`]).
    prepared: Arc<Prepared>,
    record: Mutex<AppRecord>,
    recorder: Recorder,
}

impl Shared {
    fn new(prepared: Arc<Prepared>, recorder: Recorder) -> Self {
        Shared {
            prepared,
            record: Mutex::default(),
            recorder,
        }
    }

    fn record(&self) -> MutexGuard<'_, AppRecord> {
        self.record
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Whether and how an answer hands the connection over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandOver {
    /// It does not: the connection stays HTTP.
    No,
    /// It switches protocols (`101`, or `2xx` to `CONNECT`): the library hands over by itself.
    Switch,
    /// The application takes the connection explicitly after a normal answer.
    Explicit,
    /// The application takes the connection before any answer (Go's `Hijack()`
    /// in the handler) and writes the answer itself on the raw connection, as
    /// Docker's daemon does: the library writes nothing, not even [`Reply::head`].
    BeforeAnswer,
}

/// The handler's answer to one request.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Send `100 Continue` first.
    pub send_continue: bool,
    /// The final response head (shared with the run's
    /// [`Messages`](crate::scenario::Messages), not copied for each answer).
    pub head: Arc<ResponseHead>,
    /// Its body (empty when it hands over).
    pub body: Bytes,
    /// Whether it hands over.
    pub hand_over: HandOver,
    /// The application's first bytes in the new protocol.
    pub first: Bytes,
    /// When the application wants them written.
    pub first_write: FirstWrite,
}

/// The harness's request handler and server application, given to a [`super::ServerSubject`].
#[derive(Debug, Clone)]
pub struct ServerHandler {
    shared: Arc<Shared>,
}

impl ServerHandler {
    /// A handler for `scenario`, logging into `recorder`.
    pub fn new(scenario: Scenario, recorder: Recorder) -> Self {
        ServerHandler {
            shared: Arc::new(Shared::new(Arc::new(Prepared::new(scenario)), recorder)),
        }
    }

    /// A handler for a scenario prepared already ([`Prepared::of`]), logging into `recorder`.
    pub(crate) fn prepared(prepared: Arc<Prepared>, recorder: Recorder) -> Self {
        ServerHandler {
            shared: Arc::new(Shared::new(prepared, recorder)),
        }
    }

    /// The scenario.
    pub fn scenario(&self) -> &Scenario {
        &self.shared.prepared.scenario
    }

    /// The scenario's messages, built once for the whole run.
    pub fn messages(&self) -> &Messages {
        &self.shared.prepared.messages
    }

    /// The read size the scenario gives the server library, for libraries that take one.
    pub fn read_chunk(&self) -> usize {
        self.shared.prepared.scenario.server.read_chunk
    }

    /// What the application did so far.
    pub fn record(&self) -> AppRecord {
        self.shared.record().clone()
    }

    /// What the application did, taken out (the record is left empty): for the
    /// end of a run, where copying every byte read and written once more would
    /// cost more than the rest of the bookkeeping.
    pub fn take_record(&self) -> AppRecord {
        std::mem::take(&mut *self.shared.record())
    }

    /// How much of the body of the request about to be answered the application
    /// reads before it calls [`ServerHandler::reply`]: the scenario's choice for
    /// the first request, all of it for a later one (a pipelined request after a
    /// refusal). The subject reads that much through its library, and passes what
    /// it read to `reply`; the rest is the library's to discard.
    pub fn body_to_read(&self) -> BodyRead {
        if self.shared.record().requests.is_empty() {
            self.shared.prepared.scenario.server.body_read
        } else {
            BodyRead::All
        }
    }

    /// Answers a request whose body the application read as far as
    /// [`ServerHandler::body_to_read`] said (`body`). The first gets the scenario's
    /// answer; any later one (a pipelined request after a refusal) gets `200 OK`
    /// with body `next`.
    pub fn reply(&self, head: &RequestHead, body: &[u8]) -> Reply {
        self.reply_to(head.target.clone(), Bytes::copy_from_slice(body))
    }

    /// [`ServerHandler::reply`] to a request whose target is `target`, with
    /// the body read so far as `Bytes` (kept as they are, not copied): the
    /// handler reads nothing else of the head, so a subject whose library gives
    /// it no [`RequestHead`] need not build one (a string for every field) only
    /// to be answered.
    pub fn reply_to(&self, target: String, body: Bytes) -> Reply {
        let scenario = &self.shared.prepared.scenario;
        let first_request = {
            let mut record = self.shared.record();
            record.requests.push((target, body));
            record.requests.len() == 1
        };
        if !first_request {
            return Reply {
                send_continue: false,
                head: Arc::new(ResponseHead {
                    status: 200,
                    reason: "OK".into(),
                    headers: vec![Header::new("Content-Length", "4")],
                }),
                body: Bytes::from_static(b"next"),
                hand_over: HandOver::No,
                first: Bytes::new(),
                first_write: FirstWrite::AfterHijack,
            };
        }
        let hand_over = match (
            scenario.accepted(),
            scenario.server.writer,
            scenario.handshake,
        ) {
            (false, _, _) => HandOver::No,
            (true, AnswerWriter::Application, _) => HandOver::BeforeAnswer,
            (true, _, Handshake::Explicit) => HandOver::Explicit,
            (true, _, _) => HandOver::Switch,
        };
        let head = self.shared.prepared.messages.response_head.clone();
        let body = if hand_over == HandOver::No {
            Bytes::from_static(crate::scenario::REFUSAL_BODY)
        } else {
            Bytes::new()
        };
        Reply {
            // An application that answers itself leaves the expected `100` to the library.
            send_continue: scenario.interim_continue && hand_over != HandOver::BeforeAnswer,
            head,
            body,
            hand_over,
            first: self.shared.prepared.messages.first.clone(),
            first_write: scenario.server.first_write,
        }
    }

    /// The server application: takes the hijacked stream and runs the scenario's
    /// protocol on it (echo, or half-close first), recording everything.
    ///
    /// `first_written` says whether the library already wrote [`Reply::first`]
    /// before the hand-over; if not, the application writes it first thing. After
    /// a [`HandOver::BeforeAnswer`] it writes the answer ([`Reply::head`]) before
    /// that, itself, on the stream it took.
    pub async fn run<S: AsyncRead + AsyncWrite + Unpin>(&self, mut stream: S, first_written: bool) {
        let first = self.shared.prepared.messages.first.clone();
        let scenario = &self.shared.prepared.scenario;
        let app = scenario.server.app;
        let mut session = Session::start(&self.shared, Side::Server);
        if scenario.accepted() && scenario.server.writer == AnswerWriter::Application {
            let head = self.shared.prepared.messages.final_head();
            if let Err(e) = session.write_answer(&mut stream, &head).await {
                session.finish(Err(e));
                return;
            }
        }
        if first_written {
            let mut record = self.shared.record();
            record.written.extend_from_slice(&first);
            record.written_before_hijack = first.len();
        }
        let first = if first_written { Bytes::new() } else { first };
        let result = session.serve(&mut stream, first, app).await;
        // The end is logged before the stream is dropped, so that a FIN from the
        // drop is not mistaken for the library closing a stream the app still had.
        session.finish(result);
        drop(stream);
    }
}

/// The harness's client application, given to a [`super::ClientSubject`].
#[derive(Debug, Clone)]
pub struct ClientApp {
    shared: Arc<Shared>,
}

impl ClientApp {
    /// A client application for `scenario`, logging into `recorder`.
    pub fn new(scenario: Scenario, recorder: Recorder) -> Self {
        ClientApp {
            shared: Arc::new(Shared::new(Arc::new(Prepared::new(scenario)), recorder)),
        }
    }

    /// An application for a scenario prepared already ([`Prepared::of`]), logging into `recorder`.
    pub(crate) fn prepared(prepared: Arc<Prepared>, recorder: Recorder) -> Self {
        ClientApp {
            shared: Arc::new(Shared::new(prepared, recorder)),
        }
    }

    /// The scenario.
    pub fn scenario(&self) -> &Scenario {
        &self.shared.prepared.scenario
    }

    /// The scenario's messages, built once for the whole run.
    pub fn messages(&self) -> &Messages {
        &self.shared.prepared.messages
    }

    /// The read size the scenario gives the client library.
    pub fn read_chunk(&self) -> usize {
        self.shared.prepared.scenario.client.read_chunk
    }

    /// What the application did so far.
    pub fn record(&self) -> AppRecord {
        self.shared.record().clone()
    }

    /// What the application did, taken out (the record is left empty): for the
    /// end of a run, where copying every byte read and written once more would
    /// cost more than the rest of the bookkeeping.
    pub fn take_record(&self) -> AppRecord {
        std::mem::take(&mut *self.shared.record())
    }

    /// The request to send (the head built now: a server run never needs it).
    pub fn request(&self) -> (RequestHead, RequestBody) {
        let prepared = &self.shared.prepared;
        (
            prepared.scenario.request_head(),
            prepared.messages.request_body.clone(),
        )
    }

    /// The bytes the application writes right after the request, before the
    /// answer arrives (an optimistic upgrade): empty unless the scenario's client
    /// is optimistic. Calling it records them as written before the hand-over, so
    /// a subject calls it when its library takes them; a library that cannot write
    /// before the answer declares such a scenario unsupported.
    pub fn optimistic(&self) -> Bytes {
        if !self.shared.prepared.scenario.client.optimistic {
            return Bytes::new();
        }
        let early = self.shared.prepared.messages.early.clone();
        let mut record = self.shared.record();
        record.written.extend_from_slice(&early);
        record.written_before_hijack = early.len();
        early
    }

    /// Tells the application the final response status the library read.
    pub fn saw_response(&self, status: u16) {
        self.shared.record().response_status = Some(status);
    }

    /// Whether the application takes the connection after `head` although it does
    /// not switch protocols: Docker's older attach API answers `200 OK` with
    /// `Content-Type: application/vnd.docker.raw-stream`, and its client hijacks then.
    pub fn explicit_hijack(&self, head: &ResponseHead) -> bool {
        self.shared.prepared.scenario.handshake == Handshake::Explicit
            && head.status == 200
            && crate::reference::head::header_value(&head.headers, "content-type")
                .is_some_and(|v| v.eq_ignore_ascii_case(RAW_STREAM))
    }

    /// The client application: writes the scenario's late bytes, half-closes if
    /// the scenario says so, and reads until EOF, recording everything.
    pub async fn run<S: AsyncRead + AsyncWrite + Unpin>(&self, mut stream: S) {
        let mut session = Session::start(&self.shared, Side::Client);
        let result = session.client(&mut stream).await;
        session.finish(result);
        drop(stream);
    }
}

/// One application's use of a hijacked stream.
struct Session<'a> {
    shared: &'a Shared,
    side: Side,
}

impl<'a> Session<'a> {
    fn start(shared: &'a Shared, side: Side) -> Self {
        shared.recorder.record(Event::Hijack { side });
        let mut record = shared.record();
        record.hijacked = true;
        // A conforming run reads and writes at most the new-protocol payloads: with
        // room for them up front, a 200 KB stream is not copied again at every
        // doubling of its buffer.
        let m = &shared.prepared.messages;
        let expected = m.early.len() + m.late.len() + m.first.len();
        record.read.reserve(expected);
        record.written.reserve(expected);
        drop(record);
        Session { shared, side }
    }

    async fn write<S: AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
        data: &[u8],
    ) -> std::io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        stream.write_all(data).await?;
        // Recorded once accepted: a write the stream refused was never the library's to deliver.
        self.shared.record().written.extend_from_slice(data);
        stream.flush().await
    }

    /// Writes the answer's head, as an application that took the connection
    /// before answering does: not recorded with the new protocol's bytes, since it
    /// is the head the oracle looks for before them.
    async fn write_answer<S: AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
        head: &[u8],
    ) -> std::io::Result<()> {
        stream.write_all(head).await?;
        stream.flush().await
    }

    async fn shutdown<S: AsyncWrite + Unpin>(&mut self, stream: &mut S) -> std::io::Result<()> {
        self.shared
            .recorder
            .record(Event::AppShutdown { side: self.side });
        self.shared.record().shut_down = true;
        stream.shutdown().await
    }

    /// Reads once into `buf` (emptied first, with room for [`APP_READ`]
    /// bytes); `None` at EOF.
    async fn read<S: AsyncRead + Unpin>(
        &mut self,
        stream: &mut S,
        buf: &mut ReadBuffer,
    ) -> std::io::Result<Option<usize>> {
        buf.restart(APP_READ);
        let n = buf.read_from(stream).await?;
        let mut record = self.shared.record();
        if n == 0 {
            record.saw_eof = true;
            return Ok(None);
        }
        record.read.extend_from_slice(buf);
        Ok(Some(n))
    }

    async fn drain<S: AsyncRead + Unpin>(&mut self, stream: &mut S) -> std::io::Result<()> {
        let mut buf = ReadBuffer::new();
        while self.read(stream, &mut buf).await?.is_some() {}
        Ok(())
    }

    async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
        first: Bytes,
        app: ServerApp,
    ) -> std::io::Result<()> {
        self.write(stream, &first).await?;
        // An application that wrote before the hand-over flushes before it waits:
        // the unflushed bytes must not sit behind a read that may never return.
        stream.flush().await?;
        match app {
            ServerApp::Echo => {
                let mut buf = ReadBuffer::new();
                while self.read(stream, &mut buf).await?.is_some() {
                    self.write(stream, &buf).await?;
                }
                self.shutdown(stream).await
            }
            ServerApp::CloseWriteFirst => {
                self.shutdown(stream).await?;
                self.drain(stream).await
            }
        }
    }

    async fn client<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
    ) -> std::io::Result<()> {
        let late = self.shared.prepared.messages.late.clone();
        self.write(stream, &late).await?;
        if self.shared.prepared.scenario.client.half_close {
            self.shutdown(stream).await?;
        }
        self.drain(stream).await
    }

    fn finish(self, result: std::io::Result<()>) {
        self.shared
            .recorder
            .record(Event::AppEnd { side: self.side });
        if let Err(e) = result {
            tracing::debug!(side = %self.side, error = %e, "application stream failed");
            self.shared
                .record()
                .error
                .get_or_insert_with(|| e.to_string());
        }
    }
}
