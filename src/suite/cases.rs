//! The cases. Each function's doc comment quotes the requirement it checks and
//! names the bug it comes from; the body is the scenario that would show the bug.

use super::{Case, Level, Proto, Sides};
use crate::scenario::{
    Answer, AnswerWriter, Body, BodyRead, Cut, Fill, FirstWrite, Handshake, Landmark, Payload,
    Protocol, Scenario, ServerApp,
};

/// Every case function, in report order.
pub const ALL: &[fn() -> Case] = &[
    early_data_same_segment_1,
    early_data_same_segment_small,
    early_data_same_segment_4k,
    early_data_same_segment_64k,
    head_split,
    head_split_every_point,
    early_data_delayed,
    pipelined_http_after_upgrade,
    body_content_length,
    body_chunked,
    body_empty_chunked,
    expect_continue,
    server_first_coalesced,
    server_first_unflushed,
    nothing_after_hijack,
    connection_stays_open,
    client_fin_drains,
    server_fin_first,
    large_bidirectional,
    refused_upgrade,
    connect_tunnel,
    docker_raw_stream,
    // Black-box harness cases (runner14): refusal the RFC demands, and the
    // WebSocket hand-over with real frames.
    http10_upgrade_ignored,
    websocket_early_frames_small,
    websocket_early_frames_4k,
    websocket_early_frames_64k,
    websocket_early_frames_several,
    websocket_frame_split,
    websocket_close_after_data,
    websocket_server_frame_with_101,
    // Application choices (scenario16).
    body_never_read,
    body_read_in_part,
    empty_chunked_never_read,
    application_writes_101,
    expect_continue_client_waits,
    expect_continue_body_never_read,
];

const ALL_PROTOCOLS: &[Proto] = &[Proto::Echo, Proto::WebSocket, Proto::Docker, Proto::Connect];
const SERVER_PUSH: &[Proto] = &[Proto::Echo, Proto::Docker, Proto::Connect];
const UPGRADES: &[Proto] = &[Proto::Echo, Proto::WebSocket, Proto::Docker];

fn with_early(len: usize) -> Scenario {
    let mut s = Scenario::basic();
    s.client.early = Payload::noise(len, 1);
    s
}

/// RFC 9110 §7.8: the server switches "immediately after the empty line that
/// terminates the 101 (Switching Protocols) response", so a byte that arrived in
/// the same segment as the end of the request belongs to the new protocol.
///
/// One byte in the head's segment. Bug: Go handlers reading the `net.Conn` from
/// `Hijack()` and ignoring its `bufio.Reader` (moby/moby#30154).
pub fn early_data_same_segment_1() -> Case {
    Case {
        id: "handoff.early-data.same-segment.1",
        title: "one byte sent with the request head reaches the application",
        level: Level::Must,
        spec: "RFC 9110 §7.8",
        bug: "moby/moby#30154",
        sides: Sides::SERVER,
        protocols: SERVER_PUSH,
        scenario: with_early(1),
    }
}

/// RFC 9110 §7.8, as above: a few hundred bytes in the head's segment (Node's
/// `'upgrade'` `head` argument, ignored by http-party/node-http-proxy#473).
pub fn early_data_same_segment_small() -> Case {
    Case {
        id: "handoff.early-data.same-segment.small",
        title: "300 bytes sent with the request head reach the application",
        level: Level::Must,
        spec: "RFC 9110 §7.8",
        bug: "http-party/node-http-proxy#473",
        sides: Sides::SERVER,
        protocols: SERVER_PUSH,
        scenario: with_early(300),
    }
}

/// RFC 9110 §7.8, as above: more early bytes than Go's 4 KiB `bufio.Reader`
/// holds, so part of them is in the library's buffer and part still in the socket.
pub fn early_data_same_segment_4k() -> Case {
    Case {
        id: "handoff.early-data.same-segment.4k",
        title: "4500 bytes sent with the request head reach the application, in order",
        level: Level::Must,
        spec: "RFC 9110 §7.8",
        bug: "golang/go#80875",
        sides: Sides::SERVER,
        protocols: SERVER_PUSH,
        scenario: with_early(4500),
    }
}

