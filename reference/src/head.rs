//! HTTP/1.1 heads and message framing, as pure functions over bytes.
//!
//! Everything that decides *where a message ends* lives here, because that is the
//! line the whole project is about: a byte before it belongs to HTTP, a byte after
//! it belongs to the new protocol. The reference server and client, the scripted
//! peers and the oracle all call these functions, so they cannot disagree about it.
//! Heads are parsed with `httparse`; framing follows RFC 9112 §6.

use std::fmt::Write as _;
use std::mem::MaybeUninit;

use bytes::{BufMut, Bytes, BytesMut};

use super::error::{Error, Result};

/// How many headers a head may carry.
pub const MAX_HEADERS: usize = 100;

/// One header field, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The field name, as written.
    pub name: String,
    /// The field value, as written (lossy UTF-8 for obs-text).
    pub value: String,
}

impl Header {
    /// A header from a name and a value.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Header {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// A parsed or to-be-written request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The method (`GET`, `CONNECT`, ...).
    pub method: String,
    /// The request target (`/path` or `host:port` for CONNECT).
    pub target: String,
    /// The header fields, in order.
    pub headers: Vec<Header>,
}

/// A parsed or to-be-written response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code.
    pub status: u16,
    /// The reason phrase.
    pub reason: String,
    /// The header fields, in order.
    pub headers: Vec<Header>,
}

/// How the body of a message is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body at all.
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the connection closes (responses only).
    UntilClose,
}

fn header<'a>(headers: &'a [Header], name: &str) -> impl Iterator<Item = &'a str> {
    headers
        .iter()
        .filter(move |h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// Whether a comma-separated header `name` lists `token` (case-insensitive).
pub fn has_token(headers: &[Header], name: &str, token: &str) -> bool {
    header(headers, name)
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// The value of the first header called `name`.
pub fn header_value<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
    header(headers, name).next()
}

fn body_framing(headers: &[Header]) -> Result<Option<Framing>> {
    if let Some(last) = header(headers, "transfer-encoding")
        .flat_map(|v| v.split(','))
        .last()
    {
        if last.trim().eq_ignore_ascii_case("chunked") {
            return Ok(Some(Framing::Chunked));
        }
        return Err(Error::Malformed {
            what: "transfer-encoding",
            reason: format!("the final coding is {:?}, not chunked", last.trim()),
        });
    }
    let mut lengths = header(headers, "content-length");
    let Some(first) = lengths.next() else {
        return Ok(None);
    };
    let parse = |v: &str| {
        v.trim().parse::<u64>().map_err(|_| Error::Malformed {
            what: "content-length",
            reason: format!("{v:?} is not a length"),
        })
    };
    let length = parse(first)?;
    for other in lengths {
        if parse(other)? != length {
            return Err(Error::Malformed {
                what: "content-length",
                reason: "conflicting values".into(),
            });
        }
    }
    Ok(Some(Framing::Length(length)))
}

impl RequestHead {
    /// Whether the client asks to switch protocols (`Connection: upgrade` and `Upgrade`).
    pub fn wants_upgrade(&self) -> bool {
        has_token(&self.headers, "connection", "upgrade")
            && header_value(&self.headers, "upgrade").is_some()
    }

    /// Whether this is a `CONNECT` request.
    pub fn is_connect(&self) -> bool {
        self.method.eq_ignore_ascii_case("CONNECT")
    }

    /// How the request body is delimited: without a length or chunking, there is none.
    pub fn framing(&self) -> Result<Framing> {
        Ok(body_framing(&self.headers)?.unwrap_or(Framing::Empty))
    }

    /// The head as it goes on the wire.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_len());
        put_request_line(&mut out, &self.method, &self.target);
        write_headers(&mut out, &self.headers);
        out.freeze()
    }

    /// The length of [`RequestHead::to_bytes`], without writing it.
    pub fn encoded_len(&self) -> usize {
        request_line_len(&self.method, &self.target) + headers_len(&self.headers)
    }
}

/// Whether `status` is an interim one (`1xx` other than `101`).
fn is_interim(status: u16) -> bool {
    (100..200).contains(&status) && status != 101
}

