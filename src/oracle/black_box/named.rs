//! Names for bytes that came back in an echo and were never sent after the
//! request: a person fixing the bug needs to know *what* they are, not only that
//! they are extra. Bytes of the request body (or its chunk framing, or the head)
//! mean the server handed the connection over before it consumed the request
//! message: the in-memory oracle files that under point 1 (its read-side marks
//! look for extra bytes inside the message), and so does this one. An HTTP
//! response in the echo is the library writing after the hand-over: point 4.

use std::ops::Range;

use crate::oracle::{Point, preview};

/// How the request message is laid out on the wire, as the scripted client sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestShape {
    /// The length of the request head (request line, fields, blank line).
    pub head_len: usize,
    /// How its body is framed.
    pub body: BodyShape,
}

/// How a request body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyShape {
    /// No body.
    None,
    /// `Content-Length`.
    Length,
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// Extra echoed bytes, named: the point they break and the clause that says what they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// The invariant point: 1 for parts of the request message, 4 for an HTTP response.
    pub point: Point,
    /// "the server handed over before consuming the request body: echo bytes 0..100 are the Content-Length body".
    pub clause: String,
}

/// What `bytes`, found at echo offset `at`, are, if they are part of the request
/// message (`message`, shaped as `shape`) or an HTTP response; `None` when they
/// are nothing the harness sent (the caller says "never sent").
pub fn name(
    bytes: &[u8],
    at: usize,
    message: &[u8],
    shape: RequestShape,
    who: &str,
) -> Option<Named> {
    let echo = at..at + bytes.len();
    if bytes.starts_with(b"HTTP/1.") {
        let line_end = bytes
            .windows(2)
            .position(|w| w == b"\r\n")
            .unwrap_or(bytes.len().min(60));
        return Some(Named {
            point: Point::Ownership,
            clause: format!(
                "{who} wrote an HTTP response into the new protocol: echo bytes {}..{} are {} ({})",
                echo.start,
                echo.end,
                preview(&bytes[..line_end], 60),
                crate::oracle::count(bytes.len())
            ),
        });
    }
    let head = 0..shape.head_len.min(message.len());
    let found = place_in_message(message, bytes, head.end)?;
    let within = found..found + bytes.len();
    let body = head.end..message.len();
    if within.end <= head.end {
        return Some(Named {
            point: Point::ServerRead,
            clause: format!(
                "{who} handed the request head over as new-protocol data: echo bytes {}..{} are {} of the request head",
                echo.start,
                echo.end,
                part(&within, &head, "bytes")
            ),
        });
    }
    if within.start < body.start {
        return Some(Named {
            point: Point::ServerRead,
            clause: format!(
                "{who} handed part of the request message over as new-protocol data: echo bytes {}..{} are request bytes {}..{} (head and body)",
                echo.start, echo.end, within.start, within.end
            ),
        });
    }
    let framed = &message[body.clone()];
    let what = match shape.body {
        BodyShape::None => return None,
        BodyShape::Length if within == body => "the Content-Length body".to_string(),
        BodyShape::Length => format!(
            "bytes {}..{} of the {}-byte Content-Length body",
            within.start - body.start,
            within.end - body.start,
            body.len()
        ),
        BodyShape::Chunked if within == body && framed == b"0\r\n\r\n" => {
            "the empty chunked body's last chunk `0\\r\\n\\r\\n`".to_string()
        }
        BodyShape::Chunked if within == body => {
            "the chunked body, with its chunk framing".to_string()
        }
        BodyShape::Chunked => format!(
            "bytes {}..{} of the {}-byte chunked body (chunk framing included)",
            within.start - body.start,
            within.end - body.start,
            body.len()
        ),
    };
    Some(Named {
        point: Point::ServerRead,
        clause: format!(
            "{who} handed over before consuming the request body: echo bytes {}..{} are {what}",
            echo.start, echo.end
        ),
    })
}

/// "all 80" or "43..80" bytes of a part.
fn part(within: &Range<usize>, of: &Range<usize>, unit: &str) -> String {
    if within == of {
        format!("all {} {unit}", of.len())
    } else {
        format!(
            "{unit} {}..{}",
            within.start - of.start,
            within.end - of.start
        )
    }
}