/// RFC 9110 §7.8, as above: more early bytes than a 64 KiB read buffer.
pub fn early_data_same_segment_64k() -> Case {
    Case {
        id: "handoff.early-data.same-segment.64k",
        title: "70000 bytes sent with the request head reach the application, in order",
        level: Level::Must,
        spec: "RFC 9110 §7.8",
        bug: "",
        sides: Sides::SERVER,
        protocols: SERVER_PUSH,
        scenario: with_early(70_000),
    }
}

/// RFC 9112 §2.2: a recipient parses the message "as a sequence of octets";
/// segment boundaries carry no meaning. The head arrives in three segments, the
/// last of which also carries early bytes.
pub fn head_split() -> Case {
    let mut scenario = with_early(40);
    scenario.client_cuts = vec![
        Cut::At(Landmark::HeadEnd, -3),
        Cut::At(Landmark::HeadEnd, -1),
    ];
    Case {
        id: "handoff.head-split",
        title: "a head split inside its final CRLFCRLF, with early bytes after it",
        level: Level::Must,
        spec: "RFC 9112 §2.2",
        bug: "",
        sides: Sides::SERVER,
        protocols: SERVER_PUSH,
        scenario,
    }
}

/// RFC 9112 §2.2, as above, at every place a head parser keeps state: inside the
/// method, the request target, a header name and a header value, then before each
/// of the four bytes of the final CRLFCRLF, and right after it, so the early bytes
/// come alone. The same for the response head, which carries the server's first
/// bytes, for clients. A parser that looks for `\r\n\r\n` within one read, or
/// that resumes a split head by re-reading the connection and dropping what it had
/// buffered, loses bytes at one of these cuts.
pub fn head_split_every_point() -> Case {
    let mut scenario = with_early(40);
    scenario.server.first = Payload::noise(40, 18);
    scenario.server.first_write = FirstWrite::WithHead;
    let cuts = vec![
        Cut::Offset(2),
        Cut::Offset(9),
        Cut::Offset(18),
        Cut::Offset(26),
        Cut::At(Landmark::HeadEnd, -4),
        Cut::At(Landmark::HeadEnd, -3),
        Cut::At(Landmark::HeadEnd, -2),
        Cut::At(Landmark::HeadEnd, -1),
        Cut::At(Landmark::HeadEnd, 0),
    ];
    scenario.client_cuts = cuts.clone();
    scenario.server_cuts = cuts;
    Case {
        id: "handoff.head-split.every-point",
        title: "heads split at every parser state, early bytes in a segment of their own",
        level: Level::Must,
        spec: "RFC 9112 §2.2",
        bug: "",
        sides: Sides::BOTH,
        protocols: SERVER_PUSH,
        scenario,
    }
}

/// RFC 9110 §7.8, as above: early bytes in their own segment, arriving while the
/// server is answering. A background read started to notice the client going
/// away must hand its byte over (golang/go#18535).
pub fn early_data_delayed() -> Case {
    let mut scenario = with_early(16);
    scenario.client_cuts = vec![
        Cut::At(Landmark::MessageEnd, 0),
        Cut::At(Landmark::EarlyEnd, 0),
    ];
    Case {
        id: "handoff.early-data.delayed",
        title: "early bytes in a segment of their own reach the application",
        level: Level::Must,
        spec: "RFC 9110 §7.8",
        bug: "golang/go#18535",
        sides: Sides::SERVER,
        protocols: SERVER_PUSH,
        scenario,
    }
}

