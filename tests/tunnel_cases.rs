//! The named `tunnel.*` cases, in process: the reference proxy passes every
//! one strictly, and each is failed by the mutant whose flaw it is about, with
//! the point, the leg and the bytes in the diagnosis. The two proxies that
//! break only SHOULDs (closing both legs on a FIN, a refusal answered `502`)
//! never fail a case.

use hijack_harness::check::proxy::run_proxy;
use hijack_harness::oracle::{Level, Point};
use hijack_harness::properties::proxy::report;
use hijack_harness::subject::proxy::ReferenceProxy;
use hijack_harness::subject::proxy::mutants::{ProxyFlaw, ProxyMutant};
use hijack_harness::suite::tunnel;

/// The mutant that fails the case, and what each violation it must show says:
/// the point, then words (the leg, the bytes) its message must hold.
fn expected(id: &str) -> (ProxyFlaw, Vec<(Point, &'static [&'static str])>) {
    use Point::*;
    use ProxyFlaw::*;
    match id {
        id if id.starts_with("tunnel.refused-stays-http.") => (
            TunnelsAfterRefusal,
            vec![(
                TunnelRefused,
                &[
                    "proxy to upstream:",
                    "the client's bytes after the refusal",
                    "\\x00after-refusal",
                    "websocket-smuggle",
                ],
            )],
        ),
        "tunnel.refused-early-bytes" => (
            ForwardsEarly,
            vec![(
                TunnelEarly,
                &[
                    "proxy to upstream:",
                    "before its answer",
                    "GET /next",
                    "CVE-2026-2833",
                ],
            )],
        ),
        "tunnel.unoffered-token" => (
            RelaysUnofferedToken,
            vec![(
                TunnelToken,
                &["proxy to client: 101 relayed", "\"echo\"", "§7.8"],
            )],
        ),
        "tunnel.h2c-not-forwarded" => (
            ForwardsH2c,
            vec![
                (HopByHop, &["proxy to upstream:", "Upgrade: h2c", "§7.6.1"]),
                (HopByHop, &["proxy to client: 101 relayed", "h2c smuggling"]),
            ],
        ),
        "tunnel.connect-refused-early-data" => (
            ForwardsConnectEarlyDataOnRefusal,
            vec![(
                TunnelRefused,
                &[
                    "proxy to upstream:",
                    "the client's bytes sent with its request",
                    "GET /next",
                    "CVE-2025-64763",
                ],
            )],
        ),
        "tunnel.http10-no-switch" => (
            HonoursHttp10Upgrade,
            vec![
                (
                    HopByHop,
                    &[
                        "proxy to upstream:",
                        "HTTP/1.0 request's `Upgrade` went on as HTTP/1.1",
                    ],
                ),
                (
                    TunnelToken,
                    &["proxy to client: 101 relayed", "HTTP/1.0 client", "§15.2"],
                ),
                (TunnelRefused, &["proxy to upstream:", "\\x00after-refusal"]),
            ],
        ),
        other => panic!("no mutant named for {other}"),
    }
}

// `HopByHop` reads better above than the point's full name.
#[allow(non_upper_case_globals)]
const HopByHop: Point = Point::TunnelHopByHop;

#[test]
fn the_reference_proxy_passes_every_tunnel_case_strictly() {
    for case in tunnel::all() {
        let run = run_proxy(&ReferenceProxy, &case.scenario);
        assert!(run.verdict.strict(), "{}:\n{}", case.id, report(&run));
    }
}

#[test]
fn every_tunnel_case_fails_its_mutant_with_the_point_leg_and_bytes() {
    let mut misses = Vec::new();
    for case in tunnel::all() {
        let (flaw, violations) = expected(case.id);
        let run = run_proxy(&ProxyMutant(flaw), &case.scenario);
        if run.passed() {
            misses.push(format!("{} passed {flaw:?}:\n{}", case.id, report(&run)));
            continue;
        }
        for (point, words) in violations {
            let found = run.verdict.violations.iter().any(|v| {
                v.point == point
                    && v.level_in(case.level) == Level::Must
                    && words.iter().all(|w| v.message.contains(w))
            });
            if !found {
                misses.push(format!(
                    "{} with {flaw:?}: no MUST {point} saying {words:?} in\n{}",
                    case.id,
                    report(&run)
                ));
            }
        }
        eprintln!("{} / {flaw:?}:\n{}", case.id, run.verdict);
    }
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}

#[test]
fn connect_early_data_parsed_as_a_request_is_named_non_strict() {
    let case = tunnel::find("tunnel.connect-refused-early-data").expect("the case");
    let run = run_proxy(
        &ProxyMutant(ProxyFlaw::ParsesConnectEarlyData),
        &case.scenario,
    );
    assert!(run.passed() && !run.verdict.strict(), "{}", report(&run));
    let named = run.verdict.violations.iter().any(|v| {
        v.point == Point::TunnelRefused
            && v.level == Some(Level::Should)
            && v.message
                .contains("proxy to client: a second response (404)")
            && v.message.contains("parsed as a request")
    });
    assert!(named, "{}", report(&run));
    eprintln!("{}", run.verdict);
}

#[test]
fn the_non_strict_proxies_never_fail_a_tunnel_case() {
    for flaw in [
        ProxyFlaw::ClosesBothOnFin,
        ProxyFlaw::RefusalAs502,
        ProxyFlaw::ParsesConnectEarlyData,
    ] {
        for case in tunnel::all() {
            let run = run_proxy(&ProxyMutant(flaw), &case.scenario);
            assert!(run.passed(), "{} / {flaw:?}:\n{}", case.id, report(&run));
        }
    }
}
