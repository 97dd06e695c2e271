//! `echo`: the harness's own protocol. `GET /` (`POST` with a body) with `Connection: Upgrade` and
//! `Upgrade: echo`, answered by `101`; then the server echoes every byte until the
//! client's FIN, and closes.

use crate::scenario::Scenario;

use super::request::{self, Request};

/// The request for `echo` (to the unknown token when the case is a refusal).
pub(super) fn request(
    path: Option<String>,
    refused: bool,
    scenario: &Scenario,
) -> Result<Request, String> {
    request::explicit_needs_docker(scenario.handshake)?;
    // `GET`, or `POST` when the case sends a body (as the scenario's own head does).
    let method = scenario.request_head().method;
    let mut head = request::head(&method, request::path_or(path, "/"));
    request::upgrade(&mut head, "echo", refused);
    Ok(Request {
        head,
        expect: request::upgrade_expect(refused),
    })
}
