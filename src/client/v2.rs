//! The manifest operations of [`Client`] (`/v2/{name}/manifests/{reference}`, every registry):
//! fetch, check for existence, upload, delete.
//!
//! What this does that the Go SDK leaves to the caller:
//!
//! - **Verification.** A fetched manifest is hashed and checked against the digest it was requested
//!   by (when the reference is a digest) and against the registry's `Docker-Content-Digest` (when
//!   the registry sends one); an upload's digest is computed here and checked against the
//!   registry's, and an upload by digest is refused before any request when the bytes do not hash
//!   to that digest.
//! - **The full `Accept` list.** Distribution answers 404 for an OCI manifest when the request does
//!   not accept OCI types, so every fetch sends [`DEFAULT_ACCEPT`] unless the caller narrows it.
//! - **A size bound.** Manifests over [`MAX_MANIFEST_SIZE`] (4 MiB, the limit of ACR, containerd
//!   and the other Azure SDKs) are refused: by `Content-Length` before reading the body, and
//!   otherwise after reading one byte past the limit, never more. Uploads over the limit are
//!   refused before sending.
//!
//! The manifest is returned as the registry's bytes ([`ManifestResponse::bytes`]) because a digest
//! is over the exact bytes; [`ManifestResponse::manifest`] parses them into the typed [`Manifest`].

use super::Client;
use crate::digest::{Digest, Hasher};
use crate::error::{Error, Result};
use crate::http::{Body, Method, Request, Response};
use crate::manifest::{DEFAULT_ACCEPT, Descriptor, Manifest, media_type};
use crate::pipeline::repository_scope;
use crate::reference::{TagOrDigest, validate_repository};

/// The largest manifest this client reads or writes: 4 MiB, as ACR, containerd and the other Azure
/// SDKs.
pub const MAX_MANIFEST_SIZE: u64 = 4 * 1024 * 1024;

/// Options of [`Client::get_manifest_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetManifestOptions {
    /// The media types to accept, most wanted first; `None` sends [`DEFAULT_ACCEPT`] (every
    /// manifest type this crate reads). Narrow it only on purpose: a registry answers 404 for
    /// a manifest whose type is not accepted (distribution does for OCI manifests), and may
    /// convert others.
    pub accept: Option<Vec<String>>,
}

/// A manifest as the registry stored it: its bytes, media type and verified digest.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ManifestResponse {
    /// The manifest's bytes exactly as received (the digest is over these bytes).
    pub bytes: Vec<u8>,
    /// The media type: the response's `Content-Type` without parameters, or, when that is not a
    /// manifest type (`application/json`…), the manifest's own `mediaType`.
    pub media_type: String,
    /// The digest of [`bytes`](Self::bytes), verified against the requested digest and the
    /// registry's `Docker-Content-Digest`: the requested digest when fetched by digest, else
    /// the registry's, else the SHA-256 computed here.
    pub digest: Digest,
    /// The registry's `ETag`, when it sent one: give it back as
    /// [`UploadManifestOptions::if_match`] to replace this manifest only if nobody changed it.
    pub etag: Option<String>,
}

/// Options of [`Client::upload_manifest_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadManifestOptions {
    /// Sends `If-Match` with this value (an [`etag`](ManifestResponse::etag)): a registry that
    /// supports conditional requests replaces the manifest only while it is unchanged, and answers
    /// 412 otherwise ([`Error::status`] is `Some(412)`). Registries without them ignore it.
    pub if_match: Option<String>,
}

/// What a registry answered to a manifest upload ([`Client::upload_manifest_with`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadedManifest {
    /// The manifest's digest, computed here and checked against the registry's.
    pub digest: Digest,
    /// The registry's `OCI-Subject` header: present when the manifest has a `subject` and the
    /// registry indexes referrers itself (OCI 1.1 referrers API). When it is absent for a
    /// manifest with a subject, the client keeps the `sha256-<hex>` tag index up to date.
    pub subject: Option<Digest>,
}

impl ManifestResponse {
    /// Parses the bytes into the typed view, by [`media_type`](Self::media_type).
    pub fn manifest(&self) -> Result<Manifest> {
        Manifest::from_bytes(&self.media_type, &self.bytes)
    }

    /// Parses the bytes into the typed view, consuming the response.
    pub fn into_manifest(self) -> Result<Manifest> {
        self.manifest()
    }

    /// A descriptor of this manifest (media type, digest, size), ready to list in an index.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(
            self.media_type.clone(),
            self.digest.clone(),
            self.bytes.len() as u64,
        )
    }
}