/// Whether a final `status` hands the connection over by itself: `101` to an
/// upgrade request, or a `2xx` to `CONNECT` (RFC 9110 §7.8, §9.3.6).
pub fn switches_protocols(status: u16, request_is_connect: bool) -> bool {
    status == 101 || (request_is_connect && (200..300).contains(&status))
}

/// Whether `answer` (the final status, if a response was written or read)
/// switched protocols for a request that was (`connect`) or was not a `CONNECT`:
/// only then may the connection be handed over by itself.
pub fn check_switched(answer: Option<u16>, connect: bool) -> Result<()> {
    match answer {
        None => Err(Error::NoResponse),
        Some(status) if switches_protocols(status, connect) => Ok(()),
        Some(status) => Err(Error::NotUpgraded { status }),
    }
}

impl ResponseHead {
    /// `101 Switching Protocols` to `token`, with `Connection: Upgrade` and
    /// `Upgrade: <token>` (RFC 9110 §15.2.2 requires the latter).
    pub fn switching_protocols(token: &str) -> Self {
        ResponseHead {
            status: 101,
            reason: "Switching Protocols".into(),
            headers: vec![
                Header::new("Connection", "Upgrade"),
                Header::new("Upgrade", token),
            ],
        }
    }

    /// Whether this response hands the connection over by itself, as an answer to `request`:
    /// `101` to an upgrade request, or a `2xx` to `CONNECT` (RFC 9110 §7.8, §9.3.6).
    pub fn switches(&self, request_is_connect: bool) -> bool {
        switches_protocols(self.status, request_is_connect)
    }

    /// Whether this is an interim (`1xx` other than `101`) response.
    pub fn is_interim(&self) -> bool {
        is_interim(self.status)
    }

    /// How the response body is delimited, given whether it answers a `CONNECT`.
    pub fn framing(&self, request_is_connect: bool) -> Result<Framing> {
        if (100..200).contains(&self.status) || self.status == 204 || self.status == 304 {
            return Ok(Framing::Empty);
        }
        if request_is_connect && (200..300).contains(&self.status) {
            return Ok(Framing::Empty);
        }
        Ok(body_framing(&self.headers)?.unwrap_or(Framing::UntilClose))
    }

    /// The head as it goes on the wire.
    pub fn to_bytes(&self) -> Bytes {
        self.to_bytes_with_length(None)
    }

    /// The head as it goes on the wire, with a `Content-Length: <length>` field
    /// after its own fields when `length` is given: the bytes of
    /// [`ResponseHead::to_bytes`] for the head with that field pushed, without
    /// building (cloning) that head.
    pub fn to_bytes_with_length(&self, length: Option<usize>) -> Bytes {
        let mut out = BytesMut::new();
        self.put_with_length(&mut out, length);
        out.freeze()
    }

    /// Writes [`ResponseHead::to_bytes_with_length`]'s bytes at the end of
    /// `out`, in one reservation: for a writer that buffers the head with more
    /// (the server's write buffer), without a buffer of the head's own.
    pub fn put_with_length(&self, out: &mut BytesMut, length: Option<usize>) {
        out.reserve(self.len_with_length(length));
        put_status_line(out, self.status, &self.reason);
        write_fields(out, &self.headers);
        if let Some(length) = length {
            let _ = write!(out, "Content-Length: {length}\r\n");
        }
        out.put_slice(b"\r\n");
    }

    /// Room enough for [`ResponseHead::to_bytes_with_length`]'s bytes (the
    /// length field is counted at its longest).
    pub fn len_with_length(&self, length: Option<usize>) -> usize {
        let extra = length.map_or(0, |_| b"Content-Length: 18446744073709551615\r\n".len());
        self.encoded_len() + extra
    }

    /// The length of [`ResponseHead::to_bytes`], without writing it.
    pub fn encoded_len(&self) -> usize {
        status_line_len(self.status, &self.reason) + headers_len(&self.headers)
    }
}

/// Writes a request line (`METHOD target HTTP/1.1`), as [`RequestHead::to_bytes`]
/// does: for a writer that has the parts of a head but not a [`RequestHead`].
pub fn put_request_line(out: &mut BytesMut, method: &str, target: &str) {
    out.put_slice(method.as_bytes());
    out.put_u8(b' ');
    out.put_slice(target.as_bytes());
    out.put_slice(b" HTTP/1.1\r\n");
}

