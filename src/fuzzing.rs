//! Coverage-guided fuzzing: the `arbitrary` form of [`Scenario`], and the bodies of
//! the `cargo fuzz` targets.
//!
//! Property tests explore what we thought of; a coverage-guided fuzzer explores
//! what we did not. Both ask the same oracle about the same [`Scenario`] type, so
//! a fuzz crash replays as a scenario and a proptest counterexample can become a
//! fuzz seed.
//!
//! # Why the target bodies live here and are always compiled
//!
//! The files in `fuzz/fuzz_targets/` are one-liners that call the functions below.
//! Keeping the bodies in the library means `cargo test` (stable, no libFuzzer)
//! replays the committed corpus through exactly the code the fuzzer runs
//! (`tests/corpus.rs`), and a crash file reproduces with a plain test. The module is
//! not behind a feature: `arbitrary` is already a dependency, the code is small,
//! and a feature would be one more build configuration for CI to forget.
//!
//! # The byte format
//!
//! [`Scenario`]'s [`Arbitrary`] impl reads the input one byte at a time (and
//! multi-byte numbers as little-endian bytes it composes itself), never through
//! `arbitrary`'s own integer or collection encodings. `arbitrary` does not promise
//! a stable wire format across versions; this module does, because [`encode`] is its
//! exact inverse: `decode(encode(s)) == s` for every scenario the `proptest`
//! strategy builds (a property test checks it). That is what makes the corpus
//! generator (`tests/corpus.rs`, `generate_seeds`) re-runnable: the seeds are
//! written from named scenarios, not from random bytes. An exhausted input reads as
//! zero bytes, and a zero byte always means the plainest choice (upgrade, no body,
//! accept, no cuts), so short inputs are simple cases.
//!
//! The distributions mirror [`crate::scenario::scenario`]: payloads mostly small,
//! sometimes about 4 KiB, rarely past 64 KiB (plus any length up to
//! [`MAX_PAYLOAD`]), read sizes from 1 to 70 000.
//!
//! # Selecting a mutant
//!
//! `HIJACK_MUTANT=<name>` (read once, at the first input) makes [`server_handoff`]
//! or [`client_handoff`] run that mutant instead of the reference; `fuzz/detect.sh`
//! uses it to show that fuzzing from an empty corpus finds every planted bug.

use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

use arbitrary::{Arbitrary, Unstructured};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::check::{self, Run};
use crate::reference::head::{self, MAX_HEADERS};
use crate::reference::{BufferedConn, Config, Error};
use crate::scenario::{
    Answer, Body, ClientScript, Cut, Fill, FirstWrite, Handshake, Landmark, MAX_PAYLOAD, Payload,
    Protocol, Scenario, ServerApp, ServerScript,
};
use crate::subject::hyper::{
    HyperClient, HyperClientOptions, HyperServer, HyperServerOptions, ReadBuf as HyperReadBuf,
    ServerMode,
};
use crate::subject::mutants::Mutant;
use crate::subject::reference::{ReferenceClient, ReferenceServer};
use crate::subject::{ClientSubject, ServerSubject};
use crate::wire::text;

pub mod websocket;

/// The environment variable that selects a mutant for a fuzz run.
pub const MUTANT_VAR: &str = "HIJACK_MUTANT";

/// The first line of every oracle failure a target reports, for scripts to grep.
pub const FAILURE_MARK: &str = "hijack-harness: oracle verdict failed";

// ---------------------------------------------------------------------------
// Choices as bytes: each `pick_*`/`*_in` has an inverse used by `encode`.

/// Which of `weights` a byte selects (the byte range is split in proportion).
fn pick(b: u8, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let x = u32::from(b) * total / 256;
    let mut acc = 0;
    for (i, w) in weights.iter().enumerate() {
        acc += w;
        if x < acc {
            return i;
        }
    }
    weights.len() - 1
}

/// The smallest byte that [`pick`] maps to `index`.
fn unpick(index: usize, weights: &[u32]) -> u8 {
    (0..=255u8)
        .find(|&b| pick(b, weights) == index)
        .unwrap_or_default()
}

