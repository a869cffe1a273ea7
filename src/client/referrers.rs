//! Referrers (OCI 1.1): the manifests whose `subject` is a given manifest (signatures, SBOMs,
//! attestations), through `GET /v2/{name}/referrers/{digest}`, or, on registries without that API,
//! the tag-schema fallback: an index stored under the tag `sha256-<hex>`.

use super::Client;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::http::{Method, Request, link, query_of};
use crate::manifest::{Descriptor, ImageIndex, Manifest, media_type};
use crate::pipeline::repository_scope;
use crate::reference::validate_repository;

const INDEX_LIMIT: u64 = 4 * 1024 * 1024;
/// Pages of referrers followed at most (a registry must not keep the client looping).
const MAX_PAGES: usize = 1000;

impl Client {
    /// The referrers of the manifest `digest` in `repository`, optionally only those of
    /// `artifact_type`. Uses the referrers API and falls back to the `sha256-<hex>` tag when
    /// the registry answers 404 (distribution 2.8 and older registries); no referrers at all is
    /// an empty list.
    ///
    /// ```no_run
    /// # use azcontainerregistry::{Client, ClientOptions, Credential, Digest};
    /// # let client = Client::new(
    /// #     "https://r.azurecr.io",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// let image = Digest::of(b"{}"); // the digest of a manifest
    /// let signatures = Some("application/vnd.dev.sigstore.bundle.v0.3+json");
    /// for r in client.list_referrers("hello-world", &image, signatures)? {
    ///     println!("{} {:?}", r.digest, r.artifact_type);
    /// }
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn list_referrers(
        &self,
        repository: &str,
        digest: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>> {
        validate_repository(repository)?;
        let mut path = format!("/v2/{repository}/referrers/{digest}");
        if artifact_type.is_some() {
            path = format!("{path}?{}", query_of(&[("artifactType", artifact_type)]));
        }
        let mut url = self.pipeline.url(&path)?;
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let req = Request::new(Method::GET, url)
                .header("Accept", media_type::OCI_INDEX)
                .scope(repository_scope(repository, "pull"));
            let resp = self.pipeline.send(req)?;
            match resp.status {
                200 => {
                    let filtered = resp
                        .header("oci-filters-applied")
                        .is_some_and(|h| h.split(',').any(|f| f.trim() == "artifactType"));
                    let next = link::next_link(resp.header("link"), self.pipeline.endpoint())?;
                    let index: ImageIndex = resp.json("referrers index", INDEX_LIMIT)?;
                    out.extend(keep(index.manifests, artifact_type, filtered));
                    match next {
                        Some(n) => url = n,
                        None => return Ok(out),
                    }
                }
                404 if out.is_empty() => {
                    return self.referrers_by_tag(repository, digest, artifact_type);
                }
                _ => return Err(resp.into_error()),
            }
        }
        Err(Error::decode("referrers", "too many pages"))
    }

    fn referrers_by_tag(
        &self,
        repository: &str,
        digest: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>> {
        let tag = format!("{}-{}", digest.algorithm().as_str(), digest.hex());
        match self.get_manifest(repository, &tag) {
            Ok(m) => match Manifest::from_bytes(&m.media_type, &m.bytes)? {
                Manifest::Index(index) => Ok(keep(index.manifests, artifact_type, false)),
                _ => Err(Error::decode(
                    "referrers",
                    format!("the tag {tag} holds no index"),
                )),
            },
            Err(e) if e.is_not_found() => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}

fn keep(
    manifests: Vec<Descriptor>,
    artifact_type: Option<&str>,
    already_filtered: bool,
) -> Vec<Descriptor> {
    match artifact_type {
        Some(t) if !already_filtered => manifests
            .into_iter()
            .filter(|d| d.artifact_type.as_deref() == Some(t))
            .collect(),
        _ => manifests,
    }
}
