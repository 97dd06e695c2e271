//! The generic code of this crate compiled here for [`BoxIo`], the stream the
//! harness hands every subject.
//!
//! Rust compiles a generic function in the crate that names its type arguments:
//! `ServerConn<BoxIo>::read_request` called from the harness is compiled into the
//! harness, not here. The fuzz build instruments this crate and leaves the
//! harness out of coverage (fuzz/Cargo.toml), and with `-Zshare-generics=y` on
//! both crates a downstream crate uses a copy compiled upstream when there is
//! one. [`instances`] makes those copies: it names every public generic function
//! of the hand-over for [`BoxIo`], so the server, client and proxy code the fuzz
//! targets run keeps its coverage. It is never meant to run.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::body::BodyReader;
use crate::head::{self, Framing, RequestHead, ResponseHead};
use crate::io::BoxIo;
use crate::proxy::{self, Connect};
use crate::{BufferedConn, ClientConn, Config, Error, Hijacked, RequestBody, Result, ServerConn};

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Compiles the generic hand-over code for [`BoxIo`] in this crate (see the
/// module documentation); the future it returns is meant to be dropped unpolled.
#[doc(hidden)]
pub fn instances(io: BoxIo, upstream: BoxIo, connect: Connect) -> BoxFuture<Result<()>> {
    Box::pin(async move {
        server(io).await?;
        client(upstream).await?;
        proxy::serve(empty(), connect).await
    })
}

async fn server(io: BoxIo) -> Result<()> {
    let mut conn = ServerConn::new(io, Config::default());
    conn.set_linger(None);
    conn.read_request().await?;
    conn.read_request_head().await?;
    conn.read_body_chunk(1).await?;
    conn.read_request_body().await?;
    let _ = conn.body_done();
    conn.write_continue();
    conn.defer_continue();
    let answer = ResponseHead::switching_protocols("");
    conn.write_response(&answer, &[]);
    conn.write(&[]);
    conn.flush().await?;
    conn.reject(&Error::TooManyHeaders { limit: 0 }).await?;
    conn.close().await?;
    buffered(conn.buffered()).await?;
    let hijacked = conn.hijack().await?;
    hijacked_stream(hijacked).await?;
    let conn = ServerConn::new(empty(), Config::default());
    hijacked_stream(conn.hijack_explicit().await?).await?;
    let conn = ServerConn::new(empty(), Config::default());
    let mut buffered = conn.into_buffered();
    let mut body = BodyReader::new(Framing::Length(0));
    body.read(&mut buffered, 1).await?;
    body.discard(&mut buffered, 1).await?;
    let _ = buffered.hijack_after(None, false)?;
    let conn = ServerConn::new(empty(), Config::default());
    proxy::answer_and_close(conn, 502, "").await?;
    let (conn, upstream) = (ServerConn::new(empty(), Config::default()), client_conn());
    proxy::tunnel(conn, &answer, upstream).await?;
    let (conn, upstream) = (ServerConn::new(empty(), Config::default()), client_conn());
    proxy::relay(conn, &answer, upstream, false).await?;
    proxy::refusal_body(client_conn(), &answer, false).await?;
    Ok(())
}

async fn client(io: BoxIo) -> Result<()> {
    let mut conn = ClientConn::new(io, Config::default());
    let request = RequestHead {
        method: String::new(),
        target: String::new(),
        headers: Vec::new(),
    };
    conn.send(&request, &RequestBody::Empty).await?;
    conn.write_early(&[]).await?;
    conn.read_response().await?;
    hijacked_stream(conn.hijack()?).await?;
    hijacked_stream(client_conn().hijack_explicit()).await?;
    let mut buffered = client_conn().into_buffered();
    let _ = buffered.read_head("", head::parse_response).await?;
    let _ = buffered.read_head("", head::parse_request).await?;
    buffered.hijack_after(None, false)?;
    Ok(())
}

async fn buffered(conn: &mut BufferedConn<BoxIo>) -> Result<()> {
    conn.buffer_write(&[]);
    let _ = (conn.read_ahead(), conn.unflushed());
    let _ = conn.get_mut();
    let _ = conn.take_read_ahead(0);
    conn.consume_read_ahead(0);
    conn.fill().await?;
    conn.fill_or_eof("").await?;
    conn.discard_input(None).await;
    conn.flush().await
}

async fn hijacked_stream(mut stream: Hijacked<BoxIo>) -> Result<()> {
    let _ = (stream.read_buf(), stream.get_ref());
    let mut byte = [0; 1];
    let n = stream.read(&mut byte).await?;
    stream.write_all(&byte[..n]).await?;
    stream.flush().await?;
    stream.shutdown().await?;
    let _ = Hijacked::new(empty(), Bytes::new(), Bytes::new()).into_parts();
    Ok(())
}

fn client_conn() -> ClientConn<BoxIo> {
    ClientConn::new(empty(), Config::default())
}

fn empty() -> BoxIo {
    Box::new(tokio::io::join(tokio::io::empty(), tokio::io::sink()))
}