/// Reads the input one byte at a time, from a plain slice: going through
/// `Unstructured` for each byte costs a bounds-checked copy per byte, which under
/// coverage instrumentation was a measurable share of every fuzz run. The bytes
/// read are consumed from the `Unstructured` when the reader is dropped.
struct Reader<'u, 'a> {
    input: &'u mut Unstructured<'a>,
    data: &'a [u8],
    read: usize,
}

impl<'u, 'a> Reader<'u, 'a> {
    fn new(input: &'u mut Unstructured<'a>) -> Self {
        let data = input.peek_bytes(input.len()).unwrap_or_default();
        Reader {
            input,
            data,
            read: 0,
        }
    }

    fn byte(&mut self) -> arbitrary::Result<u8> {
        // One byte, or 0 once the input is exhausted: never an error.
        match self.data.get(self.read) {
            Some(&b) => {
                self.read += 1;
                Ok(b)
            }
            None => Ok(0),
        }
    }

    fn u16(&mut self) -> arbitrary::Result<u16> {
        Ok(u16::from_le_bytes([self.byte()?, self.byte()?]))
    }

    fn u32(&mut self) -> arbitrary::Result<u32> {
        Ok(u32::from_le_bytes([
            self.byte()?,
            self.byte()?,
            self.byte()?,
            self.byte()?,
        ]))
    }
}

impl Drop for Reader<'_, '_> {
    fn drop(&mut self) {
        // `read` never passes the end, so this cannot fail.
        let _ = self.input.bytes(self.read);
    }
}

/// Why a scenario has no byte form: a field outside what the decoder can produce.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("scenario cannot be encoded: {0}")]
pub struct EncodeError(&'static str);

#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn byte(&mut self, b: u8) {
        self.0.push(b);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
}

const PAYLOAD_CLASSES: [u32; 6] = [30, 40, 20, 8, 2, 4];
const FILL: [u32; 2] = [9, 1];

fn read_payload(r: &mut Reader<'_, '_>) -> arbitrary::Result<Payload> {
    let len = match pick(r.byte()?, &PAYLOAD_CLASSES) {
        0 => 0,
        1 => 1 + usize::from(r.byte()? % 32),
        2 => 33 + usize::from(r.u16()?) % 568,
        3 => 4000 + usize::from(r.byte()?) % 201,
        4 => 65_000 + usize::from(r.u16()?) % 5001,
        _ => r.u32()? as usize % (MAX_PAYLOAD + 1),
    };
    let fill = match pick(r.byte()?, &FILL) {
        0 => Fill::Noise(r.byte()?),
        _ => Fill::HttpLike,
    };
    Ok(Payload { len, fill })
}

