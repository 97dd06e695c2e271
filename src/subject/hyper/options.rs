//! The `http1::Builder` options a hyper subject runs with, and the `proptest`
//! strategies that draw them.

use hyper_util::rt::TokioExecutor;
use proptest::prelude::*;

use crate::scenario::{BodyRead, Scenario};
use crate::subject::known;

/// The `hyper::server::conn::http1::Builder` options that touch reading, writing
/// or buffering. `None` leaves hyper's default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HyperServerOptions {
    /// `half_close`: keep reading after the client's FIN in the middle of a request.
    pub half_close: bool,
    /// `keep_alive`: serve more than one request per connection.
    pub keep_alive: bool,
    /// `title_case_headers`: write `Content-Length`, not `content-length`.
    pub title_case_headers: bool,
    /// `preserve_header_case`.
    pub preserve_header_case: bool,
    /// `max_headers` (drawn at least as large as any scenario's header count).
    pub max_headers: Option<usize>,
    /// `max_header_size` (drawn larger than any scenario's head; not on `auto`).
    pub max_header_size: Option<usize>,
    /// `writev`: `Some(true)` queues buffers, `Some(false)` flattens, `None` is auto.
    pub writev: Option<bool>,
    /// `max_buf_size` (hyper's minimum is 8192).
    pub max_buf_size: Option<usize>,
    /// `auto_date_header`.
    pub auto_date_header: bool,
    /// `pipeline_flush`: aggregate flushes of pipelined responses.
    pub pipeline_flush: bool,
    /// `ignore_invalid_headers`.
    pub ignore_invalid_headers: bool,
    /// `allow_multiple_spaces_in_request_line_delimiters` (not on `auto`).
    pub allow_multiple_spaces: bool,
}

impl Default for HyperServerOptions {
    /// hyper's defaults.
    fn default() -> Self {
        HyperServerOptions {
            half_close: false,
            keep_alive: true,
            title_case_headers: false,
            preserve_header_case: false,
            max_headers: None,
            max_header_size: None,
            writev: None,
            max_buf_size: None,
            auto_date_header: true,
            pipeline_flush: false,
            ignore_invalid_headers: false,
            allow_multiple_spaces: false,
        }
    }
}

/// The known findings of hyper's server, by the names
/// [`HyperServerOptions::known_finding`] gives them (README, "Findings"; the
/// registry of known findings, [`known`]).
pub const KNOWN_FINDINGS: [&str; 4] = [
    known::PIPELINE_FLUSH_LOSES_101_HEAD.name,
    known::HALF_CLOSE_FALSE_DROPS_PIPELINED_REQUEST.name,
    known::DROPPED_BODY_HANDED_TO_UPGRADE.name,
    known::DROPPED_BODY_SKIPS_100_BEFORE_101.name,
];