/// RFC 9110 §7.8, as above: after the switch, bytes that look like an HTTP request
/// are new-protocol data, not a pipelined request.
pub fn pipelined_http_after_upgrade() -> Case {
    let mut scenario = Scenario::basic();
    scenario.client.early = Payload {
        len: 90,
        fill: Fill::HttpLike,
    };
    scenario.client.late = Payload {
        len: 60,
        fill: Fill::HttpLike,
    };
    Case {
        id: "handoff.pipelined-http-after-upgrade",
        title: "bytes that look like HTTP after the upgrade reach the application",
        level: Level::Must,
        spec: "RFC 9110 §7.8",
        bug: "",
        sides: Sides::BOTH,
        protocols: SERVER_PUSH,
        scenario,
    }
}

fn with_body(body: Body) -> Scenario {
    let mut scenario = with_early(24);
    scenario.body = body;
    scenario
}

/// RFC 9112 §6.3: the body's length is given by `Content-Length`; the new
/// protocol starts after the whole request message, body included.
pub fn body_content_length() -> Case {
    Case {
        id: "handoff.body.content-length",
        title: "a Content-Length body is consumed before the hand-over",
        level: Level::Must,
        spec: "RFC 9112 §6.3",
        bug: "",
        sides: Sides::BOTH,
        protocols: UPGRADES,
        scenario: with_body(Body::Length(Payload::noise(100, 2))),
    }
}

/// RFC 9112 §7.1: a chunked body ends with the last chunk and the trailer
/// section; the new protocol starts after it.
pub fn body_chunked() -> Case {
    Case {
        id: "handoff.body.chunked",
        title: "a chunked body is consumed before the hand-over",
        level: Level::Must,
        spec: "RFC 9112 §7.1",
        bug: "",
        sides: Sides::BOTH,
        protocols: UPGRADES,
        scenario: with_body(Body::Chunked(vec![
            Payload::noise(50, 3),
            Payload::noise(10, 4),
        ])),
    }
}

/// RFC 9112 §7.1, as above, for an empty chunked body: its `0\r\n\r\n` is HTTP,
/// not new-protocol data (kubernetes/kubernetes#117722).
pub fn body_empty_chunked() -> Case {
    Case {
        id: "handoff.body.empty-chunked",
        title: "an empty chunked body's 0\\r\\n\\r\\n is consumed before the hand-over",
        level: Level::Must,
        spec: "RFC 9112 §7.1",
        bug: "kubernetes/kubernetes#117722",
        sides: Sides::BOTH,
        protocols: UPGRADES,
        scenario: with_body(Body::Chunked(Vec::new())),
    }
}

/// RFC 9110 §7.8: "If a server receives both an Upgrade and an Expect header
/// field with the "100-continue" expectation (Section 10.1.1), the server MUST
/// send a 100 (Continue) response before sending a 101 (Switching Protocols)
/// response." The client must skip the 100 and hand over after the 101.
pub fn expect_continue() -> Case {
    let mut scenario = with_body(Body::Length(Payload::noise(20, 5)));
    scenario.expect_continue = true;
    scenario.interim_continue = true;
    scenario.server.first = Payload::noise(8, 6);
    scenario.server.first_write = FirstWrite::WithHead;
    Case {
        id: "handoff.expect-continue",
        title: "100 Continue, then 101: both sides hand over after the 101",
        level: Level::Must,
        spec: "RFC 9110 §7.8",
        bug: "",
        sides: Sides::BOTH,
        protocols: UPGRADES,
        scenario,
    }
}

/// RFC 9110 §7.8, as above, seen from the client: the server may send its first
/// frame in the same segment as the 101, and a client that reads past the head
/// must hand those bytes over (rancher-sandbox/rancher-desktop#8311).
pub fn server_first_coalesced() -> Case {
    let mut scenario = Scenario::basic();
    scenario.server.first = Payload::noise(64, 7);
    scenario.server.first_write = FirstWrite::WithHead;
    scenario.client.late = Payload::noise(16, 8);
    Case {
        id: "handoff.server-speaks-first",
        title: "the server's first bytes, in the 101's segment, reach the client application",
        level: Level::Must,
        spec: "RFC 9110 §7.8",
        bug: "rancher-sandbox/rancher-desktop#8311",
        sides: Sides::BOTH,
        protocols: ALL_PROTOCOLS,
        scenario,
    }
}