fn write_payload(w: &mut Writer, p: &Payload) -> Result<(), EncodeError> {
    let len = p.len;
    match len {
        0 => w.byte(unpick(0, &PAYLOAD_CLASSES)),
        1..=32 => {
            w.byte(unpick(1, &PAYLOAD_CLASSES));
            w.byte((len - 1) as u8);
        }
        33..=600 => {
            w.byte(unpick(2, &PAYLOAD_CLASSES));
            w.u16((len - 33) as u16);
        }
        4000..=4200 => {
            w.byte(unpick(3, &PAYLOAD_CLASSES));
            w.byte((len - 4000) as u8);
        }
        65_000..=MAX_PAYLOAD => {
            w.byte(unpick(4, &PAYLOAD_CLASSES));
            w.u16((len - 65_000) as u16);
        }
        _ if len <= MAX_PAYLOAD => {
            w.byte(unpick(5, &PAYLOAD_CLASSES));
            w.u32(len as u32);
        }
        _ => return Err(EncodeError("a payload longer than MAX_PAYLOAD")),
    }
    match p.fill {
        Fill::Noise(seed) => {
            w.byte(unpick(0, &FILL));
            w.byte(seed);
        }
        Fill::HttpLike => w.byte(unpick(1, &FILL)),
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

const CUT_KINDS: [u32; 2] = [3, 2];
const LANDMARKS: [Landmark; 3] = [Landmark::HeadEnd, Landmark::MessageEnd, Landmark::EarlyEnd];

fn read_cuts(r: &mut Reader<'_, '_>, max: u8) -> arbitrary::Result<Vec<Cut>> {
    let count = r.byte()? % (max + 1);
    let mut out = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        out.push(match pick(r.byte()?, &CUT_KINDS) {
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
                w.byte(unpick(0, &CUT_KINDS));
                w.byte(LANDMARKS.iter().position(|&l| l == landmark).unwrap_or(0) as u8);
                w.byte((delta + 4) as u8);
            }
            Cut::Offset(n) => {
                w.byte(unpick(1, &CUT_KINDS));
                w.u32(n);
            }
        }
    }
    Ok(())
}

const HANDSHAKES: [u32; 3] = [6, 2, 1];
const PROTOCOLS: [Protocol; 3] = [Protocol::Echo, Protocol::WebSocket, Protocol::Tcp];
const BODIES: [u32; 4] = [6, 2, 1, 1];
const ANSWERS: [u32; 2] = [9, 1];
const REFUSALS: [u16; 4] = [200, 400, 403, 426];
const APPS: [u32; 2] = [3, 1];
const FIRST_WRITES: [FirstWrite; 3] = [
    FirstWrite::AfterHijack,
    FirstWrite::WithHead,
    FirstWrite::Unflushed,
];
/// A byte at or above this sends `100 Continue` unasked (15% of bytes, like proptest).
const INTERIM_FROM: u8 = 218;

impl<'a> Arbitrary<'a> for Scenario {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let r = &mut Reader::new(u);
        let handshake = match pick(r.byte()?, &HANDSHAKES) {
            0 => Handshake::Upgrade(PROTOCOLS[usize::from(r.byte()? % 3)]),
            1 => Handshake::Connect,
            _ => Handshake::Explicit,
        };
        let body = match pick(r.byte()?, &BODIES) {
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
        let answer = match pick(r.byte()?, &ANSWERS) {
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
        let client = ClientScript {
            early: read_payload(r)?,
            late: read_payload(r)?,
            half_close: r.byte()? & 1 == 1,
            read_chunk: read_read_chunk(r)?,
        };
        let server = ServerScript {
            first: read_payload(r)?,
            first_write: FIRST_WRITES[usize::from(r.byte()? % 3)],
            app: match pick(r.byte()?, &APPS) {
                0 => ServerApp::Echo,
                _ => ServerApp::CloseWriteFirst,
            },
            read_chunk: read_read_chunk(r)?,
        };
        let client_cuts = read_cuts(r, 4)?;
        let server_cuts = read_cuts(r, 2)?;
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
            w.byte(unpick(0, &HANDSHAKES));
            w.byte(PROTOCOLS.iter().position(|&x| x == p).unwrap_or(0) as u8);
        }
        Handshake::Connect => w.byte(unpick(1, &HANDSHAKES)),
        Handshake::Explicit => w.byte(unpick(2, &HANDSHAKES)),
    }
    match &s.body {
        Body::None => w.byte(unpick(0, &BODIES)),
        Body::Length(p) => {
            w.byte(unpick(1, &BODIES));
            write_small_payload(w, p)?;
        }
        Body::Chunked(chunks) if chunks.is_empty() => w.byte(unpick(2, &BODIES)),
        Body::Chunked(chunks) => {
            if chunks.len() > 3 {
                return Err(EncodeError("more than 3 body chunks"));
            }
            w.byte(unpick(3, &BODIES));
            w.byte((chunks.len() - 1) as u8);
            for c in chunks {
                write_small_payload(w, c)?;
            }
        }
    }
    match s.answer {
        Answer::Accept => w.byte(unpick(0, &ANSWERS)),
        Answer::Refuse(status) => {
            w.byte(unpick(1, &ANSWERS));
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
        ServerApp::Echo => unpick(0, &APPS),
        ServerApp::CloseWriteFirst => unpick(1, &APPS),
    });
    write_read_chunk(w, s.server.read_chunk)?;
    write_cuts(w, &s.client_cuts, 4)?;
    write_cuts(w, &s.server_cuts, 2)?;
    Ok(std::mem::take(&mut w.0))
}

/// The scenario that `data` decodes to (what the handoff targets run).
pub fn decode(data: &[u8]) -> Scenario {
    let mut u = Unstructured::new(data);
    // The decoder reads single bytes only, which never fail: an exhausted input
    // reads as zeros. `basic()` is unreachable, and there only to avoid an unwrap.
    Scenario::arbitrary(&mut u).unwrap_or_else(|_| Scenario::basic())
}

// ---------------------------------------------------------------------------
// The targets.

/// Once per fuzzing process, before the first input: keeps freed memory in the
/// process.
///
/// A run allocates a few read buffers of up to 70 KB (a library's read size) and
/// frees them at the end. glibc returns the top of the heap to the kernel as soon
/// as more than 128 KB is free, so every run paid `brk` calls and page faults on
/// fresh zeroed pages: 30% of the time, measured with `perf`. Raising the trim
/// and mmap thresholds (what `MALLOC_TRIM_THRESHOLD_` would do) removes that cost
/// without touching what the harness does. A no-op on other C libraries.
pub fn init() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const M_TRIM_THRESHOLD: std::ffi::c_int = -1;
        const M_TOP_PAD: std::ffi::c_int = -2;
        const M_MMAP_THRESHOLD: std::ffi::c_int = -3;
        unsafe extern "C" {
            fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
        }
        // SAFETY: mallopt only changes glibc's allocator tunables; it is called
        // before the fuzz loop starts, and any value is memory-safe.
        unsafe {
            mallopt(M_TRIM_THRESHOLD, 1 << 30);
            mallopt(M_TOP_PAD, 16 << 20);
            mallopt(M_MMAP_THRESHOLD, 32 << 20);
        }
    }
}

