//! The oracle of the third role: a proxy judged over both legs.
//!
//! A run of a [`Proxy`] case has two wires: the client leg (the run's trace:
//! `c>s` is client to proxy, `s>c` proxy to client) and the upstream leg
//! ([`ProxyRecord::upstream`]: `c>s` is proxy to upstream, `s>c` upstream to
//! proxy). The invariant (DESIGN.md, "Intermediaries"):
//!
//! * the request reaches the upstream without `h2c`
//!   ([`Point::TunnelHopByHop`]; RFC 9110 §7.6.1: intermediaries "MUST ...
//!   remove any header or trailer field(s) from the message with the same name
//!   as the connection-option", and `HTTP2-Settings` is one; h2c smuggling);
//! * nothing the client sent after its request reaches the upstream before the
//!   upstream's answer reached the proxy ([`Point::TunnelEarly`]). RFC 9110 has
//!   no sentence for it; raw bytes fail at MUST, because the upstream reads them
//!   as requests the proxy never checked (Pingora CVE-2026-2833, Envoy
//!   CVE-2025-64763); a whole pipelined request is non-strict (RFC 9112 §9.3.2:
//!   an intermediary "MAY pipeline those requests when forwarding them inbound");
//! * after a refusal, nothing crosses as tunnel data, either way
//!   ([`Point::TunnelRefused`], MUST: 0ang3el/websocket-smuggle,
//!   CVE-2018-1002105; bytes that parse as whole requests are HTTP, and pass);
//! * a `101` reaches the client only for a token it offered
//!   ([`Point::TunnelToken`]; RFC 9110 §7.8: a server "MUST NOT switch to a
//!   protocol that was not indicated by the client");
//! * after a switch, every byte crosses once, in order, both ways, and a FIN as
//!   a FIN ([`Point::TunnelRelay`], the invariant's own level). A tail lost after
//!   the receiving side closed is non-strict: RFC 9110 §9.3.6 lets a tunnel
//!   "close both connections, and then discard any remaining data left
//!   undelivered", but only after it "MUST attempt to send any outstanding data
//!   that came from the closed side".

use std::ops::Range;

use super::describe::{count, preview};
use super::{Fault, Level, Mark, Observation, Point, Protocol, Verdict};
use crate::reference::head::{self, Framing, ResponseHead};
use crate::scenario::proxy::{Ask, ProxyBytes, ProxyScenario};
use crate::subject::proxy::ProxyRecord;
use crate::wire::driver::Ending;
use crate::wire::{Direction, Event, Trace};

const UP: Direction = Direction::ClientToServer;
const DOWN: Direction = Direction::ServerToClient;

/// A proxy carrying an upgrade or a `CONNECT`, judged over both legs.
#[derive(Debug, Clone, Copy)]
pub struct Proxy;

impl Protocol for Proxy {
    type Scenario = ProxyScenario;
    type Sent = ProxyBytes;
    type Record = ProxyRecord;

    fn judge(obs: &Observation<'_, Self>) -> Verdict {
        judge(obs)
    }
}

/// Judges one proxy run (see the module doc).
pub fn judge(obs: &Observation<'_, Proxy>) -> Verdict {
    let mut v = Verdict::default();
    let run = Streams::of(*obs);
    if let Some((request_end, answered)) = forwarding(&mut v, &run) {
        if obs.sent.switches {
            switched(&mut v, &run, request_end);
        } else {
            refused(&mut v, &run, answered);
        }
    }
    noted(v, obs)
}

/// The four streams of one run, and what the oracle reads off them first.
struct Streams<'a> {
    obs: Observation<'a, Proxy>,
    /// Client to proxy.
    cu: Vec<u8>,
    /// Proxy to client.
    cd: Vec<u8>,
    /// Proxy to upstream.
    uu: Vec<u8>,
    /// Upstream to proxy.
    ud: Vec<u8>,
    connect: bool,
    /// The final response the client got, and where its head ends.
    response: Option<(ResponseHead, usize)>,
    /// Where the client's bytes after its request start on the client leg.
    tail_at: usize,
}

