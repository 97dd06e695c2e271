//! The harness's own speed: property cases per second (one core, release) for
//! each subject, and the conformance suite's wall time over the in-memory wire.
//! More cases per second is more bugs found per CI minute.
//!
//! Run: `cargo bench --bench harness` (`HIJACK_BENCH_CASES` sets the cases per
//! round, `HIJACK_BENCH_ROUNDS` the rounds; the figure is the median round).
//! `HIJACK_BENCH_ONLY=TEXT` runs only the properties whose name contains `TEXT`
//! (`reference server`, `differential`): one property under `valgrind
//! --tool=callgrind`, for instructions per case (run it at two case counts and
//! divide the difference, which leaves out the start-up and the suite).

use std::time::Instant;

use hijack_harness::check::Run;
use hijack_harness::check::{run_client, run_server};
use hijack_harness::properties::{self, Config};
use hijack_harness::scenario::Scenario;
use hijack_harness::subject::hyper::{HyperClient, HyperServer, HyperServerOptions, ServerMode};
use hijack_harness::subject::reference::{ReferenceClient, ReferenceServer};
use hijack_harness::subject::{
    BoxFuture, BoxIo, ServerHandler, ServerSubject, SubjectError, Support,
};
use hijack_harness::suite;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Whether the property `name` runs (`HIJACK_BENCH_ONLY`).
fn wanted(name: &str) -> bool {
    std::env::var("HIJACK_BENCH_ONLY")
        .ok()
        .is_none_or(|only| name.contains(only.as_str()))
}

fn median(mut xs: Vec<f64>) -> (f64, f64, f64) {
    xs.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    (xs[xs.len() / 2], xs[0], xs[xs.len() - 1])
}

/// Runs one property with a config and returns its cases per second.
type Measure<'a> = Box<dyn Fn(&Config) -> f64 + 'a>;

fn rate(result: Result<properties::Stats, Box<properties::Counterexample>>) -> f64 {
    match result {
        Ok(stats) => stats.per_second(),
        Err(counterexample) => panic!("the property failed:\n{counterexample}"),
    }
}

/// hyper's server with the scenarios of its known findings declared unsupported.
struct WithoutKnownFindings(HyperServer);

impl ServerSubject for WithoutKnownFindings {
    fn name(&self) -> String {
        self.0.name()
    }

    fn supports(&self, scenario: &Scenario) -> Support {
        match self.0.options.known_finding(scenario) {
            Some(finding) => Support::No(format!("known finding {finding}")),
            None => self.0.supports(scenario),
        }
    }

    fn serve(
        &self,
        io: BoxIo,
        handler: ServerHandler,
    ) -> BoxFuture<'static, Result<(), SubjectError>> {
        self.0.serve(io, handler)
    }
}

fn main() {
    let cases = env("HIJACK_BENCH_CASES", 20_000) as u32;
    let rounds = env("HIJACK_BENCH_ROUNDS", 5);
    println!(
        "# property cases per second, one thread, {cases} cases a round, {rounds} interleaved rounds"
    );
    // hyper with `half_close(true)`, as in earlier figures, and its known findings
    // (README, "Findings") declared unsupported: a failing property spends its
    // time shrinking, not running cases.
    let hyper = WithoutKnownFindings(HyperServer {
        mode: ServerMode::Direct,
        options: HyperServerOptions {
            half_close: true,
            ..HyperServerOptions::default()
        },
    });
    let reference = ReferenceServer::default();
    let differential = |s: &Scenario| -> Run {
        let ours = run_server(&reference, s);
        let theirs = run_server(&hyper, s);
        // The differential property compares the two applications' bytes; here
        // only the cost of running both matters.
        std::hint::black_box(&theirs.app.read);
        ours
    };
    let subjects: [(&str, Measure); 5] = [
        (
            "reference server",
            Box::new(|c: &Config| rate(properties::check_server(&reference, c))),
        ),
        (
            "reference client",
            Box::new(|c: &Config| rate(properties::check_client(&ReferenceClient::default(), c))),
        ),
        (
            "hyper server",
            Box::new(|c: &Config| rate(properties::check_server(&hyper, c))),
        ),
        (
            "hyper client",
            Box::new(|c: &Config| rate(properties::check_client(&HyperClient::default(), c))),
        ),
        (
            "differential server",
            Box::new(move |c: &Config| rate(properties::check_with(c, differential))),
        ),
    ];
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); subjects.len()];
    for round in 0..rounds {
        let config = Config {
            cases,
            ..Config::seeded(round as u8)
        };
        for (i, (name, measure)) in subjects.iter().enumerate() {
            if wanted(name) {
                samples[i].push(measure(&config));
            }
        }
    }
    for ((name, _), xs) in subjects.iter().zip(samples) {
        if xs.is_empty() {
            continue;
        }
        let (m, lo, hi) = median(xs);
        println!("{name:<20} {m:>8.0} cases/s  (min {lo:.0}, max {hi:.0})");
    }

    println!("\n# conformance suite over the in-memory wire, reference server and client");
    let mut times = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        for case in suite::all() {
            if case.sides.server {
                assert!(
                    run_server(&ReferenceServer::default(), &case.scenario).passed(),
                    "{}",
                    case.id
                );
            }
            if case.sides.client {
                assert!(
                    run_client(&ReferenceClient::default(), &case.scenario).passed(),
                    "{}",
                    case.id
                );
            }
        }
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let (m, lo, hi) = median(times);
    println!(
        "{} cases: {m:.2} ms  (min {lo:.2}, max {hi:.2})",
        suite::all().len()
    );

    websocket::bench();
}

