//! What a black-box run sees beyond the in-process oracle's two legs, judged
//! here beside [`crate::oracle::proxy::judge`] (which reads one upstream
//! connection): a real proxy may open further connections to the upstream
//! during a case, and a `CONNECT` it refused itself never reaches the upstream.
//!
//! * **Further upstream connections.** A proxy that handles the client's next
//!   bytes as HTTP sends each request it parsed upstream, often on a new
//!   connection: whole requests there are HTTP, and pass. Bytes there that are
//!   no request crossed as tunnel data ([`Point::TunnelRefused`], MUST:
//!   0ang3el/websocket-smuggle, CVE-2018-1002105).
//! * **A `CONNECT` the proxy refused itself.** The bytes sent with a
//!   `CONNECT` belong to the tunnel that was not opened: a second response to
//!   the client after the proxy's own refusal means it parsed them as a
//!   request ([`Point::TunnelRefused`], SHOULD, as the in-process oracle rates
//!   the same after the upstream's refusal: RFC 9110 §9.3.6 leaves their
//!   meaning to the HTTP version; Envoy CVE-2025-64763). When the `CONNECT`
//!   reached the upstream, the in-process oracle judges this itself.
//! * **No answer at all.** A proxy that closes the connection without a
//!   response and without opening any upstream leg forwarded nothing and
//!   tunnelled nothing: the in-process oracle's "no request reached the
//!   upstream, no refusal" ([`Point::TunnelAnswer`]) is there a proxy that
//!   hung, but a real proxy that does not forward such a request at all (a
//!   forward proxy asked for an upgrade it does not carry) is `unsupported`,
//!   and a `CONNECT` it did not open is what the case asks ([`unanswered`]).

use crate::oracle::{Level, Point, Verdict, count, preview};
use crate::reference::head::{self, Framing};
use crate::wire::{Direction, Trace};

/// Judges the upstream connections after the first (`further`, in the order
/// the proxy opened them; the first is connection 1).
pub(super) fn further_connections(v: &mut Verdict, further: &[Trace]) {
    for (i, leg) in further.iter().enumerate() {
        let up = leg.stream(Direction::ClientToServer);
        let raw = &up[whole_requests(&up)..];
        if !raw.is_empty() {
            v.add(
                Level::Must,
                Point::TunnelRefused,
                format!(
                    "proxy to upstream (connection {}): {} ({}) reached the upstream raw, not as a request: tunnel data outside any tunnel (0ang3el/websocket-smuggle, CVE-2018-1002105)",
                    i + 2,
                    count(raw.len()),
                    preview(raw, 24)
                ),
                Vec::new(),
            );
        }
    }
}

/// Judges the client leg of a `CONNECT` the proxy refused without
/// forwarding it (`upstream`, its first upstream leg, holds no whole
/// request): no second response after the refusal.
pub(super) fn refused_connect(v: &mut Verdict, client: &Trace, upstream: Option<&Trace>) {
    if upstream.is_some_and(|leg| whole_requests(&leg.stream(Direction::ClientToServer)) > 0) {
        return;
    }
    let down = client.stream(Direction::ServerToClient);
    let Ok(Some((first, head_end))) = head::parse_final_response(&down) else {
        return;
    };
    if first.switches(true) {
        return;
    }
    let body = match first.framing(true) {
        Ok(Framing::Length(n)) => usize::try_from(n).unwrap_or(usize::MAX),
        Ok(Framing::Empty) => 0,
        _ => return,
    };
    let end = head_end.saturating_add(body).min(down.len());
    if let Ok(Some((second, _))) = head::parse_response(&down[end..]) {
        v.add(
            Level::Should,
            Point::TunnelRefused,
            format!(
                "proxy to client: after its own {} to the CONNECT (which reached no upstream), a second response ({}): the bytes sent with the CONNECT were parsed as a request (RFC 9110 §9.3.6 leaves their meaning to the HTTP version; they were meant as tunnel data: Envoy CVE-2025-64763)",
                first.status, second.status
            ),
            Vec::new(),
        );
    }
}

