//! The engine behind whole-blob uploads: one [`Engine`] per upload holds the source, the hash of
//! what was sent, the chunk a plain reader must keep for re-sending, and the session; its three
//! strategies (`monolithic`, `chunked`, `streamed`) are the upload modes described in the
//! [`blob` module docs](crate::blob#uploads), and `upload.rs` picks one.
//!
//! Invariants: bytes `[0, hashed)` were hashed exactly once, the first time they were sent; a plain
//! reader's bytes from `buf_start` on stay in `buf` until the registry acknowledged them; after a
//! failed request, [`Engine::recover`] asks the registry where the session stands and carries on
//! from there, or starts a new session when the source can be replayed from byte 0. At most
//! [`MAX_UPLOAD_RESUMES`] failures in a row without progress are tolerated.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicU64, Ordering};

use super::pipe::{self, Failure, Head, PIECE};
use super::session::{UploadSession, advance, check_completed};
use super::{BlobClient, push_scope};
use crate::digest::{Algorithm, Digest, Hasher};
use crate::error::{Error, ErrorCode, Result};
use crate::http::{Method, retry_delay};

/// A blob the registry now has.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadedBlob {
    /// Its digest (computed while uploading, and confirmed by the registry).
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// True when the registry already had it and nothing was sent
    /// ([`UploadOptions::skip_existing`](super::UploadOptions::skip_existing)).
    pub skipped: bool,
}

/// Failures in a row (without progress) an upload tolerates before giving up.
pub(crate) const MAX_UPLOAD_RESUMES: u32 = 5;

/// The largest `OCI-Chunk-Min-Length` a registry may impose (bytes); a larger demand is ignored, so
/// a registry cannot make the client hold more than this in memory per upload.
const MAX_REGISTRY_MIN_CHUNK: u64 = 64 << 20;

pub(super) trait ReadSeek: Read + Seek {}
impl<T: Read + Seek + ?Sized> ReadSeek for T {}

pub(super) enum Src<'a> {
    Plain(&'a mut dyn Read),
    Seekable {
        inner: &'a mut dyn ReadSeek,
        base: u64,
    },
}

