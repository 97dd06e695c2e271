//! `docker`: Docker's attach. `POST /containers/ID/attach?stream=1&stdin=1&stdout=1`
//! with `Upgrade: tcp`, answered by `101 UPGRADED` and a raw echo; or, for the
//! explicit-hijack case, the older attach without `Upgrade`, answered by `200 OK`
//! with `Content-Type: application/vnd.docker.raw-stream` and then raw bytes.

use crate::oracle::black_box::Expect;
use crate::scenario::Handshake;

use super::plan::{self, Request};

/// The attach path used for `--protocol docker` when no `--path` is given.
pub const DOCKER_ATTACH: &str = "/containers/hijack-harness/attach?stream=1&stdin=1&stdout=1";

/// The attach request for `handshake` (an upgrade, or the explicit hijack).
pub(super) fn request(
    path: Option<String>,
    refused: bool,
    handshake: Handshake,
) -> Result<Request, String> {
    let mut head = plan::head("POST", plan::path_or(path, DOCKER_ATTACH));
    if handshake == Handshake::Explicit && !refused {
        return Ok(Request {
            head,
            expect: Expect::Explicit,
        });
    }
    plan::upgrade(&mut head, "tcp", refused);
    Ok(Request {
        head,
        expect: plan::upgrade_expect(refused),
    })
}
