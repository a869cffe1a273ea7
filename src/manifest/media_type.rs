//! Media type strings: the types that name manifests, indexes, configs and layers, and helpers to
//! compare them.
//!
//! ```
//! use azcontainerregistry::manifest::media_type;
//! assert!(media_type::is_index(media_type::DOCKER_MANIFEST_LIST));
//! assert!(media_type::is_image_manifest(
//!     "application/vnd.oci.image.manifest.v1+json; charset=utf-8"
//! ));
//! ```

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list (multi-platform image).
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// OCI artifact manifest (an OCI 1.1 release candidate; ACR stores it).
pub const OCI_ARTIFACT_MANIFEST: &str = "application/vnd.oci.artifact.manifest.v1+json";
/// OCI image config.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// The OCI empty descriptor's type: the two-byte blob `{}` used as the config of artifacts.
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
/// OCI layer, uncompressed tar.
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// OCI layer, gzip-compressed tar.
pub const OCI_LAYER_TAR_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// OCI layer, zstd-compressed tar.
pub const OCI_LAYER_TAR_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// Docker image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Docker layer, gzip-compressed tar.
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// Docker foreign layer (Windows base layers, not to be pushed).
pub const DOCKER_FOREIGN_LAYER: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
/// Docker image manifest, schema 1 (unsigned): obsolete, recognised only to be refused.
pub const DOCKER_MANIFEST_V1: &str = "application/vnd.docker.distribution.manifest.v1+json";
/// Docker image manifest, schema 1 (signed): obsolete, recognised only to be refused.
pub const DOCKER_MANIFEST_V1_SIGNED: &str =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

/// The media type without parameters or blanks, in lowercase (`Content-Type` values may carry
/// `; charset=utf-8`).
pub fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// An OCI index or a Docker manifest list.
pub fn is_index(media_type: &str) -> bool {
    matches!(
        essence(media_type).as_str(),
        OCI_INDEX | DOCKER_MANIFEST_LIST
    )
}

/// An OCI image manifest or a Docker v2 manifest (an
/// [`ImageManifest`](crate::manifest::ImageManifest)).
pub fn is_image_manifest(media_type: &str) -> bool {
    matches!(essence(media_type).as_str(), OCI_MANIFEST | DOCKER_MANIFEST)
}

/// Any of the manifest types in [`DEFAULT_ACCEPT`].
pub fn is_manifest(media_type: &str) -> bool {
    let e = essence(media_type);
    DEFAULT_ACCEPT.contains(&e.as_str())
}

/// The manifest media types to accept when fetching a manifest, in order of preference. Send all of
/// them: a registry answers 404 for a manifest whose type the request did not accept.
pub const DEFAULT_ACCEPT: &[&str] = &[
    OCI_MANIFEST,
    OCI_INDEX,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_ARTIFACT_MANIFEST,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_type_helpers() {
        assert_eq!(DEFAULT_ACCEPT.len(), 5);
        assert_eq!(DEFAULT_ACCEPT[0], OCI_MANIFEST);
        assert!(is_manifest(
            " application/vnd.oci.artifact.manifest.v1+json ; x=y"
        ));
        assert!(!is_manifest(OCI_CONFIG));
        assert!(is_index(OCI_INDEX));
        assert!(!is_index(OCI_MANIFEST));
        assert!(is_image_manifest(DOCKER_MANIFEST));
        assert!(!is_image_manifest(DOCKER_MANIFEST_LIST));
        assert_eq!(essence("A/B;c=d"), "a/b");
    }
}
