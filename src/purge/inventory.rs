//! What a registry holds, as far as a purge needs it: for each repository its tags (digest, time,
//! lock) and its manifests (tags, children, subject), read through ACR's `/acr/v1` listings or,
//! on other registries, from the manifests and image configs themselves.

use std::collections::HashMap;
use std::io::Read;

use super::pool;
use crate::blob::BlobClient;
use crate::client::{Client, ListManifestsOptions, ListNamesOptions, ListTagsOptions};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::manifest::Manifest;
use crate::models::{ChangeableAttributes, Timestamp};

/// The page size asked for: the most ACR answers in one page (distribution's catalog caps at the
/// same).
pub(crate) const PAGE_SIZE: u32 = 1000;
/// Image configs are read up to this size.
const CONFIG_LIMIT: u64 = 4 * 1024 * 1024;
/// The annotation an OCI manifest may carry its creation time in.
const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";

/// A tag: where it points, when it last changed, whether it is locked.
#[derive(Debug, Clone)]
pub(crate) struct TagFacts {
    pub name: String,
    pub digest: Digest,
    pub updated: Option<Timestamp>,
    pub locked: bool,
}

/// A manifest: its tags, the manifests it lists (an index), and the manifest it refers to.
#[derive(Debug, Clone)]
pub(crate) struct ManifestFacts {
    pub digest: Digest,
    pub media_type: Option<String>,
    pub updated: Option<Timestamp>,
    pub locked: bool,
    pub tags: Vec<String>,
    pub children: Vec<Digest>,
    pub subject: Option<Digest>,
}

/// One repository's tags and (on ACR, when asked for) manifests.
#[derive(Debug, Clone, Default)]
pub(crate) struct RepoFacts {
    pub name: String,
    pub tags: Vec<TagFacts>,
    pub manifests: Vec<ManifestFacts>,
}

/// Locked as acr-cli reads it: delete or write disabled.
fn locked(a: &ChangeableAttributes) -> bool {
    a.can_delete == Some(false) || a.can_write == Some(false)
}

/// The repository names: ACR's catalog or the OCI `_catalog`, at the largest page size.
pub(crate) fn repositories(client: &Client, acr: bool) -> Result<Vec<String>> {
    let options = ListNamesOptions {
        page_size: Some(PAGE_SIZE),
        ..Default::default()
    };
    if acr {
        client.list_repositories(options).collect()
    } else {
        client.list_catalog(options).collect()
    }
}