/// The length of what [`put_request_line`] writes.
pub fn request_line_len(method: &str, target: &str) -> usize {
    method.len() + 1 + target.len() + b" HTTP/1.1\r\n".len()
}

/// Writes a status line (`HTTP/1.1 status reason`), as [`ResponseHead::to_bytes`] does.
pub fn put_status_line(out: &mut BytesMut, status: u16, reason: &str) {
    // `write!` into a `BytesMut` formats in place (no `String`) and cannot fail.
    let _ = write!(out, "HTTP/1.1 {status} ");
    out.put_slice(reason.as_bytes());
    out.put_slice(b"\r\n");
}

/// The length of what [`put_status_line`] writes.
pub fn status_line_len(status: u16, reason: &str) -> usize {
    let digits = status.checked_ilog10().map_or(1, |d| d as usize + 1);
    b"HTTP/1.1 ".len() + digits + 1 + reason.len() + 2
}

/// Writes one header field line (`name: value`), as every head here does.
pub fn put_field(out: &mut BytesMut, name: &str, value: &str) {
    out.put_slice(name.as_bytes());
    out.put_slice(b": ");
    out.put_slice(value.as_bytes());
    out.put_slice(b"\r\n");
}

/// The length of what [`put_field`] writes.
pub fn field_len(name: &str, value: &str) -> usize {
    name.len() + 2 + value.len() + 2
}

/// The length of what [`write_headers`] writes.
fn headers_len(headers: &[Header]) -> usize {
    let fields: usize = headers.iter().map(|h| field_len(&h.name, &h.value)).sum();
    fields + 2
}

fn write_headers(out: &mut BytesMut, headers: &[Header]) {
    write_fields(out, headers);
    out.put_slice(b"\r\n");
}

fn write_fields(out: &mut BytesMut, headers: &[Header]) {
    for h in headers {
        put_field(out, &h.name, &h.value);
    }
}