fn fail(run: &Run) -> ! {
    fail_with(run, "")
}

fn fail_with(run: &Run, configuration: &str) -> ! {
    panic!(
        "{FAILURE_MARK}: {}",
        crate::counterexample::fuzz_crash(run, configuration, encode(&run.scenario).ok())
    )
}

fn selected_mutant() -> Option<Mutant> {
    static SELECTED: OnceLock<Option<Mutant>> = OnceLock::new();
    *SELECTED.get_or_init(|| {
        let name = std::env::var(MUTANT_VAR).ok().filter(|n| !n.is_empty())?;
        match Mutant::from_name(&name) {
            Some(mutant) => Some(mutant),
            None => {
                let known: Vec<_> = Mutant::all().into_iter().map(Mutant::name).collect();
                panic!("{MUTANT_VAR}={name} names no mutant; known: {known:?}")
            }
        }
    })
}

/// The server under test: the reference, or the mutant `HIJACK_MUTANT` names.
///
/// # Panics
///
/// When `HIJACK_MUTANT` names no mutant, or a client mutant.
pub fn selected_server() -> ReferenceServer {
    match selected_mutant() {
        None => ReferenceServer::default(),
        Some(mutant) => mutant.server().unwrap_or_else(|| {
            panic!(
                "{MUTANT_VAR}={} is a client mutant: fuzz it with client_handoff",
                mutant.name()
            )
        }),
    }
}

/// The client under test: the reference, or the mutant `HIJACK_MUTANT` names.
///
/// # Panics
///
/// When `HIJACK_MUTANT` names no mutant, or a server mutant.
pub fn selected_client() -> ReferenceClient {
    match selected_mutant() {
        None => ReferenceClient::default(),
        Some(mutant) => mutant.client().unwrap_or_else(|| {
            panic!(
                "{MUTANT_VAR}={} is a server mutant: fuzz it with server_handoff",
                mutant.name()
            )
        }),
    }
}

/// Runs the scenario `data` decodes to against `subject`; panics with the verdict
/// and the trace when the oracle finds a violation.
pub fn server_handoff_with(subject: &dyn ServerSubject, data: &[u8]) {
    let run = check::run_server(subject, &decode(data));
    if !run.passed() {
        fail(&run);
    }
}

