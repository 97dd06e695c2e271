//! The reference as a subject: the model of a correct hand-over.
//!
//! The flow below is the whole server side of a hijacking library: read a
//! request, answer it, and either keep going or hand over. Each step that a real
//! library has got wrong is marked with the [`Flaw`] that breaks it; the reference
//! runs with none, and each mutant in [`super::mutants`] with exactly one.

use crate::reference::{self, ClientConn, Config, Hijacked, ServerConn};
use crate::scenario::FirstWrite;

use super::mutants::{ClientFlaw, Flaw};
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
    loop {
        let request = match flaw {
            Some(Flaw::LeavesChunkedBody) => {
                super::mutants::read_request_skipping_upgrade_body(&mut conn).await
            }
            _ => conn.read_request().await,
        };
        let request = match request {
            Ok(request) => request,
            Err(e) => {
                // Tell the client why before closing; the error still ends the run.
                let _ = conn.reject(&e).await;
                return Err(library(e));
            }
        };
        let Some(request) = request else {
            return Ok(());
        };
        let reply = handler.reply(&request.head, &request.body);
        if reply.send_continue {
            conn.write_continue();
        }
        conn.write_response(&reply.head, &reply.body);
        let hand_over = match (reply.hand_over, flaw) {
            (HandOver::No, Some(Flaw::HandsOverOnRefusal)) => HandOver::Explicit,
            (hand_over, _) => hand_over,
        };
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
            super::mutants::background_read_one_byte(&mut conn);
        }
        let stream = match hand_over {
            HandOver::Explicit => conn.hijack_explicit(),
            _ => conn.hijack().map_err(library)?,
        };
        match flaw {
            None => handler.run(stream, first_written).await,
            Some(flaw) => {
                let stream = super::mutants::mishandle(flaw, stream).await;
                handler.run(stream, first_written).await
            }
        }
        return Ok(());
    }
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
        Some(ClientFlaw::ReadsPastHead) => app.run(super::mutants::forget_read_ahead(stream)).await,
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