fn collect(headers: &[httparse::Header<'_>]) -> Vec<Header> {
    headers
        .iter()
        .map(|h| Header::new(h.name, String::from_utf8_lossy(h.value).into_owned()))
        .collect()
}

fn malformed(what: &'static str) -> impl Fn(httparse::Error) -> Error {
    move |e| match e {
        httparse::Error::TooManyHeaders => Error::TooManyHeaders { limit: MAX_HEADERS },
        e => Error::Malformed {
            what,
            reason: e.to_string(),
        },
    }
}

/// Parses an HTTP/1.1 request head at the start of `buf`: `Some((head, length))`
/// once it is complete.
pub fn parse_request(buf: &[u8]) -> Result<Option<(RequestHead, usize)>> {
    parse_request_of(buf, false)
}

/// Parses a request head as an HTTP/1.1 server serves it: HTTP/1.1, or HTTP/1.0,
/// the same major version (a server refuses only a major version, with 505: RFC
/// 9110 §15.6.6). An HTTP/1.0 head comes back as the server must act on it:
/// without its `Upgrade` fields (RFC 9110 §7.8: "A server that receives an
/// Upgrade header field in an HTTP/1.0 request MUST ignore that Upgrade field")
/// and, unless it asks for
/// `keep-alive`, with `Connection: close` (RFC 9112 §9.3: otherwise "the
/// connection will close after the current response").
pub fn parse_served_request(buf: &[u8]) -> Result<Option<(RequestHead, usize)>> {
    parse_request_of(buf, true)
}

fn parse_request_of(buf: &[u8], http10: bool) -> Result<Option<(RequestHead, usize)>> {
    let mut headers = [const { MaybeUninit::uninit() }; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    match req
        .parse_with_uninit_headers(buf, &mut headers)
        .map_err(malformed("request head"))?
    {
        httparse::Status::Partial => Ok(None),
        httparse::Status::Complete(len) => {
            let version = req.version;
            if version != Some(1) && !(http10 && version == Some(0)) {
                return Err(Error::Malformed {
                    what: "request head",
                    reason: "not HTTP/1.1".into(),
                });
            }
            let mut head = RequestHead {
                method: req.method.unwrap_or_default().to_owned(),
                target: req.path.unwrap_or_default().to_owned(),
                headers: collect(req.headers),
            };
            if version == Some(0) {
                head.headers
                    .retain(|h| !h.name.eq_ignore_ascii_case("upgrade"));
                if !has_token(&head.headers, "connection", "keep-alive") {
                    head.headers.push(Header::new("Connection", "close"));
                }
            }
            Ok(Some((head, len)))
        }
    }
}

/// Parses a response head at the start of `buf`: `Some((head, length))` once it is complete.
pub fn parse_response(buf: &[u8]) -> Result<Option<(ResponseHead, usize)>> {
    parse_response_with(buf, |res| ResponseHead {
        status: res.code.unwrap_or_default(),
        reason: res.reason.unwrap_or_default().to_owned(),
        headers: collect(res.headers),
    })
}

/// The status of the response head in `buf` and where the head ends, as
/// [`parse_response`] finds them, without building the head: for a reader
/// that only needs the status.
pub fn response_status(buf: &[u8]) -> Result<Option<(u16, usize)>> {
    parse_response_with(buf, |res| res.code.unwrap_or_default())
}

fn parse_response_with<T>(
    buf: &[u8],
    found: impl FnOnce(&httparse::Response<'_, '_>) -> T,
) -> Result<Option<(T, usize)>> {
    // The header array is left uninitialised: it has 100 entries, and zeroing
    // it cost more than parsing a short head.
    let mut headers = [const { MaybeUninit::uninit() }; MAX_HEADERS];
    let mut res = httparse::Response::new(&mut []);
    match httparse::ParserConfig::default()
        .parse_response_with_uninit_headers(&mut res, buf, &mut headers)
        .map_err(malformed("response head"))?
    {
        httparse::Status::Partial => Ok(None),
        httparse::Status::Complete(len) => Ok(Some((found(&res), len))),
    }
}

/// Parses the final response head in `buf`, skipping interim (`1xx`, not `101`)
/// responses before it: `Some((head, end))`, where `end` is the offset just past it.
pub fn parse_final_response(buf: &[u8]) -> Result<Option<(ResponseHead, usize)>> {
    final_of(buf, parse_response, |head| head.status)
}

/// The status of the final response in `buf` and where its head ends, as
/// [`parse_final_response`] finds them, without building the heads: for the
/// scripted clients, which only need the status.
pub fn final_response_status(buf: &[u8]) -> Result<Option<(u16, usize)>> {
    final_of(buf, response_status, |&status| status)
}

/// What a judge reads of a final response head: its status, and whether it
/// has an `Upgrade` field (of any value), as [`ResponseHead::summary`] says
/// of the parsed head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadSummary {
    /// The status code.
    pub status: u16,
    /// Whether an `Upgrade` field is present.
    pub upgrade: bool,
}

impl ResponseHead {
    /// The head's [`HeadSummary`].
    pub fn summary(&self) -> HeadSummary {
        HeadSummary {
            status: self.status,
            upgrade: header_value(&self.headers, "upgrade").is_some(),
        }
    }
}

/// The [`HeadSummary`] of the final response in `buf` and where its head
/// ends, as [`parse_final_response`] finds them, without building the heads
/// (a string per field): for the oracle, which reads no more of a passing run.
pub fn final_response_summary(buf: &[u8]) -> Result<Option<(HeadSummary, usize)>> {
    let summary = |buf: &[u8]| {
        parse_response_with(buf, |res| HeadSummary {
            status: res.code.unwrap_or_default(),
            upgrade: res
                .headers
                .iter()
                .any(|h| h.name.eq_ignore_ascii_case("upgrade")),
        })
    };
    final_of(buf, summary, |found| found.status)
}

/// The first response in `buf` (read with `parse`) that is not interim, and
/// the offset just past it.
fn final_of<T>(
    buf: &[u8],
    parse: impl Fn(&[u8]) -> Result<Option<(T, usize)>>,
    status: impl Fn(&T) -> u16,
) -> Result<Option<(T, usize)>> {
    let mut at = 0;
    loop {
        let Some((found, len)) = parse(&buf[at..])? else {
            return Ok(None);
        };
        at += len;
        if !is_interim(status(&found)) {
            return Ok(Some((found, at)));
        }
    }
}

/// One step of decoding a chunked body from the start of `buf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkStep {
    /// Need more bytes.
    Partial,
    /// A data chunk: its payload is `buf[start..start + len]`; the step consumes `consumed` bytes.
    Data {
        /// Where the payload starts.
        start: usize,
        /// How long the payload is.
        len: usize,
        /// How many bytes of `buf` the chunk takes, CRLF included.
        consumed: usize,
    },
    /// The last chunk and its trailer section: `consumed` bytes end the body.
    Last {
        /// How many bytes of `buf` the last chunk and trailers take.
        consumed: usize,
    },
}

