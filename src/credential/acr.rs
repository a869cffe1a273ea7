//! ACR's own token endpoints: `/oauth2/exchange` (Azure AD token → ACR refresh token) and
//! `/oauth2/token` (refresh token or anonymous → access token), and the public
//! [`AuthenticationClient`] over them.

use std::time::SystemTime;

use super::{Credential, Kind, Secret};
use crate::error::{Error, Result};
use crate::http::{Method, Request, Transport, Url, form_urlencode};
use crate::options::{AZURE_REGISTRY_SUFFIXES, Audience, ClientOptions, is_azure_registry_host};

pub(crate) const API_VERSION: &str = "2021-07-01";

/// `Ok` when an Azure AD token may be sent to `endpoint`: an Azure registry domain, or a host
/// the caller listed (`name` exactly, `.suffix` for subdomains).
pub(crate) fn check_azure_ad_host(endpoint: &Url, extra: &[String]) -> Result<()> {
    let host = endpoint
        .host_str()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let azure = is_azure_registry_host(&host);
    let listed = extra.iter().any(|entry| {
        let entry = entry.trim().trim_end_matches('.').to_ascii_lowercase();
        match entry.strip_prefix('*').unwrap_or(&entry) {
            suffix if suffix.starts_with('.') => host.ends_with(suffix),
            name => !name.is_empty() && host == name,
        }
    });
    if azure || listed {
        return Ok(());
    }
    Err(Error::auth(
        format!(
            "refusing to send an Azure AD token to {host}: it is not an Azure Container Registry \
             host (*{}); if it is a custom domain of your registry, add it to \
             ClientOptions::azure_ad_hosts (acr: --azure-ad-host)",
            AZURE_REGISTRY_SUFFIXES.join(", *")
        ),
        None,
    ))
}
const TOKEN_BODY_LIMIT: u64 = 1024 * 1024;

/// An ACR refresh token, from
/// [`AuthenticationClient::exchange_aad_access_token_for_acr_refresh_token`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AcrRefreshToken {
    /// The token (a JWT, valid about 3 hours).
    pub refresh_token: Secret,
    /// Its expiry, read from the JWT `exp` claim when it is a JWT.
    pub expires_on: Option<SystemTime>,
}

/// An ACR access token, from
/// [`AuthenticationClient::exchange_acr_refresh_token_for_acr_access_token`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AcrAccessToken {
    /// The token, for `Authorization: Bearer`.
    pub access_token: Secret,
    /// Its expiry, read from the JWT `exp` claim when it is a JWT.
    pub expires_on: Option<SystemTime>,
}

/// The grant of an exchange (Go: `PostContentSchemaGrantType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ExchangeGrantType {
    /// `access_token`: exchange an Azure AD access token.
    #[default]
    AccessToken,
    /// `refresh_token`: exchange an Azure AD refresh token.
    RefreshToken,
    /// `access_token_refresh_token`: both.
    AccessTokenRefreshToken,
}

impl ExchangeGrantType {
    fn as_str(self) -> &'static str {
        match self {
            ExchangeGrantType::AccessToken => "access_token",
            ExchangeGrantType::RefreshToken => "refresh_token",
            ExchangeGrantType::AccessTokenRefreshToken => "access_token_refresh_token",
        }
    }
}

/// Optional parts of an exchange.
#[derive(Debug, Clone, Default)]
pub struct ExchangeOptions {
    /// The grant; default [`ExchangeGrantType::AccessToken`].
    pub grant_type: ExchangeGrantType,
    /// The Azure AD refresh token, for the refresh-token grants.
    pub aad_refresh_token: Option<Secret>,
    /// The tenant the token is from.
    pub tenant: Option<String>,
}

/// The grant of an access-token request (Go: `TokenGrantType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TokenGrantType {
    /// `refresh_token`: with an ACR refresh token.
    #[default]
    RefreshToken,
    /// `password`: anonymous, or with a refresh token in the password role.
    Password,
}

