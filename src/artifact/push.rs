//! [`push`]: files and directories as one OCI artifact, laid out as `oras push` does.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Seek};
use std::path::{Path, PathBuf};

use super::pack::{CONTENT_DIGEST, UNPACK, pack_dir};
use super::title::safe_paths;
use crate::UploadOptions;
use crate::client::Client;
use crate::digest::{Algorithm, Digest, DigestWriter};
use crate::error::{Error, Result};
use crate::image::parse_for;
use crate::image::{ProgressFn, Tracker};
use crate::manifest::{Descriptor, ImageManifest, Manifest, media_type};

/// The artifact type [`push`] writes unless told another, as oras does.
pub const DEFAULT_ARTIFACT_TYPE: &str = "application/vnd.unknown.artifact.v1";
/// The annotation holding a layer's file name.
pub const TITLE: &str = "org.opencontainers.image.title";

/// One file (or directory) to push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpec {
    /// The file or directory.
    pub path: PathBuf,
    /// The layer's media type; default [`media_type::OCI_LAYER_TAR`] for a file (as oras), and
    /// [`media_type::OCI_LAYER_TAR_GZIP`] for a directory.
    pub media_type: Option<String>,
    /// The layer's title, the name `pull` writes it under; default the file's name.
    pub title: Option<String>,
}

impl FileSpec {
    /// The file at `path`, with the default media type and title.
    pub fn new(path: impl Into<PathBuf>) -> FileSpec {
        FileSpec {
            path: path.into(),
            media_type: None,
            title: None,
        }
    }

    /// `PATH[:MEDIATYPE]`, as `oras push` takes files: the media type is what follows the last
    /// `:` when that contains a `/` (so `C:\x` and `a:b` stay paths).
    pub fn parse(arg: &str) -> FileSpec {
        match arg.rsplit_once(':') {
            Some((path, mt)) if mt.contains('/') && !path.is_empty() => FileSpec {
                path: path.into(),
                media_type: Some(mt.to_string()),
                title: None,
            },
            _ => FileSpec::new(arg),
        }
    }

    /// This file with the media type `media_type`.
    pub fn with_media_type(mut self, media_type: impl Into<String>) -> FileSpec {
        self.media_type = Some(media_type.into());
        self
    }

    /// This file under the title `title`.
    pub fn with_title(mut self, title: impl Into<String>) -> FileSpec {
        self.title = Some(title.into());
        self
    }

    fn title(&self) -> Result<String> {
        if let Some(t) = &self.title {
            return Ok(t.clone());
        }
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                Error::invalid(
                    "file",
                    self.path.display().to_string(),
                    "the path has no file name to use as the title: give one",
                )
            })
    }
}

/// Options of [`push`].
#[derive(Clone, Default)]
pub struct PushOptions {
    /// The manifest's `artifactType`; default [`DEFAULT_ARTIFACT_TYPE`].
    pub artifact_type: Option<String>,
    /// The manifest's annotations.
    pub annotations: BTreeMap<String, String>,
    /// Called as layers are sent (as for [`image::push`](crate::image::push)); a layer the
    /// registry has is reported skipped.
    pub progress: Option<ProgressFn>,
}

impl std::fmt::Debug for PushOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushOptions")
            .field("artifact_type", &self.artifact_type)
            .field("annotations", &self.annotations)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// What [`push`] pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushReport {
    /// The manifest's digest.
    pub digest: Digest,
    /// The manifest.
    pub manifest: ImageManifest,
    /// Layers the registry already had (not sent again).
    pub layers_skipped: usize,
}