/// Where in the request `message` the echoed `bytes` came from. A server that
/// hands over early hands over the rest of the message from the point it
/// stopped reading (and one that also lost its read-ahead, a later part of it),
/// so the message's end is looked at first, then the body (`body_start` on),
/// then the head: a few body bytes such as `\n\r\n` also occur in the head, and
/// naming them as head bytes would send the reader after the wrong bug.
fn place_in_message(message: &[u8], bytes: &[u8], body_start: usize) -> Option<usize> {
    if bytes.is_empty() || bytes.len() > message.len() {
        return None;
    }
    if message.ends_with(bytes) {
        return Some(message.len() - bytes.len());
    }
    let mut at = message
        .windows(bytes.len())
        .enumerate()
        .filter(|(_, w)| *w == bytes);
    let first = at.next()?.0;
    Some(
        std::iter::once(first)
            .chain(at.map(|(i, _)| i))
            .find(|&i| i >= body_start)
            .unwrap_or(first),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &[u8] = b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n";

    fn message(body: &[u8]) -> Vec<u8> {
        let mut m = HEAD.to_vec();
        m.extend_from_slice(body);
        m
    }

    fn shape(body: BodyShape) -> RequestShape {
        RequestShape {
            head_len: HEAD.len(),
            body,
        }
    }

    #[test]
    fn a_whole_body_is_named_under_point_1() {
        let m = message(b"abcd");
        let named = name(b"abcd", 0, &m, shape(BodyShape::Length), "the server").unwrap();
        assert_eq!(named.point, Point::ServerRead);
        assert_eq!(
            named.clause,
            "the server handed over before consuming the request body: echo bytes 0..4 are the Content-Length body"
        );
    }

    #[test]
    fn chunk_framing_and_the_empty_body_are_named() {
        let m = message(b"0\r\n\r\n");
        let named = name(b"0\r\n\r\n", 0, &m, shape(BodyShape::Chunked), "the server").unwrap();
        assert!(
            named
                .clause
                .ends_with("the empty chunked body's last chunk `0\\r\\n\\r\\n`"),
            "{}",
            named.clause
        );
        let m = message(b"2\r\nab\r\n0\r\n\r\n");
        let named = name(b"2\r\nab", 0, &m, shape(BodyShape::Chunked), "the server").unwrap();
        assert!(
            named
                .clause
                .contains("bytes 0..5 of the 12-byte chunked body"),
            "{}",
            named.clause
        );
    }

    /// A server that dropped its read-ahead echoes the body's last bytes, which
    /// arrived later: `\n\r\n` ends the head too, and must be named as body.
    #[test]
    fn body_bytes_that_also_occur_in_the_head_are_named_as_body() {
        let m = message(b"0\r\n\r\n");
        let named = name(b"\n\r\n", 0, &m, shape(BodyShape::Chunked), "the server").unwrap();
        assert_eq!(
            named.clause,
            "the server handed over before consuming the request body: echo bytes 0..3 are bytes 2..5 \
             of the 5-byte chunked body (chunk framing included)"
        );
        // Bytes from the middle of the body, also found in the head.
        let m = message(b"ab\r\nHTTP/cd");
        let named = name(b"\r\n", 4, &m, shape(BodyShape::Length), "the server").unwrap();
        assert!(
            named
                .clause
                .contains("bytes 2..4 of the 11-byte Content-Length body"),
            "{}",
            named.clause
        );
        // Bytes found only in the head are the head's.
        let named = name(b"POST /", 0, &m, shape(BodyShape::Length), "the server").unwrap();
        assert!(
            named.clause.contains("of the request head"),
            "{}",
            named.clause
        );
    }

    #[test]
    fn a_response_is_ownership_and_noise_is_unnamed() {
        let m = message(b"abcd");
        let named = name(
            b"HTTP/1.1 400 Bad Request\r\n\r\n",
            7,
            &m,
            shape(BodyShape::Length),
            "the server",
        )
        .unwrap();
        assert_eq!(named.point, Point::Ownership);
        assert!(
            named
                .clause
                .contains("echo bytes 7..35 are \"HTTP/1.1 400 Bad Request\""),
            "{}",
            named.clause
        );
        assert_eq!(
            name(b"zzzz", 0, &m, shape(BodyShape::Length), "the server"),
            None
        );
    }
}
