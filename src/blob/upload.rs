//! Whole-blob uploads, the public side: [`BlobClient::upload_blob`] (any [`Read`]),
//! [`BlobClient::upload_blob_seekable`] (`Read + Seek`), [`BlobClient::upload_file`], and their
//! options. The modes and what they cost are in the [`blob` module docs](crate::blob#uploads); the
//! work is done by `engine.rs`.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::BlobClient;
use super::engine::{Engine, Src, UploadedBlob};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::reference::validate_repository;

/// The default [`UploadOptions::chunk_size`]: 8 MiB.
pub const DEFAULT_CHUNK_SIZE: usize = 8 * 1024 * 1024;

/// How [`BlobClient::upload_blob`] sends the bytes (see the [`blob` module
/// docs](crate::blob#uploads) for the trade-offs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UploadMode {
    /// Monolithic for a blob of at most one chunk; else chunked for a plain reader, streamed for a
    /// seekable source.
    #[default]
    Auto,
    /// `POST` + one `PUT` with the whole body.
    Monolithic,
    /// `PATCH`es of `chunk_size` bytes with `Content-Range`, then `PUT`.
    Chunked,
    /// One `PATCH` without `Content-Range`, then `PUT`.
    Streamed,
}

/// Options of [`BlobClient::upload_blob`].
///
/// ```
/// use azcontainerregistry::blob::{UploadMode, UploadOptions};
/// let options = UploadOptions {
///     chunk_size: 4 * 1024 * 1024,
///     mode: UploadMode::Chunked,
///     ..Default::default()
/// };
/// assert!(options.skip_existing);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadOptions {
    /// The digest the bytes must have (e.g. from a descriptor). The upload fails, and is cancelled
    /// before completion, when the bytes hash to anything else. Needed to skip blobs the registry
    /// has.
    pub expected_digest: Option<Digest>,
    /// With `expected_digest`: ask the registry first (`HEAD`) and send nothing if it has the
    /// blob. Default `true`.
    pub skip_existing: bool,
    /// Chunk size in bytes (chunked mode; also the largest blob sent monolithically by `Auto`, and
    /// the memory a plain reader's upload keeps for resuming). Default [`DEFAULT_CHUNK_SIZE`].
    pub chunk_size: usize,
    /// How to send. Default [`UploadMode::Auto`].
    pub mode: UploadMode,
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions {
            expected_digest: None,
            skip_existing: true,
            chunk_size: DEFAULT_CHUNK_SIZE,
            mode: UploadMode::Auto,
        }
    }
}

impl BlobClient {
    /// Uploads everything `source` yields as one blob and returns its digest and size, in constant
    /// memory (one chunk at most, see [`UploadOptions::chunk_size`]).
    ///
    /// The digest is computed while the bytes stream; with [`UploadOptions::expected_digest`] the
    /// blob is first looked up (and skipped when present, [`UploadOptions::skip_existing`]) and
    /// the bytes must hash to it. A request that fails part-way is resumed from where the
    /// registry says it stands, re-sending from the chunk held in memory. When the registry
    /// loses the session and the blob is larger than one chunk, a plain reader cannot be
    /// re-read: prefer [`upload_blob_seekable`](Self::upload_blob_seekable)
    /// or [`upload_file`](Self::upload_file) when the source allows it.
    ///
    /// ```no_run
    /// # use azcontainerregistry::{BlobClient, ClientOptions, Credential};
    /// # let blobs = BlobClient::new(
    /// #     "http://127.0.0.1:5000",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// let stdin = std::io::stdin().lock();
    /// let pushed = blobs.upload_blob("hello-world", stdin, Default::default())?;
    /// println!("{} ({} bytes)", pushed.digest, pushed.size);
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn upload_blob(
        &self,
        repository: &str,
        mut source: impl Read,
        options: UploadOptions,
    ) -> Result<UploadedBlob> {
        let Some(skipped) = self.upload_prelude(repository, &options)? else {
            return run(self, repository, Src::Plain(&mut source), None, &options);
        };
        Ok(skipped)
    }

