//! What happens on the wire in a Docker client case (a [`super::Case<Attach>`]): what
//! the stub's container prints and reads, how its output travels after the
//! `101`, and whether the attach is refused.
//!
//! A case is data, so the stub, the driver and the oracle read the same facts:
//! the stub puts [`Attach::wire`] on the attach connection, the driver writes
//! [`Attach::stdin`] on the client command's stdin, and the oracle compares what
//! the client printed with [`Attach::expected`].

use bytes::Bytes;

use crate::stdcopy::{self, Stream};

/// The most payload the stub puts in one multiplexed frame: the daemon frames
/// each read of the container's pipe, and a pipe read is at most 32 KiB.
pub const MAX_FRAME: usize = 32 * 1024;

/// The response head of a successful attach or exec start, as moby's
/// `api/server/router/container/container_routes.go` writes it: `101 UPGRADED`
/// when the request asked to upgrade, else the older explicit hijack (`200 OK`
/// and the raw stream). API 1.42 and later name the multiplexed content type;
/// the stub does too, as a current daemon does.
pub fn upgraded_head(tty: bool, upgrade: bool) -> Vec<u8> {
    let content_type = if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    };
    if !upgrade {
        return format!("HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n\r\n").into_bytes();
    }
    format!(
        "HTTP/1.1 101 UPGRADED\r\nContent-Type: {content_type}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
    )
    .into_bytes()
}

/// A refused attach, as a real daemon answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `404` (no such container) or `409` (not running).
    pub status: u16,
    /// Whether the answer carries `Connection: close` (Docker's client took a
    /// separate path for it: `httputil.ErrPersistEOF`).
    pub close: bool,
    /// Bytes the stub sends right after the answer's body, in the same write:
    /// container output a client that handed over would print.
    pub trailing: Bytes,
}

impl Refusal {
    /// The JSON error body a daemon sends with this status.
    pub fn body(&self) -> Vec<u8> {
        let message = match self.status {
            404 => "No such container: c1",
            _ => "You cannot attach to a stopped container, start it first",
        };
        let mut body = serde_json::json!({ "message": message }).to_string();
        body.push('\n');
        body.into_bytes()
    }

    /// The whole answer: head, JSON body, then the trailing bytes.
    pub fn answer(&self, tty: bool) -> (Vec<u8>, usize) {
        let body = self.body();
        let reason = match self.status {
            404 => "Not Found",
            _ => "Conflict",
        };
        let close = if self.close {
            "Connection: close\r\n"
        } else {
            ""
        };
        let mut out = format!(
            "HTTP/1.1 {} {reason}\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n{close}Content-Length: {}\r\n\r\n",
            self.status,
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(&body);
        let message_len = out.len();
        out.extend_from_slice(&wire_of(tty, &[(Stream::Stdout, self.trailing.clone())]).0);
        (out, message_len)
    }
}

/// What happens on the wire in one Docker client case: a container attached
/// to (or an exec started), its output, its stdin, or a refusal.
#[derive(Debug, Clone)]
pub struct Attach {
    /// Whether the container has a TTY (raw stream) or not (multiplexed).
    pub tty: bool,
    /// What the container writes while its stdin is open, in order.
    pub output: Vec<(Stream, Bytes)>,
    /// What it writes after the stub read the client's FIN (stdin closed).
    pub after_eof: Vec<(Stream, Bytes)>,
    /// How many bytes of the output's wire form travel with the `101` head, in
    /// one write (`usize::MAX`: all of it).
    pub early: usize,
    /// Further cut points in the output's wire form (offsets after the head):
    /// at each the stub pauses, so what is before it travels on its own.
    pub cuts: Vec<usize>,
    /// What the harness writes on the client command's stdin.
    pub stdin: Bytes,
    /// The refusal, when the case refuses the attach.
    pub refusal: Option<Refusal>,
}

/// Where one piece of output sits: in its stream, and on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// The stream it belongs to (always stdout with a TTY).
    pub stream: Stream,
    /// Its frame number on the wire (multiplexed only).
    pub frame: Option<usize>,
    /// Its offsets in what the client must print on `stream`.
    pub printed: std::ops::Range<usize>,
    /// Its payload's offsets in the output's wire form (after the `101` head).
    pub wire: std::ops::Range<usize>,
    /// Whether the stub sends it only after the client's FIN.
    pub after_eof: bool,
}

/// Payload positions in a wire form: stream, frame number, wire range.
type Placed = Vec<(Stream, Option<usize>, std::ops::Range<usize>)>;

/// The wire form of `chunks` (raw with a TTY, else frames of at most
/// [`MAX_FRAME`]) and where each payload sits in it.
fn wire_of(tty: bool, chunks: &[(Stream, Bytes)]) -> (Vec<u8>, Placed) {
    let mut wire = Vec::new();
    let mut pieces = Vec::new();
    let mut frames = 0;
    for (stream, bytes) in chunks {
        if tty {
            pieces.push((Stream::Stdout, None, wire.len()..wire.len() + bytes.len()));
            wire.extend_from_slice(bytes);
            continue;
        }
        for payload in bytes.chunks(MAX_FRAME) {
            wire.extend_from_slice(&stdcopy::header(*stream, payload.len()));
            pieces.push((
                *stream,
                Some(frames),
                wire.len()..wire.len() + payload.len(),
            ));
            wire.extend_from_slice(payload);
            frames += 1;
        }
    }
    (wire, pieces)
}

