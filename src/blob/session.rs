//! Upload sessions, one request per call as in the Go SDK: [`BlobClient::mount_blob`] (which opens
//! one when it cannot mount), [`BlobClient::start_upload`],
//! [`BlobClient::upload_chunk`], [`BlobClient::get_upload_status`],
//! [`BlobClient::complete_upload`], [`BlobClient::cancel_upload`].
//!
//! The registry names each session by a `Location` URL that changes with every chunk (distribution
//! and ACR sign the offset into its `_state` query; a stale one is refused with
//! `BLOB_UPLOAD_INVALID`), so every call returns the session as the registry now describes it and
//! the caller keeps the newest. The `Location` is resolved against the request URL whether it is
//! relative (ACR) or absolute (distribution); its query is kept as is and `digest` appended to it.
//! Credentials only go along when it is on the registry's own origin.

use std::fmt;
use std::io::{self, Read};

use super::range::upload_offset;
use super::{BlobClient, pull_scope, push_scope};
use crate::digest::{Algorithm, Digest, DigestCalculator};
use crate::error::{Error, Result};
use crate::http::{Body, Method, Request, Response, Url, resolve};
use crate::redact;
use crate::reference::validate_repository;

/// An upload in progress: where to send the next chunk and how many bytes the registry holds.
///
/// Returned by [`BlobClient::start_upload`] and by every call that advances the upload; always use
/// the newest. Its location carries the registry's signed upload state: treat it as a secret (its
/// `Debug` output redacts it).
#[derive(Clone, PartialEq, Eq)]
pub struct UploadSession {
    pub(crate) repository: String,
    pub(crate) location: Url,
    pub(crate) uuid: Option<String>,
    pub(crate) offset: u64,
    pub(crate) min_chunk: Option<u64>,
}

impl UploadSession {
    /// The repository the blob is uploaded to.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The absolute URL of the session (the resolved `Location`), including the registry's state
    /// query.
    pub fn location(&self) -> &str {
        self.location.as_str()
    }

    /// The registry's `Docker-Upload-UUID`, when it sent one.
    pub fn uuid(&self) -> Option<&str> {
        self.uuid.as_deref()
    }

    /// Bytes the registry has received so far: where the next chunk starts.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The smallest chunk (except the last) the registry accepts, from its `OCI-Chunk-Min-Length`
    /// header.
    pub fn min_chunk_length(&self) -> Option<u64> {
        self.min_chunk
    }

    /// The URL that completes the upload: the location with `digest` appended (`&` when it has a
    /// query).
    pub(crate) fn complete_url(&self, digest: &Digest) -> Url {
        let mut url = self.location.clone();
        let query = match url.query() {
            Some(q) if !q.is_empty() => format!("{q}&digest={digest}"),
            _ => format!("digest={digest}"),
        };
        url.set_query(Some(&query));
        url
    }
}

impl fmt::Debug for UploadSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadSession")
            .field("repository", &self.repository)
            .field("location", &redact::url(self.location.as_str()))
            .field("uuid", &self.uuid)
            .field("offset", &self.offset)
            .finish_non_exhaustive()
    }
}

/// What [`BlobClient::mount_blob`] achieved.
#[derive(Debug, Clone)]
pub enum MountOutcome {
    /// The registry linked the blob into the target repository (201); nothing needs uploading.
    Mounted,
    /// The registry did not mount (202: the blob or the source repository is unknown to it, or the
    /// caller may not read it) and opened an upload session instead: upload the blob through
    /// it, or cancel it. Also when a mount by a `sha512` digest was answered 201 but the target
    /// does not have the blob under that digest (distribution 2.8 does that): uploading it
    /// through the session links it.
    UploadStarted(UploadSession),
}

/// What [`BlobClient::get_upload_status`] learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadStatus {
    /// Bytes the registry holds (from its `Range: 0-N`).
    pub offset: u64,
    /// The session as the registry now describes it (newest location, `offset` as above).
    pub session: UploadSession,
}

