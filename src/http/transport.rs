//! [`Transport`]: the one place that sends HTTP. It builds the `ureq` request, applies the user
//! agent and timeouts (the total deadline of small requests, minimum progress of blob transfers:
//! `deadline.rs`), retries what may be retried within the retry budget (failing at once with
//! [`Error::Throttled`] on a `Retry-After` it may not wait for), maps transport failures to
//! [`Error`] (what cannot heal is not retried), sends loopback traffic past any proxy, and logs
//! with secrets redacted.
//!
//! Redirects are never followed here (the pipeline follows them for GET and HEAD only, and decides
//! per hop whether credentials may go along). Status codes never become errors here: the caller
//! reads error bodies and challenges. The Azure AD adapter (`credential::azure`) sends through this
//! transport too, with retries off (`azure_core` has its own retry policy).

use std::io::Read;
use std::time::{Duration, Instant, SystemTime};

use ureq::http;

use super::deadline::{Deadline, UploadProgress};
use super::endpoint::is_loopback;
use super::request::{Body, Request};
use super::response::Response;
use super::retry;
use super::url::Url;
use crate::error::{Error, Result};
use crate::options::{ClientOptions, RetryOptions, Timeouts};
use crate::redact;

/// The configured `ureq` agent plus the policies applied to every call. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Transport {
    agent: ureq::Agent,
    timeouts: Timeouts,
    retry: RetryOptions,
    user_agent: String,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("user_agent", &self.user_agent)
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// A new agent that reads the proxy environment variables (`HTTPS_PROXY`, `NO_PROXY`…).
pub(crate) fn new_agent() -> ureq::Agent {
    ureq::Agent::config_builder().build().into()
}

/// The agent `options` ask for: theirs, one with their proxy, or one that reads the proxy
/// environment variables.
fn agent(options: &ClientOptions) -> Result<ureq::Agent> {
    match (&options.agent, &options.proxy) {
        (Some(_), Some(_)) => Err(Error::Config(
            "ClientOptions::proxy and ClientOptions::agent are exclusive: configure the proxy on \
             the agent"
                .into(),
        )),
        (Some(a), None) => Ok(a.clone()),
        // ureq's default reads HTTPS_PROXY / HTTP_PROXY / ALL_PROXY and NO_PROXY
        (None, None) => Ok(new_agent()),
        (None, Some(p)) => {
            let proxy = ureq::Proxy::new(p)
                .map_err(|e| Error::Config(format!("bad proxy {}: {e}", redact::proxy(p))))?;
            if is_socks(&proxy) {
                return Err(socks_error(p));
            }
            Ok(ureq::Agent::config_builder()
                .proxy(Some(proxy))
                .build()
                .into())
        }
    }
}

impl Transport {
    /// A transport for a client with these options.
    pub(crate) fn new(options: &ClientOptions) -> Result<Self> {
        Ok(Transport::from_parts(
            agent(options)?,
            options.timeouts.clone(),
            options.retry.clone(),
            options.user_agent_suffix.as_deref(),
        ))
    }

    /// A transport on `agent` with these timeouts and retries; `suffix` is appended to the user
    /// agent `azcontainerregistry-rust/<version>`.
    pub(crate) fn from_parts(
        agent: ureq::Agent,
        timeouts: Timeouts,
        retry: RetryOptions,
        suffix: Option<&str>,
    ) -> Self {
        let mut user_agent = format!("azcontainerregistry-rust/{}", env!("CARGO_PKG_VERSION"));
        if let Some(s) = suffix.filter(|s| !s.is_empty()) {
            user_agent.push(' ');
            user_agent.push_str(s);
        }
        Transport {
            agent,
            timeouts,
            retry,
            user_agent,
        }
    }

    /// The retry options (reused by resuming transfers for their backoff).
    pub(crate) fn retry_options(&self) -> &RetryOptions {
        &self.retry
    }

