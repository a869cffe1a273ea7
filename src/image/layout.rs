//! OCI image layout directories (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`), as skopeo, oras
//! and containerd read and write them.
//!
//! Blobs are written atomically and verified: bytes go to a temporary file in the same directory,
//! are hashed on the way, fsynced, and renamed into place only when their digest and size match. A
//! layout therefore never holds a partial or corrupt blob under a digest's name, and a blob that is
//! already there (right size) is never fetched again.

use std::fs::{self, File};
use std::io::{self, Read, Write};
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

/// An OCI image layout directory.
///
/// Blob writes are safe to run concurrently (each is a temporary file renamed into place), but
/// `index.json` is rewritten whole by [`add_manifest`](Self::add_manifest): one writer per layout
/// at a time (two processes pulling into one layout at once can lose an entry).
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
            atomic_file::write_bytes(
                &layout.root.join(LAYOUT_FILE),
                "layout file",
                br#"{"imageLayoutVersion":"1.0.0"}"#,
            )?;
        }
        if !layout.root.join(INDEX_FILE).exists() {
            layout.write_index(&ImageIndex::new(Vec::new()))?;
        }
        Ok(layout)
    }

    /// Opens an existing layout; fails when `dir` has no `oci-layout` file.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let root = dir.as_ref().to_path_buf();
        let marker = root.join(LAYOUT_FILE);
        let text = fs::read(&marker).map_err(|e| {
            Error::invalid(
                "OCI layout",
                root.display().to_string(),
                format!("an OCI image layout has an oci-layout file ({e})"),
            )
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

    /// True when the blob is present (with `size` bytes, when given).
    pub fn has_blob(&self, digest: &Digest, size: Option<u64>) -> bool {
        match fs::metadata(self.blob_path(digest)) {
            Ok(m) => m.is_file() && size.is_none_or(|s| s == m.len()),
            Err(_) => false,
        }
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

    /// Opens a blob for reading.
    pub fn open_blob(&self, digest: &Digest) -> Result<File> {
        File::open(self.blob_path(digest)).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                Error::invalid(
                    "blob",
                    digest.to_string(),
                    format!("not in the layout at {}", self.root.display()),
                )
            } else {
                Error::Io(e)
            }
        })
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
        let file = File::open(self.root.join(INDEX_FILE))?;
        let mut bytes = Vec::new();
        file.take(JSON_LIMIT + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > JSON_LIMIT {
            return Err(Error::TooLarge {
                what: "index.json",
                limit: JSON_LIMIT,
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| Error::decode("index.json", e))
    }

    fn write_index(&self, index: &ImageIndex) -> Result<()> {
        let bytes = serde_json::to_vec(index).map_err(|e| Error::decode("index.json", e))?;
        atomic_file::write_bytes(&self.root.join(INDEX_FILE), "layout file", &bytes)
    }

    /// Adds `descriptor` to `index.json` under `name` (the `org.opencontainers.image.ref.name`
    /// annotation), replacing an entry of the same name; without a name the descriptor is added
    /// unless an unnamed entry with the same digest is already there.
    pub fn add_manifest(&self, descriptor: &Descriptor, name: Option<&str>) -> Result<()> {
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