/// Go's `http.Hijacker`: "The returned bufio.Reader may contain unprocessed
/// buffered data from the client"; likewise its `bufio.Writer` may hold unflushed
/// bytes. Bytes written before the hijack go on the wire before later ones.
pub fn server_first_unflushed() -> Case {
    let mut scenario = with_early(10);
    scenario.server.first = Payload::noise(32, 9);
    scenario.server.first_write = FirstWrite::Unflushed;
    Case {
        id: "handoff.unflushed-write",
        title: "bytes written before the hijack, unflushed, precede everything after",
        level: Level::Must,
        spec: "Go net/http Hijacker",
        bug: "",
        sides: Sides::SERVER,
        protocols: SERVER_PUSH,
        scenario,
    }
}

/// RFC 9110 §7.8, as above: after the switch the connection belongs to the new
/// protocol; the library writes nothing more (no chunk terminator, no error page).
pub fn nothing_after_hijack() -> Case {
    let mut scenario = with_early(5);
    scenario.client.late = Payload::noise(5, 10);
    Case {
        id: "ownership.nothing-after-hijack",
        title: "the library writes nothing after the hand-over",
        level: Level::Must,
        spec: "RFC 9110 §7.8",
        bug: "",
        sides: Sides::BOTH,
        protocols: ALL_PROTOCOLS,
        scenario,
    }
}

/// RFC 9110 §7.8, as above: the library does not close a connection it handed
/// over, even when its handler returned. The client never closes here.
pub fn connection_stays_open() -> Case {
    let mut scenario = with_early(8);
    scenario.client.half_close = false;
    Case {
        id: "ownership.connection-stays-open",
        title: "the library does not close or shut down a connection it handed over",
        level: Level::Must,
        spec: "RFC 9110 §7.8",
        bug: "",
        sides: Sides::BOTH,
        protocols: ALL_PROTOCOLS,
        scenario,
    }
}

/// Invariant point 5 (half-close): the application owns the hijacked stream, so a
/// FIN from the client ends only the client's direction; every byte before it is
/// delivered, then EOF, and the echo still flows back. The client half-closes
/// with bytes in flight.
///
/// For the hijacking library itself this is a MUST. Through an intermediary it
/// is a SHOULD: RFC 9110 §9.3.6 lets a tunnel end both ways on one side's close,
/// "the intermediary MUST attempt to send any outstanding data that came from
/// the closed side to the other side, close both connections, and then discard
/// any remaining data left undelivered" (Docker's stdin EOF needs it kept open).
pub fn client_fin_drains() -> Case {
    let mut scenario = with_early(200);
    scenario.client.late = Payload::noise(300, 11);
    Case {
        id: "halfclose.client-fin-drains",
        title: "after the client's FIN, every byte before it is delivered, then EOF",
        level: Level::Must,
        spec: "invariant point 5; RFC 9110 §9.3.6 for tunnels",
        bug: "",
        sides: Sides::BOTH,
        protocols: ALL_PROTOCOLS,
        scenario,
    }
}

/// Docker ends stdin by shutting down the write half; on the buffered path
/// (read-ahead not empty) the FIN must still be sent, and reading must go on
/// (moby/moby#36516).
pub fn server_fin_first() -> Case {
    let mut scenario = with_early(12);
    scenario.client.late = Payload::noise(12, 12);
    scenario.server.app = ServerApp::CloseWriteFirst;
    scenario.server.first = Payload::noise(6, 13);
    Case {
        id: "halfclose.server-fin-first",
        title: "the server half-closes on the buffered path: FIN sent, reading goes on",
        level: Level::Must,
        spec: "RFC 9112 §9.6",
        bug: "moby/moby#36516",
        sides: Sides::SERVER,
        protocols: &[Proto::Docker],
        scenario,
    }
}

