//! A trace as text: one line per event, readable at a glance and stable under diff.
//!
//! This is what a person sees when a run fails, and what `snapshots/` pins down, so
//! it has two jobs that pull against each other: show the bytes that matter (the
//! HTTP heads, the first bytes of the new protocol, the bytes that went wrong), and
//! stay small and stable enough that a snapshot diff is one line per real change.
//!
//! # The format
//!
//! The mutant that ignores the library's read-ahead, on the case that sends one
//! byte (`9`) in the segment of the request head (`snapshots/mutant-ignores-read-ahead__handoff.early-data.same-segment.1.snap`):
//!
//! ```text
//! mutant:ignores-read-ahead server: FAIL
//! c>s #0   @0          82  "GET /upgrade HTTP/1.1\r\nHost: example.test\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n9"
//! == server hijacked ==
//! s>c #0   @0          72  "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n"
//! c>s FIN (shutdown)
//! .. server app shut down its write half
//! s>c FIN (shutdown)
//! .. server app done
//! FAIL point 1 (read side, server): server app read 0 of the 1 byte the client sent after the request: bytes 0..1 (1 byte) were never delivered (c>s segment 0, the one that carried the end of the message)
//!   lost 1 byte: c>s stream bytes 81..82, in segment #0 at 81..82
//!     c>s #0   @0          82  "GET /upgrade HTTP/1.1\r\nHost: example.test\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n9"
//!                                                                                                                          ^
//! ```
//!
//! (The reference echoes the `9` back after the 101; this mutant never read it,
//! so the `s>c` stream ends with the head. The hijack comes before the 101 on the
//! wire because, as with Go's `Hijacker`, the head is still in the library's write
//! buffer when the application takes the connection.)
//!
//! * A **segment** line: direction (`c>s` client to server, `s>c` server to
//!   client), the segment's number in that direction (`#0`), the stream offset
//!   of its first byte (`@79`: the offsets the oracle's diagnosis uses), its length,
//!   then its bytes in quotes: printable ASCII as is, `\r`, `\n`, `\t`, `\\`, `\"`
//!   and `\xNN` for the rest, so an invisible difference (a CR, a NUL) is visible.
//! * A long **run** of bytes is elided: `"first" <4476 bytes fnv1a 8d1f0a6c2e3b4a59> "last"`.
//!   A run is a stretch of text (at least [`TEXT_MIN`] printable bytes in a row) or
//!   of binary (everything else). Text is kept whole up to [`TEXT_SHOWN`] bytes and
//!   binary up to [`BINARY_SHOWN`]; beyond that the line keeps the run's first and
//!   last bytes and replaces the middle with its length and its 64-bit FNV-1a hash.
//!   So an HTTP head is always shown in full next to the noise that follows it, a
//!   70 kB payload costs one short line, and a change to any elided byte still
//!   changes the line (FNV-1a is computed here, not with std's per-process
//!   randomized hasher, so the snapshot is the same on every machine).
//! * `c>s FIN (shutdown)` / `(dropped)`: the writer of that direction sent FIN by
//!   shutting down its write half, or by closing the connection; `c>s RST`: a reset.
//! * `== server hijacked ==`: the library on that side handed the connection to its
//!   application here; everything after it in that side's direction is the
//!   application's (or a bug). `..` lines are what the application did.
//!
//! A run's text (`report::trace_text::render_run`) adds a first line (subject,
//! side, `pass`, `FAIL` or `unsupported`) and, for a failing run, the oracle's
//! diagnosis under the trace (`oracle::render_diagnosis`), which re-prints
//! the segments it marks with [`show`], split at the marked range's ends so that
//! the carets land on the first and last wrong byte.

use std::fmt::Write;
use std::ops::Range;

use super::trace::{Closing, Direction, Event, Trace};

/// The fewest printable bytes in a row that count as a text run. Random bytes are
/// printable 37% of the time, so shorter stretches inside noise stay binary
/// (16 in a row happen by chance about once in five million bytes).
pub const TEXT_MIN: usize = 16;
/// A text run up to this long is shown whole (an HTTP head always is).
pub const TEXT_SHOWN: usize = 512;
/// How many bytes of a longer text run are kept at its start and at its end.
pub const TEXT_KEPT: (usize, usize) = (128, 32);
/// A binary run up to this long is shown whole.
pub const BINARY_SHOWN: usize = 32;
/// How many bytes of a longer binary run are kept at its start and at its end.
pub const BINARY_KEPT: (usize, usize) = (16, 8);

/// 64-bit FNV-1a: a hash that is the same on every machine and every run, for
/// elided bytes in snapshots (std's `DefaultHasher` is seeded per process).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Bytes rendered for a line, with where each byte went, so a caret line can point at them.
pub struct Shown {
    /// The bytes as the line shows them (quoted, escaped, long runs elided).
    pub text: String,
    /// (bytes, columns) per token: one byte each where shown, a whole run where elided.
    pub tokens: Vec<(Range<usize>, Range<usize>)>,
}

fn texty(b: u8) -> bool {
    matches!(b, 0x20..=0x7e | b'\r' | b'\n' | b'\t')
}

/// The runs of `bytes`: `(range, is_text)`, in order, covering every byte.
fn runs(bytes: &[u8]) -> Vec<(Range<usize>, bool)> {
    let mut text = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if texty(bytes[i]) {
            let start = i;
            while i < bytes.len() && texty(bytes[i]) {
                i += 1;
            }
            if i - start >= TEXT_MIN || i - start == bytes.len() {
                text.push(start..i);
            }
        } else {
            i += 1;
        }
    }
    let mut out = Vec::new();
    let mut at = 0;
    for range in text {
        if range.start > at {
            out.push((at..range.start, false));
        }
        at = range.end;
        out.push((range, true));
    }
    if at < bytes.len() {
        out.push((at..bytes.len(), false));
    }
    out
}

