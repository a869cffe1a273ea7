//! [`UreqTransport`]: the `azure_core` HTTP client of every Azure AD request this crate makes. It
//! adds only what is Azure's own (a rewrite table for authority hosts, `azure_core`'s request and
//! error types) to the crate's transport, which sends the request.

use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use azure_core::error::ErrorKind as AzErrorKind;
use azure_core::http::headers::{HeaderName, HeaderValue, Headers};
use azure_core::http::{AsyncRawResponse, Body as AzBody, HttpClient, Request as AzRequest};

use crate::error::{Error, Result};
use crate::http::{Agent, Body, Method, Origin, Request, Transport, Url, is_transient, new_agent};
use crate::options::{RetryOptions, Timeouts};
use crate::redact;

/// The origin of Azure AD in the public cloud, the default authority host.
pub const AZURE_PUBLIC_AUTHORITY: &str = "https://login.microsoftonline.com";

/// The origin of the Azure instance metadata service (IMDS), where virtual machines get
/// managed-identity tokens.
pub const IMDS_ORIGIN: &str = "http://169.254.169.254";

/// Responses from Azure AD and the metadata service are read up to this size.
const BODY_LIMIT: u64 = 4 * 1024 * 1024;

#[derive(Clone)]
struct Rewrite {
    from: Origin,
    from_text: String,
    to: String,
}

/// An `azure_core` HTTP client on this crate's blocking transport (a `ureq` agent): the transport
/// of every Azure AD request this crate makes.
///
/// Statuses come back as responses, never as errors (`azure_identity` reads Azure AD's error
/// bodies); redirects are not followed; bodies are read up to 4 MiB; connect, response and read
/// timeouts are set (see [`Timeouts`]). Nothing is retried here: connection failures and timeouts
/// are reported as `azure_core` `Connection`/`Io` errors, which `azure_core`'s retry policy
/// retries.
///
/// The request runs on the thread that polls the future, which is what `futures_executor::block_on`
/// does: use it from this crate's blocking API, not on an async runtime's worker threads.
///
/// A rewrite table maps origins to others, for tests and air-gapped networks: `azure_identity`
/// insists on `https` authority hosts, so a test maps `https://login.microsoftonline.com` to its
/// loopback mock here, and maps [`IMDS_ORIGIN`] too so that a managed-identity
/// credential never reaches the real metadata address. [`UreqTransport::rewrites_only`] refuses
/// every other origin.
///
/// ```
/// use azcontainerregistry::credential::azure::{
///     AZURE_PUBLIC_AUTHORITY, IMDS_ORIGIN, UreqTransport,
/// };
/// let transport = UreqTransport::new()
///     .with_rewrite(AZURE_PUBLIC_AUTHORITY, "http://127.0.0.1:8080")?
///     .with_rewrite(IMDS_ORIGIN, "http://127.0.0.1:8080")?
///     .rewrites_only();
/// # let _ = transport;
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
#[derive(Clone)]
pub struct UreqTransport {
    agent: Agent,
    timeouts: Timeouts,
    transport: Transport,
    rewrites: Vec<Rewrite>,
    rewrites_only: bool,
}

impl fmt::Debug for UreqTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rewrites: Vec<String> = self
            .rewrites
            .iter()
            .map(|r| format!("{} -> {}", r.from_text, r.to))
            .collect();
        f.debug_struct("UreqTransport")
            .field("timeouts", &self.timeouts)
            .field("rewrites", &rewrites)
            .field("rewrites_only", &self.rewrites_only)
            .finish_non_exhaustive()
    }
}

impl Default for UreqTransport {
    fn default() -> Self {
        Self::new()
    }
}

/// An origin given to [`UreqTransport::with_rewrite`]: `scheme://host[:port]`, http or https,
/// nothing else.
fn parse_origin(text: &str, what: &str) -> Result<Url> {
    let url = Url::parse(text.trim())
        .map_err(|e| Error::Config(format!("rewrite {what} {text:?} is not a URL: {e}")))?;
    let bare = url.path() == "/" && url.query().is_none() && !text.contains('#');
    if !matches!(url.scheme(), "http" | "https") || url.has_userinfo() || !bare {
        return Err(Error::Config(format!(
            "rewrite {what} {text:?} must be an origin: http(s)://host[:port]"
        )));
    }
    Ok(url)
}

