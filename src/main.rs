//! The `hijack-harness` command line: conformance runs over loopback TCP against
//! the embedded subjects or any server, proxy or client; the reference echo
//! server; the case list; the property self-check.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run::main()
}