/// Runs the scenario `data` decodes to against `subject` on the client side; panics
/// with the verdict and the trace when the oracle finds a violation.
pub fn client_handoff_with(subject: &dyn ClientSubject, data: &[u8]) {
    let run = check::run_client(subject, &decode(data));
    if !run.passed() {
        fail(&run);
    }
}

/// The `server_handoff` target: the reference server (or `HIJACK_MUTANT`), any scenario.
pub fn server_handoff(data: &[u8]) {
    static SUBJECT: OnceLock<ReferenceServer> = OnceLock::new();
    server_handoff_with(SUBJECT.get_or_init(selected_server), data);
}

/// The `client_handoff` target: the reference client (or `HIJACK_MUTANT`), any scenario.
pub fn client_handoff(data: &[u8]) {
    static SUBJECT: OnceLock<ReferenceClient> = OnceLock::new();
    client_handoff_with(SUBJECT.get_or_init(selected_client), data);
}

// ---------------------------------------------------------------------------
// hyper: the subject with its builder options drawn from the input.

/// Reads `Some(v)` or `None` with one byte deciding (odd: some).
fn read_option<T>(
    r: &mut Reader<'_, '_>,
    value: impl FnOnce(&mut Reader<'_, '_>) -> arbitrary::Result<T>,
) -> arbitrary::Result<Option<T>> {
    if r.byte()? & 1 == 1 {
        Ok(Some(value(r)?))
    } else {
        Ok(None)
    }
}

/// hyper's `max_buf_size`: its minimum, anything up to 70 000, or 400 KiB (as the
/// `proptest` strategy in `subject::hyper` draws it).
fn read_max_buf_size(r: &mut Reader<'_, '_>) -> arbitrary::Result<usize> {
    Ok(match r.byte()? % 3 {
        0 => 8192,
        1 => 8193 + r.u32()? as usize % (70_000 - 8192),
        _ => 400 * 1024,
    })
}

/// `max_header_size`: above any scenario's head (hyper refuses smaller heads).
fn read_max_header_size(r: &mut Reader<'_, '_>) -> arbitrary::Result<usize> {
    Ok(2048 + usize::from(r.u16()?) % (65_536 - 2048 + 1))
}

fn read_bool(r: &mut Reader<'_, '_>) -> arbitrary::Result<bool> {
    Ok(r.byte()? & 1 == 1)
}

/// How many zero bytes [`read_hyper_server`] reads as hyper's defaults (direct mode):
/// a seed for the hyper targets is this many zeros, then a scenario's bytes.
pub const HYPER_SERVER_DEFAULTS: usize = 13;

/// How many zero bytes [`read_hyper_client`] reads as hyper's defaults.
pub const HYPER_CLIENT_DEFAULTS: usize = 10;

/// A hyper server with a mode and builder options drawn from the input. A zero
/// byte is hyper's default, so short inputs test the default configuration.
pub fn read_hyper_server(u: &mut Unstructured<'_>) -> arbitrary::Result<HyperServer> {
    let r = &mut Reader::new(u);
    let mode = ServerMode::ALL[usize::from(r.byte()? % 3)];
    let options = HyperServerOptions {
        half_close: read_bool(r)?,
        // keep_alive defaults to true: a set low bit turns it off.
        keep_alive: !read_bool(r)?,
        title_case_headers: read_bool(r)?,
        preserve_header_case: read_bool(r)?,
        max_headers: read_option(r, |r| Ok(10 + usize::from(r.byte()?) % 191))?,
        max_header_size: read_option(r, read_max_header_size)?,
        writev: read_option(r, read_bool)?,
        max_buf_size: read_option(r, read_max_buf_size)?,
        auto_date_header: !read_bool(r)?,
        pipeline_flush: read_bool(r)?,
        ignore_invalid_headers: read_bool(r)?,
        allow_multiple_spaces: read_bool(r)?,
    };
    Ok(HyperServer { mode, options })
}