/// The crate's transport with these timeouts and no retries (`azure_core` retries itself).
fn transport(agent: &Agent, timeouts: &Timeouts) -> Transport {
    let no_retries = RetryOptions {
        max_retries: 0,
        ..Default::default()
    };
    Transport::from_parts(agent.clone(), timeouts.clone(), no_retries, None)
}

impl UreqTransport {
    /// A transport on a new agent with the default [`Timeouts`] and no rewrites. The agent uses
    /// the proxy environment variables (`HTTPS_PROXY`, `NO_PROXY`…).
    pub fn new() -> Self {
        Self::with_agent(new_agent())
    }

    /// A transport on `agent` (its proxy, TLS and connection pool are used; status handling,
    /// redirects and timeouts are set per request).
    pub fn with_agent(agent: Agent) -> Self {
        let timeouts = Timeouts::default();
        UreqTransport {
            transport: transport(&agent, &timeouts),
            agent,
            timeouts,
            rewrites: Vec::new(),
            rewrites_only: false,
        }
    }

    /// These timeouts instead of the defaults.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.transport = transport(&self.agent, &timeouts);
        self.timeouts = timeouts;
        self
    }

    /// Sends requests for `from_origin` to `to_origin` instead, keeping path and query: e.g.
    /// `https://login.microsoftonline.com` → `http://127.0.0.1:8080`. Both must be bare origins
    /// (`scheme://host[:port]`). The first matching rewrite wins.
    pub fn with_rewrite(mut self, from_origin: &str, to_origin: &str) -> Result<Self> {
        let from = parse_origin(from_origin, "source")?;
        let to = parse_origin(to_origin, "target")?;
        self.rewrites.push(Rewrite {
            from_text: from.origin().serialize(),
            from: from.origin(),
            to: to.origin().serialize(),
        });
        Ok(self)
    }

    /// Refuses every request whose origin has no rewrite, so that nothing leaves for a host the
    /// table does not name (tests, air-gapped networks).
    pub fn rewrites_only(mut self) -> Self {
        self.rewrites_only = true;
        self
    }

    /// `azure_core` client options whose transport is this one: give them to any `azure_identity`
    /// credential you construct yourself.
    pub fn client_options(&self) -> azure_core::http::ClientOptions {
        azure_core::http::ClientOptions {
            transport: Some(azure_core::http::Transport::new(Arc::new(self.clone()))),
            ..Default::default()
        }
    }

    /// The URL a request for `url` really goes to, or why it may not be sent.
    fn target(&self, url: &Url) -> std::result::Result<Url, String> {
        let origin = url.origin();
        match self.rewrites.iter().find(|r| r.from == origin) {
            Some(r) => {
                let text = format!("{}{}", r.to, url.path_and_query());
                Url::parse(&text).map_err(|e| {
                    format!(
                        "rewriting {} to {} failed: {e}",
                        redact::url(url.as_str()),
                        r.to
                    )
                })
            }
            None if self.rewrites_only => Err(format!(
                "refused to send a request to {}: its origin is not in the transport's rewrite \
                 table",
                redact::url(url.as_str())
            )),
            None => Ok(url.clone()),
        }
    }

    /// Sends one request and reads the whole (bounded) body.
    pub(super) fn send_blocking(
        &self,
        method: &str,
        url: &Url,
        headers: &[(&str, &str)],
        body: &[u8],
        limit: Option<Duration>,
    ) -> azure_core::Result<(u16, Headers, Vec<u8>)> {
        let target = self
            .target(url)
            .map_err(|m| azure_core::Error::with_message(AzErrorKind::Other, m))?;
        let shown = redact::url(target.as_str());
        let method = Method::from_bytes(method.as_bytes()).map_err(|e| {
            azure_core::Error::with_message(
                AzErrorKind::Other,
                format!("bad HTTP method {method:?}: {e}"),
            )
        })?;
        let mut request = Request::new(method, target).body(Body::Bytes(body));
        for (name, value) in headers {
            request = request.header(name.to_string(), value.to_string());
        }
        if let Some(limit) = limit {
            request = request.timeout(limit);
        }
        let response = self
            .transport
            .send(&mut request, None)
            .map_err(|e| to_azure(e, &shown))?;
        let status = response.status;
        let mut joined: HashMap<String, String> = HashMap::new();
        for (name, value) in response.headers() {
            joined
                .entry(name.to_string())
                .and_modify(|v| {
                    v.push_str(", ");
                    v.push_str(value);
                })
                .or_insert_with(|| value.to_string());
        }
        let map: HashMap<HeaderName, HeaderValue> = joined
            .into_iter()
            .map(|(n, v)| (HeaderName::from(n), HeaderValue::from(v)))
            .collect();
        let bytes = response
            .bytes("answer", BODY_LIMIT)
            .map_err(|e| to_azure(e, &shown))?;
        Ok((status, Headers::from(map), bytes))
    }
}

