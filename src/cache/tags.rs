//! Tag records: the digest a tag pointed at when it was last pulled, so that an offline pull by
//! tag can use it. One small file per tag: `tags/HOST_PORT/REPOSITORY/@tags/TAG`, holding the
//! digest; its modification time says when it was recorded. `@` never appears in a repository
//! name, so a tag's file cannot collide with a repository's directory.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::atomic_file;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::reference::{validate_repository, validate_tag};

/// What the cache recorded for a tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRecord {
    /// The digest the tag pointed at.
    pub digest: Digest,
    /// When it was recorded (the record's modification time), when the filesystem tells.
    pub recorded: Option<SystemTime>,
}

/// The record file of `registry`'s `repository:tag` under `root`.
pub(crate) fn record_path(
    root: &Path,
    registry: &str,
    repository: &str,
    tag: &str,
) -> Result<PathBuf> {
    validate_repository(repository)?;
    validate_tag(tag)?;
    let mut path = root.join("tags").join(registry_dir(registry)?);
    for part in repository.split('/') {
        path.push(part);
    }
    path.push("@tags");
    path.push(tag);
    Ok(path)
}

/// `registry` (`host[:port]`) as one directory name: `:` is `_` (not allowed in Windows names).
fn registry_dir(registry: &str) -> Result<String> {
    let ok = !registry.is_empty()
        && registry
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
        && registry != "."
        && registry != "..";
    if !ok {
        return Err(Error::invalid(
            "registry",
            registry,
            "a registry is host[:port]: letters, digits, '.', '-', ':' and brackets",
        ));
    }
    Ok(registry.replace([':', '[', ']'], "_"))
}

pub(crate) fn write(path: &Path, digest: &Digest) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    atomic_file::write_bytes(path, "tag record", format!("{digest}\n").as_bytes())
}

/// The most of a tag record read (a digest and a line break fit many times over).
const TAG_RECORD_LIMIT: u64 = 1024;

pub(crate) fn read(path: &Path) -> Result<Option<TagRecord>> {
    // a record is one digest: read a bounded prefix of a regular file only (never a FIFO)
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut std::io::Read::take(std::fs::File::open(path)?, TAG_RECORD_LIMIT),
        &mut text,
    )?;
    let digest = Digest::parse(text.trim())?;
    let recorded = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    Ok(Some(TagRecord { digest, recorded }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_names_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = record_path(dir.path(), "127.0.0.1:5000", "tools/protoc", "25.1").unwrap();
        assert!(
            path.ends_with("tags/127.0.0.1_5000/tools/protoc/@tags/25.1"),
            "{path:?}"
        );
        assert_eq!(read(&path).unwrap(), None);
        let d = Digest::of(b"m");
        write(&path, &d).unwrap();
        assert_eq!(read(&path).unwrap().unwrap().digest, d);
        assert!(record_path(dir.path(), "../x", "a", "b").is_err());
        assert!(record_path(dir.path(), "r", "../a", "b").is_err());
        assert!(record_path(dir.path(), "r", "a", "../b").is_err());
    }
}
