//! Files that appear whole or not at all: the bytes go to a temporary file beside the target
//! (`.NAME.XXXXXX.part`), which is synced and renamed over the target only when the writer
//! succeeded. A failure, a panic or a verification error leaves neither the target nor the
//! temporary file behind. The file is created as `File::create` would (mode 0666 less the umask),
//! not private to its owner as `tempfile` makes its own.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes the file at `target` (`what` names it in errors, e.g. "download path") through `fill`,
/// which returns how many bytes it wrote and must fail when the bytes are not what they should be.
/// Returns what `fill` returned.
pub(crate) fn write_with(
    target: &Path,
    what: &'static str,
    fill: impl FnOnce(&mut File) -> Result<u64>,
) -> Result<u64> {
    let name = target.file_name().ok_or_else(|| {
        Error::invalid(
            what,
            target.display().to_string(),
            "the path must name a file",
        )
    })?;
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    let mut tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".part")
        .make_in(&dir, |path| {
            File::options().write(true).create_new(true).open(path)
        })?;
    let written = fill(tmp.as_file_mut())?;
    tmp.as_file().sync_all()?;
    tmp.persist(target).map_err(|e| Error::Io(e.error))?;
    #[cfg(unix)]
    if let Ok(d) = File::open(&dir) {
        // the rename itself survives a crash only once the directory is synced
        let _ = d.sync_all();
    }
    Ok(written)
}

/// Writes `bytes` as the file at `target` (`what` names it in errors).
pub(crate) fn write_bytes(target: &Path, what: &'static str, bytes: &[u8]) -> Result<()> {
    write_with(target, what, |file| {
        file.write_all(bytes)?;
        Ok(bytes.len() as u64)
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("f");
        write_bytes(&target, "test file", b"one").unwrap();
        #[cfg(unix)]
        {
            // as File::create makes it: not 0600 like tempfile's own files
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
            let plain = dir.path().join("plain");
            File::create(&plain).unwrap();
            let want = std::fs::metadata(&plain).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, want, "{mode:o} vs {want:o}");
        }
        assert_eq!(std::fs::read(&target).unwrap(), b"one");
        let e = write_with(&target, "test file", |file| {
            file.write_all(b"half")?;
            Err(Error::Config("refused".into()))
        })
        .unwrap_err();
        assert!(e.to_string().contains("refused"), "{e}");
        assert_eq!(
            std::fs::read(&target).unwrap(),
            b"one",
            "the old file stays"
        );
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(
            names.iter().all(|n| n == "f" || n == "plain"),
            "no temporary file is left: {names:?}"
        );
        let e = write_bytes(Path::new("/"), "test file", b"x").unwrap_err();
        assert!(e.to_string().contains("test file"), "{e}");
    }
}
