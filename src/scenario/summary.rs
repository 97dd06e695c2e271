//! A scenario in words: what a person needs to know about a counterexample
//! before reading its trace.
//!
//! A [`Scenario`] has a dozen fields, and its `Debug` dump is 35 lines of which
//! most say "the plainest choice". [`describe`] says only what matters: the
//! handshake and the cuts always (the two things every reader asks first), then
//! one line for each choice that differs from [`Scenario::basic`], the plain
//! upgrade with nothing unusual about it:
//!
//! ```text
//! upgrade `echo`
//! 1 byte of early data, in the head's segment
//! server read size 1
//! no cuts
//! ```
//!
//! The full dump stays one `{:#?}` away; this is the part that fits in a glance.
//!
//! # Adding a field
//!
//! Each clause below is one small function over the fields it describes, listed
//! once in `CLAUSES`: a new scenario field is one more function and one more
//! line there, saying nothing when the field has its plain value. [`describe`]
//! names every field without `..`, so a new field does not compile until it is
//! named there; the test `each_choice_adds_one_line` then needs a row for it
//! (its `FIELDS` list is checked against the rows).

use super::{
    Answer, AnswerWriter, Body, BodyRead, ClientScript, Cut, Fill, FirstWrite, Handshake, Landmark,
    Payload, Scenario, ServerApp, ServerScript,
};

/// The plain read size of [`Scenario::basic`]; any other is worth a line.
const PLAIN_READ: usize = 4096;

/// Every clause, in the order a reader meets the exchange: request, answer,
/// client, server, wire. Each gives a line, or nothing when its part is plain.
const CLAUSES: &[fn(&Scenario) -> Option<String>] = &[
    handshake,
    request_headers,
    body,
    expect_continue,
    answer,
    interim_continue,
    response_headers,
    client_early,
    client_late,
    client_half_close,
    client_read_chunk,
    client_waits_for_continue,
    client_optimistic,
    server_body_read,
    server_writer,
    server_first,
    server_app,
    server_read_chunk,
    cuts,
];

/// The scenario in words, one line per choice that matters (see the module docs).
pub fn describe(scenario: &Scenario) -> Vec<String> {
    // No `..`: a field added to the scenario is a compile error here until it is
    // named, and naming it is the moment to give it a clause in `CLAUSES` and a
    // row (and a `FIELDS` entry) in the test `each_choice_adds_one_line`.
    let Scenario {
        handshake: _,
        request_headers: _,
        body: _,
        expect_continue: _,
        answer: _,
        interim_continue: _,
        response_headers: _,
        client:
            ClientScript {
                early: _,
                late: _,
                half_close: _,
                read_chunk: _,
                waits_for_continue: _,
                optimistic: _,
            },
        server:
            ServerScript {
                first: _,
                first_write: _,
                app: _,
                read_chunk: _,
                body_read: _,
                writer: _,
            },
        client_cuts: _,
        server_cuts: _,
    } = scenario;
    CLAUSES
        .iter()
        .filter_map(|clause| clause(scenario))
        .collect()
}

/// `1 byte`, `12 bytes`.
fn bytes(n: usize) -> String {
    if n == 1 {
        "1 byte".into()
    } else {
        format!("{n} bytes")
    }
}

/// What a payload's bytes look like, when that is worth saying.
fn looks(payload: &Payload) -> &'static str {
    match payload.fill {
        Fill::HttpLike => " that look like HTTP requests",
        Fill::Noise(_) => "",
    }
}

fn handshake(s: &Scenario) -> Option<String> {
    Some(match s.handshake {
        Handshake::Upgrade(protocol) => format!("upgrade `{}`", protocol.token()),
        Handshake::Connect => "`CONNECT` tunnel".into(),
        Handshake::Explicit => {
            "explicit hijack after `200 OK` (Docker's raw stream, Go's `Hijack()`)".into()
        }
    })
}