impl HyperServerOptions {
    /// The known finding (README, "Findings") that hyper 1.12 with these options
    /// hits on `s`, if any, by its regression test's name in `tests/hyper/findings.rs`.
    ///
    /// The hyper properties and fuzz targets skip these cases, so that they keep
    /// looking for new failures instead of rediscovering known ones; each
    /// finding's own regression test asserts that hyper still fails it, and fails
    /// the day hyper is fixed.
    pub fn known_finding(&self, s: &Scenario) -> Option<&'static str> {
        if self.pipeline_flush && s.accepted() && !s.client_early().is_empty() {
            return Some(known::PIPELINE_FLUSH_LOSES_101_HEAD.name);
        }
        if !s.accepted() && s.client.half_close && !self.half_close {
            return Some(known::HALF_CLOSE_FALSE_DROPS_PIPELINED_REQUEST.name);
        }
        // Whether hyper drains a dropped body in its one read depends on the
        // segments and the chunks; every unread body is skipped.
        let unread_body =
            s.accepted() && s.body.has_content() && s.server.body_read != BodyRead::All;
        if unread_body && s.expect_continue && s.server.body_read == BodyRead::Nothing {
            return Some(known::DROPPED_BODY_SKIPS_100_BEFORE_101.name);
        }
        if unread_body {
            return Some(known::DROPPED_BODY_HANDED_TO_UPGRADE.name);
        }
        None
    }

    /// A `http1::Builder` with these options.
    pub fn builder(&self) -> hyper::server::conn::http1::Builder {
        let mut b = hyper::server::conn::http1::Builder::new();
        b.half_close(self.half_close)
            .keep_alive(self.keep_alive)
            .title_case_headers(self.title_case_headers)
            .preserve_header_case(self.preserve_header_case)
            .auto_date_header(self.auto_date_header)
            .pipeline_flush(self.pipeline_flush)
            .ignore_invalid_headers(self.ignore_invalid_headers)
            .allow_multiple_spaces_in_request_line_delimiters(self.allow_multiple_spaces);
        if let Some(n) = self.max_headers {
            b.max_headers(n);
        }
        if let Some(n) = self.max_header_size {
            b.max_header_size(n);
        }
        if let Some(v) = self.writev {
            b.writev(v);
        }
        if let Some(n) = self.max_buf_size {
            b.max_buf_size(n);
        }
        b
    }

    /// A hyper-util `auto::Builder`, HTTP/1 path, with the options it exposes.
    pub fn auto_builder(&self) -> hyper_util::server::conn::auto::Builder<TokioExecutor> {
        // The executor is only used for HTTP/2 streams; the HTTP/1 path never spawns.
        let mut b = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        {
            let mut h1 = b.http1();
            h1.half_close(self.half_close)
                .keep_alive(self.keep_alive)
                .title_case_headers(self.title_case_headers)
                .preserve_header_case(self.preserve_header_case)
                .auto_date_header(self.auto_date_header)
                .pipeline_flush(self.pipeline_flush)
                .ignore_invalid_headers(self.ignore_invalid_headers);
            if let Some(n) = self.max_headers {
                h1.max_headers(n);
            }
            if let Some(v) = self.writev {
                h1.writev(v);
            }
            if let Some(n) = self.max_buf_size {
                h1.max_buf_size(n);
            }
        }
        b
    }
}

/// How the client's read buffer is sized (hyper makes the two settings exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadBuf {
    /// hyper's adaptive default.
    Default,
    /// `read_buf_exact_size(Some(n))`: every read asks for exactly `n` bytes.
    Exact(usize),
    /// `max_buf_size(n)` (at least 8192).
    Max(usize),
}

/// The `hyper::client::conn::http1::Builder` options that touch reading, writing,
/// buffering or parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HyperClientOptions {
    /// `writev`.
    pub writev: Option<bool>,
    /// `read_buf_exact_size` or `max_buf_size`.
    pub read_buf: ReadBuf,
    /// `title_case_headers`.
    pub title_case_headers: bool,
    /// `preserve_header_case`.
    pub preserve_header_case: bool,
    /// `max_headers` (drawn at least as large as any scenario's header count).
    pub max_headers: Option<usize>,
    /// `max_header_size` (drawn larger than any scenario's head).
    pub max_header_size: Option<usize>,
    /// `http09_responses`.
    pub http09_responses: bool,
    /// `allow_spaces_after_header_name_in_responses`.
    pub allow_spaces_after_header_name: bool,
    /// `allow_obsolete_multiline_headers_in_responses`.
    pub allow_obsolete_multiline_headers: bool,
    /// `ignore_invalid_headers_in_responses`.
    pub ignore_invalid_headers: bool,
}

impl Default for HyperClientOptions {
    /// hyper's defaults.
    fn default() -> Self {
        HyperClientOptions {
            writev: None,
            read_buf: ReadBuf::Default,
            title_case_headers: false,
            preserve_header_case: false,
            max_headers: None,
            max_header_size: None,
            http09_responses: false,
            allow_spaces_after_header_name: false,
            allow_obsolete_multiline_headers: false,
            ignore_invalid_headers: false,
        }
    }
}

