//! The authentication policy: which `Authorization` header a request carries, and what to do with a
//! `401` challenge.
//!
//! Each request names the scope it needs (`repository:x:pull`). Once the registry's first challenge
//! has told us its scheme, realm and service, tokens are fetched for the named scope before the
//! request is sent and cached per (service, scope), so paging and repeated calls are never
//! challenged again. When the registry's challenge names another scope than the request did, that
//! mapping is remembered. A request whose token is refused is retried once with a freshly fetched
//! token, never in a loop.
//!
//! Credentials only ever go to the registry's own origin: a redirect or a URL on another origin
//! gets no `Authorization` header.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use super::scope::{covers, normalize_scope};
use crate::credential::cache::{Cached, TokenCache, jwt_expiry};
use crate::credential::challenge::Challenge;
use crate::credential::{Credential, Kind, NULL_GUID, Secret, TokenCredential, acr, docker};
use crate::error::{Error, Result};
use crate::http::{Transport, Url, is_loopback};
use crate::options::{Audience, ClientOptions};
use crate::redact;

/// Access tokens are renewed this long before they expire.
const ACCESS_MARGIN: Duration = Duration::from_secs(30);
/// ACR refresh tokens are renewed this long before they expire.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// Lifetime assumed for an ACR refresh token that is not a JWT (ACR documents about 3 hours).
const REFRESH_DEFAULT_LIFETIME: Duration = Duration::from_secs(3 * 3600);

#[derive(Debug, Clone)]
struct Bearer {
    realm: Url,
    service: String,
}

#[derive(Debug, Default)]
struct State {
    bearer: Option<Bearer>,
    basic: bool,
    /// scope a request asked for → scope the registry's challenge named.
    aliases: HashMap<String, String>,
}

