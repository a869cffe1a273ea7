//! Azure AD (Entra ID) sign-in through `azure_identity`, without an async runtime.
//!
//! `azure_identity` credentials are `async` and, by default, send their requests with `reqwest` on
//! tokio. This crate builds them without either: every request goes through [`UreqTransport`], an
//! `azure_core` HTTP client on the crate's own blocking transport, and every token is awaited with
//! `futures_executor::block_on` on the calling thread. `az` is run with `std::process`. A plain
//! `fn main()` is all it takes.
//!
//! | constructor | identity |
//! |---|---|
//! | [`Credential::azure_default`] | the first that works of the chain below |
//! | [`Credential::azure_client_secret`] | a service principal and its secret |
//! | [`Credential::azure_workload_identity`] | a Kubernetes workload identity |
//! | [`Credential::azure_managed_identity`] | the managed identity of the Azure host |
//! | [`Credential::azure_cli`] | the account `az login` signed in |
//! | [`Credential::azure`] | any `azure_core` [`TokenCredential`](AzTokenCredential) of yours |
//!
//! The default chain ([`AzureDefaultCredential`]) tries the environment's client secret, workload
//! identity (`AZURE_FEDERATED_TOKEN_FILE`), managed identity (IMDS, App Service) and the Azure CLI.
//!
//! To build an `azure_identity` credential yourself, give it this crate's transport with
//! [`UreqTransport::client_options`]: without `reqwest`, `azure_core` has no transport of its own
//! and its default `ClientOptions` panic when a credential is constructed.
//!
//! ```no_run
//! use azcontainerregistry::Credential;
//! use azcontainerregistry::credential::azure::UreqTransport;
//! use azure_identity::{ClientSecretCredential, ClientSecretCredentialOptions};
//! use std::sync::Arc;
//!
//! let transport = UreqTransport::new();
//! let aad = ClientSecretCredential::new(
//!     "my-tenant",
//!     "my-client-id".to_string(),
//!     "my-secret".to_string().into(),
//!     Some(ClientSecretCredentialOptions {
//!         client_options: transport.client_options(),
//!     }),
//! )
//! .map_err(|e| e.to_string())?;
//! let credential = Credential::azure(aad);
//! # let _ = credential;
//! # Ok::<(), String>(())
//! ```

mod chain;
mod cli;
mod transport;

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use azure_core::credentials::{AccessToken as AzAccessToken, TokenCredential as AzTokenCredential};
use azure_identity::{
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};

pub use chain::{AzureCredentialOptions, AzureDefaultCredential};
use chain::{describe, managed_identity};
pub use transport::{AZURE_PUBLIC_AUTHORITY, IMDS_ORIGIN, UreqTransport};

use super::{AccessToken, Credential, Secret, TokenCredential};
use crate::error::{Error, Result};
use cli::{DEFAULT_CLI_TIMEOUT, azure_cli};

/// The crate's synchronous [`TokenCredential`] over any `azure_core` credential: each token is
/// awaited with `futures_executor::block_on` on the calling thread.
#[derive(Clone)]
pub struct AzureTokenCredential {
    inner: Arc<dyn AzTokenCredential>,
}

impl fmt::Debug for AzureTokenCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AzureTokenCredential")
            .field(&self.inner)
            .finish()
    }
}

impl AzureTokenCredential {
    /// Wraps an `azure_core` credential.
    pub fn new(inner: Arc<dyn AzTokenCredential>) -> Self {
        AzureTokenCredential { inner }
    }

    /// The wrapped credential.
    pub fn inner(&self) -> &Arc<dyn AzTokenCredential> {
        &self.inner
    }
}

