//! The ACR metadata operations of [`Client`] (`/acr/v1`, Azure Container Registry only): list,
//! read, update and delete repositories, tags and manifests. Manifest deletion uses `/v2` and works
//! on every registry: it is in `v2.rs`.

use super::Client;
use super::catalog::ListNamesOptions;
use super::pager::{Pager, first_page};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::http::{Body, Method, Request, encode_segment};
use crate::models::{
    ArtifactManifestProperties, ArtifactOrder, ArtifactTagProperties, DeleteRepositoryResult,
    ManifestAttributes, ManifestList, ManifestWriteableProperties, RepositoryList,
    RepositoryProperties, RepositoryWriteableProperties, TagAttributes, TagList,
    TagWriteableProperties,
};
use crate::pipeline::repository_scope;
use crate::reference::{TagOrDigest, validate_repository, validate_tag};

const API_VERSION: &str = crate::credential::acr::API_VERSION;
/// Metadata answers are read up to this size.
const JSON_LIMIT: u64 = 4 * 1024 * 1024;

/// Options of [`Client::list_repositories`]: the same as those of the `/v2` catalog (`None` page
/// size lets the registry choose; ACR caps pages at 1000).
pub type ListRepositoriesOptions = ListNamesOptions;

/// Options of [`Client::list_tags`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListTagsOptions {
    /// Items per page (`n`).
    pub page_size: Option<u32>,
    /// Start after this tag (`last`).
    pub last: Option<String>,
    /// Order by last update time (`orderby`).
    pub order_by: Option<ArtifactOrder>,
    /// Only the tags of this manifest (`digest`).
    pub digest: Option<Digest>,
    /// Resume from a [`Page::continuation`](crate::Page::continuation); overrides the other
    /// fields.
    pub continuation: Option<String>,
    /// Pages fetched at most before the listing stops with [`Error::Redirect`]; `None` is
    /// [`DEFAULT_MAX_PAGES`](crate::pager::DEFAULT_MAX_PAGES) (10,000). A next link back to a page
    /// already fetched stops it at once, whatever the bound.
    pub max_pages: Option<u32>,
}

/// Options of [`Client::list_manifests`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListManifestsOptions {
    /// Items per page (`n`).
    pub page_size: Option<u32>,
    /// Start after this digest (`last`).
    pub last: Option<String>,
    /// Order by last update time (`orderby`).
    pub order_by: Option<ArtifactOrder>,
    /// Resume from a [`Page::continuation`](crate::Page::continuation); overrides the other
    /// fields.
    pub continuation: Option<String>,
    /// Pages fetched at most before the listing stops with [`Error::Redirect`]; `None` is
    /// [`DEFAULT_MAX_PAGES`](crate::pager::DEFAULT_MAX_PAGES) (10,000). A next link back to a page
    /// already fetched stops it at once, whatever the bound.
    pub max_pages: Option<u32>,
}

fn decode<T: serde::de::DeserializeOwned>(what: &'static str) -> impl Fn(&[u8]) -> Result<T> {
    move |b| serde_json::from_slice(b).map_err(|e| Error::decode(what, e))
}

impl Client {
    fn acr_path(repository: &str, rest: &str) -> String {
        format!("/acr/v1/{}{rest}", encode_segment(repository))
    }

