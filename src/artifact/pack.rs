//! Directories as layers, the way oras packs them: a tar of the directory whose entries start with
//! the directory's name (`NAME/`, `NAME/file`…), gzip-compressed; the layer carries the
//! annotations [`UNPACK`] (`"true"`) and [`CONTENT_DIGEST`] (the digest of the uncompressed tar).
//!
//! Packing is deterministic (tar's deterministic header mode: fixed times and owners, modes
//! normalised), so the same tree gives the same digest and caches well. Symbolic links are stored
//! as links, not followed.
//!
//! Unpacking refuses, before anything lands in the output directory: entries outside `NAME/`
//! (absolute paths, `..`), symbolic links whose target is absolute or leads out of `NAME/`, hard
//! links to anything not unpacked before them, device files and FIFOs, and a tar whose digest is
//! not the announced one. It unpacks into a temporary directory beside the target and renames it
//! into place, so the directory appears whole or not at all.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use super::title::check_no_links;
use crate::digest::{Algorithm, Digest, DigestReader, DigestWriter, io_to_error};
use crate::error::{Error, Result};

/// The annotation that marks a layer as a packed directory.
pub const UNPACK: &str = "io.deis.oras.content.unpack";
/// The annotation holding the digest of a packed directory's uncompressed tar.
pub const CONTENT_DIGEST: &str = "io.deis.oras.content.digest";

/// A directory packed into a file.
pub(crate) struct Packed {
    /// The digest of the tar+gzip bytes (the layer's digest).
    pub(crate) digest: Digest,
    /// Their length.
    pub(crate) size: u64,
    /// The digest of the uncompressed tar.
    pub(crate) tar_digest: Digest,
}

/// Packs the directory `dir` as `name/…` into `out` (tar + gzip).
pub(crate) fn pack_dir(dir: &Path, name: &str, out: &mut File) -> Result<Packed> {
    let zipped = DigestWriter::new(&mut *out, Algorithm::Sha256);
    let gz = GzEncoder::new(zipped, Compression::default());
    let mut builder = tar::Builder::new(DigestWriter::new(gz, Algorithm::Sha256));
    builder.mode(tar::HeaderMode::Deterministic);
    builder.follow_symlinks(false);
    builder.append_dir_all(name, dir)?;
    let tarred = builder.into_inner()?;
    let (gz, tar_digest, _) = tarred.finish();
    let zipped = gz.finish()?;
    let (_, digest, size) = zipped.finish();
    out.flush()?;
    Ok(Packed {
        digest,
        size,
        tar_digest,
    })
}

/// Unpacks the tar+gzip stream `reader`, whose entries must lie under `name`, into `dir`, so that
/// `dir/name` is the directory (replacing what was there). With `tar_digest`, the uncompressed tar
/// must have it.
pub(crate) fn unpack(
    reader: impl Read,
    dir: &Path,
    name: &Path,
    tar_digest: Option<&Digest>,
) -> Result<()> {
    check_no_links(dir, name)?;
    let staging = tempfile::Builder::new()
        .prefix(".unpack.")
        .suffix(".part")
        .tempdir_in(dir)?;
    let gz = GzDecoder::new(reader);
    let mut tar_stream: Box<dyn Read> = match tar_digest {
        Some(d) => Box::new(DigestReader::new(gz, d.clone(), None)),
        None => Box::new(gz),
    };
    {
        let mut archive = tar::Archive::new(&mut tar_stream);
        for entry in archive.entries()? {
            let entry = entry?;
            unpack_entry(entry, staging.path(), name)?;
        }
    }
    // the rest of the stream (tar padding): read to the end so that the digest is checked
    io::copy(&mut tar_stream, &mut io::sink()).map_err(io_to_error)?;
    let from = staging.path().join(name);
    if !from.is_dir() {
        fs::create_dir_all(&from)?;
    }
    let to = dir.join(name);
    match fs::symlink_metadata(&to) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(&to)?,
        Ok(_) => fs::remove_file(&to)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    fs::rename(&from, &to)?;
    Ok(())
}