/// The WebSocket library properties (issue 26, item 3), each as
/// `tests/websocket.rs` runs it: the same strategies (tungstenite's options
/// drawn with the case, soketto's known finding filtered out), the same
/// subjects, over the in-memory wire. Self-contained: its own knobs and helpers.
///
/// `HIJACK_BENCH_WS_CASES` sets the cases per round (default 4000: soketto's
/// filter rejects a few percent of cases and proptest gives up after 1024
/// rejects), `HIJACK_BENCH_ROUNDS` the rounds, as above;
/// `HIJACK_BENCH_WS_ONLY=TEXT` runs only the libraries whose name contains `TEXT`.
mod websocket {
    use std::time::Instant;

    use hijack_harness::check::websocket::{run_client, run_server};
    use hijack_harness::oracle::websocket::WebSocket;
    use hijack_harness::properties::websocket::{check_client, check_server};
    use hijack_harness::properties::{Config, Counterexample, Stats, check_drawn};
    use hijack_harness::scenario::websocket::ws_scenario;
    use hijack_harness::subject::websocket::actix::{ActixServer, AwcClient};
    use hijack_harness::subject::websocket::soketto::{
        SokettoClient, SokettoServer, known_finding,
    };
    use hijack_harness::subject::websocket::tungstenite::{
        TungsteniteClient, TungsteniteServer, options,
    };
    use proptest::strategy::Strategy;

    type Measure = Box<dyn Fn(&Config) -> f64>;

    fn env(name: &str, default: usize) -> usize {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    fn rate(result: Result<Stats, Box<Counterexample<WebSocket>>>) -> f64 {
        match result {
            Ok(stats) => stats.per_second(),
            Err(counterexample) => panic!("the property failed:\n{counterexample}"),
        }
    }

    fn subjects() -> Vec<(&'static str, Measure)> {
        vec![
            (
                "tungstenite server",
                Box::new(|c: &Config| {
                    rate(check_drawn(c, (options(), ws_scenario()), |(o, s)| {
                        let subject = TungsteniteServer {
                            hdr: false,
                            options: *o,
                        };
                        run_server(&subject, s)
                    }))
                }),
            ),
            (
                "tungstenite-hdr server",
                Box::new(|c: &Config| {
                    let subject = TungsteniteServer {
                        hdr: true,
                        ..TungsteniteServer::default()
                    };
                    rate(check_server(&subject, c))
                }),
            ),
            (
                "tungstenite client",
                Box::new(|c: &Config| {
                    rate(check_drawn(c, (options(), ws_scenario()), |(o, s)| {
                        run_client(&TungsteniteClient { options: *o }, s)
                    }))
                }),
            ),
            (
                "soketto server",
                Box::new(|c: &Config| {
                    let strategy = ws_scenario()
                        .prop_filter("known soketto finding", |s| known_finding(s).is_none());
                    rate(check_drawn(c, strategy, |s| run_server(&SokettoServer, s)))
                }),
            ),
            (
                "soketto client",
                Box::new(|c: &Config| {
                    let strategy = ws_scenario()
                        .prop_filter("known soketto finding", |s| known_finding(s).is_none());
                    rate(check_drawn(c, strategy, |s| run_client(&SokettoClient, s)))
                }),
            ),
            (
                "actix-ws server",
                Box::new(|c: &Config| rate(check_server(&ActixServer, c))),
            ),
            (
                "awc client",
                Box::new(|c: &Config| rate(check_client(&AwcClient, c))),
            ),
        ]
    }

    pub fn bench() {
        let cases = env("HIJACK_BENCH_WS_CASES", 4_000) as u32;
        let rounds = env("HIJACK_BENCH_ROUNDS", 5);
        println!(
            "\n# WebSocket library properties, cases per second, one thread, {cases} cases a \
             round, {rounds} interleaved rounds"
        );
        let only = std::env::var("HIJACK_BENCH_WS_ONLY").ok();
        let subjects: Vec<_> = subjects()
            .into_iter()
            .filter(|(name, _)| only.as_ref().is_none_or(|o| name.contains(o.as_str())))
            .collect();
        let started = Instant::now();
        let mut samples: Vec<Vec<f64>> = vec![Vec::new(); subjects.len()];
        for round in 0..rounds {
            let config = Config {
                cases,
                ..Config::seeded(round as u8)
            };
            for (i, (_, measure)) in subjects.iter().enumerate() {
                samples[i].push(measure(&config));
            }
        }
        for ((name, _), mut xs) in subjects.iter().zip(samples) {
            xs.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
            let (m, lo, hi) = (xs[xs.len() / 2], xs[0], xs[xs.len() - 1]);
            println!("{name:<24} {m:>8.0} cases/s  (min {lo:.0}, max {hi:.0})");
        }
        println!("({:.1} s in all)", started.elapsed().as_secs_f64());
    }
}
