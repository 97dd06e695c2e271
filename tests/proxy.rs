//! The proxy role: the reference proxy passes the proxy property, and every
//! proxy mutant is caught by it with the point, the leg and the bytes in its
//! diagnosis (the one that closes both legs on a FIN is non-strict, never a failure).

use hijack_harness::check::proxy::run_proxy;
use hijack_harness::oracle::{Level, Point};
use hijack_harness::properties::Config;
use hijack_harness::properties::proxy::{check_proxy, report};
use hijack_harness::scenario::proxy::{AfterRefusal, Answer, Ask, Early, ProxyScenario, Version};
use hijack_harness::subject::proxy::ReferenceProxy;
use hijack_harness::subject::proxy::mutants::{ProxyFlaw, ProxyMutant};

fn case(ask: Ask, answer: Answer) -> ProxyScenario {
    ProxyScenario {
        ask,
        body: 0,
        early: Early::Raw,
        early_len: 9,
        answer,
        delay: 1,
        first: 6,
        late: 5,
        upstream_late: 4,
        client_fin: true,
        ..ProxyScenario::default()
    }
}

#[test]
fn the_reference_proxy_passes_the_property() {
    let stats = check_proxy(&ReferenceProxy, &Config::seeded(22))
        .unwrap_or_else(|counterexample| panic!("{counterexample}"));
    assert_eq!(stats.non_strict, 0, "the reference keeps every half-close");
    eprintln!(
        "reference proxy: {} cases in {:?} ({:.0} cases/s)",
        stats.cases,
        stats.elapsed,
        stats.per_second()
    );
}

#[test]
fn the_reference_proxy_passes_each_shape_strictly() {
    for ask in [Ask::Upgrade, Ask::H2c, Ask::Connect] {
        for answer in [
            Answer::Switch,
            Answer::OtherToken,
            Answer::Refuse(426),
            Answer::Refuse(403),
            Answer::OkWithBody,
        ] {
            for version in [Version::Http11, Version::Http10] {
                let scenario = ProxyScenario {
                    version,
                    after_refusal: AfterRefusal::RawThenRequest,
                    ..case(ask, answer)
                };
                let run = run_proxy(&ReferenceProxy, &scenario);
                assert!(
                    run.verdict.strict(),
                    "{ask:?} {answer:?} {version:?}:\n{}",
                    report(&run)
                );
            }
        }
    }
}

/// What each mutant must break: the point (one of them, where the minimal
/// case may show the flaw either way), and words its diagnosis must hold.
fn expected(flaw: ProxyFlaw) -> (&'static [Point], &'static [&'static str]) {
    match flaw {
        ProxyFlaw::TunnelsAfterRefusal => {
            (&[Point::TunnelRefused], &["proxy to", "CVE-2018-1002105"])
        }
        ProxyFlaw::ForwardsEarly => (
            &[Point::TunnelEarly],
            &["proxy to upstream", "before its answer", "\\x00"],
        ),
        ProxyFlaw::LosesReadAhead => (&[Point::TunnelRelay], &["through the tunnel: lost bytes"]),
        // An `h2c` 101 the proxy did not ask for is both: unoffered upstream, hop-by-hop.
        ProxyFlaw::RelaysUnofferedToken => (
            &[Point::TunnelToken, Point::TunnelHopByHop],
            &["proxy to client: 101 relayed"],
        ),
        ProxyFlaw::ForwardsH2c => (&[Point::TunnelHopByHop], &["Upgrade: h2c"]),
        ProxyFlaw::ForwardsConnectEarlyDataOnRefusal => (
            &[Point::TunnelRefused],
            &["proxy to upstream", "CVE-2025-64763"],
        ),
        ProxyFlaw::SwallowsFin => (&[Point::TunnelRelay], &["FIN never reached", "§9.3.6"]),
        ProxyFlaw::HonoursHttp10Upgrade => {
            (&[Point::TunnelHopByHop, Point::TunnelToken], &["HTTP/1.0"])
        }
        ProxyFlaw::ClosesBothOnFin
        | ProxyFlaw::RefusalAs502
        | ProxyFlaw::ParsesConnectEarlyData => {
            unreachable!("non-strict, tested apart")
        }
    }
}

#[test]
fn every_failing_proxy_mutant_is_caught_with_its_point_leg_and_bytes() {
    for flaw in ProxyFlaw::ALL {
        if matches!(
            flaw,
            ProxyFlaw::ClosesBothOnFin
                | ProxyFlaw::RefusalAs502
                | ProxyFlaw::ParsesConnectEarlyData
        ) {
            continue;
        }
        let (points, words) = expected(flaw);
        let counterexample = check_proxy(&ProxyMutant(flaw), &Config::seeded(22))
            .err()
            .unwrap_or_else(|| panic!("{flaw:?} passed the property"));
        let verdict = &counterexample.run.verdict;
        assert!(
            points.iter().any(|&p| verdict.breaks_at(p, Level::Must)),
            "{flaw:?}:\n{counterexample}"
        );
        let text = verdict.to_string();
        for word in words {
            assert!(
                text.contains(word),
                "{flaw:?}: no {word:?} in\n{counterexample}"
            );
        }
        eprintln!("{flaw:?}: {}", text.lines().next().unwrap_or_default());
    }
}

#[test]
fn closing_both_legs_on_a_fin_is_non_strict_never_a_failure() {
    let fin = case(Ask::Connect, Answer::Switch);
    let run = run_proxy(&ProxyMutant(ProxyFlaw::ClosesBothOnFin), &fin);
    assert!(run.passed() && !run.verdict.strict(), "{}", report(&run));
    assert!(run_proxy(&ReferenceProxy, &fin).verdict.strict());
    assert!(run.verdict.breaks_at(Point::TunnelRelay, Level::Should));
    eprintln!("ClosesBothOnFin: {}", run.verdict.to_string().trim());
    let stats = check_proxy(
        &ProxyMutant(ProxyFlaw::ClosesBothOnFin),
        &Config::seeded(22),
    )
    .unwrap_or_else(|counterexample| panic!("{counterexample}"));
    assert!(stats.non_strict > 0, "no case showed the lost half-close");
}

#[test]
fn a_refusal_answered_502_is_non_strict_never_a_failure() {
    let mutant = ProxyMutant(ProxyFlaw::RefusalAs502);
    let run = run_proxy(&mutant, &case(Ask::Upgrade, Answer::Refuse(426)));
    assert!(run.passed() && !run.verdict.strict(), "{}", report(&run));
    assert!(run.verdict.breaks_at(Point::TunnelAnswer, Level::Should));
    eprintln!("RefusalAs502: {}", run.verdict.to_string().trim());
    let stats = check_proxy(&mutant, &Config::seeded(22))
        .unwrap_or_else(|counterexample| panic!("{counterexample}"));
    assert!(stats.non_strict > 0, "no case showed the lost refusal");
}

#[test]
fn parsing_a_refused_connects_early_data_is_non_strict_never_a_failure() {
    let mutant = ProxyMutant(ProxyFlaw::ParsesConnectEarlyData);
    let stats = check_proxy(&mutant, &Config::seeded(22))
        .unwrap_or_else(|counterexample| panic!("{counterexample}"));
    assert!(stats.non_strict > 0, "no case showed the parsed early data");
}
