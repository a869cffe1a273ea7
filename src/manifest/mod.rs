//! Manifests, indexes and descriptors (OCI and Docker), and the media types that name them.
//!
//! One set of types covers both formats, because they are the same JSON with different media types:
//! [`ImageManifest`] is an OCI image manifest or a Docker v2 (schema 2) manifest, [`ImageIndex`] an
//! OCI image index or a Docker manifest list. [`ArtifactManifest`] is the short-lived OCI artifact
//! manifest (removed from OCI 1.1 final, still stored by ACR). [`Manifest`] is whichever of them a
//! registry returned; [`Manifest::from_bytes`] picks by the response's media type.
//!
//! Parsing is tolerant: unknown fields are ignored, a missing `schemaVersion` reads as 2, missing
//! lists read as empty, and media types are plain strings so a type this crate has never heard of
//! passes through. Writing uses the OCI JSON names, leaves out every `None` and empty optional
//! list, and is compact and deterministic (annotations are sorted maps), so the bytes of a manifest
//! this crate builds are stable and so is their digest.
//!
//! # Why not the `oci-spec` crate
//! It was considered and declined. It pulls `getset`, `derive_builder`, `strum` and friends into
//! every build for what is a handful of plain structs; its API is builder-heavy (every descriptor
//! goes through a fallible builder); and its media types and platform fields are strict enums that
//! reject values they do not know, whereas a registry client must pass through whatever artifact
//! types people push. The types here are small, have public fields, `Default` where a default
//! exists, and parse anything shaped like a manifest.
//!
//! ```
//! use azcontainerregistry::manifest::{Descriptor, ImageManifest, Manifest, media_type};
//!
//! let config = br#"{"architecture":"amd64","os":"linux"}"#;
//! let layer = b"not really a tarball";
//! let manifest = ImageManifest::new(
//!     Descriptor::for_bytes(media_type::OCI_CONFIG, config),
//!     vec![Descriptor::for_bytes(media_type::OCI_LAYER_TAR_GZIP, layer)],
//! );
//! let manifest = Manifest::from(manifest);
//! let bytes = manifest.to_bytes();
//! assert_eq!(manifest.media_type(), media_type::OCI_MANIFEST);
//!
//! // What a registry returns is parsed by its Content-Type.
//! let parsed = Manifest::from_bytes(media_type::OCI_MANIFEST, &bytes)?;
//! assert_eq!(parsed, manifest);
//! assert_eq!(parsed.to_bytes(), bytes);
//! # Ok::<(), azcontainerregistry::Error>(())
//! ```

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::json::null_as_empty;

pub mod media_type;
mod platform;

pub use media_type::DEFAULT_ACCEPT;
pub use platform::Platform;

type Annotations = Option<BTreeMap<String, String>>;

fn default_schema_version() -> u32 {
    2
}

// -------------------------------------------------------------------------------------------------
// Descriptor
// -------------------------------------------------------------------------------------------------

/// A reference to content by media type, digest and size: a config, a layer, a manifest in an
/// index.
///
/// ```
/// use azcontainerregistry::manifest::{media_type, Descriptor};
/// let d = Descriptor::for_bytes(media_type::OCI_LAYER_TAR, b"hello");
/// assert_eq!(d.size, 5);
/// assert_eq!(
///     serde_json::to_string(&d)?,
///     concat!(
///         r#"{"mediaType":"application/vnd.oci.image.layer.v1.tar","#,
///         r#""digest":"sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c"#,
///         r#"1fa7425e73043362938b9824","#,
///         r#""size":5}"#
///     )
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    /// The content's media type (`mediaType`).
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    /// The content's digest (`digest`).
    pub digest: Digest,
    /// The content's size in bytes (`size`).
    #[serde(default)]
    pub size: u64,
    /// Other places the content may be fetched from (`urls`; foreign layers).
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub urls: Vec<String>,
    /// Annotations (`annotations`), e.g. `org.opencontainers.image.title`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Annotations,
    /// The content's inline bytes, base64 (`data`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The platform of a manifest listed in an index (`platform`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// The artifact type of a manifest listed in an index or a referrers answer (`artifactType`).
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
}

