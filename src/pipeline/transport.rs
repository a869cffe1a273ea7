//! The one place that sends HTTP: builds the `ureq` request, applies user agent and timeouts, retries what
//! may be retried, maps transport failures to [`Error`], and logs with secrets redacted.
//!
//! Redirects are never followed here (the [`Pipeline`](super::Pipeline) follows them for GET and HEAD only,
//! and decides per hop whether credentials may go along). Status codes never become errors here: the
//! caller reads error bodies and challenges.

use std::io::Read;
use std::time::Instant;

use ureq::http;
use url::Url;

use super::{redact, retry};
use crate::error::{Error, Result};
use crate::options::ClientOptions;

/// A request body.
pub(crate) enum Body<'a> {
    /// No body.
    Empty,
    /// Bytes in memory: can be sent again on retry.
    Bytes(&'a [u8]),
    /// A stream: sent once, never retried here. `len` becomes `Content-Length` when known (else chunked).
    Reader {
        reader: &'a mut dyn Read,
        len: Option<u64>,
    },
}

impl Body<'_> {
    pub(crate) fn replayable(&self) -> bool {
        !matches!(self, Body::Reader { .. })
    }
}

/// One request, as the layers above describe it.
pub(crate) struct Request<'a> {
    pub method: http::Method,
    pub url: Url,
    pub headers: Vec<(&'static str, String)>,
    pub body: Body<'a>,
    /// The token scope this request needs, e.g. `repository:x:pull` (used by the auth policy).
    pub scope: Option<String>,
}

impl<'a> Request<'a> {
    pub(crate) fn new(method: http::Method, url: Url) -> Self {
        Request {
            method,
            url,
            headers: Vec::new(),
            body: Body::Empty,
            scope: None,
        }
    }

    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub(crate) fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    pub(crate) fn body(mut self, body: Body<'a>) -> Self {
        self.body = body;
        self
    }

    /// A form-encoded body (`application/x-www-form-urlencoded`).
    pub(crate) fn form(self, body: &'a [u8]) -> Self {
        self.header("Content-Type", "application/x-www-form-urlencoded")
            .body(Body::Bytes(body))
    }
}

/// A response whose status has not been judged yet.
pub(crate) struct Response {
    pub status: u16,
    pub url: Url,
    pub method: http::Method,
    headers: http::HeaderMap,
    /// `None` once consumed; an unread body is drained on drop (see `Drop`).
    body: Option<ureq::Body>,
    pub(crate) anonymous: bool,
}

/// Error bodies are read up to this size.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;

impl Response {
    /// A header value, when present and text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// All values of a header.
    pub(crate) fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn take_body(&mut self) -> ureq::Body {
        self.body
            .take()
            .unwrap_or_else(|| ureq::Body::builder().data(Vec::new()))
    }

    /// The body as a stream.
    pub(crate) fn into_reader(mut self) -> impl Read + Send + 'static {
        self.take_body().into_with_config().limit(u64::MAX).reader()
    }

    /// Reads the whole body, refusing more than `limit` bytes without reading further.
    pub(crate) fn bytes(mut self, what: &'static str, limit: u64) -> Result<Vec<u8>> {
        let url = redact::url(&self.url);
        if let Some(len) = self
            .header("content-length")
            .and_then(|l| l.parse::<u64>().ok())
            && len > limit
        {
            return Err(Error::TooLarge { what, limit });
        }
        let mut out = Vec::new();
        let mut reader = self
            .take_body()
            .into_with_config()
            .limit(u64::MAX)
            .reader()
            .take(limit + 1);
        reader.read_to_end(&mut out).map_err(|e| Error::Transport {
            url,
            message: format!("reading the {what} failed: {e}"),
            source: Some(Box::new(e)),
        })?;
        if out.len() as u64 > limit {
            return Err(Error::TooLarge { what, limit });
        }
        Ok(out)
    }

    /// Decodes a JSON body of at most `limit` bytes.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(
        self,
        what: &'static str,
        limit: u64,
    ) -> Result<T> {
        let bytes = self.bytes(what, limit)?;
        serde_json::from_slice(&bytes).map_err(|e| Error::decode(what, e))
    }

    /// Turns an unexpected response into the registry error it describes.
    pub(crate) fn into_error(self) -> Error {
        let (status, method, url, anonymous) = (
            self.status,
            self.method.to_string(),
            redact::url(&self.url),
            self.anonymous,
        );
        let body = self
            .bytes("error body", ERROR_BODY_LIMIT)
            .unwrap_or_default();
        crate::error::registry_error(status, &method, &url, &body, anonymous)
    }

    /// `Ok(self)` when the status is one of `expected`, else the registry error.
    pub(crate) fn expect(self, expected: &[u16]) -> Result<Self> {
        if expected.contains(&self.status) {
            Ok(self)
        } else {
            Err(self.into_error())
        }
    }
}

