//! The Docker client cases: one function each, its doc quoting the Docker
//! Engine API documentation (v1.41, "Attach to a container") or the RFC it rests
//! on, each a [`Case<Attach>`](super::Case) for clients ([`Proto::Docker`]).
//! Each isolates one point: only the `early` cases put output in the
//! `101`'s segment (the read-ahead), the others send it after a pause. Every case runs the same life of a container (`cat`-like, its stdin open):
//! the client attaches, the container's output arrives (some of it with the
//! `101`), the harness writes the case's stdin and then closes it, the client's
//! FIN ends the container's stdin, the output after it arrives, the stub closes.

use bytes::Bytes;

use super::attach::{Attach, Refusal, text};
use super::{Case, Level, Proto, Sides};
use crate::stdcopy::Stream;

/// Where the attach contract is written.
const ATTACH_SPEC: &str = "Docker Engine API v1.41, POST /containers/{id}/attach";
/// The stream format section of the same page.
const STREAM_SPEC: &str = "Docker Engine API v1.41, attach: Stream format";
/// What the harness writes on stdin when the case is not about stdin.
const STDIN_LEN: usize = 300;
/// The payload a refusal case sends after the error body: a client that
/// handed over prints it.
const SMUGGLED: &[u8] = b"hijack-harness: container output after a refusal\n";

/// Every Docker client case, in a stable order.
pub fn all() -> Vec<Case<Attach>> {
    let mut out = Vec::new();
    for size in EARLY_SIZES {
        out.push(tty_early(size));
    }
    for size in EARLY_SIZES {
        out.push(mux_early(size));
    }
    out.extend([
        mux_split_headers(),
        tty_split_every_byte(),
        tty_header_like_bytes(),
        stdin_delivered(),
        output_after_stdin_eof(),
        tty_output_after_stdin_eof(),
    ]);
    for tty in [false, true] {
        for (status, close) in [(404, false), (404, true), (409, false), (409, true)] {
            out.push(refused(status, close, tty));
        }
    }
    out
}

/// The early-data sizes of the server side: 1, 300, beyond 4 KiB, beyond 64 KiB.
const EARLY_SIZES: [usize; 4] = [1, 300, 4097, 70_000];

fn base(id: &'static str, title: &'static str, spec: &'static str, tty: bool) -> Case<Attach> {
    Case {
        id,
        title,
        level: Level::Must,
        spec,
        bug: "",
        sides: Sides::CLIENT,
        protocols: &[Proto::Docker],
        scenario: Attach {
            tty,
            output: Vec::new(),
            after_eof: Vec::new(),
            early: usize::MAX,
            cuts: Vec::new(),
            stdin: text(0x5713, STDIN_LEN),
            refusal: None,
        },
    }
}

/// TTY output of `size` bytes, all of it in the `101`'s segment.
///
/// "When the TTY setting is enabled in `POST /containers/create`, the stream is
/// not multiplexed. The data exchanged over the hijacked connection is simply
/// the raw data from the process PTY and client's stdin." A client must print
/// every byte, the ones its HTTP reader took with the head included.
pub fn tty_early(size: usize) -> Case<Attach> {
    let id = match size {
        1 => "docker.output.tty.early.1",
        300 => "docker.output.tty.early.300",
        4097 => "docker.output.tty.early.4k",
        _ => "docker.output.tty.early.64k",
    };
    let mut case = base(
        id,
        "TTY output that arrives with the 101 is printed, every byte",
        STREAM_SPEC,
        true,
    );
    case.bug = "docker/docker-py#2466";
    case.scenario.output = vec![(Stream::Stdout, text(size as u64, size))];
    case
}

/// Multiplexed output (`size` bytes on stdout, then `size` on stderr), all in
/// the `101`'s segment.
///
/// "The stream consists of a series of frames, each containing a header and a
/// payload. The header contains the information which the stream writes
/// (`stdout` or `stderr`)." A client must print each payload on its stream,
/// the frames its HTTP reader took with the head included.
pub fn mux_early(size: usize) -> Case<Attach> {
    let id = match size {
        1 => "docker.output.mux.early.1",
        300 => "docker.output.mux.early.300",
        4097 => "docker.output.mux.early.4k",
        _ => "docker.output.mux.early.64k",
    };
    let mut case = base(
        id,
        "multiplexed output that arrives with the 101 is printed on stdout and stderr",
        STREAM_SPEC,
        false,
    );
    case.bug = "docker/docker-py#2466";
    case.scenario.output = vec![
        (Stream::Stdout, text(size as u64 + 1, size)),
        (Stream::Stderr, text(size as u64 + 2, size)),
    ];
    case
}

