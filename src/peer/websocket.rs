//! The scripted WebSocket peers: a client for server subjects and a server for
//! client subjects, sending exactly the frames of a
//! [`MessageScenario`](crate::scenario::websocket::MessageScenario).
//!
//! Each writes its handshake message and the scenario's early frames in one
//! write (one segment unless the wire cuts it), waits for the other side's
//! answer, then for the first frame the subject's application sends (its
//! greeting), and only then writes the rest: so "early" frames are the ones that
//! travelled with the handshake, and the others certainly did not. Then it reads
//! until EOF; the scripted server closes the connection as soon as it has seen the
//! subject's close (RFC 6455 §7.1.1: "the server SHOULD close the underlying TCP
//! connection first"). What either peer received is not kept here: the trace has it.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::read_to_eof;
use crate::reference::head;
use crate::scenario::websocket::{HOST, PATH, PeerFrames};
use crate::websocket::{OpCode, accept, valid_key, whole};

use super::READ_SIZE;
/// The most the peers buffer while looking for a head or a frame.
const MAX_BUFFER: usize = 1 << 22;

/// What a subject writes besides its echo of the peer's frames, at most: its
/// handshake head, its close, and the frame of a greeting as long as the
/// scenarios draw (300 bytes).
pub const SUBJECT_EXTRA: usize = 1024;

/// The scripted client's opening handshake (RFC 6455 §4.1) with `key`.
pub fn request_head(key: &str) -> Vec<u8> {
    format!(
        "GET {PATH} HTTP/1.1\r\nHost: {HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .into_bytes()
}

/// The scripted server's `101` for a request that carried `key` (§4.2.2).
pub fn response_head(key: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        accept(key)
    )
    .into_bytes()
}

/// The length of [`request_head`] for any key the scenarios draw (base64 of
/// 16 bytes, always 24 characters), for resolving cuts: computed once, not
/// formatted again each case beside the head the scripted client sends.
pub fn request_head_len() -> usize {
    static LEN: std::sync::LazyLock<usize> =
        std::sync::LazyLock::new(|| request_head("AAAAAAAAAAAAAAAAAAAAAA==").len());
    *LEN
}

/// The length of [`response_head`] for any valid key (the accept value is always
/// 28 characters), for resolving cuts before the key is known. Computed once: a
/// head with its SHA-1 each case was most of a percent of a client case.
pub fn response_head_len() -> usize {
    static LEN: std::sync::LazyLock<usize> =
        std::sync::LazyLock::new(|| response_head("AAAAAAAAAAAAAAAAAAAAAA==").len());
    *LEN
}

/// Reads more into `buf`; false at EOF or past [`MAX_BUFFER`].
async fn fill<IO: AsyncRead + Unpin>(io: &mut IO, buf: &mut Vec<u8>) -> io::Result<bool> {
    if buf.len() > MAX_BUFFER {
        return Ok(false);
    }
    buf.reserve(READ_SIZE);
    Ok(io.read_buf(buf).await? > 0)
}

/// Reads until `buf[from..]` starts with one whole frame; false at EOF or on an invalid frame.
async fn read_frame<IO: AsyncRead + Unpin>(
    io: &mut IO,
    buf: &mut Vec<u8>,
    from: usize,
) -> io::Result<bool> {
    loop {
        // The header says whether the frame is whole; its payload is never copied.
        match whole(&buf[from.min(buf.len())..], MAX_BUFFER) {
            Ok(Some(_)) => return Ok(true),
            Err(_) => return Ok(false),
            Ok(None) => {}
        }
        if !fill(io, buf).await? {
            return Ok(false);
        }
    }
}

/// Reads frames after `from` until a close frame or EOF; true when a close came.
///
/// The frames already looked at are dropped from `buf` when it runs out of
/// room (the trace keeps them), so it is not copied into a larger one as the
/// subject's stream grows; [`MAX_BUFFER`] still bounds the bytes read in all.
async fn read_until_close<IO: AsyncRead + Unpin>(
    io: &mut IO,
    buf: &mut Vec<u8>,
    mut from: usize,
) -> io::Result<bool> {
    // Bytes of the stream dropped from the front of `buf`.
    let mut dropped = 0;
    loop {
        while let Ok(Some(header)) = whole(&buf[from.min(buf.len())..], MAX_BUFFER) {
            if header.opcode == OpCode::Close {
                return Ok(true);
            }
            from += header.frame_len();
        }
        if dropped + buf.len() > MAX_BUFFER {
            return Ok(false);
        }
        if buf.capacity() - buf.len() < READ_SIZE {
            let done = from.min(buf.len());
            buf.drain(..done);
            dropped += done;
            from -= done;
        }
        if !fill(io, buf).await? {
            return Ok(false);
        }
    }
}

/// Writes the handshake message and the early frames in one write.
async fn write_with_early<IO: AsyncWrite + Unpin>(
    io: &mut IO,
    head: &[u8],
    frames: &PeerFrames,
) -> io::Result<()> {
    let mut first = Vec::with_capacity(head.len() + frames.early_end);
    first.extend_from_slice(head);
    first.extend_from_slice(&frames.bytes[..frames.early_end]);
    io.write_all(&first).await
}

