//! Clients in another process (`--client-cmd`): the harness serves one
//! connection per case and runs the command, which must follow the client
//! contract (`Upgrade: echo`, then echo what the server sends). The scripted
//! server answers, pushes the case's bytes (only what the case puts in the 101's
//! segment arrives with it), waits for their echo, and half-closes if the case
//! says so. A command that asks for anything else (a Docker client's `HEAD
//! /_ping`, bytes that are not HTTP) is `unsupported`, with what it asked, never
//! a failure. The harness listens where [`ClientListener`] says: TCP, a Unix
//! socket, TLS over either. The command runs in a process group of its own,
//! killed when its case ends ([`crate::runner::process`]).

use std::time::Instant;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::oracle::{self, Verdict};
use crate::reference::head;
use crate::results::{CaseResult, Outcome};
use crate::runner::client_listener::ClientListener;
use crate::runner::process::{ClientProcess, Output, Stdin, Streams};
use crate::scenario::{Handshake, Scenario};
use crate::suite::Case;
use crate::wire::tcp::{Capture, Paced, Recording};
use crate::wire::{Direction, Recorder, Side, Trace};

use super::super::target::{Attempt, Target};
use super::super::{Options, Settled, settle};
use super::script::{MAX_HEAD_SEARCH, READ_SIZE};

/// A client to test: a command run once per case (see `--client-cmd` in `--help`).
#[derive(Debug, Clone)]
pub struct ClientTarget {
    /// The command, run with `sh -c`: `{addr}`, `{host}` and `{ca}` replaced
    /// ([`crate::runner::client_listener`]).
    pub command: String,
    /// A name for reports.
    pub name: String,
    /// Where the harness listens for it: TCP, a Unix socket, TLS over either.
    pub listen: ClientListener,
}

fn client_plan(case: &Case) -> Result<(), String> {
    let s = &case.scenario;
    if !case.sides.client {
        return Err("tests servers only".into());
    }
    if s.body != crate::scenario::Body::None || s.expect_continue {
        return Err(
            "needs the client to send a request body; the client contract sends a plain GET".into(),
        );
    }
    if s.handshake == Handshake::Upgrade(crate::scenario::Protocol::WebSocket) {
        return Err("needs a WebSocket client; the client contract speaks `Upgrade: echo`".into());
    }
    if !matches!(s.handshake, Handshake::Upgrade(_)) {
        return Err(
            "needs a CONNECT or explicit-hijack client; the client contract upgrades".into(),
        );
    }
    Ok(())
}

/// How the scripted server's conversation ended.
#[derive(Debug)]
enum Served {
    /// The client asked for the echo contract and the case ran.
    Ran,
    /// The client does not speak the echo contract: why, in one sentence.
    OffContract(String),
}

/// Why the request at the start of `received` is not the echo contract's, if it is not.
fn off_contract(received: &[u8]) -> Option<String> {
    match head::request_message_len(received) {
        Ok(Some((request, _))) => {
            let asked = head::header_value(&request.headers, "upgrade");
            let echo =
                request.wants_upgrade() && asked.is_some_and(|v| v.eq_ignore_ascii_case("echo"));
            (!echo).then(|| {
                let upgrade = match asked {
                    Some(token) => format!("`Upgrade: {token}`"),
                    None => "no upgrade".to_string(),
                };
                let hint = if request.target.contains("/_ping") || request.target.contains("/containers/") {
                    " (a Docker client: run it with --protocol docker)"
                } else {
                    ""
                };
                format!(
                    "the client asked `{} {}` with {upgrade}, not `Connection: Upgrade` + `Upgrade: echo`: \
                     it does not speak the echo contract{hint}",
                    request.method, request.target
                )
            })
        }
        Ok(None) => None,
        Err(e) => Some(format!(
            "the client's first bytes are not an HTTP request ({e}): {}",
            crate::oracle::preview(received, 40)
        )),
    }
}

/// The scripted server for a black-box client: answers, pushes the case's bytes,
/// waits for their echo, half-closes if the case says so, and reads until EOF.
/// A client that asks for anything but the echo contract gets a `400` and the
/// connection closes: that is not the conversation any case is about.
async fn script_server<IO: AsyncRead + AsyncWrite + Unpin>(
    mut io: IO,
    response: Bytes,
    push: Bytes,
    half_close: bool,
    refused: bool,
) -> std::io::Result<Served> {
    let mut received = Vec::new();
    let mut buf = vec![0u8; READ_SIZE];
    let message_len = loop {
        if let Some(why) = off_contract(&received) {
            io.write_all(OFF_CONTRACT_ANSWER).await?;
            io.shutdown().await?;
            return Ok(Served::OffContract(why));
        }
        match head::request_message_len(&received) {
            Ok(Some((_, len))) => break len,
            Ok(None) if received.len() > MAX_HEAD_SEARCH => {
                io.shutdown().await?;
                return Ok(Served::OffContract(format!(
                    "the client sent {} without finishing a request head",
                    crate::oracle::count(received.len())
                )));
            }
            _ => {}
        }
        let n = io.read(&mut buf).await?;
        if n == 0 {
            io.shutdown().await?;
            return Ok(Served::Ran);
        }
        received.extend_from_slice(&buf[..n]);
    };
    io.write_all(&response).await?;
    if !refused {
        io.write_all(&push).await?;
        let want = message_len + push.len();
        while received.len() < want {
            let n = io.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buf[..n]);
        }
    }
    if half_close || refused {
        io.shutdown().await?;
    }
    while io.read(&mut buf).await? > 0 {}
    Ok(Served::Ran)
}

