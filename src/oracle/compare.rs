//! How what arrived differs from what was sent: lost, extra, duplicated or
//! reordered runs of bytes.

use std::ops::Range;

mod anchored;

/// Above this many bytes (sent and arrived together), streams are aligned on
/// anchors first ([`anchored`]): Myers' diff would not finish in its budget
/// when they differ a lot.
const ANCHOR_ABOVE: usize = 16 * 1024;

/// A difference between what was sent and what arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Discrepancy {
    /// Sent bytes that never arrived.
    Lost {
        /// Offsets in what was sent.
        range: Range<usize>,
    },
    /// Bytes that arrived and were never sent.
    Extra {
        /// Offset in what arrived.
        at: usize,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// Sent bytes that arrived a second time.
    Duplicated {
        /// Offsets in what was sent.
        range: Range<usize>,
        /// Where the second copy starts in what arrived.
        at: usize,
    },
    /// Sent bytes that arrived after bytes sent later.
    Reordered {
        /// Offsets in what was sent.
        range: Range<usize>,
        /// Where they start in what arrived.
        at: usize,
    },
}

impl Discrepancy {
    pub(super) fn at_actual(&self) -> usize {
        match self {
            Discrepancy::Lost { range } => range.start,
            Discrepancy::Extra { at, .. }
            | Discrepancy::Duplicated { at, .. }
            | Discrepancy::Reordered { at, .. } => *at,
        }
    }
}

/// The smallest runs of shared bytes worth calling a duplicate or a move.
const MIN_MATCH: usize = 4;

/// Compares what was sent with what arrived.
pub fn compare(sent: &[u8], arrived: &[u8]) -> Vec<Discrepancy> {
    if sent == arrived {
        return Vec::new();
    }
    if arrived.len() < sent.len() && sent.starts_with(arrived) {
        return vec![Discrepancy::Lost {
            range: arrived.len()..sent.len(),
        }];
    }
    if arrived.len() > sent.len() && arrived.starts_with(sent) {
        return vec![classify_insert(
            sent,
            arrived,
            sent.len(),
            sent.len(),
            arrived.len() - sent.len(),
        )];
    }
    if sent.len() + arrived.len() > ANCHOR_ABOVE
        && let Some(found) = anchored::compare(sent, arrived)
    {
        return found;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
    let ops = similar::capture_diff_slices_deadline(
        similar::Algorithm::Myers,
        sent,
        arrived,
        Some(deadline),
    );
    let mut out = Vec::new();
    for op in ops {
        match op {
            similar::DiffOp::Equal { .. } => {}
            similar::DiffOp::Delete {
                old_index, old_len, ..
            } => out.push(Discrepancy::Lost {
                range: old_index..old_index + old_len,
            }),
            similar::DiffOp::Insert {
                old_index,
                new_index,
                new_len,
            } => out.push(classify_insert(
                sent, arrived, old_index, new_index, new_len,
            )),
            similar::DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                out.push(Discrepancy::Lost {
                    range: old_index..old_index + old_len,
                });
                out.push(classify_insert(
                    sent,
                    arrived,
                    old_index + old_len,
                    new_index,
                    new_len,
                ));
            }
        }
    }
    pair_moves(sent, out)
}

fn classify_insert(
    sent: &[u8],
    arrived: &[u8],
    old_index: usize,
    new_index: usize,
    new_len: usize,
) -> Discrepancy {
    let bytes = &arrived[new_index..new_index + new_len];
    // The same bytes right before the insertion: a replay, however short.
    if new_index >= new_len
        && arrived[new_index - new_len..new_index] == *bytes
        && let Some(start) = old_index.checked_sub(new_len)
        && sent[start..old_index] == *bytes
    {
        return Discrepancy::Duplicated {
            range: start..old_index,
            at: new_index,
        };
    }
    if new_len >= MIN_MATCH
        && let Some(start) = find(&sent[..old_index], bytes)
    {
        return Discrepancy::Duplicated {
            range: start..start + new_len,
            at: new_index,
        };
    }
    Discrepancy::Extra {
        at: new_index,
        bytes: bytes.to_vec(),
    }
}

/// An extra run that equals a lost run is one run that moved.
fn pair_moves(sent: &[u8], mut found: Vec<Discrepancy>) -> Vec<Discrepancy> {
    let mut i = 0;
    while i < found.len() {
        if let Discrepancy::Extra { at, bytes } = &found[i] {
            let (at, bytes) = (*at, bytes.clone());
            let lost = found.iter().position(
                |d| matches!(d, Discrepancy::Lost { range } if sent[range.clone()] == bytes[..]),
            );
            if let Some(j) = lost
                && let Discrepancy::Lost { range } = found[j].clone()
            {
                found[i] = Discrepancy::Reordered { range, at };
                found.remove(j);
                i = 0;
                continue;
            }
        }
        i += 1;
    }
    found
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_tail() {
        assert_eq!(
            compare(b"abcdef", b"abc"),
            vec![Discrepancy::Lost { range: 3..6 }]
        );
    }

    #[test]
    fn lost_head() {
        assert_eq!(
            compare(b"abcdefgh", b"efgh"),
            vec![Discrepancy::Lost { range: 0..4 }]
        );
    }

    #[test]
    fn duplicate_is_named() {
        assert_eq!(
            compare(b"abcdWXYZ", b"abcdabcdWXYZ")[0],
            Discrepancy::Duplicated { range: 0..4, at: 4 }
        );
    }

    #[test]
    fn move_is_named() {
        let found = compare(b"abcdWXYZ", b"WXYZabcd");
        assert!(
            matches!(found[..], [Discrepancy::Reordered { .. }]),
            "{found:?}"
        );
    }

    #[test]
    fn extra_is_named() {
        assert_eq!(
            compare(b"ab", b"0\r\n\r\nab"),
            vec![Discrepancy::Extra {
                at: 0,
                bytes: b"0\r\n\r\n".to_vec()
            }]
        );
    }
}
