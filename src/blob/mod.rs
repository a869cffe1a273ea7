//! [`BlobClient`]: blobs and uploads under `/v2/{name}/blobs`.
//!
//! Every operation of the Go SDK's `BlobClient` is here under its Rust name, plus the whole-blob
//! transfers the Go SDK leaves to its callers:
//!
//! | Go | here |
//! |---|---|
//! | `CheckBlobExists` | [`BlobClient::check_blob_exists`] (size, or `None`) |
//! | `CheckChunkExists` | [`BlobClient::check_chunk_exists`] |
//! | `GetBlob` | [`BlobClient::get_blob`]: a [`BlobReader`], verified, resuming |
//! | `GetChunk` | [`BlobClient::get_chunk`] |
//! | `DeleteBlob` | [`BlobClient::delete_blob`] (404 counts as done) |
//! | `MountBlob` | [`BlobClient::mount_blob`] ([`MountOutcome`]) |
//! | `StartUpload` | [`BlobClient::start_upload`] (an [`UploadSession`]) |
//! | `UploadChunk` | [`BlobClient::upload_chunk`] |
//! | `CompleteUpload` | [`BlobClient::complete_upload`] |
//! | `CancelUpload` | [`BlobClient::cancel_upload`] |
//! | `GetUploadStatus` | [`BlobClient::get_upload_status`] |
//! | `BlobDigestCalculator` | [`DigestCalculator`](crate::DigestCalculator) |
//! | — | [`BlobClient::download_blob_to`] (resumable file), [`BlobReader::copy_to`] (two threads) |
//! | — | [`BlobClient::upload_blob`], [`upload_blob_seekable`], [`upload_file`] |
//!
//! [`upload_blob_seekable`]: BlobClient::upload_blob_seekable
//! [`upload_file`]: BlobClient::upload_file
//!
//! Scopes: reads ask for `repository:{name}:pull`, uploads `pull,push`, deletes `delete`, a mount
//! `repository:{to}:pull,push repository:{from}:pull` (one token for both), so each kind of call is
//! challenged at most once per client. Every name is validated before anything is sent.
//!
//! # Downloads
//! [`BlobReader`] streams in constant memory and fails at end of stream (never a quiet `Ok(0)`)
//! unless the bytes match the digest and the announced length. When the connection drops it asks
//! again with `Range: bytes={received}-`, through ACR's redirect to blob storage (which never gets
//! the registry's credentials), up to 5 failures in a row. [`BlobReader::copy_to`] reads the socket
//! on one thread and hashes and writes on the caller's (2 MiB in flight);
//! [`BlobClient::download_blob_to`] writes a temporary file beside the target, syncs it and renames
//! it only once verified.
//!
//! # Uploads
//! [`BlobClient::upload_blob`] (any `Read`), [`BlobClient::upload_blob_seekable`] and
//! [`BlobClient::upload_file`] compute the digest while the bytes go out (on the caller's thread,
//! while a helper thread writes the socket), each byte hashed once whatever the retries, and check
//! the registry's `Docker-Content-Digest` against it. The [`UploadMode`]s:
//!
//! - `Monolithic`: `POST`, then one `PUT {location}&digest=` with the whole body. The digest goes
//!   in the URL, so it is computed first: from memory for a blob of at most one chunk, by a first
//!   pass over a seekable source, or taken from [`UploadOptions::expected_digest`].
//! - `Chunked`: `PATCH`es of [`UploadOptions::chunk_size`] bytes with `Content-Range: start-end`,
//!   then an empty `PUT`. A plain reader's current chunk stays in memory until acknowledged, so it
//!   can be sent again: memory is one chunk whatever the blob's size.
//! - `Streamed`: one `PATCH` without `Content-Range` carrying everything, then an empty `PUT`.
//! - `Auto` (default): monolithic up to one chunk (two requests); above, chunked for a plain reader
//!   and streamed for a seekable source (it can be re-read from any offset, so chunks would only
//!   add round trips).
//!
//! The default chunk, [`DEFAULT_CHUNK_SIZE`] = 8 MiB, is ~8 ms of data at 1 GB/s against ~1 ms of
//! request turnaround, and bounds what a plain reader's upload holds; a registry's
//! `OCI-Chunk-Min-Length` raises it. When a request fails part-way (connection lost, timeout, 5xx,
//! 416, stale location), the upload asks the registry where it stands (`GET {location}` → `Range:
//! 0-N`) and carries on from byte `N`, from the chunk in memory or by seeking. When the registry
//! has lost the session it starts a new one and sends everything again, which needs a seekable
//! source (or a blob still within its first chunk). Distribution 2.8 loses sessions readily: it
//! drops one whose `PATCH` broke after storing some bytes, and one queried through a location made
//! stale by a `PATCH` whose answer was lost. Prefer [`BlobClient::upload_file`] /
//! [`BlobClient::upload_blob_seekable`] when the source allows it. An upload that fails for good is
//! cancelled.

