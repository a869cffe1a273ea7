//! Least-recently-used eviction. Every use of a blob touches its marker `used/sha256-HEX` (an empty
//! file whose modification time is the last use; the blob file itself is left alone, because files
//! materialised by hard link share its times). When the blobs exceed the size limit, the least
//! recently used go first, each under its digest lock; a blob locked by someone is skipped. A file
//! materialised by hard link keeps its bytes: only the cache's name goes.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::lock::DigestLock;
use crate::digest::Digest;
use crate::error::Result;

/// What [`Cache::evict`](super::Cache::evict) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EvictReport {
    /// Blobs removed, least recently used first.
    pub removed: Vec<Digest>,
    /// Bytes freed.
    pub freed: u64,
    /// Bytes the cache's blobs hold now.
    pub remaining: u64,
}

/// The marker file of `digest`.
pub(crate) fn marker(root: &Path, digest: &Digest) -> PathBuf {
    root.join("used")
        .join(format!("{}-{}", digest.algorithm().as_str(), digest.hex()))
}

/// Records a use of `digest` now.
pub(crate) fn touch(root: &Path, digest: &Digest) -> Result<()> {
    let path = marker(root, digest);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let file = File::options()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)?;
    file.set_modified(SystemTime::now())?;
    Ok(())
}

struct Entry {
    digest: Digest,
    path: PathBuf,
    size: u64,
    used: SystemTime,
}

/// Every blob in the cache with its size and last use.
fn entries(root: &Path) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    let blobs = root.join("blobs");
    let algorithms = match fs::read_dir(&blobs) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e.into()),
    };
    for algorithm in algorithms {
        let algorithm = algorithm?;
        let name = algorithm.file_name().to_string_lossy().into_owned();
        for blob in fs::read_dir(algorithm.path())? {
            let blob = blob?;
            let hex = blob.file_name().to_string_lossy().into_owned();
            // temporary files (.NAME.part) and anything else that is not a digest are not blobs
            let Ok(digest) = Digest::parse(&format!("{name}:{hex}")) else {
                continue;
            };
            let meta = blob.metadata()?;
            let used = fs::metadata(marker(root, &digest))
                .and_then(|m| m.modified())
                .or_else(|_| meta.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            out.push(Entry {
                digest,
                path: blob.path(),
                size: meta.len(),
                used,
            });
        }
    }
    Ok(out)
}

/// The bytes the cache's blobs hold.
pub(crate) fn total(root: &Path) -> Result<u64> {
    Ok(entries(root)?.iter().map(|e| e.size).sum())
}

/// Removes least recently used blobs until they hold at most `limit` bytes; `keep` is never
/// removed (the blob just added).
pub(crate) fn evict(root: &Path, limit: u64, keep: Option<&Digest>) -> Result<EvictReport> {
    let mut all = entries(root)?;
    let mut held: u64 = all.iter().map(|e| e.size).sum();
    let mut report = EvictReport::default();
    // oldest first; the digest breaks ties so the order is stable
    all.sort_by(|a, b| {
        a.used
            .cmp(&b.used)
            .then_with(|| a.digest.hex().cmp(b.digest.hex()))
    });
    for e in all {
        if held <= limit {
            break;
        }
        if Some(&e.digest) == keep {
            continue;
        }
        let Some(_lock) = DigestLock::try_acquire(&root.join("locks"), &e.digest)? else {
            continue; // someone is fetching or reading it
        };
        match fs::remove_file(&e.path) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err.into()),
        }
        let _ = fs::remove_file(marker(root, &e.digest));
        held -= e.size;
        report.freed += e.size;
        report.removed.push(e.digest);
    }
    report.remaining = held;
    Ok(report)
}