/// The error for a panic inside `azure_core`/`azure_identity`: the usual one is a credential built
/// without a transport (`azure_core` then wants its `reqwest` feature).
fn panicked(what: &str, payload: Box<dyn std::any::Any + Send>) -> Error {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    if text.contains("reqwest") {
        return Error::Config(format!(
            "{what}: the azure_identity credential has no HTTP transport (azure_core asks for its              reqwest feature); build it with Credential::azure_with, or give it              UreqTransport::client_options()"
        ));
    }
    Error::auth(format!("{what}: azure_identity panicked: {text}"), None)
}

impl TokenCredential for AzureTokenCredential {
    fn get_token(&self, scopes: &[&str]) -> Result<AccessToken> {
        let call = || futures_executor::block_on(self.inner.get_token(scopes, None));
        let token: AzAccessToken = std::panic::catch_unwind(std::panic::AssertUnwindSafe(call))
            .map_err(|p| panicked("Azure AD sign-in failed", p))?
            .map_err(|e| Error::auth(format!("Azure AD sign-in failed: {}", describe(&e)), None))?;
        Ok(AccessToken {
            token: Secret::new(token.token.secret().to_string()),
            expires_on: SystemTime::from(token.expires_on),
        })
    }
}

fn build_err(what: &str, e: azure_core::Error) -> Error {
    Error::auth(format!("cannot build the {what}: {}", describe(&e)), None)
}

/// Azure AD credentials (feature `azure`, on by default).
impl Credential {
    /// Any `azure_core` credential, e.g. one of `azure_identity`'s built with
    /// [`UreqTransport::client_options`]. Tokens are awaited with `futures_executor::block_on`.
    ///
    /// *Feature `azure`.*
    pub fn azure(credential: Arc<dyn AzTokenCredential>) -> Self {
        Credential::token(AzureTokenCredential::new(credential))
    }

