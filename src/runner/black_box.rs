//! Servers, proxies and clients in another process, in any language, over
//! loopback TCP. No application record exists: the black-box protocols (DESIGN.md)
//! make the peer echo, and [`crate::oracle::judge_black_box`] judges from the wire.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::oracle::{self, BlackBoxObservation, Expect, Point, Verdict, Violation};
use crate::reference::head::{self, Header, RequestHead, ResponseHead};
use crate::report::{CaseResult, Outcome};
use crate::scenario::{Answer, Handshake, Scenario};
use crate::suite::{Case, Level, Proto};
use crate::wire::driver::Ending;
use crate::wire::tcp::{self, Capture, Paced, Recording};
use crate::wire::{Direction, Recorder, Side, Trace};

use super::{Options, Settled, settle, websocket};

/// The upgrade token a conformant server cannot know: the refusal case uses it.
pub const UNKNOWN_TOKEN: &str = "hijack-harness-unknown";

/// The attach path used for `--protocol docker` when no `--path` is given.
pub const DOCKER_ATTACH: &str = "/containers/hijack-harness/attach?stream=1&stdin=1&stdout=1";

/// A server (or a proxy in front of the harness's upstream) to test.
#[derive(Debug, Clone)]
pub struct ServerTarget {
    /// Where it listens.
    pub addr: SocketAddr,
    /// What it speaks (for a proxy: `Connect`, or `Echo` for an upgrade-forwarding proxy).
    pub protocol: Proto,
    /// The request target to use instead of the protocol's default.
    pub path: Option<String>,
    /// For `CONNECT`: the authority to ask the proxy for.
    pub connect_to: Option<SocketAddr>,
    /// A name for reports.
    pub name: String,
}

/// What the scripted client sends for one case, and what the echo must carry.
struct Plan {
    message: Bytes,
    head_len: usize,
    early: Bytes,
    late: Bytes,
    closing: Bytes,
    expect: Expect,
    expected_echo: Vec<u8>,
    websocket: bool,
    level: Level,
    note: Option<String>,
}

fn default_path(protocol: Proto) -> &'static str {
    match protocol {
        Proto::Docker => DOCKER_ATTACH,
        Proto::WebSocket | Proto::Echo => "/",
        Proto::Connect => "/",
    }
}

