//! A blocking, runtime-free client for Azure Container Registry and every OCI distribution registry.
//!
//! The full guide is the README, included below when the crate is built with its default `azure` feature.
#![cfg_attr(feature = "azure", doc = include_str!("../README.md"))]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod blob;
mod catalog;
mod client;
pub mod credential;
pub mod digest;
pub mod error;
pub mod image;
pub mod manifest;
mod manifests;
mod metadata;
pub mod models;
pub mod options;
pub mod pager;
pub(crate) mod pipeline;
pub mod reference;
mod referrers;

pub use blob::{
    BlobChunk, BlobClient, BlobReader, ContentRange, DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE,
    MountOutcome, UploadMode, UploadOptions, UploadSession, UploadStatus, UploadedBlob,
};
pub use catalog::ListNamesOptions;
pub use client::Client;
pub use credential::{
    AccessToken, AcrAccessToken, AcrRefreshToken, AuthenticationClient, Credential,
    ExchangeGrantType, ExchangeOptions, Secret, TokenCredential, TokenGrantType,
};
pub use digest::{Algorithm, Digest, DigestCalculator, DigestReader, DigestWriter, Hasher};
pub use error::{Error, ErrorCode, ErrorDetail, RegistryError, Result};
pub use manifest::{
    ArtifactManifest, DEFAULT_ACCEPT, Descriptor, ImageIndex, ImageManifest, Manifest, Platform,
    media_type,
};
pub use manifests::{GetManifestOptions, MAX_MANIFEST_SIZE, ManifestInfo, ManifestResponse};
pub use metadata::{ListManifestsOptions, ListRepositoriesOptions, ListTagsOptions};
pub use models::{
    ArtifactManifestProperties, ArtifactOrder, ArtifactTagProperties, ChangeableAttributes,
    DeleteRepositoryResult, ManifestAttributes, ManifestList, ManifestOrderBy, ManifestReference,
    ManifestWriteableProperties, RepositoryList, RepositoryProperties,
    RepositoryWriteableProperties, TagAttributes, TagList, TagOrderBy, TagWriteableProperties,
    Timestamp,
};
pub use options::{Audience, ClientOptions, RetryOptions, Timeouts};
pub use pager::{Page, Pager, Pages};
pub use reference::{Reference, TagOrDigest};
