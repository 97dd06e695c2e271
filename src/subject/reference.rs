//! The reference as a subject: the model of a correct hand-over.
//!
//! The flow below is the whole server side of a hijacking library: read a
//! request, answer it, and either keep going or hand over. Each step that a real
//! library has got wrong is marked with the [`Flaw`] that breaks it; the reference
//! runs with none, and each mutant in [`super::mutants`] with exactly one.

use bytes::BytesMut;

use crate::reference::head;
use crate::reference::{self, ClientConn, Config, Hijacked, Request, ServerConn};
use crate::scenario::{BodyRead, FirstWrite};

use super::flaws::{self, ClientFlaw, Flaw};
use super::{
    BoxFuture, BoxIo, ClientApp, ClientSubject, HandOver, ServerHandler, ServerSubject,
    SubjectError,
};

/// The reference server, optionally with one deliberate flaw.
#[derive(Debug, Clone, Default)]
pub struct ReferenceServer {
    /// The deliberate flaw, if any.
    pub flaw: Option<Flaw>,
}

/// The reference client, optionally with one deliberate flaw.
#[derive(Debug, Clone, Default)]
pub struct ReferenceClient {
    /// The deliberate flaw, if any.
    pub flaw: Option<ClientFlaw>,
}

fn config(read_chunk: usize) -> Config {
    Config {
        read_chunk,
        ..Config::default()
    }
}

impl ServerSubject for ReferenceServer {
    fn name(&self) -> String {
        match self.flaw {
            None => "reference".into(),
            Some(flaw) => format!("mutant:{}", flaw.name()),
        }
    }

    fn serve(
        &self,
        io: BoxIo,
        handler: ServerHandler,
    ) -> BoxFuture<'static, Result<(), SubjectError>> {
        Box::pin(serve(io, handler, self.flaw))
    }
}

async fn serve(io: BoxIo, handler: ServerHandler, flaw: Option<Flaw>) -> Result<(), SubjectError> {
    let mut conn = ServerConn::new(io, config(handler.read_chunk()));
    // Answering and handing over are two steps, so that this future (boxed
    // for each run) is the larger of the two, not their sum: what answering
    // keeps (the request, the reply) ends before the hand-over starts.
    let Some(answered) = answer(&mut conn, &handler, flaw).await? else {
        return Ok(());
    };
    let Answered {
        hand_over,
        discards_body,
        first_written,
    } = answered;
    let stream = hijack(conn, hand_over, discards_body).await?;
    run_application(&handler, stream, first_written, flaw).await
}

/// A request answered with a hand-over to come.
struct Answered {
    /// How.
    hand_over: HandOver,
    /// Whether the library drops the unread body first.
    discards_body: bool,
    /// Whether the library already wrote the application's first bytes.
    first_written: bool,
}

/// Reads and answers requests until one is answered with a hand-over
/// (`Some`), or the client closes between requests (`None`).
async fn answer(
    conn: &mut ServerConn<BoxIo>,
    handler: &ServerHandler,
    flaw: Option<Flaw>,
) -> Result<Option<Answered>, SubjectError> {
    loop {
        let request = match read_request(conn, handler, flaw).await {
            Ok(request) => request,
            Err(e) => {
                // Tell the client why before closing; the error still ends the run.
                let _ = conn.reject(&e).await;
                return Err(library(e));
            }
        };
        let Some(request) = request else {
            return Ok(None);
        };
        // The flaws that hand the rest of the body to the new protocol.
        let discards_body = match flaw {
            Some(Flaw::HandsOverUnreadBody) => false,
            Some(Flaw::LeavesChunkedBody) => !flaws::skips_body(&request.head).map_err(library)?,
            _ => true,
        };
        let reply = handler.reply_to(request.head.target.clone(), request.body.clone());
        if flaw == Some(Flaw::SendsContinueLate)
            && head::has_token(&request.head.headers, "expect", "100-continue")
        {
            // The flaw: the expected 100 only now, after the body was read.
            conn.write_continue();
        }
        if reply.send_continue {
            conn.write_continue();
        }
        let hand_over = match (reply.hand_over, flaw) {
            (HandOver::No, Some(Flaw::HandsOverOnRefusal)) => HandOver::Explicit,
            (hand_over, _) => hand_over,
        };
        if hand_over == HandOver::BeforeAnswer {
            // Go's `Hijack()` in the handler: the application writes the answer.
            return Ok(Some(Answered {
                hand_over,
                discards_body,
                first_written: false,
            }));
        }
        conn.write_response(&reply.head, &reply.body);
        if hand_over == HandOver::No {
            conn.flush().await.map_err(library)?;
            continue;
        }
        // The application's first bytes go where the scenario puts them: with the
        // head, after it but unflushed, or through the hijacked stream.
        let first_written = match reply.first_write {
            FirstWrite::WithHead => {
                conn.write(&reply.first);
                conn.flush().await.map_err(library)?;
                true
            }
            FirstWrite::Unflushed => {
                conn.flush().await.map_err(library)?;
                conn.write(&reply.first);
                true
            }
            FirstWrite::AfterHijack => {
                conn.flush().await.map_err(library)?;
                false
            }
        };
        if flaw == Some(Flaw::LosesBackgroundByte) {
            flaws::background_read_one_byte(conn);
        }
        return Ok(Some(Answered {
            hand_over,
            discards_body,
            first_written,
        }));
    }
}

