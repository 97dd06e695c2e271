//! A Docker client built on the reference client (Docker's hijack: the request,
//! the `101`, then the connection with what the HTTP reader read past the head),
//! with a flag for the flaws real clients have, to show the harness catching them.
//!
//! ```text
//! cargo build --example docker_client
//! target/debug/examples/docker_client -H tcp://127.0.0.1:2375 attach c1
//! target/debug/examples/docker_client -H unix:///run/docker.sock exec c1 cat
//! target/debug/examples/docker_client --flaw loses-read-ahead -H ... attach c1
//! ```
//!
//! It inspects the container (`Config.Tty`), attaches (or creates and starts an
//! exec) with `Connection: Upgrade` + `Upgrade: tcp`, then copies its stdin to
//! the stream (and shuts the write half down at EOF, as `CloseWrite`) while it
//! prints the stream: raw with a TTY, else demultiplexed onto stdout and stderr.
//!
//! Flaws (`--flaw NAME`):
//! * `loses-read-ahead`: reads the raw connection after the `101`, dropping what
//!   the HTTP reader took with the head (docker/docker-py#2466);
//! * `hands-over-on-refusal`: treats any answer as the stream, as Docker's client
//!   did for `Connection: close` (`httputil.ErrPersistEOF` in moby's hijack.go);
//! * `loses-close-write`: never shuts the write half down at stdin EOF (moby/moby#36516).

use std::process::ExitCode;

use bytes::Bytes;
use hijack_harness::reference::head::{Header, RequestHead, ResponseHead};
use hijack_harness::reference::{self, ClientConn, Config, Hijacked, RequestBody};
use hijack_harness::stdcopy::{Demux, Stream};
use hijack_harness::subject::BoxIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flaw {
    None,
    LosesReadAhead,
    HandsOverOnRefusal,
    LosesCloseWrite,
}

struct Args {
    host: String,
    flaw: Flaw,
    exec: bool,
    container: String,
    cmd: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mut host = std::env::var("DOCKER_HOST").unwrap_or_default();
    let mut flaw = Flaw::None;
    let mut rest = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-H" | "--host" => host = args.next().ok_or("-H needs a value")?,
            "--flaw" => {
                flaw = match args.next().as_deref() {
                    Some("loses-read-ahead") => Flaw::LosesReadAhead,
                    Some("hands-over-on-refusal") => Flaw::HandsOverOnRefusal,
                    Some("loses-close-write") => Flaw::LosesCloseWrite,
                    other => return Err(format!("unknown flaw {other:?}")),
                }
            }
            _ => rest.push(arg),
        }
    }
    let mut rest = rest.into_iter();
    let exec = match rest.next().as_deref() {
        Some("attach") => false,
        Some("exec") => true,
        _ => return Err("the command is `attach CONTAINER` or `exec CONTAINER CMD...`".into()),
    };
    let container = rest.next().ok_or("no container named")?;
    let cmd: Vec<String> = rest.collect();
    Ok(Args {
        host,
        flaw,
        exec,
        container,
        cmd: if cmd.is_empty() {
            vec!["cat".into()]
        } else {
            cmd
        },
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!(
                "docker_client: {e}\nusage: docker_client -H tcp://HOST:PORT|unix:///PATH [--flaw NAME] attach CONTAINER | exec CONTAINER CMD..."
            );
            return ExitCode::from(2);
        }
    };
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("docker_client: {e}");
            ExitCode::from(1)
        }
    }
}

async fn dial(host: &str) -> Result<BoxIo, Error> {
    if let Some(addr) = host.strip_prefix("tcp://") {
        let addr = tokio::net::lookup_host(addr)
            .await?
            .next()
            .ok_or("the host resolves to nothing")?;
        return Ok(Box::new(reference::connect(addr).await?));
    }
    if let Some(path) = host.strip_prefix("unix://") {
        return Ok(Box::new(tokio::net::UnixStream::connect(path).await?));
    }
    Err(format!("-H must be tcp://HOST:PORT or unix:///PATH, not {host:?}").into())
}

fn request(method: &str, target: &str, body: &[u8], upgrade: bool) -> RequestHead {
    let mut headers = vec![
        Header::new("Host", "docker"),
        Header::new("User-Agent", "hijack-harness-docker-client"),
        Header::new("Content-Length", body.len().to_string()),
    ];
    if !body.is_empty() {
        headers.push(Header::new("Content-Type", "application/json"));
    }
    if upgrade {
        headers.push(Header::new("Connection", "Upgrade"));
        headers.push(Header::new("Upgrade", "tcp"));
    }
    RequestHead {
        method: method.into(),
        target: target.into(),
        headers,
    }
}

