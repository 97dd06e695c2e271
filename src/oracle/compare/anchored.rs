//! The alignment of large streams that differ a lot: anchored on windows of
//! [`WINDOW`] bytes that the sent stream holds once, in time linear in the
//! streams' length.
//!
//! Myers' diff costs time in the product of the length and the number of
//! differences: a 140,000-byte transfer that lost its first 3,966 bytes and
//! then its last 70,000 blows any budget, and a diff stopped at its deadline
//! names nonsense ("bytes 0..140000 never came back; bytes 3966..70000 came
//! back twice"). The harness's payloads come from a seeded generator, so a
//! window of 16 bytes almost always occurs once in what was sent: each arrived
//! run is placed where its first window was sent, extended while the bytes
//! agree, and the runs are read in arrival order against a cursor in what was
//! sent:
//!
//! * a run past the cursor leaves the bytes it skips lost (for now);
//! * a run behind the cursor is a move ([`Discrepancy::Reordered`]) when its
//!   bytes had not arrived yet, else a replay ([`Discrepancy::Duplicated`]);
//! * bytes whose window was never sent (or was sent more than once) are
//!   extra ([`Discrepancy::Extra`]).
//!
//! So one cause is named once: a loss at the hand-over is one lost range, and
//! the bytes after it are placed where they belong.

use std::collections::HashMap;
use std::ops::Range;

use super::Discrepancy;

/// The length of an anchor.
const WINDOW: usize = 16;

/// One run of arrived bytes that equals a run of sent bytes.
struct Run {
    sent: usize,
    arrived: usize,
    len: usize,
}

/// Aligns `arrived` against `sent` (see the module doc); `None` when fewer
/// than half of the sent stream's windows occur once (a repeating pattern,
/// which anchors cannot place).
pub(super) fn compare(sent: &[u8], arrived: &[u8]) -> Option<Vec<Discrepancy>> {
    let anchors = unique_windows(sent);
    if anchors.len() * 2 < sent.len() {
        return None;
    }
    let mut runs = Vec::new();
    let mut extra: Vec<Range<usize>> = Vec::new();
    let mut j = 0;
    while j < arrived.len() {
        let placed = arrived
            .get(j..j + WINDOW)
            .and_then(|w| anchors.get(w))
            .copied();
        match placed {
            Some(start) => {
                let len = sent[start..]
                    .iter()
                    .zip(&arrived[j..])
                    .take_while(|(a, b)| a == b)
                    .count();
                runs.push(Run {
                    sent: start,
                    arrived: j,
                    len,
                });
                j += len;
            }
            None => {
                match extra.last_mut() {
                    Some(r) if r.end == j => r.end += 1,
                    _ => extra.push(j..j + 1),
                }
                j += 1;
            }
        }
    }
    let mut found: Vec<Discrepancy> = Vec::new();
    let mut seen = vec![false; sent.len()];
    let mut cursor = 0;
    for run in &runs {
        let range = run.sent..run.sent + run.len;
        if run.sent < cursor {
            if seen[range.clone()].iter().all(|s| *s) {
                found.push(Discrepancy::Duplicated {
                    range: range.clone(),
                    at: run.arrived,
                });
            } else {
                found.push(Discrepancy::Reordered {
                    range: range.clone(),
                    at: run.arrived,
                });
            }
        } else {
            cursor = range.end;
        }
        seen[range].iter_mut().for_each(|s| *s = true);
    }
    found.extend(extra.into_iter().map(|r| Discrepancy::Extra {
        at: r.start,
        bytes: arrived[r].to_vec(),
    }));
    found.extend(unseen(&seen).map(|range| Discrepancy::Lost { range }));
    found.sort_by_key(Discrepancy::at_actual);
    Some(found)
}

/// Each window of `sent` that occurs there once, and where.
fn unique_windows(sent: &[u8]) -> HashMap<&[u8], usize> {
    let mut first: HashMap<&[u8], Option<usize>> = HashMap::with_capacity(sent.len());
    for (i, w) in sent.windows(WINDOW).enumerate() {
        first
            .entry(w)
            .and_modify(|at| *at = None)
            .or_insert(Some(i));
    }
    first
        .into_iter()
        .filter_map(|(w, at)| at.map(|at| (w, at)))
        .collect()
}

/// The ranges of `seen` that are false.
fn unseen(seen: &[bool]) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let start = i + seen.get(i..)?.iter().position(|s| !s)?;
        let len = seen[start..].iter().take_while(|s| !**s).count();
        i = start + len;
        Some(start..start + len)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes that look random: no window repeats.
    fn noise(n: usize) -> Vec<u8> {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn a_lost_head_and_a_lost_tail_are_two_losses() {
        // Docker's TTY attach behind a buffered reader, cut by its detach keys.
        let sent = noise(140_000);
        let arrived = sent[3966..70_000].to_vec();
        assert_eq!(
            compare(&sent, &arrived),
            Some(vec![
                Discrepancy::Lost { range: 0..3966 },
                Discrepancy::Lost {
                    range: 70_000..140_000
                },
            ])
        );
    }

    #[test]
    fn replays_moves_and_inventions_are_placed() {
        let sent = noise(50_000);
        // 0..1000, then 500..1000 again, then 2000..3000, then 1000..2000
        // (moved), 40 invented bytes, and the rest from 3000.
        let mut arrived = sent[..1000].to_vec();
        arrived.extend_from_slice(&sent[500..1000]);
        arrived.extend_from_slice(&sent[2000..3000]);
        arrived.extend_from_slice(&sent[1000..2000]);
        arrived.extend_from_slice(&[0u8; 40]);
        arrived.extend_from_slice(&sent[3000..]);
        let found = compare(&sent, &arrived);
        assert_eq!(
            found,
            Some(vec![
                Discrepancy::Duplicated {
                    range: 500..1000,
                    at: 1000
                },
                Discrepancy::Reordered {
                    range: 1000..2000,
                    at: 2500
                },
                Discrepancy::Extra {
                    at: 3500,
                    bytes: vec![0u8; 40]
                },
            ])
        );
        // A repeating pattern has no anchors: Myers' diff is asked instead.
        assert_eq!(compare(&[7u8; 40_000], &[7u8; 100]), None);
    }
}
