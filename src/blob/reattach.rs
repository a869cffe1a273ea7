//! [`BlobClient::resume_upload`]: taking up an upload session that another process started.
//!
//! Everything a session is lives in its location (the registry's signed state) and in the bytes
//! the registry holds, so a process that saved [`UploadSession::location`] can carry on after a
//! restart: the registry tells the offset. A registry that has dropped the session answers 404;
//! start a new upload then. Distribution 2.8 drops a session whose `PATCH` broke off part-way,
//! so an upload killed while a chunk was on the wire starts again from its beginning there; one
//! killed between chunks resumes after the last acknowledged chunk.

use super::session::{UploadSession, advance};
use super::{BlobClient, push_scope};
use crate::error::{Error, Result};
use crate::http::{Method, Request, resolve};
use crate::reference::validate_repository;

impl BlobClient {
    /// Takes up the upload session at `location` (an earlier [`UploadSession::location`], maybe
    /// from another process) in `repository`, asking the registry how many bytes it holds (`GET
    /// {location}`). Continue with [`upload_chunk`](Self::upload_chunk) from the returned
    /// session's [`offset`](UploadSession::offset), then
    /// [`complete_upload`](Self::complete_upload) with the digest of the whole blob.
    ///
    /// The location must be on the registry's own origin. Distribution and ACR report one byte
    /// and none alike (`Range: 0-0`): a session holding exactly one byte is reported at offset 0,
    /// and sending that byte again is refused; start such a tiny upload anew.
    ///
    /// ```no_run
    /// # use azcontainerregistry::{BlobClient, ClientOptions, Credential, Digest};
    /// # let blobs = BlobClient::new(
    /// #     "http://127.0.0.1:5000",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// let saved = std::fs::read_to_string("upload.location")?;
    /// let session = blobs.resume_upload("hello-world", &saved)?;
    /// println!("the registry holds {} bytes", session.offset());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn resume_upload(&self, repository: &str, location: &str) -> Result<UploadSession> {
        validate_repository(repository)?;
        let endpoint = self.pipeline.endpoint();
        let url = resolve(endpoint, location.trim(), "upload location")?;
        if url.origin() != endpoint.origin() {
            return Err(Error::invalid(
                "upload location",
                crate::redact::url(url.as_str()),
                "an upload session to resume must be on the registry's own origin",
            ));
        }
        let session = UploadSession {
            repository: repository.to_string(),
            location: url,
            uuid: None,
            offset: 0,
            min_chunk: None,
        };
        let req = Request::new(Method::GET, session.location.clone()).scope(push_scope(repository));
        let resp = self.pipeline.send(req)?.expect(&[200, 204])?;
        let resumed = advance(&session, &resp, 0);
        drop(resp);
        resumed
    }
}