/// Reads a request head, and as much of its body as the application wants
/// ([`ServerHandler::body_to_read`]).
async fn read_request(
    conn: &mut ServerConn<BoxIo>,
    handler: &ServerHandler,
    flaw: Option<Flaw>,
) -> reference::Result<Option<Request>> {
    let Some(head) = conn.read_request_head().await? else {
        return Ok(None);
    };
    if flaw == Some(Flaw::SendsContinueLate) {
        conn.defer_continue();
    }
    let wanted = match flaw {
        Some(Flaw::LeavesChunkedBody) if flaws::skips_body(&head)? => BodyRead::Nothing,
        _ => handler.body_to_read(),
    };
    let mut body = BytesMut::new();
    let want = match wanted {
        BodyRead::All => usize::MAX,
        BodyRead::Part(n) => usize::from(n),
        BodyRead::Nothing => 0,
    };
    while body.len() < want {
        let chunk = conn.read_body_chunk(want - body.len()).await?;
        if chunk.is_empty() {
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(Request {
        head,
        body: body.freeze(),
    }))
}

/// Hands the connection over: after a switching answer, or explicitly (Go's
/// `Hijack()`) after any answer or before one. The library ends the request
/// message first, discarding the body the application left unread, unless a
/// flaw hands that over too (`discards_body` false).
async fn hijack(
    conn: ServerConn<BoxIo>,
    hand_over: HandOver,
    discards_body: bool,
) -> Result<Hijacked<BoxIo>, SubjectError> {
    if !discards_body {
        return Ok(conn.into_buffered().into_hijacked());
    }
    match hand_over {
        HandOver::Switch => conn.hijack().await,
        _ => conn.hijack_explicit().await,
    }
    .map_err(library)
}

async fn run_application(
    handler: &ServerHandler,
    stream: Hijacked<BoxIo>,
    first_written: bool,
    flaw: Option<Flaw>,
) -> Result<(), SubjectError> {
    match flaw {
        None => handler.run(stream, first_written).await,
        Some(flaw) => {
            let stream = flaws::mishandle(flaw, stream).await;
            handler.run(stream, first_written).await
        }
    }
    Ok(())
}

impl ClientSubject for ReferenceClient {
    fn name(&self) -> String {
        match self.flaw {
            None => "reference".into(),
            Some(flaw) => format!("mutant:{}", flaw.name()),
        }
    }

    fn connect(&self, io: BoxIo, app: ClientApp) -> BoxFuture<'static, Result<(), SubjectError>> {
        Box::pin(connect(io, app, self.flaw))
    }
}

async fn connect(io: BoxIo, app: ClientApp, flaw: Option<ClientFlaw>) -> Result<(), SubjectError> {
    let mut conn = ClientConn::new(io, config(app.read_chunk()));
    let (head, body) = app.request();
    conn.send(&head, &body).await.map_err(library)?;
    let early = app.optimistic();
    if !early.is_empty() {
        conn.write_early(&early).await.map_err(library)?;
    }
    let response = conn.read_response().await.map_err(library)?;
    app.saw_response(response.status);
    let hand_over = if response.switches(head.is_connect()) {
        HandOver::Switch
    } else if app.explicit_hijack(&response) || flaw == Some(ClientFlaw::HandsOverOnRefusal) {
        HandOver::Explicit
    } else {
        // Not upgraded: the connection stays HTTP, and this client is done with it.
        return Ok(());
    };
    let stream: Hijacked<BoxIo> = match hand_over {
        HandOver::Switch => conn.hijack().map_err(library)?,
        _ => conn.hijack_explicit(),
    };
    match flaw {
        Some(ClientFlaw::ReadsPastHead) => app.run(flaws::forget_read_ahead(stream)).await,
        _ => app.run(stream).await,
    }
    Ok(())
}

fn library(e: reference::Error) -> SubjectError {
    match e {
        reference::Error::Io(io) => SubjectError::Io(io),
        other => SubjectError::Library(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;
    use crate::wire::Recorder;

    /// The future a run boxes is small enough for glibc's per-thread cache
    /// (at most 1,032 bytes): answering and handing over are two steps, not
    /// one future holding both.
    #[test]
    fn the_served_future_fits_a_small_block() {
        let (_client, server) = tokio::io::duplex(16);
        let handler = ServerHandler::new(Scenario::basic(), Recorder::new());
        let size = std::mem::size_of_val(&serve(Box::new(server), handler, None));
        assert!(size <= 1032, "a future of {size} bytes");
    }
}