fn plan(case: &Case, target: &ServerTarget) -> Result<Plan, String> {
    let scenario = &case.scenario;
    if !case.sides.server {
        return Err("tests clients only".into());
    }
    if !case.protocols.contains(&target.protocol) {
        return Err(format!(
            "does not apply to {} (applies to {})",
            target.protocol.as_str(),
            case.protocols
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let refused = matches!(scenario.answer, Answer::Refuse(_));
    let mut head: RequestHead = scenario.request_head();
    head.headers.retain(|h| {
        !h.name.eq_ignore_ascii_case("connection")
            && !h.name.eq_ignore_ascii_case("upgrade")
            && !h.name.eq_ignore_ascii_case("host")
    });
    let authority = target
        .connect_to
        .map(|a| a.to_string())
        .unwrap_or_else(|| target.addr.to_string());
    head.headers
        .insert(0, Header::new("Host", authority.clone()));
    let path = target
        .path
        .clone()
        .unwrap_or_else(|| default_path(target.protocol).to_string());
    let mut upgrade = |token: &str| {
        head.headers.push(Header::new("Connection", "Upgrade"));
        head.headers.push(Header::new(
            "Upgrade",
            if refused { UNKNOWN_TOKEN } else { token },
        ));
    };
    let expect = match (target.protocol, scenario.handshake) {
        (_, _) if refused => Expect::Refusal,
        (Proto::Connect, _) => Expect::Connect,
        (Proto::Docker, Handshake::Explicit) => Expect::Explicit,
        (_, Handshake::Explicit) => return Err("needs Docker's explicit hijack".into()),
        _ => Expect::Upgrade,
    };
    match target.protocol {
        Proto::Echo => {
            upgrade("echo");
            head.target = path;
        }
        Proto::Docker => {
            if expect != Expect::Explicit {
                upgrade("tcp");
            }
            head.method = "POST".into();
            head.target = path;
        }
        Proto::WebSocket => {
            upgrade("websocket");
            head.method = "GET".into();
            head.target = path;
            if scenario.body != crate::scenario::Body::None {
                return Err("a WebSocket handshake has no body".into());
            }
            head.headers
                .push(Header::new("Sec-WebSocket-Key", websocket::KEY));
            head.headers
                .push(Header::new("Sec-WebSocket-Version", "13"));
        }
        Proto::Connect => {
            head.method = "CONNECT".into();
            head.target = authority;
        }
    }
    let head_bytes = head.to_bytes();
    let (scenario_message, scenario_head_len) = scenario.request_message();
    let mut message = head_bytes.to_vec();
    message.extend_from_slice(&scenario_message[scenario_head_len..]);
    let early_payload = scenario.client_early();
    let late_payload = scenario.client_late();
    let (early, late, closing, expected_echo, level, note) = if target.protocol == Proto::WebSocket
        && !refused
    {
        let early = Bytes::from(websocket::client_frames(&early_payload, 1));
        let late = Bytes::from(websocket::client_frames(&late_payload, 2));
        let closing = if scenario.client.half_close {
            Bytes::from(websocket::client_close())
        } else {
            Bytes::new()
        };
        let mut expected = early_payload.to_vec();
        expected.extend_from_slice(&late_payload);
        let (level, note) = if early_payload.is_empty() {
            (case.level, None)
        } else {
            (
                Level::Should,
                Some(
                    "RFC 6455 clients wait for the 101 before sending, so early frames are a SHOULD here"
                        .to_string(),
                ),
            )
        };
        (early, late, closing, expected, level, note)
    } else {
        let mut expected = early_payload.to_vec();
        expected.extend_from_slice(&late_payload);
        (
            early_payload,
            late_payload,
            Bytes::new(),
            expected,
            case.level,
            None,
        )
    };
    Ok(Plan {
        head_len: head_bytes.len(),
        message: message.into(),
        early,
        late,
        closing,
        expect,
        expected_echo,
        websocket: target.protocol == Proto::WebSocket,
        level,
        note,
    })
}

const READ_SIZE: usize = 16 * 1024;
const MAX_HEAD_SEARCH: usize = 1 << 20;

/// The black-box scripted client: request and early bytes in one write, then the
/// late bytes once the answer switched, then its closing (frame and/or FIN).
async fn script_client<IO: AsyncRead + AsyncWrite + Unpin>(
    mut io: IO,
    plan: &Plan,
    half_close: bool,
) -> std::io::Result<()> {
    let mut first = plan.message.to_vec();
    first.extend_from_slice(&plan.early);
    io.write_all(&first).await?;
    let mut received = Vec::new();
    let mut buf = vec![0u8; READ_SIZE];
    let answer: Option<ResponseHead> = loop {
        match head::parse_final_response(&received) {
            Ok(Some((h, _))) => break Some(h),
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
    let switched = answer.is_some_and(|h| match plan.expect {
        Expect::Upgrade => h.status == 101,
        Expect::Connect => (200..300).contains(&h.status),
        Expect::Explicit => h.status == 200,
        Expect::Refusal => false,
    });
    if switched {
        io.write_all(&plan.late).await?;
        io.write_all(&plan.closing).await?;
    }
    if half_close {
        io.shutdown().await?;
    }
    while io.read(&mut buf).await? > 0 {}
    Ok(())
}

/// Runs one case against a black-box server.
pub async fn server_case(target: &ServerTarget, case: &Case, opts: &Options) -> CaseResult {
    let started = Instant::now();
    let plan = match plan(case, target) {
        Ok(plan) => plan,
        Err(why) => {
            let verdict = Verdict {
                violations: Vec::new(),
                notes: vec![why],
            };
            return CaseResult::new(
                case,
                &target.name,
                Side::Server,
                Outcome::Unsupported,
                verdict,
                Trace::default(),
                started.elapsed(),
            );
        }
    };
    let error = |message: String, trace: Trace| {
        let verdict = Verdict {
            violations: Vec::new(),
            notes: vec![message],
        };
        CaseResult::new(
            case,
            &target.name,
            Side::Server,
            Outcome::Error,
            verdict,
            trace,
            started.elapsed(),
        )
    };
    let stream = match tcp::connect(target.addr, opts.timeout).await {
        Ok(stream) => stream,
        Err(e) => return error(e.to_string(), Trace::default()),
    };
    let scenario: &Scenario = &case.scenario;
    let message_len = plan.message.len();
    let early_end = message_len + plan.early.len();
    let total = early_end + plan.late.len() + plan.closing.len();
    let cuts = Scenario::resolve_cuts(
        &scenario.client_cuts,
        plan.head_len,
        message_len,
        early_end,
        total,
    );
    let recorder = Recorder::new();
    let capture = Capture::new(opts.capture_cap);
    let io = Paced::new(
        Recording::new(
            stream,
            recorder.clone(),
            capture.clone(),
            Direction::ClientToServer,
            true,
        ),
        cuts,
        opts.pause,
    );
    let half_close = scenario.client.half_close || plan.expect == Expect::Refusal;
    let settled = settle(
        script_client(io, &plan, half_close),
        &capture,
        &recorder,
        opts.quiet,
        opts.timeout,
    )
    .await;
    recorder.seal();
    let trace = recorder.snapshot();
    let (ending, mut notes) = match settled {
        Settled::Done(Ok(())) => (Ending::Completed, Vec::new()),
        Settled::Done(Err(e)) => (
            Ending::Completed,
            vec![format!("the connection failed: {e}")],
        ),
        Settled::Quiet => (Ending::Quiet, vec![opts.quiet_note()]),
        Settled::TimedOut => return error(opts.timed_out_note(), trace),
    };
    let decode = |bytes: &[u8]| websocket::unframe(bytes);
    let mut verdict = oracle::judge_black_box(&BlackBoxObservation {
        trace: &trace,
        message_len,
        expect: plan.expect,
        expected_echo: &plan.expected_echo,
        decode: if plan.websocket { Some(&decode) } else { None },
        client_closed: half_close,
        ending,
    });
    if plan.websocket && plan.expect == Expect::Upgrade {
        check_accept(&trace, &mut verdict);
    }
    if let Some(note) = plan.note {
        verdict.notes.push(note);
    }
    verdict.notes.append(&mut notes);
    if capture.dropped() > 0 {
        verdict.notes.push(opts.capped_note(capture.dropped()));
    }
    let outcome = Outcome::of(plan.level, &verdict);
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

fn check_accept(trace: &Trace, verdict: &mut Verdict) {
    let s2c = trace.stream(Direction::ServerToClient);
    if let Ok(Some((response, _))) = head::parse_final_response(&s2c)
        && response.status == 101
    {
        let want = websocket::accept(websocket::KEY);
        let got = head::header_value(&response.headers, "sec-websocket-accept");
        if got != Some(want.as_str()) {
            verdict.violations.push(Violation {
                point: Point::Handshake,
                message: format!(
                    "Sec-WebSocket-Accept is {got:?}, RFC 6455 §4.2.2 requires {want:?}"
                ),
                marks: Vec::new(),
            });
        }
    }
}

/// Checks that something listens at `addr`, so that a run against nothing is
/// one clear error, not a column of refused cases.
pub async fn preflight(addr: SocketAddr, timeout: Duration) -> Result<(), tcp::TcpError> {
    tcp::connect(addr, timeout).await.map(drop)
}

/// Runs every case against a black-box server, one at a time (a real server's
/// timing should not depend on the harness's parallelism).
pub async fn run_server(
    target: &ServerTarget,
    cases: &[Case],
    opts: &Options,
    progress: super::Progress,
) -> Vec<CaseResult> {
    one_at_a_time(cases, progress, |case| server_case(target, case, opts)).await
}

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

/// Runs every case against a client command, one at a time.
pub async fn run_client(
    target: &ClientTarget,
    cases: &[Case],
    opts: &Options,
    progress: super::Progress,
) -> Vec<CaseResult> {
    one_at_a_time(cases, progress, |case| client_case(target, case, opts)).await
}

/// Runs `run` on each case in order, each after the last has finished, reporting
/// each result as it comes.
async fn one_at_a_time<'a, F, R>(
    cases: &'a [Case],
    progress: super::Progress,
    mut run: R,
) -> Vec<CaseResult>
where
    R: FnMut(&'a Case) -> F,
    F: Future<Output = CaseResult>,
{
    let mut out = Vec::with_capacity(cases.len());
    for case in cases {
        let result = run(case).await;
        progress(&result);
        out.push(result);
    }
    out
}
