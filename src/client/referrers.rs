//! Referrers (OCI 1.1): the manifests whose `subject` is a given manifest (signatures, SBOMs,
//! attestations), through `GET /v2/{name}/referrers/{digest}`, or, on registries without that API,
//! the tag-schema fallback: an index stored under the tag `sha256-<hex>`.

use std::collections::HashSet;

use super::Client;
use super::pager::{DEFAULT_MAX_PAGES, visit_key};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::http::{Method, Request, link, query_of};
use crate::manifest::{Descriptor, ImageIndex, Manifest, media_type};
use crate::pipeline::repository_scope;
use crate::redact;
use crate::reference::validate_repository;

const INDEX_LIMIT: u64 = 4 * 1024 * 1024;

/// Options of [`Client::list_referrers_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListReferrersOptions {
    /// Only the referrers of this artifact type (`artifactType`).
    pub artifact_type: Option<String>,
    /// Pages fetched at most before the listing stops with [`Error::Redirect`]; `None` is
    /// [`DEFAULT_MAX_PAGES`](crate::pager::DEFAULT_MAX_PAGES) (10,000). A next link back to a page
    /// already fetched stops it at once, whatever the bound.
    pub max_pages: Option<u32>,
    /// Referrers collected at most before the listing stops with [`Error::Redirect`]; `None` is
    /// [`DEFAULT_MAX_REFERRERS`] (100,000): the listing is held in memory, so its size is bounded
    /// by count as well as by pages.
    pub max_referrers: Option<usize>,
}

/// The default bound of [`ListReferrersOptions::max_referrers`].
pub const DEFAULT_MAX_REFERRERS: usize = 100_000;

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
        let options = ListReferrersOptions {
            artifact_type: artifact_type.map(str::to_string),
            ..Default::default()
        };
        self.list_referrers_with(repository, digest, &options)
    }

    /// [`list_referrers`](Self::list_referrers) with options: the artifact type and the page bound.
    /// A next link back to a page already fetched, or more than `max_pages` pages, ends in
    /// [`Error::Redirect`].
    ///
    /// ```no_run
    /// # use azcontainerregistry::{Client, ClientOptions, Credential, Digest};
    /// use azcontainerregistry::ListReferrersOptions;
    /// # let client = Client::new(
    /// #     "https://r.azurecr.io",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// let image = Digest::of(b"{}"); // the digest of a manifest
    /// let options = ListReferrersOptions {
    ///     max_pages: Some(10),
    ///     ..Default::default()
    /// };
    /// let referrers = client.list_referrers_with("hello-world", &image, &options)?;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn list_referrers_with(
        &self,
        repository: &str,
        digest: &Digest,
        options: &ListReferrersOptions,
    ) -> Result<Vec<Descriptor>> {
        let artifact_type = options.artifact_type.as_deref();
        let max_pages = options.max_pages.unwrap_or(DEFAULT_MAX_PAGES);
        let max_referrers = options.max_referrers.unwrap_or(DEFAULT_MAX_REFERRERS);
        if max_pages == 0 {
            return Err(Error::invalid(
                "max_pages",
                "0",
                "a listing may fetch at least 1 page",
            ));
        }
        validate_repository(repository)?;
        let mut path = format!("/v2/{repository}/referrers/{digest}");
        if artifact_type.is_some() {
            path = format!("{path}?{}", query_of(&[("artifactType", artifact_type)]));
        }
        let mut url = self.pipeline.url(&path)?;
        let mut out = Vec::new();
        let mut visited = HashSet::new();
        loop {
            if !visited.insert(visit_key(&url)) {
                return Err(Error::Redirect {
                    what: "next-page link",
                    url: redact::url(url.as_str()),
                    reason: "it leads back to a page of this listing already fetched (a loop)",
                });
            }
            if visited.len() > max_pages as usize {
                return Err(Error::Redirect {
                    what: "next-page link",
                    url: redact::url(url.as_str()),
                    reason: "the listing reached its page bound (max_pages in the list options)",
                });
            }
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
                    if out.len() > max_referrers {
                        return Err(Error::Redirect {
                            what: "referrers listing",
                            url: redact::url(self.pipeline.endpoint().as_str()),
                            reason: "it holds more referrers than the bound (max_referrers in the \
                                     list options)",
                        });
                    }
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
