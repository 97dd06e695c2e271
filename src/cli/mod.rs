//! The command line: what a user types, and what each flag means.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

pub mod client;
mod common;
mod embedded;
pub mod run;
mod serve;
mod server;
mod target;

const RUN_EXAMPLES: &str = "\
Examples:
  # The embedded suite: every case against the reference and hyper servers and
  # clients over loopback TCP, plus the self-check that every mutant is caught (a few seconds).
  hijack-harness run

  # Your server, any language: it must answer `Upgrade: echo` with 101 and echo.
  hijack-harness run --server 127.0.0.1:8080 --protocol echo

  # A WebSocket echo server on /ws, or a Docker-style attach endpoint.
  hijack-harness run --server 127.0.0.1:8080 --protocol websocket --path /ws
  hijack-harness run --server 127.0.0.1:2375 --protocol docker

  # Where servers run: Docker's socket, wss with a private CA, a service container.
  hijack-harness run --server unix:///var/run/docker.sock --protocol docker
  hijack-harness run --server unix:///var/run/docker.sock --protocol docker --container c1
  hijack-harness run --server unix:///run/podman/podman.sock --protocol docker --image busybox
  hijack-harness run --server wss://localhost:8443/ws --protocol websocket --ca ca.pem
  hijack-harness run --server app:8080 --protocol echo

  # A WebSocket server that echoes only on a subprotocol, or wants an Origin or a token.
  hijack-harness run --server 127.0.0.1:8080 --protocol websocket --subprotocol echo \
      --header 'Origin: http://localhost' --header 'Authorization: Bearer TOKEN'

  # A CONNECT proxy: the harness runs the upstream echo server itself. Then the
  # tunnel.* cases: the harness's upstream plays each case's scripted upstream
  # (refusals, a 101 for another token, a late answer) on the same port, and
  # both legs (client to proxy, proxy to upstream) are judged and reported.
  hijack-harness run --proxy 127.0.0.1:3128 --via connect --connect-denied 127.0.0.1:25
  # A reverse proxy configured for WebSocket, its upstream on 127.0.0.1:9001.
  hijack-harness run --proxy 127.0.0.1:8000 --via upgrade --protocol websocket --upstream 127.0.0.1:9001

  # Your client: the harness serves, and runs the command once per case.
  hijack-harness run --client-cmd './my-client {addr}'
  hijack-harness run --client-cmd './my-client {addr}' --listen unix: --tls   # Unix socket, TLS

  # A Docker client (CLI or SDK) against the harness's Engine API stub, judged by
  # what it prints and sends; over a Unix socket (Docker's default) or TLS.
  hijack-harness run --client-cmd 'docker -H {host} attach c1' --protocol docker
  hijack-harness run --client-cmd 'docker -H {host} exec -i c1 cat' --protocol docker --listen unix:
  hijack-harness run --client-cmd 'docker -H {host} --tlsverify --tlscacert {ca} attach c1' \
      --protocol docker --tls

  # Only some cases, machine-readable results, fail only on changes.
  hijack-harness run --server 127.0.0.1:8080 --cases 'handoff.*' --exclude '*64k'
  hijack-harness run --server 127.0.0.1:8080 --junit out.xml --expect expected.txt

  # Stable verdicts: each case 5 times; disagreeing repetitions are `flaky`.
  hijack-harness run --server 127.0.0.1:8080 --repeat 5

Verdicts: pass, fail (a MUST broken, also a MUST of the handshake seen by a
SHOULD case), non-strict (a SHOULD missed), unsupported (the target does not
speak what the case needs, or does not echo), error (refused, timeout), flaky
(with --repeat N: the repetitions disagreed; the counts are reported). A server
that stops accepting connections mid-run is reported as such, not as flaky.

Exit codes: 0 every case passed (non-strict allowed unless --strict; with
--expect: nothing changed from the expected file), 1 a case failed, errored or
was flaky, or a mutant survived, 2 the run could not be made (nothing listening, bad arguments).