fn refused(path: &Path, rule: &str) -> Error {
    Error::invalid(
        "archive entry",
        path.display().to_string(),
        rule.to_string(),
    )
}

/// `path` as plain names, or `None` when it is absolute or holds `..`.
fn plain(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

fn unpack_entry<R: Read>(mut entry: tar::Entry<'_, R>, root: &Path, name: &Path) -> Result<()> {
    let raw = entry.path()?.into_owned();
    let Some(rel) = plain(&raw).filter(|p| p.starts_with(name)) else {
        return Err(refused(
            &raw,
            &format!(
                "entries must lie under {}/ (no absolute paths, no '..')",
                name.display()
            ),
        ));
    };
    let target = root.join(&rel);
    check_no_links(root, &rel)?;
    // nothing already there is followed: a file or link of that name is replaced
    if let Ok(m) = fs::symlink_metadata(&target)
        && !m.is_dir()
    {
        fs::remove_file(&target)?;
    }
    let kind = entry.header().entry_type();
    match kind {
        tar::EntryType::Directory => fs::create_dir_all(&target)?,
        tar::EntryType::Regular | tar::EntryType::Continuous => {
            let mode = entry.header().mode().unwrap_or(0o644);
            let mut file = File::options().write(true).create_new(true).open(&target)?;
            io::copy(&mut entry, &mut file).map_err(io_to_error)?;
            set_mode(&file, mode)?;
        }
        tar::EntryType::Symlink => {
            let link = entry
                .link_name()?
                .ok_or_else(|| refused(&raw, "a link without a target"))?;
            // resolved against the link's directory, it must stay under NAME/
            let base = rel.parent().unwrap_or(Path::new(""));
            let inside = !link.is_absolute() && stays_under(&base.join(&link), name);
            if !inside {
                return Err(refused(
                    &raw,
                    &format!(
                        "its link target {} leads out of {}/",
                        link.display(),
                        name.display()
                    ),
                ));
            }
            symlink(&link, &target)
                .map_err(|e| refused(&raw, &format!("cannot create link: {e}")))?;
        }
        tar::EntryType::Link => {
            let link = entry
                .link_name()?
                .ok_or_else(|| refused(&raw, "a link without a target"))?;
            let Some(source) = plain(&link).filter(|p| p.starts_with(name)) else {
                return Err(refused(&raw, "a hard link must point inside the archive"));
            };
            let source = root.join(source);
            let ok = fs::symlink_metadata(&source).is_ok_and(|m| m.is_file());
            if !ok {
                return Err(refused(
                    &raw,
                    "a hard link must point at a file unpacked before it",
                ));
            }
            fs::hard_link(&source, &target)?;
        }
        other => {
            return Err(refused(
                &raw,
                &format!("entries of type {other:?} (devices, FIFOs…) are refused"),
            ));
        }
    }
    Ok(())
}

/// Whether the lexical resolution of `path` (with `..`) stays under `name`.
fn stays_under(path: &Path, name: &Path) -> bool {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => parts.push(p),
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return false;
                }
            }
            _ => return false,
        }
    }
    parts.iter().collect::<PathBuf>().starts_with(name)
}

#[cfg(unix)]
fn symlink(link: &Path, at: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(link, at)
}

#[cfg(not(unix))]
fn symlink(_link: &Path, _at: &Path) -> io::Result<()> {
    Err(io::Error::other("symbolic links are unpacked on Unix only"))
}

#[cfg(unix)]
fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    // no set-user-id, set-group-id or sticky bits from an archive
    file.set_permissions(fs::Permissions::from_mode(mode & 0o777))
}

