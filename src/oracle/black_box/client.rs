//! The oracle for a black-box client (`--client-cmd`): it follows the client
//! contract (ask for `Upgrade: echo`, echo everything the server sends after its
//! head, close after the server's FIN), so its echo is judged the way a server's
//! is, from the other side.

use super::echo_clauses;
use crate::oracle::{Point, Verdict, compare, count, locate, preview};
use crate::reference::head;
use crate::wire::{Direction, Trace};

/// Judges a black-box client that follows the `--client-cmd` contract: it asked
/// for `Upgrade: echo`, and after the 101 echoed everything the server sent after
/// its head (`expected_echo`), then closed after the server's FIN.
pub fn judge_black_box_client(
    trace: &Trace,
    refused: bool,
    expected_echo: &[u8],
    response_len: usize,
    server_closed: bool,
) -> Verdict {
    let mut verdict = Verdict::default();
    let c2s = trace.stream(Direction::ClientToServer);
    let (request, message_len) = match head::request_message_len(&c2s) {
        Err(e) => {
            verdict.fail(
                Point::Handshake,
                format!(
                    "the client's request does not parse: {e} (first bytes: {})",
                    preview(&c2s, 60)
                ),
            );
            return verdict;
        }
        Ok(None) => {
            verdict.fail(
                Point::Handshake,
                format!(
                    "the client never sent a complete request ({})",
                    count(c2s.len())
                ),
            );
            return verdict;
        }
        Ok(Some(found)) => found,
    };
    if !request.wants_upgrade()
        || !head::header_value(&request.headers, "upgrade")
            .is_some_and(|v| v.eq_ignore_ascii_case("echo"))
    {
        verdict.fail(
            Point::Handshake,
            "the client did not ask for `Connection: Upgrade` + `Upgrade: echo` (see the client contract in --help)",
        );
        return verdict;
    }
    let after = &c2s[message_len..];
    if refused {
        if !after.is_empty() && head::request_message_len(after).ok().flatten().is_none() {
            verdict.fail(
                Point::NoFalseUpgrade,
                format!(
                    "after a refusal the client sent {} that are not HTTP (it echoed as if upgraded): {}",
                    count(after.len()),
                    preview(after, 40)
                ),
            );
        }
        return verdict;
    }
    let found = compare(expected_echo, after);
    if !found.is_empty() {
        let place = |offset: usize| {
            locate(
                trace,
                Direction::ServerToClient,
                response_len + offset,
                response_len,
            )
        };
        let parts = echo_clauses(&found, "the server", |offset| format!(" {}", place(offset)));
        verdict.fail(
            Point::ClientRead,
            format!(
                "the client echoed {} of the {} the server sent after its head: {}",
                count(after.len()),
                count(expected_echo.len()),
                parts.join("; ")
            ),
        );
    }
    let client_fin = trace.fin(Direction::ClientToServer).is_some();
    match (server_closed, client_fin) {
        (true, false) if found.is_empty() => verdict.fail(
            Point::HalfClose,
            "the server closed its write half, but the client never closed after EOF",
        ),
        (false, true) => verdict.fail(
            Point::Ownership,
            "the client closed the connection although the server had not closed",
        ),
        _ => {}
    }
    verdict
}