/// The state of one whole-blob upload.
pub(super) struct Engine<'a, 's> {
    client: &'a BlobClient,
    repository: &'a str,
    src: Src<'s>,
    /// Seekable: the bytes from the start position to the end.
    total: Option<u64>,
    /// Blob offset the source's cursor is at.
    src_pos: u64,
    hasher: Hasher,
    /// The sha256 of the same bytes when `hasher` is another algorithm: a registry may answer a
    /// blob's canonical sha256 (`session::check_completed`).
    sha256: Option<Hasher>,
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
    pub(super) fn new(
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
            sha256: (algorithm != Algorithm::Sha256).then(|| Hasher::new(Algorithm::Sha256)),
            hashed: 0,
            eof: None,
            buf: Vec::new(),
            buf_start: 0,
            failures: 0,
            expected,
        }
    }

    pub(super) fn is_seekable(&self) -> bool {
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
                if let Some(h) = &mut self.sha256 {
                    h.update(&self.buf[from..off + n]);
                }
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
        if let Some(h) = &mut self.sha256 {
            h.update(&out[..n]);
        }
        self.hashed += n as u64;
        Ok(n)
    }

    /// Plain reader: reads one byte more than a chunk, which tells whether the blob fits in one.
    pub(super) fn fits_in_one_chunk(&mut self, chunk: usize) -> Result<bool> {
        self.fill_buffer(0, chunk.saturating_add(1))?;
        Ok(self.eof.is_some())
    }

    /// Plain reader: keeps `[x, x + want)` (or up to the source's end) in memory; returns how many
    /// bytes from `x` are held.
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

    /// Every byte up to the source's end hashed (for a monolithic `PUT`, whose URL carries the
    /// digest).
    fn hash_to_end(&mut self) -> Result<()> {
        let mut scratch = vec![0u8; PIECE];
        loop {
            let pos = self.hashed;
            if self.produce_at(pos, &mut scratch).map_err(source_error)? == 0 {
                return Ok(());
            }
        }
    }

    /// Whether the bytes `[x, hashed)` can be sent again: nothing to re-send, a seekable source, or
    /// all of them still in memory.
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
        std::thread::sleep(retry_delay(
            self.client.pipeline.retry_options(),
            self.failures,
            None,
        ));
    }

    /// After a failed request: where to carry on (the registry's offset in the same session, or a
    /// new session from byte 0), or the error when that is impossible.
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
        let sha256 = self.sha256.as_ref().map(Hasher::digest);
        match self
            .client
            .complete_upload_of(&session, &digest, sha256.as_ref())
        {
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
        pipe::write_behind(pipeline, head, len, &mut produce, |resp| {
            let resp = resp.expect(&[202, 204])?;
            let sent = sent_ref.load(Ordering::SeqCst);
            let known = x.checked_add(sent).ok_or_else(|| {
                Error::decode(
                    "upload session",
                    format!("offset {x} plus the {sent} bytes sent passes 2^64"),
                )
            })?;
            let next = advance(session, &resp, known);
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

    /// After a `PATCH` that started at byte `from`: the session the registry now describes (when
    /// `check`, which sees only answered requests, accepts it), or the one recovery found after a
    /// failed transfer; else the error that ends the upload, with the session cancelled.
    fn next_session(
        &mut self,
        session: UploadSession,
        sent: std::result::Result<UploadSession, Failure>,
        from: u64,
        check: impl FnOnce(&mut Self, &UploadSession) -> Result<()>,
    ) -> Result<UploadSession> {
        match sent {
            Ok(next) => {
                if let Err(e) = check(self, &next) {
                    self.cancel(&next);
                    return Err(e);
                }
                if next.offset > from {
                    self.failures = 0;
                }
                Ok(next)
            }
            Err(Failure::Source(e)) => {
                self.cancel(&session);
                Err(e)
            }
            Err(Failure::Transfer(e)) => self.recover(session, e),
        }
    }

    pub(super) fn chunked(&mut self, chunk_size: usize) -> Result<UploadedBlob> {
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
            let sent = self.send(&session, head, x, Some(len));
            session = self.next_session(session, sent, x, |_, next| {
                if next.offset > x + len || next.offset < x {
                    return Err(Error::decode(
                        "upload response",
                        format!(
                            "after bytes {x}..{} the registry reports offset {}",
                            x + len,
                            next.offset
                        ),
                    ));
                }
                Ok(())
            })?;
        }
        self.complete(session)
    }

    pub(super) fn streamed(&mut self) -> Result<UploadedBlob> {
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
            let sent = self.send(&session, head, x, len);
            session = self.next_session(session, sent, x, |engine, next| {
                if next.offset > engine.hashed {
                    return Err(Error::decode(
                        "upload response",
                        format!(
                            "the registry reports {} bytes but {} were sent",
                            next.offset, engine.hashed
                        ),
                    ));
                }
                if engine.eof.is_none() && engine.total.is_none() {
                    // An answered streamed PATCH went to the source's end.
                    engine.eof = Some(engine.hashed);
                }
                Ok(())
            })?;
        }
        self.complete(session)
    }

    /// `POST` + `PUT` with the whole body. The digest is known first: hashed here (`hash_first`) or
    /// the caller's expected one.
    pub(super) fn monolithic(&mut self, hash_first: bool) -> Result<UploadedBlob> {
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
            let result = pipe::write_behind(pipeline, head, len, &mut produce, |resp| {
                let resp = resp.expect(&[201, 204])?;
                let announced = resp.header("docker-content-digest").map(str::to_string);
                drop(resp);
                Ok(announced)
            });
            match result {
                Ok(announced) => {
                    // The registry checked the bytes against the digest; check ours too.
                    self.digest()?;
                    let sha256 = self.sha256.as_ref().map(Hasher::digest);
                    let d = check_completed(announced.as_deref(), &digest, sha256.as_ref())?;
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
