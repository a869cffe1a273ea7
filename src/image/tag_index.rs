//! The tag-schema fallback of the referrers API, written: the index under the tag `sha256-<hex>`
//! that lists the referrers of the manifest `sha256:<hex>`, on registries that do not index
//! referrers themselves (distribution 2.8 and older).
//!
//! Adding an entry is a read-modify-write of a shared document, so two writers can race. This
//! module never loses a concurrent writer's entry as far as the registry lets it:
//! - writers in this process take turns (one lock per registry, repository and tag);
//! - the write carries `If-Match` with the `ETag` read, so a registry that supports conditional
//!   requests refuses it (412) when the index changed meanwhile: it is read again and retried;
//! - registries without conditional requests (distribution) ignore `If-Match`, so after writing,
//!   the index is read back, at once and again after a pause, and the entry is put back when
//!   another writer's overwrite dropped it.

use std::collections::HashSet;
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::Duration;

use crate::client::{Client, UploadManifestOptions};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::manifest::{Descriptor, ImageIndex, Manifest, media_type};

/// Writes of one index before giving up (each retry follows a conflict or a lost entry).
const MAX_ATTEMPTS: u32 = 10;
/// When the index is read back after a write: long enough for a racing writer's read-then-write
/// on the same registry to have landed.
const CHECKS: [Duration; 2] = [Duration::ZERO, Duration::from_millis(150)];

/// The tag that holds the referrers of `subject` in the tag schema: `sha256-<hex>`.
pub fn referrers_tag(subject: &Digest) -> String {
    format!("{}-{}", subject.algorithm().as_str(), subject.hex())
}

/// Index tags being written by this process, and the signal that one was released.
static WRITING: Mutex<Option<HashSet<String>>> = Mutex::new(None);
static RELEASED: Condvar = Condvar::new();

/// Holds the process-wide turn on one index tag until dropped.
struct Turn(String);

impl Turn {
    fn take(key: String) -> Turn {
        let mut writing = WRITING.lock().unwrap_or_else(|e| e.into_inner());
        while writing.get_or_insert_with(HashSet::new).contains(&key) {
            writing = RELEASED.wait(writing).unwrap_or_else(|e| e.into_inner());
        }
        writing.get_or_insert_with(HashSet::new).insert(key.clone());
        Turn(key)
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut writing = WRITING.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(set) = writing.as_mut() {
            set.remove(&self.0);
        }
        RELEASED.notify_all();
    }
}

/// The referrers index of `subject` as stored now (empty when there is none), and its `ETag`.
fn read(client: &Client, repository: &str, tag: &str) -> Result<(ImageIndex, Option<String>)> {
    match client.get_manifest(repository, tag) {
        Ok(m) => match m.manifest()? {
            Manifest::Index(index) => Ok((index, m.etag)),
            _ => Err(Error::decode(
                "referrers tag index",
                format!("the tag {tag} holds no index, so referrers cannot be listed under it"),
            )),
        },
        Err(e) if e.is_not_found() => Ok((ImageIndex::new(Vec::new()), None)),
        Err(e) => Err(e),
    }
}

fn lists(index: &ImageIndex, digest: &Digest) -> bool {
    index.manifests.iter().any(|d| &d.digest == digest)
}

/// Adds `referrer` to the tag-schema index of `subject` in `repository` (creating the index),
/// keeping every entry already there. Nothing is written when it is listed already.
pub(super) fn add(
    client: &Client,
    repository: &str,
    subject: &Digest,
    referrer: &Descriptor,
) -> Result<()> {
    let tag = referrers_tag(subject);
    let _turn = Turn::take(format!("{} {repository} {tag}", client.endpoint()));
    let mut attempt = 0;
    'write: loop {
        attempt += 1;
        if attempt > MAX_ATTEMPTS {
            return Err(Error::decode(
                "referrers tag index",
                format!(
                    "{repository}:{tag} kept changing under concurrent writers; \
                     {} is not listed in it after {MAX_ATTEMPTS} attempts",
                    referrer.digest
                ),
            ));
        }
        let (mut index, etag) = read(client, repository, &tag)?;
        if !lists(&index, &referrer.digest) {
            index.manifests.push(referrer.clone());
            if index.media_type.is_none() {
                index.media_type = Some(media_type::OCI_INDEX.to_string());
            }
            let bytes = Manifest::Index(index).to_bytes();
            let options = UploadManifestOptions { if_match: etag };
            match client.upload_manifest_with(
                repository,
                &tag,
                &bytes,
                media_type::OCI_INDEX,
                options,
            ) {
                Ok(_) => {}
                // another writer changed it since it was read: read it again
                Err(e) if e.status() == Some(412) => {
                    backoff(attempt);
                    continue 'write;
                }
                Err(e) => return Err(e),
            }
        }
        for pause in CHECKS {
            thread::sleep(pause);
            let (now, _) = read(client, repository, &tag)?;
            if !lists(&now, &referrer.digest) {
                // a racing writer that read the index before our write overwrote it
                backoff(attempt);
                continue 'write;
            }
        }
        return Ok(());
    }
}

/// A short pause that grows with the attempt, so racing writers fall out of step.
fn backoff(attempt: u32) {
    thread::sleep(Duration::from_millis(20 * u64::from(attempt.min(8))));
}
