//! The request pipeline: every HTTP call of the crate goes through [`Pipeline::send`].
//!
//! ```text
//! Pipeline::send ─ redirect guard (GET/HEAD only, credentials dropped off-origin)
//!   └─ auth policy (token for the request's scope, one retry on a 401 challenge)
//!       └─ Transport::send (user agent, timeouts, retries with backoff) ─ ureq::Agent
//! ```

pub(crate) mod auth;
pub(crate) mod link;
pub(crate) mod redact;
pub(crate) mod retry;
pub(crate) mod transport;

use std::net::IpAddr;
use std::sync::Arc;

use ureq::http::Method;
use url::Url;

use crate::credential::Credential;
use crate::error::{Error, Result};
use crate::options::ClientOptions;
pub(crate) use redact::proxy as redact_proxy;
pub(crate) use redact::url as redact_url;
pub(crate) use transport::{Body, Request, Response};

const MAX_REDIRECTS: usize = 5;

/// The shared request pipeline of a client: transport plus auth policy and token cache. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Pipeline {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    endpoint: Url,
    transport: transport::Transport,
    auth: auth::AuthPolicy,
}

/// Validates an endpoint: `https://host[:port]`, or a bare host (https assumed); plain `http` only for
/// loopback hosts or with `allow_http`.
pub(crate) fn parse_endpoint(endpoint: &str, options: &ClientOptions) -> Result<Url> {
    let text = endpoint.trim();
    // what error messages may repeat: the endpoint without any user info (a password must not be echoed)
    let shown = match text.rfind('@') {
        Some(at) => match text.find("://") {
            Some(s) if s < at => format!("{}://REDACTED@{}", &text[..s], &text[at + 1..]),
            _ => format!("REDACTED@{}", &text[at + 1..]),
        },
        None => text.to_string(),
    };
    let with_scheme = if text.contains("://") {
        text.to_string()
    } else {
        format!("https://{text}")
    };
    let url = Url::parse(&with_scheme)
        .map_err(|e| Error::Config(format!("endpoint {shown:?} is not a URL: {e}")))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::Config(format!("endpoint {shown:?} has no host")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::Config(
            "the endpoint must not carry credentials; use Credential::basic".into(),
        ));
    }
    if url.query().is_some()
        || url.fragment().is_some()
        || !url.path().trim_end_matches('/').is_empty()
    {
        return Err(Error::Config(format!(
            "endpoint {shown:?} must be scheme://host[:port] with no path or query"
        )));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) || options.allow_http => {}
        "http" => {
            return Err(Error::Config(format!(
                "endpoint {shown:?} is plain http: set ClientOptions::allow_http to use it (credentials would travel unencrypted)"
            )));
        }
        other => {
            return Err(Error::Config(format!(
                "endpoint scheme {other:?} is not http or https"
            )));
        }
    }
    Ok(url)
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

impl Pipeline {
    pub(crate) fn new(
        endpoint: &str,
        credential: Credential,
        options: &ClientOptions,
    ) -> Result<Self> {
        let endpoint = parse_endpoint(endpoint, options)?;
        let transport = transport::Transport::new(options)?;
        let auth = auth::AuthPolicy::new(endpoint.clone(), credential, options.audience.clone());
        Ok(Pipeline {
            inner: Arc::new(Inner {
                endpoint,
                transport,
                auth,
            }),
        })
    }

    /// The options the client was made with (retry delays are reused by resuming transfers).
    pub(crate) fn options(&self) -> &ClientOptions {
        self.inner.transport.options()
    }

    /// The registry's endpoint.
    pub(crate) fn endpoint(&self) -> &Url {
        &self.inner.endpoint
    }

    /// The endpoint joined with `path_and_query` (already percent-encoded).
    pub(crate) fn url(&self, path_and_query: &str) -> Result<Url> {
        self.inner
            .endpoint
            .join(path_and_query)
            .map_err(|e| Error::Config(format!("cannot build a URL for {path_and_query:?}: {e}")))
    }

    /// Resolves a URL the registry returned (`Location`), relative or absolute, against `base`.
    /// It must stay on http(s); credentials are only attached when it is on the registry's origin.
    pub(crate) fn resolve(&self, base: &Url, location: &str, what: &'static str) -> Result<Url> {
        let url = base.join(location).map_err(|e| Error::decode(what, e))?;
        match url.scheme() {
            "http" | "https" => Ok(url),
            _ => Err(Error::Redirect {
                what,
                url: redact::url(&url),
                reason: "only http and https are followed",
            }),
        }
    }

    /// Sends a request through auth, retry and the redirect guard.
    pub(crate) fn send(&self, mut req: Request<'_>) -> Result<Response> {
        let follow = req.method == Method::GET || req.method == Method::HEAD;
        let mut hops = 0;
        loop {
            let resp = self.send_authorized(&mut req)?;
            if !(follow && is_redirect(resp.status)) {
                return Ok(resp);
            }
            let Some(location) = resp.header("location").map(str::to_string) else {
                return Ok(resp);
            };
            hops += 1;
            let next = self.resolve(&req.url, &location, "redirect")?;
            if hops > MAX_REDIRECTS {
                return Err(Error::Redirect {
                    what: "redirect",
                    url: redact::url(&next),
                    reason: "too many redirects",
                });
            }
            if req.url.scheme() == "https" && next.scheme() == "http" && !is_loopback(&next) {
                return Err(Error::Redirect {
                    what: "redirect",
                    url: redact::url(&next),
                    reason: "it downgrades https to http",
                });
            }
            log::debug!(
                "following {} redirect to {}",
                resp.status,
                redact::url(&next)
            );
            req.url = next;
        }
    }

    fn send_authorized(&self, req: &mut Request<'_>) -> Result<Response> {
        let inner = &*self.inner;
        let header = inner
            .auth
            .header_for(&inner.transport, &req.url, req.scope.as_deref())?;
        let mut resp = inner.transport.send(req, header.as_deref())?;
        if resp.status == 401 && inner.auth.same_origin(&req.url) && req.body.replayable() {
            let values = resp.header_all("www-authenticate");
            if let Some(challenge) = crate::credential::challenge::pick(&values)
                && let Some(retry_header) = inner.auth.on_challenge(
                    &inner.transport,
                    &challenge,
                    header.as_deref(),
                    req.scope.as_deref(),
                )?
            {
                drop(resp);
                resp = inner.transport.send(req, Some(&retry_header))?;
            }
        }
        resp.anonymous = inner.auth.is_anonymous();
        Ok(resp)
    }
}

/// Percent-encodes one path segment (ACR's `/acr/v1/{name}` wants `a%2Fb` for `a/b`).
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The token scope for `actions` (`pull`, `pull,push`, `delete`, `metadata_read`…) on a repository.
pub(crate) fn repository_scope(repository: &str, actions: &str) -> String {
    format!("repository:{repository}:{actions}")
}
