//! [`Request`]: one HTTP request as the layers above describe it, and its [`Body`].

use std::borrow::Cow;
use std::io::Read;
use std::time::Duration;

use super::{Method, Url};

/// A request body.
pub(crate) enum Body<'a> {
    /// No body.
    Empty,
    /// Bytes in memory: can be sent again on retry.
    Bytes(&'a [u8]),
    /// A stream: sent once, never retried here. `len` becomes `Content-Length` when known (else
    /// chunked).
    Reader {
        reader: &'a mut dyn Read,
        len: Option<u64>,
    },
}

impl Body<'_> {
    /// True when the body can be sent again (retries, a second attempt after a challenge).
    pub(crate) fn replayable(&self) -> bool {
        !matches!(self, Body::Reader { .. })
    }
}

/// One request, as the layers above describe it.
pub(crate) struct Request<'a> {
    pub method: Method,
    pub url: Url,
    pub headers: Vec<(Cow<'static, str>, String)>,
    pub body: Body<'a>,
    /// The token scope this request needs, e.g. `repository:x:pull` (used by the auth policy).
    pub scope: Option<String>,
    /// A limit on the whole exchange, on top of the client's timeouts.
    pub timeout: Option<Duration>,
    /// A blob transfer: not bound by `Timeouts::total`, held to `Timeouts::min_progress` instead.
    pub bulk: bool,
    /// Safe to send twice: a timeout or a connection broken after sending may be retried. True
    /// for `GET`, `HEAD`, `PUT`, `DELETE` and `OPTIONS`; a `POST` is marked by its sender.
    pub idempotent: bool,
}

impl<'a> Request<'a> {
    /// A request without headers or body.
    pub(crate) fn new(method: Method, url: Url) -> Self {
        let idempotent = matches!(
            method.as_str(),
            "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS"
        );
        Request {
            method,
            url,
            headers: Vec::new(),
            body: Body::Empty,
            scope: None,
            timeout: None,
            bulk: false,
            idempotent,
        }
    }

    /// Marks the request as safe to send twice (e.g. a token request).
    pub(crate) fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// Adds a header.
    pub(crate) fn header(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The token scope the request needs.
    pub(crate) fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// The body.
    pub(crate) fn body(mut self, body: Body<'a>) -> Self {
        self.body = body;
        self
    }

    /// A limit on the whole exchange.
    #[cfg_attr(not(feature = "azure"), allow(dead_code))]
    pub(crate) fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// A form-encoded body (`application/x-www-form-urlencoded`).
    pub(crate) fn form(self, body: &'a [u8]) -> Self {
        self.header("Content-Type", "application/x-www-form-urlencoded")
            .body(Body::Bytes(body))
    }

    /// True when the request carries a header of that name.
    pub(crate) fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }
}
