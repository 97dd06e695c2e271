//! `docker`: Docker's attach. `POST /containers/ID/attach?stream=1&stdin=1&stdout=1`
//! with `Upgrade: tcp`, answered by `101 UPGRADED` and a raw echo; or, for the
//! explicit-hijack case, the older attach without `Upgrade`, answered by `200 OK`
//! with `Content-Type: application/vnd.docker.raw-stream` and then raw bytes.
//!
//! Against a real Docker Engine (`--container NAME`, an [`Engine`] target) the
//! same cases run through the Engine API's two hijacked endpoints: the
//! container's attach, and a fresh exec of `cat` per case (`POST
//! /containers/NAME/exec`, then `POST /exec/ID/start` with its JSON body and
//! `Upgrade: tcp`). Without a TTY the daemon multiplexes stdout and stderr with
//! 8-byte `stdcopy` headers ([`crate::stdcopy`]): the echo is
//! demultiplexed ([`demux_stdout`]), must come back on stdout, and nothing may
//! appear on stderr (`cat` writes nothing there).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::oracle::black_box::Expect;
use crate::reference::head::{self, Header};
use crate::scenario::{Body, Handshake, Scenario};
use crate::stdcopy::{Demux, Stream};

use super::ServerTarget;
use super::request::{self, Request};

/// The attach path used for `--protocol docker` when no `--path` is given.
pub const DOCKER_ATTACH: &str = "/containers/hijack-harness/attach?stream=1&stdin=1&stdout=1";

/// A container of a real Docker Engine (or a daemon speaking its API) that the
/// cases reach through one of its hijacked endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    /// The container's name or ID.
    pub container: String,
    /// Which endpoint the cases use.
    pub endpoint: EngineEndpoint,
    /// With `--image`: the image each attach case gets a fresh container of
    /// ([`fresh_container`]), removed after the case; `container` is then
    /// the one the exec cases share. A daemon that closes a container's stdin
    /// when an attach ends (Podman) leaves a shared container unusable after
    /// one case.
    pub image: Option<String>,
}

/// The Engine API endpoint a case's connection is hijacked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineEndpoint {
    /// `POST /containers/NAME/attach`, to the container's own process (which
    /// must echo stdin: `cat`); `tty` is the container's `Config.Tty`, which
    /// decides whether the stream is raw or multiplexed.
    Attach {
        /// Whether the container has a TTY (a raw stream) or not (`stdcopy`).
        tty: bool,
    },
    /// `POST /exec/ID/start` of a fresh exec of `cat` without a TTY, created
    /// for each case (`POST /containers/NAME/exec`): multiplexed.
    Exec,
}

impl Engine {
    /// `attach` or `exec`: the last part of the target's name.
    pub fn endpoint_name(&self) -> &'static str {
        match self.endpoint {
            EngineEndpoint::Attach { .. } => "attach",
            EngineEndpoint::Exec => "exec",
        }
    }

    /// Whether the stream is `stdcopy`-multiplexed (no TTY).
    pub fn multiplexed(&self) -> bool {
        !matches!(self.endpoint, EngineEndpoint::Attach { tty: true })
    }

    /// Whether the daemon watches this endpoint's stdin for its detach keys:
    /// an attach to a container with a TTY. moby's `copyEscapable`
    /// (`container/stream/attach.go`) runs only `if cfg.TTY`, and with no
    /// `detachKeys` it uses `defaultEscapeSequence = []byte{16, 17} // ctrl-p,
    /// ctrl-q` (an empty list cannot turn it off): when those two bytes pass,
    /// the daemon ends the attach, and what the TTY still holds is left for the
    /// next one.
    pub fn detaches_on_keys(&self) -> bool {
        matches!(self.endpoint, EngineEndpoint::Attach { tty: true })
    }

    /// The attach path of the container: every stream, as the Docker CLI asks.
    pub fn attach_path(&self) -> String {
        attach_path(&self.container)
    }

    /// The image a fresh container per case comes from: for an attach with `--image`.
    pub fn fresh_image(&self) -> Option<&str> {
        match self.endpoint {
            EngineEndpoint::Attach { .. } => self.image.as_deref(),
            EngineEndpoint::Exec => None,
        }
    }
}

/// `payload` without Docker's default detach keys: every ctrl-p (16) becomes
/// 144, so ctrl-p ctrl-q never passes (see [`Engine::detaches_on_keys`]).
/// The seeded payload keeps its length and its other bytes; a TTY in raw mode
/// (`stty raw`) passes every byte value on, so the echo is still exact.
pub(super) fn without_detach_keys(payload: bytes::Bytes) -> bytes::Bytes {
    if !payload.contains(&16) {
        return payload;
    }
    payload
        .iter()
        .map(|&b| if b == 16 { 144 } else { b })
        .collect::<Vec<u8>>()
        .into()
}

