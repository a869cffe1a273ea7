//! # azcontainerregistry
//!
//! A blocking, runtime-free client for Azure Container Registry and every OCI distribution registry.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod digest;
pub mod error;
pub mod reference;

pub use digest::{Algorithm, Digest, DigestCalculator, DigestReader, DigestWriter, Hasher};
pub use error::{Error, ErrorCode, ErrorDetail, RegistryError, Result};
pub use reference::{Reference, TagOrDigest};