impl Attach {
    /// The output's wire form before and after the client's FIN, and where
    /// every piece of it sits (wire offsets count from the end of the head,
    /// across both parts; frames are numbered across both too).
    pub fn wire(&self) -> (Vec<u8>, Vec<u8>, Vec<Piece>) {
        let mut chunks = self.output.clone();
        chunks.extend(self.after_eof.iter().cloned());
        let (wire, placed) = wire_of(self.tty, &chunks);
        let before_len = wire_of(self.tty, &self.output).0.len();
        let mut printed = [0usize; 3];
        let pieces = placed
            .into_iter()
            .map(|(stream, frame, range)| {
                let at = &mut printed[stream.byte() as usize];
                let piece = Piece {
                    stream,
                    frame,
                    printed: *at..*at + range.len(),
                    after_eof: range.start >= before_len,
                    wire: range,
                };
                *at = piece.printed.end;
                piece
            })
            .collect();
        let (before, after) = wire.split_at(before_len);
        (before.to_vec(), after.to_vec(), pieces)
    }

    /// What the client must print on `stream`: everything the container wrote there, in order.
    pub fn expected(&self, stream: Stream) -> Vec<u8> {
        let stream_of = |s: Stream| if self.tty { Stream::Stdout } else { s };
        self.output
            .iter()
            .chain(&self.after_eof)
            .filter(|(s, _)| stream_of(*s) == stream)
            .flat_map(|(_, bytes)| bytes.iter().copied())
            .collect()
    }

    /// Whether the case refuses the attach.
    pub fn refused(&self) -> bool {
        self.refusal.is_some()
    }
}

/// `len` bytes of printable text from `seed`: lines of letters and digits, so a
/// terminal shows them and a diff names them, different for every seed.
pub fn text(seed: u64, len: usize) -> Bytes {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if i % 64 == 63 {
                b'\n'
            } else {
                ALPHABET[(state % ALPHABET.len() as u64) as usize]
            }
        })
        .collect::<Vec<u8>>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(tty: bool) -> Attach {
        Attach {
            tty,
            output: vec![
                (Stream::Stdout, Bytes::from_static(b"out")),
                (Stream::Stderr, Bytes::from_static(b"err")),
            ],
            after_eof: vec![(Stream::Stdout, Bytes::from_static(b"late"))],
            early: usize::MAX,
            cuts: vec![],
            stdin: Bytes::new(),
            refusal: None,
        }
    }

    #[test]
    fn multiplexed_pieces_name_their_frames_and_offsets() {
        let (before, after, pieces) = case(false).wire();
        assert_eq!(before.len(), 2 * 8 + 6);
        assert_eq!(&after[8..], b"late");
        assert_eq!(pieces[2].frame, Some(2));
        assert_eq!(pieces[2].printed, 3..7);
        assert!(pieces[2].after_eof);
        assert_eq!(pieces[1].wire, 19..22);
        assert_eq!(case(false).expected(Stream::Stdout), b"outlate");
        assert_eq!(case(false).expected(Stream::Stderr), b"err");
    }

    #[test]
    fn with_a_tty_everything_is_raw_stdout() {
        let (before, after, pieces) = case(true).wire();
        assert_eq!((&before[..], &after[..]), (&b"outerr"[..], &b"late"[..]));
        assert!(
            pieces
                .iter()
                .all(|p| p.stream == Stream::Stdout && p.frame.is_none())
        );
        assert_eq!(case(true).expected(Stream::Stdout), b"outerrlate");
        assert!(case(true).expected(Stream::Stderr).is_empty());
    }

    #[test]
    fn large_payloads_are_split_into_frames() {
        let mut big = case(false);
        big.output = vec![(Stream::Stdout, text(1, MAX_FRAME + 1))];
        big.after_eof.clear();
        let (before, _, pieces) = big.wire();
        assert_eq!(pieces.len(), 2);
        assert_eq!(before.len(), MAX_FRAME + 1 + 16);
    }

    #[test]
    fn a_refusal_is_a_json_error_then_the_trailing_bytes() {
        let refusal = Refusal {
            status: 404,
            close: true,
            trailing: Bytes::from_static(b"!"),
        };
        let (answer, message_len) = refusal.answer(false);
        let text = String::from_utf8_lossy(&answer[..message_len]);
        assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"), "{text}");
        assert!(text.contains("Connection: close\r\n"));
        assert!(text.ends_with("{\"message\":\"No such container: c1\"}\n"));
        assert_eq!(
            &answer[message_len..],
            &stdcopy::frame(Stream::Stdout, b"!")[..]
        );
        assert_eq!(text.len(), message_len);
    }

    #[test]
    fn text_is_seeded() {
        assert_eq!(text(7, 100), text(7, 100));
        assert_ne!(text(7, 100), text(8, 100));
        assert_eq!(text(7, 64)[63], b'\n');
    }
}
