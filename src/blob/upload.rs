//! Whole-blob uploads: [`BlobClient::upload_blob`] (any [`Read`]), [`BlobClient::upload_blob_seekable`]
//! (`Read + Seek`) and [`BlobClient::upload_file`].
//!
//! # Modes
//! - **Monolithic**: `POST` then one `PUT {location}&digest=` carrying the whole body. The digest must be
//!   known before the `PUT`, so the blob is hashed first: from memory when it fits in one chunk, by a
//!   first pass over a seekable source, or taken from [`UploadOptions::expected_digest`] (a plain reader
//!   larger than a chunk needs it).
//! - **Chunked**: `PATCH`es of [`UploadOptions::chunk_size`] bytes with `Content-Range: start-end`, then an
//!   empty `PUT`. A plain reader's chunk is held in memory until the registry acknowledged it, so a chunk
//!   that fails part-way can be sent again: memory is one chunk, whatever the blob's size.
//! - **Streamed**: one `PATCH` without `Content-Range` carrying everything (`Content-Length` when the size
//!   is known, else chunked transfer encoding), then an empty `PUT`. No per-chunk round trips.
//! - **Auto** (default): a blob of at most one chunk goes monolithic (2 requests); a larger plain reader
//!   goes chunked (resumable within one chunk of memory); a larger seekable source goes streamed (it can
//!   be re-read from any offset, so chunking would only add round trips).
//!
//! The default chunk is [`DEFAULT_CHUNK_SIZE`] (8 MiB): at the ~1 GB/s a registry takes on a fast link
//! one chunk is ~8 ms of data against ~1 ms of request turnaround, and it bounds what a plain reader keeps
//! in memory. A registry that announces `OCI-Chunk-Min-Length` gets chunks at least that long.
//!
//! # Hashing
//! The digest is computed while the bytes go out, on the caller's thread, while a helper thread writes
//! the socket (see `pump`). Each byte is hashed once, the first time it is sent: bytes sent again after a
//! failure are never hashed again. The registry's `Docker-Content-Digest` must equal ours, and when the
//! caller passed an expected digest, ours must equal it before the upload is completed.
//!
//! # Resuming
//! When a request fails part-way (connection dropped, timeout, 5xx, 416, a stale location), the registry
//! is asked where the upload stands (`GET {location}` → `Range: 0-N`) and the upload carries on from
//! byte `N`, re-sending from the chunk held in memory or by seeking the source. When the registry lost
//! the session, a new session is started and everything is sent again, which needs a seekable source
//! (or a blob still entirely in the first chunk). Distribution 2.8 loses sessions often: it drops one
//! whose `PATCH` broke after some bytes were stored, and one asked about through a location made stale
//! by a `PATCH` whose answer was lost; it keeps it only when the failed request never reached it. At most [`MAX_UPLOAD_RESUMES`] failures in a row without progress are
//! tolerated, with the client's retry backoff between them. An upload that fails for good is cancelled.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use ureq::http::Method;

use super::pump::{self, Failure, Head, PIECE};
use super::session::{UploadSession, advance, check_completed};
use super::{BlobClient, push_scope};
use crate::digest::{Algorithm, Digest, Hasher};
use crate::error::{Error, ErrorCode, Result};
use crate::pipeline::retry;
use crate::reference::validate_repository;

/// The default [`UploadOptions::chunk_size`]: 8 MiB.
pub const DEFAULT_CHUNK_SIZE: usize = 8 * 1024 * 1024;

/// Failures in a row (without progress) an upload tolerates before giving up.
pub(crate) const MAX_UPLOAD_RESUMES: u32 = 5;

/// How [`BlobClient::upload_blob`] sends the bytes (see the [`blob` module docs](crate::blob#uploads)
/// for the trade-offs).
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
/// let options = UploadOptions { chunk_size: 4 * 1024 * 1024, mode: UploadMode::Chunked, ..Default::default() };
/// assert!(options.skip_existing);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadOptions {
    /// The digest the bytes must have (e.g. from a descriptor). The upload fails, and is cancelled
    /// before completion, when the bytes hash to anything else. Needed to skip blobs the registry has.
    pub expected_digest: Option<Digest>,
    /// With `expected_digest`: ask the registry first (`HEAD`) and send nothing if it has the blob.
    /// Default `true`.
    pub skip_existing: bool,
    /// Chunk size in bytes (chunked mode; also the largest blob sent monolithically by `Auto`, and the
    /// memory a plain reader's upload keeps for resuming). Default [`DEFAULT_CHUNK_SIZE`].
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