impl Drop for Response {
    /// ureq pools a connection only once its response was read to the end: drain a small unread body
    /// (announced length up to 64 KiB) so callers that only look at the status keep the connection. A body
    /// of unknown or larger length is not read (that could block), and its connection is closed.
    fn drop(&mut self) {
        let Some(body) = self.body.take() else { return };
        let small = self
            .header("content-length")
            .and_then(|l| l.trim().parse::<u64>().ok())
            .is_some_and(|n| n <= ERROR_BODY_LIMIT);
        if small {
            let mut reader = body.into_with_config().limit(ERROR_BODY_LIMIT).reader();
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        }
    }
}

/// The configured `ureq` agent plus the policies applied to every call.
#[derive(Clone)]
pub(crate) struct Transport {
    agent: ureq::Agent,
    options: ClientOptions,
    user_agent: String,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("user_agent", &self.user_agent)
            .finish_non_exhaustive()
    }
}

impl Transport {
    pub(crate) fn new(options: &ClientOptions) -> Result<Self> {
        let mut user_agent = format!("azcontainerregistry-rust/{}", env!("CARGO_PKG_VERSION"));
        if let Some(s) = options
            .user_agent_suffix
            .as_deref()
            .filter(|s| !s.is_empty())
        {
            user_agent.push(' ');
            user_agent.push_str(s);
        }
        let agent = match (&options.agent, &options.proxy) {
            (Some(_), Some(_)) => {
                return Err(Error::Config(
                    "ClientOptions::proxy and ClientOptions::agent are exclusive: configure the proxy on the agent"
                        .into(),
                ));
            }
            (Some(a), None) => a.clone(),
            // ureq's default reads HTTPS_PROXY / HTTP_PROXY / ALL_PROXY and NO_PROXY
            (None, None) => ureq::Agent::config_builder().build().into(),
            (None, Some(p)) => {
                let proxy = ureq::Proxy::new(p)
                    .map_err(|e| Error::Config(format!("bad proxy {}: {e}", redact::proxy(p))))?;
                ureq::Agent::config_builder()
                    .proxy(Some(proxy))
                    .build()
                    .into()
            }
        };
        Ok(Transport {
            agent,
            options: options.clone(),
            user_agent,
        })
    }

    pub(crate) fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// Sends `req` with `authorization` (if any), retrying per the retry options when the body allows.
    pub(crate) fn send(
        &self,
        req: &mut Request<'_>,
        authorization: Option<&str>,
    ) -> Result<Response> {
        let retry_opts = &self.options.retry;
        let mut attempt = 0u32;
        loop {
            let started = Instant::now();
            let result = self.send_once(req, authorization);
            let replayable = req.body.replayable();
            match result {
                Ok(resp) => {
                    log::debug!(
                        "{} {} -> {} in {:?}",
                        req.method,
                        redact::url(&req.url),
                        resp.status,
                        started.elapsed()
                    );
                    if retry::is_retryable_status(resp.status)
                        && replayable
                        && attempt < retry_opts.max_retries
                    {
                        attempt += 1;
                        let delay = retry::delay(retry_opts, attempt, resp.header("retry-after"));
                        log::info!(
                            "retrying {} {} after status {} (attempt {attempt}, in {delay:?})",
                            req.method,
                            redact::url(&req.url),
                            resp.status
                        );
                        drop(resp);
                        std::thread::sleep(delay);
                        continue;
                    }
                    return Ok(resp);
                }
                Err(e) => {
                    let retryable = matches!(e, Error::Transport { .. } | Error::Timeout { .. });
                    if retryable && replayable && attempt < retry_opts.max_retries {
                        attempt += 1;
                        let delay = retry::delay(retry_opts, attempt, None);
                        log::info!(
                            "retrying {} after error: {e} (attempt {attempt}, in {delay:?})",
                            req.method
                        );
                        std::thread::sleep(delay);
                        continue;
                    }
                    return Err(e);
                }
            }
        }
    }

