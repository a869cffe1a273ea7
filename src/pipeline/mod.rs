//! The request pipeline: every request of [`Client`](crate::Client) and
//! [`BlobClient`](crate::BlobClient) goes through [`Pipeline::send`].
//!
//! ```text
//! Pipeline::send ─ redirect guard (GET/HEAD only, credentials dropped off-origin)
//!   └─ auth policy (token for the request's scope, one retry on a 401 challenge)
//!       └─ http::Transport::send (user agent, timeouts, retries with backoff) ─ ureq
//! ```

mod auth;
mod scope;

use std::sync::{Arc, Mutex};

pub(crate) use scope::repository_scope;

use crate::credential::Credential;
use crate::credential::challenge;
use crate::error::{Credentials, Error, Result};
use crate::http::{Body, Method, Request, Response, Transport, Url, resolve};
use crate::options::{Api, ClientOptions, ParallelOptions, RetryOptions};
use crate::redact;

const MAX_REDIRECTS: usize = 5;

/// The shared request pipeline of a client: transport plus auth policy and token cache. Cheap to
/// clone.
#[derive(Debug, Clone)]
pub(crate) struct Pipeline {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    endpoint: Url,
    transport: Transport,
    auth: auth::AuthPolicy,
    api: Api,
    parallel: ParallelOptions,
    /// Whether the registry is ACR, once decided (held while probing: one probe at most).
    acr: Mutex<Option<bool>>,
}

/// Whether `host` is an Azure Container Registry login server by name.
fn is_azure_host(host: &str) -> bool {
    crate::options::is_azure_registry_host(host)
}

fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// A blob download (`GET …/blobs/<digest>`) or a streamed upload: held to the minimum-progress
/// rule instead of the total deadline of small requests. Decided on the registry's URL, before
/// any redirect to storage.
fn is_blob_transfer(req: &Request<'_>) -> bool {
    let path = req.url.path();
    matches!(req.body, Body::Reader { .. })
        || (req.method == Method::GET
            && path.contains("/blobs/")
            && !path.contains("/blobs/uploads/"))
}

impl Pipeline {
    /// A pipeline for the registry at `endpoint`.
    pub(crate) fn new(
        endpoint: &str,
        credential: Credential,
        options: &ClientOptions,
    ) -> Result<Self> {
        let endpoint = crate::http::parse_endpoint(endpoint, options.allow_http)?;
        let transport = Transport::new(options)?;
        let auth = auth::AuthPolicy::new(endpoint.clone(), credential, options);
        Ok(Pipeline {
            inner: Arc::new(Inner {
                endpoint,
                transport,
                auth,
                api: options.api,
                parallel: options.parallel.clone(),
                acr: Mutex::default(),
            }),
        })
    }

    /// The retry options the client was made with (resuming transfers reuse their delays).
    pub(crate) fn retry_options(&self) -> &RetryOptions {
        self.inner.transport.retry_options()
    }

    /// How large blobs are downloaded.
    pub(crate) fn parallel(&self) -> &ParallelOptions {
        &self.inner.parallel
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

    /// Whether the registry is Azure Container Registry: as [`ClientOptions::api`] says, else by
    /// name (`*.azurecr.*`), by credential (Azure AD), by a challenge already seen, or by one
    /// unauthenticated `GET /v2/` whose challenge names `/oauth2/token` on the registry's own
    /// origin. Decided once per pipeline.
    pub(crate) fn is_acr(&self) -> Result<bool> {
        let inner = &*self.inner;
        let mut known = inner.acr.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = *known {
            return Ok(v);
        }
        let v = match inner.api {
            Api::Acr => true,
            Api::Oci => false,
            _ if is_azure_host(inner.endpoint.host_str()) || inner.auth.is_azure_ad() => true,
            _ => match inner.auth.challenge_says_acr() {
                Some(v) => v,
                None => self.probe_acr()?,
            },
        };
        *known = Some(v);
        Ok(v)
    }

    /// `GET /v2/` without credentials: ACR challenges with its own `/oauth2/token` realm.
    fn probe_acr(&self) -> Result<bool> {
        let inner = &*self.inner;
        let mut req = Request::new(Method::GET, self.url("/v2/")?);
        let resp = inner.transport.send(&mut req, None)?;
        let values = resp.header_all("www-authenticate");
        let acr = resp.status == 401
            && challenge::pick(&values).is_some_and(|c| {
                c.is_bearer()
                    && c.realm()
                        .and_then(|r| inner.endpoint.join(r).ok())
                        .is_some_and(|r| inner.auth.is_acr_realm(&r))
            });
        log::debug!("the registry is {}", if acr { "ACR" } else { "not ACR" });
        Ok(acr)
    }

    /// Sends a request through auth, retry and the redirect guard.
    pub(crate) fn send(&self, mut req: Request<'_>) -> Result<Response> {
        let follow = req.method == Method::GET || req.method == Method::HEAD;
        req.bulk |= is_blob_transfer(&req);
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
            let next = resolve(&req.url, &location, "redirect")?;
            if hops > MAX_REDIRECTS {
                return Err(Error::Redirect {
                    what: "redirect",
                    url: redact::url(next.as_str()),
                    reason: "too many redirects",
                });
            }
            log::debug!(
                "following {} redirect to {}",
                resp.status,
                redact::url(next.as_str())
            );
            req.url = next;
        }
    }

    fn send_authorized(&self, req: &mut Request<'_>) -> Result<Response> {
        let inner = &*self.inner;
        let on_origin = inner.auth.same_origin(&req.url);
        let header = inner
            .auth
            .header_for(&inner.transport, &req.url, req.scope.as_deref())?;
        let mut sent = header.is_some();
        let mut resp = inner.transport.send(req, header.as_deref())?;
        let mut unanswered = None;
        if resp.status == 401 && on_origin {
            let values = resp.header_all("www-authenticate");
            match challenge::pick(&values) {
                None if values.is_empty() => unanswered = Some(Credentials::NoChallenge),
                None => unanswered = Some(Credentials::UnusableChallenge),
                Some(challenge) if req.body.replayable() => {
                    if let Some(retry_header) = inner.auth.on_challenge(
                        &inner.transport,
                        &challenge,
                        header.as_deref(),
                        req.scope.as_deref(),
                    )? {
                        drop(resp);
                        resp = inner.transport.send(req, Some(&retry_header))?;
                        sent = true;
                    }
                }
                Some(_) => {}
            }
        }
        // what the 401 hint may say: credentials kept off another origin, none to send, none
        // sent for lack of a usable challenge, or refused
        resp.credentials = if !on_origin && !inner.auth.is_anonymous() {
            Credentials::WithheldOffOrigin
        } else if inner.auth.is_anonymous() {
            Credentials::Anonymous
        } else if sent {
            Credentials::Sent
        } else {
            unanswered.unwrap_or(Credentials::Sent)
        };
        Ok(resp)
    }
}