    fn acr_json<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: String,
        scope: String,
        body: Option<Vec<u8>>,
        what: &'static str,
    ) -> Result<T> {
        let url = self
            .pipeline
            .url(&format!("{path}?api-version={API_VERSION}"))?;
        let mut req = Request::new(method, url)
            .header("Accept", "application/json")
            .scope(scope);
        if let Some(b) = &body {
            req = req
                .header("Content-Type", "application/json")
                .body(Body::Bytes(b));
        }
        self.pipeline
            .send(req)?
            .expect(&[200])?
            .json(what, JSON_LIMIT)
    }

    /// Lists the repositories of the registry (`GET /acr/v1/_catalog`), lazily, page by page.
    ///
    /// ```no_run
    /// # use azcontainerregistry::{Client, ClientOptions, Credential, ListRepositoriesOptions};
    /// # let client = Client::new(
    /// #     "https://r.azurecr.io",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// for name in client.list_repositories(ListRepositoriesOptions::default()) {
    ///     println!("{}", name?);
    /// }
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn list_repositories(&self, options: ListRepositoriesOptions) -> Pager<String> {
        let path = "/acr/v1/_catalog";
        let first = first_page(
            path,
            options.page_size,
            options.continuation.as_deref(),
            &[
                ("last", options.last.as_deref()),
                ("api-version", Some(API_VERSION)),
            ],
        );
        Pager::new(
            self.pipeline.clone(),
            path,
            first,
            "registry:catalog:*".into(),
            options.max_pages,
            |b| decode::<RepositoryList>("repository list")(b).map(|l| l.names),
        )
    }

    /// The properties of a repository (`GET /acr/v1/{name}`).
    ///
    /// ```no_run
    /// # use azcontainerregistry::{Client, ClientOptions, Credential};
    /// # let client = Client::new(
    /// #     "https://r.azurecr.io",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// let props = client.get_repository_properties("hello-world")?;
    /// println!(
    ///     "{} manifests, {} tags",
    ///     props.manifest_count, props.tag_count
    /// );
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn get_repository_properties(&self, repository: &str) -> Result<RepositoryProperties> {
        validate_repository(repository)?;
        let scope = repository_scope(repository, "metadata_read");
        self.acr_json(
            Method::GET,
            Self::acr_path(repository, ""),
            scope,
            None,
            "repository properties",
        )
    }

    /// Sets the read/write/delete/list permissions of a repository (`PATCH /acr/v1/{name}`); only
    /// the fields that are `Some` are sent.
    ///
    /// ```no_run
    /// # use azcontainerregistry::{Client, ClientOptions, Credential};
    /// # use azcontainerregistry::RepositoryWriteableProperties;
    /// # let client = Client::new(
    /// #     "https://r.azurecr.io",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// let locked = RepositoryWriteableProperties {
    ///     can_delete: Some(false),
    ///     can_write: Some(false),
    ///     ..Default::default()
    /// };
    /// client.update_repository_properties("hello-world", &locked)?;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn update_repository_properties(
        &self,
        repository: &str,
        properties: &RepositoryWriteableProperties,
    ) -> Result<RepositoryProperties> {
        validate_repository(repository)?;
        let body = serde_json::to_vec(properties).map_err(|e| Error::decode("properties", e))?;
        let scope = repository_scope(repository, "metadata_write");
        self.acr_json(
            Method::PATCH,
            Self::acr_path(repository, ""),
            scope,
            Some(body),
            "repository properties",
        )
    }

    /// Deletes a repository with all its tags and manifests (`DELETE /acr/v1/{name}`). A repository
    /// that does not exist counts as deleted (the result is then empty).
    ///
    /// ```no_run
    /// # use azcontainerregistry::{Client, ClientOptions, Credential};
    /// # let client = Client::new(
    /// #     "https://r.azurecr.io",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// let gone = client.delete_repository("old-app")?;
    /// println!("{} manifests deleted", gone.deleted_manifests.len());
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn delete_repository(&self, repository: &str) -> Result<DeleteRepositoryResult> {
        validate_repository(repository)?;
        let url = self.pipeline.url(&format!(
            "{}?api-version={API_VERSION}",
            Self::acr_path(repository, "")
        ))?;
        let req = Request::new(Method::DELETE, url)
            .header("Accept", "application/json")
            .scope(repository_scope(repository, "delete"));
        let resp = self.pipeline.send(req)?;
        match resp.status {
            404 => Ok(DeleteRepositoryResult::default()),
            200 | 202 => {
                let bytes = resp.bytes("delete result", JSON_LIMIT)?;
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    return Ok(DeleteRepositoryResult::default());
                }
                serde_json::from_slice(&bytes).map_err(|e| Error::decode("delete result", e))
            }
            _ => Err(resp.into_error()),
        }
    }

    /// Lists the tags of a repository with their properties (`GET /acr/v1/{name}/_tags`),
    /// optionally ordered by time or restricted to one manifest.
    ///
    /// ```no_run
    /// # use azcontainerregistry::{Client, ClientOptions, Credential};
    /// use azcontainerregistry::{ArtifactOrder, ListTagsOptions};
    /// # let client = Client::new(
    /// #     "https://r.azurecr.io",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// let newest = ListTagsOptions {
    ///     order_by: Some(ArtifactOrder::LastUpdatedOnDescending),
    ///     ..Default::default()
    /// };
    /// for tag in client.list_tags("hello-world", newest).take(5) {
    ///     let tag = tag?;
    ///     println!("{} -> {}", tag.name, tag.digest);
    /// }
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn list_tags(&self, repository: &str, options: ListTagsOptions) -> Pager<TagAttributes> {
        let path = Self::acr_path(repository, "/_tags");
        let digest = options.digest.as_ref().map(Digest::as_str);
        let first = validate_repository(repository).and_then(|()| {
            first_page(
                &path,
                options.page_size,
                options.continuation.as_deref(),
                &[
                    ("last", options.last.as_deref()),
                    ("orderby", options.order_by.map(|o| o.as_query_value())),
                    ("digest", digest),
                    ("api-version", Some(API_VERSION)),
                ],
            )
        });
        let scope = repository_scope(repository, "metadata_read");
        Pager::new(
            self.pipeline.clone(),
            &path,
            first,
            scope,
            options.max_pages,
            |b| decode::<TagList>("tag list")(b).map(|l| l.tags),
        )
    }

    /// The properties of a tag (`GET /acr/v1/{name}/_tags/{tag}`).
    ///
    /// ```no_run
    /// # use azcontainerregistry::{Client, ClientOptions, Credential};
    /// # let client = Client::new(
    /// #     "https://r.azurecr.io",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// let tag = client.get_tag_properties("hello-world", "latest")?;
    /// println!("latest is {}", tag.tag.digest);
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn get_tag_properties(&self, repository: &str, tag: &str) -> Result<ArtifactTagProperties> {
        validate_repository(repository)?;
        validate_tag(tag)?;
        let path = Self::acr_path(repository, &format!("/_tags/{}", encode_segment(tag)));
        self.acr_json(
            Method::GET,
            path,
            repository_scope(repository, "metadata_read"),
            None,
            "tag properties",
        )
    }

    /// Sets the permissions of a tag (`PATCH /acr/v1/{name}/_tags/{tag}`); only the fields that are
    /// `Some` are sent. Returns the tag's properties as the registry now holds them (ACR answers
    /// with the same `{registry, imageName, tag}` shape as
    /// [`get_tag_properties`](Self::get_tag_properties)).
    ///
    /// ```no_run
    /// # use azcontainerregistry::{Client, ClientOptions, Credential, TagWriteableProperties};
    /// # let client = Client::new(
    /// #     "https://r.azurecr.io",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// let keep = TagWriteableProperties {
    ///     can_delete: Some(false),
    ///     ..Default::default()
    /// };
    /// client.update_tag_properties("hello-world", "latest", &keep)?;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn update_tag_properties(
        &self,
        repository: &str,
        tag: &str,
        properties: &TagWriteableProperties,
    ) -> Result<ArtifactTagProperties> {
        validate_repository(repository)?;
        validate_tag(tag)?;
        let body = serde_json::to_vec(properties).map_err(|e| Error::decode("properties", e))?;
        let path = Self::acr_path(repository, &format!("/_tags/{}", encode_segment(tag)));
        self.acr_json(
            Method::PATCH,
            path,
            repository_scope(repository, "metadata_write"),
            Some(body),
            "tag properties",
        )
    }

    /// Deletes a tag (`DELETE /acr/v1/{name}/_tags/{tag}`); the manifest stays. A tag that does not
    /// exist counts as deleted.
    ///
    /// ```no_run
    /// # use azcontainerregistry::{Client, ClientOptions, Credential};
    /// # let client = Client::new(
    /// #     "https://r.azurecr.io",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// client.delete_tag("hello-world", "old")?;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn delete_tag(&self, repository: &str, tag: &str) -> Result<()> {
        validate_repository(repository)?;
        validate_tag(tag)?;
        let path = Self::acr_path(repository, &format!("/_tags/{}", encode_segment(tag)));
        let url = self
            .pipeline
            .url(&format!("{path}?api-version={API_VERSION}"))?;
        let req = Request::new(Method::DELETE, url).scope(repository_scope(repository, "delete"));
        let resp = self.pipeline.send(req)?;
        match resp.status {
            200 | 202 | 204 | 404 => Ok(()),
            _ => Err(resp.into_error()),
        }
    }

    /// Lists the manifests of a repository with their properties (`GET /acr/v1/{name}/_manifests`).
    ///
    /// ```no_run
    /// # use azcontainerregistry::{Client, ClientOptions, Credential};
    /// use azcontainerregistry::{ArtifactOrder, ListManifestsOptions};
    /// # let client = Client::new(
    /// #     "https://r.azurecr.io",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// let options = ListManifestsOptions {
    ///     order_by: Some(ArtifactOrder::LastUpdatedOnDescending),
    ///     ..Default::default()
    /// };
    /// for m in client.list_manifests("hello-world", options) {
    ///     let m = m?;
    ///     println!("{} {:?}", m.digest, m.tags);
    /// }
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn list_manifests(
        &self,
        repository: &str,
        options: ListManifestsOptions,
    ) -> Pager<ManifestAttributes> {
        let path = Self::acr_path(repository, "/_manifests");
        let first = validate_repository(repository).and_then(|()| {
            first_page(
                &path,
                options.page_size,
                options.continuation.as_deref(),
                &[
                    ("last", options.last.as_deref()),
                    ("orderby", options.order_by.map(|o| o.as_query_value())),
                    ("api-version", Some(API_VERSION)),
                ],
            )
        });
        let scope = repository_scope(repository, "metadata_read");
        Pager::new(
            self.pipeline.clone(),
            &path,
            first,
            scope,
            options.max_pages,
            |b| decode::<ManifestList>("manifest list")(b).map(|l| l.attributes),
        )
    }

    /// The properties of a manifest (`GET /acr/v1/{name}/_manifests/{digest}`). A tag is accepted
    /// too: it is resolved to its digest first.
    ///
    /// ```no_run
    /// # use azcontainerregistry::{Client, ClientOptions, Credential};
    /// # let client = Client::new(
    /// #     "https://r.azurecr.io",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// let m = client.get_manifest_properties("hello-world", "latest")?;
    /// let m = m.manifest;
    /// println!("{} {:?}/{:?}", m.digest, m.operating_system, m.architecture);
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn get_manifest_properties(
        &self,
        repository: &str,
        reference: impl AsRef<str>,
    ) -> Result<ArtifactManifestProperties> {
        let digest = self.metadata_digest(repository, reference.as_ref())?;
        let path = Self::acr_path(
            repository,
            &format!("/_manifests/{}", encode_segment(digest.as_str())),
        );
        self.acr_json(
            Method::GET,
            path,
            repository_scope(repository, "metadata_read"),
            None,
            "manifest properties",
        )
    }

    /// Sets the permissions of a manifest (`PATCH /acr/v1/{name}/_manifests/{digest}`); a tag is
    /// resolved to its digest first. Only the fields that are `Some` are sent. Returns the
    /// manifest's properties as the registry now holds them (the `{registry, imageName,
    /// manifest}` shape of [`get_manifest_properties`](Self::get_manifest_properties)).
    ///
    /// ```no_run
    /// # use azcontainerregistry::{Client, ClientOptions, Credential, ManifestWriteableProperties};
    /// # let client = Client::new(
    /// #     "https://r.azurecr.io",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// let frozen = ManifestWriteableProperties {
    ///     can_write: Some(false),
    ///     can_delete: Some(false),
    ///     ..Default::default()
    /// };
    /// client.update_manifest_properties("hello-world", "latest", &frozen)?;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn update_manifest_properties(
        &self,
        repository: &str,
        reference: impl AsRef<str>,
        properties: &ManifestWriteableProperties,
    ) -> Result<ArtifactManifestProperties> {
        let digest = self.metadata_digest(repository, reference.as_ref())?;
        let body = serde_json::to_vec(properties).map_err(|e| Error::decode("properties", e))?;
        let path = Self::acr_path(
            repository,
            &format!("/_manifests/{}", encode_segment(digest.as_str())),
        );
        let scope = repository_scope(repository, "metadata_write");
        self.acr_json(
            Method::PATCH,
            path,
            scope,
            Some(body),
            "manifest properties",
        )
    }

    /// A digest for the metadata API: the reference itself, or the tag's digest from its ACR
    /// properties.
    fn metadata_digest(&self, repository: &str, reference: &str) -> Result<Digest> {
        validate_repository(repository)?;
        match TagOrDigest::parse(reference)? {
            TagOrDigest::Digest(d) => Ok(d),
            TagOrDigest::Tag(tag) => Ok(self.get_tag_properties(repository, &tag)?.tag.digest),
        }
    }
}
