//! The request and response heads of a scenario, as lists of fields.
//!
//! A head is needed in two forms: as bytes on the wire (every run), and as a
//! [`RequestHead`] or [`ResponseHead`] of owned strings (a subject that sends the
//! request or gives the answer through its library). Building the owned head to
//! write it once cost two allocations a field, and most runs never need the
//! request head at all. So each head is one list of fields, visited in order
//! ([`Scenario::request_fields`], [`Scenario::response_fields`]): the owned heads
//! collect it, and [`Scenario::put_request_head`] and
//! [`Scenario::put_response_head`] write it with the reference's own line
//! writers. Both forms come from the same list, so they cannot disagree.

use bytes::BytesMut;

use super::{Answer, Body, Handshake, MAX_PAYLOAD, RAW_STREAM, REFUSAL_BODY, Scenario};
use crate::reference::head::{self, Header, RequestHead, ResponseHead};

/// A number written in decimal on the stack (a `Content-Length` value).
struct Decimal {
    digits: [u8; 20],
    start: usize,
}

impl Decimal {
    fn of(mut n: usize) -> Self {
        let mut digits = [b'0'; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                return Decimal { digits, start };
            }
        }
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits were written.
        std::str::from_utf8(&self.digits[self.start..]).unwrap_or("0")
    }
}

impl Scenario {
    /// The request line's method and target.
    fn request_line(&self) -> (&'static str, &'static str) {
        match self.handshake {
            Handshake::Upgrade(_) if self.body == Body::None => ("GET", "/upgrade"),
            Handshake::Upgrade(_) => ("POST", "/upgrade"),
            Handshake::Connect => ("CONNECT", "example.test:443"),
            Handshake::Explicit => (
                "POST",
                "/containers/c0ffee/attach?stream=1&stdin=1&stdout=1",
            ),
        }
    }

    /// Calls `field` with each field of the request head, in order: Host,
    /// Connection and Upgrade, the framing field, Expect, then the extra ones.
    fn request_fields(&self, mut field: impl FnMut(&str, &str)) {
        field("Host", "example.test");
        if let Handshake::Upgrade(protocol) = self.handshake {
            field("Connection", "Upgrade");
            field("Upgrade", protocol.token());
        }
        match &self.body {
            Body::None => {}
            Body::Length(payload) => field(
                "Content-Length",
                Decimal::of(payload.len.min(MAX_PAYLOAD)).as_str(),
            ),
            Body::Chunked(_) => field("Transfer-Encoding", "chunked"),
        }
        if self.expect_continue {
            field("Expect", "100-continue");
        }
        for (name, value) in &self.request_headers {
            field(name, value);
        }
    }

    /// The request head the client sends.
    pub fn request_head(&self) -> RequestHead {
        let (method, target) = self.request_line();
        // Host, Connection, Upgrade, the framing field, Expect: sized once.
        let mut headers = Vec::with_capacity(5 + self.request_headers.len());
        self.request_fields(|name, value| headers.push(Header::new(name, value)));
        RequestHead {
            method: method.into(),
            target: target.into(),
            headers,
        }
    }

    /// The length of the request head's bytes ([`Scenario::put_request_head`]).
    pub(super) fn request_head_len(&self) -> usize {
        let (method, target) = self.request_line();
        fields_len(head::request_line_len(method, target), |field| {
            self.request_fields(field)
        })
    }

    /// Writes the request head's bytes, the bytes of
    /// [`Scenario::request_head`]'s [`RequestHead::to_bytes`], without building it.
    pub(super) fn put_request_head(&self, out: &mut BytesMut) {
        let (method, target) = self.request_line();
        head::put_request_line(out, method, target);
        put_fields(out, |field| self.request_fields(field));
    }

    /// The status of the final answer ([`Scenario::response_head`]'s), without
    /// building the head.
    pub fn answer_status(&self) -> u16 {
        self.status_line().0
    }

    /// The final answer's status and reason phrase.
    fn status_line(&self) -> (u16, &'static str) {
        match (self.answer, self.handshake) {
            (Answer::Refuse(status), _) => (status, reason_phrase(status)),
            (Answer::Accept, Handshake::Upgrade(_)) => (101, "Switching Protocols"),
            (Answer::Accept, Handshake::Connect) => (200, "Connection Established"),
            (Answer::Accept, Handshake::Explicit) => (200, "OK"),
        }
    }

