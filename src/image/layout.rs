//! OCI image layout directories (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`), as skopeo, oras
//! and containerd read and write them.
//!
//! Blobs are written atomically and verified: bytes go to a temporary file in the same directory,
//! are hashed on the way, fsynced, and renamed into place only when their digest and size match. A
//! layout therefore never holds a partial or corrupt blob under a digest's name, and a blob that is
//! already there (and verified) is never fetched again.
//!
//! A layout may come from someone else: a blob is read only from a regular file under `blobs/`
//! (a symbolic link, a directory, a FIFO or a device is refused, and so is a `blobs/` or
//! `blobs/<alg>/` that is not a real directory), and its digest is verified before it is used.
//! `index.json` is changed under a lock (re-read, merged, written), so concurrent writers keep
//! each other's entries.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::atomic_file;
use crate::digest::{Digest, DigestReader};
use crate::error::{Error, Result};
use crate::manifest::{Descriptor, ImageIndex};

/// The annotation that names an image in a layout's `index.json` (skopeo's `oci:DIR:NAME`).
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

const LAYOUT_FILE: &str = "oci-layout";
const INDEX_FILE: &str = "index.json";
/// `index.json` and manifests are read up to this size.
const JSON_LIMIT: u64 = 4 * 1024 * 1024;
/// `oci-layout` is read up to this size (it holds about 30 bytes).
const LAYOUT_FILE_LIMIT: u64 = 64 * 1024;