/// What a registry says about a manifest without sending it ([`Client::manifest_exists`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ManifestInfo {
    /// The manifest's digest (`Docker-Content-Digest`).
    pub digest: Digest,
    /// The manifest's media type (`Content-Type` without parameters).
    pub media_type: String,
    /// The manifest's size in bytes (`Content-Length`).
    pub size: u64,
}

/// Just the `mediaType` field of a manifest.
#[derive(serde::Deserialize)]
struct MediaTypeField {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
}

fn manifest_path(repository: &str, reference: &TagOrDigest) -> String {
    // Both parts are validated: a repository is [a-z0-9._/-], a tag [A-Za-z0-9._-], a digest
    // algorithm:hex. None needs percent-encoding.
    format!("/v2/{repository}/manifests/{}", reference.as_str())
}

fn accept_header(options: &GetManifestOptions) -> Result<String> {
    match &options.accept {
        None => Ok(DEFAULT_ACCEPT.join(", ")),
        Some(list) => {
            let rule = "the Accept list needs at least one media type, each non-empty printable ASCII \
                        without commas";
            if list.is_empty() {
                return Err(Error::invalid("Accept list", "[]", rule));
            }
            for m in list {
                let ok = !m.trim().is_empty()
                    && m.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b',');
                if !ok {
                    return Err(Error::invalid("Accept media type", m.clone(), rule));
                }
            }
            Ok(list.join(", "))
        }
    }
}

fn check_media_type(media_type: &str) -> Result<()> {
    let ok = !media_type.trim().is_empty() && media_type.bytes().all(|b| (0x20..0x7f).contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "manifest media type",
            media_type,
            "a media type is non-empty printable ASCII, e.g. application/vnd.oci.image.manifest.v1+json",
        ))
    }
}

/// The registry's `Docker-Content-Digest`, parsed, when it sent one.
fn registry_digest(resp: &Response) -> Result<Option<Digest>> {
    match resp.header("docker-content-digest") {
        None => Ok(None),
        Some(text) => Digest::parse(text.trim()).map(Some).map_err(|_| {
            Error::decode(
                "Docker-Content-Digest header",
                format!("{text:?} is not a digest"),
            )
        }),
    }
}

/// The `Content-Type` essence of a response, or "" without one.
fn content_type(resp: &Response) -> String {
    resp.header("content-type")
        .map(media_type::essence)
        .unwrap_or_default()
}

fn digest_with(algorithm: crate::digest::Algorithm, bytes: &[u8]) -> Digest {
    let mut h = Hasher::new(algorithm);
    h.update(bytes);
    h.finish()
}

impl Client {
    /// Fetches a manifest by tag or digest (`GET /v2/{name}/manifests/{reference}`), accepting
    /// every manifest type ([`DEFAULT_ACCEPT`]).
    ///
    /// The bytes are verified against `reference` when it is a digest and against the registry's
    /// `Docker-Content-Digest` when present ([`Error::DigestMismatch`] otherwise). A manifest
    /// larger than [`MAX_MANIFEST_SIZE`] is [`Error::TooLarge`]. A missing manifest is an error
    /// whose [`is_not_found`](Error::is_not_found) is true.
    ///
    /// ```no_run
    /// use azcontainerregistry::{Client, ClientOptions, Credential, Manifest};
    /// let client = Client::new(
    ///     "https://myregistry.azurecr.io",
    ///     Credential::anonymous(),
    ///     ClientOptions::default(),
    /// )?;
    /// let response = client.get_manifest("hello-world", "latest")?;
    /// println!(
    ///     "{} ({}, {} bytes)",
    ///     response.digest,
    ///     response.media_type,
    ///     response.bytes.len()
    /// );
    /// match response.manifest()? {
    ///     Manifest::Image(m) => println!("{} layers", m.layers.len()),
    ///     Manifest::Index(i) => println!("{} platforms", i.manifests.len()),
    ///     _ => println!("something else"),
    /// }
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn get_manifest(
        &self,
        repository: &str,
        reference: impl AsRef<str>,
    ) -> Result<ManifestResponse> {
        self.get_manifest_with(repository, reference, GetManifestOptions::default())
    }

