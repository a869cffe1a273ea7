//! Who the client is: [`Credential`] (anonymous, username and password, or an Azure AD token
//! source), the synchronous [`TokenCredential`] trait, and the token flows that turn them into
//! registry tokens.
//!
//! What each credential does when the registry challenges:
//!
//! - **anonymous**: on `Bearer`, ACR gets `POST /oauth2/token` (`grant_type=password`), other
//!   registries `GET realm` without credentials; on `Basic`, it fails (credentials are needed).
//! - **username/password**: on `Bearer`, `GET realm` with `Authorization: Basic` (the Docker token
//!   flow, which ACR accepts too); on `Basic`, `Basic` on every request.
//! - **Azure AD**: on `Bearer`, `POST /oauth2/exchange` then `POST /oauth2/token`, always on the
//!   registry's own endpoint; on `Basic`, it fails (the registry does not take Azure AD).
//!
//! A token realm on another host than the registry is used for the anonymous and username/password
//! flows (Docker Hub and many registries keep their token service elsewhere, and the registry's own
//! challenge named it), but an Azure AD token is only ever sent to the registry's endpoint,
//! whatever the realm says: that token opens every registry the identity can reach, so a registry
//! must not be able to steer it away. And only when the registry is on an Azure registry domain
//! (`*.azurecr.io`, `.cn`, `.us` and the air-gapped clouds') or a host listed in
//! `ClientOptions::azure_ad_hosts`: an endpoint elsewhere fails before a token is requested.

pub(crate) mod acr;
#[cfg(feature = "azure")]
pub mod azure;
pub(crate) mod cache;
pub mod challenge;
pub(crate) mod docker;
mod docker_config;
mod helper;

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use crate::error::Result;
use crate::http::Url;

pub use acr::{
    AcrAccessToken, AcrRefreshToken, AuthenticationClient, ExchangeGrantType, ExchangeOptions,
    TokenGrantType,
};
pub use docker_config::{DockerConfig, Store};

/// The username ACR gives its refresh tokens: `az acr login` stores them with it, and
/// `az acr login --expose-token` prints it.
pub const NULL_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// A string that never shows itself in `Debug` or `Display`.
///
/// ```
/// use azcontainerregistry::Secret;
/// let s = Secret::new("hunter2");
/// assert_eq!(format!("{s:?} {s}"), "Secret(REDACTED) REDACTED");
/// assert_eq!(s.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself. Use it only to send it where it belongs.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(REDACTED)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("REDACTED")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_string())
    }
}

/// An Azure AD access token and when it expires.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The token.
    pub token: Secret,
    /// When it stops being valid.
    pub expires_on: SystemTime,
}

/// A synchronous source of Azure AD tokens, for callers who get tokens their own way.
///
/// With the `azure` feature, every `azure_identity` credential can be used through
/// [`Credential::azure`]; this trait is for everything else.
///
/// ```
/// use azcontainerregistry::{AccessToken, Credential, Secret, TokenCredential};
/// use std::time::{Duration, SystemTime};
///
/// #[derive(Debug)]
/// struct FromEnv;
/// impl TokenCredential for FromEnv {
///     fn get_token(&self, _scopes: &[&str]) -> azcontainerregistry::Result<AccessToken> {
///         let token = std::env::var("MY_AAD_TOKEN").unwrap_or_default();
///         Ok(AccessToken {
///             token: Secret::new(token),
///             expires_on: SystemTime::now() + Duration::from_secs(300),
///         })
///     }
/// }
/// let credential = Credential::token(FromEnv);
/// # let _ = credential;
/// ```
pub trait TokenCredential: Send + Sync + fmt::Debug {
    /// An access token for `scopes` (for a registry:
    /// `["https://containerregistry.azure.net/.default"]`).
    fn get_token(&self, scopes: &[&str]) -> Result<AccessToken>;
}

