//! After a refusal: the upstream's answer reaches the client (a `101` or a
//! made-up `2xx` never does), and nothing crosses as tunnel data, either way.
//!
//! The RFCs have no MUST for "no tunnel after a refusal"; the closest is RFC
//! 9110 §9.3.6: "Any response other than a successful response indicates that
//! the tunnel has not yet been formed." Raw bytes crossing after a refusal
//! fail at MUST all the same, as a security rule: the upstream reads them as
//! requests the proxy never checked (0ang3el/websocket-smuggle,
//! CVE-2018-1002105, Envoy CVE-2025-64763). Bytes that parse as whole
//! requests are HTTP, and pass; so does a closed connection.

use super::super::describe::{count, preview};
use super::is_requests;
use super::{DOWN, NO_1XX_TO_HTTP10, NOT_YET_FORMED, ONLY_OFFERED, Streams, client_marks};
use crate::oracle::{Fault, Level, Mark, Point, Verdict};
use crate::reference::head::{self, Framing, ResponseHead};
use crate::scenario::proxy::Ask;

/// The upstream did not switch: its answer reaches the client (a `101` never
/// does), and nothing crosses as tunnel data, either way.
pub(super) fn refused(v: &mut Verdict, run: &Streams<'_>, answered: usize) {
    let sent = run.obs.sent;
    let cve = cve(run);
    let after = &run.uu[answered..];
    if !after.is_empty() && !is_requests(after) {
        let probe = &sent.after_refusal[..sent.after_refusal.len().min(8)];
        let whose = if !probe.is_empty() && after.windows(probe.len()).any(|w| w == probe) {
            "the client's bytes after the refusal"
        } else {
            "the client's bytes sent with its request"
        };
        v.add(
            Level::Must,
            Point::TunnelRefused,
            format!(
                "proxy to upstream: {} ({}) of {whose} reached the upstream raw after its {} answer, which opened no tunnel ({cve})",
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
        let (point, why) = false_switch(run, got);
        v.add(
            Level::Must,
            point,
            format!("proxy to client: {} relayed: {why}", got.status),
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
    after_answer(v, run, got, *head_end);
}

/// Why a switching answer the client got is wrong, and which point it breaks.
fn false_switch(run: &Streams<'_>, got: &ResponseHead) -> (Point, String) {
    let token = head::header_value(&got.headers, "upgrade").unwrap_or_default();
    if run.connect {
        (
            Point::TunnelAnswer,
            format!(
                "the client was told a tunnel is open, but the upstream refused the CONNECT with {} \
                 (RFC 9110 §9.3.6: {NOT_YET_FORMED}; Envoy CVE-2025-64763)",
                run.obs.sent.status
            ),
        )
    } else if run.http10_upgrade() {
        (
            Point::TunnelToken,
            format!(
                "a switch (to {token:?}) sent to an HTTP/1.0 client (RFC 9110 §15.2: {NO_1XX_TO_HTTP10})"
            ),
        )
    } else if run.obs.scenario.ask == Ask::H2c && token.trim().eq_ignore_ascii_case("h2c") {
        (
            Point::TunnelHopByHop,
            "a switch to h2c, which a proxy does not pass on (h2c smuggling: HTTP/2 to the upstream past every proxy rule)".into(),
        )
    } else {
        (
            Point::TunnelToken,
            format!(
                "a switch to {token:?}, a protocol the client did not offer \
                 (RFC 9110 §7.8: {ONLY_OFFERED}; the proxy is the client's server)"
            ),
        )
    }
}

/// What reached the client after the relayed answer: never tunnel data; after
/// a refused `CONNECT`, no second response either (the bytes sent with the
/// `CONNECT` were parsed as a request).
fn after_answer(v: &mut Verdict, run: &Streams<'_>, got: &ResponseHead, head_end: usize) {
    let body = match got.framing(run.connect) {
        Ok(Framing::Length(n)) => usize::try_from(n).unwrap_or(usize::MAX),
        Ok(Framing::Empty) => 0,
        _ => usize::MAX,
    };
    let end = head_end.saturating_add(body).min(run.cd.len());
    let extra = &run.cd[end..];
    if extra.is_empty() {
        return;
    }
    let mark = vec![Mark::Bytes {
        dir: DOWN,
        range: end..run.cd.len(),
        fault: Fault::Extra,
    }];
    let second = head::parse_response(extra).ok().flatten();
    match second {
        None => v.add(
            Level::Must,
            Point::TunnelRefused,
            format!(
                "proxy to client: {} ({}) after the relayed {} reached the client as tunnel data ({})",
                count(extra.len()),
                preview(extra, 24),
                got.status,
                cve(run)
            ),
            mark,
        ),
        Some((second, _)) if run.connect && !run.obs.sent.early.is_empty() => v.add(
            Level::Should,
            Point::TunnelRefused,
            format!(
                "proxy to client: a second response ({}) after the refused CONNECT's {}: the bytes sent with \
                 the CONNECT were parsed as a request (RFC 9110 §9.3.6 leaves their meaning to the HTTP version; \
                 they were meant as tunnel data: Envoy CVE-2025-64763)",
                second.status, got.status
            ),
            mark,
        ),
        Some(_) => {}
    }
}

fn cve(run: &Streams<'_>) -> &'static str {
    if run.connect {
        "Envoy CVE-2025-64763"
    } else {
        "0ang3el/websocket-smuggle, CVE-2018-1002105"
    }
}