/// The longest chunk-size line (with extensions) or trailer line accepted.
pub const MAX_CHUNK_LINE: usize = 4096;

fn line_end(buf: &[u8]) -> Result<Option<usize>> {
    match memchr_crlf(buf) {
        Some(at) => Ok(Some(at)),
        None if buf.len() > MAX_CHUNK_LINE => Err(Error::Malformed {
            what: "chunked body",
            reason: "a line longer than 4096 bytes".into(),
        }),
        None => Ok(None),
    }
}

fn memchr_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n")
}

/// A chunk-size line at the start of `buf` (RFC 9112 §7.1): the chunk's size and
/// the length of the line with its CRLF, once the whole line is there.
pub fn chunk_size_line(buf: &[u8]) -> Result<Option<(u64, usize)>> {
    let Some(eol) = line_end(buf)? else {
        return Ok(None);
    };
    let size_text = buf[..eol].split(|&b| b == b';').next().unwrap_or_default();
    let size_text = std::str::from_utf8(size_text)
        .unwrap_or("")
        .trim_matches([' ', '\t']);
    let bad_size = || Error::Malformed {
        what: "chunk size line",
        reason: format!(
            "{:?} is not a hexadecimal size",
            String::from_utf8_lossy(&buf[..eol])
        ),
    };
    if size_text.is_empty()
        || size_text.len() > 15
        || !size_text.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(bad_size());
    }
    let size = u64::from_str_radix(size_text, 16).map_err(|_| bad_size())?;
    Ok(Some((size, eol + 2)))
}

/// The trailer section after the last chunk, at the start of `buf`: its length,
/// final empty line included, once it is all there.
pub fn trailers_len(buf: &[u8]) -> Result<Option<usize>> {
    let mut at = 0;
    loop {
        let Some(end) = line_end(&buf[at..])? else {
            return Ok(None);
        };
        at += end + 2;
        if end == 0 {
            return Ok(Some(at));
        }
    }
}

/// Decodes the next chunk of a chunked body (RFC 9112 §7.1).
pub fn chunk_step(buf: &[u8]) -> Result<ChunkStep> {
    let Some((size, start)) = chunk_size_line(buf)? else {
        return Ok(ChunkStep::Partial);
    };
    if size == 0 {
        return Ok(match trailers_len(&buf[start..])? {
            Some(len) => ChunkStep::Last {
                consumed: start + len,
            },
            None => ChunkStep::Partial,
        });
    }
    let end = usize::try_from(size)
        .ok()
        .and_then(|size| start.checked_add(size))
        .and_then(|e| e.checked_add(2))
        .ok_or_else(|| Error::Malformed {
            what: "chunk size line",
            reason: format!("a chunk of {size} bytes is larger than this machine's memory"),
        })?;
    if buf.len() < end {
        return Ok(ChunkStep::Partial);
    }
    if &buf[end - 2..end] != b"\r\n" {
        return Err(Error::Malformed {
            what: "chunked body",
            reason: "chunk data not followed by CRLF".into(),
        });
    }
    Ok(ChunkStep::Data {
        start,
        len: end - 2 - start,
        consumed: end,
    })
}

/// The length of a complete chunked body at the start of `buf`, if it is all there.
pub fn chunked_len(buf: &[u8]) -> Result<Option<usize>> {
    let mut at = 0;
    loop {
        match chunk_step(&buf[at..])? {
            ChunkStep::Partial => return Ok(None),
            ChunkStep::Data { consumed, .. } => at += consumed,
            ChunkStep::Last { consumed } => return Ok(Some(at + consumed)),
        }
    }
}