/// A hyper client with builder options drawn from the input (zero bytes: defaults).
pub fn read_hyper_client(u: &mut Unstructured<'_>) -> arbitrary::Result<HyperClient> {
    let r = &mut Reader::new(u);
    let read_buf = match r.byte()? % 3 {
        0 => HyperReadBuf::Default,
        // The exact read size is also hyper's largest head: keep it above any
        // scenario's head (512), as the proptest strategy does.
        1 => HyperReadBuf::Exact(match r.byte()? % 4 {
            0 => 512,
            1 => 513 + usize::from(r.u16()?) % (4096 - 512),
            2 => 8192,
            _ => 65_536,
        }),
        _ => HyperReadBuf::Max(read_max_buf_size(r)?),
    };
    let options = HyperClientOptions {
        writev: read_option(r, read_bool)?,
        read_buf,
        title_case_headers: read_bool(r)?,
        preserve_header_case: read_bool(r)?,
        max_headers: read_option(r, |r| Ok(10 + usize::from(r.byte()?) % 191))?,
        max_header_size: read_option(r, read_max_header_size)?,
        http09_responses: read_bool(r)?,
        allow_spaces_after_header_name: read_bool(r)?,
        allow_obsolete_multiline_headers: read_bool(r)?,
        ignore_invalid_headers: read_bool(r)?,
    };
    Ok(HyperClient { options })
}

/// The `hyper_server` target: hyper's server with drawn options, then a scenario.
pub fn hyper_server(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(server) = read_hyper_server(&mut u) else {
        return;
    };
    let scenario = Scenario::arbitrary(&mut u).unwrap_or_else(|_| Scenario::basic());
    if server.options.known_finding(&scenario).is_some() {
        return;
    }
    let run = check::run_server(&server, &scenario);
    if !run.passed() {
        fail_with(&run, &format!("{:?}", server));
    }
}

/// The `hyper_client` target: hyper's client with drawn options, then a scenario.
pub fn hyper_client(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(client) = read_hyper_client(&mut u) else {
        return;
    };
    let scenario = Scenario::arbitrary(&mut u).unwrap_or_else(|_| Scenario::basic());
    let run = check::run_client(&client, &scenario);
    if !run.passed() {
        fail_with(&run, &format!("{:?}", client));
    }
}

/// What the application saw, which two conformant libraries must agree on.
#[derive(Debug, PartialEq, Eq)]
struct Seen<'a> {
    hijacked: bool,
    requests: &'a [(String, bytes::Bytes)],
    read: &'a [u8],
    saw_eof: bool,
    response_status: Option<u16>,
}

fn seen(run: &Run) -> Seen<'_> {
    Seen {
        hijacked: run.app.hijacked,
        requests: &run.app.requests,
        read: &run.app.read,
        saw_eof: run.app.saw_eof,
        response_status: run.app.response_status,
    }
}

/// The `differential` target: the reference and hyper (drawn options) on the same
/// scenario, server side or client side (the first byte's low bit). The reference
/// must pass the oracle, and when hyper can run the case and it is no known
/// finding, the application must see the same thing under both: the same hand-over,
/// requests, bytes read and EOF. The oracle judges each library against the
/// scenario; this judges them against each other, which also catches a mistake the
/// oracle and the reference would share.
pub fn differential(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let client_side = u8::arbitrary(&mut u).unwrap_or(0) & 1 == 1;
    let (reference, hyper, subject) = if client_side {
        let Ok(client) = read_hyper_client(&mut u) else {
            return;
        };
        let scenario = Scenario::arbitrary(&mut u).unwrap_or_else(|_| Scenario::basic());
        (
            check::run_client(&ReferenceClient::default(), &scenario),
            check::run_client(&client, &scenario),
            format!("{client:?}"),
        )
    } else {
        let Ok(server) = read_hyper_server(&mut u) else {
            return;
        };
        let scenario = Scenario::arbitrary(&mut u).unwrap_or_else(|_| Scenario::basic());
        if server.options.known_finding(&scenario).is_some() {
            return;
        }
        (
            check::run_server(&ReferenceServer::default(), &scenario),
            check::run_server(&server, &scenario),
            format!("{server:?}"),
        )
    };
    if !reference.passed() {
        fail(&reference);
    }
    if hyper.unsupported.is_some() {
        return;
    }
    if seen(&reference) != seen(&hyper) {
        panic!(
            "{FAILURE_MARK}: the reference and hyper disagree ({subject})\n{:#?}\n\
             reference saw: {:?}\nhyper saw: {:?}\nhyper's run:\n{}{}",
            reference.scenario,
            seen(&reference),
            seen(&hyper),
            text::render(&hyper.trace),
            hyper.verdict
        );
    }
}

