//! Reading blobs: [`BlobReader`] (verified, resuming), [`BlobChunk`] (a byte range), and
//! [`BlobClient::download_blob_to`] (an atomic file).
//!
//! # How a download survives a dropped connection
//! The reader remembers how many bytes it has delivered. When the body ends early (the connection
//! closed or broke before `Content-Length` bytes came, or a read failed), it asks the registry
//! again with `Range: bytes={delivered}-`, checks that the `206` answer's `Content-Range` starts
//! there (a registry that ignores `Range` and answers `200` has the delivered prefix skipped), and
//! carries on. The request goes to the registry's blob URL, so an ACR redirect to blob storage is
//! followed again (without credentials, as every cross-origin hop). Each byte is hashed exactly
//! once, when it is first delivered. Up to [`MAX_RESUMES`] consecutive failures without progress
//! are tolerated, with the client's retry backoff between them.
//!
//! # Verification
//! At end of stream the length (when the registry announced one) and the digest are checked; a
//! mismatch or a short body is an [`io::ErrorKind::InvalidData`] error carrying
//! [`Error::DigestMismatch`] or [`Error::SizeMismatch`], never a quiet `Ok(0)`. Until EOF the bytes
//! are unverified: write them somewhere you can discard, as [`BlobClient::download_blob_to`] does.
//!
//! # Speed
//! [`BlobReader::copy_to`] reads the socket on one thread and hashes and writes on the caller's
//! (`pipe::read_ahead`, at most 2 MiB in flight). On 2 cores this beats reading and hashing on one
//! thread, and `curl | openssl dgst`, without letting memory grow with the blob.

use std::io::{self, Read, Write};
use std::ops::Range;
use std::path::Path;

use super::partial::Partial;
use super::range::{ContentRange, range_header};
use super::{BlobClient, check_range, pipe, pull_scope, ranged};
use crate::digest::{Digest, Verifier, error_to_io, io_to_error};
use crate::error::{Error, Result};
use crate::http::{Method, Request, Url, retry_delay};
use crate::pipeline::Pipeline;
use crate::reference::validate_repository;

/// Consecutive failed attempts (without a byte of progress in between) a download tolerates.
pub(crate) const MAX_RESUMES: u32 = 5;

/// Buffers in flight in [`BlobReader::copy_to`] (2 MiB).
const POOL: usize = 8;

type BodyReader = Box<dyn Read + Send>;

/// The network side of a download: delivers the bytes of one blob from `pos` on, reopening the
/// request with `Range` when the connection drops. Does not hash.
struct Fetcher {
    pipeline: Pipeline,
    url: Url,
    scope: String,
    /// Offset of the next byte to deliver.
    pos: u64,
    /// The blob's length, once a response announced it.
    total: Option<u64>,
    body: Option<BodyReader>,
    /// The end of the blob was reached.
    done: bool,
    /// Failures since the last byte of progress.
    failures: u32,
    /// Connections abandoned as too slow (timeouts, the minimum-progress rule) in the whole
    /// download: never reset by progress, so a registry that trickles on every connection ends
    /// the download after [`MAX_RESUMES`] of them instead of being resumed without end.
    slow: u32,
    /// Requests made after the first one.
    resumes: u32,
}

