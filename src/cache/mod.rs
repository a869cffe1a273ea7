//! A shared, content-addressed cache of blobs on disk, for
//! [`artifact::pull`](crate::artifact::pull) and the [build-script helper](crate::build).
//!
//! ```text
//! ROOT/blobs/sha256/HEX          the blob, written once verified, read-only
//! ROOT/locks/sha256-HEX.lock     the digest's lock: one fetch per digest across processes
//! ROOT/used/sha256-HEX           its modification time is the blob's last use (LRU eviction)
//! ROOT/tags/HOST_PORT/REPO/@tags/TAG   the digest the tag pointed at when last pulled
//! ```
//!
//! The root is, in this order: the directory given to [`Cache::new`]; `$AZCR_CACHE_DIR`;
//! `$XDG_CACHE_HOME/azcontainerregistry`; the platform's cache directory
//! (`~/.cache/azcontainerregistry` on Linux, `~/Library/Caches/azcontainerregistry` on macOS,
//! `%LOCALAPPDATA%\azcontainerregistry` on Windows) — see [`Cache::from_env`].
//!
//! Processes and builds share it safely: a blob appears by atomic rename once it is complete and
//! verified, and a lock per digest makes concurrent pulls of one digest fetch it once (the others
//! wait, then find it). When the blobs grow past the size limit ([`DEFAULT_MAX_SIZE`] unless
//! set), the least recently used are removed. The cache trusts its own files: they are verified
//! when they are written, not on every use, and made read-only so that a file materialised by
//! hard link cannot be changed in place by accident.
//!
//! ```
//! use azcontainerregistry::{Digest, cache::Cache};
//! let dir = tempfile::tempdir()?;
//! let cache = Cache::new(dir.path()).with_max_size(1 << 20);
//! let digest = Digest::of(b"hello");
//! cache.insert_bytes(&digest, b"hello")?;
//! assert!(cache.get(&digest, Some(5))?.is_some());
//! cache.materialise(&digest, dir.path().join("hello.txt"))?;
//! assert_eq!(std::fs::read(dir.path().join("hello.txt"))?, b"hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod evict;
mod lock;
mod tags;

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

pub use evict::EvictReport;
pub use tags::TagRecord;

use crate::atomic_file;
use crate::digest::Digest;
use crate::error::{Error, Result};
use lock::DigestLock;

/// The environment variable that overrides the cache directory.
pub const CACHE_DIR_ENV: &str = "AZCR_CACHE_DIR";

/// The size limit of a cache unless [`Cache::with_max_size`] sets another: 10 GiB.
pub const DEFAULT_MAX_SIZE: u64 = 10 << 30;

/// A cache directory (see the [module docs](self)). Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cache {
    root: PathBuf,
    max_size: u64,
}

/// How [`Cache::materialise`] placed a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Placed {
    /// A hard link to the cache's file: no bytes copied.
    HardLink,
    /// A copy (another filesystem, or links refused).
    Copy,
}

impl Cache {
    /// The cache at `root` (created when first written), with the [`DEFAULT_MAX_SIZE`] limit.
    pub fn new(root: impl Into<PathBuf>) -> Cache {
        Cache {
            root: root.into(),
            max_size: DEFAULT_MAX_SIZE,
        }
    }

    /// The cache at [`default_dir`](Self::default_dir); an error when no directory can be found
    /// (no `HOME`).
    pub fn from_env() -> Result<Cache> {
        Cache::default_dir().map(Cache::new).ok_or_else(|| {
            Error::Config(format!(
                "no cache directory: set {CACHE_DIR_ENV} (or XDG_CACHE_HOME, or HOME)"
            ))
        })
    }

    /// The cache directory the environment names: `$AZCR_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/azcontainerregistry`, else the platform's cache directory.
    pub fn default_dir() -> Option<PathBuf> {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        if let Some(dir) = var(CACHE_DIR_ENV) {
            return Some(dir);
        }
        // XDG paths must be absolute; a relative one is ignored, as the specification says
        if let Some(xdg) = var("XDG_CACHE_HOME").filter(|p| p.is_absolute()) {
            return Some(xdg.join("azcontainerregistry"));
        }
        if cfg!(windows) {
            return var("LOCALAPPDATA").map(|d| d.join("azcontainerregistry"));
        }
        let home = var("HOME")?;
        if cfg!(target_os = "macos") {
            return Some(home.join("Library/Caches/azcontainerregistry"));
        }
        Some(home.join(".cache").join("azcontainerregistry"))
    }