/// How a client signs in to the registry. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Credential {
    kind: Kind,
}

#[derive(Clone, Debug)]
pub(crate) enum Kind {
    Anonymous,
    Basic {
        username: String,
        password: Secret,
    },
    Token(Arc<dyn TokenCredential>),
    /// An ACR refresh token or an OAuth2 refresh token (Docker's `identitytoken`).
    IdentityToken {
        username: String,
        token: Secret,
    },
    /// A bearer token sent as it is (Docker's `registrytoken`).
    RegistryToken(Secret),
    /// Decided once the registry is known (e.g. read from a Docker config file).
    Later(Arc<dyn Resolve>),
}

/// Finds the credential for a registry when a client first needs it.
pub(crate) trait Resolve: Send + Sync + fmt::Debug {
    /// The credential for the registry at `registry`.
    fn resolve(&self, registry: &Url) -> Result<Credential>;
}

impl Credential {
    /// No credentials: anonymous pull where the registry allows it.
    ///
    /// ```
    /// let c = azcontainerregistry::Credential::anonymous();
    /// assert!(c.is_anonymous());
    /// ```
    pub fn anonymous() -> Self {
        Credential {
            kind: Kind::Anonymous,
        }
    }

    /// Username and password: an ACR admin user or scope-map token, the output of
    /// `az acr login --expose-token` (username `00000000-0000-0000-0000-000000000000`, password the
    /// token), or any registry's account.
    ///
    /// ```
    /// let c = azcontainerregistry::Credential::basic("user", "pass");
    /// assert!(!format!("{c:?}").contains("pass\""));
    /// ```
    pub fn basic(username: impl Into<String>, password: impl Into<Secret>) -> Self {
        Credential {
            kind: Kind::Basic {
                username: username.into(),
                password: password.into(),
            },
        }
    }

    /// An Azure AD token source implementing the synchronous [`TokenCredential`].
    pub fn token(source: impl TokenCredential + 'static) -> Self {
        Credential {
            kind: Kind::Token(Arc::new(source)),
        }
    }

    /// An Azure AD token source shared with other code.
    pub fn token_arc(source: Arc<dyn TokenCredential>) -> Self {
        Credential {
            kind: Kind::Token(source),
        }
    }

    /// An identity token (Docker's `identitytoken`): an ACR refresh token, as `az acr login`
    /// stores it and `az acr login --expose-token` prints it, or another registry's OAuth2 refresh
    /// token. ACR gets it at `/oauth2/token` (`grant_type=refresh_token`); other token services
    /// get the OAuth2 refresh grant.
    ///
    /// ```
    /// let c = azcontainerregistry::Credential::identity_token("eyJ...");
    /// assert!(!c.is_anonymous());
    /// ```
    pub fn identity_token(token: impl Into<Secret>) -> Self {
        Self::identity_token_for(NULL_GUID, token)
    }

    /// An identity token issued to `username` (the OAuth2 refresh grant sends no username; ACR's
    /// tokens belong to [`NULL_GUID`]).
    pub fn identity_token_for(username: impl Into<String>, token: impl Into<Secret>) -> Self {
        Credential {
            kind: Kind::IdentityToken {
                username: username.into(),
                token: token.into(),
            },
        }
    }

    /// A registry token (Docker's `registrytoken`): sent as `Authorization: Bearer` on every
    /// request to the registry, as it is.
    pub fn registry_token(token: impl Into<Secret>) -> Self {
        Credential {
            kind: Kind::RegistryToken(token.into()),
        }
    }

    pub(crate) fn resolved_later(source: Arc<dyn Resolve>) -> Self {
        Credential {
            kind: Kind::Later(source),
        }
    }

    /// True for [`Credential::anonymous`].
    pub fn is_anonymous(&self) -> bool {
        matches!(self.kind, Kind::Anonymous)
    }

    pub(crate) fn kind(&self) -> &Kind {
        &self.kind
    }
}