/// An OCI image layout directory.
///
/// Blob writes are safe to run concurrently (each is a temporary file renamed into place), and so
/// are [`add_manifest`](Self::add_manifest)s, from threads or processes: `index.json` is re-read,
/// changed and rewritten under an exclusive lock on the layout directory.
///
/// ```
/// use azcontainerregistry::image::Layout;
/// let dir = tempfile::tempdir()?;
/// let layout = Layout::create(dir.path())?;
/// let digest = layout.write_blob_bytes(b"hello")?;
/// assert!(layout.has_blob(&digest, Some(5)));
/// assert_eq!(layout.read_blob_bytes(&digest, 1024)?, b"hello");
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// Opens the layout at `dir`, creating the directory, `oci-layout` and an empty `index.json`
    /// when they are missing.
    pub fn create(dir: impl AsRef<Path>) -> Result<Self> {
        let root = dir.as_ref().to_path_buf();
        fs::create_dir_all(root.join("blobs"))?;
        let layout = Layout { root };
        if !layout.root.join(LAYOUT_FILE).exists() {
            // concurrent creators write the same bytes; each write is atomic
            atomic_file::write_bytes(
                &layout.root.join(LAYOUT_FILE),
                "layout file",
                br#"{"imageLayoutVersion":"1.0.0"}"#,
            )?;
        }
        let _lock = layout.lock_index()?;
        if !layout.root.join(INDEX_FILE).exists() {
            layout.write_index(&ImageIndex::new(Vec::new()))?;
        }
        Ok(layout)
    }

    /// Opens an existing layout; fails when `dir` has no `oci-layout` file.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let root = dir.as_ref().to_path_buf();
        let marker = root.join(LAYOUT_FILE);
        let text = read_bounded(&marker, LAYOUT_FILE_LIMIT, "oci-layout").map_err(|e| match e {
            Error::Io(e) => Error::invalid(
                "OCI layout",
                root.display().to_string(),
                format!("an OCI image layout has an oci-layout file ({e})"),
            ),
            other => other,
        })?;
        let v: serde_json::Value =
            serde_json::from_slice(&text).map_err(|e| Error::decode("oci-layout", e))?;
        if v.get("imageLayoutVersion")
            .and_then(|x| x.as_str())
            .is_none()
        {
            return Err(Error::decode("oci-layout", "no imageLayoutVersion"));
        }
        Ok(Layout { root })
    }

    /// The layout's directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Where a blob lives: `blobs/<algorithm>/<hex>`.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root
            .join("blobs")
            .join(digest.algorithm().as_str())
            .join(digest.hex())
    }

    /// True when the blob is present as a regular file (with `size` bytes, when given; a
    /// symbolic link does not count). Its content is not read: see
    /// [`has_verified_blob`](Self::has_verified_blob).
    pub fn has_blob(&self, digest: &Digest, size: Option<u64>) -> bool {
        match fs::symlink_metadata(self.blob_path(digest)) {
            Ok(m) => m.is_file() && size.is_none_or(|s| s == m.len()),
            Err(_) => false,
        }
    }

    /// True when the blob is present as a regular file of the layout (with `size` bytes, when
    /// given) whose bytes hash to `digest`. Reads the whole blob.
    pub fn has_verified_blob(&self, digest: &Digest, size: Option<u64>) -> bool {
        self.open_verified_blob(digest, size).is_ok()
    }

    /// Opens a blob for reading after checking, by reading it once, that it has `size` bytes (when
    /// given) and hashes to `digest`; the file returned is positioned at its start. A blob that
    /// does not is an [`Error::SizeMismatch`] or an [`Error::DigestMismatch`].
    pub fn open_verified_blob(&self, digest: &Digest, size: Option<u64>) -> Result<File> {
        let mut file = self.open_blob(digest)?;
        let len = file.metadata()?.len();
        if let Some(size) = size
            && size != len
        {
            return Err(Error::SizeMismatch {
                what: "layout blob",
                expected: size,
                actual: len,
            });
        }
        let mut verified = DigestReader::new(&mut file, digest.clone(), Some(len));
        copy_large(&mut verified, &mut io::sink()).map_err(crate::digest::io_to_error)?;
        file.seek(SeekFrom::Start(0))?;
        Ok(file)
    }

    /// Writes a blob from a stream, verifying digest (and size, when given) before it appears under
    /// its name. Returns the number of bytes written.
    pub fn write_blob(&self, digest: &Digest, size: Option<u64>, reader: impl Read) -> Result<u64> {
        let mut verified = DigestReader::new(reader, digest.clone(), size);
        self.write_blob_with(digest, |file| {
            copy_large(&mut verified, file).map_err(crate::digest::io_to_error)
        })
    }

    /// Writes a blob through `fill`, which must verify what it writes (and fail otherwise): the
    /// bytes go to a temporary file in the blob's directory, which is fsynced and renamed into
    /// place only when `fill` succeeds.
    pub(crate) fn write_blob_with(
        &self,
        digest: &Digest,
        fill: impl FnOnce(&mut File) -> Result<u64>,
    ) -> Result<u64> {
        let target = self.blob_path(digest);
        if let Some(dir) = target.parent() {
            fs::create_dir_all(dir)?;
        }
        // never write through a link out of the layout
        self.check_blob_dirs(digest)?;
        atomic_file::write_with(&target, "layout blob", fill)
    }

    /// Writes bytes as a blob and returns their digest.
    pub fn write_blob_bytes(&self, bytes: &[u8]) -> Result<Digest> {
        let digest = Digest::of(bytes);
        if !self.has_blob(&digest, Some(bytes.len() as u64)) {
            self.write_blob(&digest, Some(bytes.len() as u64), bytes)?;
        }
        Ok(digest)
    }

    /// Opens a blob for reading. Only a regular file is opened: a symbolic link (which could
    /// point out of the layout), a directory, a FIFO or a device is refused, and so are `blobs/`
    /// and `blobs/<alg>/` when they are not real directories. The bytes are not verified: see
    /// [`open_verified_blob`](Self::open_verified_blob).
    pub fn open_blob(&self, digest: &Digest) -> Result<File> {
        let not_there = || {
            Error::invalid(
                "blob",
                digest.to_string(),
                format!("not in the layout at {}", self.root.display()),
            )
        };
        let refused = |path: &Path, why: &str| {
            Error::invalid(
                "layout blob",
                path.display().to_string(),
                format!("{why}; only regular files are read from a layout"),
            )
        };
        let missing = |e: io::Error| {
            if e.kind() == io::ErrorKind::NotFound {
                not_there()
            } else {
                Error::Io(e)
            }
        };
        self.check_blob_dirs(digest).map_err(|e| match e {
            Error::Io(e) => missing(e),
            other => other,
        })?;
        let path = self.blob_path(digest);
        let before = fs::symlink_metadata(&path).map_err(missing)?;
        if !before.file_type().is_file() {
            return Err(refused(&path, "it is a symbolic link or not a file"));
        }
        let file = File::open(&path).map_err(missing)?;
        let after = file.metadata()?;
        if !after.is_file() || !same_file(&before, &after) {
            return Err(refused(&path, "it was replaced while being opened"));
        }
        Ok(file)
    }

    /// `blobs/` and `blobs/<alg>/` are real directories, not links.
    fn check_blob_dirs(&self, digest: &Digest) -> Result<()> {
        let blobs = self.root.join("blobs");
        let alg = blobs.join(digest.algorithm().as_str());
        for dir in [blobs, alg] {
            if !fs::symlink_metadata(&dir)?.file_type().is_dir() {
                return Err(Error::invalid(
                    "OCI layout",
                    dir.display().to_string(),
                    "it is a symbolic link or not a directory; a layout's blob directories must \
                     be real directories",
                ));
            }
        }
        Ok(())
    }

    /// Reads a (small) blob into memory, verified, refusing more than `limit` bytes.
    pub fn read_blob_bytes(&self, digest: &Digest, limit: u64) -> Result<Vec<u8>> {
        let file = self.open_blob(digest)?;
        if file.metadata()?.len() > limit {
            return Err(Error::TooLarge {
                what: "layout blob",
                limit,
            });
        }
        let mut out = Vec::new();
        DigestReader::new(file.take(limit), digest.clone(), None)
            .read_to_end(&mut out)
            .map_err(crate::digest::io_to_error)?;
        Ok(out)
    }

    /// Reads a manifest blob (bounded at 4 MiB).
    pub fn read_manifest_bytes(&self, digest: &Digest) -> Result<Vec<u8>> {
        self.read_blob_bytes(digest, JSON_LIMIT)
    }

    /// The layout's `index.json`.
    pub fn index(&self) -> Result<ImageIndex> {
        let bytes = read_bounded(&self.root.join(INDEX_FILE), JSON_LIMIT, "index.json")?;
        serde_json::from_slice(&bytes).map_err(|e| Error::decode("index.json", e))
    }

    fn write_index(&self, index: &ImageIndex) -> Result<()> {
        let bytes = serde_json::to_vec(index).map_err(|e| Error::decode("index.json", e))?;
        atomic_file::write_bytes(&self.root.join(INDEX_FILE), "layout file", &bytes)
    }

    /// An exclusive lock on the layout's `index.json`, held until the file returned is dropped:
    /// on Unix a lock on the layout directory itself (no file is added to the layout), elsewhere
    /// on a `.index.json.lock` file beside it. The lock is the operating system's, so a writer
    /// that dies releases it.
    fn lock_index(&self) -> Result<File> {
        #[cfg(unix)]
        let file = File::open(&self.root)?;
        #[cfg(not(unix))]
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.root.join(".index.json.lock"))?;
        file.lock()?;
        Ok(file)
    }

    /// Adds `descriptor` to `index.json` under `name` (the `org.opencontainers.image.ref.name`
    /// annotation), replacing an entry of the same name; without a name the descriptor is added
    /// unless an unnamed entry with the same digest is already there. Safe against concurrent
    /// writers: the index is re-read, changed and written under the layout's lock.
    pub fn add_manifest(&self, descriptor: &Descriptor, name: Option<&str>) -> Result<()> {
        let _lock = self.lock_index()?;
        let mut index = self.index()?;
        let mut entry = descriptor.clone();
        match name {
            Some(n) => {
                index
                    .manifests
                    .retain(|d| d.annotation(REF_NAME) != Some(n));
                entry
                    .annotations
                    .get_or_insert_with(Default::default)
                    .insert(REF_NAME.to_string(), n.to_string());
            }
            None => {
                if index
                    .manifests
                    .iter()
                    .any(|d| d.digest == entry.digest && d.annotation(REF_NAME).is_none())
                {
                    return Ok(());
                }
            }
        }
        index.manifests.push(entry);
        self.write_index(&index)
    }

    /// The manifest named `name` in `index.json`; with no name, the only entry (an error when there
    /// are several).
    pub fn resolve(&self, name: Option<&str>) -> Result<Descriptor> {
        let index = self.index()?;
        let root = self.root.display().to_string();
        match name {
            Some(n) => index
                .manifests
                .into_iter()
                .find(|d| d.annotation(REF_NAME) == Some(n))
                .ok_or_else(|| {
                    Error::invalid(
                        "layout reference",
                        n,
                        format!("no image of that name in {root}"),
                    )
                }),
            None => {
                let mut it = index.manifests.into_iter();
                match (it.next(), it.next()) {
                    (Some(d), None) => Ok(d),
                    (None, _) => Err(Error::invalid(
                        "OCI layout",
                        root,
                        "its index.json lists no image",
                    )),
                    (Some(_), Some(_)) => Err(Error::invalid(
                        "OCI layout",
                        root,
                        "its index.json lists several images: name one (DIR:NAME)",
                    )),
                }
            }
        }
    }
}