#[derive(Debug)]
pub(crate) struct AuthPolicy {
    endpoint: Url,
    credential: Credential,
    /// What a credential decided later (a Docker config's) turned out to be.
    resolved: Mutex<Option<Credential>>,
    audience: Audience,
    /// Token realms may be plain http (not only on loopback).
    allow_http: bool,
    /// More hosts an Azure AD token may go to (`ClientOptions::azure_ad_hosts`).
    azure_ad_hosts: Vec<String>,
    state: Mutex<State>,
    cache: TokenCache,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl AuthPolicy {
    pub(crate) fn new(endpoint: Url, credential: Credential, options: &ClientOptions) -> Self {
        AuthPolicy {
            audience: options.audience.for_host(endpoint.host_str()),
            endpoint,
            credential,
            resolved: Mutex::default(),
            allow_http: options.allow_http,
            azure_ad_hosts: options.azure_ad_hosts.clone(),
            state: Mutex::default(),
            cache: TokenCache::default(),
        }
    }

    pub(crate) fn is_anonymous(&self) -> bool {
        match self.credential.kind() {
            Kind::Later(_) => lock(&self.resolved)
                .as_ref()
                .is_some_and(Credential::is_anonymous),
            _ => self.credential.is_anonymous(),
        }
    }

    /// True when the credential is an Azure AD one (only ACR takes those).
    pub(crate) fn is_azure_ad(&self) -> bool {
        matches!(self.credential.kind(), Kind::Token(_))
    }

    /// Whether the registry's challenge, when one was seen, showed ACR's token endpoint.
    pub(crate) fn challenge_says_acr(&self) -> Option<bool> {
        let st = lock(&self.state);
        if st.basic {
            return Some(false);
        }
        st.bearer.as_ref().map(|b| self.is_acr_realm(&b.realm))
    }

    /// The credential to use: the one given, or what a credential decided later resolved to
    /// (looked up once; a failed lookup is tried again by the next request).
    fn credential(&self) -> Result<Credential> {
        let Kind::Later(source) = self.credential.kind() else {
            return Ok(self.credential.clone());
        };
        let mut resolved = lock(&self.resolved);
        if let Some(c) = &*resolved {
            return Ok(c.clone());
        }
        let c = source.resolve(&self.endpoint)?;
        if matches!(c.kind(), Kind::Later(_)) {
            return Err(Error::Config("a credential resolved to another one".into()));
        }
        *resolved = Some(c.clone());
        Ok(c)
    }

    /// True when `url` is on the registry's origin (the only place credentials go).
    pub(crate) fn same_origin(&self, url: &Url) -> bool {
        url.origin() == self.endpoint.origin()
    }

    /// The header for a request to `url` needing `scope`, fetching a token first when the
    /// registry's scheme is known. `None` when nothing is known yet (the registry will
    /// challenge). A token that cannot be fetched is an error: sending the request without it
    /// would only fetch it again.
    pub(crate) fn header_for(
        &self,
        transport: &Transport,
        url: &Url,
        scope: Option<&str>,
    ) -> Result<Option<String>> {
        if !self.same_origin(url) {
            return Ok(None);
        }
        let credential = self.credential()?;
        if let Kind::RegistryToken(token) = credential.kind() {
            return Ok(Some(format!("Bearer {}", token.expose())));
        }
        let (bearer, basic, scope) = {
            let st = lock(&self.state);
            let scope = scope
                .map(normalize_scope)
                .map(|s| st.aliases.get(&s).cloned().unwrap_or(s));
            (st.bearer.clone(), st.basic, scope)
        };
        if basic {
            return Ok(basic_of(&credential).map(|(u, p)| docker::basic_header(u, p)));
        }
        let Some(bearer) = bearer else {
            return Ok(None);
        };
        let scope = scope.unwrap_or_default();
        // A failure here is final: sending the request bare would only be challenged and fetch
        // again.
        let token = self.token(transport, &bearer, &scope, &credential)?;
        Ok(Some(format!("Bearer {}", token.expose())))
    }

    /// Reacts to a 401 with `challenge`; `sent` is the header the refused request carried and
    /// `asked` the scope it named. Returns the header to retry with, or `None` when retrying
    /// cannot help.
    pub(crate) fn on_challenge(
        &self,
        transport: &Transport,
        challenge: &Challenge,
        sent: Option<&str>,
        asked: Option<&str>,
    ) -> Result<Option<String>> {
        let credential = self.credential()?;
        if matches!(credential.kind(), Kind::RegistryToken(_)) {
            return Ok(None); // the token itself was refused
        }
        if challenge.is_basic() {
            let Some((username, password)) = basic_of(&credential) else {
                return Ok(None);
            };
            if sent.is_some_and(|s| s.starts_with("Basic ")) {
                return Ok(None); // the password itself was refused
            }
            lock(&self.state).basic = true;
            return Ok(Some(docker::basic_header(username, password)));
        }
        if !challenge.is_bearer() {
            return Ok(None);
        }
        let malformed = |what: String| {
            Error::auth(
                format!("the registry's Bearer challenge is malformed: {what}"),
                None,
            )
        };
        let realm_text = challenge
            .realm()
            .map(str::trim)
            .ok_or_else(|| malformed("it names no realm (token service)".into()))?;
        if realm_text.is_empty() {
            return Err(malformed("its realm (token service) is empty".into()));
        }
        let realm = self
            .endpoint
            .join(realm_text)
            .map_err(|e| malformed(format!("its realm {realm_text:?} is not a URL: {e}")))?;
        if !matches!(realm.scheme(), "http" | "https") {
            return Err(malformed(format!(
                "its realm {} is not an http(s) URL",
                redact::url(realm.as_str())
            )));
        }
        let service = challenge
            .service()
            .unwrap_or_else(|| self.endpoint.host_str())
            .to_string();
        let asked = asked.map(normalize_scope);
        let challenged = challenge.scope().map(normalize_scope);
        // Ask for what the request named when it covers what the registry wants (the token then
        // serves both); otherwise for the registry's scope, and remember that this request
        // needs that one.
        let scope = match (&asked, challenged) {
            (Some(a), Some(c)) if covers(a, &c) => a.clone(),
            (_, Some(c)) => c,
            (Some(a), None) => a.clone(),
            (None, None) => String::new(),
        };
        let bearer = Bearer { realm, service };
        {
            let mut st = lock(&self.state);
            st.bearer = Some(bearer.clone());
            st.basic = false;
            if let Some(a) = &asked
                && *a != scope
            {
                st.aliases.insert(a.clone(), scope.clone());
            }
        }
        let key = access_key(&bearer.service, &scope);
        let refused = sent.and_then(|s| s.strip_prefix("Bearer "));
        if refused.is_some() {
            self.cache.invalidate(&key, refused);
        }
        let token = self.token(transport, &bearer, &scope, &credential)?;
        if refused == Some(token.expose()) {
            return Ok(None);
        }
        Ok(Some(format!("Bearer {}", token.expose())))
    }

    /// An access token for `scope`, cached.
    fn token(
        &self,
        transport: &Transport,
        bearer: &Bearer,
        scope: &str,
        credential: &Credential,
    ) -> Result<Secret> {
        let key = access_key(&bearer.service, scope);
        self.cache.get_or_fetch(&key, ACCESS_MARGIN, || {
            self.fetch_access(transport, bearer, scope, credential)
        })
    }

    fn fetch_access(
        &self,
        transport: &Transport,
        bearer: &Bearer,
        scope: &str,
        credential: &Credential,
    ) -> Result<Cached> {
        let acr_realm = self.is_acr_realm(&bearer.realm);
        let refresh = acr::TokenGrantType::RefreshToken;
        let basic = match credential.kind() {
            Kind::Token(source) => {
                return self.fetch_with_azure_ad(transport, bearer, scope, source);
            }
            Kind::Anonymous if acr_realm => {
                let grant = acr::TokenGrantType::Password;
                return self.acr_access(transport, bearer, scope, None, grant);
            }
            Kind::Anonymous => None,
            // `az acr login --expose-token`: the password is an ACR refresh token
            Kind::Basic { username, password } if acr_realm && username == NULL_GUID => {
                return self.acr_access(transport, bearer, scope, Some(password), refresh);
            }
            Kind::Basic { username, password } => Some((username.as_str(), password)),
            Kind::IdentityToken { token, .. } if acr_realm => {
                return self.acr_access(transport, bearer, scope, Some(token), refresh);
            }
            Kind::IdentityToken { token, .. } => {
                self.check_realm(&bearer.realm)?;
                let scopes: Vec<&str> = scope.split_whitespace().collect();
                let service = Some(bearer.service.as_str());
                return docker::fetch_token_with_refresh(
                    transport,
                    &bearer.realm,
                    service,
                    &scopes,
                    token,
                );
            }
            Kind::RegistryToken(_) | Kind::Later(_) => {
                return Err(Error::Config("no token flow for this credential".into()));
            }
        };
        // the Docker token flow, at the realm the registry named
        self.check_realm(&bearer.realm)?;
        let scopes: Vec<&str> = scope.split_whitespace().collect();
        docker::fetch_token(
            transport,
            &bearer.realm,
            Some(&bearer.service),
            &scopes,
            basic,
        )
    }

    /// ACR's `/oauth2/token` on the registry's own endpoint.
    fn acr_access(
        &self,
        transport: &Transport,
        bearer: &Bearer,
        scope: &str,
        refresh: Option<&Secret>,
        grant: acr::TokenGrantType,
    ) -> Result<Cached> {
        let endpoint = &self.endpoint;
        let token = acr::access_token(transport, endpoint, &bearer.service, scope, refresh, grant)?;
        Ok(cached_access(token))
    }

    /// Azure AD: an ACR refresh token from the exchange (cached per service), then an access
    /// token, always at the registry's own endpoint, whatever the realm says. A refresh token
    /// refused early (revoked) is exchanged once more.
    fn fetch_with_azure_ad(
        &self,
        transport: &Transport,
        bearer: &Bearer,
        scope: &str,
        source: &Arc<dyn TokenCredential>,
    ) -> Result<Cached> {
        // the token opens every registry the identity can reach: only Azure registries get it
        acr::check_azure_ad_host(&self.endpoint, &self.azure_ad_hosts)?;
        let refresh_key = format!("refresh\n{}", bearer.service);
        let fetch_refresh = || -> Result<Cached> {
            let aad_scope = self.audience.scope();
            let aad = source.get_token(&[aad_scope.as_str()]).map_err(|e| {
                Error::auth(
                    format!("could not get an Azure AD token for {aad_scope}"),
                    Some(e),
                )
            })?;
            let refresh = acr::exchange(
                transport,
                &self.endpoint,
                &bearer.service,
                Some(&aad.token),
                &acr::ExchangeOptions::default(),
            )?;
            let expires_at = jwt_expiry(refresh.expose())
                .unwrap_or_else(|| SystemTime::now() + REFRESH_DEFAULT_LIFETIME);
            Ok(Cached {
                token: refresh,
                expires_at,
            })
        };
        let grant = acr::TokenGrantType::RefreshToken;
        let mut renewed = false;
        loop {
            let refresh = self
                .cache
                .get_or_fetch(&refresh_key, REFRESH_MARGIN, fetch_refresh)?;
            match self.acr_access(transport, bearer, scope, Some(&refresh), grant) {
                Err(e) if e.is_unauthorized() && !renewed => {
                    // the refresh token was revoked or expired early: exchange once more
                    self.cache.invalidate(&refresh_key, Some(refresh.expose()));
                    renewed = true;
                }
                other => return other,
            }
        }
    }

    /// ACR's token endpoint: `/oauth2/token` on the registry's own origin.
    pub(crate) fn is_acr_realm(&self, realm: &Url) -> bool {
        self.same_origin(realm)
            && realm
                .path()
                .trim_end_matches('/')
                .ends_with("/oauth2/token")
    }

    /// A realm must not downgrade to plain http (credentials would travel in clear).
    fn check_realm(&self, realm: &Url) -> Result<()> {
        match realm.scheme() {
            "https" => Ok(()),
            "http" if is_loopback(realm) || self.allow_http => Ok(()),
            _ => Err(Error::auth(
                format!(
                    "refusing the token realm {}: credentials would travel unencrypted (set \
                     ClientOptions::allow_http to allow it)",
                    redact::url(realm.as_str())
                ),
                None,
            )),
        }
    }
}

/// The username and secret a `Basic` header carries for `credential`, if any.
fn basic_of(credential: &Credential) -> Option<(&str, &Secret)> {
    match credential.kind() {
        Kind::Basic { username, password } => Some((username, password)),
        Kind::IdentityToken { username, token } => Some((username, token)),
        _ => None,
    }
}

fn access_key(service: &str, scope: &str) -> String {
    format!("access\n{service}\n{scope}")
}

fn cached_access(token: Secret) -> Cached {
    let expires_at =
        jwt_expiry(token.expose()).unwrap_or_else(|| SystemTime::now() + Duration::from_secs(60));
    Cached { token, expires_at }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audience_for(endpoint: &str, set: Audience) -> Audience {
        let options = ClientOptions {
            audience: set,
            ..Default::default()
        };
        let url = Url::parse(endpoint).unwrap();
        AuthPolicy::new(url, Credential::anonymous(), &options).audience
    }

    #[test]
    fn sovereign_registries_get_their_clouds_audience_unless_one_is_set() {
        let auto = Audience::Auto;
        assert_eq!(
            audience_for("https://r.azurecr.cn", auto.clone()),
            Audience::AzureChina
        );
        assert_eq!(
            audience_for("https://r.azurecr.us", auto.clone()),
            Audience::AzureGovernment
        );
        assert_eq!(
            audience_for("https://r.azurecr.io", auto),
            Audience::ContainerRegistry
        );
        let set = Audience::ContainerRegistry;
        assert_eq!(
            audience_for("https://r.azurecr.cn", set),
            Audience::ContainerRegistry
        );
    }
}
