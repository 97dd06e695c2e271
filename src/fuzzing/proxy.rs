//! The proxy fuzz target, `proxy_handoff`: a [`ProxyScenario`] decoded from
//! the input, run against the reference proxy (or the mutant
//! `HIJACK_PROXY_MUTANT` names, for `fuzz/detect.sh`) over both in-memory
//! legs, judged by the proxy oracle over both; a broken MUST is a crash.
//!
//! The byte format is this module's own, one field after another, so that it
//! stays stable whatever `arbitrary` does; [`encode`] is the exact inverse of
//! [`decode`] for every scenario it accepts, which is what lets the seed
//! corpus be written from the named `tunnel.*` cases. An exhausted input reads
//! as zeros, and zero is always the plainest choice: an HTTP/1.1
//! `Upgrade: websocket` the upstream accepts, nothing early, no cuts.
//!
//! ```text
//! ask u8 (% 3: upgrade, h2c, connect) | flags u8 (1 HTTP/1.0, 2 client FIN,
//! 4 upstream FIN) | early u8 (% 3: none, raw, pipelined) | early_len u8
//! | answer u8 (% 6: switch, other token, 426, 400, 403, 200 with a body)
//! | after_refusal u8 (% 4: none, raw, request, raw then request) | delay u8 (% 8)
//! | body u8 | first u8 | late u8 | upstream_late u8
//! | client cuts (count % 8, then u16 each) | upstream cuts (likewise)
//! ```

use std::sync::OnceLock;

use crate::check::proxy::run_proxy;
use crate::scenario::proxy::{AfterRefusal, Answer, Ask, Early, ProxyScenario, Version};
use crate::subject::proxy::mutants::{ProxyFlaw, ProxyMutant};
use crate::subject::proxy::{ProxySubject, ReferenceProxy};
use crate::wire::text;

use super::FAILURE_MARK;
use super::reader::Reader;

/// The environment variable that selects a proxy mutant for a fuzz run.
pub const PROXY_MUTANT_VAR: &str = "HIJACK_PROXY_MUTANT";

/// Most cuts one leg carries.
const MAX_CUTS: usize = 8;
const ANSWERS: [Answer; 6] = [
    Answer::Switch,
    Answer::OtherToken,
    Answer::Refuse(426),
    Answer::Refuse(400),
    Answer::Refuse(403),
    Answer::OkWithBody,
];
const ASKS: [Ask; 3] = [Ask::Upgrade, Ask::H2c, Ask::Connect];
const EARLY: [Early; 3] = [Early::None, Early::Raw, Early::Pipelined];
const AFTER: [AfterRefusal; 4] = [
    AfterRefusal::None,
    AfterRefusal::Raw,
    AfterRefusal::Request,
    AfterRefusal::RawThenRequest,
];