impl Fetcher {
    /// Sends the request for the bytes from `pos` on and checks the answer.
    fn open(&mut self) -> Result<()> {
        let mut req = Request::new(Method::GET, self.url.clone()).scope(self.scope.clone());
        if self.pos > 0 {
            req = req.header("Range", format!("bytes={}-", self.pos));
        }
        let resp = self.pipeline.send(req)?;
        let skip;
        let announced = match resp.status {
            200 => {
                // Whole blob (a registry ignoring Range answers this too): skip what was delivered.
                skip = self.pos;
                resp.content_length()
            }
            206 if self.pos > 0 => {
                let cr = resp
                    .header("content-range")
                    .and_then(ContentRange::parse)
                    .ok_or_else(|| {
                        Error::decode("resumed blob response", "206 without a valid Content-Range")
                    })?;
                if cr.range.start > self.pos {
                    return Err(Error::decode(
                        "resumed blob response",
                        format!("asked for bytes from {}, got {:?}", self.pos, cr.range),
                    ));
                }
                skip = self.pos - cr.range.start;
                cr.total
            }
            416 if self.pos > 0 && self.total == Some(self.pos) => {
                // Everything had arrived; the registry has nothing after it.
                self.body = Some(Box::new(io::empty()));
                return Ok(());
            }
            _ => return Err(resp.into_error()),
        };
        match (self.total, announced) {
            (Some(t), Some(a)) if t != a => {
                return Err(Error::SizeMismatch {
                    what: "blob (length changed between requests)",
                    expected: t,
                    actual: a,
                });
            }
            (None, Some(a)) => self.total = Some(a),
            _ => {}
        }
        let mut body: BodyReader = if skip == 0 {
            ranged::body(
                &self.pipeline,
                &self.url,
                &self.scope,
                resp,
                self.pos,
                self.total,
            )
        } else {
            Box::new(resp.into_reader())
        };
        if skip > 0 {
            let skipped =
                io::copy(&mut (&mut body).take(skip), &mut io::sink()).map_err(Error::Io)?;
            if skipped != skip {
                return Err(Error::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "resumed response ended early",
                )));
            }
        }
        self.body = Some(body);
        Ok(())
    }

    /// Records a failure; `Err` when the budget is spent (the caller returns it).
    fn failed(&mut self, e: io::Error) -> io::Result<()> {
        self.body = None;
        self.failures += 1;
        if e.kind() == io::ErrorKind::TimedOut {
            self.slow += 1;
        }
        if self.failures > MAX_RESUMES || self.slow > MAX_RESUMES {
            return Err(e);
        }
        log::info!(
            "blob download interrupted at byte {} ({e}); resuming (attempt {})",
            self.pos,
            self.failures
        );
        std::thread::sleep(retry_delay(
            self.pipeline.retry_options(),
            self.failures,
            None,
        ));
        Ok(())
    }
}

impl Read for Fetcher {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.done {
            return Ok(0);
        }
        loop {
            if self.body.is_none() {
                self.resumes += 1;
                if let Err(e) = self.open() {
                    if e.is_transport() {
                        self.failed(error_to_io(e))?;
                        continue;
                    }
                    return Err(error_to_io(e));
                }
            }
            let Some(body) = self.body.as_mut() else {
                continue;
            };
            match body.read(buf) {
                Ok(0) => {
                    if self.total.is_some_and(|t| self.pos < t) {
                        let e = io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the connection closed before the blob's end",
                        );
                        self.failed(e)?;
                        continue;
                    }
                    self.body = None;
                    self.done = true;
                    return Ok(0);
                }
                Ok(n) => {
                    self.pos += n as u64;
                    self.failures = 0;
                    if self.total.is_some_and(|t| self.pos > t) {
                        return Err(error_to_io(Error::SizeMismatch {
                            what: "blob (more bytes than announced)",
                            expected: self.total.unwrap_or_default(),
                            actual: self.pos,
                        }));
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.failed(e)?;
                    continue;
                }
            }
        }
    }
}

/// A blob being downloaded: a [`Read`] that streams in constant memory, resumes after a dropped
/// connection, and fails at end of stream unless the bytes match the digest (and the announced
/// length).
///
/// Made by [`BlobClient::get_blob`]. For speed, [`copy_to`](Self::copy_to) reads and hashes on two
/// threads.
pub struct BlobReader {
    fetcher: Fetcher,
    verifier: Verifier,
}

impl std::fmt::Debug for BlobReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobReader")
            .field("digest", self.verifier.expected())
            .field("size", &self.fetcher.total)
            .field("bytes_read", &self.fetcher.pos)
            .finish_non_exhaustive()
    }
}

impl BlobReader {
    /// The digest the bytes are verified against.
    pub fn digest(&self) -> &Digest {
        self.verifier.expected()
    }

    /// The blob's length as the registry announced it (`None` when it streamed without a length).
    pub fn size(&self) -> Option<u64> {
        self.fetcher.total
    }

    /// Bytes delivered so far.
    pub fn bytes_read(&self) -> u64 {
        self.fetcher.pos
    }

