//! [`Client`]: the registry client. Metadata operations (`/acr/v1`, ACR only) live in
//! [`crate::metadata`]; manifest operations (`/v2`, every registry) in [`crate::manifests`]; blobs in
//! [`BlobClient`], which shares this client's pipeline and token cache.

use crate::blob::BlobClient;
use crate::credential::Credential;
use crate::error::Result;
use crate::options::ClientOptions;
use crate::pipeline::Pipeline;

/// A client for one registry. Cheap to clone; `Send + Sync`; clones share one connection pool and token
/// cache.
///
/// ```no_run
/// use azcontainerregistry::{Client, ClientOptions, Credential};
/// let client = Client::new("https://myregistry.azurecr.io", Credential::anonymous(), ClientOptions::default())?;
/// # let _ = client;
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    pub(crate) pipeline: Pipeline,
}

impl Client {
    /// A client for the registry at `endpoint` (`https://myregistry.azurecr.io`; a bare host means https;
    /// plain `http://` is accepted for loopback hosts, elsewhere only with [`ClientOptions::allow_http`]).
    pub fn new(endpoint: &str, credential: Credential, options: ClientOptions) -> Result<Self> {
        Ok(Client {
            pipeline: Pipeline::new(endpoint, credential, &options)?,
        })
    }

    /// The registry's endpoint URL.
    pub fn endpoint(&self) -> &str {
        self.pipeline.endpoint().as_str()
    }

    /// A [`BlobClient`] for the same registry, sharing this client's connections and tokens.
    pub fn blob_client(&self) -> BlobClient {
        BlobClient {
            pipeline: self.pipeline.clone(),
        }
    }
}
