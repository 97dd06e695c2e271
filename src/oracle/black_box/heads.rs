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
//! * RFC 9110 §7.8: "If a server receives both an Upgrade and an Expect header
//!   field with the "100-continue" expectation (Section 10.1.1), the server MUST
//!   send a 100 (Continue) response before sending a 101 (Switching Protocols)
//!   response."
//!
//! All of them are the handshake (point 0): nothing has been handed over yet.

use crate::oracle::{Point, Verdict};
use crate::reference::head::{self, ResponseHead};

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
    super::super::check_switching_head(verdict, last);
    if last.status == 101 && !head::has_token(&last.headers, "connection", "upgrade") {
        verdict.fail(
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
                verdict.fail(
                    Point::Handshake,
                    format!("the {} carries `{name}: {value}`: {rule}", r.status),
                );
            }
        }
    }
    if last.status == 101
        && expects_continue_with_upgrade(request)
        && !responses.iter().any(|r| r.status == 100)
    {
        verdict.fail(
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

/// Whether the request head at the start of `request` asks to upgrade and
/// expects `100-continue`.
fn expects_continue_with_upgrade(request: &[u8]) -> bool {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    if !matches!(req.parse(request), Ok(httparse::Status::Complete(_))) {
        return false;
    }
    let has = |name: &str, token: &str| {
        req.headers.iter().any(|h| {
            h.name.eq_ignore_ascii_case(name)
                && String::from_utf8_lossy(h.value)
                    .split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case(token))
        })
    };
    has("expect", "100-continue")
        && req
            .headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("upgrade"))
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