    /// [`get_manifest`](Self::get_manifest) with options: a narrower `Accept` list.
    ///
    /// ```no_run
    /// use azcontainerregistry::{Client, ClientOptions, Credential};
    /// use azcontainerregistry::{GetManifestOptions, media_type};
    /// let client = Client::new(
    ///     "https://myregistry.azurecr.io",
    ///     Credential::anonymous(),
    ///     ClientOptions::default(),
    /// )?;
    /// // Only Docker manifest lists: a registry answers 404 for anything else under this tag.
    /// let options = GetManifestOptions {
    ///     accept: Some(vec![media_type::DOCKER_MANIFEST_LIST.into()]),
    /// };
    /// let list = client.get_manifest_with("hello-world", "latest", options)?;
    /// # let _ = list;
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn get_manifest_with(
        &self,
        repository: &str,
        reference: impl AsRef<str>,
        options: GetManifestOptions,
    ) -> Result<ManifestResponse> {
        validate_repository(repository)?;
        let reference = TagOrDigest::parse(reference.as_ref())?;
        let accept = accept_header(&options)?;
        let url = self.pipeline.url(&manifest_path(repository, &reference))?;
        let req = Request::new(Method::GET, url)
            .header("Accept", accept)
            .scope(repository_scope(repository, "pull"));
        let resp = self.pipeline.send(req)?.expect(&[200])?;
        let announced = registry_digest(&resp)?;
        let content_type = content_type(&resp);
        let etag = resp.header("etag").map(|e| e.trim().to_string());
        let bytes = resp.bytes("manifest", MAX_MANIFEST_SIZE)?;

        if let Some(requested) = reference.digest() {
            requested.verify("manifest (against the requested digest)", &bytes)?;
        }
        if let Some(announced) = &announced {
            announced.verify("manifest (against Docker-Content-Digest)", &bytes)?;
        }
        let digest = match (reference.digest(), announced) {
            (Some(requested), _) => requested.clone(),
            (None, Some(announced)) => announced,
            (None, None) => Digest::of(&bytes),
        };
        let media_type = if media_type::is_manifest(&content_type) {
            content_type
        } else {
            serde_json::from_slice::<MediaTypeField>(&bytes)
                .ok()
                .and_then(|f| f.media_type)
                .map(|m| media_type::essence(&m))
                .filter(|m| !m.is_empty())
                .unwrap_or(content_type)
        };
        Ok(ManifestResponse {
            bytes,
            media_type,
            digest,
            etag,
        })
    }

    /// Whether a manifest exists (`HEAD /v2/{name}/manifests/{reference}`), and if so its digest,
    /// media type and size; `None` when the registry answers 404. Accepts every manifest type.
    ///
    /// When the registry's answer lacks the digest or size (some registries leave them off a
    /// `HEAD`), the manifest is fetched and measured instead.
    ///
    /// ```no_run
    /// use azcontainerregistry::{Client, ClientOptions, Credential};
    /// let client = Client::new(
    ///     "https://myregistry.azurecr.io",
    ///     Credential::anonymous(),
    ///     ClientOptions::default(),
    /// )?;
    /// match client.manifest_exists("hello-world", "latest")? {
    ///     Some(info) => println!("latest is {} ({} bytes)", info.digest, info.size),
    ///     None => println!("no such tag"),
    /// }
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn manifest_exists(
        &self,
        repository: &str,
        reference: impl AsRef<str>,
    ) -> Result<Option<ManifestInfo>> {
        validate_repository(repository)?;
        let parsed = TagOrDigest::parse(reference.as_ref())?;
        let url = self.pipeline.url(&manifest_path(repository, &parsed))?;
        let req = Request::new(Method::HEAD, url)
            .header("Accept", DEFAULT_ACCEPT.join(", "))
            .scope(repository_scope(repository, "pull"));
        let resp = self.pipeline.send(req)?;
        if resp.status == 404 {
            return Ok(None);
        }
        let resp = resp.expect(&[200])?;
        let announced = registry_digest(&resp)?;
        if let (Some(requested), Some(announced)) = (parsed.digest(), &announced)
            && requested.algorithm() == announced.algorithm()
            && requested != announced
        {
            return Err(Error::DigestMismatch {
                what: "manifest (Docker-Content-Digest against the requested digest)",
                expected: requested.to_string(),
                actual: announced.to_string(),
            });
        }
        let digest = announced.or_else(|| parsed.digest().cloned());
        let size = resp.content_length();
        let media_type = content_type(&resp);
        drop(resp);
        match (digest, size) {
            (Some(digest), Some(size)) if !media_type.is_empty() => Ok(Some(ManifestInfo {
                digest,
                media_type,
                size,
            })),
            _ => match self.get_manifest(repository, &parsed) {
                Ok(m) => Ok(Some(ManifestInfo {
                    size: m.bytes.len() as u64,
                    digest: m.digest,
                    media_type: m.media_type,
                })),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(e),
            },
        }
    }