/// The attach path of `container`: every stream, as the Docker CLI asks.
pub fn attach_path(container: &str) -> String {
    format!("/containers/{container}/attach?stream=1&stdin=1&stdout=1&stderr=1")
}

/// What a TTY container runs: raw mode without echo (every byte value passes,
/// and only `cat` writes back), a marker once that is done, then `cat`.
const TTY_COMMAND: &str = "stty raw -echo; echo hh-ready; exec cat";

/// Creates and starts a container of `image` that echoes its stdin (`cat`;
/// with `tty`, in a raw TTY), and gives its ID. A TTY container is ready once
/// its marker is in its logs: attached before its `stty` ran, the terminal
/// would still echo and edit lines. A container that could not be started is
/// removed again.
pub async fn fresh_container(
    target: &ServerTarget,
    image: &str,
    tty: bool,
    timeout: Duration,
) -> Result<String, String> {
    let cmd = if tty {
        format!(r#"["sh","-c",{}]"#, json_str(TTY_COMMAND))
    } else {
        r#"["cat"]"#.to_string()
    };
    let config = format!(
        r#"{{"Image":{},"Cmd":{cmd},"Tty":{tty},"OpenStdin":true,"StdinOnce":false,"AttachStdin":true,"AttachStdout":true,"AttachStderr":true,"NetworkDisabled":true,"HostConfig":{{"NetworkMode":"none"}},"Labels":{{{}:{}}}}}"#,
        json_str(image),
        json_str(RUN_LABEL),
        json_str(&run_id()),
    );
    let answer = engine_call(target, "POST", "/containers/create", Some(&config), timeout).await?;
    if answer.status != 201 {
        return Err(format!(
            "the daemon refused to create a container of {image} ({}): {}",
            answer.status,
            String::from_utf8_lossy(&answer.body).trim()
        ));
    }
    let id = serde_json::from_slice::<serde_json::Value>(&answer.body)
        .ok()
        .and_then(|v| v.get("Id")?.as_str().map(str::to_string))
        .ok_or_else(|| "the container create's answer has no Id".to_string())?;
    let started = async {
        let path = format!("/containers/{id}/start");
        let answer = engine_call(target, "POST", &path, None, timeout).await?;
        if !matches!(answer.status, 204 | 304) {
            return Err(format!(
                "the daemon did not start the container of {image} ({}): {}",
                answer.status,
                String::from_utf8_lossy(&answer.body).trim()
            ));
        }
        if tty {
            ready(target, &id, timeout).await?;
        }
        Ok(())
    };
    match started.await {
        Ok(()) => Ok(id),
        Err(e) => {
            remove_container(target, &id, timeout).await;
            Err(e)
        }
    }
}

/// Waits until the TTY container's marker is in its logs (bounded by `timeout`).
async fn ready(target: &ServerTarget, id: &str, timeout: Duration) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + timeout;
    let path = format!("/containers/{id}/logs?stdout=1");
    while tokio::time::Instant::now() < deadline {
        let answer = engine_call(target, "GET", &path, None, timeout).await?;
        if answer.body.windows(8).any(|w| w == b"hh-ready") {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Err(format!(
        "the TTY container {id} did not run its `stty` within {} ms",
        timeout.as_millis()
    ))
}

/// The label on every container a run creates; its value is the run's [`run_id`].
pub const RUN_LABEL: &str = "hijack-harness.run";

/// This run's value of [`RUN_LABEL`]: the harness's process ID.
fn run_id() -> String {
    std::process::id().to_string()
}

/// Removes a container the run created (`force`: it may still run). A
/// failure is logged, not a verdict: the case was judged already. One that
/// is gone already (`404`) is fine.
pub async fn remove_container(target: &ServerTarget, id: &str, timeout: Duration) {
    let path = format!("/containers/{id}?force=1");
    match engine_call(target, "DELETE", &path, None, timeout).await {
        Ok(answer) if answer.status < 300 || answer.status == 404 => {}
        Ok(answer) => tracing::warn!(id, status = answer.status, "a container was not removed"),
        Err(e) => tracing::warn!(id, error = %e, "a container was not removed"),
    }
}

/// Removes every container this run created and has not removed yet: the
/// end of a run with `--image` (each case's removal runs in the background,
/// so the next case need not wait for it).
pub async fn sweep(target: &ServerTarget, timeout: Duration) {
    let filter = format!(r#"{{"label":["{RUN_LABEL}={}"]}}"#, run_id());
    let path = format!("/containers/json?all=1&filters={}", percent_encode(&filter));
    let ids: Vec<String> = match engine_call(target, "GET", &path, None, timeout).await {
        Ok(answer) if answer.status == 200 => {
            serde_json::from_slice::<serde_json::Value>(&answer.body)
                .ok()
                .and_then(|v| {
                    v.as_array().map(|list| {
                        list.iter()
                            .filter_map(|c| c.get("Id")?.as_str().map(str::to_string))
                            .collect()
                    })
                })
                .unwrap_or_default()
        }
        Ok(answer) => {
            tracing::warn!(
                status = answer.status,
                "the run's containers could not be listed"
            );
            Vec::new()
        }
        Err(e) => {
            tracing::warn!(error = %e, "the run's containers could not be listed");
            Vec::new()
        }
    };
    for id in ids {
        remove_container(target, &id, timeout).await;
    }
}

/// `text` with every byte outside the URL's unreserved set percent-encoded.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The exec start's body: attached (not detached), without a TTY.
const EXEC_START_BODY: &str = r#"{"Detach":false,"Tty":false}"#;

/// The attach request for `handshake` (an upgrade, or the explicit hijack).
/// For an exec, `exec` is the exec's ID: the request starts it, with its JSON
/// body (a case that sends its own body does not apply there).
pub(super) fn request(
    path: Option<String>,
    refused: bool,
    scenario: &Scenario,
    exec: Option<&str>,
) -> Result<Request, String> {
    let path = match exec {
        Some(id) => {
            if scenario.body != Body::None {
                return Err(
                    "an exec start's body is its JSON configuration: a case with its own request body \
                     applies to attach only"
                        .into(),
                );
            }
            format!("/exec/{id}/start")
        }
        None => request::path_or(path, DOCKER_ATTACH),
    };
    let mut head = request::head("POST", path);
    if exec.is_some() {
        head.headers
            .push(Header::new("Content-Type", "application/json"));
    }
    if scenario.handshake == Handshake::Explicit && !refused {
        return Ok(Request {
            head,
            expect: Expect::Explicit,
        });
    }
    request::upgrade(&mut head, "tcp", refused);
    Ok(Request {
        head,
        expect: request::upgrade_expect(refused),
    })
}

/// The body a request to `engine` carries: the exec start's JSON, or nothing.
pub(super) fn body(engine: Option<&Engine>) -> Option<&'static [u8]> {
    match engine.map(|e| e.endpoint) {
        Some(EngineEndpoint::Exec) => Some(EXEC_START_BODY.as_bytes()),
        _ => None,
    }
}

/// The container's stdout from a multiplexed stream: every stdout frame's
/// payload in order. A frame on stderr or stdin, or a header that names no
/// stream, is an error naming it (`cat` writes nothing on stderr; a daemon
/// that puts the echo there, or invents frames, is wrong). A frame cut short
/// by the end of the stream gives the part that arrived.
pub fn demux_stdout(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut stdout = Vec::with_capacity(bytes.len());
    let mut other: Option<(Stream, Vec<u8>)> = None;
    let mut demux = Demux::new();
    demux
        .feed(bytes, |stream, piece| match stream {
            Stream::Stdout => stdout.extend_from_slice(piece),
            s => match &mut other {
                Some((_, seen)) => seen.extend_from_slice(piece),
                None => other = Some((s, piece.to_vec())),
            },
        })
        .map_err(|e| format!("the multiplexed stream is not stdcopy: {e}"))?;
    match other {
        Some((stream, seen)) => Err(format!(
            "{} came back on {stream} (stream {}), where the container wrote nothing: {}",
            crate::oracle::count(seen.len()),
            stream.byte(),
            crate::oracle::preview(&seen, 60)
        )),
        None => Ok(stdout),
    }
}

/// What a one-shot Engine API call got back: the status and the body.
#[derive(Debug)]
pub struct EngineAnswer {
    /// The response's status code.
    pub status: u16,
    /// The response body (its framing removed).
    pub body: Vec<u8>,
}

/// One Engine API call on its own connection (`Connection: close`), bounded by
/// `timeout`: `method path` with an optional JSON body.
pub async fn engine_call(
    target: &ServerTarget,
    method: &str,
    path: &str,
    json: Option<&str>,
    timeout: Duration,
) -> Result<EngineAnswer, String> {
    let call = async {
        let mut connection = super::connect(target, timeout)
            .await
            .map_err(|e| e.to_string())?;
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            target.authority()
        );
        if let Some(json) = json {
            request.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                json.len()
            ));
        }
        request.push_str("\r\n");
        request.push_str(json.unwrap_or(""));
        connection
            .io
            .write_all(request.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut received = Vec::new();
        connection
            .io
            .read_to_end(&mut received)
            .await
            .map_err(|e| e.to_string())?;
        let (response, head_end) = head::parse_final_response(&received)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| {
                format!(
                    "no complete answer to {method} {path}: {}",
                    crate::oracle::preview(&received, 60)
                )
            })?;
        let raw = &received[head_end..];
        let chunked = head::header_value(&response.headers, "transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let body = if chunked { unchunk(raw) } else { raw.to_vec() };
        Ok(EngineAnswer {
            status: response.status,
            body,
        })
    };
    tokio::time::timeout(timeout, call)
        .await
        .unwrap_or_else(|_| Err(format!("{method} {path} timed out")))
}

