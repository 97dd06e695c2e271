//! One client connection to the stub daemon: HTTP/1.1 requests, kept alive, each
//! answered per [`super::api`], until one asks to attach (or to start an exec),
//! which the case answers with `101 UPGRADED` and its container's stream, or
//! refuses as a real daemon does.
//!
//! Any transport serves: the function takes a generic `AsyncRead + AsyncWrite`,
//! so TCP, Unix-socket and TLS listeners all plug in. Every byte is recorded
//! (the stub's end of the connection, [`Recording`]); after a refusal the stub
//! keeps reading, so that a client that hands over anyway (and writes its stdin
//! raw) leaves that on the record.

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::api::{self, Endpoint};
use super::daemon::Daemon;
use super::session;
use crate::oracle::docker::Handover;
use crate::reference::head::{self, Framing, RequestHead};
use crate::suite::attach::upgraded_head;
use crate::wire::Direction;
use crate::wire::tcp::Recording;

const READ_SIZE: usize = 16 * 1024;
/// The longest head or body the stub reads before it gives up on a request.
const MAX_MESSAGE: usize = 1 << 20;
/// The pause between a refusal's head and its body.
const REFUSAL_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// What reading the next request found.
enum Next {
    /// A request, its body, and how many bytes of the buffer they took.
    Request(RequestHead, Vec<u8>, usize),
    /// The client closed, or sent what is not HTTP: the rest is recorded only.
    Done,
}

/// Serves one connection until it closes or is handed over.
pub async fn serve<IO: AsyncRead + AsyncWrite + Unpin>(io: IO, daemon: Arc<Daemon>) {
    let (index, recorder) = daemon.connection();
    let mut io = Recording::new(
        io,
        recorder,
        daemon.capture.clone(),
        Direction::ServerToClient,
        true,
    );
    let mut buf: Vec<u8> = Vec::new();
    // Offsets in this connection's streams: what was consumed as requests, what was written.
    let (mut consumed, mut written) = (0usize, 0usize);
    loop {
        let (request, body, len) = match next_request(&mut io, &mut buf).await {
            Next::Request(h, b, n) => (h, b, n),
            Next::Done => break,
        };
        buf.drain(..len);
        consumed += len;
        let line = format!("{} {}", request.method, request.target);
        let tty = daemon.case.scenario.tty;
        let answer = match api::endpoint(&request, &body) {
            Endpoint::Ping { body } => api::ping(body),
            Endpoint::Version => api::version(),
            Endpoint::Inspect => api::inspect(tty),
            Endpoint::Resize => api::empty_answer(200),
            Endpoint::Create { tty } => {
                daemon.set_created_tty(tty);
                api::created()
            }
            Endpoint::Start | Endpoint::Stop => api::empty_answer(204),
            Endpoint::ExecCreate { attach_stdin, tty } => {
                daemon.set_exec(attach_stdin, tty);
                api::exec_created()
            }
            Endpoint::ExecInspect => api::exec_inspect(tty),
            Endpoint::Unknown => api::not_found(),
            Endpoint::Wait => {
                daemon.log_request(index, format!("{line} -> 200 (long poll)"));
                let head = api::wait_head();
                if io.write_all(&head).await.is_err() {
                    return;
                }
                written += head.len();
                daemon.exited().await;
                api::wait_body()
            }
            Endpoint::Hijack { stdin, upgrade } => {
                let exec = daemon.exec();
                let stdin_attached = stdin.unwrap_or(exec.is_none_or(|(attach, _)| attach));
                // An exec's stream follows the exec's Tty, a created container's its own.
                let asked = match (stdin, exec) {
                    (None, Some((_, exec_tty))) => Some(("the exec", exec_tty)),
                    _ => daemon.created_tty().map(|t| ("the container", t)),
                };
                let mismatch = asked
                    .filter(|(_, asked)| *asked != tty)
                    .map(|(what, asked)| {
                        format!(
                            "{what} was created with Tty={asked}, and the case's stream is {}",
                            if tty {
                                "a TTY's (raw)"
                            } else {
                                "multiplexed (no TTY)"
                            }
                        )
                    });
                let answer = match &daemon.case.scenario.refusal {
                    Some(refusal) => refusal.answer(tty).0,
                    None => upgraded_head(tty, upgrade),
                };
                let head_len = match head::parse_response(&answer) {
                    Ok(Some((_, len))) => len,
                    _ => answer.len(),
                };
                let handover = Handover {
                    connection: index,
                    request: line.clone(),
                    stdin_from: consumed,
                    output_from: written + head_len,
                    stdin_attached,
                    refused: daemon.case.scenario.refused(),
                    mismatch,
                };
                daemon.hand_over(handover);
                let status = if daemon.case.scenario.refused() {
                    "refused"
                } else {
                    "handed over"
                };
                daemon.log_request(index, format!("{line} -> {status}"));
                if daemon.case.scenario.refusal.is_none() {
                    return session::run(
                        io,
                        std::mem::take(&mut buf),
                        answer,
                        stdin_attached,
                        daemon,
                    )
                    .await;
                }
                // The body follows the head after a pause: a client that hands
                // over anyway has started copying its stdin onto the connection
                // before the body can stop its reader, so what it does is seen.
                let cuts = [head_len];
                if session::paced_write(&mut io, &answer, 0, &cuts, REFUSAL_PAUSE)
                    .await
                    .is_err()
                {
                    return;
                }
                written += answer.len();
                if daemon
                    .case
                    .scenario
                    .refusal
                    .as_ref()
                    .is_some_and(|r| r.close)
                {
                    // As Go's server closes: FIN first, then read what still comes.
                    let _ = io.shutdown().await;
                    break;
                }
                continue;
            }
        };
        if !matches!(api::endpoint(&request, &body), Endpoint::Wait) {
            daemon.log_request(index, format!("{line} -> {}", status_of(&answer)));
        }
        if io.write_all(&answer).await.is_err() {
            return;
        }
        written += answer.len();
    }
    drain(&mut io).await;
}