/// Pushes `files` to `reference` (`repository:tag`, or `@digest`) as an OCI artifact, the way
/// `oras push` lays one out: an image manifest with `artifactType`, the empty config
/// (`application/vnd.oci.empty.v1+json`, `{}`), and one layer per file, titled with its name
/// (`org.opencontainers.image.title`). A directory becomes one tar+gzip layer that `pull` (and
/// `oras pull`) unpacks again. Titles are checked as `pull` checks them, so nothing is pushed
/// that could not be pulled. Blobs the registry has are not sent again; the manifest goes last.
///
/// ```no_run
/// use azcontainerregistry::{Client, ClientOptions, Credential, artifact};
/// let client = Client::new(
///     "https://myregistry.azurecr.io",
///     Credential::anonymous(),
///     ClientOptions::default(),
/// )?;
/// let files = [
///     artifact::FileSpec::new("protoc"),
///     artifact::FileSpec::parse("include:application/vnd.example.headers.tar+gzip"),
/// ];
/// let options = artifact::PushOptions {
///     artifact_type: Some("application/vnd.example.protoc".into()),
///     ..Default::default()
/// };
/// let report = artifact::push(&client, "tools/protoc:25.1", &files, options)?;
/// println!("pushed {}", report.digest);
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
pub fn push(
    client: &Client,
    reference: &str,
    files: &[FileSpec],
    options: PushOptions,
) -> Result<PushReport> {
    let r = parse_for(client, reference)?;
    let repo = r.repository();
    if files.is_empty() {
        return Err(Error::invalid(
            "files",
            "[]",
            "an artifact needs at least one file",
        ));
    }
    let titles = files
        .iter()
        .map(FileSpec::title)
        .collect::<Result<Vec<_>>>()?;
    safe_paths(titles.iter().map(String::as_str))?;

    // every file hashed (a directory packed) first: the progress totals need the sizes
    let mut prepared = Vec::new();
    for (spec, title) in files.iter().zip(&titles) {
        let meta = std::fs::metadata(&spec.path).map_err(|e| {
            Error::Io(io::Error::new(
                e.kind(),
                format!("{}: {e}", spec.path.display()),
            ))
        })?;
        let mut annotations = BTreeMap::from([(TITLE.to_string(), title.clone())]);
        let (mut file, digest, size, default_type) = if meta.is_dir() {
            let mut tmp = tempfile::tempfile()?;
            let packed = pack_dir(&spec.path, title, &mut tmp)?;
            annotations.insert(UNPACK.to_string(), "true".to_string());
            annotations.insert(CONTENT_DIGEST.to_string(), packed.tar_digest.to_string());
            (
                tmp,
                packed.digest,
                packed.size,
                media_type::OCI_LAYER_TAR_GZIP,
            )
        } else {
            let (file, digest, size) = hash_file(&spec.path)?;
            (file, digest, size, media_type::OCI_LAYER_TAR)
        };
        file.rewind()?;
        let kind = spec
            .media_type
            .clone()
            .unwrap_or_else(|| default_type.to_string());
        let mut layer = Descriptor::new(kind, digest, size);
        layer.annotations = Some(annotations);
        prepared.push((file, layer));
    }

    let blobs = client.blob_client();
    let total = prepared.iter().map(|(_, l)| l.size).sum();
    let tracker = Tracker::new(options.progress.clone(), prepared.len(), total);
    let mut layers = Vec::new();
    let mut skipped = 0;
    for (file, layer) in prepared {
        let (digest, size) = (&layer.digest, layer.size);
        let upload = UploadOptions {
            expected_digest: Some(digest.clone()),
            ..Default::default()
        };
        tracker.started(digest, size);
        let sent = blobs.upload_blob_seekable(repo, tracker.reader(file, digest, size), upload)?;
        if sent.skipped {
            skipped += 1;
            tracker.skipped(digest, size);
        } else {
            tracker.finished(digest, size);
        }
        layers.push(layer);
    }
    let empty = Descriptor::empty();
    let config = UploadOptions {
        expected_digest: Some(empty.digest.clone()),
        ..Default::default()
    };
    blobs.upload_blob(repo, &b"{}"[..], config)?;

    let mut manifest = ImageManifest::new(empty, layers);
    manifest.artifact_type = Some(
        options
            .artifact_type
            .unwrap_or_else(|| DEFAULT_ARTIFACT_TYPE.to_string()),
    );
    if !options.annotations.is_empty() {
        manifest.annotations = Some(options.annotations);
    }
    let typed = Manifest::Image(manifest);
    // by digest, the registry and upload_manifest check that it is this manifest's
    let digest = client.upload_manifest_typed(repo, r.tag_or_digest().as_str(), &typed)?;
    let Manifest::Image(manifest) = typed else {
        unreachable!("built as an image manifest above")
    };
    Ok(PushReport {
        digest,
        manifest,
        layers_skipped: skipped,
    })
}

/// The file at `path`, open, with its digest and length.
fn hash_file(path: &Path) -> Result<(File, Digest, u64)> {
    let mut file = File::open(path)?;
    let mut hashing = DigestWriter::new(io::sink(), Algorithm::Sha256);
    io::copy(&mut file, &mut hashing)?;
    let (_, digest, size) = hashing.finish();
    Ok((file, digest, size))
}
