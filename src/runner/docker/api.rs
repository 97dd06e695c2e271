//! The part of the Docker Engine API the stub answers: enough for `docker
//! attach`, `docker exec -i`, `docker run -i` and the SDKs' equivalents.
//!
//! What real clients ask, observed against a logging stub (Debian's `docker.io`
//! 20.10.24 CLI, docker-py 7.2.0, dockerode 5.0.1): `HEAD /_ping` (the answer's
//! `Api-Version` picks the path prefix), `POST /v1.41/containers/ID/wait` (a long
//! poll: the head at once, the body when the container exits), `GET
//! /v1.41/containers/ID/json` (`State.Running`, `Config.Tty`), the attach
//! (`POST .../attach?stderr=1&stdin=1&stdout=1&stream=1` with `Upgrade: tcp`) or
//! `POST /containers/ID/exec` + `POST /exec/EID/start` (the upgrade) + `GET
//! /exec/EID/json`, and for `run -i` `POST /containers/create` + attach + wait +
//! `POST /containers/ID/start`. The stub has one container, whatever its name.
//!
//! Everything here is a pure function of the request: the connection module
//! reads requests and writes these answers.

use serde_json::{Value, json};

use crate::reference::head::RequestHead;

/// The API version the stub speaks (the highest Docker 20.10 knows).
pub const API_VERSION: &str = "1.41";

/// The container's full ID (any name or ID given by a client means it).
pub const CONTAINER_ID: &str = "c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1";

/// The ID of every exec instance the stub creates.
pub const EXEC_ID: &str = "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1";

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `HEAD` or `GET /_ping`.
    Ping {
        /// Whether the answer carries a body (`GET`).
        body: bool,
    },
    /// `GET /version`.
    Version,
    /// `GET /containers/ID/json`.
    Inspect,
    /// `POST /containers/ID/wait`: a long poll.
    Wait,
    /// `POST /containers/ID/resize` or `/exec/EID/resize`.
    Resize,
    /// `POST /containers/create` (`docker run`).
    Create {
        /// The body's `Tty`: the container the client creates has a TTY or not.
        tty: bool,
    },
    /// `POST /containers/ID/start`.
    Start,
    /// `POST /containers/ID/kill` or `DELETE /containers/ID`.
    Stop,
    /// `POST /containers/ID/exec`.
    ExecCreate {
        /// The body's `AttachStdin`.
        attach_stdin: bool,
        /// The body's `Tty`: an exec's stream is raw or multiplexed by this, not
        /// by the container's setting.
        tty: bool,
    },
    /// `GET /exec/EID/json`.
    ExecInspect,
    /// `POST /containers/ID/attach` or `POST /exec/EID/start`: the hand-over.
    Hijack {
        /// `attach` (`stdin=1`) or `exec start` (the exec's `AttachStdin`): whether
        /// the client attaches its stdin; `None` for exec, decided at create.
        stdin: Option<bool>,
        /// Whether the request asked to upgrade (`Connection: Upgrade`, `Upgrade: tcp`).
        upgrade: bool,
    },
    /// Anything else: a `404` with a JSON error, as the daemon answers.
    Unknown,
}

/// The endpoint a request names.
pub fn endpoint(head: &RequestHead, body: &[u8]) -> Endpoint {
    let (path, query) = head.target.split_once('?').unwrap_or((&head.target, ""));
    let mut parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts
        .first()
        .is_some_and(|p| p.starts_with('v') && p[1..].starts_with("1."))
    {
        parts.remove(0);
    }
    let method = head.method.as_str();
    let upgrade = head.wants_upgrade();
    match (method, parts.as_slice()) {
        ("HEAD", ["_ping"]) => Endpoint::Ping { body: false },
        ("GET", ["_ping"]) => Endpoint::Ping { body: true },
        ("GET", ["version"]) => Endpoint::Version,
        ("POST", ["containers", "create"]) => Endpoint::Create {
            tty: json_flag(body, "Tty"),
        },
        ("GET", ["containers", _, "json"]) => Endpoint::Inspect,
        ("POST", ["containers", _, "wait"]) => Endpoint::Wait,
        ("POST", ["containers" | "exec", _, "resize"]) => Endpoint::Resize,
        ("POST", ["containers", _, "start"]) => Endpoint::Start,
        ("POST", ["containers", _, "kill"]) | ("DELETE", ["containers", _]) => Endpoint::Stop,
        ("POST", ["containers", _, "exec"]) => Endpoint::ExecCreate {
            attach_stdin: json_flag(body, "AttachStdin"),
            tty: json_flag(body, "Tty"),
        },
        ("GET", ["exec", _, "json"]) => Endpoint::ExecInspect,
        ("POST", ["containers", _, "attach"]) => Endpoint::Hijack {
            stdin: Some(query_flag(query, "stdin")),
            upgrade,
        },
        ("POST", ["exec", _, "start"]) => Endpoint::Hijack {
            stdin: None,
            upgrade,
        },
        _ => Endpoint::Unknown,
    }
}

