//! [`Transport`]: the one place that sends HTTP. It builds the `ureq` request, applies the user
//! agent and timeouts, retries what may be retried, maps transport failures to [`Error`], and logs
//! with secrets redacted.
//!
//! Redirects are never followed here (the pipeline follows them for GET and HEAD only, and decides
//! per hop whether credentials may go along). Status codes never become errors here: the caller
//! reads error bodies and challenges. The Azure AD adapter (`credential::azure`) sends through this
//! transport too, with retries off (`azure_core` has its own retry policy).

use std::io::Read;
use std::time::Instant;

use ureq::http;

use super::request::{Body, Request};
use super::response::Response;
use super::retry;
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
    /// allows.
    pub(crate) fn send(
        &self,
        req: &mut Request<'_>,
        authorization: Option<&str>,
    ) -> Result<Response> {
        let mut attempt = 0u32;
        loop {
            let started = Instant::now();
            let result = self.send_once(req, authorization);
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
                    let delay = retry::delay(&self.retry, attempt, resp.header("retry-after"));
                    log::info!(
                        "retrying {} {} after status {} (attempt {attempt}, in {delay:?})",
                        req.method,
                        redact::url(req.url.as_str()),
                        resp.status
                    );
                    drop(resp);
                    std::thread::sleep(delay);
                }
                Err(e) if may_retry && e.is_transport() => {
                    attempt += 1;
                    let delay = retry::delay(&self.retry, attempt, None);
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

    fn send_once(&self, req: &mut Request<'_>, authorization: Option<&str>) -> Result<Response> {
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
        let url_text = redact::url(req.url.as_str());
        let map_build =
            |e: http::Error| Error::Config(format!("cannot build request for {url_text}: {e}"));
        let result = match &mut req.body {
            Body::Empty => {
                let r = builder.body(()).map_err(map_build)?;
                self.agent.run(self.configure(r, req.timeout))
            }
            Body::Bytes(b) => {
                let r = builder.body(*b).map_err(map_build)?;
                self.agent.run(self.configure(r, req.timeout))
            }
            Body::Reader {
                reader,
                len: Some(len),
            } => {
                builder = builder.header("Content-Length", len.to_string());
                // ureq 3.5 spins forever when a reader ends before Content-Length: make that an
                // error.
                let mut exact = Exact {
                    inner: &mut **reader,
                    remaining: *len,
                };
                let r = builder
                    .body(ureq::SendBody::from_reader(&mut exact))
                    .map_err(map_build)?;
                self.agent.run(self.configure(r, req.timeout))
            }
            Body::Reader { reader, len: None } => {
                let r = builder
                    .body(ureq::SendBody::from_reader(*reader))
                    .map_err(map_build)?;
                self.agent.run(self.configure(r, req.timeout))
            }
        };
        match result {
            Ok(resp) => Ok(Response::new(req.url.clone(), req.method.clone(), resp)),
            Err(e) => Err(map_ureq_error(e, &url_text)),
        }
    }

    fn configure<B: ureq::AsSendBody>(
        &self,
        r: http::Request<B>,
        global: Option<std::time::Duration>,
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
        // Only a request's own limit replaces the agent's overall timeout (a caller's agent may
        // have one).
        match global {
            Some(limit) => config.timeout_global(Some(limit)).build(),
            None => config.build(),
        }
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

/// True when a transport failure may go away by itself (a connection refused, reset or timed out,
/// a name that did not resolve, a TLS or protocol error), false when trying again cannot help (a
/// bad URL or proxy, a refused proxy handshake, a response over a limit). Errors that are not
/// transport failures are not transient.
#[cfg_attr(not(feature = "azure"), allow(dead_code))]
pub(crate) fn is_transient(e: &Error) -> bool {
    match e {
        Error::Timeout { .. } => true,
        Error::Transport {
            source: Some(source),
            ..
        } => match source.downcast_ref::<ureq::Error>() {
            Some(u) => matches!(
                u,
                ureq::Error::HostNotFound
                    | ureq::Error::ConnectionFailed
                    | ureq::Error::Tls(_)
                    | ureq::Error::Io(_)
                    | ureq::Error::Timeout(_)
                    | ureq::Error::Protocol(_)
            ),
            None => true,
        },
        Error::Transport { source: None, .. } => true,
        _ => false,
    }
}

/// Maps a ureq failure to the crate error; `url` is already redacted.
fn map_ureq_error(e: ureq::Error, url: &str) -> Error {
    let url = url.to_string();
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
    fn transient_failures() {
        let transport = |e: ureq::Error| map_ureq_error(e, "https://r.io/");
        assert!(is_transient(&transport(ureq::Error::HostNotFound)));
        assert!(is_transient(&transport(ureq::Error::ConnectionFailed)));
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
