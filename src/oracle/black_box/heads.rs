//! The switching response itself, checked against the sentences of RFC 9110 and
//! RFC 9112 that a client relies on to know the connection switched:
//!
//! * RFC 9110 §7.8: "A server that sends a 101 (Switching Protocols) response MUST
//!   send an Upgrade header field to indicate the new protocol(s) to which the
//!   connection is being switched" (checked by [`crate::oracle`] for every run),
//!   and "When Upgrade is sent, the sender MUST also send a Connection header field
//!   (Section 7.6.1) that contains an "upgrade" connection option";
//! * RFC 9110 §8.6: "A server MUST NOT send a Content-Length header field in any
//!   response with a status code of 1xx (Informational) or 204 (No Content)", and
//!   RFC 9112 §6.1 the same of Transfer-Encoding;
//! * RFC 9110 §7.8: "A server MUST NOT switch to a protocol that was not
//!   indicated by the client in the corresponding request's Upgrade header
//!   field" (moby's attach answers `Upgrade: tcp` to whatever it was offered);
//! * RFC 9110 §7.8: "If a server receives both an Upgrade and an Expect header
//!   field with the "100-continue" expectation (Section 10.1.1), the server MUST
//!   send a 100 (Continue) response before sending a 101 (Switching Protocols)
//!   response";
//! * RFC 9110 §10.1.1, for a client that waits for the `100` before its body
//!   ([`check_continue_wait`]): a server "MUST NOT wait for the content before
//!   sending the 100 (Continue) response".
//!
//! All of them are the handshake (point 0): nothing has been handed over yet.
//! Each is a MUST, so each violation is graded MUST whatever the level of the
//! case that saw it ([`crate::oracle::Violation::level`]): a SHOULD case (a
//! WebSocket frame sent with the handshake) fails on a 101 that breaks one.

use crate::oracle::{Point, Verdict, count};
use crate::reference::head::{self, ResponseHead};
use crate::wire::{Direction, Event, Trace};

/// The request sentence about `100 Continue`, quoted in the diagnosis.
const CONTINUE_RULE: &str = "RFC 9110 §7.8: \"If a server receives both an Upgrade and an Expect header field \
     with the \"100-continue\" expectation (Section 10.1.1), the server MUST send a 100 (Continue) response \
     before sending a 101 (Switching Protocols) response.\"";

/// Checks the response heads in `heads` (every head up to the end of the final
/// one) against the request message `request` (its head is parsed leniently: an
/// HTTP/1.0 request line is fine here).
pub fn check(verdict: &mut Verdict, request: &[u8], heads: &[u8]) {
    let responses = parse_all(heads);
    let Some(last) = responses.last() else {
        return;
    };
    super::super::check_switching_head(verdict, last.summary());
    if last.status == 101 && !head::has_token(&last.headers, "connection", "upgrade") {
        verdict.fail_must(
            Point::Handshake,
            "the 101 has no `Connection: upgrade`: RFC 9110 §7.8 says \"When Upgrade is sent, the sender \
             MUST also send a Connection header field (Section 7.6.1) that contains an \"upgrade\" connection option\"",
        );
    }
    for r in responses.iter().filter(|r| (100..200).contains(&r.status)) {
        for (name, rule) in [
            (
                "content-length",
                "RFC 9110 §8.6: \"A server MUST NOT send a Content-Length header field in any response with a \
                 status code of 1xx (Informational) or 204 (No Content)\"",
            ),
            (
                "transfer-encoding",
                "RFC 9112 §6.1: \"A server MUST NOT send a Transfer-Encoding header field in any response with a \
                 status code of 1xx (Informational) or 204 (No Content)\"",
            ),
        ] {
            if let Some(value) = head::header_value(&r.headers, name) {
                verdict.fail_must(
                    Point::Handshake,
                    format!("the {} carries `{name}: {value}`: {rule}", r.status),
                );
            }
        }
    }
    let asked = RequestFields::parse(request);
    if last.status == 101
        && let Some(asked) = &asked
        && let Some(offered) = asked.all("upgrade")
        && let Some(named) = head::header_value(&last.headers, "upgrade")
    {
        let unasked: Vec<&str> = tokens(named)
            .filter(|t| !tokens(&offered).any(|o| same_protocol(o, t)))
            .collect();
        if !unasked.is_empty() {
            verdict.fail_must(
                Point::Handshake,
                format!(
                    "the 101 switches to `{}`, which the request did not offer (it asked for `Upgrade: {offered}`): \
                     RFC 9110 §7.8 says \"A server MUST NOT switch to a protocol that was not indicated by the client \
                     in the corresponding request's Upgrade header field\"",
                    unasked.join(", ")
                ),
            );
        }
    }
    if last.status == 101
        && asked
            .as_ref()
            .is_some_and(RequestFields::expects_continue_with_upgrade)
        && !responses.iter().any(|r| r.status == 100)
    {
        verdict.fail_must(
            Point::Handshake,
            format!("the request carried `Expect: 100-continue` and the server sent 101 with no 100 before it: {CONTINUE_RULE}"),
        );
    }
}

