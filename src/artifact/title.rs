//! Layer titles (`org.opencontainers.image.title`) as file names under the pull directory: what a
//! registry says must never place a file outside it.
//!
//! A title is refused when it is empty, absolute (`/x`, `\x`, `C:x`), holds a `..` component, a
//! NUL, or a `\` (a separator on Windows, a name character elsewhere: refused everywhere so that
//! one artifact lands the same on every system); `.` and empty components are dropped (`./a` is
//! `a`). Two titles of one pull may not name the same path, nor one a directory above the other.
//! When a file is written, no existing directory on its way may be a symbolic link
//! ([`check_no_links`]).

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

const RULE: &str = "a title must be a relative path inside the output directory: not empty, not \
                    absolute, without '..', '\\' or NUL";

/// The relative path a title names, or an error saying why it is refused.
pub(crate) fn safe_path(title: &str) -> Result<PathBuf> {
    let bad = title.is_empty()
        || title.contains('\0')
        || title.contains('\\')
        || title.starts_with('/')
        || title.as_bytes().get(1) == Some(&b':');
    if bad {
        return Err(Error::invalid("layer title", title, RULE));
    }
    let mut out = PathBuf::new();
    for part in title.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(Error::invalid("layer title", title, RULE)),
            p => out.push(p),
        }
    }
    // what std makes of it must be plain names only (no prefix, no root)
    if out.as_os_str().is_empty() || !out.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(Error::invalid("layer title", title, RULE));
    }
    Ok(out)
}

/// The paths of `titles`, refusing unsafe ones and clashes (the same path twice, or one path
/// inside another).
pub(crate) fn safe_paths<'a>(titles: impl IntoIterator<Item = &'a str>) -> Result<Vec<PathBuf>> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for title in titles {
        let path = safe_path(title)?;
        if !seen.insert(path.clone()) {
            return Err(Error::invalid(
                "layer title",
                title,
                "two layers of the artifact have this title: refused rather than overwrite one",
            ));
        }
        out.push(path);
    }
    for a in &out {
        for b in &out {
            if a != b && b.starts_with(a) {
                return Err(Error::invalid(
                    "layer title",
                    b.display().to_string(),
                    format!("it lies inside another layer's path {}", a.display()),
                ));
            }
        }
    }
    Ok(out)
}

/// Fails when a directory between `root` and `root/rel`'s parent is a symbolic link (it could
/// lead out of `root`); creates the missing ones.
pub(crate) fn check_no_links(root: &Path, rel: &Path) -> Result<()> {
    let mut at = root.to_path_buf();
    let parents: Vec<_> = rel
        .parent()
        .map(|p| p.components().collect())
        .unwrap_or_default();
    for part in parents {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(Error::invalid(
                    "output path",
                    at.display().to_string(),
                    "it is a symbolic link: refused, it could lead out of the output directory",
                ));
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(Error::invalid(
                    "output path",
                    at.display().to_string(),
                    "a file is in the way of a directory",
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::create_dir(&at)?,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles() {
        assert_eq!(safe_path("a.txt").unwrap(), PathBuf::from("a.txt"));
        assert_eq!(safe_path("./d/a.txt").unwrap(), PathBuf::from("d/a.txt"));
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/..",
            "\\x",
            "C:x",
            "a\\b",
            ".",
            "a\0",
        ] {
            assert!(safe_path(bad).is_err(), "{bad:?} must be refused");
        }
        assert!(safe_paths(["a", "b"]).is_ok());
        assert!(safe_paths(["a", "./a"]).is_err());
        assert!(safe_paths(["d", "d/x"]).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn links_on_the_way_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("l")).unwrap();
        assert!(check_no_links(root.path(), Path::new("l/x")).is_err());
        check_no_links(root.path(), Path::new("d/e/x")).unwrap();
        assert!(root.path().join("d/e").is_dir());
    }
}
