//! Whether a registry indexes referrers itself (the OCI 1.1 referrers API), or a client must keep
//! the tag-schema index (`sha256-<hex>`) for it.

use super::Client;
use crate::digest::Digest;
use crate::error::Result;
use crate::http::{Method, Request};
use crate::manifest::media_type;
use crate::pipeline::repository_scope;
use crate::reference::validate_repository;

impl Client {
    /// Whether the registry serves the referrers API in `repository`: asks for the referrers of
    /// `digest` (`GET /v2/{name}/referrers/{digest}`). A registry with the API answers 200 even
    /// for a digest it does not have (OCI distribution spec 1.1); 404 means it has none.
    ///
    /// ```no_run
    /// # use azcontainerregistry::{Client, ClientOptions, Credential, Digest};
    /// # let client = Client::new(
    /// #     "https://r.azurecr.io",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// let image = Digest::of(b"{}"); // the digest of a manifest
    /// if !client.has_referrers_api("hello-world", &image)? {
    ///     println!("referrers are listed under the tag sha256-{}", image.hex());
    /// }
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn has_referrers_api(&self, repository: &str, digest: &Digest) -> Result<bool> {
        validate_repository(repository)?;
        let url = self
            .pipeline
            .url(&format!("/v2/{repository}/referrers/{digest}"))?;
        let req = Request::new(Method::GET, url)
            .header("Accept", media_type::OCI_INDEX)
            .scope(repository_scope(repository, "pull"));
        let resp = self.pipeline.send(req)?;
        match resp.status {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(resp.into_error()),
        }
    }
}