/// Where the request message (head and body) at the start of `buf` ends, once it is all there.
pub fn request_message_len(buf: &[u8]) -> Result<Option<(RequestHead, usize)>> {
    let Some((head, head_len)) = parse_request(buf)? else {
        return Ok(None);
    };
    let body_len = match head.framing()? {
        Framing::Empty | Framing::UntilClose => Some(0),
        Framing::Length(n) => {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            (buf.len() - head_len >= n).then_some(n)
        }
        Framing::Chunked => chunked_len(&buf[head_len..])?,
    };
    Ok(body_len.map(|body| (head, head_len + body)))
}

/// Encodes `chunks` as a chunked body, ending with the last chunk `0\r\n\r\n`.
pub fn encode_chunked(chunks: &[Bytes]) -> Bytes {
    let mut out = BytesMut::with_capacity(encoded_chunked_len(chunks));
    put_chunked(&mut out, chunks);
    out.freeze()
}

/// Writes [`encode_chunked`]'s bytes at the end of `out`.
pub fn put_chunked(out: &mut BytesMut, chunks: &[Bytes]) {
    for chunk in chunks.iter().filter(|c| !c.is_empty()) {
        let _ = write!(out, "{:x}\r\n", chunk.len());
        out.put_slice(chunk);
        out.put_slice(b"\r\n");
    }
    out.put_slice(b"0\r\n\r\n");
}

