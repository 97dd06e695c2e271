//! The scripted client that drives a black-box server through one case, and the
//! judging of what crossed the wire.
//!
//! One point per case: outside the half-close cases the client waits for the
//! echo of everything it sent before it closes, so a proxy that ends a tunnel on
//! the client's FIN cannot make an early-data case fail; in the half-close cases
//! the closing follows the data at once, and a lost tail is diagnosed as the FIN's.
//!
//! How long to wait for an echo that stopped coming ([`EchoWait`]): against a
//! server, ten times as long as the answer to the request took (at least 25 ms),
//! and at most half of [`Options::quiet`]: the answer travelled the same path, so
//! the wait grows with the path and with the machine's load, and a lost byte
//! costs tens of milliseconds, not the quiet period (a run of `--repeat 5` stays
//! within seconds). Against a proxy, which may end the tunnel on the FIN, or a
//! WebSocket server, which may answer the Close frame first, half of
//! [`Options::quiet`] always. The cap keeps the wait shorter than the runner's own quiet watch:
//! if both waited the same time, which one fired first would decide whether the
//! FIN went out, and the verdict would flip between identical runs.

use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::oracle::black_box::{self as judge, BlackBoxObservation, Expect};
use crate::oracle::{Point, Verdict};
use crate::reference::head::{self, ResponseHead};
use crate::results::{CaseResult, Outcome};
use crate::scenario::Scenario;
use crate::suite::{Case, Level};
use crate::wire::driver::Ending;
use crate::wire::tcp::{Capture, Paced, Recording};
use crate::wire::transport::TransportError;
use crate::wire::{Direction, Recorder, Side, Trace};

use super::super::target::Attempt;
use super::super::{Options, Settled, settle};
use super::plan;
use super::prepare::prepare;
use super::request::Plan;
use super::sockopt::SocketOptions;
use super::{ServerTarget, docker, websocket};

pub(super) const READ_SIZE: usize = 16 * 1024;

/// How long the client waits for an echo that stopped coming before it closes.
#[derive(Debug, Clone, Copy)]
enum EchoWait {
    /// A server: [`ECHO_WAIT_FACTOR`] answer times, from [`MIN_ECHO_WAIT`] up to
    /// this. A conformant server echoes what it got even after the FIN, so an
    /// early FIN costs nothing, and a lost byte costs tens of milliseconds.
    Scaled(Duration),
    /// A proxy or a WebSocket server: this long, always. A proxy may end the
    /// tunnel on the client's FIN (RFC 9110 §9.3.6), and a WebSocket server may
    /// answer a Close frame before echoing what came before it (RFC 6455 §5.5.1),
    /// so a closing sent before a slow echo came back would fail the case for the
    /// closing; on a loaded machine such an echo can outlast any scaled wait
    /// (Python `websockets` under load did).
    Full(Duration),
}

impl EchoWait {
    /// The longest this wait may be.
    fn cap(self) -> Duration {
        match self {
            EchoWait::Scaled(cap) | EchoWait::Full(cap) => cap,
        }
    }

    /// The wait for `target`: half of [`Options::quiet`] at most.
    fn for_target(target: &ServerTarget, opts: &Options) -> EchoWait {
        if target.proxy || target.protocol == crate::suite::Proto::WebSocket {
            EchoWait::Full(opts.quiet / 2)
        } else {
            EchoWait::Scaled(opts.quiet / 2)
        }
    }
}

/// How many answer times the client waits for an echo that stopped coming.
const ECHO_WAIT_FACTOR: u32 = 10;

/// The least the client waits for an echo that stopped coming.
const MIN_ECHO_WAIT: Duration = Duration::from_millis(25);
pub(super) const MAX_HEAD_SEARCH: usize = 1 << 20;