mod download;
mod engine;
mod partial;
mod pipe;
mod range;
mod ranged;
mod reattach;
mod session;
mod upload;

pub use download::{BlobChunk, BlobReader};
pub use engine::UploadedBlob;
pub use range::ContentRange;
#[cfg(fuzzing)]
pub(crate) use range::upload_offset;
pub use session::{MountOutcome, UploadSession, UploadStatus};
pub use upload::{DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, UploadMode, UploadOptions};

use std::ops::Range;

use crate::client::Client;
use crate::credential::Credential;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::http::{Method, Request, Url};
use crate::options::ClientOptions;
use crate::pipeline::{Pipeline, repository_scope};
use crate::reference::validate_repository;

/// A client for the blobs of one registry. Cheap to clone; made with [`BlobClient::new`] or,
/// sharing a [`Client`]'s connections and tokens, with [`Client::blob_client`].
///
/// ```no_run
/// use azcontainerregistry::{BlobClient, ClientOptions, Credential};
/// let blobs = BlobClient::new(
///     "https://myregistry.azurecr.io",
///     Credential::anonymous(),
///     ClientOptions::default(),
/// )?;
/// # let _ = blobs;
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BlobClient {
    pipeline: Pipeline,
}

impl Client {
    /// A [`BlobClient`] for the same registry, sharing this client's connections and tokens.
    ///
    /// ```no_run
    /// use azcontainerregistry::{Client, ClientOptions, Credential};
    /// let client = Client::new(
    ///     "https://myregistry.azurecr.io",
    ///     Credential::anonymous(),
    ///     ClientOptions::default(),
    /// )?;
    /// let blobs = client.blob_client();
    /// # let _ = blobs;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn blob_client(&self) -> BlobClient {
        BlobClient {
            pipeline: self.pipeline().clone(),
        }
    }
}

pub(crate) fn pull_scope(repository: &str) -> String {
    repository_scope(repository, "pull")
}

pub(crate) fn push_scope(repository: &str) -> String {
    repository_scope(repository, "pull,push")
}

fn delete_scope(repository: &str) -> String {
    repository_scope(repository, "delete")
}

fn check_range(range: &Range<u64>) -> Result<()> {
    if range.start >= range.end {
        return Err(Error::invalid(
            "byte range",
            format!("{}..{}", range.start, range.end),
            "a chunk range must be non-empty (start < end, end exclusive)",
        ));
    }
    Ok(())
}

impl BlobClient {
    /// A blob client for the registry at `endpoint` (same rules as
    /// [`Client::new`](crate::Client::new)).
    pub fn new(endpoint: &str, credential: Credential, options: ClientOptions) -> Result<Self> {
        Ok(BlobClient {
            pipeline: Pipeline::new(endpoint, credential, &options)?,
        })
    }

    /// The registry's endpoint URL.
    pub fn endpoint(&self) -> &str {
        self.pipeline.endpoint().as_str()
    }

    pub(crate) fn blob_url(&self, repository: &str, digest: &Digest) -> Result<Url> {
        self.pipeline
            .url(&format!("/v2/{repository}/blobs/{digest}"))
    }