/// Every response head at the start of `buf`, in order (interim ones first).
fn parse_all(buf: &[u8]) -> Vec<ResponseHead> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < buf.len() {
        match head::parse_response(&buf[at..]) {
            Ok(Some((h, len))) => {
                at += len;
                out.push(h);
            }
            _ => break,
        }
    }
    out
}

/// The fields of the request head at the start of a request message (HTTP/1.0
/// or 1.1), lower-cased names with their values.
struct RequestFields(Vec<(String, String)>);

impl RequestFields {
    fn parse(request: &[u8]) -> Option<RequestFields> {
        let mut headers = [httparse::EMPTY_HEADER; head::MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        if !matches!(req.parse(request), Ok(httparse::Status::Complete(_))) {
            return None;
        }
        Some(RequestFields(
            req.headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_ascii_lowercase(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect(),
        ))
    }

    /// Every value of `name`, joined with commas (RFC 9110 §5.3), if any.
    fn all(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }

    /// Whether the request asks to upgrade and expects `100-continue`.
    fn expects_continue_with_upgrade(&self) -> bool {
        self.all("expect")
            .is_some_and(|v| tokens(&v).any(|t| t.eq_ignore_ascii_case("100-continue")))
            && self.all("upgrade").is_some()
    }
}

/// The comma-separated tokens of a field value.
fn tokens(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|t| !t.is_empty())
}

/// Whether the response's `named` protocol is the request's `offered` one: the
/// names compare without regard to case, and a version must match when both
/// give one (RFC 9110 §7.8: `protocol-name ["/" protocol-version]`).
fn same_protocol(offered: &str, named: &str) -> bool {
    let split = |p: &str| match p.split_once('/') {
        Some((name, version)) => (
            name.trim().to_ascii_lowercase(),
            Some(version.trim().to_string()),
        ),
        None => (p.to_ascii_lowercase(), None),
    };
    let (offered_name, offered_version) = split(offered);
    let (named_name, named_version) = split(named);
    offered_name == named_name
        && match (offered_version, named_version) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
}

/// RFC 9110 §10.1.1: "An origin server MUST NOT wait for the content before
/// sending the 100 (Continue) response." The scripted client sent the head of a
/// request with `Expect: 100-continue` alone (`head_len` bytes) and waited,
/// bounded, for an answer before the rest of the message; if nothing of the
/// server's arrived before it gave up and sent the rest, the server waited for
/// the content, and a client that waits longer (curl waits a second, Apache's
/// mod_proxy until its timeout) stalls for that long or for good.
pub fn check_continue_wait(verdict: &mut Verdict, trace: &Trace, head_len: usize) {
    let mut sent = 0;
    let mut rest_sent_at = None;
    let mut answered_at = None;
    for (at, event) in trace.events.iter().enumerate() {
        if let Event::Segment { dir, bytes, .. } = event {
            match dir {
                Direction::ClientToServer => {
                    sent += bytes.len();
                    if sent > head_len && rest_sent_at.is_none() {
                        rest_sent_at = Some(at);
                    }
                }
                Direction::ServerToClient => {
                    answered_at.get_or_insert(at);
                }
            }
        }
    }
    let waited_in_vain = match (rest_sent_at, answered_at) {
        (Some(rest), Some(answer)) => answer > rest,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if waited_in_vain {
        verdict.fail_must(
            Point::Handshake,
            format!(
                "the client sent the head of a request with `Expect: 100-continue` ({}) alone and waited for \
                 `100 Continue` before its body; the server sent nothing until the body came: RFC 9110 §10.1.1 \
                 says \"An origin server MUST NOT wait for the content before sending the 100 (Continue) \
                 response\"",
                count(head_len)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UPGRADE_EXPECT: &[u8] =
        b"POST / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\
        Expect: 100-continue\r\nContent-Length: 2\r\n\r\nab";

    fn verdict(request: &[u8], heads: &[u8]) -> Verdict {
        let mut v = Verdict::default();
        check(&mut v, request, heads);
        v
    }

    #[test]
    fn a_good_101_after_100_passes() {
        let v = verdict(
            UPGRADE_EXPECT,
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n",
        );
        assert!(v.passed(), "{v}");
    }

    #[test]
    fn a_101_without_100_quotes_the_rule() {
        let v = verdict(
            UPGRADE_EXPECT,
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n",
        );
        assert_eq!(v.violations.len(), 1, "{v}");
        assert!(
            v.violations[0]
                .message
                .contains("MUST send a 100 (Continue) response before"),
            "{v}"
        );
    }

    #[test]
    fn framing_in_a_1xx_and_a_missing_connection_fail() {
        let v = verdict(
            b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n",
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nContent-Length: 0\r\n\r\n",
        );
        let text = v.to_string();
        assert!(text.contains("no `Connection: upgrade`"), "{text}");
        assert!(
            text.contains("`content-length: 0`: RFC 9110 §8.6"),
            "{text}"
        );
    }
}