    /// Uploads a manifest's bytes under a tag or a digest (`PUT /v2/{name}/manifests/{reference}`,
    /// `Content-Type: media_type`) and returns its digest.
    ///
    /// The digest is computed here (SHA-256, or the algorithm of a digest `reference`) and checked
    /// against the registry's `Docker-Content-Digest`. When `reference` is a digest, the bytes must
    /// hash to it: otherwise [`Error::DigestMismatch`] and nothing is sent. A manifest larger
    /// than [`MAX_MANIFEST_SIZE`] is refused before sending ([`Error::InvalidInput`]). The
    /// registry checks that every blob and child manifest the manifest refers to is already in
    /// the repository: push those first.
    ///
    /// ```no_run
    /// use azcontainerregistry::{Client, ClientOptions, Credential, media_type};
    /// let client = Client::new(
    ///     "https://myregistry.azurecr.io",
    ///     Credential::anonymous(),
    ///     ClientOptions::default(),
    /// )?;
    /// let bytes = std::fs::read("manifest.json")?;
    /// let digest = client.upload_manifest("hello-world", "v1", &bytes, media_type::OCI_MANIFEST)?;
    /// println!("pushed hello-world:v1 as {digest}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn upload_manifest(
        &self,
        repository: &str,
        reference: impl AsRef<str>,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<Digest> {
        let options = UploadManifestOptions::default();
        self.upload_manifest_with(repository, reference, bytes, media_type, options)
            .map(|u| u.digest)
    }