    /// Calls `field` with each field of the final response head, in order:
    /// Connection and Upgrade, or Content-Type, or Content-Length, then the extra ones.
    fn response_fields(&self, mut field: impl FnMut(&str, &str)) {
        match (self.answer, self.handshake) {
            (Answer::Refuse(_), _) => {
                field("Content-Length", Decimal::of(REFUSAL_BODY.len()).as_str());
            }
            (Answer::Accept, Handshake::Upgrade(protocol)) => {
                field("Connection", "Upgrade");
                field("Upgrade", protocol.token());
            }
            (Answer::Accept, Handshake::Connect) => {}
            (Answer::Accept, Handshake::Explicit) => field("Content-Type", RAW_STREAM),
        }
        for (name, value) in &self.response_headers {
            field(name, value);
        }
    }

    /// The final response head the server's handler gives.
    pub fn response_head(&self) -> ResponseHead {
        let mut head = ResponseHead {
            status: 0,
            reason: String::new(),
            // Connection and Upgrade, or Content-Type, or Content-Length: sized once.
            headers: Vec::with_capacity(2 + self.response_headers.len()),
        };
        self.fill_response_head(&mut head);
        head
    }

    /// Makes `head` [`Scenario::response_head`], in the strings and the
    /// vector it has (a head refilled for the next case allocates nothing
    /// when its strings are long enough).
    pub(super) fn fill_response_head(&self, head: &mut ResponseHead) {
        let (status, reason) = self.status_line();
        head.status = status;
        reason.clone_into(&mut head.reason);
        let mut count = 0;
        self.response_fields(|name, value| {
            match head.headers.get_mut(count) {
                Some(header) => {
                    name.clone_into(&mut header.name);
                    value.clone_into(&mut header.value);
                }
                None => head.headers.push(Header::new(name, value)),
            }
            count += 1;
        });
        head.headers.truncate(count);
    }

    /// The length of the final response head's bytes ([`Scenario::put_response_head`]).
    pub(super) fn response_head_len(&self) -> usize {
        let (status, reason) = self.status_line();
        fields_len(head::status_line_len(status, reason), |field| {
            self.response_fields(field)
        })
    }

    /// Writes the final response head's bytes, the bytes of
    /// [`Scenario::response_head`]'s [`ResponseHead::to_bytes`], without building it.
    pub(super) fn put_response_head(&self, out: &mut BytesMut) {
        let (status, reason) = self.status_line();
        head::put_status_line(out, status, reason);
        put_fields(out, |field| self.response_fields(field));
    }
}

/// Something that calls its argument with each field of a head, in order
/// ([`Scenario::request_fields`], [`Scenario::response_fields`]).
type Fields<'a> = &'a mut dyn FnMut(&str, &str);

/// The length of a head whose first line is `line` bytes long, with the
/// fields `visit` gives, and the blank line that ends it.
fn fields_len(line: usize, visit: impl FnOnce(Fields<'_>)) -> usize {
    let mut len = line + 2;
    visit(&mut |name, value| len += head::field_len(name, value));
    len
}

/// Writes the fields `visit` gives, and the blank line that ends the head.
fn put_fields(out: &mut BytesMut, visit: impl FnOnce(Fields<'_>)) {
    visit(&mut |name, value| head::put_field(out, name, value));
    out.extend_from_slice(b"\r\n");
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        426 => "Upgrade Required",
        500 => "Internal Server Error",
        _ => "Other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decimals_are_written_as_to_string_writes_them() {
        for n in [0, 7, 9, 10, 99, 100, 65_536, 70_000, usize::MAX] {
            assert_eq!(Decimal::of(n).as_str(), n.to_string());
        }
    }

    proptest! {
        /// The heads written from the fields are the owned heads' bytes, and
        /// their lengths are measured right (the buffer is sized once).
        #[test]
        fn written_heads_are_the_bytes_of_the_built_heads(s in super::super::scenario()) {
            let mut out = BytesMut::new();
            s.put_request_head(&mut out);
            prop_assert_eq!(&out[..], &s.request_head().to_bytes()[..]);
            prop_assert_eq!(out.len(), s.request_head_len());
            let mut out = BytesMut::new();
            s.put_response_head(&mut out);
            prop_assert_eq!(&out[..], &s.response_head().to_bytes()[..]);
            prop_assert_eq!(out.len(), s.response_head_len());
        }
    }
}
