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

use super::{Answer, Body, NEXT_REQUEST, REFUSAL_BODY, Role, Scenario, Sizes};
use crate::reference::RequestBody;
use crate::reference::head::{ResponseHead, encoded_chunked_len, put_chunked};

/// Everything both sides of one scenario send.
///
/// The request head is not kept as a [`RequestHead`](crate::reference::head::RequestHead):
/// the bytes are written straight from the scenario, and only a client subject,
/// whose library writes the request itself, needs the owned head
/// ([`Scenario::request_head`], built by [`ClientApp::request`](crate::subject::ClientApp::request)).
#[derive(Debug, Clone)]
pub struct Messages {
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
    /// [`Messages::request`] then [`Messages::early`], in one buffer: what the
    /// scripted client writes in one write (joined once for every run of the
    /// scenario, not in each run).
    pub request_early: Bytes,
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
        Messages::with_head(scenario, Arc::new(scenario.response_head()))
    }

    /// Makes these the messages of `scenario`, the response head refilled in
    /// place when nothing else holds it ([`Scenario::fill_response_head`]).
    pub(super) fn renew(&mut self, scenario: &Scenario) {
        match Arc::get_mut(&mut self.response_head) {
            Some(head) => scenario.fill_response_head(head),
            None => self.response_head = Arc::new(scenario.response_head()),
        }
        *self = Messages::with_head(scenario, Arc::clone(&self.response_head));
    }

    /// Every message of `scenario`, whose response head is `response_head`.
    fn with_head(scenario: &Scenario, response_head: Arc<ResponseHead>) -> Self {
        let request_body = scenario.request_body();
        let early = scenario.client_early();
        let (request_early, request_head_len) = scenario.request_message_of(&request_body, &early);
        let request = request_early.slice(..request_early.len() - early.len());
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
        let (response, response_head_end) = scenario.response_message();
        Messages {
            request_body,
            request,
            request_head_len,
            body,
            early,
            request_early,
            late: scenario.client_late(),
            response_head,
            response,
            response_head_end,
            first: scenario.server_first(),
        }
    }

    /// The final response head's bytes, [`Messages::response_head`] as it goes
    /// on the wire: a slice of [`Messages::response`], not a copy.
    pub fn final_head(&self) -> Bytes {
        let start = self.response_head_end - self.response_head.encoded_len();
        self.response.slice(start..self.response_head_end)
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

/// The bytes of a scenario, as each peer builds them.
impl Scenario {
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
        self.request_message_of(&self.request_body(), &[])
    }

    /// The request message with `body`, followed by `after`: the head written
    /// straight from the scenario ([`Scenario::put_request_head`]), into one
    /// buffer sized once. The second value is the length of the head.
    fn request_message_of(&self, body: &RequestBody, after: &[u8]) -> (Bytes, usize) {
        let head_len = self.request_head_len();
        let body_len = match body {
            RequestBody::Empty => 0,
            RequestBody::Length(bytes) => bytes.len(),
            RequestBody::Chunked(chunks) => encoded_chunked_len(chunks),
        };
        let mut out = BytesMut::with_capacity(head_len + body_len + after.len());
        self.put_request_head(&mut out);
        match body {
            RequestBody::Empty => {}
            RequestBody::Length(bytes) => out.put_slice(bytes),
            RequestBody::Chunked(chunks) => put_chunked(&mut out, chunks),
        }
        out.put_slice(after);
        (out.freeze(), head_len)
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

    /// The bytes the scripted server writes before any new-protocol byte: interim
    /// response, final head, and (for a refusal) its body. The second value is the
    /// length up to the end of the final head.
    ///
    /// The head is written straight from the scenario
    /// ([`Scenario::put_response_head`]), into one buffer sized once.
    pub fn response_message(&self) -> (Bytes, usize) {
        const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";
        let interim = if self.interim_continue { CONTINUE } else { b"" };
        let body = if self.accepted() {
            b"" as &[u8]
        } else {
            REFUSAL_BODY
        };
        let mut out =
            BytesMut::with_capacity(interim.len() + self.response_head_len() + body.len());
        out.put_slice(interim);
        self.put_response_head(&mut out);
        let head_end = out.len();
        out.put_slice(body);
        (out.freeze(), head_end)
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

    proptest::proptest! {
        /// What a scripted peer writes in one write is the message then the
        /// new-protocol bytes, and the message is the one built alone.
        #[test]
        fn the_joined_buffers_are_the_message_then_the_payload(s in super::super::scenario()) {
            let m = Messages::new(&s);
            let (request, head_len) = s.request_message();
            proptest::prop_assert_eq!(&m.request, &request);
            proptest::prop_assert_eq!(m.request_head_len, head_len);
            proptest::prop_assert_eq!(&m.request_early[..], &[&request[..], &m.early[..]].concat()[..]);
            let (response, head_end) = s.response_message();
            proptest::prop_assert_eq!(&m.response, &response);
            proptest::prop_assert_eq!(m.response_head_end, head_end);
            proptest::prop_assert_eq!(m.final_head(), m.response_head.to_bytes());
        }
    }
}