    /// Times the download was resumed with a `Range` request after the connection dropped.
    pub fn resumes(&self) -> u32 {
        self.fetcher.resumes
    }

    /// True once the whole blob was read and matched its digest.
    pub fn is_verified(&self) -> bool {
        self.verifier.is_verified()
    }

    /// Also requires the blob to be exactly `size` bytes (e.g. a descriptor's size): fails now when
    /// the registry announced another length, and as soon as more bytes arrive.
    ///
    /// ```no_run
    /// # use azcontainerregistry::{BlobClient, ClientOptions, Credential, Digest};
    /// # let blobs = BlobClient::new(
    /// #     "http://127.0.0.1:5000",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// # let digest = Digest::of(b"hello");
    /// let reader = blobs
    ///     .get_blob("hello-world", &digest)?
    ///     .with_expected_size(5)?;
    /// # let _ = reader;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn with_expected_size(mut self, size: u64) -> Result<Self> {
        if let Some(total) = self.fetcher.total
            && total != size
        {
            return Err(Error::SizeMismatch {
                what: "blob",
                expected: size,
                actual: total,
            });
        }
        if self.fetcher.pos > size {
            return Err(Error::SizeMismatch {
                what: "blob",
                expected: size,
                actual: self.fetcher.pos,
            });
        }
        self.verifier.expect_size(size);
        Ok(self)
    }

    /// Copies the rest of the blob into `writer` and verifies it; returns the bytes written.
    ///
    /// The socket is read on a helper thread while this thread hashes and writes, with at most 2
    /// MiB in flight. On a digest or length mismatch the bytes have been written but an error
    /// is returned: write somewhere you can discard (or use [`BlobClient::download_blob_to`]).
    ///
    /// ```no_run
    /// # use azcontainerregistry::{BlobClient, ClientOptions, Credential, Digest};
    /// # let blobs = BlobClient::new(
    /// #     "http://127.0.0.1:5000",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// # let digest = Digest::of(b"hello");
    /// let mut out = Vec::new();
    /// let n = blobs.get_blob("hello-world", &digest)?.copy_to(&mut out)?;
    /// assert_eq!(n, out.len() as u64);
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn copy_to<W: Write + ?Sized>(&mut self, writer: &mut W) -> Result<u64> {
        let verifier = &mut self.verifier;
        let written = pipe::read_ahead(&mut self.fetcher, POOL, &mut |bytes| {
            verifier.update(bytes).map_err(io_to_error)?;
            writer.write_all(bytes).map_err(Error::Io)
        })?;
        self.verifier
            .finish(self.fetcher.total)
            .map_err(io_to_error)?;
        Ok(written)
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = self.fetcher.read(buf)?;
        if n == 0 {
            self.verifier.finish(self.fetcher.total)?;
            return Ok(0);
        }
        self.verifier.update(&buf[..n])?;
        Ok(n)
    }
}

/// Counts what goes into a partial download.
struct ProgressWriter<'a> {
    inner: &'a mut Partial,
    progress: &'a mut dyn FnMut(u64, Option<u64>),
    size: Option<u64>,
}

impl Write for ProgressWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        (self.progress)(self.inner.done(), self.size);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A byte range of a blob, as [`BlobClient::get_chunk`] returns it: a [`Read`] of exactly the bytes
/// in [`content_range`](Self::content_range). A part of a blob cannot be checked against the blob's
/// digest, so these bytes are not verified.
pub struct BlobChunk {
    content_range: ContentRange,
    body: Box<dyn Read + Send>,
}

impl std::fmt::Debug for BlobChunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobChunk")
            .field("content_range", &self.content_range)
            .finish_non_exhaustive()
    }
}

impl BlobChunk {
    /// The bytes this chunk carries (end exclusive; clipped at the blob's end) and the blob's
    /// length.
    pub fn content_range(&self) -> &ContentRange {
        &self.content_range
    }
}

impl Read for BlobChunk {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.body.read(buf)
    }
}