/// The two ACR token exchanges as plain calls, as in the Go SDK's `AuthenticationClient`.
/// [`Client`] does all of this by itself; use this to hand tokens to other tools.
///
/// ```no_run
/// use azcontainerregistry::{
///     AuthenticationClient, ClientOptions, ExchangeOptions, Secret, TokenGrantType,
/// };
/// let auth =
///     AuthenticationClient::new("https://myregistry.azurecr.io", ClientOptions::default())?;
/// let refresh = auth.exchange_aad_access_token_for_acr_refresh_token(
///     "myregistry.azurecr.io",
///     &Secret::new("<azure ad token>"),
///     ExchangeOptions::default(),
/// )?;
/// let access = auth.exchange_acr_refresh_token_for_acr_access_token(
///     "myregistry.azurecr.io",
///     "repository:hello-world:pull",
///     &refresh.refresh_token,
///     TokenGrantType::RefreshToken,
/// )?;
/// # let _ = access;
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
///
/// [`Client`]: crate::Client
#[derive(Debug, Clone)]
pub struct AuthenticationClient {
    transport: Transport,
    endpoint: Url,
    audience: Audience,
    azure_ad_hosts: Vec<String>,
}

impl AuthenticationClient {
    /// A client for the registry at `endpoint` (e.g. `https://myregistry.azurecr.io`).
    pub fn new(endpoint: &str, options: ClientOptions) -> Result<Self> {
        let endpoint = crate::http::parse_endpoint(endpoint, options.allow_http)?;
        Ok(AuthenticationClient {
            transport: Transport::new(&options)?,
            audience: options.audience.for_host(endpoint.host_str()),
            endpoint,
            azure_ad_hosts: options.azure_ad_hosts,
        })
    }

    /// What `az acr login` does: an Azure AD token from `credential` (for the audience of
    /// [`ClientOptions::audience`]) exchanged for an ACR refresh token for `service` (the
    /// registry's login server). Store it with [`DockerConfig::store`] as a
    /// [`Credential::identity_token`], or use it as a password with the user
    /// [`NULL_GUID`](crate::NULL_GUID).
    ///
    /// ```no_run
    /// # #[cfg(feature = "azure")] {
    /// use azcontainerregistry::{AuthenticationClient, ClientOptions, Credential};
    /// let auth =
    ///     AuthenticationClient::new("https://myregistry.azurecr.io", ClientOptions::default())?;
    /// let refresh = auth.sign_in("myregistry.azurecr.io", &Credential::azure_default()?)?;
    /// # let _ = refresh;
    /// # }
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    ///
    /// [`DockerConfig::store`]: crate::DockerConfig::store
    pub fn sign_in(&self, service: &str, credential: &Credential) -> Result<AcrRefreshToken> {
        let Kind::Token(source) = credential.kind() else {
            return Err(Error::Config(
                "AuthenticationClient::sign_in needs an Azure AD credential".into(),
            ));
        };
        check_azure_ad_host(&self.endpoint, &self.azure_ad_hosts)?;
        let scope = self.audience.scope();
        let aad = source.get_token(&[scope.as_str()]).map_err(|e| {
            Error::auth(
                format!("could not get an Azure AD token for {scope}"),
                Some(e),
            )
        })?;
        self.exchange_aad_access_token_for_acr_refresh_token(
            service,
            &aad.token,
            ExchangeOptions::default(),
        )
    }

    /// `POST /oauth2/exchange`: an Azure AD access token for an ACR refresh token. Refused
    /// before sending unless the endpoint is an Azure registry host or listed in
    /// `ClientOptions::azure_ad_hosts`.
    pub fn exchange_aad_access_token_for_acr_refresh_token(
        &self,
        service: &str,
        aad_access_token: &Secret,
        options: ExchangeOptions,
    ) -> Result<AcrRefreshToken> {
        check_azure_ad_host(&self.endpoint, &self.azure_ad_hosts)?;
        let refresh_token = exchange(
            &self.transport,
            &self.endpoint,
            service,
            Some(aad_access_token),
            &options,
        )?;
        let expires_on = super::cache::jwt_expiry(refresh_token.expose());
        Ok(AcrRefreshToken {
            refresh_token,
            expires_on,
        })
    }

    /// `POST /oauth2/token`: an ACR refresh token for an access token to `scope` (several
    /// scopes space-separated, each sent as its own `scope` field).
    pub fn exchange_acr_refresh_token_for_acr_access_token(
        &self,
        service: &str,
        scope: &str,
        refresh_token: &Secret,
        grant_type: TokenGrantType,
    ) -> Result<AcrAccessToken> {
        let access_token = access_token(
            &self.transport,
            &self.endpoint,
            service,
            scope,
            Some(refresh_token),
            grant_type,
        )?;
        let expires_on = super::cache::jwt_expiry(access_token.expose());
        Ok(AcrAccessToken {
            access_token,
            expires_on,
        })
    }
}