impl Descriptor {
    /// A descriptor with just media type, digest and size.
    pub fn new(media_type: impl Into<String>, digest: Digest, size: u64) -> Self {
        Descriptor {
            media_type: media_type.into(),
            digest,
            size,
            urls: Vec::new(),
            annotations: None,
            data: None,
            platform: None,
            artifact_type: None,
        }
    }

    /// The descriptor of `bytes`: their SHA-256 digest and length.
    pub fn for_bytes(media_type: impl Into<String>, bytes: &[u8]) -> Self {
        Descriptor::new(media_type, Digest::of(bytes), bytes.len() as u64)
    }

    /// The OCI empty descriptor: the blob `{}` of type [`media_type::OCI_EMPTY`], used as the
    /// config of an artifact that has none. The registry must still be given the two-byte blob.
    pub fn empty() -> Self {
        Descriptor::for_bytes(media_type::OCI_EMPTY, b"{}")
    }

    /// The value of one annotation.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref()?.get(key).map(String::as_str)
    }

    /// The `org.opencontainers.image.title` annotation: a layer's file name, for artifacts.
    pub fn title(&self) -> Option<&str> {
        self.annotation("org.opencontainers.image.title")
    }
}

// -------------------------------------------------------------------------------------------------
// Image manifest, index, artifact manifest
// -------------------------------------------------------------------------------------------------

/// An OCI image manifest or a Docker v2 manifest: a config and layers.
///
/// ```
/// use azcontainerregistry::manifest::{Descriptor, ImageManifest, media_type};
/// let mut m = ImageManifest::new(Descriptor::empty(), vec![]);
/// m.artifact_type = Some("application/vnd.example.sbom".into());
/// assert_eq!(m.media_type.as_deref(), Some(media_type::OCI_MANIFEST));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageManifest {
    /// Always 2 (`schemaVersion`).
    #[serde(rename = "schemaVersion", default = "default_schema_version")]
    pub schema_version: u32,
    /// The manifest's media type (`mediaType`): required by Docker, optional in OCI.
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The artifact type when this manifest is an artifact rather than an image (`artifactType`).
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
    /// The config blob (`config`).
    pub config: Descriptor,
    /// The layers, base first (`layers`).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to, for referrers such as signatures (`subject`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations (`annotations`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Annotations,
}

impl ImageManifest {
    /// An OCI image manifest (schema 2, [`media_type::OCI_MANIFEST`]) of `config` and `layers`.
    pub fn new(config: Descriptor, layers: Vec<Descriptor>) -> Self {
        ImageManifest {
            schema_version: 2,
            media_type: Some(media_type::OCI_MANIFEST.to_string()),
            artifact_type: None,
            config,
            layers,
            subject: None,
            annotations: None,
        }
    }
}

/// An OCI image index or a Docker manifest list: manifests, usually one per platform.
///
/// ```
/// use azcontainerregistry::manifest::{Descriptor, ImageIndex, Platform, media_type};
/// let mut amd64 = Descriptor::for_bytes(media_type::OCI_MANIFEST, b"{}");
/// amd64.platform = Some(Platform::new("linux", "amd64"));
/// let index = ImageIndex::new(vec![amd64]);
/// assert!(
///     index
///         .find_platform(&Platform::parse("linux/amd64")?)
///         .is_some()
/// );
/// assert!(
///     index
///         .find_platform(&Platform::parse("linux/arm64")?)
///         .is_none()
/// );
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageIndex {
    /// Always 2 (`schemaVersion`).
    #[serde(rename = "schemaVersion", default = "default_schema_version")]
    pub schema_version: u32,
    /// The index's media type (`mediaType`): required by Docker, optional in OCI.
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The artifact type when this index is an artifact (`artifactType`).
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
    /// The manifests (`manifests`).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub manifests: Vec<Descriptor>,
    /// The manifest this one refers to (`subject`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations (`annotations`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Annotations,
}

impl Default for ImageIndex {
    /// An empty OCI index (schema 2, [`media_type::OCI_INDEX`]).
    fn default() -> Self {
        ImageIndex::new(Vec::new())
    }
}