/// How many bytes stay visible on each side of a marked boundary inside a long run.
const AROUND_MARK: usize = 4;
/// The shortest stretch worth eliding once marks have cut a run up.
const MIN_ELIDED: usize = 8;

/// The ranges of `bytes` that are elided, in order. No elision hides the bytes
/// around an offset in `keep` (the ends of a marked range), so a caret line can
/// point at the exact byte where lost bytes start even inside a 70 kB segment.
fn elided(bytes: &[u8], keep: &[usize]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    for (range, text) in runs(bytes) {
        let (shown, (head, tail)) = if text {
            (TEXT_SHOWN, TEXT_KEPT)
        } else {
            (BINARY_SHOWN, BINARY_KEPT)
        };
        if range.len() <= shown {
            continue;
        }
        let middle = range.start + head..range.end - tail;
        let mut pieces = vec![middle];
        for &k in keep {
            let window = k.saturating_sub(AROUND_MARK)..k + AROUND_MARK;
            pieces = pieces
                .into_iter()
                .flat_map(|p| {
                    if window.end <= p.start || p.end <= window.start {
                        vec![p]
                    } else {
                        vec![
                            p.start..window.start.max(p.start),
                            window.end.min(p.end)..p.end,
                        ]
                    }
                })
                .filter(|p| p.len() >= MIN_ELIDED)
                .collect();
        }
        out.extend(pieces);
    }
    out
}

fn escape(out: &mut String, b: u8) {
    match b {
        b'\r' => out.push_str("\\r"),
        b'\n' => out.push_str("\\n"),
        b'\t' => out.push_str("\\t"),
        b'\\' => out.push_str("\\\\"),
        b'"' => out.push_str("\\\""),
        0x20..=0x7e => out.push(char::from(b)),
        _ => {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
}

/// `bytes` as a line shows them; an elided run is split at each offset in
/// `keep`, so that a caret can land on a byte inside it.
pub fn show(bytes: &[u8], keep: &[usize]) -> Shown {
    let mut text = String::new();
    let mut tokens = Vec::new();
    let quoted = |text: &mut String, tokens: &mut Vec<_>, range: Range<usize>| {
        if range.is_empty() {
            return;
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push('"');
        for i in range {
            let col = text.len();
            escape(text, bytes[i]);
            tokens.push((i..i + 1, col..text.len()));
        }
        text.push('"');
    };
    let mut at = 0;
    for cut in elided(bytes, keep) {
        quoted(&mut text, &mut tokens, at..cut.start);
        text.push(' ');
        let col = text.len();
        let _ = write!(
            text,
            "<{} bytes fnv1a {:016x}>",
            cut.len(),
            fnv1a64(&bytes[cut.clone()])
        );
        tokens.push((cut.clone(), col..text.len()));
        at = cut.end;
    }
    quoted(&mut text, &mut tokens, at..bytes.len());
    if bytes.is_empty() {
        text.push_str("\"\"");
    }
    Shown { text, tokens }
}

/// The prefix of a segment line, up to its bytes.
pub fn segment_prefix(dir: Direction, index: usize, start: usize, len: usize) -> String {
    format!("{dir} #{index:<3} @{start:<6} {len:>6}  ")
}

/// One event's line; `start` is where a segment's bytes start in its direction's stream.
pub fn event_line(event: &Event, start: usize) -> String {
    match event {
        Event::Segment { dir, index, bytes } => {
            segment_prefix(*dir, *index, start, bytes.len()) + &show(bytes, &[]).text
        }
        Event::Fin { dir, how } => format!(
            "{dir} FIN ({})",
            match how {
                Closing::Shutdown => "shutdown",
                Closing::Dropped => "dropped",
            }
        ),
        Event::Reset { dir } => format!("{dir} RST"),
        Event::Hijack { side } => format!("== {side} hijacked =="),
        Event::AppShutdown { side } => format!(".. {side} app shut down its write half"),
        Event::AppEnd { side } => format!(".. {side} app done"),
    }
}

/// Where each event's bytes start in its direction's stream (0 for non-segments).
pub fn event_starts(trace: &Trace) -> Vec<usize> {
    let (mut c2s, mut s2c) = (0, 0);
    trace
        .events
        .iter()
        .map(|event| match event {
            Event::Segment { dir, bytes, .. } => {
                let next = match dir {
                    Direction::ClientToServer => &mut c2s,
                    Direction::ServerToClient => &mut s2c,
                };
                let start = *next;
                *next += bytes.len();
                start
            }
            _ => 0,
        })
        .collect()
}

/// Renders `trace`, one line per event (see the module docs for the format).
pub fn render(trace: &Trace) -> String {
    let mut out = String::new();
    for (event, start) in trace.events.iter().zip(event_starts(trace)) {
        out.push_str(&event_line(event, start));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_vectors() {
        // From the FNV reference test suite: "" and "a".
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn text_is_whole_and_noise_is_elided_with_its_hash() {
        let mut bytes = b"HTTP/1.1 101 Switching Protocols\r\n\r\n".to_vec();
        bytes.extend((0..100u8).map(|i| i.wrapping_mul(37) | 0x80));
        let text = show(&bytes, &[]).text;
        assert!(
            text.starts_with("\"HTTP/1.1 101 Switching Protocols\\r\\n\\r\\n\\x80"),
            "{text}"
        );
        assert!(text.contains(" <76 bytes fnv1a "), "{text}");
        // One elided byte changed: the line changes.
        let mut changed = bytes.clone();
        changed[80] ^= 1;
        assert_ne!(show(&changed, &[]).text, text);
    }
}
