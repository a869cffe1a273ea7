//! What pull, push and copy share: fetching manifests, counting what moved, and the tail of push
//! and copy ([`send_image`]: every blob the target lacks, at most `parallelism` at once; then the
//! manifests, children first and the top one last, so a tag never points at an incomplete image).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};

use super::graph::Graph;
use super::layout::Layout;
use super::parallel;
use super::progress::{ProgressFn, Tracker};
use crate::blob::{BlobClient, MountOutcome, UploadOptions};
use crate::client::Client;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::manifest::{Descriptor, Manifest};
use crate::reference::{Reference, TagOrDigest};

/// Blob transfers at once, by default.
pub const DEFAULT_PARALLELISM: usize = 4;

/// What a transfer did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransferReport {
    /// The digest of the top manifest at the destination (differs from the source's when platforms
    /// were selected from an index).
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// Manifests written (the top one and an index's children).
    pub manifests: usize,
    /// Blobs transferred.
    pub blobs_transferred: usize,
    /// Blobs already present (or mounted) and not transferred.
    pub blobs_skipped: usize,
    /// Bytes of the blobs transferred.
    pub bytes_transferred: u64,
    /// Referrers copied along (`CopyOptions::referrers`).
    pub referrers: usize,
}

/// Blob transfers at once: `n`, or the default for 0.
pub(super) fn parallelism(n: usize) -> usize {
    if n == 0 { DEFAULT_PARALLELISM } else { n }
}

/// The top manifest named `reference`, with a descriptor of it.
pub(super) fn fetch_manifest(
    client: &Client,
    repository: &str,
    reference: &str,
) -> Result<(Descriptor, Vec<u8>)> {
    let m = client.get_manifest(repository, reference)?;
    let descriptor = m.descriptor();
    Ok((descriptor, m.bytes))
}

/// A child manifest of an index, which must have the digest the index gives.
pub(super) fn fetch_child(
    client: &Client,
    repository: &str,
    child: &Descriptor,
) -> Result<Vec<u8>> {
    let m = client.get_manifest(repository, &child.digest)?;
    if m.digest != child.digest {
        return Err(Error::DigestMismatch {
            what: "manifest",
            expected: child.digest.to_string(),
            actual: m.digest.to_string(),
        });
    }
    Ok(m.bytes)
}

/// Counts of blobs moved by one transfer.
#[derive(Default)]
pub(super) struct Stats {
    blobs: AtomicUsize,
    bytes: AtomicU64,
}

impl Stats {
    /// A blob of `size` bytes moved.
    pub(super) fn moved(&self, size: u64) {
        self.blobs.fetch_add(1, SeqCst);
        self.bytes.fetch_add(size, SeqCst);
    }

    /// The report of a transfer of `graph`.
    pub(super) fn report(self, graph: &Graph) -> TransferReport {
        let top = &graph.top;
        let blobs = self.blobs.into_inner();
        let children = match top.manifest {
            Manifest::Index(_) => graph.children.len(),
            _ => 0,
        };
        TransferReport {
            digest: top.descriptor.digest.clone(),
            media_type: top.descriptor.media_type.clone(),
            manifests: 1 + children,
            blobs_transferred: blobs,
            blobs_skipped: graph.blobs.len() - blobs,
            bytes_transferred: self.bytes.into_inner(),
            referrers: 0,
        }
    }
}

/// Where the blobs of a pushed or copied image come from.
pub(super) enum BlobSource<'a> {
    /// An OCI image layout (push).
    Layout(&'a Layout),
    /// A repository of a registry (copy); `mount` when it is on the target's registry.
    Registry {
        blobs: BlobClient,
        repository: &'a str,
        mount: bool,
    },
}

impl BlobSource<'_> {
    /// Gets `blob` into `repository` of `to`: mounted (false) or uploaded (true).
    fn send(
        &self,
        to: &BlobClient,
        repository: &str,
        blob: &Descriptor,
        tracker: &Tracker,
    ) -> Result<bool> {
        let (digest, size) = (&blob.digest, blob.size);
        if let BlobSource::Registry {
            repository: from,
            mount: true,
            ..
        } = self
        {
            match to.mount_blob(repository, from, digest)? {
                MountOutcome::Mounted => return Ok(false),
                // not mounted (e.g. no read access to the source): stream it instead
                MountOutcome::UploadStarted(session) => {
                    let _ = to.cancel_upload(&session);
                }
            }
        }
        tracker.started(digest, size);
        match self {
            BlobSource::Layout(layout) => {
                // verified before a byte is sent: a layout may hold anything under a digest's name
                let file = layout.open_verified_blob(digest, Some(size))?;
                let file = tracker.reader(file, digest, size);
                to.upload_blob_seekable(repository, file, exactly(digest))?
            }
            BlobSource::Registry {
                blobs,
                repository: from,
                ..
            } => {
                let stream = tracker.reader(blobs.get_blob(from, digest)?, digest, size);
                to.upload_blob(repository, stream, exactly(digest))?
            }
        };
        Ok(true)
    }
}

/// Upload options for a blob whose digest is known: verified against it; existence was checked
/// already.
fn exactly(digest: &Digest) -> UploadOptions {
    UploadOptions {
        expected_digest: Some(digest.clone()),
        skip_existing: false,
        ..Default::default()
    }
}

/// Sends `graph` to `target` on `to`: the blobs it lacks from `source`, then the manifests.
pub(super) fn send_image(
    source: &BlobSource<'_>,
    to: &Client,
    target: &Reference,
    graph: &Graph,
    parallel_transfers: usize,
    progress: Option<ProgressFn>,
) -> Result<TransferReport> {
    let reference = target_reference(target, graph)?;
    let repository = target.repository();
    let blobs = to.blob_client();
    let tracker = graph.tracker(progress);
    let stats = Stats::default();
    parallel::run(graph.blobs.clone(), parallelism(parallel_transfers), |b| {
        let present = blobs.check_blob_exists(repository, &b.digest)?.is_some();
        if present || !source.send(&blobs, repository, &b, &tracker)? {
            tracker.skipped(&b.digest, b.size);
            return Ok(());
        }
        stats.moved(b.size);
        tracker.finished(&b.digest, b.size);
        Ok(())
    })?;
    for child in &graph.children {
        let d = &child.descriptor;
        to.upload_manifest(repository, &d.digest, &child.bytes, &d.media_type)?;
    }
    let top = &graph.top;
    to.upload_manifest(
        repository,
        &reference,
        &top.bytes,
        &top.descriptor.media_type,
    )?;
    Ok(stats.report(graph))
}

/// What a push or copy writes the top manifest as: the tag, or the digest, which must be the
/// image's. Checked before anything is sent.
fn target_reference(target: &Reference, graph: &Graph) -> Result<TagOrDigest> {
    match (target.tag(), target.digest()) {
        (Some(_), Some(_)) => Err(Error::invalid(
            "target",
            target.to_string(),
            "a target is REPOSITORY:TAG or REPOSITORY@DIGEST, not both",
        )),
        (_, Some(d)) if d != &graph.top.descriptor.digest => Err(Error::DigestMismatch {
            what: "manifest",
            expected: d.to_string(),
            actual: graph.top.descriptor.digest.to_string(),
        }),
        _ => Ok(target.tag_or_digest()),
    }
}