    /// Uploads a seekable source from its current position to its end. Like
    /// [`upload_blob`](Self::upload_blob), but no chunk is held in memory, and any failure can be
    /// resumed by seeking, even when the registry lost the session.
    ///
    /// ```no_run
    /// # use azcontainerregistry::{BlobClient, ClientOptions, Credential};
    /// # let blobs = BlobClient::new(
    /// #     "http://127.0.0.1:5000",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// let file = std::fs::File::open("layer.tar.gz")?;
    /// let pushed = blobs.upload_blob_seekable("hello-world", file, Default::default())?;
    /// # let _ = pushed;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn upload_blob_seekable(
        &self,
        repository: &str,
        mut source: impl Read + Seek,
        options: UploadOptions,
    ) -> Result<UploadedBlob> {
        let Some(skipped) = self.upload_prelude(repository, &options)? else {
            let base = source.stream_position()?;
            let end = source.seek(SeekFrom::End(0))?;
            source.seek(SeekFrom::Start(base))?;
            let src = Src::Seekable {
                inner: &mut source,
                base,
            };
            let total = Some(end.saturating_sub(base));
            return run(self, repository, src, total, &options);
        };
        Ok(skipped)
    }

    /// Uploads the file at `path` (see [`upload_blob_seekable`](Self::upload_blob_seekable)).
    ///
    /// ```no_run
    /// # use azcontainerregistry::{BlobClient, ClientOptions, Credential};
    /// # let blobs = BlobClient::new(
    /// #     "http://127.0.0.1:5000",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// let pushed = blobs.upload_file("hello-world", "layer.tar.gz", Default::default())?;
    /// # let _ = pushed;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn upload_file(
        &self,
        repository: &str,
        path: impl AsRef<Path>,
        options: UploadOptions,
    ) -> Result<UploadedBlob> {
        validate_repository(repository)?;
        check_options(&options)?;
        let file = File::open(path.as_ref())?;
        self.upload_blob_seekable(repository, file, options)
    }

    /// Validates, and skips the blob when the registry has it: `Some` means done.
    fn upload_prelude(
        &self,
        repository: &str,
        options: &UploadOptions,
    ) -> Result<Option<UploadedBlob>> {
        validate_repository(repository)?;
        check_options(options)?;
        if let (true, Some(digest)) = (options.skip_existing, &options.expected_digest)
            && let Some(size) = self.head_blob(repository, digest)?
        {
            return Ok(Some(UploadedBlob {
                digest: digest.clone(),
                size,
                skipped: true,
            }));
        }
        Ok(None)
    }
}

/// The largest chunk a caller may ask for: a plain reader's upload holds one chunk in memory.
pub const MAX_CHUNK_SIZE: usize = 1 << 30;
fn check_options(options: &UploadOptions) -> Result<()> {
    if options.chunk_size == 0 || options.chunk_size > MAX_CHUNK_SIZE {
        return Err(Error::invalid(
            "chunk size",
            options.chunk_size.to_string(),
            "the chunk size must be between 1 byte and 1 GiB",
        ));
    }
    Ok(())
}

/// Uploads `src` (`total` bytes from its position, when known) in the mode `options` ask for.
fn run(
    client: &BlobClient,
    repository: &str,
    src: Src<'_>,
    total: Option<u64>,
    options: &UploadOptions,
) -> Result<UploadedBlob> {
    let chunk = options.chunk_size;
    let mut engine = Engine::new(
        client,
        repository,
        src,
        total,
        options.expected_digest.clone(),
    );
    let seekable = engine.is_seekable();
    match (options.mode, seekable) {
        (UploadMode::Auto, true) => {
            if total.unwrap_or(0) <= chunk as u64 {
                engine.monolithic(true)
            } else {
                engine.streamed()
            }
        }
        (UploadMode::Auto, false) => {
            if engine.fits_in_one_chunk(chunk)? {
                engine.monolithic(true)
            } else {
                engine.chunked(chunk)
            }
        }
        (UploadMode::Monolithic, true) => engine.monolithic(options.expected_digest.is_none()),
        (UploadMode::Monolithic, false) => {
            if engine.fits_in_one_chunk(chunk)? {
                engine.monolithic(true)
            } else if options.expected_digest.is_some() {
                engine.monolithic(false)
            } else {
                Err(Error::invalid(
                    "upload options",
                    "UploadMode::Monolithic",
                    "a plain reader larger than chunk_size can only be uploaded monolithically with expected_digest \
                     (the PUT URL carries the digest); use a seekable source, Chunked or Streamed",
                ))
            }
        }
        (UploadMode::Chunked, _) => engine.chunked(chunk),
        (UploadMode::Streamed, _) => engine.streamed(),
    }
}