impl BlobClient {
    /// Starts downloading a blob (`GET /v2/{name}/blobs/{digest}`, following ACR's redirect to blob
    /// storage without credentials). Errors that the first response shows (404, 401…) come back
    /// here; the returned [`BlobReader`] streams the bytes, resumes dropped connections with
    /// `Range`, and fails at end of stream unless they match `digest`.
    ///
    /// ```no_run
    /// # use azcontainerregistry::{BlobClient, ClientOptions, Credential, Digest};
    /// # let blobs = BlobClient::new(
    /// #     "http://127.0.0.1:5000",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// # let digest = Digest::of(b"hello");
    /// let mut layer = blobs.get_blob("hello-world", &digest)?;
    /// let mut file = std::fs::File::create("layer.tar.gz")?;
    /// std::io::copy(&mut layer, &mut file)?; // Err unless verified
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_blob(&self, repository: &str, digest: &Digest) -> Result<BlobReader> {
        validate_repository(repository)?;
        self.get_blob_at(
            repository,
            digest,
            Verifier::new(digest.clone(), None),
            None,
        )
    }

    /// A reader of the bytes after those `verifier` has already seen (a resumed download).
    fn get_blob_at(
        &self,
        repository: &str,
        digest: &Digest,
        verifier: Verifier,
        total: Option<u64>,
    ) -> Result<BlobReader> {
        let url = self.blob_url(repository, digest)?;
        let mut fetcher = Fetcher {
            pipeline: self.pipeline.clone(),
            url,
            scope: pull_scope(repository),
            pos: verifier.seen(),
            total,
            body: None,
            done: false,
            failures: 0,
            slow: 0,
            resumes: 0,
        };
        fetcher.open()?;
        Ok(BlobReader { fetcher, verifier })
    }