impl<'a> Streams<'a> {
    fn of(obs: Observation<'a, Proxy>) -> Self {
        let (client, upstream) = (obs.trace, &obs.app.upstream);
        let (cu, cd) = (client.stream(UP), client.stream(DOWN));
        let response = head::parse_final_response(&cd).ok().flatten();
        Streams {
            tail_at: obs.sent.request.len().min(cu.len()),
            connect: obs.scenario.ask == Ask::Connect,
            response,
            cu,
            cd,
            uu: upstream.stream(UP),
            ud: upstream.stream(DOWN),
            obs,
        }
    }

    fn upstream(&self) -> &'a Trace {
        &self.obs.app.upstream
    }
}

/// The request reached the upstream, without `h2c`, and nothing after it
/// before the upstream's answer. Returns where the request ends on the
/// upstream leg and how far that leg had got when the answer came back.
fn forwarding(v: &mut Verdict, run: &Streams<'_>) -> Option<(usize, usize)> {
    let Some((forwarded, request_end)) = head::request_message_len(&run.uu).ok().flatten() else {
        let refused_itself = run
            .response
            .as_ref()
            .is_some_and(|(r, _)| !r.switches(run.connect));
        if !run.uu.is_empty() || !refused_itself {
            v.add(
                Level::Must,
                Point::TunnelAnswer,
                format!(
                    "proxy to upstream: no whole request reached the upstream ({} arrived), and the client got no refusal",
                    count(run.uu.len())
                ),
                Vec::new(),
            );
        }
        return None;
    };
    if run.obs.scenario.ask == Ask::H2c
        && (head::has_token(&forwarded.headers, "upgrade", "h2c")
            || head::header_value(&forwarded.headers, "http2-settings").is_some())
    {
        v.add(
            Level::Must,
            Point::TunnelHopByHop,
            "proxy to upstream: the request went on with `Upgrade: h2c` and `HTTP2-Settings`, \
             connection options the client named in `Connection` (RFC 9110 §7.6.1; h2c smuggling)"
                .into(),
            Vec::new(),
        );
    }
    let answered = delivered_before_answer(run.upstream()).max(request_end);
    let early = &run.uu[request_end..answered];
    if !early.is_empty() {
        let (level, what) = if is_requests(early) {
            (Level::Should, "a whole pipelined request, forwarded")
        } else {
            (
                Level::Must,
                "raw bytes the upstream reads as its next request",
            )
        };
        v.add(
            level,
            Point::TunnelEarly,
            format!(
                "proxy to upstream: {} after the request ({}, {what}) reached the upstream before its answer{} \
                 (Pingora CVE-2026-2833, Envoy CVE-2025-64763)",
                count(early.len()),
                preview(early, 24),
                answered_after(run.obs.app),
            ),
            client_marks(&run.cu, run.tail_at, early, Fault::HandedOver),
        );
    }
    Some((request_end, answered))
}

/// The upstream switched: the client is told, and the tunnel carries every
/// byte once, in order, both ways, and each FIN.
fn switched(v: &mut Verdict, run: &Streams<'_>, request_end: usize) {
    let sent = run.obs.sent;
    let Some((_, head_end)) = run
        .response
        .as_ref()
        .filter(|(r, _)| r.switches(run.connect))
    else {
        v.fail(
            Point::TunnelAnswer,
            format!(
                "proxy to client: the upstream switched ({}), the client got {}",
                sent.status,
                status_text(run.response.as_ref().map(|(r, _)| r.status))
            ),
        );
        return;
    };
    let (client, upstream) = (run.obs.trace, run.upstream());
    let up = Leg {
        name: "client to upstream",
        sent: &run.cu[run.tail_at..],
        got: &run.uu[request_end..],
        receiver_closed: upstream.fin(DOWN).is_some(),
    };
    relay(v, &up, client_marks_at(run.tail_at, UP));
    let down = Leg {
        name: "upstream to client",
        sent: run.ud.get(sent.answer_head..).unwrap_or_default(),
        got: &run.cd[*head_end..],
        receiver_closed: client.fin(UP).is_some(),
    };
    relay(v, &down, client_marks_at(*head_end, DOWN));
    fins(v, client, upstream, &up, &down);
}