/// The payload of a chunked body, decoded with the reference's chunk decoder
/// ([`head::chunk_step`]); best effort: it stops at the first malformed or
/// incomplete chunk, and at the last one.
fn unchunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Ok(head::ChunkStep::Data {
        start,
        len,
        consumed,
    }) = head::chunk_step(raw)
    {
        out.extend_from_slice(&raw[start..start + len]);
        raw = &raw[consumed..];
    }
    out
}

/// A JSON string literal of `s` (for container names in request bodies).
fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// Creates a fresh exec of `cat` (stdin, stdout and stderr attached, no TTY)
/// in the engine's container and gives its ID.
pub(super) async fn create_exec(
    target: &ServerTarget,
    engine: &Engine,
    timeout: Duration,
) -> Result<String, String> {
    let config = format!(
        r#"{{"AttachStdin":true,"AttachStdout":true,"AttachStderr":true,"Tty":false,"Cmd":[{}]}}"#,
        json_str("cat")
    );
    let path = format!("/containers/{}/exec", engine.container);
    let answer = engine_call(target, "POST", &path, Some(&config), timeout).await?;
    let text = String::from_utf8_lossy(&answer.body);
    if answer.status != 201 {
        return Err(format!(
            "the daemon refused to create an exec in {} ({}): {}",
            engine.container,
            answer.status,
            text.trim()
        ));
    }
    serde_json::from_slice::<serde_json::Value>(&answer.body)
        .ok()
        .and_then(|v| v.get("Id")?.as_str().map(str::to_string))
        .ok_or_else(|| format!("the exec create's answer has no Id: {}", text.trim()))
}