impl ImageIndex {
    /// An OCI image index (schema 2, [`media_type::OCI_INDEX`]) of `manifests`.
    pub fn new(manifests: Vec<Descriptor>) -> Self {
        ImageIndex {
            schema_version: 2,
            media_type: Some(media_type::OCI_INDEX.to_string()),
            artifact_type: None,
            manifests,
            subject: None,
            annotations: None,
        }
    }

    /// The first manifest whose platform [matches](Platform::matches) `wanted`; when `wanted` names
    /// no variant, one with the architecture's default variant (or none) is preferred.
    pub fn find_platform(&self, wanted: &Platform) -> Option<&Descriptor> {
        let mut candidates = self
            .manifests
            .iter()
            .filter(|d| d.platform.as_ref().is_some_and(|p| wanted.matches(p)));
        let first = candidates.next()?;
        if wanted.variant.is_some() {
            return Some(first);
        }
        let plain = |d: &Descriptor| d.platform.as_ref().is_some_and(Platform::is_plain);
        if plain(first) {
            return Some(first);
        }
        Some(candidates.find(|d| plain(d)).unwrap_or(first))
    }
}

/// An OCI artifact manifest (`application/vnd.oci.artifact.manifest.v1+json`): blobs without a
/// config.
///
/// This type was dropped from the final OCI 1.1 specification in favour of image manifests with an
/// `artifactType`; ACR still stores and serves it, so it is read, and can be written for registries
/// that want it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactManifest {
    /// Always [`media_type::OCI_ARTIFACT_MANIFEST`] (`mediaType`).
    #[serde(rename = "mediaType", default = "artifact_media_type")]
    pub media_type: String,
    /// The artifact type (`artifactType`).
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
    /// The blobs (`blobs`).
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub blobs: Vec<Descriptor>,
    /// The manifest this one refers to (`subject`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations (`annotations`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Annotations,
}

fn artifact_media_type() -> String {
    media_type::OCI_ARTIFACT_MANIFEST.to_string()
}

impl ArtifactManifest {
    /// An artifact manifest of `artifact_type` holding `blobs`.
    pub fn new(artifact_type: impl Into<String>, blobs: Vec<Descriptor>) -> Self {
        ArtifactManifest {
            media_type: artifact_media_type(),
            artifact_type: Some(artifact_type.into()),
            blobs,
            subject: None,
            annotations: None,
        }
    }
}

// -------------------------------------------------------------------------------------------------
// Manifest
// -------------------------------------------------------------------------------------------------

/// Any manifest a registry serves.
///
/// More kinds may be added, hence `#[non_exhaustive]`: match with a wildcard arm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
// The variants differ by a few hundred bytes; a manifest is a one-off value, never stored in bulk,
// and boxing would make every match and construction clumsier for nothing.
#[allow(clippy::large_enum_variant)]
pub enum Manifest {
    /// An OCI image manifest or a Docker v2 manifest.
    Image(ImageManifest),
    /// An OCI image index or a Docker manifest list.
    Index(ImageIndex),
    /// An OCI artifact manifest.
    Artifact(ArtifactManifest),
}

/// Just enough of a manifest to tell which kind it is.
#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(rename = "schemaVersion", default)]
    schema_version: Option<u32>,
    #[serde(default)]
    manifests: Option<IgnoredAny>,
    #[serde(default)]
    layers: Option<IgnoredAny>,
    #[serde(default)]
    config: Option<IgnoredAny>,
    #[serde(default)]
    blobs: Option<IgnoredAny>,
}

#[derive(Clone, Copy)]
enum Kind {
    Image,
    Index,
    Artifact,
}

fn kind_of(media_type: &str) -> Result<Option<Kind>> {
    let e = media_type::essence(media_type);
    Ok(match e.as_str() {
        media_type::OCI_MANIFEST | media_type::DOCKER_MANIFEST => Some(Kind::Image),
        media_type::OCI_INDEX | media_type::DOCKER_MANIFEST_LIST => Some(Kind::Index),
        media_type::OCI_ARTIFACT_MANIFEST => Some(Kind::Artifact),
        media_type::DOCKER_MANIFEST_V1 | media_type::DOCKER_MANIFEST_V1_SIGNED => {
            return Err(Error::decode(
                "manifest",
                "Docker schema 1 manifests are obsolete and not supported; re-push the image with a current client",
            ));
        }
        _ => None,
    })
}

