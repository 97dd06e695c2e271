//! The byte format of a [`Scenario`]: its [`Arbitrary`] impl, and [`encode`], the
//! exact inverse.

use arbitrary::{Arbitrary, Unstructured};

use super::bytes::{EncodeError, Reader, Weights, Writer};
use crate::scenario::{
    Answer, AnswerWriter, Body, BodyRead, ClientScript, Cut, Fill, FirstWrite, Handshake, Landmark,
    MAX_PAYLOAD, Payload, Protocol, Scenario, ServerApp, ServerScript,
};

const PAYLOAD_CLASSES: Weights<6> = Weights::new([30, 40, 20, 8, 2, 4]);
const FILL: Weights<2> = Weights::new([9, 1]);

fn read_payload(r: &mut Reader<'_, '_>) -> arbitrary::Result<Payload> {
    let len = match PAYLOAD_CLASSES.pick(r.byte()?) {
        0 => 0,
        1 => 1 + usize::from(r.byte()? % 32),
        2 => 33 + usize::from(r.u16()?) % 568,
        3 => 4000 + usize::from(r.byte()?) % 201,
        4 => 65_000 + usize::from(r.u16()?) % 5001,
        _ => r.u32()? as usize % (MAX_PAYLOAD + 1),
    };
    let fill = match FILL.pick(r.byte()?) {
        0 => Fill::Noise(r.byte()?),
        _ => Fill::HttpLike,
    };
    Ok(Payload { len, fill })
}

fn write_payload(w: &mut Writer, p: &Payload) -> Result<(), EncodeError> {
    let len = p.len;
    match len {
        0 => w.byte(PAYLOAD_CLASSES.unpick(0)),
        1..=32 => {
            w.byte(PAYLOAD_CLASSES.unpick(1));
            w.byte((len - 1) as u8);
        }
        33..=600 => {
            w.byte(PAYLOAD_CLASSES.unpick(2));
            w.u16((len - 33) as u16);
        }
        4000..=4200 => {
            w.byte(PAYLOAD_CLASSES.unpick(3));
            w.byte((len - 4000) as u8);
        }
        65_000..=MAX_PAYLOAD => {
            w.byte(PAYLOAD_CLASSES.unpick(4));
            w.u16((len - 65_000) as u16);
        }
        _ if len <= MAX_PAYLOAD => {
            w.byte(PAYLOAD_CLASSES.unpick(5));
            w.u32(len as u32);
        }
        _ => return Err(EncodeError("a payload longer than MAX_PAYLOAD")),
    }
    match p.fill {
        Fill::Noise(seed) => {
            w.byte(FILL.unpick(0));
            w.byte(seed);
        }
        Fill::HttpLike => w.byte(FILL.unpick(1)),
    }
    Ok(())
}

/// A body chunk or `Content-Length` body: noise, up to 300 bytes.
fn read_small_payload(r: &mut Reader<'_, '_>) -> arbitrary::Result<Payload> {
    let len = usize::from(r.u16()?) % 301;
    Ok(Payload::noise(len, r.byte()?))
}

fn write_small_payload(w: &mut Writer, p: &Payload) -> Result<(), EncodeError> {
    match p.fill {
        Fill::Noise(seed) if p.len <= 300 => {
            w.u16(p.len as u16);
            w.byte(seed);
            Ok(())
        }
        _ => Err(EncodeError(
            "a body payload that is not noise of at most 300 bytes",
        )),
    }
}

const READ_CLASSES: usize = 8;

fn read_read_chunk(r: &mut Reader<'_, '_>) -> arbitrary::Result<usize> {
    Ok(match r.byte()? as usize % READ_CLASSES {
        0 => 4096,
        1 => 1,
        2 => 2 + usize::from(r.byte()? % 15),
        3 => 17 + usize::from(r.u16()?) % 1008,
        4 => 8192,
        5 => 65_536,
        6 => 70_000,
        _ => 1 + r.u32()? as usize % 70_000,
    })
}