/// Builds the new session a registry opened in an upload response (`POST`, 202). A new session
/// holds no bytes: one that reports any (`Range: 0-N`, N > 0) is refused, or an upload would skip
/// the bytes the registry claims to have and complete with the digest of what it never sent.
pub(crate) fn session_from(repository: &str, resp: &Response) -> Result<UploadSession> {
    let location = resp
        .header("location")
        .ok_or_else(|| Error::decode("upload response", "no Location header"))?;
    let location = resolve(&resp.url, location.trim(), "upload location")?;
    let offset = offset_from(resp, 0)?;
    if offset != 0 {
        return Err(Error::decode(
            "upload response",
            format!("a new upload session reports {offset} bytes received; it must hold none"),
        ));
    }
    Ok(UploadSession {
        repository: repository.to_string(),
        location,
        uuid: resp
            .header("docker-upload-uuid")
            .map(|s| s.trim().to_string()),
        offset,
        min_chunk: resp
            .header("oci-chunk-min-length")
            .and_then(|v| v.trim().parse().ok())
            .filter(|&n| n > 0),
    })
}

/// The session after a response that may or may not carry a new `Location` (status, chunk).
pub(crate) fn advance(old: &UploadSession, resp: &Response, known: u64) -> Result<UploadSession> {
    let location = match resp.header("location") {
        Some(l) => resolve(&resp.url, l.trim(), "upload location")?,
        None => old.location.clone(),
    };
    Ok(UploadSession {
        repository: old.repository.clone(),
        location,
        uuid: resp
            .header("docker-upload-uuid")
            .map(|s| s.trim().to_string())
            .or_else(|| old.uuid.clone()),
        offset: offset_from(resp, known)?,
        min_chunk: resp
            .header("oci-chunk-min-length")
            .and_then(|v| v.trim().parse().ok())
            .filter(|&n| n > 0)
            .or(old.min_chunk),
    })
}

fn offset_from(resp: &Response, known: u64) -> Result<u64> {
    match resp.header("range") {
        Some(r) => upload_offset(r, known).ok_or_else(|| {
            Error::decode(
                "upload response",
                format!("bad Range header {r:?} (expected 0-N)"),
            )
        }),
        None => Ok(known),
    }
}

/// Checks the `Docker-Content-Digest` (`announced`) of a completed upload against the digest it
/// was completed with, and returns that digest.
///
/// A registry may answer another algorithm's digest than the one asked for: distribution 2.8
/// stores a blob uploaded by `sha512:…` and answers its canonical `sha256:…`. Such an answer is
/// checked against `content_sha256`, the sha256 of the bytes sent, when the caller computed it
/// (the whole-blob uploads do); a session completed by hand cannot tell, and the registry has
/// checked the bytes against the requested digest already.
pub(crate) fn check_completed(
    announced: Option<&str>,
    digest: &Digest,
    content_sha256: Option<&Digest>,
) -> Result<Digest> {
    if let Some(d) = announced {
        let what = "uploaded blob (registry's Docker-Content-Digest)";
        check_announced(what, d, digest, content_sha256)?;
    }
    Ok(digest.clone())
}

/// `announced` (a `Docker-Content-Digest`) names the same bytes as `digest`: equal to it, or of
/// another algorithm and then equal to `content_sha256` when that is known (see
/// [`check_completed`]).
fn check_announced(
    what: &'static str,
    announced: &str,
    digest: &Digest,
    content_sha256: Option<&Digest>,
) -> Result<()> {
    let announced = announced.trim();
    let mismatch = |expected: &Digest| Error::DigestMismatch {
        what,
        expected: expected.to_string(),
        actual: announced.to_string(),
    };
    if announced == digest.as_str() {
        return Ok(());
    }
    let parsed = Digest::parse(announced).map_err(|_| mismatch(digest))?;
    if parsed.algorithm() == digest.algorithm() {
        return Err(mismatch(digest));
    }
    match content_sha256 {
        Some(ours) if parsed.algorithm() == ours.algorithm() && &parsed != ours => {
            Err(mismatch(ours))
        }
        Some(ours) if parsed.algorithm() != ours.algorithm() => Err(mismatch(digest)),
        _ => Ok(()),
    }
}

/// Counts what passes through.
struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

