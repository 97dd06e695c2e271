//! A server subject (the reference library, a mutant, hyper) behind a real
//! listener, speaking the black-box `echo` protocol: what the black-box runner
//! tests when it is pointed at it over TCP, a Unix socket or TLS.
//!
//! It exists to judge the runner, not the subject: a mutant must fail the same
//! cases whatever carried the bytes, and the reference none, so a transport
//! that hid a lost byte (the read-ahead of a TLS server sits in its TLS
//! layer's buffer as well as its HTTP buffer) shows up as a difference.
//!
//! Each connection gets an application made for the request it carries: the
//! subject's handler answers from a [`Scenario`], and a black-box client does
//! not say which case it runs. So the head is read first (and kept), the
//! scenario is chosen from it (`Upgrade: echo` accepted, any other token or an
//! HTTP/1.0 request refused, `CONNECT` accepted as a tunnel; the body read
//! whole, then echo), and the subject gets the connection with those bytes
//! replayed in front of it ([`Hijacked`] as a plain rewind): its first read
//! returns them all at once, as one segment would.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::AsyncReadExt;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::reference::Hijacked;
use crate::reference::head::{self, RequestHead};
use crate::scenario::{Answer, Handshake, Protocol, Scenario};
use crate::subject::{BoxIo, ServerHandler};
use crate::wire::Recorder;
use crate::wire::transport::Listener;

use super::embedded::SharedServer;

/// The longest head read before choosing a scenario.
const MAX_HEAD: usize = 64 * 1024;

/// How long a connection may take to send its head and to finish.
const CONNECTION_LIMIT: Duration = Duration::from_secs(30);

/// The scenario that answers `request`: accepted for `echo` (or `CONNECT`),
/// refused with `400` for another token or HTTP/1.0.
fn scenario_for(request: &RequestHead, http10: bool) -> Scenario {
    let basic = Scenario::basic();
    if request.is_connect() {
        return Scenario {
            handshake: Handshake::Connect,
            ..basic
        };
    }
    let echo = head::has_token(&request.headers, "upgrade", "echo");
    if echo && !http10 {
        Scenario {
            handshake: Handshake::Upgrade(Protocol::Echo),
            ..basic
        }
    } else {
        refusing()
    }
}

/// The scenario of a request the application does not accept.
fn refusing() -> Scenario {
    Scenario {
        answer: Answer::Refuse(400),
        ..Scenario::basic()
    }
}

/// Whether the request line in `seen` is HTTP/1.0.
fn http10(seen: &[u8]) -> bool {
    seen.split(|&b| b == b'\n')
        .next()
        .is_some_and(|line| line.trim_ascii_end().ends_with(b"HTTP/1.0"))
}

/// Serves `listener` with `subject` until `stop` completes, at most `max`
/// connections at once (the rest wait to be accepted).
pub async fn serve_subject(
    listener: Listener,
    subject: SharedServer,
    max: usize,
    stop: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(max.max(1)));
    let mut tasks = JoinSet::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let permit = tokio::select! {
            () = &mut stop => break,
            permit = permits.clone().acquire_owned() => permit,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => accepted,
        };
        let Ok(accepted) = accepted else { continue };
        let subject = subject.clone();
        tasks.spawn(async move {
            let _permit = permit;
            let served = async {
                let io = accepted.establish(CONNECTION_LIMIT).await.ok()?;
                serve_one(io, subject).await
            };
            let _ = tokio::time::timeout(CONNECTION_LIMIT, served).await;
        });
        while tasks.try_join_next().is_some() {}
    }
    tasks.shutdown().await;
}

/// Reads the head of the first request, then lets `subject` serve the
/// connection with it replayed.
async fn serve_one(mut io: BoxIo, subject: SharedServer) -> Option<()> {
    let mut seen = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let scenario = loop {
        match head::parse_request(&seen) {
            Ok(Some((request, _))) => break scenario_for(&request, http10(&seen)),
            // The library will refuse it (an HTTP/1.0 request line, say): the
            // application would have refused it too.
            Err(_) => break refusing(),
            Ok(None) => {}
        }
        if seen.len() > MAX_HEAD {
            return None;
        }
        let n = io.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        seen.extend_from_slice(&buf[..n]);
    };
    let handler = ServerHandler::new(scenario, Recorder::new());
    let replayed = Hijacked::new(io, Bytes::from(seen), Bytes::new());
    subject.serve(Box::new(replayed), handler).await.ok()
}