// ---------------------------------------------------------------------------
// The head target.

/// How many bytes of a `head` input are settings; the rest is the stream.
pub const HEAD_SETTINGS: usize = 8;

/// A transport that delivers `data` in segments whose sizes cycle through `sizes`,
/// then EOF; writes are accepted and dropped. Always ready, so a future over it
/// completes in one poll.
#[derive(Debug)]
struct Segments<'a> {
    data: &'a [u8],
    sizes: [usize; 4],
    next: usize,
    delivered: usize,
}

impl AsyncRead for Segments<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let segment = this.sizes[this.next % this.sizes.len()];
        this.next += 1;
        let n = segment.min(buf.remaining()).min(this.data.len());
        buf.put_slice(&this.data[..n]);
        this.data = &this.data[n..];
        this.delivered += n;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Segments<'_> {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(b.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn segment_size(b: u8) -> usize {
    // 1..=128 one by one, then 512-byte steps up to 64 KiB.
    if b < 128 {
        1 + usize::from(b)
    } else {
        usize::from(b - 127) * 512
    }
}

/// What a direct `httparse` parse of the whole stream says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direct {
    /// A complete head of this length (`http11`: whether the version is 1.1).
    Complete {
        len: usize,
        http11: bool,
    },
    Partial,
    /// `httparse` refused it for having more than [`MAX_HEADERS`] fields.
    TooManyHeaders,
    Invalid,
}

fn direct_parse(response: bool, stream: &[u8]) -> Direct {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let (status, version) = if response {
        let mut res = httparse::Response::new(&mut headers);
        let status = res.parse(stream);
        (status, res.version)
    } else {
        let mut req = httparse::Request::new(&mut headers);
        let status = req.parse(stream);
        (status, req.version)
    };
    match status {
        Ok(httparse::Status::Complete(len)) => Direct::Complete {
            len,
            // The reference accepts only HTTP/1.1 requests; any response version.
            http11: response || version == Some(1),
        },
        Ok(httparse::Status::Partial) => Direct::Partial,
        Err(httparse::Error::TooManyHeaders) => Direct::TooManyHeaders,
        Err(_) => Direct::Invalid,
    }
}