impl BlobClient {
    /// Opens an upload session in `repository` (`POST /v2/{name}/blobs/uploads/`, 202).
    ///
    /// ```no_run
    /// # use azcontainerregistry::{BlobClient, ClientOptions, Credential};
    /// # use azcontainerregistry::{Digest, DigestCalculator};
    /// # let blobs = BlobClient::new(
    /// #     "http://127.0.0.1:5000",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// let mut calc = DigestCalculator::new();
    /// let session = blobs.start_upload("hello-world")?;
    /// let session = blobs.upload_chunk(&session, &b"hello "[..], Some(6), Some(&mut calc))?;
    /// let session = blobs.upload_chunk(&session, &b"world"[..], Some(5), Some(&mut calc))?;
    /// let digest = blobs.complete_upload(&session, &calc.digest())?;
    /// assert_eq!(digest, Digest::of(b"hello world"));
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn start_upload(&self, repository: &str) -> Result<UploadSession> {
        validate_repository(repository)?;
        self.start_upload_unchecked(repository)
    }

    pub(crate) fn start_upload_unchecked(&self, repository: &str) -> Result<UploadSession> {
        let url = self
            .pipeline
            .url(&format!("/v2/{repository}/blobs/uploads/"))?;
        let req = Request::new(Method::POST, url)
            .body(Body::Bytes(b""))
            .scope(push_scope(repository));
        let resp = self.pipeline.send(req)?.expect(&[202])?;
        let session = session_from(repository, &resp);
        drop(resp);
        session
    }