/// The scripted client: request and early bytes in one write, then the late
/// bytes once the answer switched, then (after the echo, or at once) its
/// closing frame and FIN; then it reads until EOF.
async fn script_client<IO: AsyncRead + AsyncWrite + Unpin>(
    mut io: IO,
    plan: &Plan,
    echo_wait: EchoWait,
    options: &SocketOptions,
) -> std::io::Result<()> {
    let mut received = Vec::new();
    let mut buf = vec![0u8; READ_SIZE];
    let mut first = plan.message.to_vec();
    first.extend_from_slice(&plan.early);
    if plan.waits_for_continue {
        let rest = first.split_off(plan.shape.head_len);
        io.write_all(&first).await?;
        wait_for_an_answer(&mut io, &mut received, &mut buf, echo_wait.cap()).await?;
        first = rest;
    }
    io.write_all(&first).await?;
    // From the last byte of the request (after any pauses at its cut points).
    let asked = Instant::now();
    let answer: Option<(ResponseHead, usize)> = loop {
        match head::parse_final_response(&received) {
            Ok(Some(found)) => break Some(found),
            Err(_) => break None,
            Ok(None) if received.len() > MAX_HEAD_SEARCH => break None,
            Ok(None) => {}
        }
        let n = io.read(&mut buf).await?;
        if n == 0 {
            break None;
        }
        received.extend_from_slice(&buf[..n]);
    };
    let switched = answer.as_ref().is_some_and(|(h, _)| match plan.expect {
        Expect::Upgrade => h.status == 101,
        Expect::Connect => (200..300).contains(&h.status),
        Expect::Explicit => h.status == 200,
        Expect::Refusal | Expect::Ignored => false,
    });
    // How long the answer took bounds how long an echo may take: the answer
    // crossed the same path (for a proxy, with an upstream connect on top), and
    // on a loaded machine both slow down together.
    let echo_wait = match echo_wait {
        EchoWait::Full(wait) => wait,
        EchoWait::Scaled(cap) => {
            (asked.elapsed() * ECHO_WAIT_FACTOR).clamp(MIN_ECHO_WAIT, cap.max(MIN_ECHO_WAIT))
        }
    };
    if let (true, Some((_, head_end))) = (switched, answer) {
        if plan.at_once {
            // Data, closing frame and FIN in one segment, so the peer sees them
            // together every time (two writes would race its reads).
            let mut both = plan.late.to_vec();
            both.extend_from_slice(&plan.closing);
            options.cork(true);
            io.write_all(&both).await?;
        } else {
            io.write_all(&plan.late).await?;
            let want = plan.expected_echo.len();
            let echoed = |r: &[u8]| match plan.websocket_key {
                Some(_) => websocket::echoed_len(&r[head_end..]),
                None => r.len() - head_end,
            };
            while echoed(&received) < want {
                options.quick_ack();
                match tokio::time::timeout(echo_wait, io.read(&mut buf)).await {
                    Ok(Ok(0)) | Err(_) => break,
                    Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
                    Ok(Err(e)) => return Err(e),
                }
            }
            io.write_all(&plan.closing).await?;
        }
    }
    if plan.half_close {
        io.shutdown().await?;
    }
    options.cork(false);
    while io.read(&mut buf).await? > 0 {}
    Ok(())
}

/// Reads until a response head (a `100 Continue` or a final answer) is in
/// `received`, for at most `wait`: a client that expects `100-continue` "SHOULD
/// NOT wait for an indefinite period before sending the content" (RFC 9110
/// §10.1.1), and the oracle judges a server that let it wait in vain.
async fn wait_for_an_answer<IO: AsyncRead + Unpin>(
    io: &mut IO,
    received: &mut Vec<u8>,
    buf: &mut [u8],
    wait: Duration,
) -> std::io::Result<()> {
    let reading = async {
        while matches!(head::parse_response(received), Ok(None))
            && received.len() <= MAX_HEAD_SEARCH
        {
            let n = io.read(buf).await?;
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buf[..n]);
        }
        Ok(())
    };
    tokio::time::timeout(wait, reading).await.unwrap_or(Ok(()))
}

/// A result for `case` against `target` that carries only a note.
pub(super) fn noted(
    case: &Case,
    target: &ServerTarget,
    outcome: Outcome,
    note: String,
    trace: Trace,
    started: Instant,
) -> CaseResult {
    let verdict = Verdict::noted(note);
    CaseResult::new(
        case,
        &target.name,
        Side::Server,
        outcome,
        verdict,
        trace,
        started.elapsed(),
    )
}

/// What one scripted conversation left: the trace and how it ended.
pub(super) struct Conversation {
    pub trace: Trace,
    pub ending: Ending,
    pub notes: Vec<String>,
}