/// An ACR repository from `/acr/v1`: every tag, and every manifest when `manifests`.
pub(crate) fn acr_repository(client: &Client, name: &str, manifests: bool) -> Result<RepoFacts> {
    let tag_options = ListTagsOptions {
        page_size: Some(PAGE_SIZE),
        ..Default::default()
    };
    let tags = client
        .list_tags(name, tag_options)
        .map(|t| {
            t.map(|t| TagFacts {
                locked: locked(&t.changeable_attributes),
                updated: t.last_updated_on.clone(),
                name: t.name,
                digest: t.digest,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut repo = RepoFacts {
        name: name.to_string(),
        tags,
        manifests: Vec::new(),
    };
    if manifests {
        let options = ListManifestsOptions {
            page_size: Some(PAGE_SIZE),
            ..Default::default()
        };
        for m in client.list_manifests(name, options) {
            let m = m?;
            repo.manifests.push(ManifestFacts {
                locked: locked(&m.changeable_attributes),
                updated: m.last_updated_on.clone(),
                media_type: m.media_type.clone(),
                children: m
                    .related_artifacts
                    .iter()
                    .map(|r| r.digest.clone())
                    .collect(),
                tags: m.tags,
                digest: m.digest,
                subject: None,
            });
        }
    }
    Ok(repo)
}

/// The `subject` of a manifest (what it is a signature, SBOM, … of), by fetching it; `None` when it
/// has none or is gone.
pub(crate) fn subject_of(
    client: &Client,
    repository: &str,
    digest: &Digest,
) -> Result<Option<Digest>> {
    match client.get_manifest(repository, digest) {
        Ok(m) => Ok(m.manifest()?.subject().map(|d| d.digest.clone())),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// The digests of the referrers of a manifest (referrers API, or the tag-schema fallback).
pub(crate) fn referrers_of(
    client: &Client,
    repository: &str,
    digest: &Digest,
) -> Result<Vec<Digest>> {
    Ok(client
        .list_referrers(repository, digest, None)?
        .into_iter()
        .map(|d| d.digest)
        .collect())
}

/// Reads repositories of any registry through the OCI API, with a cache of manifests and of image
/// config times per digest (one fetch each).
pub(crate) struct OciReader<'a> {
    client: &'a Client,
    blobs: BlobClient,
    manifests: HashMap<(String, Digest), Option<Manifest>>,
    created: HashMap<(String, Digest), Option<Timestamp>>,
}

impl<'a> OciReader<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        OciReader {
            client,
            blobs: client.blob_client(),
            manifests: HashMap::new(),
            created: HashMap::new(),
        }
    }

    /// Every tag of `name` with its digest (one manifest fetch per tag), the manifests they name
    /// (tags, children, subject), and ages for the tags `wanted` says need one.
    pub(crate) fn repository(
        &mut self,
        name: &str,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<RepoFacts> {
        let options = ListNamesOptions {
            page_size: Some(PAGE_SIZE),
            ..Default::default()
        };
        let names = self
            .client
            .list_tag_names(name, options)
            .collect::<Result<Vec<_>>>()?;
        let mut repo = RepoFacts {
            name: name.to_string(),
            ..Default::default()
        };
        let mut by_digest: HashMap<Digest, usize> = HashMap::new();
        let client = self.client;
        let fetched = pool::map(&names, pool::LOOKUP_THREADS, |t| {
            client.get_manifest(name, t)
        });
        for (tag, response) in names.into_iter().zip(fetched) {
            let response = match response {
                Ok(r) => r,
                Err(e) if e.is_not_found() => continue, // deleted since the listing
                Err(e) => return Err(e),
            };
            let digest = response.digest.clone();
            let media_type = response.media_type.clone();
            let manifest = response.manifest()?;
            let key = (name.to_string(), digest.clone());
            let i = match by_digest.get(&digest) {
                Some(i) => *i,
                None => {
                    let children = match &manifest {
                        Manifest::Index(index) => {
                            index.manifests.iter().map(|d| d.digest.clone()).collect()
                        }
                        _ => Vec::new(),
                    };
                    repo.manifests.push(ManifestFacts {
                        digest: digest.clone(),
                        media_type: Some(media_type),
                        updated: None,
                        locked: false,
                        tags: Vec::new(),
                        children,
                        subject: manifest.subject().map(|d| d.digest.clone()),
                    });
                    self.manifests.insert(key, Some(manifest));
                    by_digest.insert(digest.clone(), repo.manifests.len() - 1);
                    repo.manifests.len() - 1
                }
            };
            let updated = if wanted(&tag) {
                if repo.manifests[i].updated.is_none() {
                    repo.manifests[i].updated = self.created(name, &digest, 0)?;
                }
                repo.manifests[i].updated.clone()
            } else {
                None
            };
            repo.manifests[i].tags.push(tag.clone());
            repo.tags.push(TagFacts {
                name: tag,
                digest,
                updated,
                locked: false,
            });
        }
        Ok(repo)
    }

    /// A manifest by digest, fetched once.
    fn manifest(&mut self, repository: &str, digest: &Digest) -> Result<Option<Manifest>> {
        let key = (repository.to_string(), digest.clone());
        if let Some(m) = self.manifests.get(&key) {
            return Ok(m.clone());
        }
        let m = match self.client.get_manifest(repository, digest) {
            Ok(r) => Some(r.manifest()?),
            Err(e) if e.is_not_found() => None,
            Err(e) => Err(e)?,
        };
        self.manifests.insert(key, m.clone());
        Ok(m)
    }

    /// When a manifest was made: its `org.opencontainers.image.created` annotation, else its image
    /// config's `created`, else (an index) the newest of its children's.
    fn created(
        &mut self,
        repository: &str,
        digest: &Digest,
        depth: usize,
    ) -> Result<Option<Timestamp>> {
        let key = (repository.to_string(), digest.clone());
        if let Some(t) = self.created.get(&key) {
            return Ok(t.clone());
        }
        let Some(manifest) = self.manifest(repository, digest)? else {
            return Ok(None);
        };
        let annotations = match &manifest {
            Manifest::Image(m) => &m.annotations,
            Manifest::Index(i) => &i.annotations,
            Manifest::Artifact(a) => &a.annotations,
        };
        let annotated = annotations
            .as_ref()
            .and_then(|a| a.get(CREATED_ANNOTATION))
            .and_then(|t| Timestamp::parse(t).ok());
        let time = match (annotated, &manifest) {
            (Some(t), _) => Some(t),
            (None, Manifest::Image(m)) => self.config_created(repository, &m.config.digest)?,
            (None, Manifest::Index(index)) if depth < 4 => {
                let mut newest: Option<Timestamp> = None;
                for child in &index.manifests {
                    let t = self.created(repository, &child.digest, depth + 1)?;
                    newest = newest.max(t);
                }
                newest
            }
            _ => None,
        };
        self.created.insert(key, time.clone());
        Ok(time)
    }

    /// The `created` field of an image config blob (fetched once per digest, bounded).
    fn config_created(&mut self, repository: &str, digest: &Digest) -> Result<Option<Timestamp>> {
        let key = (repository.to_string(), digest.clone());
        if let Some(t) = self.created.get(&key) {
            return Ok(t.clone());
        }
        #[derive(serde::Deserialize)]
        struct Config {
            #[serde(default)]
            created: Option<String>,
        }
        let reader = match self.blobs.get_blob(repository, digest) {
            Ok(r) => r,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut bytes = Vec::new();
        reader.take(CONFIG_LIMIT + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > CONFIG_LIMIT {
            return Err(Error::TooLarge {
                what: "image config",
                limit: CONFIG_LIMIT,
            });
        }
        // a config that is not JSON, or has no time, gives no age (the tag is then kept)
        let time = serde_json::from_slice::<Config>(&bytes)
            .ok()
            .and_then(|c| c.created)
            .and_then(|t| Timestamp::parse(&t).ok());
        self.created.insert(key, time.clone());
        Ok(time)
    }
}