    /// Sends the next chunk of an upload (`PATCH {location}`, 202) and returns the advanced
    /// session.
    ///
    /// The chunk starts at the session's [`offset`](UploadSession::offset) (the registry refuses
    /// any other start, so it is not a parameter). With `len = Some(n)` exactly `n` bytes are
    /// read from `chunk` and sent with `Content-Range: {offset}-{offset+n-1}` (no `bytes `
    /// prefix: ACR and distribution want it bare) and `Content-Length`; with `None`, `chunk` is
    /// streamed to its end without `Content-Range`.
    ///
    /// `calculator` hashes the chunk as it is sent, with the Go SDK's semantics: its state is saved
    /// first and restored when the chunk fails, so sending the chunk again does not hash it
    /// twice.
    ///
    /// ```no_run
    /// # use azcontainerregistry::{BlobClient, ClientOptions, Credential, DigestCalculator};
    /// # let blobs = BlobClient::new(
    /// #     "http://127.0.0.1:5000",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// let mut calc = DigestCalculator::new();
    /// let session = blobs.start_upload("hello-world")?;
    /// let part = std::fs::File::open("part1")?;
    /// let session = blobs.upload_chunk(&session, part, None, Some(&mut calc))?;
    /// blobs.complete_upload(&session, &calc.digest())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn upload_chunk(
        &self,
        session: &UploadSession,
        chunk: impl Read,
        len: Option<u64>,
        calculator: Option<&mut DigestCalculator>,
    ) -> Result<UploadSession> {
        if len == Some(0) {
            return Err(Error::invalid(
                "chunk length",
                "0",
                "a chunk sent with a length must have at least one byte",
            ));
        }
        match calculator {
            Some(calc) => {
                calc.save();
                let result = {
                    let reader = calc.wrap_reader(chunk);
                    self.patch_chunk(session, reader, len)
                };
                if result.is_err() {
                    calc.restore();
                }
                result
            }
            None => self.patch_chunk(session, chunk, len),
        }
    }

    fn patch_chunk(
        &self,
        session: &UploadSession,
        chunk: impl Read,
        len: Option<u64>,
    ) -> Result<UploadSession> {
        let start = session.offset;
        let mut req = Request::new(Method::PATCH, session.location.clone())
            .header("Content-Type", "application/octet-stream")
            .scope(push_scope(&session.repository));
        let mut counting = match len {
            Some(n) => {
                let end = start
                    .checked_add(n)
                    .and_then(|e| e.checked_sub(1))
                    .ok_or_else(|| {
                        Error::invalid(
                            "chunk length",
                            n.to_string(),
                            "a chunk has at least one byte and ends below 2^64",
                        )
                    })?;
                req = req.header("Content-Range", format!("{start}-{end}"));
                Counting {
                    inner: Box::new(chunk.take(n)) as Box<dyn Read>,
                    count: 0,
                }
            }
            None => Counting {
                inner: Box::new(chunk) as Box<dyn Read>,
                count: 0,
            },
        };
        let resp = self.pipeline.send(req.body(Body::Reader {
            reader: &mut counting,
            len,
        }));
        let sent = counting.count;
        let resp = resp?;
        if let Some(n) = len
            && sent != n
        {
            return Err(Error::SizeMismatch {
                what: "chunk",
                expected: n,
                actual: sent,
            });
        }
        let resp = resp.expect(&[202, 204])?;
        let known = start.checked_add(sent).ok_or_else(|| {
            Error::decode(
                "upload session",
                format!("offset {start} plus the {sent} bytes sent passes 2^64"),
            )
        })?;
        let next = advance(session, &resp, known)?;
        drop(resp);
        if next.offset > known || next.offset < start {
            return Err(Error::decode(
                "upload response",
                format!(
                    "after bytes {start}..{known} the registry reports offset {}",
                    next.offset
                ),
            ));
        }
        Ok(next)
    }

    /// Asks the registry how far an upload got (`GET {location}`, 204 with `Range: 0-N`).
    ///
    /// ```no_run
    /// # use azcontainerregistry::{BlobClient, ClientOptions, Credential};
    /// # let blobs = BlobClient::new(
    /// #     "http://127.0.0.1:5000",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// let session = blobs.start_upload("hello-world")?;
    /// let status = blobs.get_upload_status(&session)?;
    /// assert_eq!(status.offset, 0);
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn get_upload_status(&self, session: &UploadSession) -> Result<UploadStatus> {
        let req = Request::new(Method::GET, session.location.clone())
            .scope(push_scope(&session.repository));
        let resp = self.pipeline.send(req)?.expect(&[200, 204])?;
        let session = advance(session, &resp, session.offset);
        drop(resp);
        let session = session?;
        Ok(UploadStatus {
            offset: session.offset,
            session,
        })
    }

    /// Completes an upload (`PUT {location}&digest={digest}`, 201): the registry checks the bytes
    /// it received against `digest` (`DIGEST_INVALID` otherwise, see
    /// [`Error::has_code`](crate::Error::has_code)). The registry's `Docker-Content-Digest` is
    /// checked too.
    ///
    /// ```no_run
    /// # use azcontainerregistry::{BlobClient, ClientOptions, Credential, Digest};
    /// # let blobs = BlobClient::new(
    /// #     "http://127.0.0.1:5000",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// let session = blobs.start_upload("hello-world")?;
    /// let session = blobs.upload_chunk(&session, &b"hello"[..], Some(5), None)?;
    /// blobs.complete_upload(&session, &Digest::of(b"hello"))?;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn complete_upload(&self, session: &UploadSession, digest: &Digest) -> Result<Digest> {
        self.complete_upload_of(session, digest, None)
    }

    /// [`complete_upload`](Self::complete_upload) for bytes whose sha256 the caller computed
    /// (see [`check_completed`]).
    pub(crate) fn complete_upload_of(
        &self,
        session: &UploadSession,
        digest: &Digest,
        content_sha256: Option<&Digest>,
    ) -> Result<Digest> {
        let req = Request::new(Method::PUT, session.complete_url(digest))
            .header("Content-Type", "application/octet-stream")
            .body(Body::Bytes(b""))
            .scope(push_scope(&session.repository));
        let resp = self.pipeline.send(req)?.expect(&[201, 204])?;
        let done = check_completed(resp.header("docker-content-digest"), digest, content_sha256);
        drop(resp);
        done
    }

    /// Abandons an upload (`DELETE {location}`, 204); a session the registry no longer knows (404)
    /// counts as cancelled.
    ///
    /// ```no_run
    /// # use azcontainerregistry::{BlobClient, ClientOptions, Credential};
    /// # let blobs = BlobClient::new(
    /// #     "http://127.0.0.1:5000",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// let session = blobs.start_upload("hello-world")?;
    /// blobs.cancel_upload(&session)?;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn cancel_upload(&self, session: &UploadSession) -> Result<()> {
        let req = Request::new(Method::DELETE, session.location.clone())
            .scope(push_scope(&session.repository));
        let resp = self.pipeline.send(req)?;
        match resp.status {
            200 | 202 | 204 | 404 => {
                drop(resp);
                Ok(())
            }
            _ => Err(resp.into_error()),
        }
    }

    /// Mounts a blob of repository `from` into `repository` without moving bytes
    /// (`POST /v2/{repository}/blobs/uploads/?mount={digest}&from={from}`), asking one token for
    /// `repository:{repository}:pull,push repository:{from}:pull`.
    ///
    /// On 202 the registry did not mount but opened an upload session, returned as
    /// [`MountOutcome::UploadStarted`] so the caller can upload the blob through it or cancel it.
    ///
    /// ```no_run
    /// # use azcontainerregistry::{BlobClient, ClientOptions, Credential, Digest};
    /// # use azcontainerregistry::blob::MountOutcome;
    /// # let blobs = BlobClient::new(
    /// #     "http://127.0.0.1:5000",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// # let digest = Digest::of(b"hello");
    /// match blobs.mount_blob("target", "source", &digest)? {
    ///     MountOutcome::Mounted => {}
    ///     MountOutcome::UploadStarted(session) => blobs.cancel_upload(&session)?,
    /// }
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn mount_blob(
        &self,
        repository: &str,
        from: &str,
        digest: &Digest,
    ) -> Result<MountOutcome> {
        validate_repository(repository)?;
        validate_repository(from)?;
        let url = self.pipeline.url(&format!(
            "/v2/{repository}/blobs/uploads/?mount={digest}&from={from}"
        ))?;
        let scope = format!("{} {}", push_scope(repository), pull_scope(from));
        let req = Request::new(Method::POST, url)
            .body(Body::Bytes(b""))
            .scope(scope);
        let resp = self.pipeline.send(req)?;
        let outcome = match resp.status {
            201 => match resp.header("docker-content-digest") {
                _ if digest.algorithm() != Algorithm::Sha256 => Ok(Mount::Unsure),
                Some(d) => check_announced("mounted blob", d, digest, None).map(|()| Mount::Done),
                None => Ok(Mount::Done),
            },
            202 => session_from(repository, &resp).map(Mount::Session),
            _ => return Err(resp.into_error()),
        };
        drop(resp);
        match outcome? {
            Mount::Done => Ok(MountOutcome::Mounted),
            Mount::Session(session) => Ok(MountOutcome::UploadStarted(session)),
            // Distribution 2.8 answers a sha512 mount with 201 and that digest, yet the target
            // then lacks the blob: it counts as mounted only when the target has it under the
            // digest asked for; else it is uploaded (which links it), as when a mount is refused.
            Mount::Unsure => match self.head_blob(repository, digest)? {
                Some(_) => Ok(MountOutcome::Mounted),
                None => self
                    .start_upload_unchecked(repository)
                    .map(MountOutcome::UploadStarted),
            },
        }
    }
}

