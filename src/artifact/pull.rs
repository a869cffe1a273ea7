//! [`pull`]: an artifact's titled layers as files, through the cache when there is one.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use super::pack::{CONTENT_DIGEST, UNPACK, unpack};
use super::target::registry_key;
use super::title::{check_no_links, safe_paths};
use crate::atomic_file;
use crate::cache::{Cache, TagRecord};
use crate::client::{Client, MAX_MANIFEST_SIZE};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::image::parse_for;
use crate::image::{ProgressFn, Tracker};
use crate::manifest::{Descriptor, Manifest};
use crate::reference::Reference;

/// Options of [`pull`].
#[derive(Clone, Default)]
pub struct PullOptions {
    /// Only layers of these media types (empty: any).
    pub media_types: Vec<String>,
    /// Only layers with these titles (empty: any); a title named here that the artifact lacks
    /// is an error.
    pub titles: Vec<String>,
    /// The cache blobs go through ([`Cache::from_env`] is the shared one); `None`: straight to
    /// the output directory.
    pub cache: Option<Cache>,
    /// Send no request: everything comes from the cache (see [`pull`]).
    pub offline: bool,
    /// Called as blobs move (as for [`image::pull`](crate::image::pull)); a blob served from the
    /// cache is reported skipped.
    pub progress: Option<ProgressFn>,
}

impl std::fmt::Debug for PullOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PullOptions")
            .field("media_types", &self.media_types)
            .field("titles", &self.titles)
            .field("cache", &self.cache)
            .field("offline", &self.offline)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// One file (or directory) [`pull`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PulledFile {
    /// The layer's title.
    pub title: String,
    /// Where it was written.
    pub path: PathBuf,
    /// The layer.
    pub descriptor: Descriptor,
    /// Whether its bytes came from the cache (no blob request).
    pub cached: bool,
    /// Whether it was a packed directory, unpacked at `path`.
    pub unpacked: bool,
}

/// What [`pull`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PullReport {
    /// The manifest's digest.
    pub digest: Digest,
    /// The manifest's `artifactType` (or its config's media type when it has none).
    pub artifact_type: Option<String>,
    /// The files written, in the manifest's order.
    pub files: Vec<PulledFile>,
    /// Offline by tag: the record the digest was taken from.
    pub from_tag_record: Option<TagRecord>,
    /// Whether the manifest came from the cache.
    pub manifest_cached: bool,
}

/// Pulls the artifact `reference` (`repository:tag` or `repository@digest`) into `dir`: every
/// layer with a title (`org.opencontainers.image.title`; untitled layers are skipped, as oras
/// does), or those `options` select by media type or title, is written to `dir/TITLE`, a packed
/// directory unpacked there. Titles that are absolute, hold `..`, clash, or lead through a
/// symbolic link are refused before anything is written. Every byte is verified; each file
/// appears whole or not at all.
///
/// With a [`Cache`], blobs go through it: a blob already there is not requested (so a pull by
/// digest whose blobs and manifest are cached sends no request at all, and one by tag only the
/// manifest's), and files are hard links to the cache's where the filesystem allows. With
/// `offline`, no request is sent: by digest, what the cache lacks is an [`Error::Offline`]
/// naming the digest; by tag, the digest the cache last recorded for the tag is used (logged at
/// `warn`, and in [`PullReport::from_tag_record`]).
///
/// ```no_run
/// use azcontainerregistry::{Client, ClientOptions, Credential, artifact, cache::Cache};
/// let client = Client::new(
///     "https://myregistry.azurecr.io",
///     Credential::anonymous(),
///     ClientOptions::default(),
/// )?;
/// let options = artifact::PullOptions {
///     cache: Some(Cache::from_env()?),
///     ..Default::default()
/// };
/// let report = artifact::pull(&client, "tools/protoc:25.1", "tools", options)?;
/// for f in &report.files {
///     println!("{}", f.path.display());
/// }
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
pub fn pull(
    client: &Client,
    reference: &str,
    dir: impl AsRef<Path>,
    options: PullOptions,
) -> Result<PullReport> {
    let dir = dir.as_ref();
    let r = parse_for(client, reference)?;
    if options.offline && options.cache.is_none() {
        return Err(Error::Config(
            "an offline pull needs a cache to read from".to_string(),
        ));
    }
    let found = find_manifest(client, &r, &options)?;
    let manifest = Manifest::from_bytes(&found.media_type, &found.bytes)?;
    let (layers, artifact_type) = match &manifest {
        Manifest::Image(m) => (
            m.layers.clone(),
            m.artifact_type
                .clone()
                .or(Some(m.config.media_type.clone())),
        ),
        Manifest::Artifact(a) => (a.blobs.clone(), a.artifact_type.clone()),
        _ => {
            return Err(Error::invalid(
                "reference",
                reference,
                "it names an index, not an artifact: pull one of its manifests by digest",
            ));
        }
    };
    let selected = select(&layers, &options)?;
    let paths = safe_paths(selected.iter().map(|(t, _)| t.as_str()))?;
    fs::create_dir_all(dir)?;

    let repo = r.repository();
    if let (true, Some(cache)) = (options.offline, &options.cache) {
        // every blob first: an offline miss leaves the output directory as it was
        for (title, layer) in &selected {
            if cache.get(&layer.digest, Some(layer.size))?.is_none() {
                return Err(Error::Offline(format!(
                    "blob {} ({title}) of {repo} is not in the cache at {}",
                    layer.digest,
                    cache.root().display()
                )));
            }
        }
    }
    let blobs = client.blob_client();
    let bytes_total = selected.iter().map(|(_, l)| l.size).sum();
    let tracker = Tracker::new(options.progress.clone(), selected.len(), bytes_total);
    let mut files = Vec::new();
    for ((title, layer), rel) in selected.into_iter().zip(paths) {
        check_no_links(dir, &rel)?;
        let path = dir.join(&rel);
        let unpacked = layer.annotation(UNPACK) == Some("true");
        let tar_digest = layer
            .annotation(CONTENT_DIGEST)
            .map(Digest::parse)
            .transpose()?;
        let size = layer.size;
        let digest = &layer.digest;
        let cached = match &options.cache {
            Some(cache) => {
                let mut cached = true;
                let blob = match cache.get(digest, Some(size))? {
                    Some(p) => p,
                    None if options.offline => {
                        return Err(Error::Offline(format!(
                            "blob {digest} ({title}) of {repo} is not in the cache at {}",
                            cache.root().display()
                        )));
                    }
                    None => {
                        tracker.started(digest, size);
                        let (p, ran) = cache.insert_with(digest, Some(size), |file| {
                            let blob = blobs.get_blob(repo, digest)?;
                            let mut stream = blob.with_expected_size(size)?;
                            stream.copy_to(&mut tracker.writer(file, digest, size))
                        })?;
                        cached = !ran;
                        p
                    }
                };
                if unpacked {
                    unpack(File::open(&blob)?, dir, &rel, tar_digest.as_ref())?;
                } else {
                    cache.materialise(digest, &path)?;
                }
                cached
            }
            None if unpacked => {
                // verified whole first, then unpacked
                let mut tmp = tempfile::tempfile_in(dir)?;
                tracker.started(digest, size);
                let blob = blobs.get_blob(repo, digest)?;
                let mut stream = blob.with_expected_size(size)?;
                stream.copy_to(&mut tracker.writer(&mut tmp, digest, size))?;
                use std::io::Seek;
                tmp.rewind()?;
                unpack(tmp, dir, &rel, tar_digest.as_ref())?;
                false
            }
            None => {
                tracker.started(digest, size);
                atomic_file::write_with(&path, "pulled file", |file| {
                    let blob = blobs.get_blob(repo, digest)?;
                    let mut stream = blob.with_expected_size(size)?;
                    stream.copy_to(&mut tracker.writer(file, digest, size))
                })?;
                false
            }
        };
        if cached {
            tracker.skipped(digest, size);
        } else {
            tracker.finished(digest, size);
        }
        files.push(PulledFile {
            title,
            path,
            descriptor: layer,
            cached,
            unpacked,
        });
    }
    Ok(PullReport {
        digest: found.digest,
        artifact_type,
        files,
        from_tag_record: found.record,
        manifest_cached: found.cached,
    })
}

