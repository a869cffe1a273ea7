//! The distribution listings every registry has: `GET /v2/_catalog` and `GET /v2/{name}/tags/list`.
//! ACR has them too, but its `/acr/v1` listings ([`Client::list_repositories`],
//! [`Client::list_tags`]) carry properties and ordering; these are for every other registry.

use super::Client;
use super::pager::{Pager, first_page};
use crate::error::Error;
use crate::pipeline::repository_scope;
use crate::reference::validate_repository;

/// Options of [`Client::list_catalog`], [`Client::list_tag_names`] and, under the name
/// [`ListRepositoriesOptions`](crate::ListRepositoriesOptions), [`Client::list_repositories`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListNamesOptions {
    /// Items per page (`n`); `None` lets the registry choose. Some registries (distribution 2.8
    /// for tags) ignore it and answer everything at once.
    pub page_size: Option<u32>,
    /// Start after this name (`last`).
    pub last: Option<String>,
    /// Resume from a [`Page::continuation`](crate::Page::continuation); overrides the other
    /// fields.
    pub continuation: Option<String>,
    /// Pages fetched at most before the listing stops with [`Error::Redirect`]; `None` is
    /// [`DEFAULT_MAX_PAGES`](crate::pager::DEFAULT_MAX_PAGES) (10,000). A next link back to a page
    /// already fetched stops it at once, whatever the bound.
    pub max_pages: Option<u32>,
}

#[derive(serde::Deserialize)]
struct Catalog {
    #[serde(default)]
    repositories: Option<Vec<String>>,
}

#[derive(serde::Deserialize)]
struct TagNames {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

impl Client {
    /// The repository names of any registry (`GET /v2/_catalog`), lazily, page by page.
    ///
    /// ```no_run
    /// # use azcontainerregistry::{Client, ClientOptions, Credential, ListNamesOptions};
    /// let client = Client::new(
    ///     "http://127.0.0.1:5000",
    ///     Credential::anonymous(),
    ///     ClientOptions::default(),
    /// )?;
    /// for name in client.list_catalog(ListNamesOptions::default()) {
    ///     println!("{}", name?);
    /// }
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn list_catalog(&self, options: ListNamesOptions) -> Pager<String> {
        let path = "/v2/_catalog";
        Pager::new(
            self.pipeline.clone(),
            path,
            first_page(
                path,
                options.page_size,
                options.continuation.as_deref(),
                &[("last", options.last.as_deref())],
            ),
            "registry:catalog:*".into(),
            options.max_pages,
            |b| {
                let c: Catalog =
                    serde_json::from_slice(b).map_err(|e| Error::decode("catalog", e))?;
                Ok(c.repositories.unwrap_or_default())
            },
        )
    }

    /// The tag names of a repository on any registry (`GET /v2/{name}/tags/list`), lazily.
    ///
    /// ```no_run
    /// # use azcontainerregistry::{Client, ClientOptions, Credential, ListNamesOptions};
    /// # let client = Client::new(
    /// #     "http://127.0.0.1:5000",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// let tags: Vec<String> = client
    ///     .list_tag_names("hello-world", ListNamesOptions::default())
    ///     .collect::<Result<_, _>>()?;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn list_tag_names(&self, repository: &str, options: ListNamesOptions) -> Pager<String> {
        let path = format!("/v2/{repository}/tags/list");
        let start = validate_repository(repository).and_then(|()| {
            first_page(
                &path,
                options.page_size,
                options.continuation.as_deref(),
                &[("last", options.last.as_deref())],
            )
        });
        Pager::new(
            self.pipeline.clone(),
            &path,
            start,
            repository_scope(repository, "pull"),
            options.max_pages,
            |b| {
                let t: TagNames =
                    serde_json::from_slice(b).map_err(|e| Error::decode("tag list", e))?;
                Ok(t.tags.unwrap_or_default())
            },
        )
    }
}