Client command contract (--client-cmd): the command runs with `sh -c` once per
case, with a fresh listener each time (--listen: 127.0.0.1:0 by default,
unix:PATH, or `unix:` for a fresh socket), and these placeholders replaced:
  {addr}  HOST:PORT, or the socket's path
  {host}  tcp://HOST:PORT or unix:///PATH (Docker's -H / DOCKER_HOST form)
  {ca}    with --tls and no --tls-cert: the throw-away CA's PEM file to trust
--protocol echo (the default): the client connects, sends `GET / HTTP/1.1` with
`Connection: Upgrade` and `Upgrade: echo`, and after a 101 echoes every byte it
receives; when it reads EOF it shuts down its write half (or exits). On any
other answer it must not echo.
--protocol docker: the Docker client cases (docker.*); the harness is a Docker
Engine API stub (ping, version, inspect, wait, attach, exec). The container's
output must appear on the command's stdout/stderr exactly and in order; what the
harness writes on its stdin (a raw terminal for a TTY case) must reach the
attach connection, and closing stdin must send a FIN there; a refusal (404, 409)
must not be handed over.
A command that asks for something else (a Docker client in an echo run, curl)
is `unsupported`, one that never connects or hangs `error`, never `fail`. The
command is killed, with its process group, when the case ends.";

const SERVE_EXAMPLES: &str = "\
Examples:
  hijack-harness serve --listen 127.0.0.1:8080 --protocol echo
  curl -v -H 'Connection: Upgrade' -H 'Upgrade: echo' http://127.0.0.1:8080/
  hijack-harness serve --listen 127.0.0.1:9000 --protocol raw   # what a CONNECT tunnel reaches

  # A Unix socket, as Docker's daemon listens (docker -H unix:///tmp/hh.sock ...).
  hijack-harness serve --listen unix:/tmp/hh.sock --protocol docker

  # A Docker Engine API stub (ping, version, inspect, wait, attach, exec): every
  # attach gets the container output of one Docker client case (`hijack-harness list`).
  hijack-harness serve --listen unix:/tmp/hh.sock --protocol docker-engine --case docker.output.tty.early.300
  docker -H unix:///tmp/hh.sock attach --no-stdin c1

  # TLS with a throw-away certificate; the CA to trust is written to --ca-out.
  hijack-harness serve --listen 127.0.0.1:8443 --protocol websocket --tls --ca-out /tmp/hh-ca.pem
  curl --cacert /tmp/hh-ca.pem https://localhost:8443/

  # The reference proxy in front of an upstream, and a run through it (the
  # harness's upstream on 127.0.0.1:9001): the echo suite and the tunnel.* cases.
  hijack-harness serve --listen 127.0.0.1:9000 --proxy --upstream 127.0.0.1:9001
  hijack-harness run --proxy 127.0.0.1:9000 --via upgrade --upstream 127.0.0.1:9001
  # A proxy mutant, caught by the tunnel.* case that targets it.
  hijack-harness serve --listen 127.0.0.1:9000 --proxy --upstream 127.0.0.1:9001 --mutant TunnelsAfterRefusal

Bad input is answered, then the connection is closed gracefully (FIN, then the
client's input is read and dropped for --linger ms, so no reset destroys the
answer): 400 for a malformed head or chunk size, 431 for a head over 64 KiB or
with too many fields, 408 for a head not done within --head-timeout ms, and 503
past --max-connections. Runs until Ctrl-C.";

