//! The application's choices: what the server application does with the request
//! before it takes the connection, and who writes the answer.
//!
//! Real handlers differ from the plain "read the request, answer through the
//! library, take the connection": a WebSocket or `CONNECT` handler rarely reads the
//! body, a Go handler (Docker's daemon among them) calls `Hijack()` first and
//! writes the `101` itself. Whatever they choose, the invariant is the same: the
//! new protocol starts after the end of the request message, so a body the
//! application left unread is discarded by the library before the hand-over (or
//! the hand-over refused), never passed to the new protocol.

/// How much of the request body the server application reads before it answers
/// and takes the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyRead {
    /// All of it, as a handler that reads its request does.
    All,
    /// The first this many bytes of the payload, then no more (a handler that
    /// peeks at the body, or stops early); normalised to [`BodyRead::All`] when the
    /// body is not longer, and to [`BodyRead::Nothing`] for none.
    Part(u16),
    /// None of it: the handler drops the body, as WebSocket and `CONNECT` handlers do.
    Nothing,
}

impl BodyRead {
    /// How many payload bytes the application reads of a body of `len` bytes.
    pub fn of(self, len: usize) -> usize {
        match self {
            BodyRead::All => len,
            BodyRead::Part(n) => usize::from(n).min(len),
            BodyRead::Nothing => 0,
        }
    }

    /// The same choice for a body of `len` bytes, in its one form: a part as long
    /// as the body is all of it, and a part of nothing is nothing.
    pub fn normalized(self, len: usize) -> Self {
        match self {
            BodyRead::Part(0) => BodyRead::Nothing,
            BodyRead::Part(n) if usize::from(n) >= len => BodyRead::All,
            other => other,
        }
    }
}

/// Who writes the server's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnswerWriter {
    /// The library, as the handler asks (hyper's `Response`, Go's `WriteHeader`).
    Library,
    /// The application, on the raw connection after an explicit hijack before any
    /// answer: Go's `Hijack()` then `HTTP/1.1 101 ...`, as Docker's daemon does.
    Application,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_has_one_form() {
        assert_eq!(BodyRead::Part(0).normalized(10), BodyRead::Nothing);
        assert_eq!(BodyRead::Part(10).normalized(10), BodyRead::All);
        assert_eq!(BodyRead::Part(3).normalized(10), BodyRead::Part(3));
        assert_eq!(BodyRead::Part(3).normalized(0), BodyRead::All);
        assert_eq!(BodyRead::Nothing.normalized(0), BodyRead::Nothing);
        assert_eq!(BodyRead::Part(3).of(10), 3);
        assert_eq!(BodyRead::All.of(10), 10);
        assert_eq!(BodyRead::Nothing.of(10), 0);
    }
}