/// RFC 9110 §7.8, as above, under load: large transfers both ways at once must
/// not deadlock or lose bytes.
pub fn large_bidirectional() -> Case {
    let mut scenario = with_early(70_000);
    scenario.client.late = Payload::noise(70_000, 14);
    scenario.server.first = Payload::noise(70_000, 15);
    scenario.server.first_write = FirstWrite::WithHead;
    Case {
        id: "transfer.large-bidirectional",
        title: "70 kB each way at once, no deadlock, nothing lost",
        level: Level::Must,
        spec: "RFC 9110 §7.8",
        bug: "",
        sides: Sides::BOTH,
        protocols: ALL_PROTOCOLS,
        scenario,
    }
}

/// RFC 9110 §7.8: "A server MAY ignore a received Upgrade header field if it
/// wishes to continue using the current protocol on that connection." Without a
/// 101 nothing switches: the bytes after the request are the next request
/// (websocket-smuggle).
pub fn refused_upgrade() -> Case {
    let mut scenario = Scenario::basic();
    scenario.answer = Answer::Refuse(426);
    Case {
        id: "refused.no-hand-over",
        title: "a refused upgrade hands nothing over; the next request is served as HTTP",
        level: Level::Must,
        spec: "RFC 9110 §7.8",
        bug: "websocket-smuggle",
        sides: Sides::BOTH,
        protocols: UPGRADES,
        scenario,
    }
}

/// RFC 9110 §9.3.6: "Any 2xx (Successful) response indicates that the sender (and
/// all inbound proxies) will switch to tunnel mode immediately after the response
/// header section; data received after that header section is from the server
/// identified by the request target."
pub fn connect_tunnel() -> Case {
    let mut scenario = with_early(64);
    scenario.handshake = Handshake::Connect;
    scenario.client.late = Payload::noise(64, 16);
    Case {
        id: "connect.tunnel-early-data",
        title: "a CONNECT tunnel carries the bytes sent with the request",
        level: Level::Must,
        spec: "RFC 9110 §9.3.6",
        bug: "",
        sides: Sides::BOTH,
        protocols: &[Proto::Connect],
        scenario,
    }
}

/// Docker Engine API (older versions): attach answers `200 OK` with
/// `Content-Type: application/vnd.docker.raw-stream` and then streams raw bytes;
/// the client hijacks explicitly after that head.
pub fn docker_raw_stream() -> Case {
    let mut scenario = with_early(20);
    scenario.handshake = Handshake::Explicit;
    scenario.server.first = Payload::noise(20, 17);
    scenario.server.first_write = FirstWrite::WithHead;
    Case {
        id: "explicit.docker-raw-stream",
        title: "an explicit hijack after 200 raw-stream keeps every byte",
        level: Level::Should,
        spec: "Docker Engine API, attach",
        bug: "",
        sides: Sides::BOTH,
        protocols: &[Proto::Docker],
        scenario,
    }
}

// --- Black-box harness cases (runner14): append-only, kept together. ---

/// RFC 9110 §7.8: "A server that receives an Upgrade header field
/// in an HTTP/1.0 request MUST ignore that Upgrade field." The black-box client sends its upgrade (with the
/// target's own token) as HTTP/1.0, and the pipelined request after it: no 101,
/// and the next request is never echoed raw. It also sends the head alone, on a
/// connection of its own: a server that closes a connection holding unread bytes
/// is never seen answering the first, and a 101 to either fails the case.
/// Over the in-memory wire (where every
/// request is HTTP/1.1) the same case is a refused upgrade answered `200`.
pub fn http10_upgrade_ignored() -> Case {
    let mut scenario = Scenario::basic();
    scenario.answer = Answer::Refuse(200);
    Case {
        id: "refused.http10-upgrade-ignored",
        title: "an upgrade in an HTTP/1.0 request is ignored: no 101, nothing handed over",
        level: Level::Must,
        spec: "RFC 9110 §7.8",
        bug: "websocket-smuggle",
        sides: Sides::SERVER,
        protocols: UPGRADES,
        scenario,
    }
}