/// A blob the registry now has.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadedBlob {
    /// Its digest (computed while uploading, and confirmed by the registry).
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// True when the registry already had it and nothing was sent ([`UploadOptions::skip_existing`]).
    pub skipped: bool,
}

trait ReadSeek: Read + Seek {}
impl<T: Read + Seek + ?Sized> ReadSeek for T {}

enum Src<'a> {
    Plain(&'a mut dyn Read),
    Seekable {
        inner: &'a mut dyn ReadSeek,
        base: u64,
    },
}

/// The state of one whole-blob upload.
struct Engine<'a, 's> {
    client: &'a BlobClient,
    repository: &'a str,
    src: Src<'s>,
    /// Seekable: the bytes from the start position to the end.
    total: Option<u64>,
    /// Blob offset the source's cursor is at.
    src_pos: u64,
    hasher: Hasher,
    /// Bytes `[0, hashed)` have been hashed (= sent at least once); never decreases.
    hashed: u64,
    /// The blob's length, once the source ended.
    eof: Option<u64>,
    /// Bytes kept for re-sending (plain reader): `[buf_start, buf_start + buf.len())`.
    buf: Vec<u8>,
    buf_start: u64,
    failures: u32,
    expected: Option<Digest>,
}

fn source_error(e: io::Error) -> Error {
    crate::digest::io_to_error(e)
}

/// Worth asking the registry where the upload stands and trying again.
fn recoverable(e: &Error) -> bool {
    if e.is_transport() {
        return true;
    }
    match e.status() {
        Some(s) if s >= 500 => true,
        Some(401 | 408 | 416 | 429) => true,
        Some(404) => true,
        Some(400) => {
            e.has_code(ErrorCode::BlobUploadInvalid) || e.has_code(ErrorCode::BlobUploadUnknown)
        }
        _ => false,
    }
}

/// The registry no longer knows the session.
fn session_lost(e: &Error) -> bool {
    e.status() == Some(404)
        || e.has_code(ErrorCode::BlobUploadUnknown)
        || e.has_code(ErrorCode::BlobUploadInvalid)
}

impl<'a, 's> Engine<'a, 's> {
    fn new(
        client: &'a BlobClient,
        repository: &'a str,
        src: Src<'s>,
        total: Option<u64>,
        expected: Option<Digest>,
    ) -> Self {
        let algorithm = expected
            .as_ref()
            .map_or(Algorithm::Sha256, Digest::algorithm);
        Engine {
            client,
            repository,
            src,
            total,
            src_pos: 0,
            hasher: Hasher::new(algorithm),
            hashed: 0,
            eof: None,
            buf: Vec::new(),
            buf_start: 0,
            failures: 0,
            expected,
        }
    }

    fn is_seekable(&self) -> bool {
        matches!(self.src, Src::Seekable { .. })
    }