fn body(body: &[u8]) -> RequestBody {
    if body.is_empty() {
        RequestBody::Empty
    } else {
        RequestBody::Length(Bytes::copy_from_slice(body))
    }
}

/// One plain request on its own connection; the JSON body of its answer.
async fn call(
    host: &str,
    method: &str,
    target: &str,
    json: &[u8],
) -> Result<serde_json::Value, Error> {
    let mut conn = ClientConn::new(dial(host).await?, Config::default());
    conn.send(&request(method, target, json, false), &body(json))
        .await?;
    let response = conn.read_response().await?;
    let length: usize =
        hijack_harness::reference::head::header_value(&response.headers, "content-length")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
    let mut rest = conn.hijack_explicit();
    let mut bytes = vec![0u8; length];
    rest.read_exact(&mut bytes).await?;
    if !(200..300).contains(&response.status) {
        return Err(format!(
            "Error response from daemon ({}): {}",
            response.status,
            String::from_utf8_lossy(&bytes)
        )
        .into());
    }
    Ok(serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}

async fn run(args: &Args) -> Result<(), Error> {
    let c = &args.container;
    let inspect = call(
        &args.host,
        "GET",
        &format!("/v1.41/containers/{c}/json"),
        b"",
    )
    .await?;
    let tty = inspect["Config"]["Tty"].as_bool().unwrap_or(false);
    let (target, json) = if args.exec {
        let create = serde_json::json!({
            "AttachStdin": true, "AttachStdout": true, "AttachStderr": true, "Tty": tty, "Cmd": args.cmd,
        });
        let created = call(
            &args.host,
            "POST",
            &format!("/v1.41/containers/{c}/exec"),
            create.to_string().as_bytes(),
        )
        .await?;
        let id = created["Id"]
            .as_str()
            .ok_or("the exec create answer has no Id")?
            .to_string();
        (
            format!("/v1.41/exec/{id}/start"),
            serde_json::json!({"Detach": false, "Tty": tty}).to_string(),
        )
    } else {
        (
            format!("/v1.41/containers/{c}/attach?stderr=1&stdin=1&stdout=1&stream=1"),
            String::new(),
        )
    };
    let mut conn = ClientConn::new(dial(&args.host).await?, Config::default());
    conn.send(
        &request("POST", &target, json.as_bytes(), true),
        &body(json.as_bytes()),
    )
    .await?;
    let response: ResponseHead = conn.read_response().await?;
    let stream = if response.status == 101 {
        let stream = conn.hijack()?;
        if args.flaw == Flaw::LosesReadAhead {
            // The bug, on purpose: the raw connection, without what was read past the 101.
            let parts = stream.into_parts();
            Hijacked::new(parts.io, Bytes::new(), parts.write_buf)
        } else {
            stream
        }
    } else if args.flaw == Flaw::HandsOverOnRefusal {
        // The bug, on purpose: whatever the answer, the rest is the stream.
        conn.hijack_explicit()
    } else {
        return Err(format!("unable to upgrade to tcp, received {}", response.status).into());
    };
    attach(stream, tty, args.flaw).await
}

async fn attach<S: AsyncRead + AsyncWrite + Send + 'static>(
    stream: S,
    tty: bool,
    flaw: Flaw,
) -> Result<(), Error> {
    let (mut reader, mut writer) = tokio::io::split(stream);
    let stdin = tokio::spawn(async move {
        let mut input = tokio::io::stdin();
        let _ = tokio::io::copy(&mut input, &mut writer).await;
        if flaw == Flaw::LosesCloseWrite {
            // Keep the write half open, and silent, until the process ends.
            std::future::pending::<()>().await;
        }
        let _ = writer.shutdown().await;
    });
    let mut stdout = tokio::io::stdout();
    let mut stderr = tokio::io::stderr();
    let mut demux = Demux::new();
    let mut buf = vec![0u8; 16 * 1024];
    let result = loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) => break Err(e.into()),
        };
        if tty {
            stdout.write_all(&buf[..n]).await?;
            stdout.flush().await?;
            continue;
        }
        let mut pieces: Vec<(Stream, Vec<u8>)> = Vec::new();
        let fed = demux.feed(&buf[..n], |stream, bytes| {
            pieces.push((stream, bytes.to_vec()))
        });
        for (stream, bytes) in pieces {
            let out: &mut (dyn AsyncWrite + Unpin + Send) = if stream == Stream::Stderr {
                &mut stderr
            } else {
                &mut stdout
            };
            out.write_all(&bytes).await?;
            out.flush().await?;
        }
        if let Err(e) = fed {
            break Err(format!("the stream is not multiplexed: {e}").into());
        }
    };
    stdin.abort();
    result
}