fn status_of(answer: &[u8]) -> u16 {
    match head::parse_response(answer) {
        Ok(Some((response, _))) => response.status,
        _ => 0,
    }
}

/// Reads until the buffer holds a whole request (head and body).
async fn next_request<IO: AsyncRead + Unpin>(io: &mut IO, buf: &mut Vec<u8>) -> Next {
    let mut chunk = vec![0u8; READ_SIZE];
    loop {
        if let Some(found) = parse(buf) {
            return found;
        }
        if buf.len() > MAX_MESSAGE {
            return Next::Done;
        }
        match io.read(&mut chunk).await {
            Ok(0) | Err(_) => return Next::Done,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A whole request at the start of `buf`, `None` when more bytes are needed,
/// [`Next::Done`] when `buf` does not start with HTTP.
fn parse(buf: &[u8]) -> Option<Next> {
    let (request, head_len) = match head::parse_request(buf) {
        Ok(Some(found)) => found,
        Ok(None) => return None,
        Err(_) => return Some(Next::Done),
    };
    let hijack = matches!(api::endpoint(&request, b""), Endpoint::Hijack { .. });
    let body_len = match request.framing() {
        Ok(Framing::Length(n)) => usize::try_from(n).unwrap_or(usize::MAX),
        // The daemon never reads a hijack request's chunked body (dockerode sends
        // one and never ends it): stdin starts right after the head.
        Ok(Framing::Chunked) if hijack => 0,
        Ok(Framing::Chunked) => match head::chunked_len(&buf[head_len..]) {
            Ok(Some(n)) => n,
            Ok(None) => return None,
            Err(_) => return Some(Next::Done),
        },
        Ok(_) => 0,
        Err(_) => return Some(Next::Done),
    };
    let end = head_len.checked_add(body_len)?;
    if buf.len() < end {
        return (end > MAX_MESSAGE).then_some(Next::Done);
    }
    Some(Next::Request(request, buf[head_len..end].to_vec(), end))
}

/// Reads (and so records) everything until the client closes.
async fn drain<IO: AsyncRead + Unpin>(io: &mut IO) {
    let mut chunk = vec![0u8; READ_SIZE];
    while let Ok(n) = io.read(&mut chunk).await {
        if n == 0 {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stdcopy::{self, Stream};
    use crate::suite::docker as cases;
    use crate::wire::tcp::Capture;

    /// Any stream serves: an in-memory duplex carries a keep-alive inspect, then
    /// the attach, whose 101 arrives with the case's first output bytes.
    #[tokio::test]
    async fn a_keep_alive_connection_over_any_stream_is_handed_over() {
        let case = std::sync::Arc::new(cases::mux_early(1));
        let daemon = Daemon::new(
            case,
            Capture::new(1 << 20),
            std::time::Duration::from_millis(1),
        );
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let served = tokio::spawn(serve(server, daemon.clone()));
        let inspect = b"GET /v1.41/containers/c1/json HTTP/1.1\r\nHost: d\r\n\r\n";
        let attach = b"POST /v1.41/containers/c1/attach?stdin=1&stdout=1&stderr=1&stream=1 HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nin";
        client.write_all(inspect).await.unwrap();
        client.write_all(attach).await.unwrap();
        client.shutdown().await.unwrap();
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        served.await.unwrap();
        let (inspected, len) = head::parse_response(&got).unwrap().unwrap();
        assert_eq!(inspected.status, 200);
        let body_len: usize = head::header_value(&inspected.headers, "content-length")
            .unwrap()
            .parse()
            .unwrap();
        let rest = &got[len + body_len..];
        let (upgraded, len) = head::parse_response(rest).unwrap().unwrap();
        assert_eq!(
            (upgraded.status, upgraded.reason.as_str()),
            (101, "UPGRADED")
        );
        let mut want = stdcopy::frame(Stream::Stdout, &daemon.case.scenario.output[0].1);
        want.extend(stdcopy::frame(
            Stream::Stderr,
            &daemon.case.scenario.output[1].1,
        ));
        assert_eq!(&rest[len..], &want[..]);
        let handover = daemon.handover().expect("handed over");
        assert_eq!(
            (handover.connection, handover.stdin_from),
            (0, inspect.len() + attach.len() - 2)
        );
        assert!(handover.stdin_attached && !handover.refused);
        let trace = daemon.connections()[0].recorder.snapshot();
        assert_eq!(
            &trace.stream(crate::wire::Direction::ClientToServer)[handover.stdin_from..],
            b"in"
        );
    }

    #[test]
    fn a_request_with_a_length_body_is_whole_only_with_its_body() {
        let req =
            b"POST /containers/c1/exec HTTP/1.1\r\nHost: d\r\nContent-Length: 4\r\n\r\n{}\r\n";
        assert!(parse(&req[..req.len() - 1]).is_none());
        match parse(req) {
            Some(Next::Request(head, body, len)) => {
                assert_eq!(head.method, "POST");
                assert_eq!(body, b"{}\r\n");
                assert_eq!(len, req.len());
            }
            _ => panic!("a whole request"),
        }
    }

    #[test]
    fn a_chunked_attach_ends_at_its_head() {
        let req = b"POST /containers/c1/attach?stdin=1 HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nstdin";
        match parse(req) {
            Some(Next::Request(_, body, len)) => {
                assert!(body.is_empty());
                assert_eq!(&req[len..], b"stdin");
            }
            _ => panic!("a whole request"),
        }
    }

    #[test]
    fn bytes_that_are_not_http_end_the_requests() {
        assert!(matches!(
            parse(b"\x01\x00\x00\x00garbage\r\n\r\n"),
            Some(Next::Done)
        ));
    }
}