#[cfg(not(unix))]
fn set_mode(_file: &File, _mode: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gz_tar(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        build(&mut b);
        let tar = b.into_inner().unwrap();
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(&tar).unwrap();
        gz.finish().unwrap()
    }

    fn header(kind: tar::EntryType, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(0o644);
        h
    }

    #[test]
    fn round_trip() {
        let src = tempfile::tempdir().unwrap();
        fs::create_dir_all(src.path().join("d/sub")).unwrap();
        fs::write(src.path().join("d/a.txt"), b"a").unwrap();
        fs::write(src.path().join("d/sub/b.txt"), b"bb").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("a.txt", src.path().join("d/link")).unwrap();
        let mut out = tempfile::tempfile().unwrap();
        let packed = pack_dir(&src.path().join("d"), "d", &mut out).unwrap();
        let mut again = tempfile::tempfile().unwrap();
        assert_eq!(
            pack_dir(&src.path().join("d"), "d", &mut again)
                .unwrap()
                .digest,
            packed.digest
        );
        let dst = tempfile::tempdir().unwrap();
        fs::write(dst.path().join("d"), b"old file in the way").unwrap();
        let read = |f: &mut File| {
            use std::io::Seek;
            f.rewind().unwrap();
            let mut v = Vec::new();
            f.read_to_end(&mut v).unwrap();
            v
        };
        let bytes = read(&mut out);
        assert_eq!(Digest::of(&bytes), packed.digest);
        unpack(
            &bytes[..],
            dst.path(),
            Path::new("d"),
            Some(&packed.tar_digest),
        )
        .unwrap();
        assert_eq!(fs::read(dst.path().join("d/sub/b.txt")).unwrap(), b"bb");
        #[cfg(unix)]
        assert_eq!(fs::read(dst.path().join("d/link")).unwrap(), b"a");
        let wrong = Digest::of(b"not the tar");
        let e = unpack(&bytes[..], dst.path(), Path::new("d"), Some(&wrong)).unwrap_err();
        assert!(matches!(e, Error::DigestMismatch { .. }), "{e}");
    }

    #[test]
    fn hostile_entries_are_refused() {
        let cases: Vec<(&str, Vec<u8>)> = vec![
            (
                "dotdot",
                gz_tar(|b| {
                    let mut h = header(tar::EntryType::Regular, 1);
                    // set_path refuses '..': write the name bytes directly, as an attacker would
                    h.as_old_mut().name[..9].copy_from_slice(b"d/../../x");
                    h.set_cksum();
                    b.append(&h, &b"x"[..]).unwrap();
                }),
            ),
            (
                "outside name",
                gz_tar(|b| {
                    let mut h = header(tar::EntryType::Regular, 1);
                    b.append_data(&mut h, "other/x", &b"x"[..]).unwrap();
                }),
            ),
            (
                "absolute link",
                gz_tar(|b| {
                    let mut h = header(tar::EntryType::Symlink, 0);
                    b.append_link(&mut h, "d/l", "/etc/passwd").unwrap();
                }),
            ),
            (
                "escaping link",
                gz_tar(|b| {
                    let mut h = header(tar::EntryType::Symlink, 0);
                    b.append_link(&mut h, "d/l", "../../x").unwrap();
                }),
            ),
            (
                "device",
                gz_tar(|b| {
                    let mut h = header(tar::EntryType::Char, 0);
                    b.append_data(&mut h, "d/null", &b""[..]).unwrap();
                }),
            ),
            (
                "write through a link",
                gz_tar(|b| {
                    let mut h = header(tar::EntryType::Symlink, 0);
                    b.append_link(&mut h, "d/l", ".").unwrap();
                    let mut h = header(tar::EntryType::Regular, 1);
                    b.append_data(&mut h, "d/l/x", &b"x"[..]).unwrap();
                }),
            ),
        ];
        for (what, bytes) in cases {
            let dst = tempfile::tempdir().unwrap();
            let e = unpack(&bytes[..], dst.path(), Path::new("d"), None);
            assert!(e.is_err(), "{what}: must be refused");
            let left: Vec<_> = fs::read_dir(dst.path()).unwrap().collect();
            assert!(left.is_empty(), "{what}: nothing lands: {left:?}");
        }
    }
}