fn write_read_chunk(w: &mut Writer, n: usize) -> Result<(), EncodeError> {
    match n {
        4096 => w.byte(0),
        1 => w.byte(1),
        2..=16 => {
            w.byte(2);
            w.byte((n - 2) as u8);
        }
        17..=1024 => {
            w.byte(3);
            w.u16((n - 17) as u16);
        }
        8192 => w.byte(4),
        65_536 => w.byte(5),
        70_000 => w.byte(6),
        _ if (1025..=70_000).contains(&n) => {
            w.byte(7);
            w.u32((n - 1) as u32);
        }
        _ => return Err(EncodeError("a read size outside 1..=70000")),
    }
    Ok(())
}

const TOKEN_CHARS: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+.^_`|~-";

fn read_headers(r: &mut Reader<'_, '_>) -> arbitrary::Result<Vec<(String, String)>> {
    let count = r.byte()? % 4;
    let mut out = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let len = 1 + r.byte()? % 12;
        let mut name = String::from("X-");
        for _ in 0..len {
            name.push(char::from(
                TOKEN_CHARS[usize::from(r.byte()?) % TOKEN_CHARS.len()],
            ));
        }
        let len = r.byte()? % 41;
        let mut value = String::new();
        for _ in 0..len {
            value.push(char::from(b' ' + r.byte()? % 95));
        }
        out.push((name, value.trim().to_owned()));
    }
    Ok(out)
}

fn write_headers(w: &mut Writer, headers: &[(String, String)]) -> Result<(), EncodeError> {
    if headers.len() > 3 {
        return Err(EncodeError("more than 3 extra headers"));
    }
    w.byte(headers.len() as u8);
    for (name, value) in headers {
        let token = name
            .strip_prefix("X-")
            .ok_or(EncodeError("a header name without the X- prefix"))?;
        if token.is_empty() || token.len() > 12 {
            return Err(EncodeError("a header token of 0 or more than 12 bytes"));
        }
        w.byte((token.len() - 1) as u8);
        for b in token.bytes() {
            let at = TOKEN_CHARS
                .iter()
                .position(|&c| c == b)
                .ok_or(EncodeError("a header name byte outside tchar"))?;
            w.byte(at as u8);
        }
        if value.len() > 40 || value.trim() != value {
            return Err(EncodeError("a header value longer than 40 or untrimmed"));
        }
        w.byte(value.len() as u8);
        for b in value.bytes() {
            if !(b' '..=b'~').contains(&b) {
                return Err(EncodeError("a header value byte outside printable ASCII"));
            }
            w.byte(b - b' ');
        }
    }
    Ok(())
}

const CUT_KINDS: Weights<2> = Weights::new([3, 2]);
const LANDMARKS: [Landmark; 3] = [Landmark::HeadEnd, Landmark::MessageEnd, Landmark::EarlyEnd];

fn read_cuts(r: &mut Reader<'_, '_>, max: u8) -> arbitrary::Result<Vec<Cut>> {
    let count = r.byte()? % (max + 1);
    let mut out = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        out.push(match CUT_KINDS.pick(r.byte()?) {
            0 => {
                let landmark = LANDMARKS[usize::from(r.byte()? % 3)];
                Cut::At(landmark, (r.byte()? % 9) as i8 - 4)
            }
            _ => Cut::Offset(r.u32()?),
        });
    }
    Ok(out)
}

fn write_cuts(w: &mut Writer, cuts: &[Cut], max: u8) -> Result<(), EncodeError> {
    if cuts.len() > usize::from(max) {
        return Err(EncodeError("too many cuts (4 client, 2 server at most)"));
    }
    w.byte(cuts.len() as u8);
    for cut in cuts {
        match *cut {
            Cut::At(landmark, delta) => {
                if !(-4..=4).contains(&delta) {
                    return Err(EncodeError("a cut moved by more than 4 bytes"));
                }
                w.byte(CUT_KINDS.unpick(0));
                w.byte(LANDMARKS.iter().position(|&l| l == landmark).unwrap_or(0) as u8);
                w.byte((delta + 4) as u8);
            }
            Cut::Offset(n) => {
                w.byte(CUT_KINDS.unpick(1));
                w.u32(n);
            }
        }
    }
    Ok(())
}

const HANDSHAKES: Weights<3> = Weights::new([6, 2, 1]);
const PROTOCOLS: [Protocol; 3] = [Protocol::Echo, Protocol::WebSocket, Protocol::Tcp];
const BODIES: Weights<4> = Weights::new([6, 2, 1, 1]);
const ANSWERS: Weights<2> = Weights::new([9, 1]);
const REFUSALS: [u16; 4] = [200, 400, 403, 426];
const APPS: Weights<2> = Weights::new([3, 1]);
const FIRST_WRITES: [FirstWrite; 3] = [
    FirstWrite::AfterHijack,
    FirstWrite::WithHead,
    FirstWrite::Unflushed,
];
/// A byte at or above this sends `100 Continue` unasked (15% of bytes, like proptest).
const INTERIM_FROM: u8 = 218;
const BODY_READS: Weights<3> = Weights::new([2, 1, 1]);
const WRITERS: Weights<2> = Weights::new([3, 1]);
/// The flag byte's bits.
const WAITS_FOR_CONTINUE: u8 = 1;
const OPTIMISTIC: u8 = 2;

/// The application's choices: they come after everything else, so that an input
/// written before they existed decodes as it did (its end reads as zero bytes,
/// which are the choices that were implied then: the whole body read, the library
/// answering, a client that neither waits nor writes early).
fn read_choices(r: &mut Reader<'_, '_>) -> arbitrary::Result<(BodyRead, AnswerWriter, u8)> {
    let body_read = match BODY_READS.pick(r.byte()?) {
        0 => BodyRead::All,
        1 => BodyRead::Part(1 + r.u16()? % 300),
        _ => BodyRead::Nothing,
    };
    let writer = match WRITERS.pick(r.byte()?) {
        0 => AnswerWriter::Library,
        _ => AnswerWriter::Application,
    };
    Ok((body_read, writer, r.byte()?))
}

/// The inverse of [`read_choices`], with its trailing zero bytes left out (they
/// read back the same), so that every input from before the choices is still
/// its scenario's encoding.
fn write_choices(w: &mut Writer, s: &Scenario) -> Result<(), EncodeError> {
    let mut tail = Writer::default();
    match s.server.body_read {
        BodyRead::All => tail.byte(BODY_READS.unpick(0)),
        BodyRead::Part(n) if (1..=300).contains(&n) => {
            tail.byte(BODY_READS.unpick(1));
            tail.u16(n - 1);
        }
        BodyRead::Part(_) => return Err(EncodeError("a body part outside 1..=300 bytes")),
        BodyRead::Nothing => tail.byte(BODY_READS.unpick(2)),
    }
    tail.byte(match s.server.writer {
        AnswerWriter::Library => WRITERS.unpick(0),
        AnswerWriter::Application => WRITERS.unpick(1),
    });
    let mut flags = 0;
    if s.client.waits_for_continue {
        flags |= WAITS_FOR_CONTINUE;
    }
    if s.client.optimistic {
        flags |= OPTIMISTIC;
    }
    tail.byte(flags);
    let used = tail.0.iter().rposition(|&b| b != 0).map_or(0, |at| at + 1);
    w.0.extend_from_slice(&tail.0[..used]);
    Ok(())
}

impl<'a> Arbitrary<'a> for Scenario {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let r = &mut Reader::new(u);
        let handshake = match HANDSHAKES.pick(r.byte()?) {
            0 => Handshake::Upgrade(PROTOCOLS[usize::from(r.byte()? % 3)]),
            1 => Handshake::Connect,
            _ => Handshake::Explicit,
        };
        let body = match BODIES.pick(r.byte()?) {
            0 => Body::None,
            1 => Body::Length(read_small_payload(r)?),
            2 => Body::Chunked(Vec::new()),
            _ => {
                let n = 1 + r.byte()? % 3;
                let mut chunks = Vec::with_capacity(usize::from(n));
                for _ in 0..n {
                    chunks.push(read_small_payload(r)?);
                }
                Body::Chunked(chunks)
            }
        };
        let answer = match ANSWERS.pick(r.byte()?) {
            0 => Answer::Accept,
            _ => match r.byte()? % 5 {
                4 => Answer::Refuse(200 + r.u16()? % 400),
                i => Answer::Refuse(REFUSALS[usize::from(i)]),
            },
        };
        let request_headers = read_headers(r)?;
        let response_headers = read_headers(r)?;
        let expect_continue = r.byte()? & 1 == 1;
        let interim_continue = r.byte()? >= INTERIM_FROM;
        let mut client = ClientScript {
            early: read_payload(r)?,
            late: read_payload(r)?,
            half_close: r.byte()? & 1 == 1,
            read_chunk: read_read_chunk(r)?,
            waits_for_continue: false,
            optimistic: false,
        };
        let mut server = ServerScript {
            first: read_payload(r)?,
            first_write: FIRST_WRITES[usize::from(r.byte()? % 3)],
            app: match APPS.pick(r.byte()?) {
                0 => ServerApp::Echo,
                _ => ServerApp::CloseWriteFirst,
            },
            read_chunk: read_read_chunk(r)?,
            body_read: BodyRead::All,
            writer: AnswerWriter::Library,
        };
        let client_cuts = read_cuts(r, 4)?;
        let server_cuts = read_cuts(r, 2)?;
        let (body_read, writer, flags) = read_choices(r)?;
        server.body_read = body_read;
        server.writer = writer;
        client.waits_for_continue = flags & WAITS_FOR_CONTINUE != 0;
        client.optimistic = flags & OPTIMISTIC != 0;
        Ok(Scenario {
            handshake,
            request_headers,
            body,
            expect_continue,
            answer,
            interim_continue,
            response_headers,
            client,
            server,
            client_cuts,
            server_cuts,
        }
        .normalized())
    }
}

/// The bytes that [`Scenario`]'s [`Arbitrary`] impl decodes back to `scenario`.
///
/// `scenario` must be [`normalized`](Scenario::normalized) and within the decoder's
/// range (every scenario the `proptest` strategy builds is); otherwise the error
/// names the field that is out of range.
pub fn encode(scenario: &Scenario) -> Result<Vec<u8>, EncodeError> {
    let s = scenario;
    let w = &mut Writer::default();
    match s.handshake {
        Handshake::Upgrade(p) => {
            w.byte(HANDSHAKES.unpick(0));
            w.byte(PROTOCOLS.iter().position(|&x| x == p).unwrap_or(0) as u8);
        }
        Handshake::Connect => w.byte(HANDSHAKES.unpick(1)),
        Handshake::Explicit => w.byte(HANDSHAKES.unpick(2)),
    }
    match &s.body {
        Body::None => w.byte(BODIES.unpick(0)),
        Body::Length(p) => {
            w.byte(BODIES.unpick(1));
            write_small_payload(w, p)?;
        }
        Body::Chunked(chunks) if chunks.is_empty() => w.byte(BODIES.unpick(2)),
        Body::Chunked(chunks) => {
            if chunks.len() > 3 {
                return Err(EncodeError("more than 3 body chunks"));
            }
            w.byte(BODIES.unpick(3));
            w.byte((chunks.len() - 1) as u8);
            for c in chunks {
                write_small_payload(w, c)?;
            }
        }
    }
    match s.answer {
        Answer::Accept => w.byte(ANSWERS.unpick(0)),
        Answer::Refuse(status) => {
            w.byte(ANSWERS.unpick(1));
            match REFUSALS.iter().position(|&x| x == status) {
                Some(i) => w.byte(i as u8),
                None if (200..600).contains(&status) => {
                    w.byte(4);
                    w.u16(status - 200);
                }
                None => return Err(EncodeError("a refusal status outside 200..600")),
            }
        }
    }
    write_headers(w, &s.request_headers)?;
    write_headers(w, &s.response_headers)?;
    w.byte(u8::from(s.expect_continue));
    w.byte(if s.interim_continue { INTERIM_FROM } else { 0 });
    write_payload(w, &s.client.early)?;
    write_payload(w, &s.client.late)?;
    w.byte(u8::from(s.client.half_close));
    write_read_chunk(w, s.client.read_chunk)?;
    write_payload(w, &s.server.first)?;
    w.byte(
        FIRST_WRITES
            .iter()
            .position(|&x| x == s.server.first_write)
            .unwrap_or(0) as u8,
    );
    w.byte(match s.server.app {
        ServerApp::Echo => APPS.unpick(0),
        ServerApp::CloseWriteFirst => APPS.unpick(1),
    });
    write_read_chunk(w, s.server.read_chunk)?;
    write_cuts(w, &s.client_cuts, 4)?;
    write_cuts(w, &s.server_cuts, 2)?;
    write_choices(w, s)?;
    Ok(std::mem::take(&mut w.0))
}

/// The scenario that `data` decodes to (what the handoff targets run).
pub fn decode(data: &[u8]) -> Scenario {
    let mut u = Unstructured::new(data);
    // The decoder reads single bytes only, which never fail: an exhausted input
    // reads as zeros. `basic()` is unreachable, and there only to avoid an unwrap.
    Scenario::arbitrary(&mut u).unwrap_or_else(|_| Scenario::basic())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The corpus generator relies on this: every proptest scenario has bytes.
        #[test]
        fn encode_inverts_decode(s in crate::scenario::scenario()) {
            let bytes = encode(&s).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(decode(&bytes), s);
        }

        /// And any bytes decode to a scenario whose bytes decode to it again.
        #[test]
        fn decode_is_stable(data in proptest::collection::vec(any::<u8>(), 0..120)) {
            let s = decode(&data);
            let bytes = encode(&s).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(decode(&bytes), s);
        }
    }

    #[test]
    fn empty_input_is_the_plainest_case() {
        let s = decode(&[]);
        assert_eq!(s.handshake, Handshake::Upgrade(Protocol::Echo));
        assert_eq!(s.body, Body::None);
        assert!(s.accepted());
        assert_eq!(s.client.read_chunk, 4096);
    }

    /// Every field at its longest: what [`Reader`] holds must cover it, or the
    /// decoder would read held bytes again instead of zeros.
    #[test]
    fn the_longest_scenario_fits_what_the_reader_holds() {
        let w = &mut Writer::default();
        w.byte(HANDSHAKES.unpick(0));
        w.byte(0);
        w.byte(BODIES.unpick(3));
        w.byte(2); // three chunks
        for _ in 0..3 {
            w.u16(300);
            w.byte(1);
        }
        w.byte(ANSWERS.unpick(1));
        w.byte(4); // a status of its own
        w.u16(99);
        for _ in 0..2 {
            w.byte(3); // three headers
            for _ in 0..3 {
                w.byte(11); // a 12-byte name
                w.0.extend([1; 12]);
                w.byte(40); // a 40-byte value
                w.0.extend([33; 40]);
            }
        }
        w.byte(1);
        w.byte(INTERIM_FROM);
        let long_payload = |w: &mut Writer| {
            w.byte(PAYLOAD_CLASSES.unpick(5));
            w.u32(1000);
            w.byte(FILL.unpick(0));
            w.byte(7);
        };
        long_payload(w);
        long_payload(w);
        w.byte(1);
        w.byte(7); // a read size of its own
        w.u32(5000);
        long_payload(w);
        w.byte(2);
        w.byte(APPS.unpick(1));
        w.byte(7);
        w.u32(5000);
        for max in [4, 2] {
            w.byte(max);
            for _ in 0..max {
                w.byte(CUT_KINDS.unpick(1));
                w.u32(10);
            }
        }
        w.byte(BODY_READS.unpick(1));
        w.u16(5);
        w.byte(WRITERS.unpick(1));
        w.byte(3);
        let longest = w.0.len();
        assert_eq!(longest, 416);
        assert!(longest <= super::super::bytes::HELD);
        // With more input than that, the decoder reads exactly those bytes.
        w.0.extend([0xff; 200]);
        let mut u = Unstructured::new(&w.0);
        let s = Scenario::arbitrary(&mut u).expect("decoding never fails");
        assert_eq!(w.0.len() - u.len(), longest);
        assert_eq!(s.client_cuts.len(), 4);
        assert_eq!(s.request_headers.len(), 3);
    }

    #[test]
    fn pick_and_unpick_agree() {
        fn agree<const N: usize>(weights: &Weights<N>) {
            for i in 0..N {
                assert_eq!(weights.pick(weights.unpick(i)), i);
            }
            weights.check_table();
        }
        agree(&PAYLOAD_CLASSES);
        agree(&FILL);
        agree(&CUT_KINDS);
        agree(&HANDSHAKES);
        agree(&BODIES);
        agree(&ANSWERS);
        agree(&APPS);
        agree(&BODY_READS);
        agree(&WRITERS);
    }
}