/// Frames whose headers and payloads are split across segments, none of them
/// with the `101` (so the case is about reassembly, not the read-ahead).
///
/// "It is encoded on the first eight bytes like this: `header := [8]byte{
/// STREAM_TYPE, 0, 0, 0, SIZE1, SIZE2, SIZE3, SIZE4}`" and "Read the payload
/// for the size and output it on the correct output stream." The header is
/// eight bytes wherever the transport cuts it.
pub fn mux_split_headers() -> Case<Attach> {
    let mut case = base(
        "docker.output.mux.split-headers",
        "frame headers and payloads split at odd bytes are reassembled",
        STREAM_SPEC,
        false,
    );
    case.scenario.output = vec![
        (Stream::Stdout, text(11, 20)),
        (Stream::Stderr, text(12, 20)),
        (Stream::Stdout, text(13, 5)),
    ];
    case.scenario.early = 0;
    // Frame 0 spans 0..28, frame 1 28..56, frame 2 56..69 of the wire.
    case.scenario.cuts = vec![3, 7, 9, 20, 30, 35, 57, 64];
    case
}

/// TTY output where every byte travels in its own segment.
///
/// "The data exchanged over the hijacked connection is simply the raw data from
/// the process PTY": how the transport cuts it is not the client's to change.
pub fn tty_split_every_byte() -> Case<Attach> {
    let mut case = base(
        "docker.output.tty.split-every-byte",
        "TTY output cut at every byte is printed whole, in order",
        STREAM_SPEC,
        true,
    );
    case.scenario.output = vec![(Stream::Stdout, text(21, 24))];
    case.scenario.early = 0;
    case.scenario.cuts = (1..24).collect();
    case
}

/// TTY output whose bytes look like a frame header (stream byte 0 to 2, then zeros).
///
/// "When the TTY setting is enabled in `POST /containers/create`, the stream is
/// not multiplexed." A PTY can carry any byte; a client that guesses the format
/// from the first byte, instead of the container's `Tty` setting or the
/// answer's `Content-Type: application/vnd.docker.raw-stream`, misreads it.
pub fn tty_header_like_bytes() -> Case<Attach> {
    let mut case = base(
        "docker.output.tty.header-like-bytes",
        "raw TTY output starting with bytes 0x00..0x02 is printed as is, not read as frames",
        STREAM_SPEC,
        true,
    );
    let mut first = vec![0x01, 0, 0, 0, 0, 0, 0, 0x05];
    first.extend_from_slice(b"hello\r\n");
    let mut second = vec![0x02, 0x00];
    second.extend_from_slice(b"tty bytes\r\n");
    case.scenario.output = vec![
        (Stream::Stdout, Bytes::from(first)),
        (Stream::Stdout, Bytes::from(second)),
    ];
    case.scenario.early = 0;
    case.scenario.cuts = vec![15];
    case
}

/// 70,000 bytes on the command's stdin reach the container, then EOF.
///
/// "This endpoint hijacks the HTTP connection to transport `stdin`, `stdout`,
/// and `stderr` on the same socket." Everything written on the client's stdin
/// must arrive after the attach request, exactly, in order.
pub fn stdin_delivered() -> Case<Attach> {
    let mut case = base(
        "docker.stdin.delivered",
        "beyond 64 KiB written on the client's stdin reaches the container exactly",
        ATTACH_SPEC,
        false,
    );
    case.scenario.stdin = text(0x57d1, 70_000);
    case.scenario.output = vec![(Stream::Stdout, text(31, 100))];
    case.scenario.early = 0;
    case
}

/// Output the container writes after the client closed stdin is printed.
///
/// RFC 9293 §3.6: "A TCP connection may terminate [...] the user who CLOSEs may
/// continue to RECEIVE until the other side also CLOSEs." Docker's client ends
/// stdin with `CloseWrite` and keeps printing (moby/moby#36516): the container
/// sees EOF and its last output still reaches the terminal.
pub fn output_after_stdin_eof() -> Case<Attach> {
    let mut case = base(
        "docker.halfclose.output-after-stdin-eof",
        "closing stdin sends FIN and the output after it is still printed (multiplexed)",
        "RFC 9293 §3.6; Docker Engine API v1.41, attach",
        false,
    );
    case.bug = "moby/moby#36516";
    case.scenario.output = vec![(Stream::Stdout, text(41, 64))];
    case.scenario.early = 0;
    case.scenario.after_eof = vec![
        (Stream::Stdout, text(42, 300)),
        (Stream::Stderr, text(43, 100)),
    ];
    case
}