/// The `head` target: arbitrary bytes into the reference's incremental head reader
/// ([`BufferedConn::read_head`]), delivered in arbitrary segments with an arbitrary
/// read size and head limit, compared with one `httparse` parse of the whole input.
///
/// Settings come first (`HEAD_SETTINGS` bytes): request or response, the head
/// limit, the read size, four segment sizes; the rest is the stream. The reader
/// must never panic, must never buffer more than the limit plus one read, and must
/// find the head's end exactly where `httparse` does: a reader that stopped early
/// or late would hand the wrong bytes to the new protocol.
pub fn head(data: &[u8]) {
    let setting = |i: usize| data.get(i).copied().unwrap_or(0);
    let response = setting(0) & 1 == 1;
    let max_head = match setting(1) % 4 {
        0 => Config::default().max_head,
        1 => 1 + usize::from(setting(2)),
        2 => 256 + usize::from(setting(2)) * 16,
        _ => 4096 + usize::from(setting(2)) * 64,
    };
    let read_chunk = segment_size(setting(3));
    let sizes = [4, 5, 6, 7].map(|i| segment_size(setting(i)));
    let stream = data.get(HEAD_SETTINGS..).unwrap_or_default();

    let config = Config {
        read_chunk,
        max_head,
        // No timer: the reader must finish on bytes alone.
        head_timeout: None,
    };
    let mut io = Segments {
        data: stream,
        sizes,
        next: 0,
        delivered: 0,
    };
    let (outcome, read_ahead) = {
        let mut conn = BufferedConn::new(&mut io, config);
        let outcome = if response {
            poll_ready(conn.read_head("a response head", head::parse_response))
                .map(|r| r.map(|h| h.is_some()))
        } else {
            poll_ready(conn.read_head("a request head", head::parse_request))
                .map(|r| r.map(|h| h.is_some()))
        };
        (outcome, conn.read_ahead().len())
    };
    let delivered = io.delivered;
    let consumed = delivered - read_ahead;
    let direct = direct_parse(response, stream);
    let context = || {
        format!(
            "response={response} max_head={max_head} read_chunk={read_chunk} sizes={sizes:?} \
             stream={} bytes, delivered={delivered}, read-ahead={read_ahead}, direct={direct:?}, \
             stream head: {:?}",
            stream.len(),
            String::from_utf8_lossy(&stream[..stream.len().min(200)])
        )
    };
    assert!(
        delivered < max_head + read_chunk,
        "the head reader buffered {delivered} bytes, past the limit plus one read: {}",
        context()
    );
    match outcome {
        None => panic!(
            "the head reader did not finish over an always-ready transport: {}",
            context()
        ),
        Some(Ok(true)) => assert!(
            direct
                == Direct::Complete {
                    len: consumed,
                    http11: true
                },
            "the head reader ended a head after {consumed} bytes; httparse disagrees: {}",
            context()
        ),
        Some(Ok(false)) => assert!(
            stream.is_empty(),
            "the head reader saw a clean EOF on a non-empty stream: {}",
            context()
        ),
        Some(Err(Error::HeadTooLarge { .. })) => assert!(
            delivered >= max_head
                && !matches!(direct, Direct::Complete { len, .. } if len <= delivered),
            "the head reader refused a head as too large: {}",
            context()
        ),
        Some(Err(Error::UnexpectedEof(_))) => assert!(
            direct == Direct::Partial && !stream.is_empty() && delivered == stream.len(),
            "the head reader reported EOF inside a head: {}",
            context()
        ),
        Some(Err(Error::Malformed { .. })) => assert!(
            matches!(
                direct,
                Direct::Invalid | Direct::Complete { http11: false, .. }
            ),
            "the head reader called a head malformed: {}",
            context()
        ),
        Some(Err(Error::TooManyHeaders { .. })) => assert!(
            direct == Direct::TooManyHeaders,
            "the head reader counted too many headers: {}",
            context()
        ),
        Some(Err(other)) => panic!("unexpected error {other}: {}", context()),
    }
}

/// Polls `future` a few times with a no-op waker: `Some` if it finished.
fn poll_ready<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..4 {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return Some(out);
        }
    }
    None
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

        /// Arbitrary bytes never break the head reader's agreement with httparse.
        #[test]
        fn head_target_holds(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            head(&data);
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

    #[test]
    fn zero_bytes_are_hyper_defaults() {
        let zeros = [0u8; 64];
        let mut u = Unstructured::new(&zeros);
        let server = read_hyper_server(&mut u).unwrap();
        assert_eq!(server.mode, ServerMode::Direct);
        assert_eq!(server.options, HyperServerOptions::default());
        assert_eq!(zeros.len() - u.len(), HYPER_SERVER_DEFAULTS);
        let mut u = Unstructured::new(&zeros);
        let client = read_hyper_client(&mut u).unwrap();
        assert_eq!(client.options, HyperClientOptions::default());
        assert_eq!(zeros.len() - u.len(), HYPER_CLIENT_DEFAULTS);
    }

    #[test]
    fn pick_and_unpick_agree() {
        for weights in [
            &PAYLOAD_CLASSES[..],
            &FILL,
            &CUT_KINDS,
            &HANDSHAKES,
            &BODIES,
            &ANSWERS,
            &APPS,
        ] {
            for i in 0..weights.len() {
                assert_eq!(pick(unpick(i, weights), weights), i);
            }
        }
    }
}