/// Why a conversation could not be had.
pub(super) struct NotRun {
    /// The error note.
    pub note: String,
    /// What crossed the wire before it failed.
    pub trace: Trace,
    /// Whether nothing accepted the connection (a refused port, a socket with
    /// no listener): after a first run that connected, the target stopped.
    pub refused: bool,
}

/// Runs the scripted client of `plan` against `target` over one fresh connection.
/// `Err` says why not (nothing to connect to, or the case timed out).
pub(super) async fn converse(
    target: &ServerTarget,
    plan: &Plan,
    scenario: &Scenario,
    opts: &Options,
) -> Result<Conversation, NotRun> {
    let connection = super::connect(target, opts.timeout)
        .await
        .map_err(|e| NotRun {
            refused: matches!(e, TransportError::Refused { .. }),
            note: e.to_string(),
            trace: Trace::default(),
        })?;
    let message_len = plan.message.len();
    let early_end = message_len + plan.early.len();
    let total = early_end + plan.late.len() + plan.closing.len();
    let cuts = Scenario::resolve_cuts(
        &scenario.client_cuts,
        plan.shape.head_len,
        message_len,
        early_end,
        total,
    );
    let options = SocketOptions::of(connection.tcp);
    let recorder = Recorder::new();
    let capture = Capture::new(opts.capture_cap);
    let io = Paced::new(
        Recording::new(
            connection.io,
            recorder.clone(),
            capture.clone(),
            Direction::ClientToServer,
            true,
        ),
        cuts,
        opts.pause,
    );
    let settled = settle(
        script_client(io, plan, EchoWait::for_target(target, opts), &options),
        &capture,
        &recorder,
        opts.quiet,
        opts.timeout,
    )
    .await;
    let trace = recorder.take();
    let (ending, mut notes) = match settled {
        Settled::Done(Ok(())) => (Ending::Completed, Vec::new()),
        Settled::Done(Err(e)) => (
            Ending::Completed,
            vec![format!("the connection failed: {e}")],
        ),
        Settled::Quiet => (Ending::Quiet, vec![opts.quiet_note()]),
        Settled::TimedOut => {
            return Err(NotRun {
                note: opts.timed_out_note(),
                trace,
                refused: false,
            });
        }
    };
    if capture.dropped() > 0 {
        notes.push(opts.capped_note(capture.dropped()));
    }
    Ok(Conversation {
        trace,
        ending,
        notes,
    })
}

/// Runs one case against a black-box server (or a proxy) once.
pub async fn server_case(target: &ServerTarget, case: &Case, opts: &Options) -> CaseResult {
    server_run(target, case, opts).await.result
}

/// [`server_case`], saying whether the connection was refused.
pub(super) async fn server_run(target: &ServerTarget, case: &Case, opts: &Options) -> Attempt {
    let started = Instant::now();
    let mut run = match attempt(target, case, opts, started, false).await {
        Ok(run) => run,
        Err((outcome, note)) => {
            return noted(case, target, outcome, note, Trace::default(), started).into();
        }
    };
    if case.id == plan::HTTP10_CASE
        && !run.refused
        && let Ok(alone) = attempt(target, case, opts, Instant::now(), true).await
    {
        // RFC 9110 §7.8 binds the request, whatever follows it: a server that
        // closes a connection holding unread bytes is never seen answering the
        // request above, so the head alone is asked too (with an exec or a
        // container of its own, as every attempt gets).
        run.result = http10_both(run.result, alone.result);
    }
    run
}

/// One attempt at `case`: prepared ([`prepare`]), planned, run and judged,
/// and what was created for it removed. `bare`: the request head alone,
/// nothing after it. `Err`: the attempt could not be made (an `error`), or the
/// case does not apply (`unsupported`), and why.
async fn attempt(
    target: &ServerTarget,
    case: &Case,
    opts: &Options,
    started: Instant,
    bare: bool,
) -> Result<Attempt, (Outcome, String)> {
    let prepared = prepare(target, case, opts)
        .await
        .map_err(|note| (Outcome::Error, note))?;
    let run = match plan::plan(case, &prepared.target, prepared.exec.as_deref()) {
        Ok(mut plan) => {
            if bare {
                plan.early = bytes::Bytes::new();
                plan.expected_echo.clear();
            }
            Ok(run_plan(&prepared.target, case, &plan, opts, started).await)
        }
        Err(why) => Err((Outcome::Unsupported, why)),
    };
    prepared.release(opts.timeout);
    run
}