/// Fuzzing and conformance harness for HTTP/1.1 connection hijacking
/// (upgrade/101, CONNECT, Go's Hijacker, Docker attach).
#[derive(Parser, Debug)]
#[command(name = "hijack-harness", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the conformance suite: embedded (no target), or against a server, proxy or client.
    #[command(after_long_help = RUN_EXAMPLES)]
    Run(Box<RunArgs>),
    /// List the conformance cases: ID, level, protocols, title.
    List {
        /// Only cases whose ID matches this glob (repeatable).
        #[arg(long = "cases", value_name = "GLOB")]
        cases: Vec<String>,
    },
    /// Serve the reference echo server on ADDR, for testing clients and proxies
    /// by hand, or (--proxy) the reference proxy in front of --upstream.
    #[command(after_long_help = SERVE_EXAMPLES)]
    Serve(ServeArgs),
    /// The property-based self-check over the in-memory wire: the reference must
    /// pass and every mutant must be caught.
    SelfCheck {
        /// Scenarios per property (default: 256).
        #[arg(long, value_name = "N")]
        count: Option<u32>,
    },
    /// Print the wire trace (and verdict) of one case, or of one scenario, over
    /// the in-memory wire.
    #[command(group(clap::ArgGroup::new("traced").required(true).args(["case", "scenario"])))]
    Trace {
        /// The case ID, e.g. handoff.early-data.same-segment.1.
        case: Option<String>,
        /// A scenario instead of a case: the hex of its bytes, as a counterexample's
        /// `replay:` line prints it (also a fuzz seed: `xxd -r -p`).
        #[arg(long, value_name = "HEX")]
        scenario: Option<String>,
        /// `reference`, `hyper`, `hyper-downcast`, `hyper-util-auto` or `mutant:<name>`.
        #[arg(long, default_value = "reference")]
        subject: String,
        /// Only this side: `server` or `client` (default: every side the case tests).
        #[arg(long)]
        side: Option<String>,
        /// Also write the trace as a pcap file (open it in Wireshark).
        #[arg(long, value_name = "FILE")]
        pcap: Option<PathBuf>,
    },
}

/// Arguments of `serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Where to listen: HOST:PORT, [IPv6]:PORT, unix:PATH or unix://PATH.
    #[arg(long, value_name = "ADDR")]
    pub listen: String,
    /// What to speak after the upgrade.
    #[arg(long, value_enum, default_value_t = ServeProtocol::Echo)]
    pub protocol: ServeProtocol,
    /// Speak TLS; with no --tls-cert, on a throw-away certificate whose CA is written to --ca-out.
    #[arg(long)]
    pub tls: bool,
    /// The certificate chain to serve (PEM); implies --tls.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Where to write the throw-away CA certificate (default: a file in the temporary directory).
    #[arg(long, value_name = "FILE", conflicts_with = "tls_cert")]
    pub ca_out: Option<PathBuf>,
    /// The most connections served at once; as many more are answered 503.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_connections: usize,
    /// How long a request head (and a TLS handshake) may take before a 408, in ms.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    pub head_timeout: u64,
    /// How long a graceful close waits for the client's FIN, in ms.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    pub linger: u64,
    /// With --protocol docker-engine: the Docker client case (`docker.*`, see
    /// `hijack-harness list`) whose container the stub plays on every attach.
    #[arg(long, value_name = "ID", default_value = "docker.output.mux.early.300")]
    pub case: String,
    /// Serve the reference proxy instead of a server: an HTTP/1.1 proxy that
    /// forwards upgrades and CONNECT to --upstream and tunnels only after the
    /// upstream switched (--protocol is then unused).
    #[arg(long)]
    pub proxy: bool,
    /// With --proxy: where every request goes, HOST:PORT, whatever its Host.
    /// A CONNECT is forwarded there too, as to a next hop, whatever its target:
    /// the upstream answers it.
    #[arg(long, value_name = "HOST:PORT")]
    pub upstream: Option<String>,
    /// With --proxy: serve a proxy mutant (a deliberate flaw, e.g.
    /// TunnelsAfterRefusal, ForwardsEarly, LosesReadAhead, RelaysUnofferedToken,
    /// ForwardsH2c, ForwardsConnectEarlyDataOnRefusal, ClosesBothOnFin,
    /// SwallowsFin, RefusalAs502, HonoursHttp10Upgrade, ParsesConnectEarlyData,
    /// or their kebab-case names: forwards-early) instead of the reference proxy.
    #[arg(long, value_name = "NAME")]
    pub mutant: Option<String>,
    /// With --proxy: forward only upgrades that offer TOKEN (`websocket`,
    /// Docker's `tcp`); any other upgrade is answered 400, as by a proxy
    /// configured for one protocol.
    #[arg(long, value_name = "TOKEN")]
    pub only_token: Option<String>,
}