/// Transient failures (connections, timeouts) become the kinds `azure_core` retries
/// (`Connection`, `Io`); everything else, a bad proxy say, is `Other` and fails at once.
fn to_azure(e: Error, shown: &str) -> azure_core::Error {
    let kind = match &e {
        Error::Timeout { .. } => AzErrorKind::Io,
        Error::Transport { .. } if is_transient(&e) => AzErrorKind::Connection,
        _ => AzErrorKind::Other,
    };
    let message = match &e {
        Error::TooLarge { .. } => format!(
            "the answer of {shown} is larger than {BODY_LIMIT} bytes; refused without reading \
             further"
        ),
        _ => format!("request to {shown} failed: {e}"),
    };
    azure_core::Error::with_error(kind, e, message)
}

/// Reads a streamed request body into memory (`azure_identity` itself only sends bytes).
async fn read_stream(body: &AzBody) -> azure_core::Result<Vec<u8>> {
    let mut stream = match body {
        AzBody::Bytes(b) => return Ok(b.to_vec()),
        AzBody::SeekableStream(s) => s.clone(),
    };
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = std::future::poll_fn(|cx| {
            futures_io::AsyncRead::poll_read(Pin::new(&mut *stream), cx, &mut buf)
        })
        .await
        .map_err(|e| {
            azure_core::Error::with_error(AzErrorKind::Io, e, "reading the request body failed")
        })?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

#[async_trait::async_trait]
impl HttpClient for UreqTransport {
    async fn execute_request(&self, request: &AzRequest) -> azure_core::Result<AsyncRawResponse> {
        let body = read_stream(request.body()).await?;
        let url = Url::parse(request.url().as_str()).map_err(|e| {
            azure_core::Error::with_message(
                AzErrorKind::Other,
                format!(
                    "cannot send to {}: {e}",
                    redact::url(request.url().as_str())
                ),
            )
        })?;
        let headers: Vec<(&str, &str)> = request
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let method = request.method();
        let (status, headers, bytes) =
            self.send_blocking(method.as_ref(), &url, &headers, &body, None)?;
        Ok(AsyncRawResponse::from_bytes(status.into(), headers, bytes))
    }
}

impl From<UreqTransport> for azure_core::http::Transport {
    fn from(t: UreqTransport) -> Self {
        azure_core::http::Transport::new(Arc::new(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrite_keeps_path_and_query() {
        let t = UreqTransport::new()
            .with_rewrite(AZURE_PUBLIC_AUTHORITY, "http://127.0.0.1:9")
            .unwrap();
        let u =
            Url::parse("https://login.microsoftonline.com:443/t/oauth2/v2.0/token?x=1").unwrap();
        assert_eq!(
            t.target(&u).unwrap().as_str(),
            "http://127.0.0.1:9/t/oauth2/v2.0/token?x=1"
        );
        let other = Url::parse("https://login.microsoftonline.us/t").unwrap();
        assert_eq!(t.target(&other).unwrap(), other);
        let strict = t.rewrites_only();
        assert!(
            strict
                .target(&other)
                .unwrap_err()
                .contains("not in the transport's rewrite table")
        );
    }

    #[test]
    fn rewrite_origins_are_validated() {
        let rewrite = |from: &str, to: &str| UreqTransport::new().with_rewrite(from, to);
        assert!(rewrite("https://a/b", "http://127.0.0.1:1").is_err());
        assert!(rewrite("https://a", "ftp://127.0.0.1").is_err());
        assert!(rewrite("nonsense", "http://127.0.0.1").is_err());
        assert!(rewrite("https://a#x", "http://127.0.0.1").is_err());
        assert!(rewrite("https://u:p@a", "http://127.0.0.1").is_err());
        assert!(rewrite("http://169.254.169.254/", "http://127.0.0.1:1").is_ok());
    }
}
