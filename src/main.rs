//! The `hijack-harness` command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use hijack_harness::properties::{self, Config};
use hijack_harness::subject::mutants::Mutant;
use hijack_harness::subject::reference::{ReferenceClient, ReferenceServer};

#[derive(Parser)]
#[command(
    name = "hijack-harness",
    version,
    about = "Fuzzing and conformance harness for HTTP/1.1 connection hijacking"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the property-based self-check: the reference must pass and every mutant must be caught.
    Run {
        /// Scenarios per property (default: 256, or PROPTEST_CASES).
        #[arg(long)]
        cases: Option<u32>,
    },
    /// Print the wire trace (and verdict) of one case over the in-memory wire.
    Trace {
        /// The case ID, e.g. handoff.early-data.same-segment.1.
        case: String,
        /// `reference`, `hyper`, `hyper-downcast`, `hyper-util-auto` or `mutant:<name>`.
        #[arg(long, default_value = "reference")]
        subject: String,
        /// Only this side: `server` or `client` (default: every side the case tests).
        #[arg(long)]
        side: Option<String>,
        /// Also write the trace as a pcap file (open it in Wireshark).
        #[arg(long)]
        pcap: Option<std::path::PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { cases } => self_check(cases),
        Command::Trace {
            case,
            subject,
            side,
            pcap,
        } => trace(&case, &subject, side.as_deref(), pcap.as_deref()),
    }
}

fn trace(
    case: &str,
    subject: &str,
    side: Option<&str>,
    pcap: Option<&std::path::Path>,
) -> ExitCode {
    match hijack_harness::inspect::trace_command(case, subject, side, pcap) {
        Ok(output) => {
            print!("{}", output.text);
            ExitCode::from(u8::from(!output.passed))
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn self_check(cases: Option<u32>) -> ExitCode {
    let mut config = Config::seeded(1);
    if let Some(cases) = cases {
        config.cases = cases;
    }
    let mut ok = true;
    for (name, result) in [
        (
            "reference server",
            properties::check_server(&ReferenceServer::default(), &config),
        ),
        (
            "reference client",
            properties::check_client(&ReferenceClient::default(), &config),
        ),
    ] {
        match result {
            Ok(stats) => println!(
                "pass  {name:<40} {} cases, {:.0} cases/s",
                stats.cases,
                stats.per_second()
            ),
            Err(counterexample) => {
                ok = false;
                println!("FAIL  {name}\n{counterexample}");
            }
        }
    }
    for mutant in Mutant::all() {
        let result = match (mutant.server(), mutant.client()) {
            (Some(server), _) => properties::check_server(&server, &config),
            (_, Some(client)) => properties::check_client(&client, &config),
            _ => unreachable!("a mutant is a server or a client"),
        };
        match result {
            Err(counterexample) if counterexample.run.verdict.breaks(mutant.breaks()) => {
                let first = &counterexample.run.verdict.violations[0];
                println!(
                    "caught {:<40} {}: {}",
                    mutant.name(),
                    first.point,
                    first.message
                );
            }
            Err(counterexample) => {
                ok = false;
                println!(
                    "WRONG  {:<40} expected {}, got:\n{}",
                    mutant.name(),
                    mutant.breaks(),
                    counterexample.run.verdict
                );
            }
            Ok(_) => {
                ok = false;
                println!(
                    "MISSED {:<40} survived {} cases",
                    mutant.name(),
                    config.cases
                );
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