    /// [`upload_manifest`](Self::upload_manifest) with options (a conditional `If-Match`
    /// upload), answering what the registry said: the digest and its `OCI-Subject` header.
    ///
    /// ```no_run
    /// use azcontainerregistry::{Client, ClientOptions, Credential, media_type};
    /// use azcontainerregistry::UploadManifestOptions;
    /// let client = Client::new(
    ///     "https://myregistry.azurecr.io",
    ///     Credential::anonymous(),
    ///     ClientOptions::default(),
    /// )?;
    /// let old = client.get_manifest("hello-world", "v1")?;
    /// let bytes = std::fs::read("manifest.json")?;
    /// let options = UploadManifestOptions {
    ///     if_match: old.etag.clone(),
    /// };
    /// let answer = client.upload_manifest_with(
    ///     "hello-world",
    ///     "v1",
    ///     &bytes,
    ///     media_type::OCI_MANIFEST,
    ///     options,
    /// )?;
    /// println!("{} (OCI-Subject: {:?})", answer.digest, answer.subject);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn upload_manifest_with(
        &self,
        repository: &str,
        reference: impl AsRef<str>,
        bytes: &[u8],
        media_type: &str,
        options: UploadManifestOptions,
    ) -> Result<UploadedManifest> {
        validate_repository(repository)?;
        let reference = TagOrDigest::parse(reference.as_ref())?;
        check_media_type(media_type)?;
        if bytes.len() as u64 > MAX_MANIFEST_SIZE {
            return Err(Error::invalid(
                "manifest",
                format!("{} bytes", bytes.len()),
                format!(
                    "a manifest is at most {MAX_MANIFEST_SIZE} bytes (4 MiB): registries and clients refuse larger ones"
                ),
            ));
        }
        let digest = match reference.digest() {
            Some(d) => {
                d.verify(
                    "manifest to upload (against the digest it is uploaded by)",
                    bytes,
                )?;
                d.clone()
            }
            None => Digest::of(bytes),
        };
        let url = self.pipeline.url(&manifest_path(repository, &reference))?;
        let mut req = Request::new(Method::PUT, url)
            .header("Content-Type", media_type.trim())
            .body(Body::Bytes(bytes))
            .scope(repository_scope(repository, "pull,push"));
        if let Some(etag) = &options.if_match {
            req = req.header("If-Match", etag.clone());
        }
        let resp = self.pipeline.send(req)?.expect(&[201])?;
        if let Some(announced) = registry_digest(&resp)? {
            let ours = if announced.algorithm() == digest.algorithm() {
                digest.clone()
            } else {
                digest_with(announced.algorithm(), bytes)
            };
            if announced != ours {
                return Err(Error::DigestMismatch {
                    what: "uploaded manifest (registry's Docker-Content-Digest against the bytes sent)",
                    expected: ours.to_string(),
                    actual: announced.to_string(),
                });
            }
        }
        // a header that is no digest is no sign of referrers support: treated as absent
        let subject = resp
            .header("oci-subject")
            .and_then(|s| Digest::parse(s.trim()).ok());
        Ok(UploadedManifest { digest, subject })
    }

    /// Uploads a typed manifest: its [`to_bytes`](Manifest::to_bytes) with its
    /// [`media_type`](Manifest::media_type), as [`upload_manifest`](Self::upload_manifest) does. To
    /// upload by digest, take the digest from [`Manifest::descriptor`].
    ///
    /// ```no_run
    /// use azcontainerregistry::{
    ///     Client, ClientOptions, Credential, Descriptor, ImageManifest, Manifest, media_type,
    /// };
    /// let client = Client::new(
    ///     "https://myregistry.azurecr.io",
    ///     Credential::anonymous(),
    ///     ClientOptions::default(),
    /// )?;
    /// let config = br#"{"architecture":"amd64","os":"linux"}"#;
    /// let layer = std::fs::read("layer.tar.gz")?;
    /// // (push the config and layer blobs first)
    /// let manifest = Manifest::from(ImageManifest::new(
    ///     Descriptor::for_bytes(media_type::OCI_CONFIG, config),
    ///     vec![Descriptor::for_bytes(
    ///         media_type::OCI_LAYER_TAR_GZIP,
    ///         &layer,
    ///     )],
    /// ));
    /// let digest = client.upload_manifest_typed("hello-world", "v1", &manifest)?;
    /// assert_eq!(digest, manifest.descriptor().digest);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn upload_manifest_typed(
        &self,
        repository: &str,
        reference: impl AsRef<str>,
        manifest: &Manifest,
    ) -> Result<Digest> {
        self.upload_manifest(
            repository,
            reference,
            &manifest.to_bytes(),
            manifest.media_type(),
        )
    }

    /// Deletes a manifest and every tag that points at it (`DELETE /v2/{name}/manifests/{digest}`,
    /// every registry). Unlike the Go SDK this also takes a tag, resolved to its digest first
    /// (distribution refuses deletion by tag). A manifest that does not exist counts as
    /// deleted.
    ///
    /// ```no_run
    /// # use azcontainerregistry::{Client, ClientOptions, Credential, Digest};
    /// # let client = Client::new(
    /// #     "https://r.azurecr.io",
    /// #     Credential::anonymous(),
    /// #     ClientOptions::default(),
    /// # )?;
    /// client.delete_manifest("hello-world", "v1")?; // by tag
    /// let digest = Digest::of(b"{}"); // the digest of a manifest
    /// client.delete_manifest("hello-world", &digest)?; // by digest
    /// # Ok::<(), azcontainerregistry::Error>(())
    /// ```
    pub fn delete_manifest(&self, repository: &str, reference: impl AsRef<str>) -> Result<()> {
        validate_repository(repository)?;
        let digest = match TagOrDigest::parse(reference.as_ref())? {
            TagOrDigest::Digest(d) => d,
            TagOrDigest::Tag(tag) => match self.resolve_tag(repository, &tag) {
                Ok(d) => d,
                Err(e) if e.is_not_found() => return Ok(()),
                Err(e) => return Err(e),
            },
        };
        let url = self
            .pipeline
            .url(&format!("/v2/{repository}/manifests/{digest}"))?;
        let req = Request::new(Method::DELETE, url).scope(repository_scope(repository, "delete"));
        let resp = self.pipeline.send(req)?;
        match resp.status {
            200 | 202 | 204 | 404 => Ok(()),
            _ => Err(resp.into_error()),
        }
    }

    /// The digest a tag points at (`HEAD /v2/{name}/manifests/{tag}`, every registry).
    fn resolve_tag(&self, repository: &str, tag: &str) -> Result<Digest> {
        let url = self
            .pipeline
            .url(&format!("/v2/{repository}/manifests/{tag}"))?;
        let req = Request::new(Method::HEAD, url)
            .header("Accept", DEFAULT_ACCEPT.join(", "))
            .scope(repository_scope(repository, "pull"));
        let resp = self.pipeline.send(req)?.expect(&[200])?;
        let digest = resp.header("docker-content-digest").ok_or_else(|| {
            Error::decode(
                "manifest headers",
                "the registry sent no Docker-Content-Digest",
            )
        })?;
        // a bad header is the registry's fault, not the caller's: a decode error, not invalid input
        Digest::parse(digest.trim()).map_err(|e| Error::decode("Docker-Content-Digest", e))
    }
}