impl Manifest {
    /// Parses a manifest.
    ///
    /// The kind is decided by `media_type` (the response's `Content-Type`; parameters are ignored).
    /// When that is empty or not a manifest type (`application/json`,
    /// `application/octet-stream`…), the `mediaType` field of the JSON decides, and failing
    /// that the presence of `manifests` (an index), `layers` or `config` (an image manifest) or
    /// `blobs` (an artifact manifest). Bad JSON, a missing required field, or a schema 1
    /// manifest is an [`Error::Decode`].
    ///
    /// ```
    /// use azcontainerregistry::Manifest;
    /// let body = br#"{"schemaVersion":2,"manifests":[]}"#;
    /// let m = Manifest::from_bytes("application/octet-stream", body)?;
    /// assert!(matches!(m, Manifest::Index(_)));
    /// assert!(Manifest::from_bytes("", b"{not json").is_err());
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn from_bytes(media_type: &str, bytes: &[u8]) -> Result<Manifest> {
        let kind = match kind_of(media_type)? {
            Some(kind) => kind,
            None => {
                let probe: Probe =
                    serde_json::from_slice(bytes).map_err(|e| Error::decode("manifest", e))?;
                let by_field = match &probe.media_type {
                    Some(mt) => kind_of(mt)?,
                    None => None,
                };
                match by_field {
                    Some(kind) => kind,
                    None if probe.schema_version == Some(1) => {
                        return Err(Error::decode(
                            "manifest",
                            "Docker schema 1 manifests are obsolete and not supported",
                        ));
                    }
                    None if probe.manifests.is_some() => Kind::Index,
                    None if probe.layers.is_some() || probe.config.is_some() => Kind::Image,
                    None if probe.blobs.is_some() => Kind::Artifact,
                    None => {
                        return Err(Error::decode(
                            "manifest",
                            format!(
                                "cannot tell what kind of manifest this is: media type {:?}, \
                                 and the JSON has no known mediaType, manifests, layers or blobs",
                                media_type
                            ),
                        ));
                    }
                }
            }
        };
        let decode = |e: serde_json::Error| Error::decode("manifest", e);
        Ok(match kind {
            Kind::Image => Manifest::Image(serde_json::from_slice(bytes).map_err(decode)?),
            Kind::Index => Manifest::Index(serde_json::from_slice(bytes).map_err(decode)?),
            Kind::Artifact => Manifest::Artifact(serde_json::from_slice(bytes).map_err(decode)?),
        })
    }

    /// The manifest's media type: its `mediaType` field, or the OCI type of its kind when the field
    /// is absent (an OCI manifest may leave it out). Use it as the `Content-Type` when pushing.
    pub fn media_type(&self) -> &str {
        match self {
            Manifest::Image(m) => m.media_type.as_deref().unwrap_or(media_type::OCI_MANIFEST),
            Manifest::Index(i) => i.media_type.as_deref().unwrap_or(media_type::OCI_INDEX),
            Manifest::Artifact(a) => &a.media_type,
        }
    }

    /// The artifact type, when it has one.
    pub fn artifact_type(&self) -> Option<&str> {
        match self {
            Manifest::Image(m) => m.artifact_type.as_deref(),
            Manifest::Index(i) => i.artifact_type.as_deref(),
            Manifest::Artifact(a) => a.artifact_type.as_deref(),
        }
    }

    /// The manifest it refers to (`subject`), when it is a referrer.
    pub fn subject(&self) -> Option<&Descriptor> {
        match self {
            Manifest::Image(m) => m.subject.as_ref(),
            Manifest::Index(i) => i.subject.as_ref(),
            Manifest::Artifact(a) => a.subject.as_ref(),
        }
    }

