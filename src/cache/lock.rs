//! One lock file per digest (`locks/sha256-HEX.lock`), held with the operating system's advisory
//! file lock (`File::lock`): processes and threads that want the same blob queue on it, so a blob
//! is fetched once however many builds ask for it at the same moment. The lock goes with the file
//! handle: a crashed holder releases it.

use std::fs::{self, File};
use std::path::Path;

use crate::digest::Digest;
use crate::error::Result;

/// A held lock on one digest; released when dropped.
#[derive(Debug)]
pub(crate) struct DigestLock {
    file: File,
}

impl DigestLock {
    /// Waits for the lock of `digest` under `locks_dir`.
    pub(crate) fn acquire(locks_dir: &Path, digest: &Digest) -> Result<DigestLock> {
        let file = open(locks_dir, digest)?;
        file.lock()?;
        Ok(DigestLock { file })
    }

    /// The lock of `digest` when nobody holds it, else `None` (eviction skips a blob in use).
    pub(crate) fn try_acquire(locks_dir: &Path, digest: &Digest) -> Result<Option<DigestLock>> {
        let file = open(locks_dir, digest)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(DigestLock { file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
        }
    }
}

impl Drop for DigestLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

fn open(locks_dir: &Path, digest: &Digest) -> Result<File> {
    fs::create_dir_all(locks_dir)?;
    let name = format!("{}-{}.lock", digest.algorithm().as_str(), digest.hex());
    Ok(File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(locks_dir.join(name))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let d = Digest::of(b"x");
        let held = DigestLock::acquire(dir.path(), &d).unwrap();
        assert!(DigestLock::try_acquire(dir.path(), &d).unwrap().is_none());
        let other = Digest::of(b"y");
        assert!(
            DigestLock::try_acquire(dir.path(), &other)
                .unwrap()
                .is_some()
        );
        drop(held);
        assert!(DigestLock::try_acquire(dir.path(), &d).unwrap().is_some());
    }
}