/// Whether the JSON object in `body` sets `name` to `true`.
fn json_flag(body: &[u8], name: &str) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|config| config.get(name).and_then(Value::as_bool))
        .unwrap_or(false)
}

/// Whether `name` is set to `1` or `true` in a query string.
fn query_flag(query: &str, name: &str) -> bool {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .any(|(k, v)| k == name && (v == "1" || v.eq_ignore_ascii_case("true")))
}

/// The headers every answer of the daemon carries.
fn daemon_headers() -> String {
    format!(
        "Api-Version: {API_VERSION}\r\nDocker-Experimental: false\r\nOstype: linux\r\nServer: hijack-harness-docker-stub\r\n"
    )
}

/// A complete answer with a JSON body.
pub fn json_answer(status: u16, value: &Value) -> Vec<u8> {
    let mut body = value.to_string();
    body.push('\n');
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\n{}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        reason(status),
        daemon_headers(),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

/// A complete answer without a body.
pub fn empty_answer(status: u16) -> Vec<u8> {
    let length = if status == 204 {
        ""
    } else {
        "Content-Length: 0\r\n"
    };
    format!(
        "HTTP/1.1 {status} {}\r\n{}{length}\r\n",
        reason(status),
        daemon_headers()
    )
    .into_bytes()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        404 => "Not Found",
        409 => "Conflict",
        _ => "Unknown",
    }
}

/// The answer to `_ping`: `OK`, with the `Api-Version` the client negotiates from.
pub fn ping(body: bool) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 200 OK\r\n{}Cache-Control: no-cache, no-store, must-revalidate\r\nPragma: no-cache\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n\r\n",
        daemon_headers()
    )
    .into_bytes();
    if body {
        out.extend_from_slice(b"OK");
    }
    out
}

/// `GET /version`.
pub fn version() -> Vec<u8> {
    json_answer(
        200,
        &json!({
            "Version": "20.10.24", "ApiVersion": API_VERSION, "MinAPIVersion": "1.12",
            "Os": "linux", "Arch": "amd64", "KernelVersion": "6.1.0",
            "Components": [{"Name": "Engine", "Version": "20.10.24"}]
        }),
    )
}

/// `GET /containers/ID/json`: a running container that keeps its stdin open.
pub fn inspect(tty: bool) -> Vec<u8> {
    json_answer(
        200,
        &json!({
            "Id": CONTAINER_ID, "Name": "/c1", "Image": "sha256:00", "Path": "cat", "Args": [],
            "State": {"Status": "running", "Running": true, "Paused": false, "Restarting": false,
                      "OOMKilled": false, "Dead": false, "Pid": 4242, "ExitCode": 0},
            "Config": {"Tty": tty, "OpenStdin": true, "StdinOnce": true, "AttachStdin": true,
                       "AttachStdout": true, "AttachStderr": true, "Image": "busybox", "Cmd": ["cat"]},
            "HostConfig": {"AutoRemove": false}
        }),
    )
}

/// `POST /containers/create`.
pub fn created() -> Vec<u8> {
    json_answer(201, &json!({"Id": CONTAINER_ID, "Warnings": []}))
}

/// `POST /containers/ID/exec`.
pub fn exec_created() -> Vec<u8> {
    json_answer(201, &json!({"Id": EXEC_ID}))
}