struct Found {
    digest: Digest,
    media_type: String,
    bytes: Vec<u8>,
    record: Option<TagRecord>,
    cached: bool,
}

/// The manifest `r` names: from the cache when pinned by digest and there, or offline; else
/// from the registry (and then into the cache, with the tag's record).
fn find_manifest(client: &Client, r: &Reference, options: &PullOptions) -> Result<Found> {
    let repo = r.repository();
    let cache = options.cache.as_ref();
    let registry = registry_key(client)?;
    let mut record = None;
    let pinned = match (r.digest(), r.tag(), cache) {
        (Some(d), _, _) => Some(d.clone()),
        (None, Some(tag), Some(cache)) if options.offline => {
            let Some(rec) = cache.tag(&registry, repo, tag)? else {
                return Err(Error::Offline(format!(
                    "no digest of {repo}:{tag} is recorded in the cache at {}: pull it once \
                     online, or pin a digest",
                    cache.root().display()
                )));
            };
            log::warn!(
                "offline: {repo}:{tag} taken as {}, the digest the cache recorded for it",
                rec.digest
            );
            let d = rec.digest.clone();
            record = Some(rec);
            Some(d)
        }
        _ => None,
    };
    if let (Some(d), Some(cache)) = (&pinned, cache) {
        if let Some(bytes) = cache.read_verified(d, MAX_MANIFEST_SIZE)? {
            return Ok(Found {
                digest: d.clone(),
                media_type: String::new(), // from the bytes' own mediaType
                bytes,
                record,
                cached: true,
            });
        }
        if options.offline {
            return Err(Error::Offline(format!(
                "manifest {d} of {repo} is not in the cache at {}",
                cache.root().display()
            )));
        }
    }
    let response = client.get_manifest(repo, r.tag_or_digest().as_str())?;
    if let Some(cache) = cache {
        cache.insert_bytes(&response.digest, &response.bytes)?;
        if let Some(tag) = r.tag() {
            cache.record_tag(&registry, repo, tag, &response.digest)?;
        }
    }
    Ok(Found {
        digest: response.digest,
        media_type: response.media_type,
        bytes: response.bytes,
        record,
        cached: false,
    })
}

/// The titled layers `options` select, with their titles.
fn select(layers: &[Descriptor], options: &PullOptions) -> Result<Vec<(String, Descriptor)>> {
    let mut out = Vec::new();
    for layer in layers {
        let Some(title) = layer.title() else {
            log::debug!("layer {} has no title: skipped", layer.digest);
            continue;
        };
        let by_type =
            options.media_types.is_empty() || options.media_types.contains(&layer.media_type);
        let by_title = options.titles.is_empty() || options.titles.iter().any(|t| t == title);
        if by_type && by_title {
            out.push((title.to_string(), layer.clone()));
        }
    }
    for wanted in &options.titles {
        if !out.iter().any(|(t, _)| t == wanted) {
            return Err(Error::invalid(
                "title",
                wanted.clone(),
                "no layer of the artifact (of the media types asked for) has this title",
            ));
        }
    }
    Ok(out)
}