/// What a mount request's answer said.
enum Mount {
    Done,
    /// Mounted by the registry's word, for a digest whose mounts registries get wrong.
    Unsure,
    Session(UploadSession),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Hasher;

    #[test]
    fn completed_digest_of_another_algorithm_is_checked_against_the_bytes() {
        let bytes = b"layer";
        let mut h = Hasher::new(Algorithm::Sha512);
        h.update(bytes);
        let sha512 = h.finish();
        let sha256 = Digest::of(bytes);
        let other = Digest::of(b"other");
        // the same digest, or none at all
        assert_eq!(
            check_completed(Some(sha512.as_str()), &sha512, None).unwrap(),
            sha512
        );
        assert_eq!(
            check_completed(None, &sha512, Some(&sha256)).unwrap(),
            sha512
        );
        // the canonical sha256 of the bytes sent: the digest asked for is kept
        let ok = check_completed(Some(sha256.as_str()), &sha512, Some(&sha256)).unwrap();
        assert_eq!(ok, sha512);
        // a sha256 of other bytes, another digest of the same algorithm, garbage: refused
        for (announced, ours) in [
            (other.as_str(), Some(&sha256)),
            (format!("sha512:{}", "0".repeat(128)).as_str(), None),
            ("nonsense", Some(&sha256)),
        ] {
            let e = check_completed(Some(announced), &sha512, ours).unwrap_err();
            assert!(
                matches!(e, Error::DigestMismatch { .. }),
                "{announced}: {e}"
            );
        }
        let e = check_completed(Some(other.as_str()), &sha256, None).unwrap_err();
        assert!(matches!(e, Error::DigestMismatch { .. }), "{e}");
        // a session completed by hand cannot check the bytes: the registry's word stands
        assert!(check_completed(Some(sha256.as_str()), &sha512, None).is_ok());
    }
}