/// The upstream did not switch: its answer reaches the client (a `101` never
/// does), and nothing crosses as tunnel data, either way.
fn refused(v: &mut Verdict, run: &Streams<'_>, answered: usize) {
    let sent = run.obs.sent;
    let cve = if run.connect {
        "Envoy CVE-2025-64763"
    } else {
        "0ang3el/websocket-smuggle, CVE-2018-1002105"
    };
    let after = &run.uu[answered..];
    if !after.is_empty() && !is_requests(after) {
        v.add(
            Level::Must,
            Point::TunnelRefused,
            format!(
                "proxy to upstream: {} ({}) reached the upstream raw after its {} answer: a tunnel after a refusal ({cve})",
                count(after.len()),
                preview(after, 24),
                sent.status
            ),
            client_marks(&run.cu, run.tail_at, after, Fault::HandedOver),
        );
    }
    let Some((got, head_end)) = &run.response else {
        v.add(
            Level::Should,
            Point::TunnelAnswer,
            format!(
                "proxy to client: the upstream answered {}, the client got no answer",
                sent.status
            ),
            Vec::new(),
        );
        return;
    };
    if got.status == 101 || got.switches(run.connect) {
        let (point, why) = if run.obs.scenario.ask == Ask::H2c {
            (
                Point::TunnelHopByHop,
                "h2c, which a proxy does not pass on (h2c smuggling)",
            )
        } else {
            (
                Point::TunnelToken,
                "a protocol the client did not offer (RFC 9110 §7.8: a server \"MUST NOT switch to a protocol that was not indicated by the client\")",
            )
        };
        v.add(
            Level::Must,
            point,
            format!("proxy to client: {} relayed: a switch to {why}", got.status),
            Vec::new(),
        );
    } else if sent.status != 101 && got.status != sent.status {
        v.add(
            Level::Should,
            Point::TunnelAnswer,
            format!(
                "proxy to client: the upstream refused with {}, the client got {}",
                sent.status, got.status
            ),
            Vec::new(),
        );
    }
    let body = match got.framing(run.connect) {
        Ok(Framing::Length(n)) => usize::try_from(n).unwrap_or(usize::MAX),
        Ok(Framing::Empty) => 0,
        _ => usize::MAX,
    };
    let end = head_end.saturating_add(body).min(run.cd.len());
    let extra = &run.cd[end..];
    if !extra.is_empty() && head::parse_response(extra).ok().flatten().is_none() {
        v.add(
            Level::Must,
            Point::TunnelRefused,
            format!(
                "proxy to client: {} ({}) after the relayed {} reached the client as tunnel data ({cve})",
                count(extra.len()),
                preview(extra, 24),
                got.status
            ),
            vec![Mark::Bytes {
                dir: DOWN,
                range: end..run.cd.len(),
                fault: Fault::Extra,
            }],
        );
    }
}

/// One direction of the tunnel: what one side sent after the switch, what reached the other.
struct Leg<'a> {
    name: &'static str,
    sent: &'a [u8],
    got: &'a [u8],
    /// The receiving side had closed its own sending half (so the tunnel may
    /// drop what was still in flight towards it, RFC 9110 §9.3.6).
    receiver_closed: bool,
}

/// Checks that `leg` carried every byte once, in order.
fn relay(v: &mut Verdict, leg: &Leg<'_>, mark: impl Fn(Range<usize>) -> Vec<Mark>) {
    let (sent, got) = (leg.sent, leg.got);
    if sent == got {
        return;
    }
    let prefix = sent.iter().zip(got).take_while(|(a, b)| a == b).count();
    let room = sent.len().min(got.len()) - prefix;
    let suffix = sent
        .iter()
        .rev()
        .zip(got.iter().rev())
        .take_while(|(a, b)| a == b)
        .count()
        .min(room);
    let what = if got.len() < sent.len() && prefix + suffix == got.len() {
        let lost = prefix..sent.len() - suffix;
        if suffix == 0 && leg.receiver_closed {
            v.add(
                Level::Should,
                Point::TunnelRelay,
                format!(
                    "{}: lost the last {} ({}) after the other side closed: RFC 9110 §9.3.6 lets a tunnel drop them; passing the FIN on as a FIN loses nothing",
                    leg.name,
                    count(lost.len()),
                    preview(&sent[lost.clone()], 24)
                ),
                mark(lost),
            );
            return;
        }
        format!(
            "lost bytes {}..{} of {} ({})",
            lost.start,
            lost.end,
            count(sent.len()),
            preview(&sent[lost.clone()], 24)
        )
    } else if got.len() > sent.len() && prefix + suffix == sent.len() {
        let extra = &got[prefix..got.len() - suffix];
        format!(
            "{} extra at byte {prefix} ({})",
            count(extra.len()),
            preview(extra, 24)
        )
    } else {
        format!(
            "from byte {prefix} on, {} was sent and {} arrived",
            preview(&sent[prefix..], 24),
            preview(&got[prefix..], 24)
        )
    };
    v.fail_marked(
        Point::TunnelRelay,
        format!("{} through the tunnel: {what} (a tunnel is \"a blind relay between two connections\", RFC 9110 §3.7)", leg.name),
        mark(prefix..sent.len()),
    );
}

