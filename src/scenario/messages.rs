//! The bytes a scenario puts on the wire, built once per run.
//!
//! A run needs the same messages in four places: the wire cuts them at offsets
//! measured in them, the scripted peer sends them, the application answers with
//! them, and the oracle compares the trace against them. Building them in each
//! place cost more than the subject's own work (every head is a vector of
//! allocated headers), and four builders are four chances to disagree. So a run
//! builds one [`Messages`] and hands out references; [`Sizes`] is read off it,
//! which makes the lengths the cuts are resolved against the lengths of the bytes
//! that are actually sent.

use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};

use super::{
    Answer, Body, Handshake, MAX_PAYLOAD, NEXT_REQUEST, RAW_STREAM, REFUSAL_BODY, Role, Scenario,
    Sizes,
};
use crate::reference::RequestBody;
use crate::reference::head::{Header, RequestHead, ResponseHead, encode_chunked};

/// Everything both sides of one scenario send.
#[derive(Debug, Clone)]
pub struct Messages {
    /// The request head the client sends.
    pub request_head: RequestHead,
    /// The request body as the client library sends it (chunks unframed).
    pub request_body: RequestBody,
    /// The whole request message (head and framed body), as the scripted client
    /// writes it.
    pub request: Bytes,
    /// Where the head ends in [`Messages::request`].
    pub request_head_len: usize,
    /// The request body as the server's handler should get it (chunks joined).
    pub body: Bytes,
    /// The client's bytes after the request, before the answer.
    pub early: Bytes,
    /// The client's bytes once the answer arrived (only when accepted).
    pub late: Bytes,
    /// The final response head the server's handler gives (shared: the
    /// handler's answers hand out this one instead of a copy each).
    pub response_head: Arc<ResponseHead>,
    /// What the scripted server writes before any new-protocol byte: interim
    /// response, final head, and (for a refusal) its body.
    pub response: Bytes,
    /// Where the final head ends in [`Messages::response`].
    pub response_head_end: usize,
    /// The server application's first bytes.
    pub first: Bytes,
}

impl Messages {
    /// Builds every message of `scenario`.
    pub fn new(scenario: &Scenario) -> Self {
        let request_head = scenario.request_head();
        let request_body = scenario.request_body();
        let (request, request_head_len) =
            Scenario::request_message_of(&request_head, &request_body);
        let body = match &request_body {
            RequestBody::Empty => Bytes::new(),
            RequestBody::Length(bytes) => bytes.clone(),
            RequestBody::Chunked(chunks) => {
                let mut joined = BytesMut::with_capacity(chunks.iter().map(Bytes::len).sum());
                for chunk in chunks {
                    joined.put_slice(chunk);
                }
                joined.freeze()
            }
        };
        let response_head = scenario.response_head();
        let (response, response_head_end) = scenario.response_message_of(&response_head);
        Messages {
            request_head,
            request_body,
            request,
            request_head_len,
            body,
            early: scenario.client_early(),
            late: scenario.client_late(),
            response_head: Arc::new(response_head),
            response,
            response_head_end,
            first: scenario.server_first(),
        }
    }

    /// The lengths of everything the peers send.
    pub fn sizes(&self) -> Sizes {
        Sizes {
            request_head: self.request_head_len,
            request: self.request.len(),
            early: self.early.len(),
            late: self.late.len(),
            response_head: self.response_head_end,
            response: self.response.len(),
            first: self.first.len(),
        }
    }
}

/// The heads and bytes of a scenario, as each peer builds them.
impl Scenario {
    /// The request head the client sends.
    pub fn request_head(&self) -> RequestHead {
        // Host, Connection, Upgrade, the framing field, Expect: sized once.
        let mut headers = Vec::with_capacity(5 + self.request_headers.len());
        headers.push(Header::new("Host", "example.test"));
        let (method, target) = match self.handshake {
            Handshake::Upgrade(protocol) => {
                headers.push(Header::new("Connection", "Upgrade"));
                headers.push(Header::new("Upgrade", protocol.token()));
                (
                    if self.body == Body::None {
                        "GET"
                    } else {
                        "POST"
                    },
                    "/upgrade",
                )
            }
            Handshake::Connect => ("CONNECT", "example.test:443"),
            Handshake::Explicit => (
                "POST",
                "/containers/c0ffee/attach?stream=1&stdin=1&stdout=1",
            ),
        };
        match &self.body {
            Body::None => {}
            Body::Length(payload) => headers.push(Header::new(
                "Content-Length",
                payload.len.min(MAX_PAYLOAD).to_string(),
            )),
            Body::Chunked(_) => headers.push(Header::new("Transfer-Encoding", "chunked")),
        }
        if self.expect_continue {
            headers.push(Header::new("Expect", "100-continue"));
        }
        headers.extend(
            self.request_headers
                .iter()
                .map(|(n, v)| Header::new(n.clone(), v.clone())),
        );
        RequestHead {
            method: method.into(),
            target: target.into(),
            headers,
        }
    }

    /// The request body as the client library sends it.
    pub fn request_body(&self) -> RequestBody {
        match &self.body {
            Body::None => RequestBody::Empty,
            Body::Length(payload) => RequestBody::Length(payload.bytes(Role::Body(0))),
            Body::Chunked(chunks) => RequestBody::Chunked(
                chunks
                    .iter()
                    .enumerate()
                    .map(|(i, c)| c.bytes(Role::Body(i as u8)))
                    .collect(),
            ),
        }
    }

