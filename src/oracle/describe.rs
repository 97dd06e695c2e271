//! The words of a diagnosis: byte counts, escaped previews, and where in the
//! trace a byte travelled.

use super::compare::Discrepancy;
use crate::wire::{Direction, Trace};

/// Says where stream offset `offset` of `dir` travelled.
pub(super) fn locate(trace: &Trace, dir: Direction, offset: usize, message_end: usize) -> String {
    match trace.segment_at(dir, offset) {
        Some((index, start)) if start < message_end => {
            format!("({dir} segment {index}, the one that carried the end of the message)")
        }
        Some((index, _)) => format!("({dir} segment {index})"),
        None => "(never on the wire)".into(),
    }
}

pub(super) fn describe(
    who: &str,
    what: &str,
    sent: usize,
    read: &[u8],
    found: &[Discrepancy],
    place: impl Fn(usize) -> String,
) -> String {
    let mut parts = Vec::new();
    for d in found {
        parts.push(match d {
            Discrepancy::Lost { range } => format!(
                "bytes {}..{} ({}) were never delivered {}",
                range.start,
                range.end,
                count(range.len()),
                place(range.start)
            ),
            Discrepancy::Extra { at, bytes } => {
                format!(
                    "{} that were never sent arrived at byte {at}: {}",
                    count(bytes.len()),
                    preview(bytes, 40)
                )
            }
            Discrepancy::Duplicated { range, at } => {
                format!(
                    "bytes {}..{} were delivered twice (again at byte {at})",
                    range.start, range.end
                )
            }
            Discrepancy::Reordered { range, at } => format!(
                "bytes {}..{} {} were delivered out of order, at byte {at} after bytes sent later",
                range.start,
                range.end,
                place(range.start)
            ),
        });
    }
    format!(
        "{who} read {} of the {} {what}: {}",
        read.len(),
        count(sent),
        parts.join("; ")
    )
}

/// "1 byte", "2 bytes".
pub fn count(n: usize) -> String {
    if n == 1 {
        "1 byte".into()
    } else {
        format!("{n} bytes")
    }
}

/// Bytes as a short escaped string: printable ASCII as is, the rest as `\r`, `\n`, `\xNN`.
pub fn preview(bytes: &[u8], max: usize) -> String {
    let mut out = String::from("\"");
    for &b in bytes.iter().take(max) {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    if bytes.len() > max {
        out.push_str(&format!("… ({} more)", bytes.len() - max));
    }
    out
}