fn websocket_early(len: usize) -> Scenario {
    let mut scenario = with_early(len);
    scenario.handshake = Handshake::Upgrade(crate::scenario::Protocol::WebSocket);
    scenario
}

/// RFC 6455 §6.2: "To receive WebSocket data, an endpoint listens on the
/// underlying network connection. Incoming data MUST be parsed as WebSocket
/// frames as defined in Section 5.2." A frame that arrived in the handshake's
/// segment is incoming data of the connection. But RFC 6455 §4.1 has clients
/// wait: "Once the client's opening handshake has been sent, the client MUST wait
/// for a response from the server before sending any further data", so for
/// servers this is a SHOULD. One small frame.
pub fn websocket_early_frames_small() -> Case {
    Case {
        id: "websocket.early-frames.small",
        title: "a small frame sent with the handshake is echoed",
        level: Level::Should,
        spec: "RFC 6455 §6.2, §4.1",
        bug: "",
        sides: Sides::SERVER,
        protocols: &[Proto::WebSocket],
        scenario: websocket_early(120),
    }
}

/// RFC 6455 §6.2, as above, beyond the 4 KiB a library's first read often takes:
/// part of the frame is in the library's buffer, part still in the socket.
pub fn websocket_early_frames_4k() -> Case {
    Case {
        id: "websocket.early-frames.4k",
        title: "a 4500-byte frame sent with the handshake is echoed",
        level: Level::Should,
        spec: "RFC 6455 §6.2, §4.1",
        bug: "",
        sides: Sides::SERVER,
        protocols: &[Proto::WebSocket],
        scenario: websocket_early(4500),
    }
}

/// RFC 6455 §6.2, as above, beyond a 64 KiB read buffer (several frames of
/// at most 16 KiB).
pub fn websocket_early_frames_64k() -> Case {
    Case {
        id: "websocket.early-frames.64k",
        title: "70000 bytes of frames sent with the handshake are echoed, in order",
        level: Level::Should,
        spec: "RFC 6455 §6.2, §4.1",
        bug: "",
        sides: Sides::SERVER,
        protocols: &[Proto::WebSocket],
        scenario: websocket_early(70_000),
    }
}

/// RFC 6455 §6.2, as above: several small frames in the handshake's segment; a
/// library that hands over only the first frame of its read-ahead loses the rest.
pub fn websocket_early_frames_several() -> Case {
    Case {
        id: "websocket.early-frames.several",
        title: "several small frames sent with the handshake are all echoed, in order",
        level: Level::Should,
        spec: "RFC 6455 §6.2, §4.1",
        bug: "",
        sides: Sides::SERVER,
        protocols: &[Proto::WebSocket],
        scenario: websocket_early(500),
    }
}

/// RFC 6455 §6.2: "Incoming data MUST be parsed as WebSocket frames as defined in
/// Section 5.2": segment boundaries carry no meaning. After the 101, one frame
/// arrives in four segments: inside its 2-byte header, inside its masking key,
/// and inside its payload.
pub fn websocket_frame_split() -> Case {
    let mut scenario = Scenario::basic();
    scenario.handshake = Handshake::Upgrade(crate::scenario::Protocol::WebSocket);
    scenario.client.late = Payload::noise(300, 19);
    scenario.client_cuts = vec![
        Cut::At(Landmark::EarlyEnd, 1),
        Cut::At(Landmark::EarlyEnd, 6),
        Cut::At(Landmark::EarlyEnd, 100),
    ];
    Case {
        id: "websocket.frame-split",
        title: "a frame split across segments (header, mask, payload) is echoed",
        level: Level::Must,
        spec: "RFC 6455 §6.2",
        bug: "",
        sides: Sides::SERVER,
        protocols: &[Proto::WebSocket],
        scenario,
    }
}

