//! [`Client`]: the registry client, one method per operation.
//!
//! | file | operations |
//! |---|---|
//! | `acr.rs` | ACR's `/acr/v1`: list, read, update, delete repositories, tags, manifests |
//! | `v2.rs` | `/v2/{name}/manifests`: get, exists, upload, delete (every registry) |
//! | `catalog.rs` | `/v2/_catalog` and `/v2/{name}/tags/list` (every registry) |
//! | `referrers.rs` | `/v2/{name}/referrers/{digest}`, with the tag-schema fallback |
//! | `referrers_api.rs` | whether a registry serves the referrers API |
//! | `pager.rs` | [`Pager`](crate::Pager): listings as iterators, where a listing starts |
//!
//! Blobs are [`BlobClient`](crate::BlobClient)'s, which shares this client's pipeline and token
//! cache ([`Client::blob_client`]).

mod acr;
mod catalog;
pub mod pager;
mod referrers;
mod referrers_api;
mod v2;

// Everything public in the operation files (their options and answers) is part of the API; the
// globs spare a new operation an edit here and in lib.rs.
pub use acr::*;
pub use catalog::*;
pub use referrers::*;
pub use v2::*;

use crate::credential::Credential;
use crate::error::Result;
use crate::http::{Method, Request};
use crate::options::ClientOptions;
use crate::pipeline::Pipeline;

/// A client for one registry. Cheap to clone; `Send + Sync`; clones share one connection pool and
/// token cache.
///
/// ```no_run
/// use azcontainerregistry::{Client, ClientOptions, Credential};
/// let client = Client::new(
///     "https://myregistry.azurecr.io",
///     Credential::anonymous(),
///     ClientOptions::default(),
/// )?;
/// # let _ = client;
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    pipeline: Pipeline,
}

impl Client {
    /// A client for the registry at `endpoint` (`https://myregistry.azurecr.io`; a bare host means
    /// https; plain `http://` is accepted for loopback hosts, elsewhere only with
    /// [`ClientOptions::allow_http`]).
    pub fn new(endpoint: &str, credential: Credential, options: ClientOptions) -> Result<Self> {
        Ok(Client {
            pipeline: Pipeline::new(endpoint, credential, &options)?,
        })
    }

    /// The registry's endpoint URL.
    pub fn endpoint(&self) -> &str {
        self.pipeline.endpoint().as_str()
    }

    /// Whether the registry is Azure Container Registry (so that its `/acr/v1` operations and
    /// token endpoints are there): as [`ClientOptions::api`] says; with [`Api::Auto`], true for
    /// `*.azurecr.io`/`.cn`/`.us` hosts and Azure AD credentials, and for any other registry whose
    /// challenge names a token realm `/oauth2/token` on the registry's own origin (custom domains,
    /// private endpoints, replays). At most one request (`GET /v2/`) per client, only when a
    /// challenge has not already told; the answer is kept.
    ///
    /// ```no_run
    /// use azcontainerregistry::{Client, ClientOptions, Credential};
    /// let client = Client::new(
    ///     "https://registry.example.com",
    ///     Credential::anonymous(),
    ///     ClientOptions::default(),
    /// )?;
    /// if client.is_acr()? {
    ///     println!("Azure Container Registry behind a custom domain");
    /// }
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    ///
    /// [`Api::Auto`]: crate::Api::Auto
    pub fn is_acr(&self) -> Result<bool> {
        self.pipeline.is_acr()
    }

    /// Checks that the registry answers and takes the client's credential: `GET /v2/`, signing in
    /// as a request without a repository would (what `docker login` does). A credential the
    /// registry refuses is an error with [`Error::is_unauthorized`]; one its token service refuses,
    /// an [`Error::Authentication`].
    ///
    /// [`Error::is_unauthorized`]: crate::Error::is_unauthorized
    /// [`Error::Authentication`]: crate::Error::Authentication
    ///
    /// ```no_run
    /// use azcontainerregistry::{Client, ClientOptions, Credential};
    /// let client = Client::new(
    ///     "https://myregistry.azurecr.io",
    ///     Credential::basic("user", "password"),
    ///     ClientOptions::default(),
    /// )?;
    /// client.check_sign_in()?;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn check_sign_in(&self) -> Result<()> {
        let url = self.pipeline.url("/v2/")?;
        let resp = self.pipeline.send(Request::new(Method::GET, url))?;
        if resp.is_success() {
            return Ok(());
        }
        Err(resp.into_error())
    }

    /// The pipeline, for the layers above (blobs, images) that share it.
    pub(crate) fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }
}
