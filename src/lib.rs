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
// Whole images.
pub mod image;

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
pub use options::{Api, Audience, ClientOptions, ParallelOptions, RetryOptions, Timeouts};
pub use pager::{Page, Pager, Pages};
pub use reference::{Reference, TagOrDigest};
/// The HTTP client this crate is built on, re-exported because [`ClientOptions::agent`] takes
/// one of its agents.
pub use ureq;