/// RFC 6455 §5.5.1: "After sending a Close frame, the endpoint MUST NOT send any
/// more data frames", and an endpoint "MAY delay sending a Close frame until its
/// current message is sent". The client sends data and its Close frame at once;
/// every message it sent before the Close is echoed before the server's Close.
/// Echoing them is the echo contract, not an RFC 6455 MUST (a server may answer
/// the Close first), so this is a SHOULD.
pub fn websocket_close_after_data() -> Case {
    let mut scenario = Scenario::basic();
    scenario.handshake = Handshake::Upgrade(crate::scenario::Protocol::WebSocket);
    scenario.client.late = Payload::noise(200, 20);
    Case {
        id: "websocket.close-after-data",
        title: "data then a Close frame at once: every message is echoed before the Close",
        level: Level::Should,
        spec: "RFC 6455 §5.5.1",
        bug: "",
        sides: Sides::SERVER,
        protocols: &[Proto::WebSocket],
        scenario,
    }
}

/// RFC 6455 §4.1: once the client has validated the server's handshake, "the
/// WebSocket Connection is established", and §6.2 "Incoming data MUST be parsed
/// as WebSocket frames": a server frame that arrives in the 101's segment is the
/// first frame of the connection, and a client MUST deliver it (a client library
/// that reads past the head and drops its read-ahead loses it).
pub fn websocket_server_frame_with_101() -> Case {
    let mut scenario = Scenario::basic();
    scenario.handshake = Handshake::Upgrade(crate::scenario::Protocol::WebSocket);
    scenario.server.first = Payload::noise(40, 21);
    scenario.server.first_write = FirstWrite::WithHead;
    Case {
        id: "websocket.server-frame-with-101",
        title: "a server frame in the 101's segment reaches the client application",
        level: Level::Must,
        spec: "RFC 6455 §4.1, §6.2",
        bug: "rancher-sandbox/rancher-desktop#8311",
        sides: Sides::CLIENT,
        protocols: &[Proto::WebSocket],
        scenario,
    }
}

// --- Application choices (scenario16): the body the handler leaves, the answer it writes. ---

/// An upgrade request with a body the server application does not read:
/// `body` framed as given, `read` of it read, its last bytes in a later segment
/// (where a library that hands over with the body unread leaks them).
fn with_unread_body(body: Body, read: BodyRead) -> Scenario {
    let mut scenario = with_body(body);
    scenario.server.body_read = read;
    scenario.client_cuts = vec![Cut::At(Landmark::MessageEnd, -3)];
    scenario.normalized()
}

/// RFC 9110 §7.8: "A client cannot begin using an upgraded protocol on the
/// connection until it has completely sent the request message (i.e., the client
/// can't change the protocol it is sending in the middle of a message)." So the
/// new protocol starts after the body even when the server's handler never reads
/// it (a WebSocket or CONNECT handler): the library discards it first, or refuses
/// to hand over. Its last 3 bytes come in a segment of their own.
pub fn body_never_read() -> Case {
    Case {
        id: "handoff.body.never-read",
        title: "a body the handler never reads is not handed to the new protocol",
        level: Level::Must,
        spec: "RFC 9110 §7.8",
        bug: "nodejs/node#58394",
        sides: Sides::SERVER,
        protocols: UPGRADES,
        scenario: with_unread_body(Body::Length(Payload::noise(40, 19)), BodyRead::Nothing),
    }
}

/// RFC 9110 §7.8, as above, for a chunked body the handler reads the first
/// 5 bytes of: the rest of the chunks and the last chunk are still HTTP.
pub fn body_read_in_part() -> Case {
    Case {
        id: "handoff.body.read-in-part",
        title: "the rest of a chunked body read in part is not handed to the new protocol",
        level: Level::Must,
        spec: "RFC 9110 §7.8",
        bug: "nodejs/node#58394",
        sides: Sides::SERVER,
        protocols: UPGRADES,
        scenario: with_unread_body(
            Body::Chunked(vec![
                Payload::noise(12, 20),
                Payload::noise(9, 21),
                Payload::noise(7, 22),
            ]),
            BodyRead::Part(5),
        ),
    }
}