/// The same with a TTY: the output after EOF is raw.
///
/// RFC 9293 §3.6: "the user who CLOSEs may continue to RECEIVE until the other
/// side also CLOSEs." (moby/moby#36516)
pub fn tty_output_after_stdin_eof() -> Case<Attach> {
    let mut case = base(
        "docker.halfclose.tty.output-after-stdin-eof",
        "closing stdin sends FIN and the output after it is still printed (TTY)",
        "RFC 9293 §3.6; Docker Engine API v1.41, attach",
        true,
    );
    case.bug = "moby/moby#36516";
    case.scenario.output = vec![(Stream::Stdout, text(44, 64))];
    case.scenario.early = 0;
    case.scenario.after_eof = vec![(Stream::Stdout, text(45, 300))];
    case
}

/// A refused attach: `status` with a JSON error body (and `Connection: close`
/// when `close`), then container output a client that handed over would print.
/// The body follows the head after a pause, so a client that hands over has
/// begun to copy its stdin onto the connection before the body stops its reader.
///
/// "Responses: 101 no error, hints proxy about hijacking; 200 no error, no
/// upgrade header found; 400 bad parameter; 404 no such container; 500 server
/// error" (the daemon also answers `409` for a stopped or paused container).
/// RFC 9110 §15.2.2: a 101 "indicates that the server understands and is willing
/// to comply with the client's request, via the Upgrade header field"; without
/// it the connection is still HTTP, so nothing is handed over (point 6).
pub fn refused(status: u16, close: bool, tty: bool) -> Case<Attach> {
    let id = match (status, close, tty) {
        (404, false, false) => "docker.refusal.not-found",
        (404, true, false) => "docker.refusal.not-found.close",
        (404, false, true) => "docker.refusal.not-found.tty",
        (404, true, true) => "docker.refusal.not-found.close.tty",
        (_, false, false) => "docker.refusal.conflict",
        (_, true, false) => "docker.refusal.conflict.close",
        (_, false, true) => "docker.refusal.conflict.tty",
        (_, true, true) => "docker.refusal.conflict.close.tty",
    };
    let mut case = base(
        id,
        "a 404/409 with a JSON error body is not handed over: no body or later bytes printed, no stdin sent raw",
        "Docker Engine API v1.41, attach: Responses; RFC 9110 §15.2.2",
        tty,
    );
    case.bug = if close {
        "httputil.ClientConn ErrPersistEOF path in moby client/hijack.go (fixed by moby/moby#46920)"
    } else {
        ""
    };
    case.scenario.output = vec![(Stream::Stdout, text(51, 20))];
    case.scenario.refusal = Some(Refusal {
        status,
        close,
        trailing: Bytes::from_static(SMUGGLED),
    });
    case
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_every_case_has_a_spec() {
        let cases = all();
        let ids: HashSet<_> = cases.iter().map(|c| c.id).collect();
        assert_eq!(ids.len(), cases.len());
        for case in &cases {
            assert!(case.id.starts_with("docker."), "{}", case.id);
            assert!(
                !case.spec.is_empty() && !case.title.is_empty(),
                "{}",
                case.id
            );
        }
    }

    #[test]
    fn the_split_headers_case_cuts_inside_headers_and_payloads() {
        let case = mux_split_headers();
        let (before, _, pieces) = case.scenario.wire();
        assert_eq!(before.len(), 69);
        assert_eq!(pieces[1].wire, 36..56);
        // 3 (in header 0), 7 (header 0), 30 and 35 (header 1), 57 (header 2).
        assert!(case.scenario.cuts.iter().any(|&c| (28..36).contains(&c)));
    }

    #[test]
    fn early_sizes_reach_beyond_64k_in_the_first_write() {
        let case = tty_early(70_000);
        assert_eq!(case.scenario.early, usize::MAX);
        assert_eq!(case.scenario.wire().0.len(), 70_000);
        assert_eq!(mux_early(1).scenario.wire().0.len(), 2 * 9);
    }
}
