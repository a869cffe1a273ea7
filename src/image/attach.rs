//! [`attach`]: pushes an artifact (a signature, an SBOM, an attestation) that refers to a manifest
//! (its `subject`), with its blobs and annotations, in one call; on registries without the
//! referrers API it also keeps the tag-schema index (`sha256-<hex>`) up to date.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use super::parse::parse_for;
use super::tag_index;
use crate::blob::UploadOptions;
use crate::client::{Client, UploadManifestOptions};
use crate::digest::{Algorithm, Digest, DigestWriter};
use crate::error::{Error, Result};
use crate::manifest::{Descriptor, ImageManifest, Manifest, media_type};

/// The media type of a file attached without one.
pub const DEFAULT_BLOB_MEDIA_TYPE: &str = "application/octet-stream";
const TITLE: &str = "org.opencontainers.image.title";

enum Content {
    Bytes(Vec<u8>),
    File(PathBuf),
}

struct Blob {
    media_type: String,
    title: Option<String>,
    content: Content,
}

/// An artifact to [`attach`]: its artifact type, blobs (files or bytes) and annotations. It is
/// pushed as an OCI image manifest with `artifactType`, the empty config and a `subject` (the OCI
/// 1.1 way, which every registry stores).
///
/// ```
/// use azcontainerregistry::image::Referrer;
/// let sbom = Referrer::new("application/spdx+json")
///     .bytes(b"{}".to_vec(), "application/spdx+json", Some("sbom.json"))
///     .annotation("org.opencontainers.image.created", "2026-01-01T00:00:00Z");
/// # let _ = sbom;
/// ```
pub struct Referrer {
    artifact_type: String,
    blobs: Vec<Blob>,
    annotations: BTreeMap<String, String>,
}

impl std::fmt::Debug for Referrer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Referrer")
            .field("artifact_type", &self.artifact_type)
            .field("blobs", &self.blobs.len())
            .field("annotations", &self.annotations)
            .finish()
    }
}

impl Referrer {
    /// An artifact of `artifact_type` (e.g. `application/vnd.cncf.notary.signature`), without
    /// blobs yet.
    pub fn new(artifact_type: impl Into<String>) -> Self {
        Referrer {
            artifact_type: artifact_type.into(),
            blobs: Vec::new(),
            annotations: BTreeMap::new(),
        }
    }

    /// Adds the file at `path` as a blob of `media_type`, titled with its file name.
    pub fn file(mut self, path: impl AsRef<Path>, media_type: impl Into<String>) -> Self {
        let path = path.as_ref();
        self.blobs.push(Blob {
            media_type: media_type.into(),
            title: path.file_name().map(|n| n.to_string_lossy().into_owned()),
            content: Content::File(path.to_path_buf()),
        });
        self
    }

    /// Adds `bytes` as a blob of `media_type`, with an optional title (a file name).
    pub fn bytes(
        mut self,
        bytes: Vec<u8>,
        media_type: impl Into<String>,
        title: Option<&str>,
    ) -> Self {
        self.blobs.push(Blob {
            media_type: media_type.into(),
            title: title.map(str::to_string),
            content: Content::Bytes(bytes),
        });
        self
    }

    /// Adds an annotation of the artifact's manifest.
    pub fn annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }
}

/// What [`attach`] pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attached {
    /// The artifact's manifest, as the referrers listing shows it (with its artifact type and
    /// annotations).
    pub descriptor: Descriptor,
    /// The manifest it refers to.
    pub subject: Descriptor,
    /// True when the registry indexes referrers itself (it answered with `OCI-Subject`); false
    /// when the tag-schema index `sha256-<hex>` was updated instead.
    pub indexed_by_registry: bool,
}

fn check_media_type(what: &'static str, value: &str) -> Result<()> {
    let ok = !value.trim().is_empty() && value.bytes().all(|b| (0x21..0x7f).contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            what,
            value,
            "a media type is non-empty printable ASCII without spaces, e.g. application/spdx+json",
        ))
    }
}