fn header_names(headers: &[(String, String)]) -> String {
    headers
        .iter()
        .map(|(name, _)| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn request_headers(s: &Scenario) -> Option<String> {
    (!s.request_headers.is_empty()).then(|| {
        format!(
            "extra request headers: {}",
            header_names(&s.request_headers)
        )
    })
}

fn body(s: &Scenario) -> Option<String> {
    match &s.body {
        Body::None => None,
        Body::Length(p) => Some(format!(
            "request body of {}{} (`Content-Length`)",
            bytes(p.len),
            looks(p)
        )),
        Body::Chunked(chunks) if chunks.is_empty() => {
            Some("empty chunked request body (`0\\r\\n\\r\\n`)".into())
        }
        Body::Chunked(chunks) => {
            let sizes: Vec<String> = chunks.iter().map(|c| c.len.to_string()).collect();
            Some(format!(
                "chunked request body: {} chunk{} of {} bytes",
                chunks.len(),
                if chunks.len() == 1 { "" } else { "s" },
                sizes.join(", ")
            ))
        }
    }
}

fn expect_continue(s: &Scenario) -> Option<String> {
    s.expect_continue
        .then(|| "`Expect: 100-continue` (answered by `100 Continue`)".into())
}

fn answer(s: &Scenario) -> Option<String> {
    match s.answer {
        Answer::Accept => None,
        Answer::Refuse(status) => Some(format!(
            "the server refuses with `{status}`: what follows the request is the next request"
        )),
    }
}

fn interim_continue(s: &Scenario) -> Option<String> {
    // With `Expect: 100-continue` the interim answer is implied (see `normalized`).
    (s.interim_continue && !s.expect_continue).then(|| "a `100 Continue` before the answer".into())
}

fn response_headers(s: &Scenario) -> Option<String> {
    (!s.response_headers.is_empty()).then(|| {
        format!(
            "extra response headers: {}",
            header_names(&s.response_headers)
        )
    })
}

/// Early and late bytes, and the server's first bytes, only travel when the
/// server accepts: a refusal replaces them (see `Scenario::client_early`).
fn sent(s: &Scenario, payload: &Payload) -> bool {
    s.accepted() && payload.len > 0
}

fn client_early(s: &Scenario) -> Option<String> {
    sent(s, &s.client.early).then(|| {
        // Without cuts, everything the client writes before the answer coalesces
        // into the segment that ends the request: the library's read-ahead.
        let segment = match (s.client_cuts.is_empty(), &s.body) {
            (false, _) => "",
            (true, Body::None) => ", in the head's segment",
            (true, _) => ", in the segment that ends the body",
        };
        format!(
            "{} of early data{}{segment}",
            bytes(s.client.early.len),
            looks(&s.client.early)
        )
    })
}

fn client_late(s: &Scenario) -> Option<String> {
    sent(s, &s.client.late).then(|| {
        format!(
            "{}{} from the client after the answer",
            bytes(s.client.late.len),
            looks(&s.client.late)
        )
    })
}

fn client_half_close(s: &Scenario) -> Option<String> {
    (!s.client.half_close).then(|| "the client never shuts down its write half".into())
}

fn client_read_chunk(s: &Scenario) -> Option<String> {
    (s.client.read_chunk != PLAIN_READ).then(|| format!("client read size {}", s.client.read_chunk))
}

fn client_waits_for_continue(s: &Scenario) -> Option<String> {
    s.client.waits_for_continue.then(|| {
        "the client sends the head alone and waits for the first answer before the body and early bytes"
            .into()
    })
}

fn client_optimistic(s: &Scenario) -> Option<String> {
    s.client.optimistic.then(|| {
        "the client app writes its early bytes before the answer arrives (optimistic upgrade)"
            .into()
    })
}

fn server_body_read(s: &Scenario) -> Option<String> {
    match s.server.body_read {
        BodyRead::All => None,
        BodyRead::Part(n) => Some(format!(
            "the server app reads only the first {} of the request body before it answers",
            bytes(n.into())
        )),
        BodyRead::Nothing => {
            Some("the server app reads none of the request body before it answers".into())
        }
    }
}

fn server_writer(s: &Scenario) -> Option<String> {
    match s.server.writer {
        AnswerWriter::Library => None,
        AnswerWriter::Application => Some(
            "the server app hijacks before any answer and writes the answer itself (Go's `Hijack()` then a raw `101`, as Docker's daemon does)"
                .into(),
        ),
    }
}

fn server_first(s: &Scenario) -> Option<String> {
    let when = match s.server.first_write {
        FirstWrite::AfterHijack => "through the hijacked stream",
        FirstWrite::WithHead => "with the response head, flushed together",
        FirstWrite::Unflushed => "into the library's buffer, unflushed at the hijack",
    };
    let plain = s.server.first_write == FirstWrite::AfterHijack;
    if sent(s, &s.server.first) {
        Some(format!(
            "the server app writes {}{} first, {when}",
            bytes(s.server.first.len),
            looks(&s.server.first)
        ))
    } else if !plain && s.accepted() {
        Some(format!("the server app's (empty) first write goes {when}"))
    } else {
        None
    }
}

fn server_app(s: &Scenario) -> Option<String> {
    match s.server.app {
        ServerApp::Echo => None,
        ServerApp::CloseWriteFirst => {
            Some("the server app shuts down its write half first, then reads".into())
        }
    }
}

fn server_read_chunk(s: &Scenario) -> Option<String> {
    (s.server.read_chunk != PLAIN_READ).then(|| format!("server read size {}", s.server.read_chunk))
}

/// Where a cut falls, in the words of its landmark.
fn cut(cut: &Cut) -> String {
    match *cut {
        Cut::At(landmark, delta) => {
            let place = match landmark {
                Landmark::HeadEnd => "the end of the head",
                Landmark::MessageEnd => "the end of the message",
                Landmark::EarlyEnd => "the end of the early bytes",
            };
            match delta {
                0 => place.to_string(),
                d if d < 0 => format!("{} before {place}", bytes(d.unsigned_abs().into())),
                d => format!("{} after {place}", bytes(d.unsigned_abs().into())),
            }
        }
        Cut::Offset(n) => format!("offset {n} (modulo the stream's length)"),
    }
}

fn cuts(s: &Scenario) -> Option<String> {
    let side = |name: &str, cuts: &[Cut]| {
        (!cuts.is_empty()).then(|| {
            let places: Vec<String> = cuts.iter().map(cut).collect();
            format!("{name} cut at {}", places.join("; "))
        })
    };
    let lines: Vec<String> = [side("c>s", &s.client_cuts), side("s>c", &s.server_cuts)]
        .into_iter()
        .flatten()
        .collect();
    Some(if lines.is_empty() {
        "no cuts".into()
    } else {
        lines.join("; ")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Protocol;

    /// Every field [`describe`] names, in its order: `each_choice_adds_one_line`
    /// needs a row for each.
    const FIELDS: &[&str] = &[
        "handshake",
        "request_headers",
        "body",
        "expect_continue",
        "answer",
        "interim_continue",
        "response_headers",
        "client.early",
        "client.late",
        "client.half_close",
        "client.read_chunk",
        "client.waits_for_continue",
        "client.optimistic",
        "server.first",
        "server.first_write",
        "server.app",
        "server.read_chunk",
        "server.body_read",
        "server.writer",
        "client_cuts",
        "server_cuts",
    ];

    #[test]
    fn the_plain_case_is_two_lines() {
        assert_eq!(describe(&Scenario::basic()), ["upgrade `echo`", "no cuts"]);
    }

    #[test]
    fn the_issue_example_reads_as_written() {
        let mut s = Scenario::basic();
        s.client.early = Payload::noise(1, 0);
        s.server.read_chunk = 1;
        assert_eq!(
            describe(&s),
            [
                "upgrade `echo`",
                "1 byte of early data, in the head's segment",
                "server read size 1",
                "no cuts"
            ]
        );
    }

    /// Every field the summary knows, changed alone from the plain case, adds
    /// exactly one line (or, for the handshake and the cuts, changes theirs): a
    /// clause that forgets its field fails here.
    #[test]
    fn each_choice_adds_one_line() {
        type Change = fn(&mut Scenario);
        let changes: &[(&str, Change, &str)] = &[
            (
                "handshake",
                |s| s.handshake = Handshake::Connect,
                "`CONNECT` tunnel",
            ),
            (
                "handshake",
                |s| s.handshake = Handshake::Upgrade(Protocol::Tcp),
                "upgrade `tcp`",
            ),
            (
                "request_headers",
                |s| s.request_headers = vec![("X-a".into(), "1".into())],
                "extra request headers: `X-a`",
            ),
            (
                "body",
                |s| s.body = Body::Length(Payload::noise(5, 1)),
                "request body of 5 bytes (`Content-Length`)",
            ),
            (
                "body",
                |s| s.body = Body::Chunked(vec![]),
                "empty chunked request body (`0\\r\\n\\r\\n`)",
            ),
            (
                "body",
                |s| s.body = Body::Chunked(vec![Payload::noise(2, 1), Payload::noise(3, 1)]),
                "chunked request body: 2 chunks of 2, 3 bytes",
            ),
            (
                "expect_continue",
                |s| {
                    s.expect_continue = true;
                    s.interim_continue = true;
                },
                "`Expect: 100-continue` (answered by `100 Continue`)",
            ),
            (
                "answer",
                |s| s.answer = Answer::Refuse(403),
                "the server refuses with `403`: what follows the request is the next request",
            ),
            (
                "interim_continue",
                |s| s.interim_continue = true,
                "a `100 Continue` before the answer",
            ),
            (
                "response_headers",
                |s| s.response_headers = vec![("X-b".into(), "2".into())],
                "extra response headers: `X-b`",
            ),
            (
                "client.early",
                |s| {
                    s.client.early = Payload {
                        len: 40,
                        fill: Fill::HttpLike,
                    }
                },
                "40 bytes of early data that look like HTTP requests, in the head's segment",
            ),
            (
                "client.late",
                |s| s.client.late = Payload::noise(7, 2),
                "7 bytes from the client after the answer",
            ),
            (
                "client.half_close",
                |s| s.client.half_close = false,
                "the client never shuts down its write half",
            ),
            (
                "client.read_chunk",
                |s| s.client.read_chunk = 1,
                "client read size 1",
            ),
            (
                "client.waits_for_continue",
                |s| s.client.waits_for_continue = true,
                "the client sends the head alone and waits for the first answer before the body and early bytes",
            ),
            (
                "client.optimistic",
                |s| s.client.optimistic = true,
                "the client app writes its early bytes before the answer arrives (optimistic upgrade)",
            ),
            (
                "server.body_read",
                |s| s.server.body_read = BodyRead::Part(1),
                "the server app reads only the first 1 byte of the request body before it answers",
            ),
            (
                "server.body_read",
                |s| s.server.body_read = BodyRead::Nothing,
                "the server app reads none of the request body before it answers",
            ),
            (
                "server.writer",
                |s| s.server.writer = AnswerWriter::Application,
                "the server app hijacks before any answer and writes the answer itself (Go's `Hijack()` then a raw `101`, as Docker's daemon does)",
            ),
            (
                "server.first",
                |s| s.server.first = Payload::noise(3, 3),
                "the server app writes 3 bytes first, through the hijacked stream",
            ),
            (
                "server.first_write",
                |s| s.server.first_write = FirstWrite::Unflushed,
                "the server app's (empty) first write goes into the library's buffer, unflushed at the hijack",
            ),
            (
                "server.app",
                |s| s.server.app = ServerApp::CloseWriteFirst,
                "the server app shuts down its write half first, then reads",
            ),
            (
                "server.read_chunk",
                |s| s.server.read_chunk = 70_000,
                "server read size 70000",
            ),
            (
                "client_cuts",
                |s| s.client_cuts = vec![Cut::At(Landmark::HeadEnd, -2), Cut::Offset(9)],
                "c>s cut at 2 bytes before the end of the head; offset 9 (modulo the stream's length)",
            ),
            (
                "server_cuts",
                |s| s.server_cuts = vec![Cut::At(Landmark::EarlyEnd, 1)],
                "s>c cut at 1 byte after the end of the early bytes",
            ),
        ];
        let missing: Vec<&str> = FIELDS
            .iter()
            .copied()
            .filter(|f| !changes.iter().any(|(field, _, _)| field == f))
            .collect();
        assert!(missing.is_empty(), "no row changes {missing:?}");
        let plain = describe(&Scenario::basic());
        for (field, change, line) in changes {
            let mut s = Scenario::basic();
            change(&mut s);
            let lines = describe(&s);
            assert!(
                lines.iter().any(|l| l == line),
                "{field}: expected the line {line:?} in {lines:?}"
            );
            let added = lines.iter().filter(|l| !plain.contains(l)).count();
            assert_eq!(added, 1, "{field}: {lines:?}");
        }
    }

    #[test]
    fn refused_cases_do_not_mention_bytes_that_never_travel() {
        let mut s = Scenario::basic();
        s.answer = Answer::Refuse(400);
        s.client.early = Payload::noise(9, 1);
        s.server.first = Payload::noise(9, 1);
        let lines = describe(&s);
        assert!(!lines.iter().any(|l| l.contains("early data")), "{lines:?}");
        assert!(!lines.iter().any(|l| l.contains("first")), "{lines:?}");
    }
}