    /// The manifest as compact JSON with every `None` left out: the bytes to push.
    ///
    /// The digest of a manifest is over its bytes, so keep the bytes a registry returned when the
    /// digest matters; these bytes equal them only for manifests this crate wrote.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising these types cannot fail: every map key is a string and every value plain
        // data.
        serde_json::to_vec(self).expect("manifest types always serialize to JSON")
    }

    /// The descriptor of [`Manifest::to_bytes`]: media type, digest, size (and the artifact type),
    /// ready to list in an index.
    pub fn descriptor(&self) -> Descriptor {
        let mut d = Descriptor::for_bytes(self.media_type(), &self.to_bytes());
        d.artifact_type = self.artifact_type().map(str::to_string);
        d
    }

    /// The image manifest, if this is one.
    pub fn as_image(&self) -> Option<&ImageManifest> {
        match self {
            Manifest::Image(m) => Some(m),
            _ => None,
        }
    }

    /// The index, if this is one.
    pub fn as_index(&self) -> Option<&ImageIndex> {
        match self {
            Manifest::Index(i) => Some(i),
            _ => None,
        }
    }
}

impl From<ImageManifest> for Manifest {
    fn from(m: ImageManifest) -> Self {
        Manifest::Image(m)
    }
}

impl From<ImageIndex> for Manifest {
    fn from(i: ImageIndex) -> Self {
        Manifest::Index(i)
    }
}