/// Reads the regular file at `path` whole, refusing more than `limit` bytes and anything but a
/// regular file (a link out of the layout, a FIFO that would block) (`what` names it).
fn read_bounded(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>> {
    if !fs::symlink_metadata(path)?.file_type().is_file() {
        return Err(Error::invalid(
            "OCI layout file",
            path.display().to_string(),
            format!("{what} is a symbolic link or not a file; only regular files are read"),
        ));
    }
    let file = File::open(path)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(Error::TooLarge { what, limit });
    }
    Ok(bytes)
}

/// The two metadata describe one file (always true where that cannot be told).
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        a.dev() == b.dev() && a.ino() == b.ino()
    }
    #[cfg(not(unix))]
    {
        a.len() == b.len()
    }
}

/// Copies with a 1 MiB buffer (fewer syscalls than `io::copy`'s 8 KiB on multi-GiB blobs).
pub(crate) fn copy_large(reader: &mut impl Read, writer: &mut impl Write) -> io::Result<u64> {
    let mut buf = vec![0u8; 1024 * 1024];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        writer.write_all(&buf[..n])?;
        total += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::media_type;

    #[test]
    fn create_open_and_index() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Layout::open(dir.path()).is_err());
        let l = Layout::create(dir.path()).unwrap();
        let l = Layout::open(l.path()).unwrap();
        let m = l.write_blob_bytes(br#"{"schemaVersion":2}"#).unwrap();
        let d = Descriptor::new(media_type::OCI_MANIFEST, m.clone(), 19);
        l.add_manifest(&d, Some("v1")).unwrap();
        l.add_manifest(&d, Some("v1")).unwrap();
        l.add_manifest(&d, Some("v2")).unwrap();
        assert_eq!(l.index().unwrap().manifests.len(), 2);
        assert_eq!(l.resolve(Some("v2")).unwrap().digest, m);
        assert!(l.resolve(None).is_err(), "two entries: a name is needed");
        assert!(l.resolve(Some("nope")).is_err());
        let text = fs::read_to_string(dir.path().join("index.json")).unwrap();
        assert!(text.contains(REF_NAME), "{text}");
    }

    #[test]
    fn corrupt_blob_never_lands() {
        let dir = tempfile::tempdir().unwrap();
        let l = Layout::create(dir.path()).unwrap();
        let want = Digest::of(b"good");
        let e = l.write_blob(&want, None, &b"evil"[..]).unwrap_err();
        assert!(matches!(e, Error::DigestMismatch { .. }), "{e}");
        assert!(!l.has_blob(&want, None));
        let e = l.write_blob(&want, Some(5), &b"good"[..]).unwrap_err();
        assert!(matches!(e, Error::SizeMismatch { .. }), "{e}");
        assert!(!l.has_blob(&want, None));
        // no temporary files left behind
        let left: Vec<_> = fs::read_dir(dir.path().join("blobs/sha256"))
            .unwrap()
            .collect();
        assert!(left.is_empty(), "{left:?}");
        l.write_blob(&want, Some(4), &b"good"[..]).unwrap();
        assert!(l.has_blob(&want, Some(4)));
        assert!(!l.has_blob(&want, Some(3)));
    }
}