impl HyperClientOptions {
    /// A client `http1::Builder` with these options.
    pub fn builder(&self) -> hyper::client::conn::http1::Builder {
        let mut b = hyper::client::conn::http1::Builder::new();
        b.title_case_headers(self.title_case_headers)
            .preserve_header_case(self.preserve_header_case)
            .http09_responses(self.http09_responses)
            .allow_spaces_after_header_name_in_responses(self.allow_spaces_after_header_name)
            .allow_obsolete_multiline_headers_in_responses(self.allow_obsolete_multiline_headers)
            .ignore_invalid_headers_in_responses(self.ignore_invalid_headers);
        if let Some(v) = self.writev {
            b.writev(v);
        }
        match self.read_buf {
            ReadBuf::Default => {}
            ReadBuf::Exact(n) => {
                b.read_buf_exact_size(Some(n));
            }
            ReadBuf::Max(n) => {
                b.max_buf_size(n);
            }
        }
        if let Some(n) = self.max_headers {
            b.max_headers(n);
        }
        if let Some(n) = self.max_header_size {
            b.max_header_size(n);
        }
        b
    }
}

/// A scenario's heads carry at most this many fields (host, upgrade pair,
/// framing, expect, four extras); `max_headers` is drawn at or above it, since a
/// smaller limit is a `431`, not a hand-over question.
const MOST_HEADERS: usize = 10;

/// A scenario's longest response, interim `100 Continue` included, is under this.
const MOST_HEAD: usize = 512;

fn max_buf_size() -> impl Strategy<Value = usize> {
    prop_oneof![Just(8192usize), 8193usize..=70_000, Just(400 * 1024)]
}

fn max_header_size() -> impl Strategy<Value = Option<usize>> {
    // The longest generated head is well under 1 KiB.
    prop::option::of(prop_oneof![Just(2048usize), 2049usize..=65_536])
}

/// Any server configuration.
pub fn server_options() -> impl Strategy<Value = HyperServerOptions> {
    (
        (
            any::<bool>(),
            prop::bool::weighted(0.8),
            any::<bool>(),
            any::<bool>(),
        ),
        (
            prop::option::of(MOST_HEADERS..=200),
            max_header_size(),
            prop::option::of(any::<bool>()),
            prop::option::of(max_buf_size()),
        ),
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(
                (half_close, keep_alive, title_case_headers, preserve_header_case),
                (max_headers, max_header_size, writev, max_buf_size),
                (auto_date_header, pipeline_flush, ignore_invalid_headers, allow_multiple_spaces),
            )| HyperServerOptions {
                half_close,
                keep_alive,
                title_case_headers,
                preserve_header_case,
                max_headers,
                max_header_size,
                writev,
                max_buf_size,
                auto_date_header,
                pipeline_flush,
                ignore_invalid_headers,
                allow_multiple_spaces,
            },
        )
}

/// Any client configuration.
pub fn client_options() -> impl Strategy<Value = HyperClientOptions> {
    let read_buf = prop_oneof![
        2 => Just(ReadBuf::Default),
        // hyper's exact read size is also the largest head it reads (a smaller one is
        // "message head is too large"), so it is drawn above a scenario's longest head.
        2 => prop_oneof![Just(MOST_HEAD), (MOST_HEAD + 1)..=4096, Just(8192usize), Just(65_536usize)]
            .prop_map(ReadBuf::Exact),
        1 => max_buf_size().prop_map(ReadBuf::Max),
    ];
    (
        (
            prop::option::of(any::<bool>()),
            read_buf,
            any::<bool>(),
            any::<bool>(),
        ),
        (prop::option::of(MOST_HEADERS..=200), max_header_size()),
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(
                (writev, read_buf, title_case_headers, preserve_header_case),
                (max_headers, max_header_size),
                (
                    http09_responses,
                    allow_spaces_after_header_name,
                    allow_obsolete_multiline_headers,
                    ignore_invalid_headers,
                ),
            )| HyperClientOptions {
                writev,
                read_buf,
                title_case_headers,
                preserve_header_case,
                max_headers,
                max_header_size,
                http09_responses,
                allow_spaces_after_header_name,
                allow_obsolete_multiline_headers,
                ignore_invalid_headers,
            },
        )
}