/// What the daemon says of a container: whether it has a TTY, and whether it
/// runs. `Err` when it does not know the container (its own words).
pub async fn inspect(
    target: &ServerTarget,
    container: &str,
    timeout: Duration,
) -> Result<(bool, bool), String> {
    let answer = engine_call(
        target,
        "GET",
        &format!("/containers/{container}/json"),
        None,
        timeout,
    )
    .await?;
    let text = String::from_utf8_lossy(&answer.body);
    if answer.status != 200 {
        return Err(format!(
            "the daemon answered {} to the inspect of {container}: {}",
            answer.status,
            text.trim()
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(&answer.body)
        .map_err(|e| format!("the inspect of {container} is not JSON: {e}"))?;
    let tty = value
        .pointer("/Config/Tty")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    let running = value
        .pointer("/State/Running")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    Ok((tty, running))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stdcopy::frame;

    #[test]
    fn stdout_frames_are_joined_and_stderr_is_named() {
        let mut wire = frame(Stream::Stdout, b"ab");
        wire.extend(frame(Stream::Stdout, b"cd"));
        assert_eq!(demux_stdout(&wire), Ok(b"abcd".to_vec()));
        // a frame cut short gives what arrived
        assert_eq!(demux_stdout(&wire[..wire.len() - 1]), Ok(b"abc".to_vec()));
        wire.extend(frame(Stream::Stderr, b"oops"));
        let err = demux_stdout(&wire).expect_err("stderr");
        assert!(
            err.contains("4 bytes came back on stderr (stream 2)"),
            "{err}"
        );
        // raw bytes (a TTY stream read as multiplexed) are not stdcopy
        let err = demux_stdout(b"hello world").expect_err("raw");
        assert!(err.contains("not stdcopy"), "{err}");
    }

    #[test]
    fn a_tty_attach_never_carries_the_detach_keys() {
        let tty = Engine {
            container: "c".into(),
            endpoint: EngineEndpoint::Attach { tty: true },
            image: None,
        };
        assert!(tty.detaches_on_keys());
        let raw = Engine {
            endpoint: EngineEndpoint::Attach { tty: false },
            ..tty.clone()
        };
        assert!(!raw.detaches_on_keys());
        let payload = bytes::Bytes::from_static(b"a\x10\x11b\x10");
        assert_eq!(&without_detach_keys(payload)[..], b"a\x90\x11b\x90");
    }

    #[test]
    fn chunked_bodies_are_unframed() {
        assert_eq!(unchunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), b"abcde");
        assert_eq!(unchunk(b"zz\r\n"), b"");
    }
}