    /// Any `azure_identity` credential, built by `build` with `azure_core` client options whose
    /// transport is `transport` (this crate's runtime-free one): the way to use an
    /// `azure_identity` credential this crate has no constructor for. A panic while building it
    /// (e.g. a credential that ignored the options and wants `reqwest`) becomes an error.
    ///
    /// *Feature `azure`.*
    ///
    /// ```no_run
    /// use azcontainerregistry::Credential;
    /// use azcontainerregistry::credential::azure::UreqTransport;
    /// use azure_identity::{ClientSecretCredential, ClientSecretCredentialOptions};
    ///
    /// let credential = Credential::azure_with(&UreqTransport::new(), |client_options| {
    ///     ClientSecretCredential::new(
    ///         "my-tenant",
    ///         "my-client-id".to_string(),
    ///         "my-secret".to_string().into(),
    ///         Some(ClientSecretCredentialOptions { client_options }),
    ///     )
    /// })?;
    /// # let _ = credential;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn azure_with<C, F>(transport: &UreqTransport, build: F) -> Result<Self>
    where
        C: AzTokenCredential + 'static,
        F: FnOnce(azure_core::http::ClientOptions) -> azure_core::Result<Arc<C>>,
    {
        let options = transport.client_options();
        let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| build(options)))
            .map_err(|p| panicked("cannot build the Azure AD credential", p))?
            .map_err(|e| build_err("Azure AD credential", e))?;
        Ok(Self::azure(built))
    }

    /// The default chain ([`AzureDefaultCredential`]): environment client secret, workload
    /// identity, managed identity, Azure CLI; the first that yields a token is used from then
    /// on.
    ///
    /// *Feature `azure`.*
    ///
    /// ```no_run
    /// use azcontainerregistry::{Client, ClientOptions, Credential};
    /// let client = Client::new(
    ///     "https://myregistry.azurecr.io",
    ///     Credential::azure_default()?,
    ///     ClientOptions::default(),
    /// )?;
    /// # let _ = client;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn azure_default() -> Result<Self> {
        Self::azure_default_with(AzureCredentialOptions::default())
    }

    /// The default chain with options: a transport, an authority host, members left out.
    ///
    /// *Feature `azure`.*
    ///
    /// ```no_run
    /// use azcontainerregistry::Credential;
    /// use azcontainerregistry::credential::azure::AzureCredentialOptions;
    /// let credential = Credential::azure_default_with(AzureCredentialOptions {
    ///     exclude_azure_cli: true,
    ///     ..Default::default()
    /// })?;
    /// # let _ = credential;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn azure_default_with(options: AzureCredentialOptions) -> Result<Self> {
        Ok(Self::azure(AzureDefaultCredential::new(options)?))
    }

    /// A service principal with a client secret. Respects `AZURE_AUTHORITY_HOST`.
    ///
    /// *Feature `azure`.*
    ///
    /// ```no_run
    /// let credential = azcontainerregistry::Credential::azure_client_secret(
    ///     "my-tenant",
    ///     "my-client-id",
    ///     "my-secret",
    /// )?;
    /// # let _ = credential;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn azure_client_secret(
        tenant_id: &str,
        client_id: &str,
        secret: impl Into<Secret>,
    ) -> Result<Self> {
        let secret: Secret = secret.into();
        let credential = ClientSecretCredential::new(
            tenant_id,
            client_id.to_string(),
            secret.expose().to_string().into(),
            Some(ClientSecretCredentialOptions {
                client_options: UreqTransport::new().client_options(),
            }),
        )
        .map_err(|e| build_err("client secret credential", e))?;
        Ok(Self::azure(credential))
    }

    /// The account signed in to the Azure CLI (`az login`); each token runs `az account
    /// get-access-token` (at most 10 seconds).
    ///
    /// *Feature `azure`.*
    ///
    /// ```no_run
    /// let credential = azcontainerregistry::Credential::azure_cli()?;
    /// # let _ = credential;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn azure_cli() -> Result<Self> {
        Ok(Self::azure(
            azure_cli(DEFAULT_CLI_TIMEOUT).map_err(|e| build_err("Azure CLI credential", e))?,
        ))
    }

    /// The managed identity of the Azure host: system-assigned, or the user-assigned identity with
    /// this client ID.
    ///
    /// *Feature `azure`.*
    ///
    /// ```no_run
    /// let credential = azcontainerregistry::Credential::azure_managed_identity(None)?;
    /// # let _ = credential;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn azure_managed_identity(client_id: Option<&str>) -> Result<Self> {
        let credential = managed_identity(&UreqTransport::new(), client_id.map(str::to_string))
            .map_err(|e| build_err("managed identity credential", e))?;
        Ok(Self::azure(credential))
    }

    /// A Kubernetes workload identity, from `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_TENANT_ID` and
    /// `AZURE_CLIENT_ID`. Respects `AZURE_AUTHORITY_HOST`.
    ///
    /// *Feature `azure`.*
    ///
    /// ```no_run
    /// let credential = azcontainerregistry::Credential::azure_workload_identity()?;
    /// # let _ = credential;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn azure_workload_identity() -> Result<Self> {
        let credential = WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
            credential_options: ClientAssertionCredentialOptions {
                client_options: UreqTransport::new().client_options(),
            },
            ..Default::default()
        }))
        .map_err(|e| build_err("workload identity credential", e))?;
        Ok(Self::azure(credential))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A credential that panics as `azure_core` does when it has no transport.
    #[derive(Debug)]
    struct NoTransport;

    #[async_trait::async_trait]
    impl AzTokenCredential for NoTransport {
        async fn get_token(
            &self,
            _scopes: &[&str],
            _options: Option<azure_core::credentials::TokenRequestOptions<'_>>,
        ) -> azure_core::Result<AzAccessToken> {
            panic!("The `reqwest` feature is required to use the default HTTP client.")
        }
    }

    #[test]
    fn a_panic_for_want_of_a_transport_in_a_token_request_is_an_error() {
        let err = AzureTokenCredential::new(Arc::new(NoTransport))
            .get_token(&["https://containerregistry.azure.net/.default"])
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("no HTTP transport") && text.contains("Credential::azure_with"),
            "{text}"
        );
    }
}