/// A black-box server protocol.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `Upgrade: echo`, 101, then a raw echo until FIN.
    Echo,
    /// RFC 6455 handshake, masked frames, echoed data frames.
    Websocket,
    /// Docker attach: `POST .../attach`, `Upgrade: tcp`, `101 UPGRADED`, raw echo.
    Docker,
}

/// What `serve` speaks.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServeProtocol {
    /// `Upgrade: echo`.
    Echo,
    /// RFC 6455 echo.
    Websocket,
    /// Docker attach (`Upgrade: tcp`, and the older `200` raw-stream).
    Docker,
    /// A Docker Engine API stub for real Docker clients (docker CLI, SDKs):
    /// ping, version, inspect, wait, resize, attach, exec; the container is --case's.
    DockerEngine,
    /// Raw TCP echo, no HTTP (the upstream of a CONNECT tunnel).
    Raw,
}

/// How a proxy is asked for the connection.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// `CONNECT upstream`: the proxy opens a tunnel to the harness's raw echo server.
    Connect,
    /// An upgrade request the proxy forwards to the harness's upstream, which
    /// speaks --protocol: `Upgrade: echo`, `websocket` (a proxy configured for
    /// WebSocket only forwards that) or Docker's `tcp`.
    Upgrade,
}

/// Arguments of `run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Test the server at HOST:PORT (any host), unix:PATH, or tls://HOST:PORT (also wss://, https://).
    #[arg(long, value_name = "ENDPOINT", conflicts_with_all = ["proxy", "client_cmd"])]
    pub server: Option<String>,
    /// The server's protocol.
    #[arg(long, value_enum, default_value_t = Protocol::Echo)]
    pub protocol: Protocol,
    /// The request target to use (default: `/`, or Docker's attach path).
    #[arg(long, value_name = "P")]
    pub path: Option<String>,
    /// With --server and --protocol docker: a real Docker Engine's container
    /// (name or ID) that echoes its stdin (`cat`, or `stty raw -echo; exec cat`
    /// with a TTY). The cases run through its attach (raw with a TTY,
    /// multiplexed without) and through a fresh exec of `cat` per case
    /// (multiplexed): targets NAME/attach and NAME/exec.
    #[arg(
        long,
        value_name = "NAME",
        requires = "server",
        conflicts_with = "path"
    )]
    pub container: Option<String>,
    /// With --server and --protocol docker: a real Docker Engine's image
    /// (IMAGE[:TAG], present on the daemon) with `cat`, `sh` and `stty`; the
    /// harness creates its own containers of it and removes them: a fresh one
    /// per attach case, without a TTY and with one (`stty raw -echo; exec
    /// cat`), and one for every exec case. Targets image/attach,
    /// image-tty/attach and image/exec. For a daemon that closes a container's
    /// stdin when an attach ends (Podman), where a shared --container cannot
    /// serve more than one case.
    #[arg(
        long,
        value_name = "IMAGE",
        requires = "server",
        conflicts_with_all = ["path", "container"]
    )]
    pub image: Option<String>,
    /// With --server or --proxy: add this header field to every request of the
    /// run, the harness's first plain request included (repeatable), for a
    /// server that requires one: `--header 'Origin: http://localhost'`,
    /// `--header 'Authorization: Bearer TOKEN'`. The fields the harness writes
    /// itself (Host, Connection, Upgrade, Content-Length, Transfer-Encoding,
    /// Expect, Sec-WebSocket-Key, -Version, -Protocol) cannot be set here.
    #[arg(
        long = "header",
        value_name = "'NAME: VALUE'",
        conflicts_with = "client_cmd"
    )]
    pub headers: Vec<String>,
    /// With --protocol websocket: offer the subprotocol NAME in every handshake
    /// (`Sec-WebSocket-Protocol: NAME`), for a server that echoes only on one
    /// (some bind a connection that offers none to a protocol that never
    /// echoes: the run then says "the endpoint does not echo" and marks every
    /// case unsupported).
    #[arg(long, value_name = "NAME", conflicts_with = "client_cmd")]
    pub subprotocol: Option<String>,
    /// Test the proxy at ENDPOINT (as --server), with the harness's upstream
    /// behind it: the echo suite through it, then the `tunnel.*` cases (which
    /// --cases selects too), whose scripted upstream takes the same port.
    #[arg(long, value_name = "ENDPOINT", conflicts_with = "client_cmd")]
    pub proxy: Option<String>,
    /// How to go through the proxy.
    #[arg(long, value_enum, default_value_t = Via::Connect)]
    pub via: Via,
    /// Where the harness's upstream listens, HOST:PORT (default: a free
    /// loopback port): the echo server of the run's protocol, and, while each
    /// `tunnel.*` case runs, that case's scripted upstream.
    #[arg(long, value_name = "ADDR")]
    pub upstream: Option<String>,
    /// With --proxy: a CONNECT target (HOST:PORT) the proxy's policy refuses;
    /// tunnel.connect-refused-early-data asks for it as well as for a closed
    /// loopback port of the harness's.
    #[arg(long, value_name = "HOST:PORT", requires = "proxy")]
    pub connect_denied: Option<String>,
    /// Test a client: run CMD once per case, with `{addr}` (HOST:PORT or the
    /// socket path), `{host}` (tcp://HOST:PORT or unix:///PATH) and `{ca}` (the
    /// CA file, with --tls) replaced. With --protocol docker: a Docker client.
    #[arg(long, value_name = "CMD")]
    pub client_cmd: Option<String>,
    /// With --client-cmd: where the harness listens, a fresh one per case:
    /// HOST:PORT (port 0: a free one), unix:PATH, or `unix:` for a fresh socket
    /// in a temporary directory.
    #[arg(long, value_name = "ADDR", requires = "client_cmd")]
    pub listen: Option<String>,
    /// Speak TLS. To a --server or --proxy (also implied by tls://, wss://,
    /// https://, --ca, --insecure); with --client-cmd the harness listens with
    /// TLS, on a throw-away certificate whose CA file is `{ca}` (or on --tls-cert/--tls-key).
    #[arg(long)]
    pub tls: bool,
    /// With --server or --proxy: trust the CA certificates in FILE (PEM) instead of the system's roots.
    #[arg(long, value_name = "FILE", conflicts_with = "client_cmd")]
    pub ca: Option<PathBuf>,
    /// With --server or --proxy: do not verify the server's certificate (the report says so).
    #[arg(long, conflicts_with_all = ["ca", "client_cmd"])]
    pub insecure: bool,
    /// With --server or --proxy: the TLS server name to send and verify
    /// (default: the host of the target; `localhost` for a Unix socket).
    #[arg(long, value_name = "NAME", conflicts_with = "client_cmd")]
    pub sni: Option<String>,
    /// With --client-cmd: the certificate chain to serve (PEM); implies --tls.
    #[arg(long, value_name = "FILE", requires_all = ["tls_key", "client_cmd"])]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The target's name in reports and in --expect files (default: the
    /// address, or `client-cmd`).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Only cases whose ID matches GLOB (repeatable).
    #[arg(long = "cases", value_name = "GLOB")]
    pub cases: Vec<String>,
    /// Skip cases whose ID matches GLOB (repeatable).
    #[arg(long = "exclude", value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// The most one case may take, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    pub timeout: u64,
    /// How long the connection may be silent before a case is judged as it stands, in ms.
    #[arg(long, value_name = "MS")]
    pub quiet: Option<u64>,
    /// Run each case N times; a case whose outcome differs between repetitions
    /// is `flaky` (with the counts), which fails the run unless expected.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub repeat: u32,
    /// Treat non-strict (a SHOULD missed) as a failure.
    #[arg(long)]
    pub strict: bool,
    /// Skip the mutant self-check of the embedded run.
    #[arg(long)]
    pub no_mutants: bool,
    /// Write the results as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the results as JUnit XML.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write one trace per case into DIR.
    #[arg(long, value_name = "DIR")]
    pub traces: Option<PathBuf>,
    /// Write an HTML report.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Compare with expected results; only changes fail the run.
    #[arg(long, value_name = "FILE")]
    pub expect: Option<PathBuf>,
    /// Run the embedded suite against one subject only: `reference`, `hyper`, or `mutant:NAME`.
    #[arg(long, value_name = "NAME", hide = true)]
    pub subject: Option<String>,
}