    /// Whether the repository has the blob: `Some(size)` when it does, `None` on 404 (`HEAD`).
    ///
    /// ```no_run
    /// # use azcontainerregistry::{BlobClient, ClientOptions, Credential, Digest};
    /// # let blobs = BlobClient::new(
    /// #     "http://127.0.0.1:5000",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// let digest = Digest::of(b"hello");
    /// match blobs.check_blob_exists("hello-world", &digest)? {
    ///     Some(size) => println!("present, {size} bytes"),
    ///     None => println!("absent"),
    /// }
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn check_blob_exists(&self, repository: &str, digest: &Digest) -> Result<Option<u64>> {
        validate_repository(repository)?;
        self.head_blob(repository, digest)
    }

    /// `HEAD` of a blob (name already validated). Always under the `pull` scope: distribution
    /// challenges a `HEAD` for `pull` only, and the auth policy then remembers that scope for
    /// whatever was asked.
    pub(crate) fn head_blob(&self, repository: &str, digest: &Digest) -> Result<Option<u64>> {
        let url = self.blob_url(repository, digest)?;
        let resp = self
            .pipeline
            .send(Request::new(Method::HEAD, url).scope(pull_scope(repository)))?;
        let found = match resp.status {
            200 => resp
                .content_length()
                .ok_or_else(|| Error::decode("blob HEAD response", "no Content-Length"))
                .map(Some),
            404 => Ok(None),
            _ => return Err(resp.into_error()),
        };
        drop(resp);
        found
    }

    /// Whether the bytes `range` (end exclusive) of a blob can be read: the range the registry
    /// would serve (clipped to the blob's end, with the blob's total size when known), or
    /// `None` when the blob is absent (`HEAD` with `Range`).
    ///
    /// ```no_run
    /// # use azcontainerregistry::{BlobClient, ClientOptions, Credential, Digest};
    /// # let blobs = BlobClient::new(
    /// #     "http://127.0.0.1:5000",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// # let digest = Digest::of(b"hello");
    /// if let Some(r) = blobs.check_chunk_exists("hello-world", &digest, 0..1024)? {
    ///     println!("bytes {:?} of {:?}", r.range, r.total);
    /// }
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn check_chunk_exists(
        &self,
        repository: &str,
        digest: &Digest,
        range: Range<u64>,
    ) -> Result<Option<ContentRange>> {
        validate_repository(repository)?;
        check_range(&range)?;
        let url = self.blob_url(repository, digest)?;
        let req = Request::new(Method::HEAD, url)
            .header("Range", range::range_header(&range))
            .scope(pull_scope(repository));
        let resp = self.pipeline.send(req)?;
        let found = match resp.status {
            206 => {
                let cr = resp
                    .header("content-range")
                    .and_then(ContentRange::parse)
                    .ok_or_else(|| {
                        Error::decode("chunk HEAD response", "206 without a valid Content-Range")
                    });
                cr.map(Some)
            }
            200 => {
                // The registry ignored Range: it serves the whole blob, so clip the range to its
                // size.
                let total = resp.content_length().ok_or_else(|| {
                    Error::decode("chunk HEAD response", "200 without Content-Length")
                });
                total.map(|total| {
                    let end = range.end.min(total);
                    let start = range.start.min(end);
                    Some(ContentRange {
                        range: start..end,
                        total: Some(total),
                    })
                })
            }
            404 => Ok(None),
            _ => return Err(resp.into_error()),
        };
        drop(resp);
        found
    }

    /// Deletes a blob from a repository (`DELETE`, 202). A blob that is already absent (404) counts
    /// as deleted, as in the other Azure SDKs. The registry must allow deletes (distribution:
    /// `storage.delete.enabled`).
    ///
    /// ```no_run
    /// # use azcontainerregistry::{BlobClient, ClientOptions, Credential, Digest};
    /// # let blobs = BlobClient::new(
    /// #     "http://127.0.0.1:5000",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// blobs.delete_blob("hello-world", &Digest::of(b"hello"))?;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn delete_blob(&self, repository: &str, digest: &Digest) -> Result<()> {
        validate_repository(repository)?;
        let url = self.blob_url(repository, digest)?;
        let resp = self
            .pipeline
            .send(Request::new(Method::DELETE, url).scope(delete_scope(repository)))?;
        match resp.status {
            200 | 202 | 204 | 404 => {
                drop(resp);
                Ok(())
            }
            _ => Err(resp.into_error()),
        }
    }
}