/// RFC 9112 §7.1: "The chunked transfer coding is complete when a chunk with a
/// chunk-size of zero is received": the last chunk `0\r\n\r\n` of an empty
/// chunked body is part of the request message, even when the handler never
/// reads the body (kubernetes/kubernetes#117722 left it to the new protocol).
pub fn empty_chunked_never_read() -> Case {
    Case {
        id: "handoff.body.empty-chunked-never-read",
        title: "an empty chunked body the handler never reads is not handed to the new protocol",
        level: Level::Must,
        spec: "RFC 9112 §7.1",
        bug: "kubernetes/kubernetes#117722",
        sides: Sides::SERVER,
        protocols: UPGRADES,
        scenario: with_unread_body(Body::Chunked(Vec::new()), BodyRead::Nothing),
    }
}

/// Go's `http.Hijacker`: "After a call to Hijack, the HTTP server library will not
/// do anything else with the connection." Docker's daemon hijacks in its attach
/// handler, before any answer, and writes `HTTP/1.1 101 UPGRADED` itself on the
/// raw connection; the request's chunked body, never read, must not reach it, and
/// the library writes nothing of its own.
pub fn application_writes_101() -> Case {
    let mut scenario = with_body(Body::Chunked(vec![Payload::noise(16, 23)]));
    scenario.handshake = Handshake::Upgrade(Protocol::Tcp);
    scenario.server.body_read = BodyRead::Nothing;
    scenario.server.writer = AnswerWriter::Application;
    scenario.server.first = Payload::noise(12, 24);
    scenario.client.late = Payload::noise(12, 25);
    Case {
        id: "explicit.application-writes-101",
        title: "the application hijacks before answering and writes the 101 itself",
        level: Level::Must,
        spec: "Go net/http Hijacker",
        bug: "",
        sides: Sides::SERVER,
        protocols: &[Proto::Echo, Proto::Docker],
        scenario: scenario.normalized(),
    }
}

/// RFC 9110 §10.1.1: an origin server "MUST NOT wait for the content before
/// sending the 100 (Continue) response". The client sends the head alone and
/// waits for the 100 before its body, as curl and Apache's mod_proxy do; a server
/// that sends the 100 only after reading the body waits for it forever (the
/// black-box client waits a bounded time, then sends the body and says so).
pub fn expect_continue_client_waits() -> Case {
    let mut scenario = with_body(Body::Length(Payload::noise(20, 26)));
    scenario.expect_continue = true;
    scenario.client.waits_for_continue = true;
    Case {
        id: "expect-continue.client-waits",
        title: "a client that waits for 100 Continue before its body gets it",
        level: Level::Must,
        spec: "RFC 9110 §10.1.1",
        bug: "",
        sides: Sides::SERVER,
        protocols: UPGRADES,
        scenario: scenario.normalized(),
    }
}

/// RFC 9110 §7.8: "If a server receives both an Upgrade and an Expect header
/// field with the "100-continue" expectation (Section 10.1.1), the server MUST
/// send a 100 (Continue) response before sending a 101 (Switching Protocols)
/// response." Also when the handler never reads the body: the client that waits
/// for the 100 sends the body only then, and it must not reach the new protocol.
pub fn expect_continue_body_never_read() -> Case {
    let mut scenario = with_body(Body::Length(Payload::noise(20, 27)));
    scenario.expect_continue = true;
    scenario.client.waits_for_continue = true;
    scenario.server.body_read = BodyRead::Nothing;
    Case {
        id: "expect-continue.body-never-read",
        title: "100 Continue before the 101 when the handler never reads the body",
        level: Level::Must,
        spec: "RFC 9110 §7.8",
        bug: "",
        sides: Sides::SERVER,
        protocols: UPGRADES,
        scenario: scenario.normalized(),
    }
}