fn post_form(
    transport: &Transport,
    endpoint: &Url,
    path: &str,
    form: &[(&str, &str)],
    expect_key: &'static str,
) -> Result<Secret> {
    let url = endpoint
        .join(&format!("{path}?api-version={API_VERSION}"))
        .map_err(|e| Error::Config(format!("cannot build token URL: {e}")))?;
    let body = form_urlencode(form);
    // a token request only hands out a token: safe to send again after a timeout
    let mut req = Request::new(Method::POST, url)
        .idempotent()
        .header("Accept", "application/json")
        .form(body.as_bytes());
    let resp = transport.send(&mut req, None)?;
    if !resp.is_success() {
        let status = resp.status;
        let err = resp.into_error();
        return Err(Error::auth_refused(
            format!("the registry's {path} endpoint answered {status}"),
            err,
        ));
    }
    let v: serde_json::Value = resp.json("token response", TOKEN_BODY_LIMIT)?;
    v.get(expect_key)
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
        .map(Secret::new)
        .ok_or_else(|| {
            Error::decode(
                "token response",
                format!("no {expect_key} in the answer of {path}"),
            )
        })
}

/// `POST /oauth2/exchange`.
pub(crate) fn exchange(
    transport: &Transport,
    endpoint: &Url,
    service: &str,
    aad_access_token: Option<&Secret>,
    options: &ExchangeOptions,
) -> Result<Secret> {
    let mut form = vec![
        ("grant_type", options.grant_type.as_str()),
        ("service", service),
    ];
    if let Some(t) = &options.tenant {
        form.push(("tenant", t));
    }
    if let Some(r) = &options.aad_refresh_token {
        form.push(("refresh_token", r.expose()));
    }
    if let Some(a) = aad_access_token {
        form.push(("access_token", a.expose()));
    }
    post_form(
        transport,
        endpoint,
        "/oauth2/exchange",
        &form,
        "refresh_token",
    )
}

/// `POST /oauth2/token` with a refresh token, or anonymously (`grant_type=password`, no refresh
/// token).
pub(crate) fn access_token(
    transport: &Transport,
    endpoint: &Url,
    service: &str,
    scope: &str,
    refresh_token: Option<&Secret>,
    grant_type: TokenGrantType,
) -> Result<Secret> {
    let grant = match grant_type {
        TokenGrantType::RefreshToken => "refresh_token",
        TokenGrantType::Password => "password",
    };
    let mut form = vec![("grant_type", grant), ("service", service)];
    // Several scopes (a mount's `repository:target:pull,push repository:source:pull`) go as one
    // `scope` field each, as ACR's token endpoint takes them.
    form.extend(scope.split_whitespace().map(|s| ("scope", s)));
    if let Some(r) = refresh_token {
        form.push(("refresh_token", r.expose()));
    }
    post_form(transport, endpoint, "/oauth2/token", &form, "access_token")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn azure_ad_tokens_go_to_azure_registries_and_listed_hosts_only() {
        let ok = |host: &str, extra: &[&str]| {
            let url = Url::parse(&format!("https://{host}/")).unwrap();
            let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
            check_azure_ad_host(&url, &extra).is_ok()
        };
        for host in [
            "r.azurecr.io",
            "R.AzureCR.io",
            "r.azurecr.cn",
            "r.azurecr.us",
            "r.azurecr.eaglex.ic.gov",
            "r.azurecr.microsoft.scloud",
            "r.westeurope.data.azurecr.io",
        ] {
            assert!(ok(host, &[]), "{host}");
        }
        for host in [
            "evil.io",
            "azurecr.io.evil.io",
            "evilazurecr.io",
            "127.0.0.1",
        ] {
            assert!(!ok(host, &[]), "{host}");
        }
        assert!(ok("registry.contoso.com", &["registry.contoso.com"]));
        assert!(!ok("x.registry.contoso.com", &["registry.contoso.com"]));
        assert!(ok("x.contoso.com", &[".contoso.com"]));
        assert!(ok("x.contoso.com", &["*.contoso.com"]));
        assert!(!ok("contoso.com.evil.io", &[".contoso.com"]));
        assert!(!ok("evil.io", &[""]));
        assert!(ok("127.0.0.1", &["127.0.0.1"]));
        let url = Url::parse("https://evil.io/").unwrap();
        let text = check_azure_ad_host(&url, &[]).unwrap_err().to_string();
        assert!(
            text.contains("evil.io") && text.contains("ClientOptions::azure_ad_hosts"),
            "{text}"
        );
    }
}