/// Pushes `referrer` into the repository of `subject` (`repository:tag` or
/// `repository@digest`) with that manifest as its `subject`: first its blobs (and the empty
/// config), then its manifest by digest. When the registry answers without `OCI-Subject` (it
/// has no referrers API), the descriptor is added to the tag-schema index `sha256-<hex>` as
/// described in `tag_index.rs` (README: "Attach"): read, add, write with `If-Match`,
/// read back, and retry, so that a concurrent writer's entry is never lost.
///
/// ```no_run
/// # use azcontainerregistry::{Client, ClientOptions, Credential, image};
/// # let client = Client::new(
/// #     "http://127.0.0.1:5000",
/// #     Credential::anonymous(),
/// #     ClientOptions::default(),
/// # )?;
/// let signature = image::Referrer::new("application/vnd.cncf.notary.signature")
///     .file("sig.jws", "application/jose+json");
/// let attached = image::attach(&client, "hello-world:v1", &signature)?;
/// println!("{} refers to {}", attached.descriptor.digest, attached.subject.digest);
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
pub fn attach(client: &Client, subject: &str, referrer: &Referrer) -> Result<Attached> {
    check_media_type("artifact type", &referrer.artifact_type)?;
    for b in &referrer.blobs {
        check_media_type("blob media type", &b.media_type)?;
    }
    let r = parse_for(client, subject)?;
    let repository = r.repository();
    let target = client.get_manifest(repository, r.tag_or_digest().as_str())?;
    let subject = target.descriptor();

    let blobs = client.blob_client();
    let bytes_options = |bytes: &[u8]| UploadOptions {
        expected_digest: Some(Digest::of(bytes)),
        ..Default::default()
    };
    let empty = Descriptor::empty();
    blobs.upload_blob(repository, Cursor::new(b"{}"), bytes_options(b"{}"))?;
    let mut layers = Vec::new();
    for b in &referrer.blobs {
        let uploaded = match &b.content {
            Content::Bytes(bytes) => {
                blobs.upload_blob(repository, Cursor::new(bytes), bytes_options(bytes))?
            }
            Content::File(path) => {
                // hashed first, so a blob the registry has already is not sent again
                let mut hashing = DigestWriter::new(std::io::sink(), Algorithm::Sha256);
                std::io::copy(&mut File::open(path)?, &mut hashing)?;
                let (_, digest, _) = hashing.finish();
                let options = UploadOptions {
                    expected_digest: Some(digest),
                    ..Default::default()
                };
                blobs.upload_file(repository, path, options)?
            }
        };
        let mut d = Descriptor::new(b.media_type.clone(), uploaded.digest, uploaded.size);
        if let Some(title) = &b.title {
            d.annotations = Some(BTreeMap::from([(TITLE.to_string(), title.clone())]));
        }
        layers.push(d);
    }
    if layers.is_empty() {
        // an artifact without blobs lists the empty descriptor (OCI image spec 1.1)
        layers.push(empty.clone());
    }
    let mut manifest = ImageManifest::new(empty, layers);
    manifest.artifact_type = Some(referrer.artifact_type.clone());
    manifest.subject = Some(subject.clone());
    if !referrer.annotations.is_empty() {
        manifest.annotations = Some(referrer.annotations.clone());
    }
    let manifest = Manifest::Image(manifest);
    let bytes = manifest.to_bytes();
    let mut descriptor = manifest.descriptor();
    descriptor.annotations = manifest.as_image().and_then(|m| m.annotations.clone());
    let answer = client.upload_manifest_with(
        repository,
        descriptor.digest.as_str(),
        &bytes,
        media_type::OCI_MANIFEST,
        UploadManifestOptions::default(),
    )?;
    let indexed_by_registry = answer.subject.as_ref() == Some(&subject.digest);
    if !indexed_by_registry {
        tag_index::add(client, repository, &subject.digest, &descriptor)?;
    }
    Ok(Attached {
        descriptor,
        subject,
        indexed_by_registry,
    })
}