/// Why a scenario has no byte form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("proxy scenario cannot be encoded: {0}")]
pub struct EncodeError(&'static str);

/// One of `from`, picked by the next byte.
fn pick<T: Copy, const N: usize>(r: &mut Reader<'_>, from: [T; N]) -> T {
    from[r.count(N)]
}

/// A list of cuts: a count below [`MAX_CUTS`], then each as a `u16`.
fn cuts(r: &mut Reader<'_>) -> Vec<usize> {
    let n = r.count(MAX_CUTS);
    (0..n)
        .map(|_| usize::from(u16::from_le_bytes(r.le())))
        .collect()
}

/// The scenario `data` describes (any bytes describe one).
pub fn decode(data: &[u8]) -> ProxyScenario {
    let mut r = Reader::new(data);
    let ask = pick(&mut r, ASKS);
    let flags = r.byte();
    let early = pick(&mut r, EARLY);
    let early_len = usize::from(r.byte());
    let answer = pick(&mut r, ANSWERS);
    let after_refusal = pick(&mut r, AFTER);
    let delay = r.byte() % 8;
    let [body, first, late, upstream_late] =
        [r.byte(), r.byte(), r.byte(), r.byte()].map(usize::from);
    ProxyScenario {
        ask,
        version: if flags & 1 != 0 {
            Version::Http10
        } else {
            Version::Http11
        },
        body,
        early,
        early_len,
        answer,
        delay,
        first,
        late,
        after_refusal,
        upstream_late,
        client_fin: flags & 2 != 0,
        upstream_fin: flags & 4 != 0,
        client_cuts: cuts(&mut r),
        upstream_cuts: cuts(&mut r),
    }
}

/// The bytes [`decode`] reads as `scenario`, trailing zeros left out.
///
/// # Errors
///
/// When a field is out of the format's range (a size past 255, a delay past
/// 7, a status other than 426, 400 or 403, more than 7 cuts or one past 65535).
pub fn encode(scenario: &ProxyScenario) -> Result<Vec<u8>, EncodeError> {
    let index = |found: Option<usize>, what| {
        found
            .and_then(|i| u8::try_from(i).ok())
            .ok_or(EncodeError(what))
    };
    let small = |n: usize, what| u8::try_from(n).map_err(|_| EncodeError(what));
    let flags = u8::from(scenario.version == Version::Http10)
        | u8::from(scenario.client_fin) << 1
        | u8::from(scenario.upstream_fin) << 2;
    let mut out = vec![
        index(ASKS.iter().position(|a| *a == scenario.ask), "ask")?,
        flags,
        index(EARLY.iter().position(|e| *e == scenario.early), "early")?,
        small(scenario.early_len, "early_len")?,
        index(ANSWERS.iter().position(|a| *a == scenario.answer), "answer")?,
        index(
            AFTER.iter().position(|a| *a == scenario.after_refusal),
            "after_refusal",
        )?,
    ];
    if scenario.delay >= 8 {
        return Err(EncodeError("delay"));
    }
    out.push(scenario.delay);
    for (n, what) in [
        (scenario.body, "body"),
        (scenario.first, "first"),
        (scenario.late, "late"),
        (scenario.upstream_late, "upstream_late"),
    ] {
        out.push(small(n, what)?);
    }
    for cuts in [&scenario.client_cuts, &scenario.upstream_cuts] {
        if cuts.len() >= MAX_CUTS {
            return Err(EncodeError("too many cuts"));
        }
        out.push(small(cuts.len(), "cuts")?);
        for &cut in cuts {
            let cut = u16::try_from(cut).map_err(|_| EncodeError("a cut past 65535"))?;
            out.extend_from_slice(&cut.to_le_bytes());
        }
    }
    while out.last() == Some(&0) {
        out.pop();
    }
    Ok(out)
}

/// The proxy under test: the reference, or the mutant `HIJACK_PROXY_MUTANT` names.
///
/// # Panics
///
/// When `HIJACK_PROXY_MUTANT` names no proxy mutant.
pub fn selected_proxy() -> &'static dyn ProxySubject {
    static SELECTED: OnceLock<Option<ProxyMutant>> = OnceLock::new();
    let mutant = SELECTED.get_or_init(|| {
        let name = std::env::var(PROXY_MUTANT_VAR)
            .ok()
            .filter(|n| !n.is_empty())?;
        match ProxyFlaw::from_name(&name) {
            Some(flaw) => Some(ProxyMutant(flaw)),
            None => {
                let known: Vec<_> = ProxyFlaw::ALL.into_iter().map(ProxyFlaw::name).collect();
                panic!("{PROXY_MUTANT_VAR}={name} names no proxy mutant; known: {known:?}")
            }
        }
    });
    match mutant {
        Some(mutant) => mutant,
        None => &ReferenceProxy,
    }
}

/// Runs the scenario `data` decodes to against `subject`; panics with the
/// verdict and both legs when a MUST breaks.
pub fn proxy_handoff_with(subject: &dyn ProxySubject, data: &[u8]) {
    let run = run_proxy(subject, &decode(data));
    if !run.passed() {
        panic!(
            "{FAILURE_MARK}: proxy {}\n{}{:?}\nclient leg (c>s client to proxy, s>c proxy to client):\n{}\
             upstream leg (c>s proxy to upstream, s>c upstream to proxy):\n{}",
            run.subject,
            run.verdict,
            run.scenario,
            text::render(&run.trace),
            text::render(&run.app.upstream),
        )
    }
}

/// The `proxy_handoff` target: the reference proxy (or `HIJACK_PROXY_MUTANT`), any case.
pub fn proxy_handoff(data: &[u8]) {
    proxy_handoff_with(selected_proxy(), data);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::scenario::proxy::proxy_scenario;

    proptest! {
        #[test]
        fn decode_inverts_encode(scenario in proxy_scenario()) {
            let bytes = encode(&scenario).expect("drawn cases encode");
            prop_assert_eq!(decode(&bytes), scenario);
        }
    }

    #[test]
    fn nothing_is_the_plainest_case() {
        assert_eq!(decode(&[]), ProxyScenario::default());
        assert_eq!(encode(&ProxyScenario::default()), Ok(Vec::new()));
    }
}