/// What the HTTP/1.0 case says from its two requests: the one with the
/// pipelined request after its head (`trailing`), and the head alone (`bare`).
/// A failure of either fails the case, named for the request that saw it.
fn http10_both(trailing: CaseResult, bare: CaseResult) -> CaseResult {
    const BARE: &str = "to the bare HTTP/1.0 upgrade request (its head alone, nothing after it), ";
    let said = |r: &CaseResult| {
        r.violations
            .first()
            .map(|v| v.message.clone())
            .or_else(|| r.notes.first().cloned())
            .unwrap_or_else(|| r.outcome.as_str().to_string())
    };
    let duration = trailing.duration + bare.duration;
    let mut kept = match (trailing.outcome, bare.outcome) {
        (Outcome::Fail, Outcome::Fail) => {
            let mut kept = trailing;
            kept.notes.push(format!(
                "{BARE}the answer broke the same rule: {}",
                said(&bare)
            ));
            kept
        }
        (_, Outcome::Fail) => {
            let mut kept = bare;
            for v in &mut kept.violations {
                v.message = format!("{BARE}{}", v.message);
            }
            kept.notes.push(format!(
                "with the pipelined request after its head, the same upgrade request gave {}: {}",
                trailing.outcome.as_str(),
                said(&trailing)
            ));
            kept
        }
        (_, Outcome::Pass) => trailing,
        (_, other) => {
            let mut kept = trailing;
            kept.notes.push(format!(
                "{BARE}the run gave {}: {}",
                other.as_str(),
                said(&bare)
            ));
            kept
        }
    };
    kept.duration = duration;
    kept
}

/// Runs the scripted client of `plan` (for `case`) against `target` once, and judges it.
async fn run_plan(
    target: &ServerTarget,
    case: &Case,
    plan: &Plan,
    opts: &Options,
    started: Instant,
) -> Attempt {
    let conversation = match converse(target, plan, &case.scenario, opts).await {
        Ok(c) => c,
        Err(not_run) => {
            return Attempt {
                result: noted(
                    case,
                    target,
                    Outcome::Error,
                    not_run.note,
                    not_run.trace,
                    started,
                ),
                refused: not_run.refused,
            };
        }
    };
    let trace = conversation.trace;
    let unframe = |bytes: &[u8]| websocket::unframe(bytes);
    let demux = |bytes: &[u8]| docker::demux_stdout(bytes);
    let decode: Option<&judge::Decoder> = if plan.websocket_key.is_some() {
        Some(&unframe)
    } else if plan.multiplexed {
        Some(&demux)
    } else {
        None
    };
    let judged = judge::judge_server(&BlackBoxObservation {
        trace: &trace,
        message_len: plan.message.len(),
        request: plan.shape,
        expect: plan.expect,
        expected_echo: &plan.expected_echo,
        decode,
        client_closed: plan.half_close || !plan.closing.is_empty(),
        closing_frame: !plan.closing.is_empty(),
        fin_at_once: plan.at_once,
        waited_for_continue: plan.waits_for_continue,
        via_proxy: target.proxy,
        ending: conversation.ending,
    });
    if let Some(why) = judged.unsupported {
        return noted(case, target, Outcome::Unsupported, why, trace, started).into();
    }
    let mut verdict = judged.verdict;
    if let Some(key) = &plan.websocket_key
        && plan.expect == Expect::Upgrade
    {
        websocket::check_accept(&trace, key, &mut verdict);
    }
    if plan.tunnel_half_close {
        for v in &mut verdict.violations {
            if v.point == Point::HalfClose {
                v.level = Some(Level::Should);
            }
        }
    }
    verdict.notes.extend(plan.notes.iter().cloned());
    verdict.notes.extend(conversation.notes);
    if plan.level == Level::Should && verdict.graded(plan.level) == Level::Must {
        verdict.notes.push(
            "this case is a SHOULD, but the answer breaks a MUST (above), which fails any case that sees it"
                .into(),
        );
    }
    let outcome = Outcome::of(plan.level, &verdict);
    let mut result = CaseResult::new(
        case,
        &target.name,
        Side::Server,
        outcome,
        verdict,
        trace,
        started.elapsed(),
    );
    if !target.address.is_local() {
        super::elsewhere::mark(case, &mut result);
    }
    result.into()
}