/// A FIN that reached the proxy after every byte of its side is passed on.
fn fins(v: &mut Verdict, client: &Trace, upstream: &Trace, up: &Leg<'_>, down: &Leg<'_>) {
    for (from, to, leg, closed, passed) in [
        ("client", "upstream", up, client.fin(UP), upstream.fin(UP)),
        (
            "upstream",
            "client",
            down,
            upstream.fin(DOWN),
            client.fin(DOWN),
        ),
    ] {
        if closed.is_some() && passed.is_none() && leg.sent == leg.got {
            v.fail(
                Point::TunnelRelay,
                format!(
                    "{from} to {to}: the {from}'s FIN never reached the {to} (RFC 9110 §9.3.6: the tunnel \"MUST attempt to send any outstanding data that came from the closed side to the other side, close both connections\")"
                ),
            );
        }
    }
}

/// How many proxy-to-upstream bytes reached the upstream before its answer reached the proxy.
fn delivered_before_answer(upstream: &Trace) -> usize {
    upstream
        .events
        .iter()
        .take_while(|e| !matches!(e, Event::Segment { dir, .. } if *dir == DOWN))
        .map(|e| match e {
            Event::Segment { dir, bytes, .. } if *dir == UP => bytes.len(),
            _ => 0,
        })
        .sum()
}

/// Whether `bytes` are whole HTTP requests, one after another: HTTP, not tunnel data.
fn is_requests(mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        match head::request_message_len(bytes) {
            Ok(Some((_, len))) if len > 0 => bytes = &bytes[len..],
            _ => return false,
        }
    }
    true
}

fn answered_after(record: &ProxyRecord) -> String {
    match record.answered_after {
        Some(n) => format!(" (it answered after reading {})", count(n)),
        None => " (it never answered)".into(),
    }
}

fn status_text(status: Option<u16>) -> String {
    status.map_or("no answer".into(), |s| s.to_string())
}

/// Marks where `bytes` left the client, if they are the client's bytes after its request.
fn client_marks(cu: &[u8], tail_at: usize, bytes: &[u8], fault: Fault) -> Vec<Mark> {
    let tail = &cu[tail_at..];
    match tail.windows(bytes.len().max(1)).position(|w| w == bytes) {
        Some(at) => vec![Mark::Bytes {
            dir: UP,
            range: tail_at + at..tail_at + at + bytes.len(),
            fault,
        }],
        None => Vec::new(),
    }
}

/// Marks on the client leg, at offset `base` of `dir` (the other leg's bytes have no place there).
fn client_marks_at(base: usize, dir: Direction) -> impl Fn(Range<usize>) -> Vec<Mark> {
    move |range: Range<usize>| {
        if dir == UP {
            vec![Mark::Bytes {
                dir,
                range: base + range.start..base + range.end,
                fault: Fault::Lost,
            }]
        } else {
            vec![Mark::Missing {
                dir,
                at: base + range.start,
                len: range.len(),
            }]
        }
    }
}

fn noted(mut v: Verdict, obs: &Observation<'_, Proxy>) -> Verdict {
    if let Some(error) = obs.subject_error {
        v.notes
            .push(format!("the proxy returned an error: {error}"));
    }
    if obs.ending == Ending::PollLimit {
        v.fail(
            Point::TunnelRelay,
            "the run spun without progress (poll limit)",
        );
    }
    v
}
