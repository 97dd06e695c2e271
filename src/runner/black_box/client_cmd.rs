//! Clients in another process (`--client-cmd`): the harness serves one
//! connection per case and runs the command, which must follow the client
//! contract (`Upgrade: echo`, then echo what the server sends). The scripted
//! server answers, pushes the case's bytes (only what the case puts in the 101's
//! segment arrives with it), waits for their echo, and half-closes if the case
//! says so.

use std::time::Instant;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::oracle::{self, Verdict};
use crate::reference::head;
use crate::report::{CaseResult, Outcome};
use crate::scenario::{Handshake, Scenario};
use crate::suite::Case;
use crate::wire::tcp::{Capture, Paced, Recording};
use crate::wire::{Direction, Recorder, Side, Trace};

use super::super::{Options, Settled, settle};
use super::script::{MAX_HEAD_SEARCH, READ_SIZE};

/// A client to test: a command run once per case (see `--client-cmd` in `--help`).
#[derive(Debug, Clone)]
pub struct ClientTarget {
    /// The command, run with `sh -c`, `{addr}` replaced by the harness's address.
    pub command: String,
    /// A name for reports.
    pub name: String,
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

/// The scripted server for a black-box client: answers, pushes the case's bytes,
/// waits for their echo, half-closes if the case says so, and reads until EOF.
async fn script_server<IO: AsyncRead + AsyncWrite + Unpin>(
    mut io: IO,
    response: Bytes,
    push: Bytes,
    half_close: bool,
    refused: bool,
) -> std::io::Result<()> {
    let mut received = Vec::new();
    let mut buf = vec![0u8; READ_SIZE];
    let message_len = loop {
        match head::request_message_len(&received) {
            Ok(Some((_, len))) => break len,
            Err(_) => return io.shutdown().await,
            Ok(None) if received.len() > MAX_HEAD_SEARCH => return io.shutdown().await,
            Ok(None) => {}
        }
        let n = io.read(&mut buf).await?;
        if n == 0 {
            return io.shutdown().await;
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
    Ok(())
}

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
    let note = |text: String| Verdict {
        violations: Vec::new(),
        notes: vec![text],
    };
    if let Err(why) = client_plan(case) {
        return result(Outcome::Unsupported, note(why), Trace::default());
    }
    let listener = match tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await {
        Ok(l) => l,
        Err(e) => {
            return result(
                Outcome::Error,
                note(format!("cannot listen: {e}")),
                Trace::default(),
            );
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            return result(
                Outcome::Error,
                note(format!("cannot listen: {e}")),
                Trace::default(),
            );
        }
    };
    let command = target.command.replace("{addr}", &addr.to_string());
    let mut child = match tokio::process::Command::new("sh")
        .arg("-c")
        .arg(&command)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            return result(
                Outcome::Error,
                note(format!("cannot run {command:?}: {e}")),
                Trace::default(),
            );
        }
    };
    let accepted = tokio::select! {
        accepted = tokio::time::timeout(opts.timeout, listener.accept()) => accepted,
        status = child.wait() => {
            return result(
                Outcome::Error,
                note(format!("the client command exited ({}) without connecting to {addr}",
                    status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string()))),
                Trace::default(),
            );
        }
    };
    let stream = match accepted {
        Ok(Ok((stream, _))) => stream,
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
                    "the client command did not connect to {addr} within {} ms",
                    opts.timeout.as_millis()
                )),
                Trace::default(),
            );
        }
    };
    let _ = stream.set_nodelay(true);
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
    drop(child);
    let trace = recorder.snapshot();
    let mut notes = Vec::new();
    match settled {
        Settled::Done(Err(e)) => notes.push(format!("the connection failed: {e}")),
        Settled::Quiet => notes.push(opts.quiet_note()),
        Settled::TimedOut => {
            return result(Outcome::Error, note(opts.timed_out_note()), trace);
        }
        Settled::Done(Ok(())) => {}
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

/// Runs every case against a client command, one at a time, each
/// [`Options::repeat`] times.
pub async fn run_client(
    target: &ClientTarget,
    cases: &[Case],
    opts: &Options,
    progress: crate::runner::Progress,
) -> Vec<CaseResult> {
    super::one_at_a_time(cases, opts.repeat, progress, |case| {
        client_case(target, case, opts)
    })
    .await
}