    /// This cache with a size limit of `bytes` for its blobs.
    pub fn with_max_size(mut self, bytes: u64) -> Cache {
        self.max_size = bytes;
        self
    }

    /// The cache's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The size limit.
    pub fn max_size(&self) -> u64 {
        self.max_size
    }

    /// Where the blob `digest` lives (whether or not it is there).
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root
            .join("blobs")
            .join(digest.algorithm().as_str())
            .join(digest.hex())
    }

    fn locks(&self) -> PathBuf {
        self.root.join("locks")
    }

    /// The blob's path when it is in the cache (with `size`, when given), recording the use.
    pub fn get(&self, digest: &Digest, size: Option<u64>) -> Result<Option<PathBuf>> {
        let path = self.blob_path(digest);
        // a symbolic link planted in the cache is not a cached blob
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() && size.is_none_or(|s| s == m.len()) => {
                // a cache on a read-only filesystem still serves; it just cannot order evictions
                if let Err(e) = evict::touch(&self.root, digest) {
                    log::debug!("cache: cannot record the use of {digest}: {e}");
                }
                Ok(Some(path))
            }
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Puts the blob `digest` in the cache unless it is there: under the digest's lock (so of
    /// several processes asking at once, one runs `fill` and the others wait and find the blob),
    /// `fill` writes the bytes to a temporary file and must fail when they are not `digest`'s
    /// (as [`BlobReader::copy_to`](crate::BlobReader::copy_to) does); the file is renamed into
    /// place only then. Returns the blob's path and whether `fill` ran. Then, if the blobs
    /// exceed the size limit, the least recently used others are evicted.
    pub fn insert_with(
        &self,
        digest: &Digest,
        size: Option<u64>,
        fill: impl FnOnce(&mut File) -> Result<u64>,
    ) -> Result<(PathBuf, bool)> {
        let lock = DigestLock::acquire(&self.locks(), digest)?;
        if let Some(path) = self.get(digest, size)? {
            return Ok((path, false));
        }
        let path = self.blob_path(digest);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        // a stale file of the wrong size goes first (read-only files cannot be replaced on Windows)
        let _ = fs::remove_file(&path);
        let written = atomic_file::write_with(&path, "cache blob", |file| {
            let n = fill(file)?;
            if let Some(expected) = size
                && expected != n
            {
                return Err(Error::SizeMismatch {
                    what: "blob written to the cache",
                    expected,
                    actual: n,
                });
            }
            let mut perms = file.metadata()?.permissions();
            perms.set_readonly(true);
            file.set_permissions(perms)?;
            Ok(n)
        })?;
        evict::touch(&self.root, digest)?;
        drop(lock);
        if evict::total(&self.root)? > self.max_size {
            evict::evict(&self.root, self.max_size, Some(digest))?;
        }
        debug_assert!(size.is_none_or(|s| s == written));
        Ok((path, true))
    }

    /// Puts `bytes` in the cache as `digest`, after checking that they are.
    pub fn insert_bytes(&self, digest: &Digest, bytes: &[u8]) -> Result<PathBuf> {
        digest.verify("bytes put in the cache", bytes)?;
        let (path, _) = self.insert_with(digest, Some(bytes.len() as u64), |file| {
            file.write_all(bytes)?;
            Ok(bytes.len() as u64)
        })?;
        Ok(path)
    }

    /// The bytes of the blob `digest`, verified, when it is in the cache and at most `limit`
    /// bytes long (for manifests); a cached file that does not verify is removed and reads as
    /// absent.
    pub fn read_verified(&self, digest: &Digest, limit: u64) -> Result<Option<Vec<u8>>> {
        let Some(path) = self.get(digest, None)? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        File::open(&path)?
            .take(limit.saturating_add(1))
            .read_to_end(&mut bytes)?;
        if bytes.len() as u64 > limit || digest.verify("cached blob", &bytes).is_err() {
            log::warn!("cache: {} is damaged; removed", path.display());
            let _lock = DigestLock::acquire(&self.locks(), digest)?;
            let _ = fs::remove_file(&path);
            return Ok(None);
        }
        Ok(Some(bytes))
    }

    /// Places the cached blob `digest` at `target`, whole or not at all: a hard link where the
    /// filesystem allows (same filesystem; no bytes copied), else a copy. An existing file at
    /// `target` is replaced. A hard-linked file is read-only, as the cache's file is.
    pub fn materialise(&self, digest: &Digest, target: impl AsRef<Path>) -> Result<Placed> {
        let target = target.as_ref();
        let source = self.get(digest, None)?.ok_or_else(|| {
            Error::Offline(format!(
                "{digest} is not in the cache at {}",
                self.root.display()
            ))
        })?;
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target.file_name().ok_or_else(|| {
            Error::invalid(
                "target",
                target.display().to_string(),
                "the path must name a file",
            )
        })?;
        let mut prefix = std::ffi::OsString::from(".");
        prefix.push(name);
        prefix.push(".");
        // a fresh name beside the target (another is tried when taken), linked, renamed over it
        let linked = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".link")
            .make_in(&dir, |p| fs::hard_link(&source, p));
        if let Ok(tmp) = linked {
            let tmp = tmp.into_temp_path();
            // renaming a link over another link to the same file leaves both names (POSIX): the
            // temporary name goes when `tmp` drops, either way
            if fs::rename(&tmp, target).is_ok() {
                return Ok(Placed::HardLink);
            }
        }
        atomic_file::write_with(target, "materialised file", |file| {
            Ok(std::io::copy(&mut File::open(&source)?, file)?)
        })?;
        Ok(Placed::Copy)
    }

    /// Records that `registry`'s (`host[:port]`) `repository:tag` points at `digest`.
    pub fn record_tag(
        &self,
        registry: &str,
        repository: &str,
        tag: &str,
        digest: &Digest,
    ) -> Result<()> {
        tags::write(
            &tags::record_path(&self.root, registry, repository, tag)?,
            digest,
        )
    }

    /// What the cache last recorded for `registry`'s `repository:tag`.
    pub fn tag(&self, registry: &str, repository: &str, tag: &str) -> Result<Option<TagRecord>> {
        tags::read(&tags::record_path(&self.root, registry, repository, tag)?)
    }

    /// The bytes the cache's blobs hold.
    pub fn size(&self) -> Result<u64> {
        evict::total(&self.root)
    }

    /// Evicts least recently used blobs until they hold at most the size limit. Blobs someone
    /// holds the lock of are skipped.
    pub fn evict(&self) -> Result<EvictReport> {
        evict::evict(&self.root, self.max_size, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_get_materialise_evict() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("c")).with_max_size(10);
        let a = Digest::of(b"aaaaaa");
        let b = Digest::of(b"bbbbbb");
        cache.insert_bytes(&a, b"aaaaaa").unwrap();
        assert!(
            cache.insert_bytes(&b, b"wrong").is_err(),
            "bytes are checked"
        );
        assert_eq!(cache.get(&b, None).unwrap(), None);
        let out = dir.path().join("out");
        assert_eq!(cache.materialise(&a, &out).unwrap(), Placed::HardLink);
        assert_eq!(cache.materialise(&a, &out).unwrap(), Placed::HardLink);
        assert_eq!(fs::read(&out).unwrap(), b"aaaaaa");
        // a second blob pushes the size past 10 bytes: the older goes, the newer stays
        cache.insert_bytes(&b, b"bbbbbb").unwrap();
        assert_eq!(cache.get(&a, None).unwrap(), None);
        assert!(cache.get(&b, None).unwrap().is_some());
        assert_eq!(
            fs::read(&out).unwrap(),
            b"aaaaaa",
            "a hard link keeps its bytes"
        );
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "no temporary link is left: {names:?}");
    }

    #[test]
    fn eviction_skips_a_blob_someone_holds() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path()).with_max_size(1 << 20);
        let old = Digest::of(b"old blob");
        let new = Digest::of(b"new blob");
        cache.insert_bytes(&old, b"old blob").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20)); // distinct modification times
        cache.insert_bytes(&new, b"new blob").unwrap();
        let limited = cache.clone().with_max_size(0);
        let held = DigestLock::acquire(&cache.locks(), &old).unwrap();
        let report = limited.evict().unwrap();
        assert_eq!(report.removed, vec![new.clone()], "the held one is skipped");
        drop(held);
        let report = limited.evict().unwrap();
        assert_eq!(report.removed, vec![old], "and goes once released");
        assert_eq!(report.remaining, 0);
    }
}
