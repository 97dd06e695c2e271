//! After a switch: the client is told, and the tunnel carries every byte
//! once, in order, both ways, and each FIN ([`Point::TunnelRelay`]).

use std::ops::Range;

use super::super::describe::{count, preview};
use super::{DOWN, Streams, UP, status_text};
use crate::oracle::{Fault, Level, Mark, Point, Verdict};
use crate::wire::{Direction, Trace};

/// The upstream switched: the client is told, and the tunnel carries every
/// byte once, in order, both ways, and each FIN.
pub(super) fn switched(v: &mut Verdict, run: &Streams<'_>, request_end: usize) {
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