/// What a run in which the proxy answered nothing and opened no upstream leg
/// says: `None` when the proxy did answer or open one (judge as usual);
/// otherwise the in-process oracle's [`Point::TunnelAnswer`] violations are
/// dropped from `v`, and the reason is given: the case is `unsupported`
/// unless it is a `CONNECT` (`connect`), whose tunnel was not opened: judged
/// on what is left.
pub(super) fn unanswered(
    v: &mut Verdict,
    client: &Trace,
    legs: usize,
    connect: bool,
) -> Option<(bool, String)> {
    if legs > 0 || !client.stream(Direction::ServerToClient).is_empty() {
        return None;
    }
    v.violations.retain(|x| x.point != Point::TunnelAnswer);
    Some(if connect {
        (
            false,
            "the proxy answered nothing and reached nothing the harness listens on: no 2xx, the tunnel was not opened".into(),
        )
    } else {
        (
            true,
            "the proxy closed the connection (or went quiet) without an answer and sent nothing to the upstream: it does not forward this request".into(),
        )
    })
}

/// How many bytes at the start of `bytes` are whole requests.
fn whole_requests(bytes: &[u8]) -> usize {
    let mut at = 0;
    while at < bytes.len() {
        match head::request_message_len(&bytes[at..]) {
            Ok(Some((_, len))) if len > 0 => at += len,
            _ => break,
        }
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Event;
    use bytes::Bytes;

    fn trace(up: &[u8], down: &[u8]) -> Trace {
        let mut t = Trace::default();
        for (dir, bytes) in [
            (Direction::ClientToServer, up),
            (Direction::ServerToClient, down),
        ] {
            t.events.push(Event::Segment {
                dir,
                index: 0,
                bytes: Bytes::copy_from_slice(bytes),
            });
        }
        t
    }

    #[test]
    fn requests_on_a_further_connection_pass_raw_bytes_fail() {
        let request = b"GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
        let mut v = Verdict::default();
        further_connections(&mut v, &[trace(request, b"")]);
        assert!(v.strict());
        further_connections(&mut v, &[trace(&[request, &b"\0raw"[..]].concat(), b"")]);
        assert!(v.breaks_at(Point::TunnelRefused, Level::Must));
        assert!(v.violations[0].message.contains("connection 2"));
    }

    #[test]
    fn no_answer_and_no_upstream_leg_is_unsupported_or_an_unopened_connect() {
        let mut v = Verdict::default();
        v.add(
            Level::Must,
            Point::TunnelAnswer,
            "no request".into(),
            Vec::new(),
        );
        let silent = trace(b"GET / HTTP/1.1\r\n\r\n", b"");
        assert_eq!(unanswered(&mut v.clone(), &silent, 1, false), None);
        let answered = trace(b"", b"HTTP/1.1 400 Bad\r\n\r\n");
        assert_eq!(unanswered(&mut v.clone(), &answered, 0, false), None);
        let mut upgrade = v.clone();
        assert!(matches!(
            unanswered(&mut upgrade, &silent, 0, false),
            Some((true, _))
        ));
        assert!(upgrade.strict());
        assert!(matches!(
            unanswered(&mut v, &silent, 0, true),
            Some((false, _))
        ));
        assert!(v.strict());
    }

    #[test]
    fn a_second_response_after_a_refused_connect_fails() {
        let refusal = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n";
        let mut v = Verdict::default();
        refused_connect(&mut v, &trace(b"", refusal), None);
        assert!(v.strict());
        let twice = trace(b"", &[&refusal[..], &refusal[..]].concat());
        // Forwarded upstream: the in-process oracle's to judge.
        let forwarded = trace(b"CONNECT a:1 HTTP/1.1\r\nHost: a:1\r\n\r\n", b"");
        refused_connect(&mut v, &twice, Some(&forwarded));
        assert!(v.strict());
        refused_connect(&mut v, &twice, None);
        assert!(v.breaks_at(Point::TunnelRefused, Level::Should));
    }
}