impl From<ArtifactManifest> for Manifest {
    fn from(a: ArtifactManifest) -> Self {
        Manifest::Artifact(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The OCI artifact pushed by the Python SDK's tests (no mediaType field).
    const OCI_MANIFEST_JSON: &str = r#"{"schemaVersion": 2, "config": {"mediaType": "application/vnd.acme.rocket.config", "digest": "sha256:d25b42d3dbad5361ed2d909624d899e7254a822c9a632b582ebd3a44f9b0dbc8", "size": 171}, "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:654b93f61054e4ce90ed203bb8d556a6200d5f906cf3eca0620738d6dc18cbed", "size": 28, "annotations": {"org.opencontainers.image.title": "artifact.txt"}}]}"#;

    const DOCKER_MANIFEST_JSON: &str = r#"{"config": {"digest": "sha256:feb5d9fea6a5e9606aa995e879d862b825965ba48de054caab5ef356dc6b3412", "mediaType": "application/vnd.docker.container.image.v1+json", "size": 1469}, "layers": [{"digest": "sha256:2db29710123e3e53a794f2694094b9b4338aa9ee5c40b930cb8063a1be392c54", "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 2479}], "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "schemaVersion": 2}"#;

    const OCI_INDEX_JSON: &str = r#"{
      "schemaVersion": 2,
      "mediaType": "application/vnd.oci.image.index.v1+json",
      "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 861,
         "digest": "sha256:e2e16842c9b54d985bf1ef9242a313f36b856181f188de21313820e177002501",
         "platform": {"architecture": "amd64", "os": "linux"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 861,
         "digest": "sha256:c4ba6347b0e4258ce6a6de2401619316f982b7bcc529f73d2a410d0097730204",
         "platform": {"architecture": "arm", "os": "linux", "variant": "v7"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 861,
         "digest": "sha256:3c9b7e8d7c3e5c8e0c3c2f2f2e1c1b1a0f0e0d0c0b0a09080706050403020100",
         "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 946,
         "digest": "sha256:1e2a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748",
         "platform": {"architecture": "amd64", "os": "windows", "os.version": "10.0.20348.2340",
                      "os.features": ["win32k"]},
         "annotations": {"com.example.note": "windows"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 566,
         "digest": "sha256:5f5e5d5c5b5a595857565554535251504f4e4d4c4b4a49484746454443424140",
         "artifactType": "application/vnd.in-toto+json",
         "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
         "platform": {"architecture": "unknown", "os": "unknown"}}
      ],
      "annotations": {"org.opencontainers.image.created": "2024-04-25T02:20:47Z"},
      "someFutureField": {"nested": true}
    }"#;

    const DOCKER_LIST_JSON: &str = r#"{"manifests":[{"digest":"sha256:e2e16842c9b54d985bf1ef9242a313f36b856181f188de21313820e177002501","mediaType":"application\/vnd.docker.distribution.manifest.v2+json","platform":{"architecture":"amd64","os":"linux"},"size":525},{"digest":"sha256:c4ba6347b0e4258ce6a6de2401619316f982b7bcc529f73d2a410d0097730204","mediaType":"application\/vnd.docker.distribution.manifest.v2+json","platform":{"architecture":"arm","os":"linux","variant":"v5"},"size":525},{"digest":"sha256:0b4a5e5a6f4e7f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192","mediaType":"application\/vnd.docker.distribution.manifest.v2+json","platform":{"architecture":"arm64","os":"linux","variant":"v8"},"size":525},{"digest":"sha256:9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0","mediaType":"application\/vnd.docker.distribution.manifest.v2+json","platform":{"architecture":"amd64","os":"windows","os.version":"10.0.17763.5576"},"size":946}],"mediaType":"application\/vnd.docker.distribution.manifest.list.v2+json","schemaVersion":2}"#;

    fn parse(mt: &str, json: &str) -> Manifest {
        Manifest::from_bytes(mt, json.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn oci_manifest_from_recording() {
        let m = parse(
            "application/vnd.oci.image.manifest.v1+json",
            OCI_MANIFEST_JSON,
        );
        let Manifest::Image(img) = &m else {
            panic!("{m:?}")
        };
        assert_eq!(img.schema_version, 2);
        assert_eq!(img.media_type, None);
        assert_eq!(m.media_type(), media_type::OCI_MANIFEST);
        assert_eq!(img.config.media_type, "application/vnd.acme.rocket.config");
        assert_eq!(img.config.size, 171);
        assert_eq!(img.layers.len(), 1);
        assert_eq!(img.layers[0].title(), Some("artifact.txt"));
        assert_eq!(img.layers[0].media_type, media_type::OCI_LAYER_TAR);
        assert!(img.subject.is_none() && img.annotations.is_none());

        // Without a usable Content-Type the `layers` key decides.
        assert_eq!(parse("", OCI_MANIFEST_JSON), m);
        assert_eq!(parse("application/json", OCI_MANIFEST_JSON), m);
        // With parameters and odd case the media type still decides.
        assert_eq!(
            parse(
                "Application/VND.oci.image.manifest.v1+json; charset=utf-8",
                OCI_MANIFEST_JSON
            ),
            m
        );
    }

    #[test]
    fn docker_manifest_from_recording() {
        let m = parse(media_type::DOCKER_MANIFEST, DOCKER_MANIFEST_JSON);
        let img = m.as_image().expect("image");
        assert_eq!(m.media_type(), media_type::DOCKER_MANIFEST);
        assert_eq!(img.config.media_type, media_type::DOCKER_CONFIG);
        assert_eq!(img.layers[0].media_type, media_type::DOCKER_LAYER);
        assert_eq!(img.layers[0].size, 2479);
        // The mediaType field decides when the header does not.
        assert_eq!(parse("text/plain", DOCKER_MANIFEST_JSON), m);
    }

    #[test]
    fn oci_index_with_platforms() {
        let m = parse(media_type::OCI_INDEX, OCI_INDEX_JSON);
        let index = m.as_index().expect("index");
        assert_eq!(index.manifests.len(), 5);
        let p = index.manifests[1].platform.as_ref().unwrap();
        assert_eq!(p.to_string(), "linux/arm/v7");
        let win = index.manifests[3].platform.as_ref().unwrap();
        assert_eq!(win.os_version.as_deref(), Some("10.0.20348.2340"));
        assert_eq!(win.os_features, ["win32k"]);
        assert_eq!(
            index.manifests[3].annotation("com.example.note"),
            Some("windows")
        );
        assert_eq!(
            index.manifests[4].artifact_type.as_deref(),
            Some("application/vnd.in-toto+json")
        );
        assert!(
            index
                .annotations
                .as_ref()
                .unwrap()
                .contains_key("org.opencontainers.image.created")
        );

        let find = |s: &str| {
            index
                .find_platform(&Platform::parse(s).unwrap())
                .map(|d| d.digest.hex()[..4].to_string())
        };
        assert_eq!(find("linux/amd64").as_deref(), Some("e2e1"));
        assert_eq!(find("linux/arm64").as_deref(), Some("3c9b"));
        assert_eq!(find("linux/arm64/v8").as_deref(), Some("3c9b"));
        assert_eq!(find("linux/arm").as_deref(), Some("c4ba"));
        assert_eq!(find("linux/arm/v7").as_deref(), Some("c4ba"));
        assert_eq!(find("linux/arm/v6"), None);
        assert_eq!(find("windows/amd64").as_deref(), Some("1e2a"));
        assert_eq!(find("linux/s390x"), None);
        let mut win_old = Platform::new("windows", "amd64");
        win_old.os_version = Some("10.0.17763.1".into());
        assert!(index.find_platform(&win_old).is_none());
    }

    #[test]
    fn docker_list() {
        let m = parse(media_type::DOCKER_MANIFEST_LIST, DOCKER_LIST_JSON);
        assert_eq!(m.media_type(), media_type::DOCKER_MANIFEST_LIST);
        let index = m.as_index().unwrap();
        assert_eq!(index.manifests.len(), 4);
        assert_eq!(index.manifests[0].media_type, media_type::DOCKER_MANIFEST);
        assert_eq!(
            index.manifests[1]
                .platform
                .as_ref()
                .unwrap()
                .variant
                .as_deref(),
            Some("v5")
        );
        // The `manifests` key decides without a media type anywhere.
        let stripped = DOCKER_LIST_JSON.replace(
            r#""mediaType":"application\/vnd.docker.distribution.manifest.list.v2+json","#,
            "",
        );
        assert!(!stripped.contains("list.v2"));
        assert!(matches!(parse("", &stripped), Manifest::Index(_)));
    }

    #[test]
    fn artifact_manifest() {
        let json = r#"{"mediaType":"application/vnd.oci.artifact.manifest.v1+json","artifactType":"application/vnd.example.sbom",
          "blobs":[{"mediaType":"application/json","digest":"sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824","size":5}],
          "subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:a40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f","size":12}}"#;
        let m = parse(media_type::OCI_ARTIFACT_MANIFEST, json);
        assert_eq!(m.media_type(), media_type::OCI_ARTIFACT_MANIFEST);
        assert_eq!(m.artifact_type(), Some("application/vnd.example.sbom"));
        assert_eq!(m.subject().unwrap().size, 12);
        assert_eq!(parse("", json), m);
        let bytes = m.to_bytes();
        assert_eq!(parse("", std::str::from_utf8(&bytes).unwrap()), m);
    }

    #[test]
    fn round_trip_is_byte_stable_for_our_output() {
        let mut layer = Descriptor::for_bytes(media_type::OCI_LAYER_TAR_ZSTD, b"layer");
        layer.annotations = Some(BTreeMap::from([
            ("z.last".to_string(), "2".to_string()),
            ("a.first".to_string(), "1".to_string()),
        ]));
        let mut img = ImageManifest::new(Descriptor::empty(), vec![layer]);
        img.artifact_type = Some("application/vnd.example".into());
        img.subject = Some(Descriptor::for_bytes(media_type::OCI_MANIFEST, b"subject"));
        let img = Manifest::from(img);
        let bytes = img.to_bytes();
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(!text.contains("null"), "{text}");
        assert!(!text.contains(' '), "compact: {text}");
        assert!(text.starts_with(r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.example","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}"#), "{text}");
        assert!(text.find("a.first") < text.find("z.last"));
        let again = Manifest::from_bytes(img.media_type(), &bytes).unwrap();
        assert_eq!(again, img);
        assert_eq!(again.to_bytes(), bytes);

        let mut d = img.descriptor();
        assert_eq!(d.digest, Digest::of(&bytes));
        assert_eq!(d.size, bytes.len() as u64);
        assert_eq!(d.artifact_type.as_deref(), Some("application/vnd.example"));
        d.platform = Some(Platform::parse("windows/amd64").unwrap());
        d.platform.as_mut().unwrap().os_version = Some("10.0.20348.1".into());
        let index = Manifest::from(ImageIndex::new(vec![d]));
        let bytes = index.to_bytes();
        let again = Manifest::from_bytes("", &bytes).unwrap();
        assert_eq!(again, index);
        assert_eq!(again.to_bytes(), bytes);
        assert!(
            std::str::from_utf8(&bytes)
                .unwrap()
                .contains(r#""os.version":"10.0.20348.1""#)
        );

        // Foreign manifests keep their content through a round trip.
        for (mt, json) in [
            (media_type::DOCKER_MANIFEST, DOCKER_MANIFEST_JSON),
            (media_type::OCI_INDEX, OCI_INDEX_JSON),
            (media_type::DOCKER_MANIFEST_LIST, DOCKER_LIST_JSON),
            (media_type::OCI_MANIFEST, OCI_MANIFEST_JSON),
        ] {
            let m = parse(mt, json);
            let bytes = m.to_bytes();
            let again = Manifest::from_bytes(mt, &bytes).unwrap();
            assert_eq!(again, m);
            assert_eq!(again.to_bytes(), bytes);
        }
    }

    #[test]
    fn empty_descriptor_is_the_oci_one() {
        let e = Descriptor::empty();
        assert_eq!(e.media_type, media_type::OCI_EMPTY);
        assert_eq!(e.size, 2);
        assert_eq!(
            e.digest.as_str(),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }

    #[test]
    fn bad_input_is_a_decode_error() {
        let cases: &[(&str, &[u8])] = &[
            (media_type::OCI_MANIFEST, b"{not json"),
            ("", b"{not json"),
            (media_type::OCI_MANIFEST, b""),
            (media_type::OCI_MANIFEST, b"[]"),
            // missing config
            (media_type::OCI_MANIFEST, br#"{"schemaVersion":2,"layers":[]}"#),
            // a bad digest
            (
                media_type::OCI_INDEX,
                br#"{"manifests":[{"mediaType":"x","digest":"sha256:short","size":1}]}"#,
            ),
            // a negative size
            (
                media_type::OCI_MANIFEST,
                br#"{"config":{"mediaType":"x","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":-2}}"#,
            ),
            // nothing to tell the kind by
            ("", br#"{"schemaVersion":2}"#),
            ("application/json", br#"{"hello":"world"}"#),
            // schema 1
            (media_type::DOCKER_MANIFEST_V1_SIGNED, br#"{"schemaVersion":1}"#),
            ("", br#"{"schemaVersion":1,"name":"x","fsLayers":[]}"#),
        ];
        for (mt, body) in cases {
            match Manifest::from_bytes(mt, body) {
                Err(Error::Decode { what, .. }) => assert_eq!(what, "manifest"),
                other => panic!("{mt:?} {:?} gave {other:?}", String::from_utf8_lossy(body)),
            }
        }
        let e = Manifest::from_bytes("", br#"{"schemaVersion":1}"#).unwrap_err();
        assert!(e.to_string().contains("schema 1"), "{e}");
    }

    #[test]
    fn tolerant_parsing() {
        // no schemaVersion, nulls for lists, unknown fields
        let m = parse(
            media_type::OCI_MANIFEST,
            r#"{"config":{"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"urls":null,"x":1},"layers":null,"extra":[1,2]}"#,
        );
        let img = m.as_image().unwrap();
        assert_eq!(img.schema_version, 2);
        assert!(img.layers.is_empty());
        assert_eq!(img.config.media_type, "");
        let index = parse(media_type::OCI_INDEX, r#"{"manifests":null}"#);
        assert_eq!(index.as_index().unwrap().manifests, vec![]);
        // a media type this crate does not know passes through
        let d: Descriptor = serde_json::from_str(
            r#"{"mediaType":"application/vnd.example.thing+cbor","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"platform":{"architecture":"wasm","os":"wasip1"}}"#,
        )
        .unwrap();
        assert_eq!(d.media_type, "application/vnd.example.thing+cbor");
        assert_eq!(d.platform.unwrap().to_string(), "wasip1/wasm");
    }

    #[test]
    fn defaults() {
        let i = ImageIndex::default();
        assert_eq!(i.schema_version, 2);
        assert_eq!(i.media_type.as_deref(), Some(media_type::OCI_INDEX));
        assert_eq!(
            String::from_utf8(Manifest::from(i).to_bytes()).unwrap(),
            r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#
        );
        assert_eq!(Platform::default().to_string(), "/");
        let a = ArtifactManifest::new("application/vnd.example", vec![]);
        assert_eq!(
            String::from_utf8(Manifest::from(a).to_bytes()).unwrap(),
            r#"{"mediaType":"application/vnd.oci.artifact.manifest.v1+json","artifactType":"application/vnd.example"}"#
        );
    }
}
