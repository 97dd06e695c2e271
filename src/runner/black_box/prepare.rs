//! What one attempt at a case needs from a Docker Engine before it runs, and
//! gives back after: a fresh exec for the exec endpoint (an exec starts once),
//! and, with `--image`, a fresh container for an attach (Podman closes a
//! container's stdin when an attach ends, so a shared `cat` exits after one
//! case). Every other target runs as it is, with nothing to create or remove.

use std::borrow::Cow;
use std::time::Duration;

use crate::suite::Case;

use super::super::Options;
use super::{ServerTarget, docker, plan};

/// The exec ID of a case that does not apply to an exec (none was created).
const NO_EXEC: &str = "-";

/// One attempt's target, with what was created for it.
pub(super) struct Prepared<'a> {
    /// The target to run against: the one given, or a copy of it pointed at
    /// a fresh container.
    pub target: Cow<'a, ServerTarget>,
    /// For the exec endpoint: the exec to start.
    pub exec: Option<String>,
    /// The fresh container to remove after the attempt.
    container: Option<String>,
}

impl Prepared<'_> {
    /// Removes what was created for the attempt, in the background: the next
    /// case need not wait for a container's removal (about 170 ms with
    /// Podman), and the end of the run sweeps what is left ([`docker::sweep`]).
    pub fn release(self, timeout: Duration) {
        if let Some(id) = self.container {
            let target = self.target.into_owned();
            tokio::spawn(async move { docker::remove_container(&target, &id, timeout).await });
        }
    }
}

/// Prepares one attempt at `case` against `target` (see the module doc). A
/// case that does not apply gets nothing created: its plan says why.
pub(super) async fn prepare<'a>(
    target: &'a ServerTarget,
    case: &Case,
    opts: &Options,
) -> Result<Prepared<'a>, String> {
    let mut prepared = Prepared {
        target: Cow::Borrowed(target),
        exec: None,
        container: None,
    };
    let Some(engine) = &target.engine else {
        return Ok(prepared);
    };
    if engine.endpoint == docker::EngineEndpoint::Exec {
        if plan::plan(case, target, Some(NO_EXEC)).is_err() {
            prepared.exec = Some(NO_EXEC.into());
        } else {
            prepared.exec = Some(docker::create_exec(target, engine, opts.timeout).await?);
        }
        return Ok(prepared);
    }
    if let (Some(image), docker::EngineEndpoint::Attach { tty }) =
        (engine.fresh_image(), engine.endpoint)
        && plan::plan(case, target, None).is_ok()
    {
        let id = docker::fresh_container(target, image, tty, opts.timeout).await?;
        let mut fresh = target.clone();
        fresh.path = Some(docker::attach_path(&id));
        prepared.target = Cow::Owned(fresh);
        prepared.container = Some(id);
    }
    Ok(prepared)
}