/// `GET /exec/EID/json`: the exec has finished with status 0.
pub fn exec_inspect(tty: bool) -> Vec<u8> {
    json_answer(
        200,
        &json!({
            "ID": EXEC_ID, "ContainerID": CONTAINER_ID, "Running": false, "ExitCode": 0,
            "OpenStdin": true, "OpenStdout": true, "OpenStderr": true, "Pid": 4243,
            "ProcessConfig": {"tty": tty, "entrypoint": "cat", "arguments": [], "privileged": false}
        }),
    )
}

/// The head of the wait long poll, sent at once: the body follows at exit.
pub fn wait_head() -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\n{}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        daemon_headers()
    )
    .into_bytes()
}

/// The rest of the wait answer once the container exited: one chunk, then the last.
pub fn wait_body() -> Vec<u8> {
    let body = "{\"Error\":null,\"StatusCode\":0}\n";
    format!("{:x}\r\n{body}\r\n0\r\n\r\n", body.len()).into_bytes()
}

/// Any path the stub does not know.
pub fn not_found() -> Vec<u8> {
    json_answer(404, &json!({"message": "page not found"}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::head::{self, Header};

    fn request(method: &str, target: &str, upgrade: bool) -> RequestHead {
        let mut headers = vec![Header::new("Host", "docker")];
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

    #[test]
    fn the_cli_requests_are_recognised() {
        let cases = [
            ("HEAD", "/_ping", Endpoint::Ping { body: false }),
            (
                "POST",
                "/v1.41/containers/c1/wait?condition=",
                Endpoint::Wait,
            ),
            ("GET", "/v1.41/containers/c1/json", Endpoint::Inspect),
            (
                "POST",
                "/v1.41/containers/create",
                Endpoint::Create { tty: false },
            ),
            ("GET", "/v1.41/exec/e1/json", Endpoint::ExecInspect),
            ("DELETE", "/v1.41/containers/c1", Endpoint::Stop),
            ("GET", "/v1.41/images/json", Endpoint::Unknown),
        ];
        for (method, target, want) in cases {
            assert_eq!(
                endpoint(&request(method, target, false), b""),
                want,
                "{method} {target}"
            );
        }
        let attach = request(
            "POST",
            "/v1.41/containers/c1/attach?stderr=1&stdin=1&stdout=1&stream=1",
            true,
        );
        assert_eq!(
            endpoint(&attach, b""),
            Endpoint::Hijack {
                stdin: Some(true),
                upgrade: true
            }
        );
        let no_stdin = request(
            "POST",
            "/containers/c1/attach?stream=true&stdout=true",
            false,
        );
        assert_eq!(
            endpoint(&no_stdin, b""),
            Endpoint::Hijack {
                stdin: Some(false),
                upgrade: false
            }
        );
        let create = request("POST", "/v1.41/containers/create", false);
        assert_eq!(
            endpoint(&create, br#"{"Tty":true,"OpenStdin":true}"#),
            Endpoint::Create { tty: true }
        );
        let exec = request("POST", "/v1.41/containers/c1/exec", false);
        assert_eq!(
            endpoint(&exec, br#"{"AttachStdin":true,"Cmd":["cat"]}"#),
            Endpoint::ExecCreate {
                attach_stdin: true,
                tty: false
            }
        );
    }

    #[test]
    fn answers_parse_and_carry_the_api_version() {
        for answer in [
            ping(true),
            version(),
            inspect(true),
            exec_inspect(false),
            created(),
            empty_answer(204),
        ] {
            let (response, _) = head::parse_response(&answer).unwrap().unwrap();
            assert_eq!(
                head::header_value(&response.headers, "api-version"),
                Some(API_VERSION)
            );
        }
        let inspect = inspect(true);
        let (_, len) = head::parse_response(&inspect).unwrap().unwrap();
        let value: Value = serde_json::from_slice(&inspect[len..]).unwrap();
        assert_eq!(value["Config"]["Tty"], true);
        assert_eq!(value["State"]["Running"], true);
    }

    #[test]
    fn the_wait_body_is_one_chunk_then_the_last() {
        let body = wait_body();
        assert_eq!(head::chunked_len(&body).unwrap(), Some(body.len()));
    }
}