    /// Sends `req` with `authorization` (if any), retrying per the retry options when the body
    /// allows. A request that is not a blob transfer (`req.bulk`) is bound by `Timeouts::total`,
    /// retries and the reading of its answer included.
    pub(crate) fn send(
        &self,
        req: &mut Request<'_>,
        authorization: Option<&str>,
    ) -> Result<Response> {
        let deadline = Deadline::after(if req.bulk { None } else { self.timeouts.total });
        let mut budget = self.retry.budget;
        let mut attempt = 0u32;
        loop {
            let started = Instant::now();
            let result = self.send_once(req, authorization, &deadline);
            let may_retry = req.body.replayable() && attempt < self.retry.max_retries;
            match result {
                Ok(resp) => {
                    log::debug!(
                        "{} {} -> {} in {:?}",
                        req.method,
                        redact::url(req.url.as_str()),
                        resp.status,
                        started.elapsed()
                    );
                    if !(may_retry && retry::is_retryable_status(resp.status)) {
                        return Ok(resp);
                    }
                    attempt += 1;
                    let asked = resp
                        .header("retry-after")
                        .and_then(retry::parse_retry_after);
                    if let Some(wait) = asked
                        && matches!(resp.status, 429 | 503)
                        && !(wait <= self.retry.max_delay && fits(wait, budget, &deadline))
                    {
                        return Err(throttled(resp, wait));
                    }
                    let delay = retry::delay(&self.retry, attempt, resp.header("retry-after"));
                    if !fits(delay, budget, &deadline) {
                        return Ok(resp); // no time left to wait: the answer stands
                    }
                    budget = budget.map(|b| b.saturating_sub(delay));
                    log::info!(
                        "retrying {} {} after status {} (attempt {attempt}, in {delay:?})",
                        req.method,
                        redact::url(req.url.as_str()),
                        resp.status
                    );
                    drop(resp);
                    std::thread::sleep(delay);
                }
                Err(e) if may_retry && retryable(&e, req) => {
                    attempt += 1;
                    let delay = retry::delay(&self.retry, attempt, None);
                    if !fits(delay, budget, &deadline) {
                        return Err(e);
                    }
                    budget = budget.map(|b| b.saturating_sub(delay));
                    log::info!(
                        "retrying {} after error: {e} (attempt {attempt}, in {delay:?})",
                        req.method
                    );
                    std::thread::sleep(delay);
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn send_once(
        &self,
        req: &mut Request<'_>,
        authorization: Option<&str>,
        deadline: &Deadline,
    ) -> Result<Response> {
        let url_text = redact::url(req.url.as_str());
        // Loopback traffic never goes through a proxy (plain http, passwords and tokens to local
        // fakes and registries would travel through it in clear).
        let direct = self.agent.config().proxy().is_some() && is_loopback(&req.url);
        if !direct {
            self.refuse_socks(&req.url)?;
        }
        let limit = match (req.timeout, deadline.remaining()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let opts = PerRequest { limit, direct };
        let mut builder = http::Request::builder()
            .method(req.method.clone())
            .uri(req.url.as_str());
        if !req.has_header("user-agent") {
            builder = builder.header("User-Agent", self.user_agent.as_str());
        }
        for (name, value) in &req.headers {
            builder = builder.header(name.as_ref(), value.as_str());
        }
        if let Some(auth) = authorization {
            builder = builder.header("Authorization", auth);
        }
        if log::log_enabled!(log::Level::Trace) {
            for (name, value) in &req.headers {
                log::trace!("> {name}: {}", redact::header(name, value));
            }
        }
        let map_build =
            |e: http::Error| Error::Config(format!("cannot build request for {url_text}: {e}"));
        let min_progress = self.timeouts.min_progress;
        let result = match &mut req.body {
            Body::Empty => {
                let r = builder.body(()).map_err(map_build)?;
                self.agent.run(self.configure(r, opts))
            }
            Body::Bytes(b) => {
                let r = builder.body(*b).map_err(map_build)?;
                self.agent.run(self.configure(r, opts))
            }
            Body::Reader { reader, len } => {
                let mut watched;
                let source: &mut dyn Read = match min_progress {
                    Some(rule) => {
                        watched = UploadProgress::new(&mut **reader, rule, url_text.clone());
                        &mut watched
                    }
                    None => &mut **reader,
                };
                match len {
                    Some(len) => {
                        builder = builder.header("Content-Length", len.to_string());
                        // ureq 3.5 spins forever when a reader ends before Content-Length: make
                        // that an error.
                        let mut exact = Exact {
                            inner: source,
                            remaining: *len,
                        };
                        let r = builder
                            .body(ureq::SendBody::from_reader(&mut exact))
                            .map_err(map_build)?;
                        self.agent.run(self.configure(r, opts))
                    }
                    None => {
                        let r = builder
                            .body(ureq::SendBody::from_reader(source))
                            .map_err(map_build)?;
                        self.agent.run(self.configure(r, opts))
                    }
                }
            }
        };
        match result {
            Ok(resp) => {
                let mut resp = Response::new(req.url.clone(), req.method.clone(), resp);
                resp.min_progress = min_progress;
                Ok(resp)
            }
            Err(e) => Err(map_ureq_error(e, &req.url, &url_text)),
        }
    }

    /// ureq panics on a SOCKS proxy without its `socks-proxy` feature (left out: it adds a
    /// dependency): refuse one from the environment or a caller's agent with a clear error.
    fn refuse_socks(&self, url: &Url) -> Result<()> {
        let Some(proxy) = self.agent.config().proxy() else {
            return Ok(());
        };
        let bypassed = url
            .as_str()
            .parse::<http::Uri>()
            .is_ok_and(|uri| proxy.is_no_proxy(&uri));
        if bypassed || !is_socks(proxy) {
            return Ok(());
        }
        Err(socks_error(&proxy.uri().to_string()))
    }

    fn configure<B: ureq::AsSendBody>(
        &self,
        r: http::Request<B>,
        opts: PerRequest,
    ) -> http::Request<B> {
        let t = &self.timeouts;
        let config = self
            .agent
            .configure_request(r)
            .http_status_as_error(false)
            .max_redirects(0)
            // No per-request `.user_agent(..)`: ureq only pools connections for requests whose
            // user-agent config equals the agent's, so setting it here made every request open a
            // new connection (and TLS handshake). The `User-Agent` header set in `send_once` wins
            // anyway.
            .accept_encoding(ureq::config::AutoHeaderValue::None)
            .timeout_connect(t.connect)
            .timeout_recv_response(t.response)
            .timeout_per_read(t.idle)
            .timeout_per_write(t.idle);
        let config = if opts.direct {
            config.proxy(None)
        } else {
            config
        };
        // Only a request's own limit replaces the agent's overall timeout (a caller's agent may
        // have one).
        match opts.limit {
            Some(limit) => config.timeout_global(Some(limit)).build(),
            None => config.build(),
        }
    }
}

/// What `configure` sets per request.
#[derive(Clone, Copy)]
struct PerRequest {
    /// The overall limit: the request's own and what remains of the deadline.
    limit: Option<Duration>,
    /// Bypass the agent's proxy.
    direct: bool,
}

/// True when `wait` fits both in the retry budget and before the deadline.
fn fits(wait: Duration, budget: Option<Duration>, deadline: &Deadline) -> bool {
    budget.is_none_or(|b| wait <= b) && deadline.allows(wait)
}

/// The throttling error for a 429/503 whose `Retry-After` is longer than the client may wait.
fn throttled(resp: Response, wait: Duration) -> Error {
    match resp.into_error() {
        Error::Registry(error) => Error::Throttled {
            retry_after: wait,
            retry_at: SystemTime::now() + wait,
            error,
        },
        other => other,
    }
}

fn is_socks(proxy: &ureq::Proxy) -> bool {
    !matches!(
        proxy.protocol(),
        ureq::ProxyProtocol::Http | ureq::ProxyProtocol::Https
    )
}

fn socks_error(proxy: &str) -> Error {
    Error::Config(format!(
        "the proxy {} is a SOCKS proxy, which this client does not support: use an http:// or \
         https:// proxy (ClientOptions::proxy, HTTPS_PROXY, ALL_PROXY), or list the registry in \
         NO_PROXY",
        redact::proxy(proxy)
    ))
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

/// A transport failure that trying again cannot heal; its source is the ureq error.
#[derive(Debug)]
struct Permanent(ureq::Error);

impl std::fmt::Display for Permanent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Permanent {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// True when a transport failure may go away by itself (a connection reset or timed out, a
/// connection refused by a remote host, a protocol error), false when trying again cannot help:
/// a TLS failure, a name that does not resolve, a bad URL or proxy, a refused proxy handshake, a
/// connection refused on a loopback address (nothing listens there), a response over a limit.
/// Errors that are not transport failures are not transient.
pub(crate) fn is_transient(e: &Error) -> bool {
    match e {
        Error::Timeout { .. } => true,
        Error::Transport {
            source: Some(source),
            ..
        } => match source.downcast_ref::<ureq::Error>() {
            Some(u) => matches!(
                u,
                ureq::Error::ConnectionFailed
                    | ureq::Error::Io(_)
                    | ureq::Error::Timeout(_)
                    | ureq::Error::Protocol(_)
            ),
            None => !source.is::<Permanent>(),
        },
        Error::Transport { source: None, .. } => true,
        _ => false,
    }
}

/// True when `e` may be retried for `req`: a transient failure, and not a timeout of a request
/// that is not idempotent. A timed-out request may still be running at the registry: sending an
/// upload-session start again would open a second session on a registry already too slow. A
/// connection that broke is retried for every replayable request: this crate's `POST`s
/// (upload-session starts, mounts, token requests) are harmless to repeat, at worst leaving an
/// unused session that the registry expires.
fn retryable(e: &Error, req: &Request<'_>) -> bool {
    is_transient(e) && (req.idempotent || !matches!(e, Error::Timeout { .. }))
}

/// True for ureq failures that cannot heal by trying again (`url` is the request's).
fn cannot_heal(e: &ureq::Error, url: &Url) -> bool {
    match e {
        // rustls failures (a bad certificate, a server that does not speak TLS) come as I/O
        // errors of invalid data
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
            url.scheme() == "https"
        }
        ureq::Error::Io(io) => {
            io.kind() == std::io::ErrorKind::ConnectionRefused && is_loopback(url)
        }
        ureq::Error::ConnectionFailed
        | ureq::Error::Timeout(_)
        | ureq::Error::Protocol(_)
        | ureq::Error::StatusCode(_) => false,
        // TLS, DNS, bad URI, proxy set-up, limits, bad requests
        _ => true,
    }
}

/// Maps a ureq failure to the crate error; `shown` is the request's URL, redacted.
fn map_ureq_error(e: ureq::Error, url: &Url, shown: &str) -> Error {
    let shown = shown.to_string();
    match e {
        ureq::Error::Timeout(t) => Error::Timeout {
            url: shown,
            message: format!("{t:?} timeout"),
        },
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) =>
        {
            Error::Timeout {
                url: shown,
                message: io.to_string(),
            }
        }
        other => {
            let mut message = other.to_string();
            // rustls reads the first bytes of a plain HTTP answer ("HTTP/1.1 400") as a record of
            // an unknown content type
            if url.scheme() == "https" && message.contains("InvalidContentType") {
                message.push_str(
                    ": the server answered plain HTTP, not TLS; use an http:// endpoint \
                     (ClientOptions::allow_http / --plain-http)",
                );
            }
            let source: Box<dyn std::error::Error + Send + Sync> = if cannot_heal(&other, url) {
                Box::new(Permanent(other))
            } else {
                Box::new(other)
            };
            Error::Transport {
                url: shown,
                message,
                source: Some(source),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_callers_agent_keeps_its_overall_timeout() {
        // a server that accepts and never answers
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url =
            super::super::Url::parse(&format!("http://{}/v2/", listener.local_addr().unwrap()))
                .unwrap();
        let hold = std::thread::spawn(move || listener.accept().map(|(socket, _)| socket));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_millis(300)))
            .build()
            .into();
        let options = ClientOptions {
            agent: Some(agent),
            timeouts: Timeouts {
                connect: Some(std::time::Duration::from_secs(5)),
                response: None,
                idle: None,
                total: None,
                min_progress: None,
            },
            retry: RetryOptions {
                max_retries: 0,
                ..Default::default()
            },
            ..Default::default()
        };
        let transport = Transport::new(&options).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut req = Request::new(super::super::Method::GET, url);
            let _ = tx.send(transport.send(&mut req, None).map(|r| r.status));
        });
        let result = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the agent's 300 ms overall timeout was not applied");
        assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
        drop(hold);
    }

    #[test]
    fn a_socks_proxy_on_a_callers_agent_is_refused_before_sending() {
        let proxy = ureq::Proxy::new("socks5://127.0.0.1:9").unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .proxy(Some(proxy))
            .build()
            .into();
        let options = ClientOptions {
            agent: Some(agent),
            ..Default::default()
        };
        let transport = Transport::new(&options).unwrap();
        let url = Url::parse("https://registry.invalid/v2/").unwrap();
        let mut req = Request::new(super::super::Method::GET, url);
        let e = transport
            .send(&mut req, None)
            .map(|r| r.status)
            .unwrap_err();
        assert!(
            matches!(&e, Error::Config(m) if m.contains("SOCKS")),
            "{e:?}"
        );
    }

    #[test]
    fn transient_failures() {
        let remote = Url::parse("https://r.io/").unwrap();
        let transport = |e: ureq::Error| map_ureq_error(e, &remote, "https://r.io/");
        assert!(!is_transient(&transport(ureq::Error::HostNotFound)));
        assert!(!is_transient(&transport(ureq::Error::Tls(
            "bad certificate"
        ))));
        assert!(is_transient(&transport(ureq::Error::ConnectionFailed)));
        let refused = || std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(is_transient(&transport(ureq::Error::Io(refused()))));
        let local = Url::parse("http://127.0.0.1:1/").unwrap();
        let e = map_ureq_error(ureq::Error::Io(refused()), &local, "http://127.0.0.1:1/");
        assert!(!is_transient(&e), "{e:?}");
        // rustls failures arrive as invalid-data I/O errors
        let corrupt = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "received corrupt message of type InvalidContentType",
        );
        let e = transport(ureq::Error::Io(corrupt));
        assert!(!is_transient(&e), "{e:?}");
        assert!(e.to_string().contains("plain HTTP"), "{e}");
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert!(is_transient(&transport(ureq::Error::Io(reset))));
        let timed_out = std::io::Error::from(std::io::ErrorKind::TimedOut);
        let e = transport(ureq::Error::Io(timed_out));
        assert!(matches!(e, Error::Timeout { .. }) && is_transient(&e));
        assert!(!is_transient(&transport(ureq::Error::BadUri("x".into()))));
        assert!(!is_transient(&transport(ureq::Error::InvalidProxyUrl)));
        assert!(!is_transient(&transport(ureq::Error::ConnectProxyFailed(
            "407".into()
        ))));
        assert!(!is_transient(&Error::Config("no".into())));
    }
}