    /// Downloads a blob into the file at `path`, verified, and resumable across processes.
    ///
    /// The bytes go to `PATH.partial`, with a small sidecar `PATH.partial.json` recording the
    /// digest and how far the file is written; once the digest matched, the file is synced and
    /// renamed over `path`. When the download fails on the way (connection, timeout, the process
    /// killed), the partial file stays, and the next download of the same digest to the same
    /// `path` hashes what it holds again and asks only for the rest. A corrupt download, or one
    /// that fails before any byte came, leaves nothing at `path` nor beside it. Large blobs come
    /// in parallel ranges ([`ParallelOptions`](crate::ParallelOptions)). Returns the blob's size.
    ///
    /// ```no_run
    /// # use azcontainerregistry::{BlobClient, ClientOptions, Credential, Digest};
    /// # let blobs = BlobClient::new(
    /// #     "http://127.0.0.1:5000",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// # let digest = Digest::of(b"hello");
    /// let size = blobs.download_blob_to("hello-world", &digest, "layer.tar.gz")?;
    /// # let _ = size;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn download_blob_to(
        &self,
        repository: &str,
        digest: &Digest,
        path: impl AsRef<Path>,
    ) -> Result<u64> {
        self.download_blob_to_with_progress(repository, digest, path, &mut |_, _| {})
    }

    /// [`download_blob_to`](Self::download_blob_to), calling `progress(bytes_in_file, size)` as
    /// bytes are written (first with what an earlier run left, then every 256 KiB or so).
    ///
    /// ```no_run
    /// # use azcontainerregistry::{BlobClient, ClientOptions, Credential, Digest};
    /// # let blobs = BlobClient::new(
    /// #     "http://127.0.0.1:5000",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// # let digest = Digest::of(b"hello");
    /// blobs.download_blob_to_with_progress("hello-world", &digest, "layer", &mut |n, size| {
    ///     eprintln!("{n} of {size:?} bytes");
    /// })?;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn download_blob_to_with_progress(
        &self,
        repository: &str,
        digest: &Digest,
        path: impl AsRef<Path>,
        progress: &mut dyn FnMut(u64, Option<u64>),
    ) -> Result<u64> {
        validate_repository(repository)?;
        self.download_resumable(repository, digest, None, path.as_ref(), progress)
    }

    /// [`download_blob_to_with_progress`](Self::download_blob_to_with_progress) of a blob that
    /// must also be `expected_size` bytes when given (a descriptor's size); name validated.
    pub(crate) fn download_resumable(
        &self,
        repository: &str,
        digest: &Digest,
        expected_size: Option<u64>,
        path: &Path,
        progress: &mut dyn FnMut(u64, Option<u64>),
    ) -> Result<u64> {
        let mut partial = Partial::open(path, digest)?;
        let mut verifier = Verifier::new(digest.clone(), None);
        let rehashed = partial.rehash(&mut |b| verifier.update(b).map_err(io_to_error));
        if let Err(e) = rehashed {
            partial.discard();
            return Err(e);
        }
        let size = partial.size();
        let outcome = self
            .get_blob_at(repository, digest, verifier, size)
            .and_then(|reader| match expected_size {
                Some(s) => reader.with_expected_size(s),
                None => Ok(reader),
            })
            .and_then(|mut reader| {
                partial.set_size(reader.size());
                progress(partial.done(), partial.size());
                let size = partial.size();
                let mut out = ProgressWriter {
                    inner: &mut partial,
                    progress: &mut *progress,
                    size,
                };
                reader.copy_to(&mut out)
            });
        match outcome {
            Ok(_) => {
                let size = partial.done();
                partial.finish(path)?;
                Ok(size)
            }
            Err(e) if (e.is_transport() || matches!(e, Error::Io(_))) && partial.done() > 0 => {
                // keep what came for the next run
                let _ = partial.record();
                Err(e)
            }
            Err(e) => {
                partial.discard();
                Err(e)
            }
        }
    }

    /// Reads the bytes `range` (end exclusive) of a blob (`GET` with `Range`, 206). The answer's
    /// `Content-Range` is parsed: a range running past the blob's end comes back clipped (ACR
    /// answers 206 even then). A registry that ignores `Range` (200) has the bytes before
    /// `range.start` skipped. The bytes are not verified (a part has no digest).
    ///
    /// ```no_run
    /// # use std::io::Read;
    /// # use azcontainerregistry::{BlobClient, ClientOptions, Credential, Digest};
    /// # let blobs = BlobClient::new(
    /// #     "http://127.0.0.1:5000",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// # let digest = Digest::of(b"hello");
    /// let mut chunk = blobs.get_chunk("hello-world", &digest, 0..4 * 1024 * 1024)?;
    /// let mut head = Vec::new();
    /// chunk.read_to_end(&mut head)?;
    /// assert_eq!(head.len() as u64, chunk.content_range().len());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_chunk(
        &self,
        repository: &str,
        digest: &Digest,
        range: Range<u64>,
    ) -> Result<BlobChunk> {
        validate_repository(repository)?;
        check_range(&range)?;
        let url = self.blob_url(repository, digest)?;
        let req = Request::new(Method::GET, url)
            .header("Range", range_header(&range))
            .scope(pull_scope(repository));
        let resp = self.pipeline.send(req)?;
        match resp.status {
            206 => {
                let cr = resp
                    .header("content-range")
                    .and_then(ContentRange::parse)
                    .ok_or_else(|| {
                        Error::decode("chunk response", "206 without a valid Content-Range")
                    })?;
                // A range past the blob's end comes back clipped (shorter); a longer one, or
                // one elsewhere, is not the part asked for.
                if cr.range.start != range.start || cr.range.end > range.end {
                    return Err(Error::decode(
                        "chunk response",
                        format!("asked for bytes {range:?}, got {:?}", cr.range),
                    ));
                }
                let len = cr.len();
                Ok(BlobChunk {
                    content_range: cr,
                    body: Box::new(resp.into_reader().take(len)),
                })
            }
            200 => {
                let total = resp
                    .content_length()
                    .ok_or_else(|| Error::decode("chunk response", "200 without Content-Length"))?;
                let end = range.end.min(total);
                let start = range.start.min(end);
                let mut body = resp.into_reader();
                let skipped = io::copy(&mut (&mut body).take(start), &mut io::sink())?;
                if skipped != start {
                    return Err(Error::Io(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "blob response ended early",
                    )));
                }
                Ok(BlobChunk {
                    content_range: ContentRange {
                        range: start..end,
                        total: Some(total),
                    },
                    body: Box::new(body.take(end - start)),
                })
            }
            _ => Err(resp.into_error()),
        }
    }
}