    /// Reads from the source at blob offset `at` (seeking when needed and possible).
    fn read_src(&mut self, at: u64, out: &mut [u8]) -> io::Result<usize> {
        match &mut self.src {
            Src::Plain(r) => {
                if at != self.src_pos {
                    return Err(io::Error::other(
                        "internal: a plain reader cannot be re-read",
                    ));
                }
                let n = loop {
                    match r.read(out) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        other => break other?,
                    }
                };
                self.src_pos += n as u64;
                Ok(n)
            }
            Src::Seekable { inner, base } => {
                if at != self.src_pos {
                    inner.seek(SeekFrom::Start(*base + at))?;
                    self.src_pos = at;
                }
                let n = loop {
                    match inner.read(out) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        other => break other?,
                    }
                };
                self.src_pos += n as u64;
                Ok(n)
            }
        }
    }

    /// The bytes at blob offset `pos` (sequential calls); hashes those sent for the first time.
    fn produce_at(&mut self, pos: u64, out: &mut [u8]) -> io::Result<usize> {
        let buf_end = self.buf_start + self.buf.len() as u64;
        if pos >= self.buf_start && pos < buf_end {
            let off = (pos - self.buf_start) as usize;
            let n = out.len().min(self.buf.len() - off);
            out[..n].copy_from_slice(&self.buf[off..off + n]);
            let end = pos + n as u64;
            if end > self.hashed {
                if self.hashed < self.buf_start {
                    return Err(io::Error::other("internal: gap in the hashed bytes"));
                }
                let from = (self.hashed - self.buf_start) as usize;
                self.hasher.update(&self.buf[from..off + n]);
                self.hashed = end;
            }
            return Ok(n);
        }
        if pos < self.hashed {
            // Sent before: read again without hashing (seekable sources only).
            if !self.is_seekable() {
                return Err(io::Error::other(
                    "a plain reader cannot re-send bytes no longer held in memory",
                ));
            }
            let want = out
                .len()
                .min((self.hashed - pos).min(usize::MAX as u64) as usize);
            let n = self.read_src(pos, &mut out[..want])?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the upload source shrank while it was read",
                ));
            }
            return Ok(n);
        }
        if pos > self.hashed {
            return Err(io::Error::other("internal: bytes skipped while uploading"));
        }
        let want = match self.total {
            Some(t) => out
                .len()
                .min(t.saturating_sub(pos).min(usize::MAX as u64) as usize),
            None => out.len(),
        };
        if want == 0 {
            self.eof = Some(pos);
            return Ok(0);
        }
        let n = self.read_src(pos, &mut out[..want])?;
        if n == 0 {
            if self.total.is_some_and(|t| t != pos) {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the upload source shrank while it was read",
                ));
            }
            self.eof = Some(pos);
            return Ok(0);
        }
        self.hasher.update(&out[..n]);
        self.hashed += n as u64;
        Ok(n)
    }

    /// Plain reader: keeps `[x, x + want)` (or up to the source's end) in memory; returns how many bytes
    /// from `x` are held.
    fn fill_buffer(&mut self, x: u64, want: usize) -> Result<usize> {
        let buf_end = self.buf_start + self.buf.len() as u64;
        if x < self.buf_start || x > buf_end {
            return Err(Error::Io(io::Error::other(format!(
                "cannot resume at byte {x}: only bytes {}..{buf_end} are held in memory",
                self.buf_start
            ))));
        }
        self.buf.drain(..(x - self.buf_start) as usize);
        self.buf_start = x;
        if self.buf.capacity() < want {
            self.buf.reserve_exact(want - self.buf.len());
        }
        if self.buf.len() < want && self.eof.is_none() {
            let Src::Plain(r) = &mut self.src else {
                return Err(Error::Io(io::Error::other(
                    "internal: buffering a seekable source",
                )));
            };
            let need = (want - self.buf.len()) as u64;
            let got = (&mut **r)
                .take(need)
                .read_to_end(&mut self.buf)
                .map_err(source_error)? as u64;
            self.src_pos += got;
            if got < need {
                self.eof = Some(self.buf_start + self.buf.len() as u64);
            }
        }
        Ok(self.buf.len().min(want))
    }

    /// Every byte up to the source's end hashed (for a monolithic `PUT`, whose URL carries the digest).
    fn hash_to_end(&mut self) -> Result<()> {
        let mut scratch = vec![0u8; PIECE];
        loop {
            let pos = self.hashed;
            if self.produce_at(pos, &mut scratch).map_err(source_error)? == 0 {
                return Ok(());
            }
        }
    }

    /// Whether the bytes `[x, hashed)` can be sent again: nothing to re-send, a seekable source, or all
    /// of them still in memory.
    fn can_replay_from(&self, x: u64) -> bool {
        let buf_end = self.buf_start + self.buf.len() as u64;
        x == self.hashed
            || self.is_seekable()
            || (x >= self.buf_start && x <= buf_end && self.hashed <= buf_end)
    }

    fn cancel(&self, session: &UploadSession) {
        if let Err(e) = self.client.cancel_upload(session) {
            log::debug!("cancelling the failed upload failed too: {e}");
        }
    }

    fn backoff(&self) {
        std::thread::sleep(retry::delay(
            &self.client.pipeline.options().retry,
            self.failures,
            None,
        ));
    }

    /// After a failed request: where to carry on (the registry's offset in the same session, or a new
    /// session from byte 0), or the error when that is impossible.
    fn recover(&mut self, session: UploadSession, err: Error) -> Result<UploadSession> {
        if !recoverable(&err) {
            self.cancel(&session);
            return Err(err);
        }
        loop {
            self.failures += 1;
            if self.failures > MAX_UPLOAD_RESUMES {
                self.cancel(&session);
                return Err(err);
            }
            log::info!(
                "upload of a blob to {} failed at byte {} ({err}); asking the registry where it stands (attempt {})",
                self.repository,
                session.offset,
                self.failures
            );
            self.backoff();
            match self.client.get_upload_status(&session) {
                Ok(status) => {
                    if status.offset > self.hashed {
                        self.cancel(&status.session);
                        return Err(Error::decode(
                            "upload status",
                            format!(
                                "the registry holds {} bytes but only {} were sent",
                                status.offset, self.hashed
                            ),
                        ));
                    }
                    if self.can_replay_from(status.offset) {
                        return Ok(status.session);
                    }
                    break;
                }
                Err(e) if session_lost(&e) => break,
                Err(e) if e.is_transport() => continue,
                Err(e) => {
                    self.cancel(&session);
                    return Err(e);
                }
            }
        }
        if self.can_replay_from(0) {
            log::info!("the registry lost the upload session; starting again from byte 0");
            return self.client.start_upload_unchecked(self.repository);
        }
        self.cancel(&session);
        Err(err)
    }

    /// After a completing `PUT` failed in a way that may hide success (its answer was lost, and the
    /// retried `PUT` found the session gone): true when the registry has the blob with our size.
    fn landed(&self, digest: &Digest, e: &Error) -> bool {
        if !(e.is_transport() || session_lost(e) || e.status().is_some_and(|s| s >= 500)) {
            return false;
        }
        let present = self.client.head_blob(self.repository, digest);
        matches!(present, Ok(Some(size)) if size == self.hashed)
    }

    /// The digest of everything sent, checked against the caller's.
    fn digest(&self) -> Result<Digest> {
        let actual = self.hasher.digest();
        if let Some(expected) = &self.expected
            && expected != &actual
        {
            return Err(Error::DigestMismatch {
                what: "upload source",
                expected: expected.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(actual)
    }

    fn complete(&mut self, session: UploadSession) -> Result<UploadedBlob> {
        let digest = match self.digest() {
            Ok(d) => d,
            Err(e) => {
                self.cancel(&session);
                return Err(e);
            }
        };
        match self.client.complete_upload(&session, &digest) {
            Ok(d) => Ok(UploadedBlob {
                digest: d,
                size: self.hashed,
                skipped: false,
            }),
            Err(e) => {
                if self.landed(&digest, &e) {
                    return Ok(UploadedBlob {
                        digest,
                        size: self.hashed,
                        skipped: false,
                    });
                }
                self.cancel(&session);
                Err(e)
            }
        }
    }

    /// Sends `[x, x + len)` (to the source's end when `len` is `None`) with `head`; returns the
    /// advanced session.
    fn send(
        &mut self,
        session: &UploadSession,
        head: Head,
        x: u64,
        len: Option<u64>,
    ) -> std::result::Result<UploadSession, Failure> {
        let sent = AtomicU64::new(0);
        let client: &BlobClient = self.client;
        let pipeline = &client.pipeline;
        let mut pos = x;
        let sent_ref = &sent;
        let mut produce = |out: &mut [u8]| -> io::Result<usize> {
            let n = self.produce_at(pos, out)?;
            pos += n as u64;
            sent_ref.fetch_add(n as u64, Ordering::SeqCst);
            Ok(n)
        };
        pump::send(pipeline, head, len, &mut produce, |resp| {
            let resp = resp.expect(&[202, 204])?;
            let next = advance(
                pipeline,
                session,
                &resp,
                x + sent_ref.load(Ordering::SeqCst),
            );
            drop(resp);
            next
        })
    }

    fn head(
        &self,
        method: Method,
        session: &UploadSession,
        content_range: Option<(u64, u64)>,
    ) -> Head {
        let mut headers = vec![("Content-Type", "application/octet-stream".to_string())];
        if let Some((a, b)) = content_range {
            headers.push(("Content-Range", format!("{a}-{b}")));
        }
        Head {
            method,
            url: session.location.clone(),
            headers,
            scope: push_scope(self.repository),
        }
    }

    fn chunked(&mut self, chunk_size: usize) -> Result<UploadedBlob> {
        let mut session = self.client.start_upload_unchecked(self.repository)?;
        let chunk = match session.min_chunk {
            Some(min) if min > chunk_size as u64 && min <= MAX_REGISTRY_MIN_CHUNK => min as usize,
            _ => chunk_size,
        };
        loop {
            let x = session.offset;
            let len = if self.is_seekable() {
                self.total.unwrap_or(0).saturating_sub(x).min(chunk as u64)
            } else {
                match self.fill_buffer(x, chunk) {
                    Ok(n) => n as u64,
                    Err(e) => {
                        self.cancel(&session);
                        return Err(e);
                    }
                }
            };
            if len == 0 {
                if self.is_seekable() {
                    self.eof = Some(x);
                }
                break;
            }
            let head = self.head(Method::PATCH, &session, Some((x, x + len - 1)));
            match self.send(&session, head, x, Some(len)) {
                Ok(next) => {
                    if next.offset > x + len || next.offset < x {
                        self.cancel(&next);
                        return Err(Error::decode(
                            "upload response",
                            format!(
                                "after bytes {x}..{} the registry reports offset {}",
                                x + len,
                                next.offset
                            ),
                        ));
                    }
                    if next.offset > x {
                        self.failures = 0;
                    }
                    session = next;
                }
                Err(Failure::Source(e)) => {
                    self.cancel(&session);
                    return Err(e);
                }
                Err(Failure::Transfer(e)) => session = self.recover(session, e)?,
            }
        }
        self.complete(session)
    }

    fn streamed(&mut self) -> Result<UploadedBlob> {
        let mut session = self.client.start_upload_unchecked(self.repository)?;
        loop {
            let x = session.offset;
            if self.eof.is_some_and(|e| x >= e) || self.total.is_some_and(|t| x >= t) {
                break;
            }
            if !self.can_replay_from(x) {
                self.cancel(&session);
                return Err(Error::Io(io::Error::other(format!(
                    "the registry holds {x} of {} bytes sent and a plain reader cannot re-send the rest",
                    self.hashed
                ))));
            }
            let len = self.total.map(|t| t - x);
            let head = self.head(Method::PATCH, &session, None);
            match self.send(&session, head, x, len) {
                Ok(next) => {
                    if next.offset > x {
                        self.failures = 0;
                    }
                    if next.offset > self.hashed {
                        self.cancel(&next);
                        return Err(Error::decode(
                            "upload response",
                            format!(
                                "the registry reports {} bytes but {} were sent",
                                next.offset, self.hashed
                            ),
                        ));
                    }
                    if self.eof.is_none() && self.total.is_none() {
                        // A streamed PATCH goes to the source's end; not having reached it is a bug.
                        self.eof = Some(self.hashed);
                    }
                    session = next;
                }
                Err(Failure::Source(e)) => {
                    self.cancel(&session);
                    return Err(e);
                }
                Err(Failure::Transfer(e)) => session = self.recover(session, e)?,
            }
        }
        self.complete(session)
    }

    /// `POST` + `PUT` with the whole body. The digest is known first: hashed here (`hash_first`) or
    /// the caller's expected one.
    fn monolithic(&mut self, hash_first: bool) -> Result<UploadedBlob> {
        let digest = if hash_first {
            self.hash_to_end()?;
            self.digest()?
        } else {
            match &self.expected {
                Some(d) => d.clone(),
                None => {
                    return Err(Error::invalid(
                        "upload options",
                        "Monolithic",
                        "needs the digest first",
                    ));
                }
            }
        };
        let len = if hash_first {
            Some(self.hashed)
        } else {
            self.total
        };
        loop {
            let session = self.client.start_upload_unchecked(self.repository)?;
            let head = Head {
                method: Method::PUT,
                url: session.complete_url(&digest),
                headers: vec![("Content-Type", "application/octet-stream".to_string())],
                scope: push_scope(self.repository),
            };
            let client: &BlobClient = self.client;
            let pipeline = &client.pipeline;
            let mut pos = 0u64;
            let mut produce = |out: &mut [u8]| -> io::Result<usize> {
                let n = self.produce_at(pos, out)?;
                pos += n as u64;
                Ok(n)
            };
            let d = &digest;
            let result = pump::send(pipeline, head, len, &mut produce, |resp| {
                let resp = resp.expect(&[201, 204])?;
                let done = check_completed(&resp, d);
                drop(resp);
                done
            });
            match result {
                Ok(d) => {
                    // The registry checked the bytes against the digest; check ours too.
                    self.digest()?;
                    return Ok(UploadedBlob {
                        digest: d,
                        size: self.hashed,
                        skipped: false,
                    });
                }
                Err(Failure::Source(e)) => {
                    self.cancel(&session);
                    return Err(e);
                }
                Err(Failure::Transfer(e)) => {
                    let all_sent =
                        self.eof.is_some() || self.total.is_some_and(|t| self.hashed >= t);
                    if all_sent && self.landed(&digest, &e) {
                        self.digest()?;
                        return Ok(UploadedBlob {
                            digest,
                            size: self.hashed,
                            skipped: false,
                        });
                    }
                    self.cancel(&session);
                    if !recoverable(&e) || !self.can_replay_from(0) {
                        return Err(e);
                    }
                    self.failures += 1;
                    if self.failures > MAX_UPLOAD_RESUMES {
                        return Err(e);
                    }
                    log::info!(
                        "monolithic upload to {} failed ({e}); starting again",
                        self.repository
                    );
                    self.backoff();
                }
            }
        }
    }
}

impl BlobClient {
    /// Uploads everything `source` yields as one blob and returns its digest and size, in constant
    /// memory (one chunk at most, see [`UploadOptions::chunk_size`]).
    ///
    /// The digest is computed while the bytes stream; with [`UploadOptions::expected_digest`] the blob is
    /// first looked up (and skipped when present, [`UploadOptions::skip_existing`]) and the bytes must hash
    /// to it. A request that fails part-way is resumed from where the registry says it stands, re-sending
    /// from the chunk held in memory. When the registry loses the session and the blob is larger than
    /// one chunk, a plain reader cannot be re-read: prefer [`upload_blob_seekable`](Self::upload_blob_seekable)
    /// or [`upload_file`](Self::upload_file) when the source allows it.
    ///
    /// ```no_run
    /// # use azcontainerregistry::{BlobClient, ClientOptions, Credential};
    /// # let blobs = BlobClient::new("http://127.0.0.1:5000", Credential::anonymous(), ClientOptions::default())?;
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
            return self.upload_impl(repository, Src::Plain(&mut source), &options);
        };
        Ok(skipped)
    }

    /// Uploads a seekable source from its current position to its end. Like
    /// [`upload_blob`](Self::upload_blob), but no chunk is held in memory, and any failure can be resumed by
    /// seeking, even when the registry lost the session.
    ///
    /// ```no_run
    /// # use azcontainerregistry::{BlobClient, ClientOptions, Credential};
    /// # let blobs = BlobClient::new("http://127.0.0.1:5000", Credential::anonymous(), ClientOptions::default())?;
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
            return self.upload_impl_sized(
                repository,
                src,
                Some(end.saturating_sub(base)),
                &options,
            );
        };
        Ok(skipped)
    }

    /// Uploads the file at `path` (see [`upload_blob_seekable`](Self::upload_blob_seekable)).
    ///
    /// ```no_run
    /// # use azcontainerregistry::{BlobClient, ClientOptions, Credential};
    /// # let blobs = BlobClient::new("http://127.0.0.1:5000", Credential::anonymous(), ClientOptions::default())?;
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

    fn upload_impl(
        &self,
        repository: &str,
        src: Src<'_>,
        options: &UploadOptions,
    ) -> Result<UploadedBlob> {
        self.upload_impl_sized(repository, src, None, options)
    }

    fn upload_impl_sized(
        &self,
        repository: &str,
        src: Src<'_>,
        total: Option<u64>,
        options: &UploadOptions,
    ) -> Result<UploadedBlob> {
        let chunk = options.chunk_size;
        let mut engine = Engine::new(
            self,
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
                // One byte more than a chunk tells whether the blob fits in one.
                engine.fill_buffer(0, chunk.saturating_add(1))?;
                if engine.eof.is_some() {
                    engine.monolithic(true)
                } else {
                    engine.chunked(chunk)
                }
            }
            (UploadMode::Monolithic, true) => engine.monolithic(engine.expected.is_none()),
            (UploadMode::Monolithic, false) => {
                engine.fill_buffer(0, chunk.saturating_add(1))?;
                if engine.eof.is_some() {
                    engine.monolithic(true)
                } else if engine.expected.is_some() {
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
}

/// The largest chunk a caller may ask for: a plain reader's upload holds one chunk in memory.
pub const MAX_CHUNK_SIZE: usize = 1 << 30;
/// The largest `OCI-Chunk-Min-Length` a registry may impose (bytes); a larger demand is ignored, so a
/// registry cannot make the client hold more than this in memory per upload.
const MAX_REGISTRY_MIN_CHUNK: u64 = 64 << 20;

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