    /// The whole request message (head and framed body), as the scripted client
    /// writes it, and the length of its head.
    pub fn request_message(&self) -> (Bytes, usize) {
        Self::request_message_of(&self.request_head(), &self.request_body())
    }

    fn request_message_of(head: &RequestHead, body: &RequestBody) -> (Bytes, usize) {
        let head = head.to_bytes();
        let head_len = head.len();
        let framed = match body {
            RequestBody::Empty => return (head, head_len),
            RequestBody::Length(bytes) => bytes.clone(),
            RequestBody::Chunked(chunks) => encode_chunked(chunks),
        };
        let mut out = Vec::with_capacity(head_len + framed.len());
        out.extend_from_slice(&head);
        out.extend_from_slice(&framed);
        (out.into(), head_len)
    }

    /// The bytes the client sends after the request and before the answer.
    pub fn client_early(&self) -> Bytes {
        match self.answer {
            Answer::Accept => self.client.early.bytes(Role::Early),
            Answer::Refuse(_) => Bytes::from_static(NEXT_REQUEST),
        }
    }

    /// The bytes the client sends once the answer arrived (only when accepted).
    pub fn client_late(&self) -> Bytes {
        match self.answer {
            Answer::Accept => self.client.late.bytes(Role::Late),
            Answer::Refuse(_) => Bytes::new(),
        }
    }

    /// The server application's first bytes.
    pub fn server_first(&self) -> Bytes {
        match self.answer {
            Answer::Accept => self.server.first.bytes(Role::First),
            Answer::Refuse(_) => Bytes::new(),
        }
    }

    /// The status of the final answer ([`Scenario::response_head`]'s), without
    /// building the head.
    pub fn answer_status(&self) -> u16 {
        match (self.answer, self.handshake) {
            (Answer::Refuse(status), _) => status,
            (Answer::Accept, Handshake::Upgrade(_)) => 101,
            (Answer::Accept, Handshake::Connect | Handshake::Explicit) => 200,
        }
    }

    /// The final response head the server's handler gives.
    pub fn response_head(&self) -> ResponseHead {
        // Connection and Upgrade, or Content-Type, or Content-Length: sized once.
        let mut headers = Vec::with_capacity(2 + self.response_headers.len());
        let (status, reason) = match (self.answer, self.handshake) {
            (Answer::Refuse(status), _) => (status, reason_phrase(status)),
            (Answer::Accept, Handshake::Upgrade(protocol)) => {
                headers.push(Header::new("Connection", "Upgrade"));
                headers.push(Header::new("Upgrade", protocol.token()));
                (101, "Switching Protocols")
            }
            (Answer::Accept, Handshake::Connect) => (200, "Connection Established"),
            (Answer::Accept, Handshake::Explicit) => {
                headers.push(Header::new("Content-Type", RAW_STREAM));
                (200, "OK")
            }
        };
        if let Answer::Refuse(_) = self.answer {
            headers.push(Header::new(
                "Content-Length",
                REFUSAL_BODY.len().to_string(),
            ));
        }
        headers.extend(
            self.response_headers
                .iter()
                .map(|(n, v)| Header::new(n.clone(), v.clone())),
        );
        ResponseHead {
            status,
            reason: reason.into(),
            headers,
        }
    }

    /// The bytes the scripted server writes before any new-protocol byte: interim
    /// response, final head, and (for a refusal) its body. The second value is the
    /// length up to the end of the final head.
    pub fn response_message(&self) -> (Bytes, usize) {
        self.response_message_of(&self.response_head())
    }

    fn response_message_of(&self, head: &ResponseHead) -> (Bytes, usize) {
        const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";
        let head = head.to_bytes();
        let interim = if self.interim_continue { CONTINUE } else { b"" };
        let body = if self.accepted() {
            b"" as &[u8]
        } else {
            REFUSAL_BODY
        };
        let mut out = Vec::with_capacity(interim.len() + head.len() + body.len());
        out.extend_from_slice(interim);
        out.extend_from_slice(&head);
        let head_end = out.len();
        out.extend_from_slice(body);
        (out.into(), head_end)
    }
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
    use crate::scenario::{Answer, Body, Payload};

    #[test]
    fn a_chunked_body_is_joined_for_the_handler_and_framed_on_the_wire() {
        let mut scenario = Scenario::basic();
        scenario.body = Body::Chunked(vec![Payload::noise(3, 1), Payload::noise(2, 2)]);
        let messages = Messages::new(&scenario);
        assert_eq!(messages.body.len(), 5);
        let framed = &messages.request[messages.request_head_len..];
        assert!(framed.starts_with(b"3\r\n"));
        assert!(framed.ends_with(b"0\r\n\r\n"));
        assert_eq!(messages.sizes().request, messages.request.len());
    }

    #[test]
    fn a_refusal_carries_its_body_and_no_new_protocol_bytes() {
        let mut scenario = Scenario::basic();
        scenario.answer = Answer::Refuse(403);
        scenario.server.first = Payload::noise(10, 3);
        let messages = Messages::new(&scenario);
        assert!(messages.response.ends_with(super::super::REFUSAL_BODY));
        assert!(messages.first.is_empty());
        assert_eq!(messages.early, super::super::NEXT_REQUEST);
    }
}
