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

use bytes::{BufMut, Bytes, BytesMut};

use super::{Scenario, Sizes};
use crate::reference::RequestBody;
use crate::reference::head::{RequestHead, ResponseHead};

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
    /// The final response head the server's handler gives.
    pub response_head: ResponseHead,
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
            response_head,
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
