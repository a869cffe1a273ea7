//! Downloads that outlive their process: the bytes of a blob being downloaded to `DEST` go to
//! `DEST.partial`, in order, and a small sidecar `DEST.partial.json` names the digest, the size
//! (once known) and how many leading bytes are in the file (`done`). The sidecar is rewritten
//! (write beside, rename over) every [`RECORD_EVERY`] bytes, after those bytes were written, so
//! it never claims more than the file holds.
//!
//! A new download to `DEST` of the same digest keeps the first `done` bytes (truncating anything
//! after them), hashes them again, and asks only for the rest. A sidecar naming another digest,
//! one that cannot be read, or a data file shorter than it claims, starts afresh. Once verified,
//! the data file is synced and renamed to `DEST` and the sidecar removed. Two processes must not
//! download to the same `DEST` at once.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{Error, Result};

/// Progress is recorded in the sidecar every this many bytes.
const RECORD_EVERY: u64 = 8 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
struct Sidecar {
    digest: String,
    size: Option<u64>,
    done: u64,
}

/// A download in progress to a destination path; a [`Write`] of the blob's next bytes.
pub(crate) struct Partial {
    data: PathBuf,
    sidecar: PathBuf,
    file: File,
    digest: Digest,
    size: Option<u64>,
    done: u64,
    recorded: u64,
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

impl Partial {
    /// The partial download of `digest` to `dest`: what an earlier process left, when it is of
    /// the same digest, else a new one.
    pub(crate) fn open(dest: &Path, digest: &Digest) -> Result<Partial> {
        if dest.file_name().is_none() {
            return Err(Error::invalid(
                "download path",
                dest.display().to_string(),
                "the path must name a file",
            ));
        }
        let data = with_suffix(dest, ".partial");
        let sidecar = with_suffix(dest, ".partial.json");
        let earlier = std::fs::read(&sidecar)
            .ok()
            .and_then(|b| serde_json::from_slice::<Sidecar>(&b).ok())
            .filter(|s| s.digest == digest.as_str());
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&data)?;
        let len = file.metadata()?.len();
        let (size, done) = match earlier {
            Some(s) if s.done <= len && s.size.is_none_or(|t| s.done <= t) => (s.size, s.done),
            _ => (None, 0),
        };
        file.set_len(done)?;
        if done > 0 {
            log::info!(
                "resuming the download of {digest} to {} at byte {done}",
                dest.display()
            );
        }
        let mut p = Partial {
            data,
            sidecar,
            file,
            digest: digest.clone(),
            size,
            done,
            recorded: done,
        };
        p.record()?;
        Ok(p)
    }

    /// Bytes already in the file (verified order, not yet verified digest).
    pub(crate) fn done(&self) -> u64 {
        self.done
    }

    /// The blob's size, when an earlier run or this one learnt it.
    pub(crate) fn size(&self) -> Option<u64> {
        self.size
    }

    /// Records the blob's size.
    pub(crate) fn set_size(&mut self, size: Option<u64>) {
        if size.is_some() {
            self.size = size;
        }
    }

    /// Feeds the bytes already in the file to `f`, from the start, and leaves the file positioned
    /// after them.
    pub(crate) fn rehash(&mut self, f: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
        self.file.seek(SeekFrom::Start(0))?;
        let mut left = self.done;
        let mut buf = vec![0u8; 256 * 1024];
        while left > 0 {
            let want = buf.len().min(left as usize);
            let n = self.file.read(&mut buf[..want])?;
            if n == 0 {
                return Err(Error::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the partial download file shrank",
                )));
            }
            f(&buf[..n])?;
            left -= n as u64;
        }
        self.file.seek(SeekFrom::Start(self.done))?;
        Ok(())
    }

    /// Writes the sidecar (beside, then renamed over).
    pub(crate) fn record(&mut self) -> Result<()> {
        let s = Sidecar {
            digest: self.digest.to_string(),
            size: self.size,
            done: self.done,
        };
        let bytes = serde_json::to_vec(&s).map_err(|e| Error::Io(io::Error::other(e)))?;
        let tmp = with_suffix(&self.sidecar, ".tmp");
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &self.sidecar)?;
        self.recorded = self.done;
        Ok(())
    }

    /// Syncs the verified file, renames it to `dest` and removes the sidecar.
    pub(crate) fn finish(self, dest: &Path) -> Result<()> {
        self.file.sync_all()?;
        std::fs::rename(&self.data, dest)?;
        let _ = std::fs::remove_file(&self.sidecar);
        #[cfg(unix)]
        if let Some(dir) = dest.parent().filter(|p| !p.as_os_str().is_empty())
            && let Ok(d) = File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Removes the data file and the sidecar.
    pub(crate) fn discard(self) {
        let _ = std::fs::remove_file(&self.data);
        let _ = std::fs::remove_file(&self.sidecar);
    }
}

impl Write for Partial {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.done += n as u64;
        if self.done - self.recorded >= RECORD_EVERY {
            self.record().map_err(io::Error::other)?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}