/// The length of [`encode_chunked`]'s bytes.
pub fn encoded_chunked_len(chunks: &[Bytes]) -> usize {
    let framed: usize = chunks
        .iter()
        .filter(|c| !c.is_empty())
        .map(|c| (c.len().ilog(16) as usize + 1) + 2 + c.len() + 2)
        .sum();
    framed + b"0\r\n\r\n".len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_chunked_len_is_the_length_of_the_encoded_body() {
        for lens in [
            &[][..],
            &[0],
            &[1, 15, 16],
            &[255, 256, 0, 4095, 4096, 70_000],
        ] {
            let chunks: Vec<Bytes> = lens.iter().map(|&n| Bytes::from(vec![b'x'; n])).collect();
            let encoded = encode_chunked(&chunks);
            assert_eq!(encoded_chunked_len(&chunks), encoded.len(), "{lens:?}");
        }
    }

    #[test]
    fn the_summary_of_the_final_response_is_that_of_its_parsed_head() {
        let heads: [&[u8]; 5] = [
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nab",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 OK\r\nupgrade: \r\n\r\n",
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 426 Upgrade Required\r\nX-Upgrade: no\r\n\r\n",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101",
        ];
        let mut upgrades = 0;
        for buf in heads {
            let parsed = parse_final_response(buf)
                .unwrap()
                .map(|(head, end)| (head.summary(), end));
            assert_eq!(final_response_summary(buf).unwrap(), parsed);
            upgrades += usize::from(parsed.is_some_and(|(s, _)| s.upgrade));
        }
        assert_eq!(
            upgrades, 2,
            "two of the complete heads have an Upgrade field"
        );
        assert!(final_response_summary(b"HTTP/1.1 abc\r\n\r\n").is_err());
    }

    #[test]
    fn encoded_len_is_the_written_length() {
        let headers = vec![Header::new("Upgrade", "echo"), Header::new("X-Empty", "")];
        for status in [0, 7, 99, 100, 101, 999, u16::MAX] {
            let head = ResponseHead {
                status,
                reason: "Reason".into(),
                headers: headers.clone(),
            };
            assert_eq!(head.encoded_len(), head.to_bytes().len(), "status {status}");
        }
        let head = RequestHead {
            method: "CONNECT".into(),
            target: "example.test:443".into(),
            headers,
        };
        assert_eq!(head.encoded_len(), head.to_bytes().len());
    }

    #[test]
    fn a_head_is_written_as_formatted_with_or_without_its_length() {
        for status in [0, 7, 99, 100, 101, 999, u16::MAX] {
            let head = ResponseHead {
                status,
                reason: "Reason".into(),
                headers: vec![Header::new("Upgrade", "echo")],
            };
            let expected = format!("HTTP/1.1 {status} Reason\r\nUpgrade: echo\r\n\r\n");
            assert_eq!(head.to_bytes(), expected.as_bytes());
            for length in [0, 9, 10, 65_536, usize::MAX] {
                let mut pushed = head.clone();
                let value = format!("{length}");
                pushed.headers.push(Header::new("Content-Length", value));
                let expected = format!(
                    "HTTP/1.1 {status} Reason\r\nUpgrade: echo\r\nContent-Length: {length}\r\n\r\n"
                );
                assert_eq!(pushed.to_bytes(), expected.as_bytes());
                let with = head.to_bytes_with_length(Some(length));
                assert_eq!(
                    with,
                    expected.as_bytes(),
                    "status {status}, length {length}"
                );
            }
        }
    }

    #[test]
    fn the_final_status_is_the_final_heads() {
        let inputs: [&[u8]; 8] = [
            b"",
            b"HTTP/1.1 100 Continue\r\n\r\n",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching\r\nUpgrade: echo\r\n\r\nab",
            b"HTTP/1.1 103 Early\r\nLink: x\r\n\r\nHTTP/1.1 400 Bad\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            b"HTTP/1.1 102 P\r\n\r\nHTTP/1.1 20",
            b"HTTP/1.1 100 Continue\r\n\r\nnot a head\r\n\r\n",
            b"HTTP/1.1 2000 Nope\r\n\r\n",
        ];
        for input in inputs {
            let whole = parse_final_response(input).map(|f| f.map(|(h, end)| (h.status, end)));
            let status = final_response_status(input);
            assert_eq!(format!("{status:?}"), format!("{whole:?}"), "{input:?}");
            let first = parse_response(input).map(|f| f.map(|(h, end)| (h.status, end)));
            let status = response_status(input);
            assert_eq!(format!("{status:?}"), format!("{first:?}"), "{input:?}");
        }
        assert_eq!(
            final_response_status(inputs[2]).ok().flatten(),
            Some((101, 66))
        );
    }

    #[test]
    fn chunked_round_trip() {
        let body = encode_chunked(&[
            Bytes::from_static(b"abc"),
            Bytes::from_static(b"0123456789abcdef0"),
        ]);
        assert_eq!(chunked_len(&body).unwrap(), Some(body.len()));
        assert_eq!(chunked_len(&body[..body.len() - 1]).unwrap(), None);
        assert_eq!(chunked_len(b"0\r\n\r\nrest").unwrap(), Some(5));
        assert_eq!(
            chunked_len(b"0;ext=1\r\nTrailer: x\r\n\r\n").unwrap(),
            Some(23)
        );
    }

    #[test]
    fn bad_chunk_sizes_are_errors() {
        for bad in [
            &b"zz\r\n"[..],
            b"\r\n",
            b"-1\r\n",
            b"ffffffffffffffffff\r\n",
            b"3\r\nabcX\r\n",
        ] {
            assert!(
                chunk_step(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn message_len_counts_the_body() {
        let msg = b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcEXTRA";
        let (_, len) = request_message_len(msg).unwrap().unwrap();
        assert_eq!(&msg[len..], b"EXTRA");
    }

    #[test]
    fn an_http10_head_is_served_without_its_upgrade_and_then_closed() {
        let input = b"GET / HTTP/1.0\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nnext";
        assert!(parse_request(input).is_err(), "HTTP/1.1 only");
        let (head, len) = parse_served_request(input).unwrap().unwrap();
        assert_eq!(len, input.len() - 4);
        assert!(!head.wants_upgrade());
        assert_eq!(header_value(&head.headers, "upgrade"), None);
        assert!(has_token(&head.headers, "connection", "close"));
        let kept = b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
        let (head, _) = parse_served_request(kept).unwrap().unwrap();
        assert!(!has_token(&head.headers, "connection", "close"));
        let (head, _) =
            parse_served_request(b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
                .unwrap()
                .unwrap();
        assert!(head.wants_upgrade(), "HTTP/1.1 heads are unchanged");
    }
}