/// The scripted client: request and early frames, then (after a `101` and the
/// server application's first frame) the late frames; reads until EOF and closes.
pub async fn client<IO: AsyncRead + AsyncWrite + Unpin>(
    mut io: IO,
    key: &str,
    frames: &PeerFrames,
) -> io::Result<()> {
    write_with_early(&mut io, &request_head(key), frames).await?;
    let mut received = Vec::new();
    let head_end = loop {
        match head::parse_final_response(&received) {
            Ok(Some((response, len))) if response.status == 101 => break Some(len),
            Ok(Some(_)) | Err(_) => break None,
            Ok(None) => {}
        }
        if !fill(&mut io, &mut received).await? {
            break None;
        }
    };
    if let Some(head_end) = head_end
        && read_frame(&mut io, &mut received, head_end).await?
    {
        io.write_all(&frames.bytes[frames.early_end..]).await?;
    }
    read_to_eof(&mut io).await?;
    io.shutdown().await
}

/// The key of a valid opening handshake in `request`, or why it is not one.
pub fn handshake_key(request: &head::RequestHead) -> Result<String, String> {
    let headers = &request.headers;
    if request.method != "GET" {
        return Err(format!("the method is {}, not GET", request.method));
    }
    if !head::has_token(headers, "upgrade", "websocket") {
        return Err("no `Upgrade: websocket`".into());
    }
    if !head::has_token(headers, "connection", "upgrade") {
        return Err("no `Connection: Upgrade`".into());
    }
    if head::header_value(headers, "sec-websocket-version").map(str::trim) != Some("13") {
        return Err("no `Sec-WebSocket-Version: 13`".into());
    }
    match head::header_value(headers, "sec-websocket-key") {
        Some(key) if valid_key(key) => Ok(key.trim().to_owned()),
        Some(key) => Err(format!("the key {key:?} is not base64 of 16 bytes")),
        None => Err("no `Sec-WebSocket-Key`".into()),
    }
}

/// The scripted server: reads the opening handshake, answers `101` with the
/// early frames (or `400` to an invalid one), then (after the client
/// application's first frame) the late frames; closes after the client's close
/// or at EOF.
pub async fn server<IO: AsyncRead + AsyncWrite + Unpin>(
    mut io: IO,
    frames: &PeerFrames,
) -> io::Result<()> {
    // Room for the client's stream (its head, the echo of every frame, four
    // bytes longer for the mask, its greeting and its close) and a read more,
    // so the buffer is not copied as it grows: with room for the frames sent
    // only, the first echo of a case whose one message is most of the stream
    // outgrew it (`fill` wants a whole read of room), a copy in 2 cases of 5.
    let mut received = Vec::with_capacity(
        frames.bytes.len() + 4 * frames.frames.len() + SUBJECT_EXTRA + READ_SIZE,
    );
    let (request, head_end) = loop {
        match head::parse_request(&received) {
            Ok(Some(found)) => break found,
            Ok(None) if fill(&mut io, &mut received).await? => {}
            _ => return io.shutdown().await,
        }
    };
    let Ok(key) = handshake_key(&request) else {
        io.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await?;
        return io.shutdown().await;
    };
    write_with_early(&mut io, &response_head(&key), frames).await?;
    if read_frame(&mut io, &mut received, head_end).await? {
        io.write_all(&frames.bytes[frames.early_end..]).await?;
        read_until_close(&mut io, &mut received, head_end).await?;
    }
    io.shutdown().await
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;

    use super::*;
    use crate::websocket::Frame;
    use crate::wire::Recorder;
    use crate::wire::driver::{Ending, drive, join};
    use crate::wire::memory::{Cuts, pair};

    /// The heads' lengths computed once are those of every drawn key's heads.
    #[test]
    fn the_heads_have_one_length_for_every_drawn_key() {
        for seed in (0..200u64).chain([u64::MAX]) {
            let key = crate::websocket::key_from_seed(seed);
            assert_eq!(request_head(&key).len(), request_head_len(), "{key}");
            assert_eq!(response_head(&key).len(), response_head_len(), "{key}");
        }
    }

    #[test]
    fn the_scripted_server_reads_a_long_stream_to_its_close_in_the_room_it_has() {
        let (mut client, mut server, wire) = pair(&Cuts::default(), Recorder::new());
        // Far more than the buffer holds, in frames, then a close.
        let mut stream = Vec::new();
        for i in 0..100u8 {
            Frame::new(OpCode::Binary, vec![i; 1000]).encode_into(&mut stream);
        }
        Frame::close(1000, "").encode_into(&mut stream);
        let room = 2 * READ_SIZE;
        let mut buf = Vec::with_capacity(room);
        let writer = async move {
            for chunk in stream.chunks(7_000) {
                client.write_all(chunk).await?;
            }
            client.shutdown().await
        };
        let (out, ending) = drive(
            join(writer, read_until_close(&mut server, &mut buf, 0)),
            &wire,
            10_000,
        );
        assert_eq!(ending, Ending::Completed);
        let (written, closed) = out.expect("completed");
        assert!(written.is_ok());
        assert!(closed.expect("read"), "the close was not found");
        // The frames looked at made room: the buffer never grew.
        assert_eq!(buf.capacity(), room);
    }
}
