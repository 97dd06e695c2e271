//! Two message sequences aligned: what was sent against what arrived, each
//! difference named (lost, duplicated, reordered, extra) by message index.

/// How two message sequences differ: the first is what was sent, the second what arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Difference {
    /// Sent message `.0` never arrived.
    Lost(usize),
    /// Sent message `.0` arrived again as arrival `.1`.
    Duplicated(usize, usize),
    /// Sent message `.0` arrived (as arrival `.1`) after later ones.
    Reordered(usize, usize),
    /// Arrival `.0` matches nothing sent.
    Extra(usize),
}

/// Aligns `arrived` against `sent` (both in order) and lists the differences.
pub(super) fn align<T: PartialEq>(sent: &[T], arrived: &[T]) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut matched = vec![false; sent.len()];
    let mut next = 0;
    for (j, a) in arrived.iter().enumerate() {
        if let Some(k) = (next..sent.len()).find(|&k| sent[k] == *a) {
            matched[k] = true;
            next = k + 1;
        } else if let Some(k) = (0..next).rev().find(|&k| sent[k] == *a && !matched[k]) {
            matched[k] = true;
            out.push(Difference::Reordered(k, j));
        } else if let Some(k) = (0..next).rev().find(|&k| sent[k] == *a) {
            out.push(Difference::Duplicated(k, j));
        } else {
            out.push(Difference::Extra(j));
        }
    }
    for (k, m) in matched.iter().enumerate() {
        if !m {
            out.push(Difference::Lost(k));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn align_names_each_kind_of_difference() {
        assert_eq!(align(&[1, 2, 3], &[1, 2, 3]), vec![]);
        assert_eq!(align(&[1, 2, 3], &[1, 3]), vec![Difference::Lost(1)]);
        assert_eq!(
            align(&[1, 2, 3], &[1, 1, 2, 3]),
            vec![Difference::Duplicated(0, 1)]
        );
        assert_eq!(
            align(&[1, 2, 3], &[1, 3, 2]),
            vec![Difference::Reordered(1, 2)]
        );
        assert_eq!(align(&[1, 2], &[1, 9, 2]), vec![Difference::Extra(1)]);
    }
}