    fn send_once(&self, req: &mut Request<'_>, authorization: Option<&str>) -> Result<Response> {
        let mut builder = http::Request::builder()
            .method(req.method.clone())
            .uri(req.url.as_str());
        builder = builder.header("User-Agent", self.user_agent.as_str());
        for (name, value) in &req.headers {
            builder = builder.header(*name, value.as_str());
        }
        if let Some(auth) = authorization {
            builder = builder.header("Authorization", auth);
        }
        if log::log_enabled!(log::Level::Trace) {
            for (name, value) in &req.headers {
                log::trace!("> {name}: {}", redact::header(name, value));
            }
        }
        let url_text = redact::url(&req.url);
        let map_build =
            |e: http::Error| Error::Config(format!("cannot build request for {url_text}: {e}"));
        let t = &self.options.timeouts;
        let result = match &mut req.body {
            Body::Empty => {
                let r = builder.body(()).map_err(map_build)?;
                self.agent.run(self.configure(r, t))
            }
            Body::Bytes(b) => {
                let r = builder.body(*b).map_err(map_build)?;
                self.agent.run(self.configure(r, t))
            }
            Body::Reader {
                reader,
                len: Some(len),
            } => {
                builder = builder.header("Content-Length", len.to_string());
                // ureq 3.5 spins forever when a reader ends before Content-Length: make that an error.
                let mut exact = Exact {
                    inner: &mut **reader,
                    remaining: *len,
                };
                let r = builder
                    .body(ureq::SendBody::from_reader(&mut exact))
                    .map_err(map_build)?;
                self.agent.run(self.configure(r, t))
            }
            Body::Reader { reader, len: None } => {
                let r = builder
                    .body(ureq::SendBody::from_reader(*reader))
                    .map_err(map_build)?;
                self.agent.run(self.configure(r, t))
            }
        };
        match result {
            Ok(resp) => {
                let (parts, body) = resp.into_parts();
                Ok(Response {
                    status: parts.status.as_u16(),
                    url: req.url.clone(),
                    method: req.method.clone(),
                    headers: parts.headers,
                    body: Some(body),
                    anonymous: false,
                })
            }
            Err(e) => Err(map_ureq_error(e, &req.url)),
        }
    }

    fn configure<B: ureq::AsSendBody>(
        &self,
        r: http::Request<B>,
        t: &crate::options::Timeouts,
    ) -> http::Request<B> {
        self.agent
            .configure_request(r)
            .http_status_as_error(false)
            .max_redirects(0)
            // No per-request `.user_agent(..)`: ureq only pools connections for requests whose
            // user-agent config equals the agent's, so setting it here made every request open a new
            // connection (and TLS handshake). The `User-Agent` header set in `send_once` wins anyway.
            .accept_encoding(ureq::config::AutoHeaderValue::None)
            .timeout_connect(t.connect)
            .timeout_recv_response(t.response)
            .timeout_per_read(t.idle)
            .timeout_per_write(t.idle)
            .build()
    }
}

/// A request body of announced length: never reads past it, and ending early is an error.
struct Exact<'a> {
    inner: &'a mut dyn Read,
    remaining: u64,
}

impl Read for Exact<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let max = buf
            .len()
            .min(self.remaining.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..max])?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!(
                    "the request body ended {} bytes before its Content-Length",
                    self.remaining
                ),
            ));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// Maps a ureq failure to the crate error (never leaking the URL's secrets).
pub(crate) fn map_ureq_error(e: ureq::Error, url: &Url) -> Error {
    let url = redact::url(url);
    match e {
        ureq::Error::Timeout(t) => Error::Timeout {
            url,
            message: format!("{t:?} timeout"),
        },
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) =>
        {
            Error::Timeout {
                url,
                message: io.to_string(),
            }
        }
        other => Error::Transport {
            url,
            message: other.to_string(),
            source: Some(Box::new(other)),
        },
    }
}