/// What a client off the echo contract gets: not a 101, so it hands nothing over.
const OFF_CONTRACT_ANSWER: &[u8] = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 55\r\nConnection: close\r\n\r\nhijack-harness: this run expects Upgrade: echo clients\n";

/// Runs one case against a client command.
pub async fn client_case(target: &ClientTarget, case: &Case, opts: &Options) -> CaseResult {
    let started = Instant::now();
    let result = |outcome: Outcome, verdict: Verdict, trace: Trace| {
        CaseResult::new(
            case,
            &target.name,
            Side::Client,
            outcome,
            verdict,
            trace,
            started.elapsed(),
        )
    };
    let note = |text: String| Verdict::noted(text);
    if let Err(why) = client_plan(case) {
        return result(Outcome::Unsupported, note(why), Trace::default());
    }
    let listening = match target.listen.bind().await {
        Ok(l) => l,
        Err(e) => return result(Outcome::Error, note(e.to_string()), Trace::default()),
    };
    let command = match listening.command(&target.command) {
        Ok(c) => c,
        Err(e) => return result(Outcome::Error, note(e.to_string()), Trace::default()),
    };
    let host = listening.host().to_string();
    // Its stdout is not the conversation (the socket is), and its stderr is the
    // user's to read.
    let streams = Streams {
        stdin: Stdin::Null,
        stdout: Output::Null,
        stderr: Output::Inherit,
    };
    let mut process = match ClientProcess::spawn(&command, streams) {
        Ok(process) => process,
        Err(e) => {
            return result(
                Outcome::Error,
                note(format!("cannot run {command:?}: {e}")),
                Trace::default(),
            );
        }
    };
    let deadline = tokio::time::Instant::now() + opts.timeout;
    let accepted = tokio::select! {
        accepted = tokio::time::timeout_at(deadline, listening.accept()) => accepted,
        status = process.wait() => {
            return result(
                Outcome::Error,
                note(format!("the client command exited ({}) without connecting to {host}",
                    status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string()))),
                Trace::default(),
            );
        }
    };
    let stream = match accepted {
        Ok(Ok(accepted)) => {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match accepted.establish(left).await {
                Ok(stream) => stream,
                Err(e) => return result(Outcome::Error, note(e.to_string()), Trace::default()),
            }
        }
        Ok(Err(e)) => {
            return result(
                Outcome::Error,
                note(format!("accept failed: {e}")),
                Trace::default(),
            );
        }
        Err(_) => {
            return result(
                Outcome::Error,
                note(format!(
                    "the client command did not connect to {host} within {} ms",
                    opts.timeout.as_millis()
                )),
                Trace::default(),
            );
        }
    };
    let scenario = &case.scenario;
    let refused = !scenario.accepted();
    let (response, head_end) = scenario.response_message();
    let mut first = response.to_vec();
    first.extend_from_slice(&scenario.server_first());
    let mut push = scenario.client_early().to_vec();
    push.extend_from_slice(&scenario.client_late());
    let (first, push) = if refused {
        (response.clone(), Bytes::new())
    } else {
        (Bytes::from(first), Bytes::from(push))
    };
    let response_len = response.len();
    let mut expected = scenario.server_first().to_vec();
    expected.extend_from_slice(&push);
    let mut cuts = Scenario::resolve_cuts(
        &scenario.server_cuts,
        head_end,
        response_len,
        first.len(),
        first.len() + push.len(),
    );
    // The pushed bytes follow a pause: only what the case puts in the 101's
    // segment arrives with it, so a client that loses its read-ahead fails
    // exactly the cases that coalesce.
    cuts.push(first.len());
    let recorder = Recorder::new();
    let capture = Capture::new(opts.capture_cap);
    let io = Paced::new(
        Recording::new(
            stream,
            recorder.clone(),
            capture.clone(),
            Direction::ServerToClient,
            true,
        ),
        cuts,
        opts.pause,
    );
    let half_close = scenario.client.half_close;
    let settled = settle(
        script_server(io, first, push, half_close, refused),
        &capture,
        &recorder,
        opts.quiet,
        opts.timeout,
    )
    .await;
    recorder.seal();
    // The case is over: the command's whole process group goes (a command that
    // returned early above is killed the same way when it is dropped).
    process.finish().await;
    let trace = recorder.snapshot();
    let mut notes = Vec::new();
    match settled {
        Settled::Done(Err(e)) => notes.push(format!("the connection failed: {e}")),
        Settled::Done(Ok(Served::OffContract(why))) => {
            return result(Outcome::Unsupported, note(why), trace);
        }
        Settled::Quiet => notes.push(opts.quiet_note()),
        Settled::TimedOut => {
            return result(Outcome::Error, note(opts.timed_out_note()), trace);
        }
        Settled::Done(Ok(Served::Ran)) => {}
    }
    let mut verdict = oracle::judge_black_box_client(
        &trace,
        refused,
        &expected,
        response_len,
        half_close || refused,
    );
    verdict.notes.append(&mut notes);
    let outcome = Outcome::of(case.level, &verdict);
    result(outcome, verdict, trace)
}

impl Target for ClientTarget {
    type Script = Scenario;

    fn who(&self) -> &'static str {
        "the client"
    }

    async fn attempt(&self, case: &Case, opts: &Options) -> Attempt {
        Attempt::from(client_case(self, case, opts).await)
    }
}
