//! A blocking, runtime-free client for Azure Container Registry and every OCI distribution
//! registry.
//!
//! The full guide is the README, included below when the crate is built with its default `azure`
//! feature.
#![cfg_attr(feature = "azure", doc = include_str!("../README.md"))]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

// The layers, lowest first: a module imports only from the layers listed before its own, and
// foundation modules from each other without cycles (CONTRIBUTING.md; scripts/check-structure).
//
// Foundation: errors, options, names, digests, times, redaction, manifest and ACR models.
mod atomic_file;
pub mod digest;
pub mod error;
mod json;
pub mod manifest;
pub mod models;
pub mod options;
mod redact;
pub mod reference;
mod timestamp;
// HTTP: the only layer that sends requests (and names ureq).
mod http;
// Credentials and token flows.
pub mod credential;
// The pipeline: auth policy and redirect guard over the transport.
mod pipeline;
// Clients: one method per operation.
pub mod blob;
mod client;
// Whole images; the blob cache; files as artifacts (through the cache).
pub mod artifact;
pub mod cache;
pub mod image;
// Retention: plan and purge old images.
pub mod purge;
// The build-script helper: artifacts for build.rs, signed in and cached.
pub mod build;

pub use blob::{
    BlobChunk, BlobClient, BlobReader, ContentRange, DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE,
    MountOutcome, UploadMode, UploadOptions, UploadSession, UploadStatus, UploadedBlob,
};
pub use client::*;
pub use credential::{
    AccessToken, AcrAccessToken, AcrRefreshToken, AuthenticationClient, Credential, DockerConfig,
    ExchangeGrantType, ExchangeOptions, NULL_GUID, Secret, TokenCredential, TokenGrantType,
};
pub use digest::{Algorithm, Digest, DigestCalculator, DigestReader, DigestWriter, Hasher};
pub use error::{Error, ErrorCode, ErrorDetail, RegistryError, Result};
pub use manifest::{
    ArtifactManifest, DEFAULT_ACCEPT, Descriptor, ImageIndex, ImageManifest, Manifest, Platform,
    media_type,
};
pub use models::*;
pub use options::{
    AZURE_REGISTRY_SUFFIXES, Api, Audience, ClientOptions, MinProgress, ParallelOptions,
    RetryOptions, Timeouts, is_azure_registry_host,
};
pub use pager::{Page, Pager, Pages};
pub use redact::is_secret_name;
pub use reference::{Reference, TagOrDigest};
/// The HTTP client this crate is built on, re-exported because [`ClientOptions::agent`] takes
/// one of its agents.
pub use ureq;

/// Entry points for the fuzz targets in `fuzz/` (built only with `--cfg fuzzing`, which
/// cargo-fuzz sets), so the crate-private parsers can be fuzzed without growing the public API.
/// Each function parses its input and panics when an invariant of the parser breaks.
#[cfg(fuzzing)]
#[doc(hidden)]
#[allow(missing_docs)]
pub mod __fuzz {
    use crate::blob::ContentRange;
    use crate::credential::challenge::{self, Challenge};
    use crate::manifest::{Manifest, media_type};
    use crate::{Digest, Reference, Timestamp};

    pub fn challenge(header: &str) {
        let all = Challenge::parse_all(header);
        for c in &all {
            assert_eq!(c.scheme, c.scheme.to_ascii_lowercase());
            for scope in c.scopes() {
                assert!(!scope.is_empty() && !scope.contains(char::is_whitespace));
            }
        }
        if let Some(c) = challenge::pick(&[header]) {
            assert!(all.contains(&c));
        }
    }

    pub fn link(header: &str) {
        let base = crate::http::Url::parse("https://r.example/v2/_catalog?n=2").expect("base");
        if let Ok(Some(url)) = crate::http::link::next_link(Some(header), &base) {
            assert!(url.origin() == base.origin());
        }
    }

    pub fn content_range(header: &str, known: u64) {
        if let Some(r) = ContentRange::parse(header) {
            assert!(r.range.start < r.range.end);
            if let Some(total) = r.total {
                assert!(r.range.end <= total);
            }
            let again = format!(
                "bytes {}-{}/{}",
                r.range.start,
                r.range.end - 1,
                r.total.map_or("*".to_string(), |t| t.to_string())
            );
            assert_eq!(ContentRange::parse(&again), Some(r));
        }
        if let Some(offset) = crate::blob::upload_offset(header, known) {
            assert!(offset > 0 || known == 0);
        }
    }

    pub fn reference(s: &str) {
        if let Ok(r) = Reference::parse(s) {
            let again = Reference::parse(&r.to_string()).expect("a displayed reference parses");
            assert_eq!(again, r);
        }
        if let Ok(t) = crate::TagOrDigest::parse(s) {
            assert_eq!(crate::TagOrDigest::parse(&t.to_string()).ok(), Some(t));
        }
    }

    pub fn digest(s: &str) {
        if let Ok(d) = Digest::parse(s) {
            assert_eq!(d.as_str(), s);
            assert_eq!(Digest::parse(&d.to_string()).ok(), Some(d));
        }
    }

    pub fn manifest(content_type: &str, bytes: &[u8]) {
        let Ok(m) = Manifest::from_bytes(content_type, bytes) else {
            return;
        };
        let encoded = m.to_bytes();
        let kind = match &m {
            Manifest::Image(_) => media_type::OCI_MANIFEST,
            Manifest::Index(_) => media_type::OCI_INDEX,
            _ => media_type::OCI_ARTIFACT_MANIFEST,
        };
        let again = Manifest::from_bytes(kind, &encoded).expect("re-encoded manifest decodes");
        assert_eq!(again, m);
        assert_eq!(again.to_bytes(), encoded);
    }

    pub fn timestamp(s: &str) {
        if let Ok(t) = Timestamp::parse(s) {
            let text = t.to_rfc3339();
            let again = Timestamp::parse(&text).expect("a written timestamp parses");
            assert_eq!(
                (again.unix_seconds(), again.subsec_nanos()),
                (t.unix_seconds(), t.subsec_nanos())
            );
            assert_eq!(again.to_rfc3339(), text);
        }
    }
}
