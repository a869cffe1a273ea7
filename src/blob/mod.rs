//! [`BlobClient`]: blobs and uploads under `/v2/{name}/blobs`.

use crate::credential::Credential;
use crate::error::Result;
use crate::options::ClientOptions;
use crate::pipeline::Pipeline;

/// A client for the blobs of one registry. Cheap to clone; made with [`BlobClient::new`] or, sharing a
/// [`Client`](crate::Client)'s connections and tokens, with [`Client::blob_client`](crate::Client::blob_client).
///
/// ```no_run
/// use azcontainerregistry::{BlobClient, ClientOptions, Credential};
/// let blobs = BlobClient::new("https://myregistry.azurecr.io", Credential::anonymous(), ClientOptions::default())?;
/// # let _ = blobs;
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BlobClient {
    pub(crate) pipeline: Pipeline,
}

impl BlobClient {
    /// A blob client for the registry at `endpoint` (same rules as [`Client::new`](crate::Client::new)).
    pub fn new(endpoint: &str, credential: Credential, options: ClientOptions) -> Result<Self> {
        Ok(BlobClient {
            pipeline: Pipeline::new(endpoint, credential, &options)?,
        })
    }

    /// The registry's endpoint URL.
    pub fn endpoint(&self) -> &str {
        self.pipeline.endpoint().as_str()
    }
}
